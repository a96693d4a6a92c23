//! True-peak limiter with lookahead, stereo-linked. CPU reference in [`cpu`]; the WGSL twin
//! is `shaders/limiter.wgsl` ([`gpu`]).
//!
//! Scene syntax: `{ type = "limiter", ceiling_dbtp = -1, release_ms = 100, lookahead_ms = 5 }`.
//!
//! The gain for frame `n` is computed from frames up to `n + L` (the detector reads the
//! input up to `x[n + L + K/2]`, `K` = [`oversample::SPAN`], `K/2` = [`oversample::REACH`]). The whole-song
//! [`cpu::process`] is time-aligned with the input; streamed in time chunks
//! ([`cpu::process_chunk`]) the output lags by [`cpu::latency_frames`] = `L + K/2` frames.
//!
//! 1. **True-peak detector**: the interpolator every true-peak meter of mixfarm uses
//!    ([`crate::ops::oversample`], 16× in two stages, f32 taps designed in f64):
//!    `e[n] = max_c max(|x_c[n]|, max_p |x̂_c(n + p/16)|)`, `p = 1 … 15`, then
//!    `peak[n] = max(e[n−1], e[n])` so both frames around every inter-sample peak see it
//!    (for frame 0, `e[−1]` covers the reconstruction between the silence before the song
//!    and its first sample).
//! 2. **Required gain** (log2 units): `r[n] = min(0, T − log2(peak[n]))`, `T` = ceiling −
//!    [`SAFETY_MARGIN_DB`]; clamped to ≥ −[`MAX_REDUCTION_L2`] and quantised **down** to
//!    `q[n] = floor(r·Q)`, `Q` = [`Q_PER_L2`], an i32 (so the sums below are exact integer
//!    arithmetic on both backends, and rounding only ever adds reduction).
//! 3. **Hold**: `m[n] = min(q[n..=n+L])` over the song's frames (none after its end; 0 if
//!    the window holds none), `L` = lookahead frames.
//! 4. **Attack**: box average `a[n] = (Σ m[n−L..=n]) · 1/(Q·(L+1))`. Every term is ≤ `q[n]`
//!    (each window `[k, k+L]` with `k ∈ [n−L, n]` contains `n`), so `a[n] ≤ r[n]`: the gain
//!    ramps down linearly (in dB) over the lookahead and is at its target by the peak.
//!    (The i32 → f32 conversion of the sum is exact below 2^24; above, WGSL allows either
//!    neighbour, a 6e-8 relative difference in the gain exponent.)
//! 5. **Release**: `g = a` if `a ≤ g[n−1]`, else `g = g[n−1] + β·(a − g[n−1])` (one-pole
//!    toward less reduction, `β = 1 − α`, `α = exp(−1/(τ·fs))`, τ = `release_ms`, 1 − 1/e
//!    definition; written as state + small step so that a fused multiply-add barely moves
//!    it, issue 11). `g ≤ a`.
//! 6. **Output**: `y_c[n] = x_c[n] · 2^g[n]` (shared polynomial exp2, see
//!    [`crate::ops::loglin`]).

pub mod cpu;
pub mod gpu;

use serde::{Deserialize, Serialize};

use super::loglin::{db_to_l2, one_pole_step};
use super::{oversample, PrepareCtx};
use crate::error::Error;

/// Headroom kept under the ceiling for what the detector cannot see: peaks between the
/// points of the oversampler's 16× grid, content in the top 0.2 % of the band (which it
/// reads low, see [`crate::ops::oversample`]), the spectral spread of the gain changes, and
/// f32 rounding. Measured by the f64 oracle in `tests/true_peak.rs` and `tests/limiter.rs`:
/// programme band-limited to 0.45·fs lands at least 0.18 dB under the ceiling at
/// 22.05–192 kHz with 0–20 dB of gain reduction, to 0.49·fs at least 0.16 dB under it at
/// 22.05–96 kHz; white noise up to Nyquist at +6 dBFS, the worst case, at least 0.018 dB
/// under it. Cost: the output peaks this much under the
/// ceiling, so a master that the limiter works on is up to 0.2 LU quieter at the same gain
/// (the gain search wins it back with ≈ 0.2 dB more reduction); none where the limiter is
/// idle.
pub const SAFETY_MARGIN_DB: f64 = 0.2;

/// Quantisation steps per log2 unit of the required gain (1/4096 L2 ≈ 0.0015 dB).
pub const Q_PER_L2: f64 = 4096.0;
/// Largest gain reduction in log2 units (30 L2 ≈ 180.6 dB).
pub const MAX_REDUCTION_L2: f64 = 30.0;
/// Longest lookahead window in frames (`L + 1`), so `MAX_REDUCTION_L2·Q·(L+1) < 2^31`.
pub const MAX_WINDOW_FRAMES: usize = 16_384;

/// `type = "limiter"`: true-peak brickwall limiter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimiterSpec {
    /// output true-peak ceiling, dBTP
    pub ceiling_dbtp: f64,
    /// release time constant (1 − 1/e of a step), ms
    pub release_ms: f64,
    /// lookahead (length of the attack ramp), ms; 0 = instant gain changes
    pub lookahead_ms: f64,
}

/// Kernel uniform of the limiter.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct LimiterParams {
    /// target true peak (ceiling − margin), log2 units
    pub target_l2: f32,
    /// release one-pole step `β = 1 − α` ([`one_pole_step`])
    pub release_step: f32,
    /// `1 / (Q·(L+1))`: scale from the integer window sum to log2 units
    pub sum_scale: f32,
    /// lookahead `L`, frames
    pub lookahead_frames: u32,
}

