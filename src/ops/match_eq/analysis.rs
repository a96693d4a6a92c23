//! Long-term average spectrum of a song (host-side analysis, no GPU twin: it runs once per
//! song and reference). Each frame's FFT runs in f32 (the input's own precision; about half
//! the time of an f64 FFT), its bin powers and every sum after it in f64. Two channels share
//! one complex transform (`z = a + i·b`: `|Z_k|² + |Z_{N−k}|² = 2·(|A_k|² + |B_k|²)`, the
//! pair's summed power with no real-signal split).
//!
//! 1. Welch average: Hann frames (periodic, [`frame_frames`] long, hop half a frame),
//!    each frame's one-sided power spectrum in mean-square units (a sine of amplitude A
//!    gives A²/2 summed over its bins, white noise of variance σ² sums to σ²), channels
//!    summed as power, all frames weighted equally. A signal shorter than one frame is one
//!    zero-padded frame; the partial tail after the last whole frame is left out.
//! 2. Fractional-octave bands: centres on [`band_grid`], each band [`BAND_WIDTH_OCT`] wide
//!    (edges f·2^(±1/6)); a bin stands for the interval of width Δ = rate / N around its
//!    frequency and contributes its power times the fraction of that interval inside the
//!    band. Bands overlap (step [`GRID_STEP_OCT`] is half a band), which smooths the curve.
//!    Pink noise reads flat.
//! 3. Level: 10·log10(band power), at least [`SILENCE_FLOOR_DB`].

use rayon::prelude::*;
use rustfft::num_complex::Complex;
use rustfft::FftPlanner;

use super::Spectrum;

/// First centre of the analysis grid.
pub const GRID_START_HZ: f64 = 20.0;
/// Last centre of the analysis grid at most this (and at most [`GRID_TOP_FRACTION`] of the rate).
pub const GRID_TOP_HZ: f64 = 20_000.0;
/// The grid stops at this fraction of the sample rate (0.45: below the anti-aliasing roll-off).
pub const GRID_TOP_FRACTION: f64 = 0.45;
/// Spacing of the band centres in octaves (1/6: two centres per 1/3-octave band).
pub const GRID_STEP_OCT: f64 = 1.0 / 6.0;
/// Width of each analysis band in octaves (1/3-octave smoothing).
pub const BAND_WIDTH_OCT: f64 = 1.0 / 3.0;
/// Bin spacing the Welch frames must reach at least (frame length = next power of two of
/// rate / this): 1/3 octave at 20 Hz is 4.6 Hz wide, so it still holds about two bins.
pub const ANALYSIS_RESOLUTION_HZ: f64 = 3.0;
/// Floor of the band levels: silent bands (and wholly silent inputs) read this.
pub const SILENCE_FLOOR_DB: f64 = -200.0;
/// Frames summed per parallel task (partial sums are then added in order, so the result
/// does not depend on the thread count).
const FRAMES_PER_TASK: usize = 16;

/// Welch frame length at `sample_rate`: the next power of two of
/// `sample_rate / ANALYSIS_RESOLUTION_HZ` (16384 at 44.1 and 48 kHz), at least 16.
pub fn frame_frames(sample_rate: u32) -> usize {
    ((f64::from(sample_rate) / ANALYSIS_RESOLUTION_HZ).ceil() as usize)
        .next_power_of_two()
        .max(16)
}

/// Band centres at `sample_rate`: `GRID_START_HZ · 2^(k/6)` for k = 0, 1, … up to
/// `min(GRID_TOP_HZ, GRID_TOP_FRACTION · rate)` (60 centres at 44.1 and 48 kHz).
pub fn band_grid(sample_rate: u32) -> Vec<f64> {
    let top = GRID_TOP_HZ.min(GRID_TOP_FRACTION * f64::from(sample_rate));
    (0..)
        .map(|k| GRID_START_HZ * 2f64.powf(k as f64 * GRID_STEP_OCT))
        .take_while(|f| *f <= top * (1.0 + 1e-12))
        .collect()
}

