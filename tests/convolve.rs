//! Convolution engine (ops::convolve) against naive f64 oracles: direct time-domain
//! convolution and a direct DFT for the kernel spectra.

use mixfarm::ops::convolve::{self, Kernel, BINS, BLOCK_FRAMES, FFT_SIZE};

/// -120 dB re full scale (the brief's bound). Inputs are uniform noise in [-1, 1) and IRs
/// are normalised to unit energy, so outputs have about the input's RMS (peaks ~2-3):
/// a stricter setting than a filter whose output is bounded by full scale.
const MAX_ERR_FS: f64 = 1e-6;

/// Kernel spectra are f64 results rounded to f32: half an ulp of f32 relative to the
/// largest bin, with margin for the f64 FFT vs direct DFT difference (~1e-15).
const KERNEL_REL_ERR: f64 = 1.0 / (1u64 << 24) as f64 * 1.01;

/// Deterministic uniform noise in [-1, 1).
fn noise(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect()
}

/// Decaying noise IR with unit energy.
fn test_ir(len: usize, seed: u64) -> Vec<f64> {
    let mut h = noise(len, seed);
    let tau = (len as f64 / 4.0).max(1.0);
    for (i, v) in h.iter_mut().enumerate() {
        *v *= (-(i as f64) / tau).exp();
    }
    let e: f64 = h.iter().map(|v| v * v).sum::<f64>().sqrt();
    h.iter_mut().for_each(|v| *v /= e);
    h
}

/// Oracle: direct convolution in f64, length M + L - 1 (empty for M = 0).
fn direct(x: &[f32], h: &[f64]) -> Vec<f64> {
    if x.is_empty() {
        return Vec::new();
    }
    let mut y = vec![0.0; x.len() + h.len() - 1];
    for (m, &xm) in x.iter().enumerate() {
        let xm = xm as f64;
        for (t, &ht) in h.iter().enumerate() {
            y[m + t] += xm * ht;
        }
    }
    y
}

fn max_err(got: &[f32], want: &[f64]) -> f64 {
    assert_eq!(got.len(), want.len(), "length");
    got.iter()
        .zip(want)
        .map(|(g, w)| (*g as f64 - w).abs())
        .fold(0.0, f64::max)
}

fn db(v: f64) -> f64 {
    20.0 * v.max(1e-300).log10()
}

fn check(ir_len: usize, x_len: usize, seed: u64) -> f64 {
    let h = test_ir(ir_len, seed);
    let x: Vec<f32> = noise(x_len, seed + 1000)
        .iter()
        .map(|&v| v as f32)
        .collect();
    let kernel = Kernel::new(&h);
    assert_eq!(kernel.len_frames, ir_len);
    assert_eq!(kernel.partitions, ir_len.div_ceil(BLOCK_FRAMES));
    assert_eq!(kernel.spectra.len(), kernel.partitions * BINS);
    let got = convolve::convolve(&x, &kernel);
    let want = direct(&x, &h);
    let err = max_err(&got, &want);
    eprintln!("IR {ir_len:>6} x {x_len:>6}: max err {:.1} dB FS", db(err));
    assert!(
        err <= MAX_ERR_FS,
        "IR {ir_len} input {x_len}: max error {err:e} > {MAX_ERR_FS:e}"
    );
    err
}

#[test]
fn matches_direct_convolution_awkward_lengths() {
    let b = BLOCK_FRAMES;
    let inputs = [0, 1, 2, b - 1, b, b + 1, 2 * b - 1, 2 * b + 17, 5003];
    let mut worst: f64 = 0.0;
    for (i, &ir_len) in [1, 2, b - 1, b, b + 1, 3000, 2 * b + 3].iter().enumerate() {
        for (j, &x_len) in inputs.iter().enumerate() {
            worst = worst.max(check(ir_len, x_len, (i * 100 + j) as u64 + 1));
        }
    }
    eprintln!("worst: {:.1} dB FS", db(worst));
}

