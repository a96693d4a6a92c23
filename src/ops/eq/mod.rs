//! Parametric EQ: `peak`, `low_shelf`, `high_shelf`, `high_pass`, `low_pass`, `notch` bands
//! (RBJ cookbook, designed on the host in f64).
//!
//! Two modes:
//! - `minimum_phase` (default): the bands' 2nd-order sections in cascade, each the exact RBJ
//!   transfer function realised as a linear trapezoidal state-variable filter ([`Svf`]) in
//!   f32, run sequentially per channel, sample by sample through all sections
//!   ([`cpu::run_sections_state`]; the kernel `shaders/eq.wgsl`, [`gpu`]).
//!   Not transposed direct form II: in f32 its coefficients put low-frequency poles 0.1 dB
//!   off (see [`Svf`]);
//! - `linear_phase`: one symmetric FIR with the magnitude of the whole cascade
//!   ([`design::design_fir`]), applied with the convolution engine ([`crate::ops::convolve`],
//!   `shaders/convolve.wgsl`). The whole-song [`cpu::process`] removes the latency
//!   (taps − 1) / 2 so the output lines up with the input and has its length; the streamed
//!   form ([`cpu::Stream`]) outputs the causal convolution and reports that latency
//!   ([`cpu::latency_frames`]).
//!
//! Scene syntax:
//! `{ type = "eq", mode = "linear_phase", bands = [ { kind = "high_pass", freq_hz = 40,
//! slope_db_per_oct = 24 }, { kind = "peak", freq_hz = 3000, gain_db = 2.5, q = 1.2 } ] }`

pub mod cpu;
pub mod design;
pub mod gpu;
pub(crate) mod skewed;

use serde::{Deserialize, Serialize};

use crate::ops::convolve::Kernel;
pub use design::{Coeffs, Section, Svf};

/// Default Q of `peak` bands.
pub const DEFAULT_PEAK_Q: f64 = 1.0;
/// Default Q of shelves (1/√2: the cookbook's shelf slope S = 1, no overshoot).
pub const DEFAULT_SHELF_Q: f64 = std::f64::consts::FRAC_1_SQRT_2;
/// Default Q of `notch` bands (narrow, e.g. hum removal).
pub const DEFAULT_NOTCH_Q: f64 = 10.0;
/// Default slope of `high_pass` / `low_pass` bands.
pub const DEFAULT_SLOPE_DB_PER_OCT: u32 = 12;
/// Slopes the pass filters offer (Butterworth of order slope / 6).
pub const SLOPES_DB_PER_OCT: [u32; 4] = [12, 24, 36, 48];

/// Filter shape of one band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BandKind {
    /// bell boost/cut at `freq_hz` (`gain_db`, `q`)
    Peak,
    /// shelf below `freq_hz` (`gain_db`, `q`)
    LowShelf,
    /// shelf above `freq_hz` (`gain_db`, `q`)
    HighShelf,
    /// Butterworth high-pass at `freq_hz` (−3 dB), `slope_db_per_oct`
    HighPass,
    /// Butterworth low-pass at `freq_hz` (−3 dB), `slope_db_per_oct`
    LowPass,
    /// notch at `freq_hz`, width from `q`
    Notch,
    /// 2nd-order all-pass at `freq_hz` (phase only; used by crossovers)
    AllPass,
}

/// How the EQ is realised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EqMode {
    /// cascaded biquads (analog-like phase, no latency)
    #[default]
    MinimumPhase,
    /// one zero-phase FIR (no phase shift, latency compensated, pre-ringing)
    LinearPhase,
}

/// One EQ band as written in a scene.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandSpec {
    /// filter shape
    pub kind: BandKind,
    /// centre / corner frequency in Hz (must be below Nyquist)
    pub freq_hz: f64,
    /// boost (+) or cut (−) in dB for `peak` and shelves; must be 0 for the others
    #[serde(default)]
    pub gain_db: f64,
    /// quality factor; defaults per kind ([`DEFAULT_PEAK_Q`], [`DEFAULT_SHELF_Q`],
    /// [`DEFAULT_NOTCH_Q`]; pass filters: Butterworth); pass filters take it only at 12 dB/oct
    #[serde(default)]
    pub q: Option<f64>,
    /// pass filters only: 12, 24, 36 or 48 dB per octave (default 12)
    #[serde(default)]
    pub slope_db_per_oct: Option<u32>,
}

