//! Convolution reverb insert: the input convolved with an impulse response (a WAV/FLAC
//! file, mono or stereo, any rate; the loader resamples), delayed by `pre_delay_ms`,
//! mixed with the dry signal. Runs on the convolution engine ([`crate::ops::convolve`],
//! GPU twin `shaders/convolve.wgsl`); the wet/dry sum is [`cpu::mix`].
//!
//! Scene syntax: `{ type = "reverb", ir = "irs/room.wav", pre_delay_ms = 10, mix = 0.25 }`
//! (optional `wet_db`, `dry_db` trims). Gains: wet = mix · 10^(wet_db/20),
//! dry = (1 − mix) · 10^(dry_db/20).
//!
//! [`synth`] makes the synthetic rooms shipped under `scenes/irs/`.

pub mod cpu;
pub mod gpu;
pub mod synth;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::ops::convolve::Kernel;
use crate::ops::PrepareCtx;

/// Longest impulse response accepted, in seconds.
pub const MAX_IR_SECONDS: f64 = 10.0;

/// Longest pre-delay accepted, in milliseconds.
pub const MAX_PRE_DELAY_MS: f64 = 1000.0;

fn default_mix() -> f64 {
    1.0
}

/// `type = "reverb"`: convolution reverb.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReverbSpec {
    /// impulse response file, relative to the scene file's folder
    pub ir: PathBuf,
    /// delay of the wet signal in ms (0 .. [`MAX_PRE_DELAY_MS`])
    #[serde(default)]
    pub pre_delay_ms: f64,
    /// wet/dry balance 0 .. 1 (default 1: fully wet, as on an aux return)
    #[serde(default = "default_mix")]
    pub mix: f64,
    /// extra wet level in dB
    #[serde(default)]
    pub wet_db: f64,
    /// extra dry level in dB
    #[serde(default)]
    pub dry_db: f64,
}

impl ReverbSpec {
    /// Upper bound of the tail this insert adds, known before the IR is read:
    /// pre-delay + [`MAX_IR_SECONDS`]. The exact tail (IR length + pre-delay) is
    /// [`Reverb::tail_seconds`] once prepared.
    pub fn tail_seconds_bound(&self) -> f64 {
        self.pre_delay_ms.max(0.0) / 1000.0 + MAX_IR_SECONDS
    }

    /// Checks the numeric fields.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.pre_delay_ms.is_finite() && (0.0..=MAX_PRE_DELAY_MS).contains(&self.pre_delay_ms))
        {
            return Err(format!(
                "reverb: pre_delay_ms = {} must be within 0 .. {MAX_PRE_DELAY_MS}",
                self.pre_delay_ms
            ));
        }
        if !(self.mix.is_finite() && (0.0..=1.0).contains(&self.mix)) {
            return Err(format!("reverb: mix = {} must be within 0 .. 1", self.mix));
        }
        if !self.wet_db.is_finite() || !self.dry_db.is_finite() {
            return Err("reverb: wet_db and dry_db must be finite".into());
        }
        Ok(())
    }

    /// Loads the IR (through `ctx.load_audio`, resampled to the render rate) and builds the
    /// kernels. Errors name the IR file.
    pub fn prepare(&self, ctx: &PrepareCtx<'_>) -> Result<Reverb, Error> {
        self.validate()
            .map_err(|m| Error::scene(ctx.scene_dir, m))?;
        let path = ctx.scene_dir.join(&self.ir);
        let ir = (ctx.load_audio)(&path, ctx.sample_rate)?;
        let rate = f64::from(ctx.sample_rate);
        let frames = ir.first().map_or(0, Vec::len);
        if ir.is_empty() || ir.len() > 2 {
            return Err(Error::input(
                &path,
                format!(
                    "impulse response has {} channels; 1 or 2 supported",
                    ir.len()
                ),
            ));
        }
        if frames == 0 || ir.iter().any(|c| c.len() != frames) {
            return Err(Error::input(&path, "impulse response is empty"));
        }
        if frames as f64 > MAX_IR_SECONDS * rate {
            return Err(Error::input(
                &path,
                format!(
                    "impulse response is {frames} frames ({:.3} s) at {} Hz; the limit is {MAX_IR_SECONDS} s \
                     (trim the file)",
                    frames as f64 / rate,
                    ctx.sample_rate
                ),
            ));
        }
        if ir.iter().flatten().any(|v| !v.is_finite()) {
            return Err(Error::input(
                &path,
                "impulse response holds NaN or infinite samples",
            ));
        }
        let kernels = ir
            .iter()
            .map(|c| Kernel::new(&c.iter().map(|&v| f64::from(v)).collect::<Vec<_>>()))
            .collect();
        let trim = |db: f64| 10f64.powf(db / 20.0);
        Ok(Reverb {
            kernels,
            ir_frames: frames,
            pre_delay_frames: (self.pre_delay_ms / 1000.0 * rate).round() as usize,
            wet: (self.mix * trim(self.wet_db)) as f32,
            dry: ((1.0 - self.mix) * trim(self.dry_db)) as f32,
            sample_rate: ctx.sample_rate,
        })
    }
}

/// A prepared convolution reverb.
#[derive(Debug, Clone)]
pub struct Reverb {
    /// one kernel (mono IR, used on every channel) or two (left IR on left, right on right)
    pub kernels: Vec<Kernel>,
    /// IR length in frames at the render rate
    pub ir_frames: usize,
    /// wet delay in frames
    pub pre_delay_frames: usize,
    /// linear wet gain
    pub wet: f32,
    /// linear dry gain
    pub dry: f32,
    /// render rate the reverb was prepared for
    pub sample_rate: u32,
}

impl Reverb {
    /// Seconds of output the reverb adds after its input ends: IR length + pre-delay.
    pub fn tail_seconds(&self) -> f64 {
        (self.ir_frames + self.pre_delay_frames) as f64 / f64::from(self.sample_rate)
    }

    /// The kernel for channel `c`.
    pub fn kernel(&self, c: usize) -> &Kernel {
        &self.kernels[c.min(self.kernels.len() - 1)]
    }
}