/// Periodic Hann window of `n` points: `0.5 − 0.5·cos(2πi/n)`.
pub fn hann(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos())
        .collect()
}

/// Welch power spectrum of `x` (planar, any channel count) with frames of `n` points (even):
/// one-sided mean-square power per bin (`n / 2 + 1` bins), channels summed, frames
/// averaged (see the module header). Non-finite samples count as 0. No input frames →
/// all zeros. The window and each frame's FFT are f32 (a bin's error is f32 rounding of
/// the frame's whole energy, ≈ 1e-7 of it); the powers are summed in f64.
pub fn welch_power(x: &[Vec<f32>], n: usize) -> Vec<f64> {
    let bins = n / 2 + 1;
    let len = x.iter().map(Vec::len).max().unwrap_or(0);
    if len == 0 || n < 2 {
        return vec![0.0; bins];
    }
    let hop = n / 2;
    let starts: Vec<usize> = if len <= n {
        vec![0]
    } else {
        (0..=(len - n) / hop).map(|i| i * hop).collect()
    };
    let window: Vec<f32> = hann(n).iter().map(|&w| w as f32).collect();
    let fft = FftPlanner::<f32>::new().plan_fft_forward(n);
    let partial: Vec<Vec<f64>> = starts
        .par_chunks(FRAMES_PER_TASK)
        .map(|chunk| {
            let mut z = vec![Complex::new(0.0f32, 0.0); n];
            let mut scratch = vec![Complex::new(0.0f32, 0.0); fft.get_inplace_scratch_len()];
            let mut acc = vec![0.0f64; bins];
            for &start in chunk {
                // channels two by two: a in the real parts, b (or silence) in the imaginary
                for pair in x.chunks(2) {
                    let seg = |i: usize| {
                        pair.get(i).map(|ch| {
                            let avail = ch.len().saturating_sub(start).min(n);
                            &ch[start.min(ch.len())..][..avail]
                        })
                    };
                    frame_pair(&mut z, seg(0).unwrap_or(&[]), seg(1), &window);
                    fft.process_with_scratch(&mut z, &mut scratch);
                    pair_power(&z, &mut acc);
                }
            }
            acc
        })
        .collect();
    let mut power = vec![0.0f64; bins];
    for p in &partial {
        for (a, v) in power.iter_mut().zip(p) {
            *a += v;
        }
    }
    let window_energy: f64 = window.iter().map(|&w| f64::from(w) * f64::from(w)).sum();
    let scale = 1.0 / (n as f64 * window_energy * starts.len() as f64);
    for (k, p) in power.iter_mut().enumerate() {
        let one_sided = if k == 0 || 2 * k == n { 1.0 } else { 2.0 };
        *p *= one_sided * scale;
    }
    power
}

/// Frames a channel pair for one transform: `z[i] = a[i]·w[i] + i·b[i]·w[i]` (non-finite
/// samples as 0, silence after a segment's end, `b` silent when `None`); compiled for AVX2
/// where the CPU has it (the same products).
fn frame_pair(z: &mut [Complex<f32>], a: &[f32], b: Option<&[f32]>, window: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2
        return unsafe { frame_pair_avx2(z, a, b, window) };
    }
    frame_pair_in(z, a, b, window)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn frame_pair_avx2(z: &mut [Complex<f32>], a: &[f32], b: Option<&[f32]>, w: &[f32]) {
    frame_pair_in(z, a, b, w)
}

