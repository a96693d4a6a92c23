//! Delivery sample-rate conversion: a polyphase windowed-sinc FIR at the exact rational
//! ratio, one algorithm with two twins: [`cpu`] (the shipped CPU path, rayon over pieces of
//! the output) and `shaders/resample.wgsl` ([`gpu`]: a master kept on the GPU converted
//! there, [`crate::gpu::Resident`]). Both follow this specification exactly:
//!
//! - the ratio `to / from` in lowest terms is `up / down`; output frame `j` (of
//!   `round(n · to / from)`) sits at input position `j · down / up`: integer part
//!   `n_j = ⌊j·down/up⌋`, phase `φ_j = (j·down) mod up` (computed as `j = q·up + r`,
//!   `n_j = q·down + ⌊r·down/up⌋`, `φ_j = (r·down) mod up`, so no product passes 32 bits);
//! - the filter ([`Filter`]): `taps` (a multiple of [`LANES`]) coefficients per phase, tap
//!   `k` of phase `φ` weighing input frame `n_j − taps/2 + 1 + k` (zeros outside the
//!   signal); designed on the host in f64 as a Kaiser-windowed sinc (β from
//!   [`STOPBAND_DB`], cutoff halfway between the passband edge [`PASSBAND`] × the lower rate
//!   and the lower Nyquist frequency, length from the transition width), each phase scaled
//!   to sum to 1, rounded to f32, phase-major;
//! - `y_j`: [`LANES`] partial sums in f32, sum `l` taking taps `k ≡ l (mod LANES)` in
//!   increasing `k`, each step `s = c·x + s` (two roundings, [`crate::core::arith::madd`]),
//!   then added as `((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7))`.
//!
//! Measured by `tests/delivery_rate.rs` (sines through the converter against their exact
//! values) and `tests/resample.rs` (the f64 oracle, the kernel against its twin).

pub mod cpu;
pub mod gpu;

use crate::ops::oversample::{bessel_i0, sinc};

/// Partial sums per output frame (the taps are padded with zeros to a multiple of it).
pub const LANES: usize = 8;
/// Passband edge as a fraction of the lower of the two rates (20.0 kHz at 44.1 kHz).
pub const PASSBAND: f64 = 0.4535;
/// Stopband attenuation the Kaiser window is designed for, dB (from the lower Nyquist
/// frequency on).
pub const STOPBAND_DB: f64 = 140.0;
/// Most filter phases (`up`): rate pairs whose ratio needs more are refused.
pub const MAX_PHASES: usize = 4096;

/// The converter of one rate pair (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// interpolation factor `up = to / gcd`
    pub up: usize,
    /// decimation factor `down = from / gcd`
    pub down: usize,
    /// coefficients per phase (a multiple of [`LANES`])
    pub taps: usize,
    /// `up × taps` coefficients, phase-major
    pub coef: Vec<f32>,
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl Filter {
    /// The converter from `from_hz` to `to_hz`; `Err` (a sentence) for a zero rate or a
    /// ratio that needs more than [`MAX_PHASES`] phases.
    pub fn new(from_hz: u32, to_hz: u32) -> Result<Filter, String> {
        if from_hz == 0 || to_hz == 0 {
            return Err("a sample rate of 0 Hz".into());
        }
        let g = gcd(u64::from(from_hz), u64::from(to_hz));
        let (up, down) = (
            (u64::from(to_hz) / g) as usize,
            (u64::from(from_hz) / g) as usize,
        );
        if up > MAX_PHASES {
            return Err(format!(
                "{from_hz} Hz to {to_hz} Hz needs {up} filter phases (at most {MAX_PHASES}): \
                 choose a delivery rate closer in ratio to the source's"
            ));
        }
        if (up as u64) * (down as u64) > u64::from(u32::MAX) {
            return Err(format!(
                "{from_hz} Hz to {to_hz} Hz: the ratio {up}/{down} is too fine for the converter"
            ));
        }
        let (from, low) = (f64::from(from_hz), f64::from(from_hz.min(to_hz)));
        let (pass, stop) = (PASSBAND * low, 0.5 * low);
        // cutoff and transition as fractions of the input rate
        let fc = 0.5 * (pass + stop) / from;
        let dw = 2.0 * std::f64::consts::PI * (stop - pass) / from;
        let beta = 0.1102 * (STOPBAND_DB - 8.7);
        let len = ((STOPBAND_DB - 7.95) / (2.285 * dw)).ceil() as usize + 1;
        let taps = len.next_multiple_of(2 * LANES);
        let half = (taps / 2) as f64;
        let i0b = bessel_i0(beta);
        let mut coef = Vec::with_capacity(up * taps);
        for phi in 0..up {
            let frac = phi as f64 / up as f64;
            let h: Vec<f64> = (0..taps)
                .map(|k| {
                    // distance of input frame n − taps/2 + 1 + k from the output position
                    let t = (k as f64 + 1.0 - half) - frac;
                    let u = t / half;
                    if u.abs() >= 1.0 {
                        return 0.0;
                    }
                    2.0 * fc * sinc(2.0 * fc * t) * bessel_i0(beta * (1.0 - u * u).sqrt()) / i0b
                })
                .collect();
            let sum: f64 = h.iter().sum();
            coef.extend(h.iter().map(|v| (v / sum) as f32));
        }
        Ok(Filter {
            up,
            down,
            taps,
            coef,
        })
    }

    /// Input frame `n_j` and phase `φ_j` of output frame `j`.
    pub fn position(&self, j: usize) -> (usize, usize) {
        let (q, r) = (j / self.up, j % self.up);
        (
            q * self.down + r * self.down / self.up,
            r * self.down % self.up,
        )
    }

    /// The coefficients of phase `phi`.
    pub fn phase(&self, phi: usize) -> &[f32] {
        &self.coef[phi * self.taps..][..self.taps]
    }
}

/// Output frames for `frames` input frames: `round(frames · to / from)`.
pub fn output_frames(frames: usize, from_hz: u32, to_hz: u32) -> usize {
    crate::audio::resample::output_frames(frames as u64, from_hz, to_hz) as usize
}
