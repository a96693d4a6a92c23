//! Band-splitting crossovers (2 to [`MAX_BANDS`] bands that sum back to the input), the
//! front end of multiband processors. Two kinds:
//!
//! - `linkwitz_riley` (default): 4th-order Linkwitz-Riley (24 dB/oct, two cascaded
//!   Butterworth 2nd-order sections per side, −6.02 dB at each crossover). Bands are split
//!   off low to high; every band below the top one then passes the 2nd-order all-pass
//!   (Q = 1/√2) of each higher crossover, so all bands share the same phase and their sum
//!   is the all-pass chain: flat magnitude. Sections run as in the EQ
//!   ([`eq::cpu::run_sections_state`]; on the GPU inside the multiband kernel,
//!   `shaders/multiband.wgsl`).
//! - `linear_phase`: one symmetric FIR per band whose magnitude is the Linkwitz-Riley band's
//!   magnitude (these add up to exactly 1), designed like the linear-phase EQ
//!   ([`eq::design::zero_phase_fir`]); the top band is the delta minus the others, so the FIRs
//!   sum to a pure delay. Applied with the convolution engine (`shaders/convolve.wgsl`); the
//!   whole-song [`cpu::split`] removes the latency (output bands line up with the input and
//!   have its length), the streamed [`cpu::split_chunk`] reports it
//!   ([`cpu::latency_frames`]).
//!
//! Scene syntax (for processors that embed it):
//! `crossover = { kind = "linear_phase", freqs_hz = [120, 1000, 6000] }`.

pub mod cpu;

use serde::{Deserialize, Serialize};

use crate::ops::convolve::Kernel;
use crate::ops::eq::{self, BandKind, Section, Svf};

/// Most bands a crossover makes.
pub const MAX_BANDS: usize = 5;

/// Which crossover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrossoverKind {
    /// IIR Linkwitz-Riley 24 dB/oct, all-pass compensated
    #[default]
    LinkwitzRiley,
    /// complementary linear-phase FIRs
    LinearPhase,
}

/// A crossover as written in a scene.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrossoverSpec {
    /// `linkwitz_riley` (default) or `linear_phase`
    #[serde(default)]
    pub kind: CrossoverKind,
    /// crossover frequencies in Hz, increasing (1 to 4: 2 to 5 bands)
    pub freqs_hz: Vec<f64>,
}

/// Magnitude of the 4th-order Linkwitz-Riley low-pass at `freq_hz` for a crossover at
/// `fc_hz` (bilinear-warped, as the digital filter realises it): 1 / (1 + Ω⁴),
/// Ω = tan(πf/fs) / tan(πfc/fs). The high-pass is 1 minus this.
pub fn lr4_low_magnitude(freq_hz: f64, fc_hz: f64, sample_rate: f64) -> f64 {
    let pi = std::f64::consts::PI;
    let w = (pi * freq_hz.min(sample_rate / 2.0) / sample_rate).tan()
        / (pi * fc_hz / sample_rate).tan();
    1.0 / (1.0 + w.powi(4))
}

/// Magnitude of band `band` of a Linkwitz-Riley split at `freqs_hz`: the product of the
/// high-passes below it and its own low-pass (the bands add up to 1 at every frequency).
pub fn band_magnitude(band: usize, freqs_hz: &[f64], freq_hz: f64, sample_rate: f64) -> f64 {
    let mut m = 1.0;
    for (i, &fc) in freqs_hz.iter().enumerate() {
        let low = lr4_low_magnitude(freq_hz, fc, sample_rate);
        if i < band {
            m *= 1.0 - low;
        } else if i == band {
            m *= low;
        }
    }
    m
}

impl CrossoverSpec {
    /// Checks the frequencies at `sample_rate`.
    pub fn validate(&self, sample_rate: f64) -> Result<(), String> {
        let n = self.freqs_hz.len();
        if n == 0 || n >= MAX_BANDS {
            return Err(format!(
                "crossover: {n} frequencies; give 1 to {} (2 to {MAX_BANDS} bands)",
                MAX_BANDS - 1
            ));
        }
        for (i, &f) in self.freqs_hz.iter().enumerate() {
            if !(f.is_finite() && f > 0.0 && f < sample_rate / 2.0) {
                return Err(format!(
                    "crossover: freqs_hz[{i}] = {f} must be above 0 and below Nyquist"
                ));
            }
            if i > 0 && f <= self.freqs_hz[i - 1] {
                return Err("crossover: freqs_hz must be increasing".into());
            }
        }
        Ok(())
    }

    /// Validates and designs the crossover for `sample_rate`.
    pub fn prepare(&self, sample_rate: f64) -> Result<Crossover, String> {
        self.validate(sample_rate)?;
        let q = std::f64::consts::FRAC_1_SQRT_2;
        let svf = |kind, freq_hz| {
            Section {
                kind,
                freq_hz,
                q,
                gain_db: 0.0,
            }
            .svf(sample_rate)
        };
        Ok(match self.kind {
            CrossoverKind::LinkwitzRiley => Crossover::LinkwitzRiley {
                low: self
                    .freqs_hz
                    .iter()
                    .map(|&f| [svf(BandKind::LowPass, f); 2])
                    .collect(),
                high: self
                    .freqs_hz
                    .iter()
                    .map(|&f| [svf(BandKind::HighPass, f); 2])
                    .collect(),
                all_pass: self
                    .freqs_hz
                    .iter()
                    .map(|&f| svf(BandKind::AllPass, f))
                    .collect(),
            },
            CrossoverKind::LinearPhase => {
                let bands = self.freqs_hz.len() + 1;
                let mut firs: Vec<Vec<f64>> = (0..bands - 1)
                    .map(|b| {
                        eq::design::zero_phase_fir(
                            |f| band_magnitude(b, &self.freqs_hz, f, sample_rate),
                            sample_rate,
                        )
                    })
                    .collect();
                let taps = eq::design::linear_phase_taps(sample_rate);
                let d = (taps - 1) / 2;
                let mut top = vec![0.0; taps];
                top[d] = 1.0;
                for fir in &firs {
                    top.iter_mut().zip(fir).for_each(|(t, v)| *t -= v);
                }
                firs.push(top);
                Crossover::LinearPhase {
                    kernels: firs.iter().map(|h| Kernel::new(h)).collect(),
                    latency_frames: d,
                    firs,
                }
            }
        })
    }
}

/// A prepared crossover.
#[derive(Debug, Clone)]
pub enum Crossover {
    /// IIR Linkwitz-Riley; entry i belongs to crossover frequency i
    LinkwitzRiley {
        /// the two Butterworth low-pass sections
        low: Vec<[Svf; 2]>,
        /// the two Butterworth high-pass sections
        high: Vec<[Svf; 2]>,
        /// the all-pass (sum of low and high) applied to the bands below
        all_pass: Vec<Svf>,
    },
    /// complementary linear-phase FIRs, one per band (low to high)
    LinearPhase {
        /// the FIRs' spectra for the convolution engine
        kernels: Vec<Kernel>,
        /// the FIRs (f64 taps), for reference and tests
        firs: Vec<Vec<f64>>,
        /// (taps − 1) / 2, removed from the output
        latency_frames: usize,
    },
}

impl Crossover {
    /// Number of bands.
    pub fn bands(&self) -> usize {
        match self {
            Crossover::LinkwitzRiley { low, .. } => low.len() + 1,
            Crossover::LinearPhase { kernels, .. } => kernels.len(),
        }
    }
}
