//! Feed-forward compressor, stereo-linked, soft knee, with optional sidechain (ducking).
//! CPU reference in [`cpu`], sequential in time, whole song ([`cpu::process`]) or streamed
//! in time chunks with the state carried ([`cpu::process_chunk`], same output bit for bit);
//! the WGSL twin is `shaders/compressor.wgsl` ([`gpu`]).
//!
//! Scene syntax:
//! `{ type = "compressor", threshold_db = -18, ratio = 3, knee_db = 6, attack_ms = 10,
//!   release_ms = 120, makeup_db = 2, detector = "peak", sidechain = "kick" }`
//! (`knee_db`, `makeup_db`, `detector`, `rms_window_ms`, `sidechain` are optional).
//!
//! Signal flow per frame `n` (all in f32, in this order on both backends):
//! 1. **Detector**, stereo-linked, on the key (the sidechain if given, else the input):
//!    `peak`: `v = max_c |k_c[n]|`, level `L = log2(v)`;
//!    `rms`: `p = mean_c k_c[n]²`, `ms = ms + β_rms·(p − ms)` (one-pole mean square,
//!    time constant `rms_window_ms`), `L = ½·log2(ms)`.
//! 2. **Gain computer** (Giannoulis, Massberg & Reiss, JAES 2012, eq. 4), in log2 units
//!    (see [`crate::ops::loglin`]), `o = L − T`, knee width `W`, `s = 1/R − 1`:
//!    `gc = 0` if `2o ≤ −W`; `gc = s·o` if `2o ≥ W`; else `gc = s·(o + W/2)² / (2W)`.
//! 3. **Ballistics** in the gain (log) domain, branching one-pole: attack when the target
//!    asks for more reduction (`gc < g`), release otherwise: `g = g + β·(gc − g)`,
//!    `β = 1 − α`, `α = exp(−1/(τ·fs))`, computed on the host in f64
//!    ([`one_pole_step`]) — **time constant = the time to cover 1 − 1/e (63.2 %) of a
//!    step in dB**. The one-poles run as state + small step so that a fused multiply-add
//!    (GPU drivers contract `a*b + c`) barely moves them (issue 11). State flushed when
//!    denormal.
//! 4. **Output**: `y_c = x_c · 2^(g + makeup)` with the shared polynomial `exp2`.

pub mod cpu;
pub mod gpu;

use serde::{Deserialize, Serialize};

use super::loglin::{db_to_l2, one_pole_step};
use super::PrepareCtx;
use crate::error::Error;

/// Default mean-square averaging time of the `rms` detector.
pub const DEFAULT_RMS_WINDOW_MS: f64 = 10.0;

/// Level detector of a compressor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Detector {
    /// instantaneous peak of the linked channels
    #[default]
    Peak,
    /// one-pole mean square of the linked channels
    Rms,
}

/// `type = "compressor"`: a feed-forward compressor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompressorSpec {
    /// level above which gain reduction starts (centre of the knee), dBFS
    pub threshold_db: f64,
    /// compression ratio (≥ 1; `inf` is not representable in TOML: use e.g. 100 for limiting)
    pub ratio: f64,
    /// knee width in dB (0 = hard knee)
    #[serde(default)]
    pub knee_db: f64,
    /// attack time constant (1 − 1/e of a step), ms
    pub attack_ms: f64,
    /// release time constant (1 − 1/e of a step), ms
    pub release_ms: f64,
    /// gain added after compression, dB
    #[serde(default)]
    pub makeup_db: f64,
    /// level detector
    #[serde(default)]
    pub detector: Detector,
    /// averaging time of the `rms` detector, ms (default [`DEFAULT_RMS_WINDOW_MS`])
    #[serde(default)]
    pub rms_window_ms: Option<f64>,
    /// name of the track or bus that keys the detector (ducking); `None` = the input itself
    #[serde(default)]
    pub sidechain: Option<String>,
}

