//! Multi-voice chorus: each voice reads the input through a delay swept by a sine LFO,
//! linearly interpolated. CPU reference in [`cpu`] (whole song or streamed in time chunks);
//! the WGSL twin is `shaders/chorus.wgsl` ([`gpu`]).
//!
//! Scene syntax: `{ type = "chorus", rate_hz = 0.8, depth_ms = 3, delay_ms = 12, voices = 3,
//! mix = 0.35 }` (`voices` defaults to 3).
//!
//! Per frame `n`, channel `c`, voice `v` (f32 unless said, this order on both backends):
//! - LFO phase, u32 fixed point (one cycle = 2^32, wrapping): `φ = off[c][v] + n·inc`,
//!   `inc = round(rate_hz/fs·2^32)` (the rate is quantised to fs/2^32 ≈ 1e-5 Hz),
//!   `off = round((v/voices + c/4)·2^32)`: voices spread evenly, right channel a quarter
//!   cycle ahead of the left for width.
//! - The delay in frames runs in i32 fixed point, [`DELAY_FRAC_BITS`] fraction bits (exact
//!   integer arithmetic on both backends: nothing for a GPU driver to fuse or round
//!   differently, issue 11). LFO: a host-computed f64 table of one sine cycle scaled by the
//!   depth in frames ([`lfo_table`], [`LFO_TABLE_BITS`] bits, one guard entry),
//!   `i = φ >> 20`, `f = (φ >> 4) & 0xffff` (16 bits of the position between entries),
//!   `Δ = T[i+1] − T[i]`, `s = T[i] + ((f >> 8)·Δ >> 8) + ((f & 0xff)·Δ >> 16)`
//!   (arithmetic shifts; `f·Δ/2^16` in two products that stay below 2^28; no per-sample
//!   `sin`).
//! - delay `d = max(0, D + s)` (`D` the centre delay in the same fixed point), `k = d >> F`,
//!   `t = (d & (2^F − 1))·2^−F` (exact in f32), `F` = [`DELAY_FRAC_BITS`].
//! - tap `u = x[n−k] + t·(x[n−k−1] − x[n−k])` (input before the start reads 0).
//! - `wet = (Σ_v u_v)·(1/voices)`, `y = (1 − mix)·x + mix·wet`.

pub mod cpu;
pub mod gpu;

use serde::{Deserialize, Serialize};

use super::PrepareCtx;
use crate::error::Error;

/// log2 of the LFO table length (4096 points per cycle; linear interpolation error of the
/// sine ≤ (2π/4096)²/8 ≈ 2.9e-7).
pub const LFO_TABLE_BITS: u32 = 12;
/// Fraction bits of the fixed-point delay (a step of 2^-15 ≈ 3e-5 frames): the longest
/// delay, [`MAX_DELAY_MS`] at the highest delivery rate (384 kHz, 38 400 frames), stays
/// below 2^31 / 2^15 frames, and the table steps `Δ` (≤ 2π/4096 of the depth) below 2^20.
pub const DELAY_FRAC_BITS: u32 = 15;
/// Longest `delay_ms + depth_ms` accepted.
pub const MAX_DELAY_MS: f64 = 100.0;
/// Most voices accepted.
pub const MAX_VOICES: u32 = 8;

fn default_voices() -> u32 {
    3
}

/// `type = "chorus"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChorusSpec {
    /// LFO rate, Hz
    pub rate_hz: f64,
    /// peak delay modulation, ms (≤ `delay_ms`)
    pub depth_ms: f64,
    /// centre delay, ms
    pub delay_ms: f64,
    /// number of voices (1…8), LFO phases spread evenly
    #[serde(default = "default_voices")]
    pub voices: u32,
    /// wet share of the output, 0…1
    pub mix: f64,
}

/// Kernel uniform of the chorus.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct ChorusParams {
    /// LFO phase increment per frame (2^32 = one cycle)
    pub phase_inc: u32,
    /// number of voices
    pub voices: u32,
    /// centre delay, frames·2^[`DELAY_FRAC_BITS`] (rounded)
    pub delay_fixed: u32,
    /// modulation depth, frames (host side: the table holds it, scaled)
    pub depth_frames: f32,
    /// `1/voices`
    pub voice_gain: f32,
    /// wet gain (`mix`)
    pub wet: f32,
    /// dry gain (`1 − mix`)
    pub dry: f32,
    /// padding
    pub _pad: u32,
}

