//! DSP operators. Each has one name used everywhere: `ops/<name>/mod.rs` (parameters, docs),
//! `ops/<name>/cpu.rs` (CPU reference), `shaders/<name>.wgsl` (GPU kernel), tests with a
//! naive f64 oracle, and benches `<name>/cpu`, `<name>/gpu`.
//!
//! Mixing primitives ([`gain`], [`envelope`], [`mix`]) are Plan stages of their own.
//! Insert processors (what a track, bus or master chain lists) are [`InsertSpec`]s in scene
//! files and become prepared [`Processor`]s in the Plan. [`elementwise`] operators are
//! declared by their registry line (`gpu::kernels`), not here.

pub mod chorus;
pub mod compressor;
pub mod convolve;
pub mod crossover;
pub mod delay;
pub mod elementwise;
pub mod envelope;
pub mod eq;
pub mod gain;
pub mod kind;
pub mod limiter;
pub mod loglin;
pub mod match_eq;
pub mod meter;
pub mod mix;
pub mod multiband;
pub mod oversample;
pub mod resample;
pub mod reverb;
pub mod stream;
pub mod width;

macro_rules! declare_modules {
    ($($op:ident: $serves:literal;)*) => {
        $(pub mod $op;)*
    };
}
crate::gpu::kernels::elementwise_ops!(declare_modules);

use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// Loads an audio file (decoded, checked, resampled to the given rate) as planar f32.
pub type LoadAudio<'a> = &'a (dyn Fn(&Path, u32) -> Result<crate::plan::Planar, Error> + Sync);

/// What a processor needs to know to prepare itself.
#[derive(Clone, Copy)]
pub struct PrepareCtx<'a> {
    /// render sample rate
    pub sample_rate: u32,
    /// folder of the scene file (relative paths such as impulse responses resolve here)
    pub scene_dir: &'a Path,
    /// song tempo, for times given in beats
    pub tempo_bpm: Option<f64>,
    /// how to load an audio file (impulse responses), relative paths already resolved by the
    /// caller against `scene_dir`
    pub load_audio: LoadAudio<'a>,
}

/// One insert in a chain, as written in a scene file (`type = "…"` picks the processor: one
/// of these variants, or a registered elementwise operator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self", tag = "type", rename_all = "snake_case")]
pub enum InsertSpec {
    /// A plain level change (a mixer's trim / utility plug-in).
    Trim(TrimSpec),
    /// Feed-forward compressor (optionally keyed by a sidechain).
    Compressor(compressor::CompressorSpec),
    /// True-peak lookahead limiter.
    Limiter(limiter::LimiterSpec),
    /// Feedback delay (echo), optionally ping-pong.
    Delay(delay::DelaySpec),
    /// Multi-voice chorus.
    Chorus(chorus::ChorusSpec),
    /// Multiband compressor (crossover + a compressor per band).
    Multiband(multiband::MultibandSpec),
    /// Parametric EQ (minimum- or linear-phase).
    Eq(eq::EqSpec),
    /// Convolution reverb with an impulse-response file.
    Reverb(reverb::ReverbSpec),
    /// Stereo width (mid/side) and bass mono.
    Width(width::WidthSpec),
    /// A registered elementwise operator ([`elementwise::find`]), read by [`InsertSpec`]'s
    /// `Deserialize`.
    #[serde(skip)]
    Elementwise(elementwise::Spec),
}

impl<'de> Deserialize<'de> for InsertSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<InsertSpec, D::Error> {
        use serde::de::Error as _;
        let table = toml::Table::deserialize(d)?;
        let ty = table.get("type").and_then(toml::Value::as_str);
        if let Some(op) = ty.and_then(elementwise::find) {
            return elementwise::Spec::new(op, table)
                .map(InsertSpec::Elementwise)
                .map_err(D::Error::custom);
        }
        InsertSpec::deserialize(toml::Value::Table(table)).map_err(|e| {
            let m = e.message();
            if m.starts_with("unknown variant") {
                let ops: Vec<String> = elementwise::names().map(|n| format!("`{n}`")).collect();
                D::Error::custom(format!(
                    "{m}, or an elementwise operator: {}",
                    ops.join(", ")
                ))
            } else {
                D::Error::custom(m)
            }
        })
    }
}

impl Serialize for InsertSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            InsertSpec::Elementwise(e) => e.serialize(s),
            other => InsertSpec::serialize(other, s),
        }
    }
}

/// `type = "trim"`: a level change in dB.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrimSpec {
    /// gain in dB
    pub gain_db: f64,
}

/// An insert ready to run: parameters resolved to the render's sample rate.
#[derive(Debug, Clone)]
pub enum Processor {
    /// constant linear gain on every channel
    Trim {
        /// linear gain
        gain: f32,
    },
    /// feed-forward compressor
    Compressor(compressor::Compressor),
    /// true-peak limiter
    Limiter(limiter::Limiter),
    /// feedback delay
    Delay(delay::Delay),
    /// chorus
    Chorus(chorus::Chorus),
    /// multiband compressor
    Multiband(multiband::Multiband),
    /// parametric EQ
    Eq(eq::Eq),
    /// convolution reverb
    Reverb(reverb::Reverb),
    /// stereo width
    Width(width::Width),
    /// a registered elementwise operator
    Elementwise(elementwise::Elementwise),
    /// the loudness meter: leaves the audio as it is, reads its block energies (the
    /// closing's passes; not an insert of scene files)
    Meter(meter::Meter),
}

