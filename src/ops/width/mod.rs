//! Stereo tools: mid/side width and bass mono, plus the phase-correlation measurement.
//!
//! `{ type = "width", width = 1.2, bass_mono_hz = 120 }`:
//! M = (L + R)·½, S = (L − R)·(½·width); width 0 = mono, 1 = unchanged, 2 = extra wide.
//! With `bass_mono_hz`, S passes the 4th-order Linkwitz-Riley high-pass at that frequency
//! (the side below it is removed) and M passes the matching all-pass, so above the
//! frequency the output is the input through the crossover's all-pass, as if split and
//! summed. L = M + S, R = M − S. CPU reference in [`cpu`] (whole song or streamed in time
//! chunks); the WGSL twin is `shaders/width.wgsl` ([`gpu`]). Buffers with other than 2
//! channels pass unchanged.

pub mod cpu;
pub mod gpu;

use serde::{Deserialize, Serialize};

use crate::ops::eq::{BandKind, Section, Svf};

/// Widest setting accepted.
pub const MAX_WIDTH: f64 = 4.0;

fn default_width() -> f64 {
    1.0
}

/// `type = "width"`: stereo width and bass mono.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WidthSpec {
    /// side gain: 0 mono, 1 unchanged (default), up to [`MAX_WIDTH`]
    #[serde(default = "default_width")]
    pub width: f64,
    /// make everything below this frequency mono (Linkwitz-Riley 24 dB/oct on the side)
    #[serde(default)]
    pub bass_mono_hz: Option<f64>,
}

impl WidthSpec {
    /// Validates and resolves for `sample_rate`.
    pub fn prepare(&self, sample_rate: f64) -> Result<Width, String> {
        if !(self.width.is_finite() && (0.0..=MAX_WIDTH).contains(&self.width)) {
            return Err(format!(
                "width: width = {} must be within 0 .. {MAX_WIDTH}",
                self.width
            ));
        }
        let bass_mono = match self.bass_mono_hz {
            None => None,
            Some(f) if f.is_finite() && f > 0.0 && f < sample_rate / 2.0 => {
                let sec = |kind| Section {
                    kind,
                    freq_hz: f,
                    q: std::f64::consts::FRAC_1_SQRT_2,
                    gain_db: 0.0,
                };
                Some(BassMono {
                    side_high_pass: [sec(BandKind::HighPass).svf(sample_rate); 2],
                    mid_all_pass: sec(BandKind::AllPass).svf(sample_rate),
                })
            }
            Some(f) => {
                return Err(format!(
                    "width: bass_mono_hz = {f} must be above 0 and below Nyquist"
                ))
            }
        };
        Ok(Width {
            side_gain: (0.5 * self.width) as f32,
            unchanged: self.width == 1.0 && bass_mono.is_none(),
            bass_mono,
        })
    }
}

/// The bass-mono filters.
#[derive(Debug, Clone)]
pub struct BassMono {
    /// Linkwitz-Riley 4th-order high-pass (two Butterworth sections) for the side
    pub side_high_pass: [Svf; 2],
    /// the crossover's all-pass for the mid
    pub mid_all_pass: Svf,
}

/// A prepared width processor.
#[derive(Debug, Clone)]
pub struct Width {
    /// ½·width, the gain from L − R to S
    pub side_gain: f32,
    /// width 1 and no bass mono: the processor leaves the signal bit-exact
    pub unchanged: bool,
    /// bass mono filters, if asked for
    pub bass_mono: Option<BassMono>,
}

/// Phase correlation of two channels, −1 (opposite) .. 1 (identical, or mono):
/// Σ l·r / √(Σ l² · Σ r²), accumulated in f64. 0 when either channel is silent (or empty).
pub fn correlation(left: &[f32], right: &[f32]) -> f64 {
    let (mut lr, mut ll, mut rr) = (0.0f64, 0.0f64, 0.0f64);
    for (&l, &r) in left.iter().zip(right) {
        let (l, r) = (f64::from(l), f64::from(r));
        lr += l * r;
        ll += l * l;
        rr += r * r;
    }
    if ll == 0.0 || rr == 0.0 {
        0.0
    } else {
        (lr / (ll * rr).sqrt()).clamp(-1.0, 1.0)
    }
}
