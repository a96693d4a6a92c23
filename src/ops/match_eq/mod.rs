//! Match EQ (reference matching): moves a song's long-term spectral balance toward a
//! reference track's, as a linear-phase EQ.
//!
//! 1. [`long_term_spectrum`] of the song and of the reference ([`analysis`]: Welch average,
//!    1/3-octave bands every 1/6 octave from 20 Hz to min(20 kHz, 0.45·rate), in dB).
//! 2. [`match_curve`]: difference reference − song per band, smoothed once more across
//!    ±1/3 octave (weights 1, 3, 4, 3, 1 over the neighbouring centres: the match follows
//!    the balance, not single notes), normalised to 0 dB mean over [`NORMALISE_LOW_HZ`] ..
//!    [`NORMALISE_HIGH_HZ`] (the mids stay put, the ends move: the overall level changes
//!    little, and the loudness stage sets it afterwards anyway), times `strength`, clamped to
//!    `−max_cut_db .. +max_boost_db`, faded to 0 dB over one octave outside
//!    `low_hz .. high_hz` (half-cosine in log frequency, so the filter never has to make a
//!    step).
//! 3. [`MatchCurve::prepare`]: one symmetric FIR with that magnitude
//!    ([`eq::design::zero_phase_fir_with_taps`], [`MATCH_EQ_TAPS_48K`] taps at 48 kHz),
//!    returned as a linear-phase [`eq::Eq`], so it runs through the convolution engine
//!    (`shaders/convolve.wgsl` on the GPU, [`crate::ops::convolve`] on the CPU) with the
//!    latency removed: same length out, lined up with the input. [`MatchCurve::apply_cpu`]
//!    runs it on the CPU (a whole song); the streamed form is the EQ's own
//!    ([`eq::cpu::Stream`] on the prepared [`eq::Eq`], lagging by
//!    [`eq::cpu::latency_frames`]).
//!
//! The loudness half of reference matching (target = the reference's integrated loudness)
//! belongs to the mastering chain, not to this operator.

pub mod analysis;

pub use analysis::{long_term_spectrum, SILENCE_FLOOR_DB};

use crate::ops::eq;
use crate::ops::eq::design::zero_phase_fir_with_taps;

/// Lower edge of the band whose mean difference is taken as 0 dB.
pub const NORMALISE_LOW_HZ: f64 = 500.0;
/// Upper edge of the band whose mean difference is taken as 0 dB.
pub const NORMALISE_HIGH_HZ: f64 = 2000.0;
/// Width in octaves of the fade to 0 dB outside `low_hz .. high_hz`.
pub const FADE_OCT: f64 = 1.0;
/// Weights of the difference smoothing over the centres −2 .. +2 (1/6 octave apart): a
/// Hann window of half-width 1/2 octave sampled at the centres (cos² of 0, 30, 60°, ×4).
pub const DIFFERENCE_SMOOTHING: [f64; 5] = [1.0, 3.0, 4.0, 3.0, 1.0];
/// Match EQ FIR length at 48 kHz (683 ms; scaled with the rate, made odd). Twice the
/// parametric EQ's [`eq::design::LINEAR_PHASE_TAPS_48K`]: the Blackman window smooths the
/// curve over ±3·rate/taps Hz (±8.8 Hz here), which keeps the error at the corners of a
/// clamped curve small down to 60 Hz (see tests/match_eq.rs for the measured figures).
pub const MATCH_EQ_TAPS_48K: usize = 32767;

/// Long-term average spectrum: power per fractional-octave band, dB, on a fixed
/// log-frequency grid (see [`analysis`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrum {
    /// band centres in Hz, ascending
    pub band_hz: Vec<f64>,
    /// band power in dB (mean-square, channels summed; 0 dB = a full-scale square's power)
    pub level_db: Vec<f64>,
}

impl Spectrum {
    /// True when no band is above [`SILENCE_FLOOR_DB`] (silent or empty input).
    pub fn is_silent(&self) -> bool {
        self.level_db.iter().all(|l| *l <= SILENCE_FLOOR_DB)
    }

    /// Level at `hz`: linear interpolation in log frequency between centres, the end
    /// values beyond the ends ([`SILENCE_FLOOR_DB`] for an empty spectrum).
    pub fn level_db_at(&self, hz: f64) -> f64 {
        interpolate_log(&self.band_hz, &self.level_db, hz).unwrap_or(SILENCE_FLOOR_DB)
    }
}

/// How far and where the match EQ may move the song.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchSettings {
    /// 0 (no change) .. 1 (the full difference), applied to the dB curve before the limits
    pub strength: f64,
    /// largest boost in dB (≥ 0)
    pub max_boost_db: f64,
    /// largest cut in dB (≥ 0; the curve goes down to −max_cut_db)
    pub max_cut_db: f64,
    /// below this the curve fades to 0 dB over one octave
    pub low_hz: f64,
    /// above this the curve fades to 0 dB over one octave
    pub high_hz: f64,
}

