//! Host-side EQ design in f64: RBJ cookbook biquads (Robert Bristow-Johnson, "Cookbook
//! formulae for audio EQ biquad filter coefficients"), Butterworth cascades for the pass
//! filters, and the zero-phase FIR of the linear-phase mode.

use bytemuck::{Pod, Zeroable};
use realfft::num_complex::Complex;
use realfft::RealFftPlanner;

use super::{BandKind, BandSpec};

/// Linear-phase FIR length at 48 kHz (170 ms); scaled with the sample rate and kept odd
/// (see [`linear_phase_taps`]). Features narrower than a few `rate / taps` Hz (~6 Hz) are
/// smoothed by the window.
pub const LINEAR_PHASE_TAPS_48K: usize = 8191;

/// Biquad coefficients normalised so that a0 = 1 (f64, as designed).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coeffs {
    /// feed-forward b0
    pub b0: f64,
    /// feed-forward b1
    pub b1: f64,
    /// feed-forward b2
    pub b2: f64,
    /// feedback a1 (a0 = 1)
    pub a1: f64,
    /// feedback a2
    pub a2: f64,
}

/// One band section as the filters run it: a linear trapezoidal state-variable filter
/// (A. Simper, "Linear Trap Integrated SVF", Cytomic 2013) in f32, shared with the GPU
/// as-is. It realises exactly the RBJ transfer function of the section (same analog
/// prototype, same bilinear transform prewarped at f0), but its coefficients keep full
/// relative precision at low frequencies, where f32 direct-form coefficients (a1 ≈ −2,
/// a2 ≈ 1) move the poles by 0.1 dB-sized amounts (measured: 40 Hz high-pass at 48 kHz,
/// 0.11 dB off at 20 Hz in TDF-II f32).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
pub struct Svf {
    /// 1 − a1 = g (g + k) · a1, with a1 = 1 / (1 + g (g + k)) (the recursion runs in
    /// increments: `v1 = ic1 + (a2·v3 − c1·ic1)`, see [`super::cpu::run_sections_state`])
    pub c1: f32,
    /// g · a1
    pub a2: f32,
    /// g · a2
    pub a3: f32,
    /// weight of the input v0 in the output
    pub m0: f32,
    /// weight of the band-pass v1
    pub m1: f32,
    /// weight of the low-pass v2
    pub m2: f32,
}

/// One 2nd-order section's parameters (f64), realised as an RBJ biquad ([`Coeffs`], host
/// responses and FIR design) or as an [`Svf`] (the filters).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Section {
    /// RBJ shape
    pub kind: BandKind,
    /// f0 in Hz
    pub freq_hz: f64,
    /// quality factor
    pub q: f64,
    /// gain in dB (peak and shelves)
    pub gain_db: f64,
}

impl Section {
    /// The RBJ cookbook biquad of this section at `sample_rate`.
    pub fn coeffs(&self, sample_rate: f64) -> Coeffs {
        rbj(self.kind, self.freq_hz, self.q, self.gain_db, sample_rate)
    }

    /// The SVF realisation (coefficients in f64, rounded to f32), after Simper's table:
    /// g = tan(π f0 / fs), k = 1/Q; peak: k = 1/(Q·A), m = (1, k(A²−1), 0); low shelf:
    /// g /= √A, m = (1, k(A−1), A²−1); high shelf: g ·= √A, m = (A², k(1−A)A, 1−A²);
    /// low-pass (0, 0, 1); high-pass (1, −k, −1); notch (1, −k, 0); all-pass (1, −2k, 0);
    /// A = 10^(gain_db/40).
    pub fn svf(&self, sample_rate: f64) -> Svf {
        let a = 10f64.powf(self.gain_db / 40.0);
        let mut g = (std::f64::consts::PI * self.freq_hz / sample_rate).tan();
        let mut k = 1.0 / self.q;
        let m = match self.kind {
            BandKind::Peak => {
                k = 1.0 / (self.q * a);
                [1.0, k * (a * a - 1.0), 0.0]
            }
            BandKind::LowShelf => {
                g /= a.sqrt();
                [1.0, k * (a - 1.0), a * a - 1.0]
            }
            BandKind::HighShelf => {
                g *= a.sqrt();
                [a * a, k * (1.0 - a) * a, 1.0 - a * a]
            }
            BandKind::LowPass => [0.0, 0.0, 1.0],
            BandKind::HighPass => [1.0, -k, -1.0],
            BandKind::Notch => [1.0, -k, 0.0],
            BandKind::AllPass => [1.0, -2.0 * k, 0.0],
        };
        Svf::new(g, k, m)
    }
}

