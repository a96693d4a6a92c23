//! Multiband compressor: a crossover splits the input into bands, each band runs its own
//! [`crate::ops::compressor`] (stereo-linked, keyed by the band itself), the bands are
//! summed back in band order ([`cpu`]). On the GPU a Linkwitz-Riley multiband is one kernel
//! (`shaders/multiband.wgsl`, [`gpu`]); a linear-phase split runs on the convolution engine
//! and the same file's `multiband_bands` entry compresses and sums its bands.
//!
//! Scene syntax:
//! `{ type = "multiband", crossover_hz = [120, 1000, 6000], mode = "linkwitz_riley",
//!   bands = [ { threshold_db = -24, ratio = 2, knee_db = 6, attack_ms = 30,
//!   release_ms = 200, makeup_db = 1 }, … ] }` — one band more than crossover frequencies.
//!
//! The band split is [`crate::ops::crossover`] (`mode` picks its kind: Linkwitz–Riley
//! 24 dB/oct with all-pass compensation, or complementary linear-phase FIRs with the
//! latency removed by the whole-song [`Multiband::process_cpu`], reported by the streamed
//! [`cpu::process_chunk`] as [`cpu::latency_frames`]); bands are compressed and summed by
//! [`cpu::process_chunk`] (chunks, state carried) or [`cpu::compress_and_sum`] (whole bands).

pub mod cpu;
pub mod gpu;

use serde::{Deserialize, Serialize};

use super::compressor::{self, CompressorParams, Detector, DEFAULT_RMS_WINDOW_MS};
use super::crossover::{Crossover, CrossoverKind, CrossoverSpec};
use super::PrepareCtx;
use crate::error::Error;

/// One band's compressor settings (as [`compressor::CompressorSpec`], no sidechain).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandSpec {
    /// threshold, dBFS
    pub threshold_db: f64,
    /// ratio (≥ 1)
    pub ratio: f64,
    /// knee width, dB
    #[serde(default)]
    pub knee_db: f64,
    /// attack time constant (1 − 1/e), ms
    pub attack_ms: f64,
    /// release time constant (1 − 1/e), ms
    pub release_ms: f64,
    /// makeup gain, dB
    #[serde(default)]
    pub makeup_db: f64,
    /// level detector
    #[serde(default)]
    pub detector: Detector,
}

/// `type = "multiband"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultibandSpec {
    /// crossover frequencies, Hz, strictly increasing
    pub crossover_hz: Vec<f64>,
    /// crossover kind: `linkwitz_riley` (default) or `linear_phase`
    #[serde(default)]
    pub mode: CrossoverKind,
    /// compressor per band, lowest band first (`crossover_hz.len() + 1` of them)
    pub bands: Vec<BandSpec>,
}

impl MultibandSpec {
    /// Checks the settings against `sample_rate` and resolves the band compressors.
    /// Errors name the offending field; `scene_dir` locates the scene in the message.
    pub fn band_params(
        &self,
        sample_rate: u32,
        scene_dir: &std::path::Path,
    ) -> Result<Vec<CompressorParams>, Error> {
        let bad = |m: String| Error::scene(scene_dir, format!("multiband: {m}"));
        let nyquist = sample_rate as f64 / 2.0;
        if self.crossover_hz.is_empty() {
            return Err(bad("crossover_hz needs at least one frequency".into()));
        }
        if self.bands.len() != self.crossover_hz.len() + 1 {
            return Err(bad(format!(
                "{} crossover frequencies need {} bands, got {}",
                self.crossover_hz.len(),
                self.crossover_hz.len() + 1,
                self.bands.len()
            )));
        }
        let mut prev = 0.0;
        for &f in &self.crossover_hz {
            if !(f > prev && f < nyquist) {
                return Err(bad(format!(
                    "crossover_hz must increase within (0, {nyquist}) Hz, got {f}"
                )));
            }
            prev = f;
        }
        self.bands
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let ok = b.threshold_db.is_finite()
                    && b.makeup_db.is_finite()
                    && b.ratio >= 1.0
                    && b.knee_db >= 0.0
                    && b.attack_ms >= 0.0
                    && b.release_ms >= 0.0;
                if !ok {
                    return Err(bad(format!(
                        "band {i}: need finite dB values, ratio ≥ 1, knee/attack/release ≥ 0"
                    )));
                }
                Ok(compressor::params(
                    b.threshold_db,
                    b.ratio,
                    b.knee_db,
                    b.attack_ms,
                    b.release_ms,
                    b.makeup_db,
                    b.detector,
                    DEFAULT_RMS_WINDOW_MS,
                    sample_rate,
                ))
            })
            .collect()
    }
}

/// A prepared multiband compressor.
#[derive(Debug, Clone)]
pub struct Multiband {
    /// the band split
    pub crossover: Crossover,
    /// one compressor per band, lowest first
    pub bands: Vec<CompressorParams>,
}

impl MultibandSpec {
    /// Checks the settings and designs the crossover and band compressors for
    /// `ctx.sample_rate`.
    pub fn prepare(&self, ctx: &PrepareCtx<'_>) -> Result<Multiband, Error> {
        let bands = self.band_params(ctx.sample_rate, ctx.scene_dir)?;
        let crossover = CrossoverSpec {
            kind: self.mode,
            freqs_hz: self.crossover_hz.clone(),
        }
        .prepare(f64::from(ctx.sample_rate))
        .map_err(|m| Error::scene(ctx.scene_dir, format!("multiband: {m}")))?;
        Ok(Multiband { crossover, bands })
    }
}

impl Multiband {
    /// Runs the CPU reference on a whole song in place (latency removed): split, compress
    /// each band, sum — a [`cpu::Stream`] fed in chunks by
    /// [`crate::ops::convolve::cpu::run_streamed`].
    pub fn process_cpu(&self, channels: &mut [Vec<f32>]) {
        let mut st = cpu::Stream::new(self, channels.len());
        crate::ops::convolve::cpu::run_streamed(channels, cpu::latency_frames(self), |x| {
            cpu::process_chunk(self, &mut st, x)
        });
    }
}