/// A compressor's parameters resolved to the sample rate, as the kernel's uniform.
/// Levels are in log2 units (L2, see [`crate::ops::loglin`]).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct CompressorParams {
    /// threshold, L2
    pub threshold_l2: f32,
    /// half the knee width, L2
    pub half_knee_l2: f32,
    /// `1/ratio − 1` (≤ 0)
    pub slope: f32,
    /// `slope / (2·knee)` in 1/L2 (0 for a hard knee)
    pub knee_coef: f32,
    /// attack one-pole step `β = 1 − α` ([`one_pole_step`])
    pub attack_step: f32,
    /// release one-pole step `β = 1 − α`
    pub release_step: f32,
    /// mean-square one-pole step `β = 1 − α` (rms detector)
    pub rms_step: f32,
    /// makeup gain, L2
    pub makeup_l2: f32,
    /// 0 = peak, 1 = rms
    pub detector: u32,
    /// padding to 16-byte multiple for the uniform
    pub _pad: [u32; 3],
}

/// A prepared compressor.
#[derive(Debug, Clone, PartialEq)]
pub struct Compressor {
    /// kernel parameters
    pub params: CompressorParams,
}

fn bad(ctx: &PrepareCtx<'_>, msg: String) -> Error {
    Error::scene(ctx.scene_dir, format!("compressor: {msg}"))
}

impl CompressorSpec {
    /// Checks the settings and resolves them to `ctx.sample_rate`.
    pub fn prepare(&self, ctx: &PrepareCtx<'_>) -> Result<Compressor, Error> {
        if !self.threshold_db.is_finite() || !self.makeup_db.is_finite() {
            return Err(bad(ctx, "threshold_db and makeup_db must be finite".into()));
        }
        if self.ratio.is_nan() || self.ratio < 1.0 {
            return Err(bad(ctx, format!("ratio must be ≥ 1, got {}", self.ratio)));
        }
        if !(self.knee_db >= 0.0 && self.knee_db.is_finite()) {
            return Err(bad(
                ctx,
                format!("knee_db must be ≥ 0, got {}", self.knee_db),
            ));
        }
        let rms_window_ms = self.rms_window_ms.unwrap_or(DEFAULT_RMS_WINDOW_MS);
        for (name, v) in [
            ("attack_ms", self.attack_ms),
            ("release_ms", self.release_ms),
            ("rms_window_ms", rms_window_ms),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(bad(ctx, format!("{name} must be ≥ 0, got {v}")));
            }
        }
        Ok(Compressor {
            params: params(
                self.threshold_db,
                self.ratio,
                self.knee_db,
                self.attack_ms,
                self.release_ms,
                self.makeup_db,
                self.detector,
                rms_window_ms,
                ctx.sample_rate,
            ),
        })
    }
}

/// Resolves compressor settings (dB, ms) to kernel parameters (host, f64 → f32).
/// Inputs are assumed valid (see [`CompressorSpec::prepare`]).
#[allow(clippy::too_many_arguments)]
pub fn params(
    threshold_db: f64,
    ratio: f64,
    knee_db: f64,
    attack_ms: f64,
    release_ms: f64,
    makeup_db: f64,
    detector: Detector,
    rms_window_ms: f64,
    sample_rate: u32,
) -> CompressorParams {
    let slope = 1.0 / ratio - 1.0;
    let knee_l2 = db_to_l2(knee_db);
    CompressorParams {
        threshold_l2: db_to_l2(threshold_db) as f32,
        half_knee_l2: (0.5 * knee_l2) as f32,
        slope: slope as f32,
        knee_coef: if knee_l2 > 0.0 {
            (slope / (2.0 * knee_l2)) as f32
        } else {
            0.0
        },
        attack_step: one_pole_step(attack_ms, sample_rate) as f32,
        release_step: one_pole_step(release_ms, sample_rate) as f32,
        rms_step: one_pole_step(rms_window_ms, sample_rate) as f32,
        makeup_l2: db_to_l2(makeup_db) as f32,
        detector: match detector {
            Detector::Peak => 0,
            Detector::Rms => 1,
        },
        _pad: [0; 3],
    }
}

impl Compressor {
    /// Runs the CPU reference in place; `key` replaces the input as detector source.
    pub fn process_cpu(&self, channels: &mut [Vec<f32>], key: Option<&[Vec<f32>]>) {
        cpu::process(&self.params, channels, key);
    }
}
