//! Spectrum oracles and test signals for tests/match_eq.rs: a naive Welch average with a
//! direct DFT in f64, a direct DTFT, and deterministic tonal / shaped-noise signals.

use std::f64::consts::PI;

use realfft::num_complex::Complex;
use realfft::RealFftPlanner;

/// Power ratio in dB.
pub fn db(p: f64) -> f64 {
    10.0 * p.log10()
}

/// Deterministic uniform noise in −0.5 .. 0.5 (the shared xorshift noise, halved).
pub fn noise(n: usize, seed: u64) -> Vec<f64> {
    super::noise(n, seed).iter().map(|v| v * 0.5).collect()
}

/// Naive Welch oracle: periodic Hann frames of `n`, hop n/2 (one zero-padded frame when
/// shorter than n), direct DFT in f64, one-sided mean-square power per bin, channels
/// summed, frames averaged; then 1/3-octave bands (edges f·2^(±1/6)) with each bin standing
/// for [(k−½)Δ, (k+½)Δ] and counted by the fraction inside the band.
pub fn oracle_spectrum(x: &[Vec<f32>], rate: f64, n: usize, centres: &[f64]) -> Vec<f64> {
    let len = x[0].len();
    let starts: Vec<usize> = if len <= n {
        vec![0]
    } else {
        (0..=(len - n) / (n / 2)).map(|i| i * n / 2).collect()
    };
    let w: Vec<f64> = (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * PI * i as f64 / n as f64).cos())
        .collect();
    let (cos, sin): (Vec<f64>, Vec<f64>) = (0..n)
        .map(|i| {
            let a = 2.0 * PI * i as f64 / n as f64;
            (a.cos(), a.sin())
        })
        .unzip();
    let mut p = vec![0.0f64; n / 2 + 1];
    for &s in &starts {
        for ch in x {
            let frame: Vec<f64> = (0..n)
                .map(|i| ch.get(s + i).map_or(0.0, |v| f64::from(*v)) * w[i])
                .collect();
            for (k, pk) in p.iter_mut().enumerate() {
                let (mut re, mut im) = (0.0, 0.0);
                for (i, v) in frame.iter().enumerate() {
                    let idx = (k * i) % n;
                    re += v * cos[idx];
                    im -= v * sin[idx];
                }
                *pk += re * re + im * im;
            }
        }
    }
    let e: f64 = w.iter().map(|v| v * v).sum();
    for (k, pk) in p.iter_mut().enumerate() {
        let c = if k == 0 || k == n / 2 { 1.0 } else { 2.0 };
        *pk *= c / (n as f64 * e * starts.len() as f64);
    }
    let d = rate / n as f64;
    centres
        .iter()
        .map(|&f| {
            let (lo, hi) = (f * 2f64.powf(-1.0 / 6.0), f * 2f64.powf(1.0 / 6.0));
            let total: f64 = (0..p.len())
                .map(|k| {
                    let (a, b) = ((k as f64 - 0.5) * d, (k as f64 + 0.5) * d);
                    p[k] * (hi.min(b) - lo.max(a)).max(0.0) / d
                })
                .sum();
            db(total)
        })
        .collect()
}

/// A stereo test signal: a few tones plus noise, different per channel.
pub fn tones_and_noise(frames: usize, rate: f64) -> Vec<Vec<f32>> {
    (0..2)
        .map(|c| {
            let nz = noise(frames, 7 + c as u64);
            (0..frames)
                .map(|i| {
                    let t = i as f64 / rate;
                    (0.3 * (2.0 * PI * (110.0 + 20.0 * c as f64) * t).sin()
                        + 0.1 * (2.0 * PI * 1234.5 * t).sin()
                        + 0.05 * nz[i]) as f32
                })
                .collect()
        })
        .collect()
}

/// Magnitude in dB of the taps `h` at `f` (f64 DTFT).
pub fn dtft_db(h: &[f64], f: f64, rate: f64) -> f64 {
    let w = 2.0 * PI * f / rate;
    let (mut re, mut im) = (0.0, 0.0);
    for (n, v) in h.iter().enumerate() {
        let (s, c) = (w * n as f64).sin_cos();
        re += v * c;
        im -= v * s;
    }
    10.0 * (re * re + im * im).log10()
}

/// A stereo noise at `rate` whose 1/3-octave spectrum is `shape_db(f)` (pink otherwise):
/// random phases, magnitude ∝ f^(−1/2)·10^(shape/20) above 10 Hz, inverse FFT, RMS 0.1.
pub fn shaped_noise_at(
    frames: usize,
    rate: u32,
    seed: u64,
    shape_db: impl Fn(f64) -> f64,
) -> Vec<Vec<f32>> {
    let ifft = RealFftPlanner::<f64>::new().plan_fft_inverse(frames);
    (0..2)
        .map(|c| {
            let phases = noise(frames / 2 + 1, seed * 10 + c);
            let mut spec: Vec<Complex<f64>> = phases
                .iter()
                .enumerate()
                .map(|(k, p)| {
                    let f = k as f64 * f64::from(rate) / frames as f64;
                    if f < 10.0 || k == frames / 2 {
                        Complex::new(0.0, 0.0)
                    } else {
                        Complex::from_polar(10f64.powf(shape_db(f) / 20.0) / f.sqrt(), 2.0 * PI * p)
                    }
                })
                .collect();
            let mut out = vec![0.0f64; frames];
            ifft.process(&mut spec, &mut out).expect("ifft sizes");
            let rms = (out.iter().map(|v| v * v).sum::<f64>() / frames as f64).sqrt();
            out.iter().map(|v| (0.1 * v / rms) as f32).collect()
        })
        .collect()
}

/// RMS over the band centres in 50 Hz .. 15 kHz of the dB difference between two spectra
/// (same grid), its mean removed: the shape distance (overall level is the loudness
/// stage's business).
pub fn shape_distance_db(band_hz: &[f64], a_db: &[f64], b_db: &[f64]) -> f64 {
    let d: Vec<f64> = band_hz
        .iter()
        .zip(a_db.iter().zip(b_db))
        .filter(|(f, _)| (50.0..=15_000.0).contains(*f))
        .map(|(_, (x, y))| x - y)
        .collect();
    let mean = d.iter().sum::<f64>() / d.len() as f64;
    (d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / d.len() as f64).sqrt()
}