#[test]
fn long_ir_on_short_input() {
    // 2.5 s at 48 kHz
    let ir_len = 120_000;
    for x_len in [1, BLOCK_FRAMES + 1, 3000] {
        check(ir_len, x_len, 77 + x_len as u64);
    }
}

#[test]
fn window_is_a_slice_of_the_full_convolution() {
    let h = test_ir(2500, 5);
    let x: Vec<f32> = noise(7000, 6).iter().map(|&v| v as f32).collect();
    let kernel = Kernel::new(&h);
    let full = convolve::convolve(&x, &kernel);
    for (offset, len) in [
        (0, 7000),
        (2499, 7000),
        (1, 1),
        (1023, 1026),
        (5000, 9000),
        (9498, 5),
        (20_000, 3),
        (3, 0),
    ] {
        let win = convolve::convolve_window(&x, &kernel, offset, len);
        assert_eq!(win.len(), len);
        for (i, v) in win.iter().enumerate() {
            let want = full.get(offset + i).copied().unwrap_or(0.0);
            // Same blocks, same arithmetic: bit-identical.
            assert_eq!(
                v.to_bits(),
                want.to_bits(),
                "offset {offset} len {len} frame {i}"
            );
        }
    }
}

#[test]
fn silence_stays_silent() {
    let kernel = Kernel::new(&test_ir(3000, 9));
    let y = convolve::convolve(&vec![0.0; 5000], &kernel);
    assert_eq!(y.len(), 5000 + 3000 - 1);
    assert!(y.iter().all(|v| *v == 0.0));
    let empty = Kernel::new(&[]);
    assert_eq!(empty.len_frames, 1);
    let y = convolve::convolve(&[1.0, -1.0], &empty);
    assert_eq!(y, vec![0.0, 0.0]);
}

#[test]
fn kernel_spectra_match_direct_dft() {
    let h = test_ir(1500, 11);
    let kernel = Kernel::new(&h);
    for p in 0..kernel.partitions {
        let part = &h[p * BLOCK_FRAMES..((p + 1) * BLOCK_FRAMES).min(h.len())];
        let spec = kernel.partition(p);
        let mut want = vec![(0.0f64, 0.0f64); BINS];
        for (bin, w) in want.iter_mut().enumerate() {
            for (t, &v) in part.iter().enumerate() {
                let ph =
                    -2.0 * std::f64::consts::PI * ((bin * t) % FFT_SIZE) as f64 / FFT_SIZE as f64;
                w.0 += v * ph.cos() / FFT_SIZE as f64;
                w.1 += v * ph.sin() / FFT_SIZE as f64;
            }
        }
        let peak = want
            .iter()
            .map(|w| w.0.abs().max(w.1.abs()))
            .fold(0.0, f64::max);
        let err = spec
            .iter()
            .zip(&want)
            .map(|(s, w)| (s[0] as f64 - w.0).abs().max((s[1] as f64 - w.1).abs()))
            .fold(0.0, f64::max);
        eprintln!(
            "partition {p}: max spectrum error {:.2e} (rel. to peak bin {:.2e})",
            err,
            err / peak
        );
        assert!(err <= KERNEL_REL_ERR * peak, "partition {p}: {err:e}");
        assert_eq!(spec[0][1], 0.0, "DC imaginary part");
        assert_eq!(spec[BINS - 1][1], 0.0, "Nyquist imaginary part");
    }
}

#[test]
fn result_does_not_depend_on_thread_count() {
    let kernel = Kernel::new(&test_ir(5000, 21));
    let x: Vec<f32> = noise(40_000, 22).iter().map(|&v| v as f32).collect();
    let many = convolve::convolve(&x, &kernel);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let one = pool.install(|| convolve::convolve(&x, &kernel));
    assert!(
        many.iter()
            .zip(&one)
            .all(|(a, b)| a.to_bits() == b.to_bits()),
        "thread count changed the result"
    );
}
