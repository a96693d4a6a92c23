//! Helpers shared by the dynamics / time-effect tests: contexts, test signals, measurements.
#![allow(dead_code)]

pub mod comp_oracle;

use std::path::Path;

use mixfarm::ops::{InsertSpec, PrepareCtx, Processor};
use mixfarm::Error;

fn no_audio(path: &Path, _rate: u32) -> Result<mixfarm::plan::Planar, Error> {
    Err(Error::input(path, "tests load no audio"))
}

/// A prepare context at `sample_rate`, optional tempo, no audio loading.
pub fn ctx(sample_rate: u32, tempo_bpm: Option<f64>) -> PrepareCtx<'static> {
    PrepareCtx {
        sample_rate,
        scene_dir: Path::new("."),
        tempo_bpm,
        load_audio: &no_audio,
    }
}

#[derive(serde::Deserialize)]
struct One {
    insert: InsertSpec,
}

/// Parses one insert written as a TOML inline table (`{ type = "...", ... }`).
pub fn parse(inline: &str) -> InsertSpec {
    let one: One = toml::from_str(&format!("insert = {inline}")).expect("insert parses");
    one.insert
}

/// Parses and prepares one insert.
pub fn prepare(inline: &str, sample_rate: u32) -> Processor {
    parse(inline)
        .prepare(&ctx(sample_rate, None))
        .expect("insert prepares")
}

/// Deterministic white noise in [-1, 1) (xorshift), reproducible across runs.
pub fn noise(frames: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..frames)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect()
}

/// f64 planar → f32 planar.
pub fn to_f32(x: &[Vec<f64>]) -> Vec<Vec<f32>> {
    x.iter()
        .map(|c| c.iter().map(|&v| v as f32).collect())
        .collect()
}

/// f32 planar → f64 planar.
pub fn to_f64(x: &[Vec<f32>]) -> Vec<Vec<f64>> {
    x.iter()
        .map(|c| c.iter().map(|&v| v as f64).collect())
        .collect()
}

/// max |a − b| over all channels and frames.
pub fn max_abs_diff(a: &[Vec<f32>], b: &[Vec<f64>]) -> f64 {
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| x.iter().zip(y).map(|(&p, &q)| (p as f64 - q).abs()))
        .fold(0.0, f64::max)
}

/// dB of a linear amplitude ratio.
pub fn db(x: f64) -> f64 {
    20.0 * x.log10()
}