impl Default for MatchSettings {
    /// Full strength; ±6 dB (a match EQ corrects balance, it does not re-mix: larger moves
    /// mean the reference does not suit the song); 30 Hz (below, sub-bass depends on the
    /// song's key and tuning, and boosting it costs headroom) .. 16 kHz (references are
    /// often lossy files with nothing above 16 kHz: matching there would boost hiss).
    fn default() -> Self {
        MatchSettings {
            strength: 1.0,
            max_boost_db: 6.0,
            max_cut_db: 6.0,
            low_hz: 30.0,
            high_hz: 16_000.0,
        }
    }
}

impl MatchSettings {
    /// Checks the settings; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.strength.is_finite() && (0.0..=1.0).contains(&self.strength)) {
            return Err(format!(
                "match strength = {} must be within 0 .. 1",
                self.strength
            ));
        }
        for (name, v) in [
            ("max_boost_db", self.max_boost_db),
            ("max_cut_db", self.max_cut_db),
        ] {
            if !(v.is_finite() && (0.0..=24.0).contains(&v)) {
                return Err(format!("{name} = {v} must be within 0 .. 24 dB"));
            }
        }
        if !(self.low_hz.is_finite() && self.low_hz > 0.0 && self.high_hz.is_finite()) {
            return Err(format!("low_hz = {} must be above 0", self.low_hz));
        }
        if self.high_hz <= self.low_hz {
            return Err(format!(
                "high_hz = {} must be above low_hz = {}",
                self.high_hz, self.low_hz
            ));
        }
        Ok(())
    }
}

/// The match EQ's gain curve, in dB, on log-spaced centres.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchCurve {
    /// centres in Hz, ascending: the song's analysis grid, extended by 1/6-octave steps
    /// toward the fade ends, plus the fade ends `low_hz / 2` and `2 · high_hz` (0 dB)
    pub band_hz: Vec<f64>,
    /// gain in dB at each centre
    pub gain_db: Vec<f64>,
}

