//! True-peak oversampling: the one band-limited interpolator of mixfarm, used by the
//! limiter's detector ([`crate::ops::limiter`]) and by every true-peak meter
//! ([`crate::loudness::measure`], hence `analyze`, reports, sidecars and logs), so the
//! limiter sees exactly what the meters report. CPU twin in [`cpu`]; no WGSL kernel yet.
//!
//! The interpolator reconstructs `x̂(n + p/F)`, `p = 1 … F−1`, `F` = [`FACTOR`], from
//! [`TAPS`] input samples around `n` (tap `j` weights `x[n + j − TAPS/2 + 1]`): a Kaiser-
//! windowed sinc designed on the host in f64 ([`design`]) and rounded to f32 once. Per phase
//! the taps are summed in index order as plain `acc = acc + h·x` in f32 (no fused
//! multiply-add): a kernel that sums in the same order is bit-identical.
//!
//! What it misses against an ideal reconstruction (measured by the f64 oracle in
//! `tests/true_peak.rs`): the peak between two points of the `F`× grid (≤ 1 − cos(π/2F) of
//! a sine at Nyquist, 0.04 dB at F = 16) and the filter's roll-off in the top few percent of
//! the band (content within `~1.5·fs/TAPS` of Nyquist is under-read).

pub mod cpu;

/// Oversampling factor.
pub const FACTOR: usize = 16;
/// FIR taps per interpolated phase.
pub const TAPS: usize = 64;
/// Interpolated phases per input frame (`FACTOR − 1`; phase 0 is the sample itself).
pub const PHASES: usize = FACTOR - 1;
/// Kaiser window β of the design.
pub const KAISER_BETA: f64 = 6.0;

fn bessel_i0(x: f64) -> f64 {
    let (mut sum, mut term, mut k) = (1.0, 1.0, 1.0);
    while term > 1e-17 * sum {
        term *= (x / (2.0 * k)).powi(2);
        sum += term;
        k += 1.0;
    }
    sum
}

fn sinc(t: f64) -> f64 {
    if t == 0.0 {
        1.0
    } else {
        (std::f64::consts::PI * t).sin() / (std::f64::consts::PI * t)
    }
}

/// The interpolator in f64, `[phase][tap]` ([`PHASES`] × [`TAPS`]): phase `p − 1` gives the
/// point `n + p/F`; tap `j` weights `x[n + j − TAPS/2 + 1]` with
/// `h = sinc(t)·I0(β√(1 − (t/(TAPS/2))²))/I0(β)`, `t = j − TAPS/2 + 1 − p/F`, each phase
/// normalised to unity DC gain.
pub fn design() -> Vec<f64> {
    let half = TAPS as f64 / 2.0;
    let mut taps = Vec::with_capacity(PHASES * TAPS);
    for p in 1..FACTOR {
        let f = p as f64 / FACTOR as f64;
        let phase: Vec<f64> = (0..TAPS)
            .map(|j| {
                let t = j as f64 - half + 1.0 - f;
                let r = (t / half).clamp(-1.0, 1.0);
                sinc(t) * bessel_i0(KAISER_BETA * (1.0 - r * r).sqrt()) / bessel_i0(KAISER_BETA)
            })
            .collect();
        let dc: f64 = phase.iter().sum();
        taps.extend(phase.iter().map(|h| h / dc));
    }
    taps
}

/// The interpolator as both backends use it: [`design`] rounded to f32.
#[derive(Debug, Clone, PartialEq)]
pub struct Oversampler {
    /// `[phase][tap]`, [`PHASES`] × [`TAPS`]
    pub taps: Vec<f32>,
}

impl Default for Oversampler {
    fn default() -> Self {
        Oversampler {
            taps: design().iter().map(|&h| h as f32).collect(),
        }
    }
}

impl Oversampler {
    /// True peak of planar audio, linear (0 for silence): see [`cpu::true_peak`].
    pub fn true_peak(&self, channels: &[Vec<f32>]) -> f32 {
        cpu::true_peak(&self.taps, channels)
    }
}

/// The shared interpolator (designed once per process).
pub fn shared() -> &'static Oversampler {
    static OS: std::sync::OnceLock<Oversampler> = std::sync::OnceLock::new();
    OS.get_or_init(Oversampler::default)
}