/// A prepared limiter: uniform plus the detector's interpolator taps (storage buffer on the
/// GPU), those of [`crate::ops::oversample`].
#[derive(Debug, Clone, PartialEq)]
pub struct Limiter {
    /// kernel parameters
    pub params: LimiterParams,
    /// [`oversample::design`]'s layout, in f32
    pub taps: Vec<f32>,
    /// what it reports as a Plan stage, when asked ([`Limiter::reporting`])
    pub report: Option<Report>,
}

/// What a limiter stage reports (the closing's): its largest gain reduction over the song
/// and the largest of every hop of `hop_frames` frames of the song, `hops` of them, and its
/// input's true peak per hop (the detector's peaks, as [`crate::ops::oversample`]'s
/// `true_peak_per_hop` reads them: the reconstruction before the song counted in the first
/// hop, after it in the last). They come back as the stage's readings (`plan::Readings`):
/// lane 0 the song's lowest gain, lane 1 each hop's, in log2 units of gain (≤ 0,
/// [`reduction_db`] turns them into dB); lane 2 the peaks (linear).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Report {
    /// frames per hop
    pub hop_frames: usize,
    /// hops in the song
    pub hops: usize,
}

/// A gain in log2 units (≤ 0, as a limiter's readings hold it) as a gain reduction, dB.
pub fn reduction_db(g_l2: f32) -> f64 {
    -(g_l2 as f64) * crate::ops::loglin::DB_PER_L2
}

fn bad(ctx: &PrepareCtx<'_>, msg: String) -> Error {
    Error::scene(ctx.scene_dir, format!("limiter: {msg}"))
}

impl LimiterSpec {
    /// Checks the settings and resolves them to `ctx.sample_rate`.
    pub fn prepare(&self, ctx: &PrepareCtx<'_>) -> Result<Limiter, Error> {
        if !self.ceiling_dbtp.is_finite() {
            return Err(bad(
                ctx,
                format!("ceiling_dbtp must be finite, got {}", self.ceiling_dbtp),
            ));
        }
        if !(self.release_ms >= 0.0 && self.release_ms.is_finite()) {
            return Err(bad(
                ctx,
                format!("release_ms must be ≥ 0, got {}", self.release_ms),
            ));
        }
        let lookahead_frames = (self.lookahead_ms * 1e-3 * ctx.sample_rate as f64).round();
        if !(lookahead_frames >= 0.0 && (lookahead_frames as usize) < MAX_WINDOW_FRAMES) {
            return Err(bad(
                ctx,
                format!(
                    "lookahead_ms must be ≥ 0 and under {} frames at {} Hz, got {}",
                    MAX_WINDOW_FRAMES, ctx.sample_rate, self.lookahead_ms
                ),
            ));
        }
        Ok(Limiter::new(
            self.ceiling_dbtp,
            self.release_ms,
            lookahead_frames as u32,
            ctx.sample_rate,
        ))
    }
}

impl Limiter {
    /// A limiter from resolved settings (inputs assumed valid, see [`LimiterSpec::prepare`]).
    pub fn new(
        ceiling_dbtp: f64,
        release_ms: f64,
        lookahead_frames: u32,
        sample_rate: u32,
    ) -> Self {
        let params = LimiterParams {
            target_l2: db_to_l2(ceiling_dbtp - SAFETY_MARGIN_DB) as f32,
            release_step: one_pole_step(release_ms, sample_rate) as f32,
            sum_scale: (1.0 / (Q_PER_L2 * (lookahead_frames as f64 + 1.0))) as f32,
            lookahead_frames,
        };
        Limiter {
            params,
            taps: oversample::shared().taps.clone(),
            report: None,
        }
    }

    /// The true-peak meter of the closing: this limiter's detector, asking no gain
    /// reduction (the output is the input, delayed), its lookahead `REACH` frames so its
    /// flush reads the reconstruction after the song; report it with [`Limiter::reporting`].
    pub fn true_peak_meter(sample_rate: u32) -> Limiter {
        let mut l = Limiter::new(0.0, 50.0, oversample::REACH as u32, sample_rate);
        l.params.target_l2 = f32::MAX;
        l
    }

    /// This limiter, reporting its gain reduction over a song of `frames` frames, per hop
    /// of `hop_frames` frames ([`Report`]).
    pub fn reporting(&self, hop_frames: usize, frames: usize) -> Limiter {
        let hop_frames = hop_frames.max(1);
        Limiter {
            report: Some(Report {
                hop_frames,
                hops: frames.div_ceil(hop_frames),
            }),
            ..self.clone()
        }
    }

    /// Limits `channels` in place (CPU reference) and returns the largest gain reduction
    /// applied, in dB (≥ 0), for reports.
    pub fn process_cpu(&self, channels: &mut [Vec<f32>]) -> f64 {
        cpu::process(self, channels).max_gain_reduction_db
    }

    /// [`Limiter::process_cpu`], also returning the largest gain reduction of every hop of
    /// `hop_frames` frames, dB (for the reports' plot over time).
    pub fn process_cpu_traced(
        &self,
        channels: &mut [Vec<f32>],
        hop_frames: usize,
    ) -> (f64, Vec<f32>) {
        let (r, per_hop) = cpu::process_traced(self, channels, Some(hop_frames));
        (r.max_gain_reduction_db, per_hop)
    }
}