impl InsertSpec {
    /// Name of the track or bus this insert listens to (sidechain), if any.
    pub fn sidechain(&self) -> Option<&str> {
        match self {
            InsertSpec::Trim(_) => None,
            InsertSpec::Compressor(s) => s.sidechain.as_deref(),
            InsertSpec::Limiter(_) => None,
            InsertSpec::Delay(_) => None,
            InsertSpec::Chorus(_) => None,
            InsertSpec::Multiband(_) => None,
            InsertSpec::Eq(_) => None,
            InsertSpec::Reverb(_) => None,
            InsertSpec::Width(_) => None,
            InsertSpec::Elementwise(_) => None,
        }
    }

    /// Seconds of output this insert adds after its input ends (reverb and delay tails).
    /// Known before any file is read, so a reverb gives an upper bound (pre-delay + the
    /// longest IR accepted); [`Processor::tail_seconds`] is exact.
    pub fn tail_seconds(&self) -> f64 {
        match self {
            InsertSpec::Trim(_) => 0.0,
            InsertSpec::Compressor(_) => 0.0,
            InsertSpec::Limiter(_) => 0.0,
            InsertSpec::Delay(s) => s.tail_seconds(),
            InsertSpec::Chorus(s) => s.tail_seconds(),
            InsertSpec::Multiband(_) => 0.0,
            InsertSpec::Eq(_) => 0.0,
            InsertSpec::Reverb(s) => s.tail_seconds_bound(),
            InsertSpec::Width(_) => 0.0,
            InsertSpec::Elementwise(_) => 0.0,
        }
    }

    /// Resolves the spec for one render (sample rate, files, tempo).
    pub fn prepare(&self, ctx: &PrepareCtx<'_>) -> Result<Processor, Error> {
        Ok(match self {
            InsertSpec::Trim(s) => Processor::Trim {
                gain: gain::db_to_linear(s.gain_db) as f32,
            },
            InsertSpec::Compressor(s) => Processor::Compressor(s.prepare(ctx)?),
            InsertSpec::Limiter(s) => Processor::Limiter(s.prepare(ctx)?),
            InsertSpec::Delay(s) => Processor::Delay(s.prepare(ctx)?),
            InsertSpec::Chorus(s) => Processor::Chorus(s.prepare(ctx)?),
            InsertSpec::Multiband(s) => Processor::Multiband(s.prepare(ctx)?),
            InsertSpec::Eq(s) => Processor::Eq(
                s.prepare(f64::from(ctx.sample_rate))
                    .map_err(|m| Error::scene(ctx.scene_dir, m))?,
            ),
            InsertSpec::Reverb(s) => Processor::Reverb(s.prepare(ctx)?),
            InsertSpec::Width(s) => Processor::Width(
                s.prepare(f64::from(ctx.sample_rate))
                    .map_err(|m| Error::scene(ctx.scene_dir, m))?,
            ),
            InsertSpec::Elementwise(s) => Processor::Elementwise(s.prepare()),
        })
    }
}

impl Processor {
    /// The operator's one name (benches, verify, logs).
    pub fn op_name(&self) -> &'static str {
        match self {
            Processor::Trim { .. } => "gain",
            Processor::Compressor(_) => "compressor",
            Processor::Limiter(_) => "limiter",
            Processor::Delay(_) => "delay",
            Processor::Chorus(_) => "chorus",
            Processor::Multiband(_) => "multiband",
            Processor::Eq(_) => "eq",
            Processor::Reverb(_) => "reverb",
            Processor::Width(_) => "width",
            Processor::Elementwise(e) => e.op.name,
            Processor::Meter(_) => "meter",
        }
    }

    /// Seconds of output the prepared processor adds after its input ends (exact).
    pub fn tail_seconds(&self) -> f64 {
        match self {
            Processor::Reverb(r) => r.tail_seconds(),
            Processor::Delay(d) => d.tail_s,
            Processor::Chorus(c) => c.tail_s,
            _ => 0.0,
        }
    }

    /// Runs the CPU reference implementation in place on planar `channels`.
    /// `sidechain` is the key input for processors that take one.
    pub fn process_cpu(
        &self,
        channels: &mut [Vec<f32>],
        _sample_rate: u32,
        sidechain: Option<&[Vec<f32>]>,
    ) {
        match self {
            Processor::Trim { gain } => {
                for ch in channels {
                    gain::cpu::apply(ch, *gain);
                }
            }
            Processor::Compressor(c) => c.process_cpu(channels, sidechain),
            Processor::Limiter(l) => {
                l.process_cpu(channels);
            }
            Processor::Delay(d) => d.process_cpu(channels),
            Processor::Chorus(c) => c.process_cpu(channels),
            Processor::Multiband(m) => m.process_cpu(channels),
            Processor::Eq(eq) => eq::cpu::process(eq, channels),
            Processor::Reverb(r) => reverb::cpu::process(r, channels),
            Processor::Width(w) => width::cpu::process(w, channels),
            Processor::Elementwise(e) => e.process(channels),
            Processor::Meter(_) => {} // reads, never writes
        }
    }
}
