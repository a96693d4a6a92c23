//! Feedback delay (echo) with a one-pole low-pass in the loop and optional ping-pong.
//! CPU reference in [`cpu`], sequential in time (the feedback recursion, and in ping-pong
//! mode the channel coupling, forbid splitting in time): whole song or streamed in time
//! chunks with the lines carried; the WGSL twin is `shaders/delay.wgsl` ([`gpu`]).
//!
//! Scene syntax: `{ type = "delay", time_ms = 375, feedback = 0.35, high_cut_hz = 6000,
//! mix = 0.2, ping_pong = true }`, or `time_beats = 0.75` instead of `time_ms` (needs the
//! song's `tempo_bpm`). `feedback` (default 0), `high_cut_hz` (default: no filter) and
//! `ping_pong` (default false) are optional.
//!
//! Per frame `n`, per channel `c` (f32, this order), delay `D` = time rounded to whole frames:
//! - `d_c = line_c[n − D]` (0 before the start)
//! - `w_c = w_c + a·(d_c − w_c)`, `a = 1 − exp(−2π·high_cut_hz/fs)` (host f64; no filter:
//!   `w_c = d_c`), flushed when denormal — the wet signal; every echo passes the filter once
//! - write: normal `line_c[n] = x_c[n] + fb·w_c`; ping-pong (stereo only) `line_L[n] =
//!   (x_L[n] + x_R[n])·½ + fb·w_R`, `line_R[n] = fb·w_L` (echoes alternate L, R, L…);
//!   written values are flushed when denormal
//! - `y_c[n] = (1 − mix)·x_c[n] + mix·w_c`, flushed when denormal

pub mod cpu;
pub mod gpu;

use serde::{Deserialize, Serialize};

use super::PrepareCtx;
use crate::error::Error;

/// Longest delay time accepted, seconds.
pub const MAX_TIME_S: f64 = 10.0;
/// Tempo assumed by [`DelaySpec::tail_seconds`] for `time_beats` when the tempo is not
/// known there (slow on purpose: the tail is then long enough for any faster song).
pub const TAIL_TEMPO_FLOOR_BPM: f64 = 40.0;
/// Level the tail is followed down to, as an amplitude (−60 dB).
pub const TAIL_LEVEL: f64 = 1e-3;

/// `type = "delay"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DelaySpec {
    /// delay time in ms (give this or `time_beats`)
    #[serde(default)]
    pub time_ms: Option<f64>,
    /// delay time in beats of the song's tempo (give this or `time_ms`)
    #[serde(default)]
    pub time_beats: Option<f64>,
    /// amount of each echo fed back into the line, |feedback| < 1
    #[serde(default)]
    pub feedback: f64,
    /// corner of the one-pole low-pass in the loop, Hz (none if absent)
    #[serde(default)]
    pub high_cut_hz: Option<f64>,
    /// wet share of the output, 0…1
    pub mix: f64,
    /// stereo ping-pong: the mono sum enters the left line, echoes alternate sides
    #[serde(default)]
    pub ping_pong: bool,
}

/// Kernel uniform of the delay.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct DelayParams {
    /// delay `D`, frames (≥ 1)
    pub delay_frames: u32,
    /// feedback gain
    pub feedback: f32,
    /// low-pass coefficient `a` (used when `filter == 1`)
    pub lowpass_coef: f32,
    /// 1 = low-pass in the loop, 0 = none
    pub filter: u32,
    /// wet gain (`mix`)
    pub wet: f32,
    /// dry gain (`1 − mix`)
    pub dry: f32,
    /// 1 = ping-pong (applies to stereo only)
    pub ping_pong: u32,
    /// padding
    pub _pad: u32,
}

/// A prepared delay.
#[derive(Debug, Clone, PartialEq)]
pub struct Delay {
    /// kernel parameters
    pub params: DelayParams,
    /// exact tail at the song's tempo, seconds ([`DelaySpec::tail_seconds_at`])
    pub tail_s: f64,
}