/// A prepared chorus: uniform, LFO table, phase offsets `[channel][voice]` (2 × voices).
#[derive(Debug, Clone, PartialEq)]
pub struct Chorus {
    /// kernel parameters
    pub params: ChorusParams,
    /// one sine cycle times the depth, fixed point ([`lfo_table`])
    pub lfo_table: Vec<i32>,
    /// phase offsets, channel-major (left voices, then right voices)
    pub phase_offsets: Vec<u32>,
    /// tail, seconds ([`ChorusSpec::tail_seconds`])
    pub tail_s: f64,
}

/// One sine cycle from f64 `sin` times `depth_frames`, in the delay's fixed point
/// (`round(depth·sin(2π·i/N)·2^DELAY_FRAC_BITS)`), `N + 1` entries, `N` =
/// `2^LFO_TABLE_BITS` (the last repeats the first).
pub fn lfo_table(depth_frames: f64) -> Vec<i32> {
    let len = 1usize << LFO_TABLE_BITS;
    let scale = depth_frames * (1u64 << DELAY_FRAC_BITS) as f64;
    (0..=len)
        .map(|i| {
            (scale * (std::f64::consts::TAU * (i % len) as f64 / len as f64).sin()).round() as i32
        })
        .collect()
}

/// Phase offset of voice `v` of `voices` on channel `c`, u32 fixed point.
pub fn phase_offset(c: usize, v: u32, voices: u32) -> u32 {
    let cycles = v as f64 / voices as f64 + c as f64 * 0.25;
    ((cycles.fract() * 4_294_967_296.0).round() as u64 & 0xffff_ffff) as u32
}

fn bad(ctx: &PrepareCtx<'_>, msg: String) -> Error {
    Error::scene(ctx.scene_dir, format!("chorus: {msg}"))
}

impl ChorusSpec {
    /// Seconds of output after the input ends (the longest delay).
    pub fn tail_seconds(&self) -> f64 {
        ((self.delay_ms + self.depth_ms.abs()) * 1e-3).max(0.0)
    }

    /// Checks the settings and resolves them to `ctx.sample_rate`.
    pub fn prepare(&self, ctx: &PrepareCtx<'_>) -> Result<Chorus, Error> {
        let fs = ctx.sample_rate as f64;
        if !(self.rate_hz >= 0.0 && self.rate_hz < fs / 2.0) {
            return Err(bad(
                ctx,
                format!("rate_hz must be in [0, fs/2), got {}", self.rate_hz),
            ));
        }
        if !(self.depth_ms >= 0.0
            && self.depth_ms <= self.delay_ms
            && self.delay_ms + self.depth_ms <= MAX_DELAY_MS)
        {
            return Err(bad(
                ctx,
                format!(
                    "need 0 ≤ depth_ms ≤ delay_ms and delay_ms + depth_ms ≤ {MAX_DELAY_MS}, got depth {} delay {}",
                    self.depth_ms, self.delay_ms
                ),
            ));
        }
        if !(1..=MAX_VOICES).contains(&self.voices) {
            return Err(bad(
                ctx,
                format!("voices must be 1…{MAX_VOICES}, got {}", self.voices),
            ));
        }
        if !(0.0..=1.0).contains(&self.mix) {
            return Err(bad(ctx, format!("mix must be in [0, 1], got {}", self.mix)));
        }
        let phase_offsets = (0..2).flat_map(|c| (0..self.voices).map(move |v| (c, v)));
        Ok(Chorus {
            params: ChorusParams {
                phase_inc: ((self.rate_hz / fs * 4_294_967_296.0).round() as u64 & 0xffff_ffff)
                    as u32,
                voices: self.voices,
                delay_fixed: (self.delay_ms * 1e-3 * fs * (1u64 << DELAY_FRAC_BITS) as f64).round()
                    as u32,
                depth_frames: (self.depth_ms * 1e-3 * fs) as f32,
                voice_gain: (1.0 / self.voices as f64) as f32,
                wet: self.mix as f32,
                dry: (1.0 - self.mix) as f32,
                _pad: 0,
            },
            lfo_table: lfo_table(self.depth_ms * 1e-3 * fs),
            phase_offsets: phase_offsets
                .map(|(c, v)| phase_offset(c, v, self.voices))
                .collect(),
            tail_s: self.tail_seconds(),
        })
    }
}

impl Chorus {
    /// Runs the CPU reference in place.
    pub fn process_cpu(&self, channels: &mut [Vec<f32>]) {
        cpu::process(self, channels);
    }
}
