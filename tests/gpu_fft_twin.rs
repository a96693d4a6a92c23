//! The CPU twin of `shaders/fft.wgsl` (`ops::convolve::fft`) against the shader itself, bit
//! for bit on llvmpipe (which does not fuse `a*b+c`), and against a naive f64 DFT. On other
//! adapters (a GPU may contract to FMA) the bound is a few ulps of the spectrum's scale.
//! Skips without an adapter unless `MIXFARM_REQUIRE_GPU=1`.

mod gpu_common;

use gpu_common::{gpu, noise, report};
use mixfarm::gpu::fft::Fft;
use mixfarm::ops::convolve::fft::{RealFft, LANES};

/// Off llvmpipe: allowed |gpu − cpu| in units of 2^-24 · max|value| per transform. FMA
/// contraction changes one rounding per butterfly, the errors stay eps·log2(n)-sized; 64
/// "ulps of the peak" is far above that and far below any real divergence.
const HW_ULPS: f64 = 64.0;

/// Twin vs f64 DFT, divided by n (full-scale units), same bound as the GPU FFT's own test.
const DFT_TOL: f64 = 1.0 / (1u64 << 22) as f64;

fn is_llvmpipe(g: &mixfarm::gpu::Gpu) -> bool {
    g.name().to_lowercase().contains("llvmpipe")
}

/// Largest |a − b| in units of the largest |a|·2^-24 (0 when bit-identical).
fn ulps_of_peak(a: &[f32], b: &[f32]) -> f64 {
    let peak = a.iter().fold(0.0f64, |m, v| m.max(f64::from(v.abs())));
    let d = a.iter().zip(b).fold(0.0f64, |m, (x, y)| {
        m.max((f64::from(*x) - f64::from(*y)).abs())
    });
    if d == 0.0 {
        0.0
    } else {
        d / (peak / (1u64 << 24) as f64)
    }
}

fn flat(s: &[Vec<[f32; 2]>]) -> Vec<f32> {
    s.iter().flatten().flatten().copied().collect()
}

/// Naive f64 DFT of a real signal: bins 0..=n/2.
fn dft(x: &[f32]) -> Vec<(f64, f64)> {
    let n = x.len();
    (0..=n / 2)
        .map(|k| {
            let (mut re, mut im) = (0.0, 0.0);
            for (j, v) in x.iter().enumerate() {
                let a = -2.0 * std::f64::consts::PI * ((k * j) % n) as f64 / n as f64;
                re += f64::from(*v) * a.cos();
                im += f64::from(*v) * a.sin();
            }
            (re, im)
        })
        .collect()
}

#[test]
fn cpu_twin_fft_equals_gpu_fft() {
    let Some(g) = gpu("fft twin") else { return };
    let exact = is_llvmpipe(g);
    eprintln!(
        "adapter {}: {}",
        g.name(),
        if exact {
            "llvmpipe, asserting bit-identical"
        } else {
            "not llvmpipe, asserting a few ulps"
        }
    );
    // more frames than LANES (several CPU batches, one partial), loud and quiet frames
    for (n, batch) in [(2048usize, LANES + 3), (1024, 5), (4096, 3), (8192, 2)] {
        let twin = RealFft::new(n).expect("plan");
        let fft = Fft::new(g, n).expect("fft pipelines");
        let frames: Vec<Vec<f32>> = (0..batch)
            .map(|t| noise(7 * n as u64 + t as u64, n, 1.0 / (1 + t % 4) as f32))
            .collect();
        // forward, batched on the CPU as the engine does
        let gpu_spec = fft.rfft(g, &frames).expect("gpu rfft");
        let mut cpu_spec = vec![[0.0f32; 2]; batch * twin.bins()];
        let mut scratch = twin.make_scratch();
        let time: Vec<f32> = frames.concat();
        for (t, s) in time
            .chunks(n * LANES)
            .zip(cpu_spec.chunks_mut(twin.bins() * LANES))
        {
            twin.forward(t, s, &mut scratch);
        }
        let fwd = ulps_of_peak(&flat(&gpu_spec), &flat(&[cpu_spec.clone()]));
        let mut dft_err = 0.0f64;
        for (t, x) in frames.iter().take(2).enumerate() {
            for (a, b) in cpu_spec[t * twin.bins()..].iter().zip(dft(x)) {
                let e = (f64::from(a[0]) - b.0)
                    .abs()
                    .max((f64::from(a[1]) - b.1).abs());
                dft_err = dft_err.max(e / n as f64);
            }
        }
        // inverse of the GPU's spectra (each side from the same input bits)
        let gpu_time = fft.irfft(g, &gpu_spec).expect("gpu irfft");
        let gpu_in: Vec<[f32; 2]> = gpu_spec.concat();
        let mut cpu_time = vec![0.0f32; batch * n];
        for (s, t) in gpu_in
            .chunks(twin.bins() * LANES)
            .zip(cpu_time.chunks_mut(n * LANES))
        {
            twin.inverse(s, t, &mut scratch);
        }
        let inv = ulps_of_peak(&gpu_time.concat(), &cpu_time);
        eprintln!(
            "fft n={n} x{batch}: forward |gpu - cpu twin| = {fwd} ulps of peak, \
             inverse = {inv} ulps of peak"
        );
        report(&format!("fft twin n={n} forward vs f64 DFT (/n)"), dft_err);
        assert!(dft_err < DFT_TOL, "twin vs DFT {dft_err:e}");
        if exact {
            assert_eq!(fwd, 0.0, "n={n}: forward twin differs from the shader");
            assert_eq!(inv, 0.0, "n={n}: inverse twin differs from the shader");
        } else {
            assert!(
                fwd <= HW_ULPS && inv <= HW_ULPS,
                "n={n}: {fwd} / {inv} ulps"
            );
        }
    }
}

#[test]
fn twin_single_frame_helpers_round_trip() {
    // no GPU needed: irfft(rfft(x)) / n == x within the FFT's rounding
    for n in [8usize, 64, 2048] {
        let twin = RealFft::new(n).expect("plan");
        let x = noise(n as u64, n, 1.0);
        let y = twin.irfft(&twin.rfft(&x));
        let e = x.iter().zip(&y).fold(0.0f64, |m, (a, b)| {
            m.max((f64::from(*a) - f64::from(*b) / n as f64).abs())
        });
        report(&format!("fft twin n={n} round trip"), e);
        assert!(e < DFT_TOL * 4.0, "round trip {e:e}");
    }
    assert!(RealFft::new(3000).is_err() && RealFft::new(4).is_err());
}