impl BandSpec {
    /// Q with the kind's default applied (pass filters: 1/√2, the 12 dB/oct Butterworth).
    pub fn q(&self) -> f64 {
        self.q.unwrap_or(match self.kind {
            BandKind::Peak => DEFAULT_PEAK_Q,
            BandKind::LowShelf | BandKind::HighShelf => DEFAULT_SHELF_Q,
            BandKind::Notch => DEFAULT_NOTCH_Q,
            BandKind::AllPass => std::f64::consts::FRAC_1_SQRT_2,
            BandKind::HighPass | BandKind::LowPass => std::f64::consts::FRAC_1_SQRT_2,
        })
    }

    /// Slope of a pass filter with the default applied.
    pub fn slope(&self) -> u32 {
        self.slope_db_per_oct.unwrap_or(DEFAULT_SLOPE_DB_PER_OCT)
    }

    /// Checks the band at `sample_rate`; the message names the field.
    pub fn validate(&self, sample_rate: f64) -> Result<(), String> {
        let nyquist = sample_rate / 2.0;
        if !(self.freq_hz.is_finite() && self.freq_hz > 0.0 && self.freq_hz < nyquist) {
            return Err(format!(
                "freq_hz = {} must be above 0 and below Nyquist ({nyquist} Hz)",
                self.freq_hz
            ));
        }
        if !self.gain_db.is_finite() || self.gain_db.abs() > 48.0 {
            return Err(format!("gain_db = {} must be within ±48 dB", self.gain_db));
        }
        if let Some(q) = self.q {
            if !(q.is_finite() && (0.025..=100.0).contains(&q)) {
                return Err(format!("q = {q} must be within 0.025 .. 100"));
            }
        }
        let pass = matches!(self.kind, BandKind::HighPass | BandKind::LowPass);
        if pass {
            if !SLOPES_DB_PER_OCT.contains(&self.slope()) {
                return Err(format!(
                    "slope_db_per_oct = {} must be one of {SLOPES_DB_PER_OCT:?}",
                    self.slope()
                ));
            }
            if self.q.is_some() && self.slope() != 12 {
                return Err(
                    "q applies to 12 dB/oct pass filters only (steeper ones are Butterworth)"
                        .into(),
                );
            }
        } else if self.slope_db_per_oct.is_some() {
            return Err("slope_db_per_oct applies to high_pass and low_pass only".into());
        }
        if (pass || matches!(self.kind, BandKind::Notch | BandKind::AllPass)) && self.gain_db != 0.0
        {
            return Err("gain_db applies to peak and shelf bands only".into());
        }
        Ok(())
    }
}

/// `type = "eq"`: a parametric EQ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EqSpec {
    /// `minimum_phase` (default) or `linear_phase`
    #[serde(default)]
    pub mode: EqMode,
    /// the bands, applied in order
    pub bands: Vec<BandSpec>,
}

impl EqSpec {
    /// Checks every band at `sample_rate`; the message names the band (1-based).
    pub fn validate(&self, sample_rate: f64) -> Result<(), String> {
        for (i, b) in self.bands.iter().enumerate() {
            b.validate(sample_rate)
                .map_err(|m| format!("eq band {} ({:?}): {m}", i + 1, b.kind))?;
        }
        Ok(())
    }

    /// All 2nd-order sections of the EQ, in order.
    pub fn sections(&self) -> Vec<Section> {
        self.bands.iter().flat_map(design::band_sections).collect()
    }

    /// Validates and resolves the EQ for `sample_rate`.
    pub fn prepare(&self, sample_rate: f64) -> Result<Eq, String> {
        self.validate(sample_rate)?;
        let sections = self.sections();
        Ok(match self.mode {
            EqMode::MinimumPhase => Eq::MinimumPhase {
                sections: sections.iter().map(|s| s.svf(sample_rate)).collect(),
            },
            EqMode::LinearPhase => {
                let fir = design::design_fir(&sections, sample_rate);
                Eq::LinearPhase {
                    latency_frames: (fir.len() - 1) / 2,
                    kernel: Kernel::new(&fir),
                }
            }
        })
    }
}

/// A prepared EQ.
#[derive(Debug, Clone)]
pub enum Eq {
    /// cascaded 2nd-order sections (SVF), run in this order
    MinimumPhase {
        /// f32 sections
        sections: Vec<Svf>,
    },
    /// one symmetric FIR
    LinearPhase {
        /// the FIR's spectra for the convolution engine
        kernel: Kernel,
        /// (taps − 1) / 2, removed from the output
        latency_frames: usize,
    },
}