impl Svf {
    /// The section of prewarped gain `g = tan(π f0 / fs)`, damping `k = 1/Q` and output
    /// weights `m` = (m0, m1, m2) (coefficients in f64, rounded once to f32).
    pub fn new(g: f64, k: f64, m: [f64; 3]) -> Svf {
        let a1 = 1.0 / (1.0 + g * (g + k));
        let a2 = g * a1;
        let a3 = g * a2;
        Svf {
            c1: (g * (g + k) * a1) as f32,
            a2: a2 as f32,
            a3: a3 as f32,
            m0: m[0] as f32,
            m1: m[1] as f32,
            m2: m[2] as f32,
        }
    }
}

impl Coeffs {
    fn normalised(b: [f64; 3], a: [f64; 3]) -> Coeffs {
        Coeffs {
            b0: b[0] / a[0],
            b1: b[1] / a[0],
            b2: b[2] / a[0],
            a1: a[1] / a[0],
            a2: a[2] / a[0],
        }
    }

    /// Frequency response H(e^{jω}) at `freq_hz` (f64).
    pub fn response(&self, freq_hz: f64, sample_rate: f64) -> Complex<f64> {
        let w = 2.0 * std::f64::consts::PI * freq_hz / sample_rate;
        let z1 = Complex::from_polar(1.0, -w);
        let z2 = z1 * z1;
        (self.b0 + z1 * self.b1 + z2 * self.b2) / (1.0 + z1 * self.a1 + z2 * self.a2)
    }
}

/// Q of section `k` (0-based) of an order-`order` Butterworth filter built from
/// 2nd-order sections: `1 / (2 cos((2k + 1) π / (2 order)))`.
pub fn butterworth_q(order: usize, k: usize) -> f64 {
    1.0 / (2.0 * ((2 * k + 1) as f64 * std::f64::consts::PI / (2 * order) as f64).cos())
}

/// RBJ cookbook biquad of one kind at `freq_hz`, `q`, `gain_db` (gain used by peak and
/// shelves only).
pub fn rbj(kind: BandKind, freq_hz: f64, q: f64, gain_db: f64, sample_rate: f64) -> Coeffs {
    let a = 10f64.powf(gain_db / 40.0);
    let w0 = 2.0 * std::f64::consts::PI * freq_hz / sample_rate;
    let (sin, cos) = w0.sin_cos();
    let alpha = sin / (2.0 * q);
    let sa = 2.0 * a.sqrt() * alpha;
    match kind {
        BandKind::Peak => Coeffs::normalised(
            [1.0 + alpha * a, -2.0 * cos, 1.0 - alpha * a],
            [1.0 + alpha / a, -2.0 * cos, 1.0 - alpha / a],
        ),
        BandKind::LowShelf => Coeffs::normalised(
            [
                a * ((a + 1.0) - (a - 1.0) * cos + sa),
                2.0 * a * ((a - 1.0) - (a + 1.0) * cos),
                a * ((a + 1.0) - (a - 1.0) * cos - sa),
            ],
            [
                (a + 1.0) + (a - 1.0) * cos + sa,
                -2.0 * ((a - 1.0) + (a + 1.0) * cos),
                (a + 1.0) + (a - 1.0) * cos - sa,
            ],
        ),
        BandKind::HighShelf => Coeffs::normalised(
            [
                a * ((a + 1.0) + (a - 1.0) * cos + sa),
                -2.0 * a * ((a - 1.0) + (a + 1.0) * cos),
                a * ((a + 1.0) + (a - 1.0) * cos - sa),
            ],
            [
                (a + 1.0) - (a - 1.0) * cos + sa,
                2.0 * ((a - 1.0) - (a + 1.0) * cos),
                (a + 1.0) - (a - 1.0) * cos - sa,
            ],
        ),
        BandKind::LowPass => Coeffs::normalised(
            [(1.0 - cos) / 2.0, 1.0 - cos, (1.0 - cos) / 2.0],
            [1.0 + alpha, -2.0 * cos, 1.0 - alpha],
        ),
        BandKind::HighPass => Coeffs::normalised(
            [(1.0 + cos) / 2.0, -(1.0 + cos), (1.0 + cos) / 2.0],
            [1.0 + alpha, -2.0 * cos, 1.0 - alpha],
        ),
        BandKind::Notch => Coeffs::normalised(
            [1.0, -2.0 * cos, 1.0],
            [1.0 + alpha, -2.0 * cos, 1.0 - alpha],
        ),
        BandKind::AllPass => Coeffs::normalised(
            [1.0 - alpha, -2.0 * cos, 1.0 + alpha],
            [1.0 + alpha, -2.0 * cos, 1.0 - alpha],
        ),
    }
}