#[inline(always)]
fn frame_pair_in(z: &mut [Complex<f32>], a: &[f32], b: Option<&[f32]>, window: &[f32]) {
    // every sample checked (no early exit: the check vectorises)
    let finite = |s: &[f32]| !s.iter().fold(false, |bad, v| bad | !v.is_finite());
    match b {
        Some(b) if b.len() == a.len() && finite(a) && finite(b) => {
            let (head, tail) = z.split_at_mut(a.len());
            for (((t, &x), &y), &w) in head.iter_mut().zip(a).zip(b).zip(window) {
                *t = Complex::new(x * w, y * w);
            }
            tail.fill(Complex::new(0.0, 0.0));
        }
        _ => {
            let clean = |s: &[f32], i: usize| match s.get(i) {
                Some(&v) if v.is_finite() => v * window[i],
                _ => 0.0,
            };
            let b = b.unwrap_or(&[]);
            for (i, t) in z.iter_mut().enumerate() {
                *t = Complex::new(clean(a, i), clean(b, i));
            }
        }
    }
}

/// Adds the summed power of the two channels whose transform is `z` (`n` points) to
/// `acc[k]`, `k = 0 ..= n/2`: `(|Z_k|² + |Z_{n−k}|²) / 2`, in f64 (compiled for AVX2 where
/// the CPU has it; the same values).
fn pair_power(z: &[Complex<f32>], acc: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2
        return unsafe { pair_power_avx2(z, acc) };
    }
    pair_power_in(z, acc)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn pair_power_avx2(z: &[Complex<f32>], acc: &mut [f64]) {
    pair_power_in(z, acc)
}

#[inline(always)]
fn pair_power_in(z: &[Complex<f32>], acc: &mut [f64]) {
    let n = z.len();
    let sq = |c: &Complex<f32>| {
        let (re, im) = (f64::from(c.re), f64::from(c.im));
        re * re + im * im
    };
    // k = 0 and k = n/2 are their own mirror
    acc[0] += sq(&z[0]);
    acc[n / 2] += sq(&z[n / 2]);
    let (lo, hi) = (&z[1..n / 2], &z[n / 2 + 1..]);
    for ((a, p), q) in acc[1..n / 2].iter_mut().zip(lo).zip(hi.iter().rev()) {
        *a += 0.5 * (sq(p) + sq(q));
    }
}

/// Power in the band `[lo_hz, hi_hz]` of a one-sided bin power spectrum with bin spacing
/// `bin_hz`: each bin k stands for `[(k − ½)Δ, (k + ½)Δ]` and contributes the fraction of
/// that interval inside the band.
pub fn band_power(power: &[f64], bin_hz: f64, lo_hz: f64, hi_hz: f64) -> f64 {
    if power.is_empty() || hi_hz <= lo_hz {
        return 0.0;
    }
    let first = ((lo_hz / bin_hz + 0.5).floor().max(0.0) as usize).min(power.len() - 1);
    let last = ((hi_hz / bin_hz + 0.5).floor().max(0.0) as usize).min(power.len() - 1);
    (first..=last)
        .map(|k| {
            let a = (k as f64 - 0.5) * bin_hz;
            let b = (k as f64 + 0.5) * bin_hz;
            let overlap = (hi_hz.min(b) - lo_hz.max(a)).max(0.0);
            power[k] * overlap / bin_hz
        })
        .sum()
}

/// The long-term average spectrum (see the module header). A silent input (all zeros, or
/// no frames) gives a flat spectrum at [`SILENCE_FLOOR_DB`] ([`Spectrum::is_silent`]),
/// not an error: [`super::match_curve`] turns it into a flat curve.
pub fn long_term_spectrum(x: &[Vec<f32>], sample_rate: u32) -> Spectrum {
    let n = frame_frames(sample_rate);
    let power = welch_power(x, n);
    let bin_hz = f64::from(sample_rate) / n as f64;
    let half = 2f64.powf(BAND_WIDTH_OCT / 2.0);
    let band_hz = band_grid(sample_rate);
    let level_db = band_hz
        .iter()
        .map(|&f| {
            let p = band_power(&power, bin_hz, f / half, f * half);
            if p > 0.0 {
                (10.0 * p.log10()).max(SILENCE_FLOOR_DB)
            } else {
                SILENCE_FLOOR_DB
            }
        })
        .collect();
    Spectrum { band_hz, level_db }
}