/// The match EQ curve that moves `song` toward `reference` (see the module header). Both
/// spectra should come from the same sample rate; otherwise the reference is interpolated
/// onto the song's centres. A silent song or reference gives a flat (0 dB) curve.
/// `strength` is clamped to 0 .. 1 (non-finite: 0) and the limits taken as magnitudes
/// (non-finite: 0 dB); [`MatchSettings::validate`] reports such values instead.
pub fn match_curve(song: &Spectrum, reference: &Spectrum, s: &MatchSettings) -> MatchCurve {
    let n = song.band_hz.len().min(song.level_db.len());
    if n == 0 || song.is_silent() || reference.is_silent() {
        return MatchCurve {
            band_hz: song.band_hz[..n].to_vec(),
            gain_db: vec![0.0; n],
        };
    }
    let diff: Vec<f64> = (0..n)
        .map(|k| reference.level_db_at(song.band_hz[k]) - song.level_db[k])
        .collect();
    let smoothed = smooth(&diff);
    let mids: Vec<f64> = (0..n)
        .filter(|&k| (NORMALISE_LOW_HZ..=NORMALISE_HIGH_HZ).contains(&song.band_hz[k]))
        .map(|k| smoothed[k])
        .collect();
    let offset = if mids.is_empty() {
        smoothed.iter().sum::<f64>() / n as f64
    } else {
        mids.iter().sum::<f64>() / mids.len() as f64
    };
    let strength = if s.strength.is_finite() {
        s.strength.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let limit = |v: f64| if v.is_finite() { v.abs() } else { 0.0 };
    let (boost, cut) = (limit(s.max_boost_db), limit(s.max_cut_db));
    // Centres: the song's grid, extended by grid steps to the fade ends, plus the fade ends
    // themselves (where the curve reaches exactly 0 dB).
    let step = 2f64.powf(analysis::GRID_STEP_OCT);
    let fade_lo = s.low_hz / 2f64.powf(FADE_OCT);
    let fade_hi = s.high_hz * 2f64.powf(FADE_OCT);
    let grid = &song.band_hz[..n];
    let mut band_hz: Vec<f64> = grid.to_vec();
    let mut f = grid[0] / step;
    while f > fade_lo && band_hz.len() < n + MAX_EXTENSION {
        band_hz.push(f);
        f /= step;
    }
    let mut f = grid[n - 1] * step;
    while f < fade_hi && band_hz.len() < n + 2 * MAX_EXTENSION {
        band_hz.push(f);
        f *= step;
    }
    band_hz.extend(
        [fade_lo, fade_hi]
            .iter()
            .filter(|f| f.is_finite() && **f > 0.0),
    );
    band_hz.sort_by(f64::total_cmp);
    band_hz.dedup_by(|a, b| (*a / *b - 1.0).abs() < 1e-9);
    let gain_db = band_hz
        .iter()
        .map(|&hz| {
            let d = interpolate_log(grid, &smoothed, hz).unwrap_or(offset);
            let g = (strength * (d - offset)).clamp(-cut, boost) * fade(hz, s.low_hz, s.high_hz);
            if g == 0.0 {
                0.0
            } else {
                g
            }
        })
        .collect();
    MatchCurve { band_hz, gain_db }
}

/// Most centres added on each side of the analysis grid to reach the fade ends.
const MAX_EXTENSION: usize = 120;

/// [`DIFFERENCE_SMOOTHING`] applied along `d`; at the ends the weights that fall outside
/// are left out and the rest renormalised.
fn smooth(d: &[f64]) -> Vec<f64> {
    let half = DIFFERENCE_SMOOTHING.len() / 2;
    (0..d.len())
        .map(|k| {
            let (mut sum, mut weight) = (0.0, 0.0);
            for (j, w) in DIFFERENCE_SMOOTHING.iter().enumerate() {
                if let Some(v) = (k + j).checked_sub(half).and_then(|i| d.get(i)) {
                    sum += w * v;
                    weight += w;
                }
            }
            sum / weight
        })
        .collect()
}

/// 1 inside `low_hz .. high_hz`, falling to 0 along a half cosine in log frequency over
/// [`FADE_OCT`] octaves outside.
pub fn fade(hz: f64, low_hz: f64, high_hz: f64) -> f64 {
    let t = if hz < low_hz {
        (low_hz / hz).log2() / FADE_OCT
    } else if hz > high_hz {
        (hz / high_hz).log2() / FADE_OCT
    } else {
        0.0
    };
    if t >= 1.0 || t.is_nan() {
        0.0
    } else {
        0.5 * (1.0 + (std::f64::consts::PI * t).cos())
    }
}

/// Linear interpolation of `y` over `x` in log frequency; the end values beyond the ends;
/// `None` when empty.
fn interpolate_log(x: &[f64], y: &[f64], hz: f64) -> Option<f64> {
    let n = x.len().min(y.len());
    if n == 0 {
        return None;
    }
    if hz.is_nan() || hz <= x[0] {
        return Some(y[0]);
    }
    if hz >= x[n - 1] {
        return Some(y[n - 1]);
    }
    let i = x[..n].partition_point(|f| *f <= hz);
    let (x0, x1) = (x[i - 1], x[i]);
    let t = (hz / x0).ln() / (x1 / x0).ln();
    Some(y[i - 1] + t * (y[i] - y[i - 1]))
}

/// FIR length of the match EQ at `sample_rate`: [`MATCH_EQ_TAPS_48K`] scaled with the
/// rate, made odd.
pub fn match_eq_taps(sample_rate: u32) -> usize {
    ((MATCH_EQ_TAPS_48K as f64 * f64::from(sample_rate) / 48_000.0).round() as usize).max(1) | 1
}

impl MatchCurve {
    /// Gain in dB at `hz`: linear in log frequency between centres, flat (the end values)
    /// beyond the ends; 0 dB for an empty curve.
    pub fn gain_db_at(&self, hz: f64) -> f64 {
        interpolate_log(&self.band_hz, &self.gain_db, hz).unwrap_or(0.0)
    }

    /// True when every gain is 0 dB (strength 0, silent input): the EQ changes nothing.
    pub fn is_flat(&self) -> bool {
        self.gain_db.iter().all(|g| *g == 0.0)
    }

    /// The linear-phase FIR (f64 taps, `taps` made odd, latency (taps − 1) / 2) whose
    /// magnitude is `10^(gain_db_at(f) / 20)`.
    pub fn fir(&self, sample_rate: u32, taps: usize) -> Vec<f64> {
        zero_phase_fir_with_taps(
            |f| 10f64.powf(self.gain_db_at(f) / 20.0),
            f64::from(sample_rate),
            taps,
        )
    }

    /// The curve as a linear-phase EQ ready for the convolution engine (CPU:
    /// [`eq::cpu::process`]; GPU: the streaming convolution of `gpu::conv_stream`), [`match_eq_taps`] long.
    pub fn prepare(&self, sample_rate: u32) -> eq::Eq {
        self.prepare_with_taps(sample_rate, match_eq_taps(sample_rate))
    }

    /// [`MatchCurve::prepare`] with an explicit FIR length (made odd).
    pub fn prepare_with_taps(&self, sample_rate: u32, taps: usize) -> eq::Eq {
        let fir = self.fir(sample_rate, taps);
        eq::Eq::LinearPhase {
            latency_frames: (fir.len() - 1) / 2,
            kernel: crate::ops::convolve::Kernel::new(&fir),
        }
    }

    /// Applies the match EQ in place on planar `x` (latency compensated, same length out).
    /// A flat curve leaves `x` untouched.
    pub fn apply_cpu(&self, x: &mut [Vec<f32>], sample_rate: u32) {
        if self.is_flat() {
            return;
        }
        eq::cpu::process(&self.prepare(sample_rate), x);
    }
}
