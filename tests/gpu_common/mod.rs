//! Shared helpers for the GPU tests: one device per test binary, a seeded noise source,
//! error figures in dBFS and 24-bit LSBs.
#![allow(dead_code)]

use std::sync::OnceLock;

use mixfarm::gpu::Gpu;

/// The test binary's GPU (opened once), or `None` after printing "skipped".
pub fn gpu(test: &str) -> Option<&'static Gpu> {
    static GPU: OnceLock<Option<Gpu>> = OnceLock::new();
    let g = GPU.get_or_init(|| Gpu::for_tests("gpu tests")).as_ref();
    if g.is_none() {
        eprintln!("{test}: skipped: no GPU adapter");
    }
    g
}

/// Deterministic uniform noise in [-amp, amp) (xorshift64*).
pub fn noise(seed: u64, len: usize, amp: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            let u = (s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f32 / (1u64 << 24) as f32;
            (2.0 * u - 1.0) * amp
        })
        .collect()
}

/// An exponential sine sweep 20 Hz → 20 kHz over `len` frames at `rate`, amplitude 0.9,
/// starting at `phase` radians.
pub fn sweep(len: usize, rate: u32, phase: f64) -> Vec<f32> {
    let (f0, f1, t) = (20.0f64, 20_000.0f64, len as f64 / rate as f64);
    let k = (f1 / f0).ln();
    (0..len)
        .map(|i| {
            let s = i as f64 / rate as f64;
            let ph = 2.0 * std::f64::consts::PI * f0 * t / k * ((s / t * k).exp() - 1.0);
            (0.9 * (ph + phase).sin()) as f32
        })
        .collect()
}

/// `max |a - b|` over the common length.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 - *y as f64).abs())
        .fold(0.0, f64::max)
}

/// Prints an error figure in full-scale units, dBFS and 24-bit LSBs.
pub fn report(what: &str, err: f64) {
    let lsb24 = err * (1u64 << 23) as f64;
    eprintln!(
        "{what}: max error {err:.3e} FS = {:.1} dBFS = {lsb24:.4} LSB(24-bit)",
        20.0 * err.max(1e-300).log10()
    );
}
