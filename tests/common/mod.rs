//! Shared test helpers: fixture writers (WAV in every depth, hand-made headers for the
//! cases hound cannot write, AIFF) and scene scaffolding. Expected values in tests come
//! from naive f64 oracles, never from mixfarm's own output.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use mixfarm::ops::{InsertSpec, PrepareCtx, Processor};
use mixfarm::Error;

pub mod browser;
pub mod comp_oracle;
pub mod ebu_signals;
pub mod spectrum_oracle;
pub mod true_peak_oracle;

/// A deterministic test signal: a few sines plus a little noise, peak about 0.5.
pub fn music_like(frames: usize, rate: u32, seed: u64) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..frames)
        .map(|i| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = ((s >> 40) as f64 / (1u64 << 24) as f64 - 0.5) * 0.02;
            let t = i as f64 / f64::from(rate);
            let f = 110.0 * (1.0 + (seed % 5) as f64 * 0.25);
            (0.2 * (2.0 * std::f64::consts::PI * f * t).sin()
                + 0.15 * (2.0 * std::f64::consts::PI * f * 2.01 * t).sin()
                + 0.1 * (2.0 * std::f64::consts::PI * 3.0 * f * t).sin()
                + noise) as f32
        })
        .collect()
}

/// Writes a 32-bit float WAV with hound.
pub fn write_f32(path: &Path, channels: &[Vec<f32>], rate: u32) {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for f in 0..channels[0].len() {
        for ch in channels {
            w.write_sample(ch[f]).unwrap();
        }
    }
    w.finalize().unwrap();
}

/// Writes an integer PCM WAV (8/16/24/32 bits) with hound; samples are rounded.
pub fn write_int(path: &Path, channels: &[Vec<f32>], rate: u32, bits: u16) {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let scale = (1i64 << (bits - 1)) as f64;
    for f in 0..channels[0].len() {
        for ch in channels {
            let v = (f64::from(ch[f]) * scale)
                .round()
                .clamp(-scale, scale - 1.0) as i32;
            if bits == 8 {
                w.write_sample(v as i8).unwrap();
            } else {
                w.write_sample(v).unwrap();
            }
        }
    }
    w.finalize().unwrap();
}

/// A RIFF/WAVE file by hand: `format_tag` 1 (PCM) or 3 (IEEE float), any rate (0 too),
/// `data` already interleaved little-endian bytes.
pub fn wav_bytes(format_tag: u16, channels: u16, rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
    let block = channels * bits / 8;
    let mut v = Vec::new();
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&format_tag.to_le_bytes());
    v.extend_from_slice(&channels.to_le_bytes());
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
    v.extend_from_slice(&block.to_le_bytes());
    v.extend_from_slice(&bits.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&(data.len() as u32).to_le_bytes());
    v.extend_from_slice(data);
    v
}

/// A 64-bit float WAV by hand (hound cannot write one).
pub fn write_f64(path: &Path, channels: &[Vec<f32>], rate: u32) {
    let mut data = Vec::new();
    for f in 0..channels[0].len() {
        for ch in channels {
            data.extend_from_slice(&f64::from(ch[f]).to_le_bytes());
        }
    }
    std::fs::write(path, wav_bytes(3, channels.len() as u16, rate, 64, &data)).unwrap();
}

/// Reads a WAV back as planar f32 (integer formats scaled to ±1).
pub fn read_wav(path: &Path) -> (Vec<Vec<f32>>, hound::WavSpec) {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    let n = spec.channels as usize;
    let inter: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => r.samples::<f32>().map(Result::unwrap).collect(),
        hound::SampleFormat::Int => {
            let scale = (1i64 << (spec.bits_per_sample - 1)) as f32;
            r.samples::<i32>()
                .map(|s| s.unwrap() as f32 / scale)
                .collect()
        }
    };
    let mut out = vec![Vec::new(); n];
    for (i, x) in inter.into_iter().enumerate() {
        out[i % n].push(x);
    }
    (out, spec)
}

/// A fresh temporary folder.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write_text(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

// ---- dynamics / time-effect helpers ----
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

/// Every file below `dir` (recursively), as paths relative to `dir`, sorted; empty when
/// `dir` does not exist.
pub fn tree_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                out.push(rel.to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// Integrated loudness of WAV files taken together (all their gated blocks: ebur128's
/// `loudness_global_multiple`, the album loudness), LUFS.
pub fn album_lufs(files: &[PathBuf]) -> f64 {
    let meters: Vec<ebur128::EbuR128> = files
        .iter()
        .map(|f| {
            let (x, spec) = read_wav(f);
            let mut m =
                ebur128::EbuR128::new(x.len() as u32, spec.sample_rate, ebur128::Mode::I).unwrap();
            let s: Vec<&[f32]> = x.iter().map(Vec::as_slice).collect();
            m.add_frames_planar_f32(&s).unwrap();
            m
        })
        .collect();
    ebur128::EbuR128::loudness_global_multiple(meters.iter()).unwrap()
}