fn bad(ctx: &PrepareCtx<'_>, msg: String) -> Error {
    Error::scene(ctx.scene_dir, format!("delay: {msg}"))
}

impl DelaySpec {
    /// Delay time in seconds at `tempo_bpm` (`None` when given in beats without a tempo).
    pub fn time_s(&self, tempo_bpm: Option<f64>) -> Option<f64> {
        match (self.time_ms, self.time_beats) {
            (Some(ms), _) => Some(ms * 1e-3),
            (None, Some(beats)) => tempo_bpm.map(|bpm| beats * 60.0 / bpm),
            (None, None) => None,
        }
    }

    /// Seconds of tail at `tempo_bpm`: echoes until the feedback has decayed them to
    /// −60 dB (the low-pass only shortens it), `D·(1 + ceil(ln 1e-3 / ln |fb|))`.
    pub fn tail_seconds_at(&self, tempo_bpm: Option<f64>) -> f64 {
        let t = self
            .time_s(tempo_bpm.or(Some(TAIL_TEMPO_FLOOR_BPM)))
            .unwrap_or(0.0)
            .max(0.0);
        let fb = self.feedback.abs();
        let repeats = if fb <= 0.0 || fb >= 1.0 {
            0.0
        } else {
            (TAIL_LEVEL.ln() / fb.ln()).ceil()
        };
        t * (1.0 + repeats)
    }

    /// Tail without knowing the tempo (`time_beats` assumes [`TAIL_TEMPO_FLOOR_BPM`]).
    pub fn tail_seconds(&self) -> f64 {
        self.tail_seconds_at(None)
    }

    /// Checks the settings and resolves them to the sample rate and tempo.
    pub fn prepare(&self, ctx: &PrepareCtx<'_>) -> Result<Delay, Error> {
        if self.time_ms.is_some() == self.time_beats.is_some() {
            return Err(bad(
                ctx,
                "give exactly one of time_ms and time_beats".into(),
            ));
        }
        let time_s = self
            .time_s(ctx.tempo_bpm)
            .ok_or_else(|| bad(ctx, "time_beats needs the song's tempo_bpm".into()))?;
        if !(time_s > 0.0 && time_s <= MAX_TIME_S) {
            return Err(bad(
                ctx,
                format!("delay time must be in (0, {MAX_TIME_S}] s, got {time_s} s"),
            ));
        }
        if self.feedback.is_nan() || self.feedback.abs() >= 1.0 {
            return Err(bad(
                ctx,
                format!("feedback must be in (−1, 1), got {}", self.feedback),
            ));
        }
        if !(0.0..=1.0).contains(&self.mix) {
            return Err(bad(ctx, format!("mix must be in [0, 1], got {}", self.mix)));
        }
        let nyquist = ctx.sample_rate as f64 / 2.0;
        let lowpass_coef = match self.high_cut_hz {
            Some(hz) if hz > 0.0 && hz < nyquist => {
                1.0 - (-std::f64::consts::TAU * hz / ctx.sample_rate as f64).exp()
            }
            Some(hz) => {
                return Err(bad(
                    ctx,
                    format!("high_cut_hz must be in (0, {nyquist}), got {hz}"),
                ))
            }
            None => 1.0,
        };
        Ok(Delay {
            params: DelayParams {
                delay_frames: ((time_s * ctx.sample_rate as f64).round() as u32).max(1),
                feedback: self.feedback as f32,
                lowpass_coef: lowpass_coef as f32,
                filter: self.high_cut_hz.is_some() as u32,
                wet: self.mix as f32,
                dry: (1.0 - self.mix) as f32,
                ping_pong: self.ping_pong as u32,
                _pad: 0,
            },
            tail_s: self.tail_seconds_at(ctx.tempo_bpm),
        })
    }
}

impl Delay {
    /// Runs the CPU reference in place.
    pub fn process_cpu(&self, channels: &mut [Vec<f32>]) {
        cpu::process(&self.params, channels);
    }
}