/// The 2nd-order sections of one band (defaults applied; the band must be valid): pass
/// filters are Butterworth cascades of `slope / 12` sections (or one section with the
/// given `q` at 12 dB/oct), other kinds one section.
pub fn band_sections(band: &BandSpec) -> Vec<Section> {
    let section = |q: f64| Section {
        kind: band.kind,
        freq_hz: band.freq_hz,
        q,
        gain_db: band.gain_db,
    };
    match band.kind {
        BandKind::HighPass | BandKind::LowPass => {
            let order = band.slope() as usize / 6;
            match band.q {
                Some(q) if order == 2 => vec![section(q)],
                _ => (0..order / 2)
                    .map(|k| section(butterworth_q(order, k)))
                    .collect(),
            }
        }
        _ => vec![section(band.q())],
    }
}

/// Linear-phase FIR length at `sample_rate`: [`LINEAR_PHASE_TAPS_48K`] scaled with the
/// rate, rounded, made odd (so the latency (taps - 1) / 2 is a whole number of frames).
pub fn linear_phase_taps(sample_rate: f64) -> usize {
    ((LINEAR_PHASE_TAPS_48K as f64 * sample_rate / 48_000.0).round() as usize).max(1) | 1
}

/// Magnitude of the cascade `sections` at `freq_hz`: |Π H_s(e^{jω})| (f64).
pub fn cascade_magnitude(sections: &[Section], freq_hz: f64, sample_rate: f64) -> f64 {
    sections
        .iter()
        .map(|s| s.coeffs(sample_rate).response(freq_hz, sample_rate).norm())
        .product()
}

/// The linear-phase FIR with the magnitude of the cascade `sections`:
/// [`zero_phase_fir`] of |Π H_s|.
pub fn design_fir(sections: &[Section], sample_rate: f64) -> Vec<f64> {
    zero_phase_fir(|f| cascade_magnitude(sections, f, sample_rate), sample_rate)
}

/// A linear-phase FIR with the magnitude `magnitude(freq_hz)` (f64 taps, length
/// [`linear_phase_taps`], symmetric, latency (taps - 1) / 2):
/// 1. sample the magnitude on a dense grid of `nf / 2 + 1` bins, nf = next power of two
///    >= 4·taps, zero phase;
/// 2. inverse real FFT in f64 (÷ nf) → the zero-phase impulse response, centred on 0;
/// 3. keep lags −D .. D (D = (taps − 1) / 2), shifted by D, times a Blackman window
///    ([`window`], 1 at the centre tap); the taps are mirrored so the filter is exactly
///    symmetric.
pub fn zero_phase_fir(magnitude: impl Fn(f64) -> f64, sample_rate: f64) -> Vec<f64> {
    zero_phase_fir_with_taps(magnitude, sample_rate, linear_phase_taps(sample_rate))
}

/// [`zero_phase_fir`] with an explicit length: `taps` (made odd, at least 1) instead of
/// [`linear_phase_taps`]. Longer filters resolve finer low-frequency detail (the window
/// smooths the magnitude over a few `sample_rate / taps` Hz); used by the match EQ.
pub fn zero_phase_fir_with_taps(
    magnitude: impl Fn(f64) -> f64,
    sample_rate: f64,
    taps: usize,
) -> Vec<f64> {
    let taps = taps.max(1) | 1;
    let nf = (4 * taps).next_power_of_two();
    let mut spectrum: Vec<Complex<f64>> = (0..nf / 2 + 1)
        .map(|bin| Complex::new(magnitude(bin as f64 * sample_rate / nf as f64), 0.0))
        .collect();
    let mut h0 = vec![0.0f64; nf];
    let ifft = RealFftPlanner::<f64>::new().plan_fft_inverse(nf);
    // The spectrum is real: DC and Nyquist imaginary parts are zero, sizes match the plan.
    ifft.process(&mut spectrum, &mut h0)
        .expect("f64 inverse FFT input");
    let d = (taps - 1) / 2;
    let mut h = vec![0.0f64; taps];
    for lag in 0..=d {
        let v = h0[lag] / nf as f64 * window(d - lag, taps);
        h[d + lag] = v;
        h[d - lag] = v;
    }
    h
}

/// Window applied to the FIR taps: Blackman, `0.42 − 0.5 cos(2πn/(T−1)) + 0.08 cos(4πn/(T−1))`
/// for tap n of T (1 for T = 1).
pub fn window(n: usize, taps: usize) -> f64 {
    if taps <= 1 {
        return 1.0;
    }
    let x = 2.0 * std::f64::consts::PI * n as f64 / (taps - 1) as f64;
    0.42 - 0.5 * x.cos() + 0.08 * (2.0 * x).cos()
}
