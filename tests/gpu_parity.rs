//! GPU ⇄ CPU ⇄ f64-oracle parity for every GPU kernel, run on whatever adapter wgpu finds
//! (llvmpipe on CI). Without an adapter the tests print "skipped" unless
//! `MIXFARM_REQUIRE_GPU=1`, which makes them fail. Clips are short: llvmpipe is slow.

mod common;

use common::{gpu, max_abs_diff, noise, report};
use mixfarm::gpu::fft::Fft;
use mixfarm::gpu::list_adapters;

/// FFT error bound, in full-scale units after dividing the spectrum by n (forward) or the
/// round trip by n (inverse): an f32 radix-2 FFT of unit-scale data is off by about
/// eps·log2(n)·rms per bin, far below 2^-20 once divided by n. The inverse round trip starts
/// from the exact spectrum rounded to f32 and ends with a division by n, so it is allowed
/// `4 * FFT_TOL` (≈ 2^-20, the project's parity bound).
const FFT_TOL: f64 = 1.0 / (1u64 << 22) as f64;

#[test]
fn context_opens_and_lists_adapters() {
    let adapters = list_adapters();
    eprintln!(
        "adapters: {}",
        serde_json::to_string(&adapters).unwrap_or_default()
    );
    let Some(g) = gpu("context") else { return };
    eprintln!(
        "opened {} ({:?}), timestamps: {}, max binding {} bytes",
        g.name(),
        g.info.backend,
        g.timestamps,
        g.max_binding_bytes()
    );
    assert!(adapters.iter().any(|a| a.name == g.name()));
    let data: Vec<f32> = (0..1000).map(|i| i as f32 * 0.5).collect();
    let buf = g.upload("t", &data).expect("upload");
    let back: Vec<f32> = g.read(&buf, 0, data.len()).expect("read");
    assert_eq!(back, data);
}

/// Naive f64 DFT of a real signal: bins 0..=n/2.
fn dft(x: &[f32]) -> Vec<(f64, f64)> {
    let n = x.len();
    (0..=n / 2)
        .map(|k| {
            let (mut re, mut im) = (0.0, 0.0);
            for (j, v) in x.iter().enumerate() {
                let a = -2.0 * std::f64::consts::PI * ((k * j) % n) as f64 / n as f64;
                re += *v as f64 * a.cos();
                im += *v as f64 * a.sin();
            }
            (re, im)
        })
        .collect()
}

#[test]
fn fft_matches_f64_dft() {
    let Some(g) = gpu("fft_matches_f64_dft") else {
        return;
    };
    for (n, batch) in [(2048usize, 6usize), (1024, 3), (8192, 2)] {
        let fft = Fft::new(g, n).expect("fft pipelines");
        let frames: Vec<Vec<f32>> = (0..batch)
            .map(|t| noise(n as u64 + t as u64, n, 1.0))
            .collect();
        let spectra = fft.rfft(g, &frames).expect("rfft");
        let mut fwd_err = 0.0f64;
        let mut exact_f32 = Vec::new();
        for (x, s) in frames.iter().zip(&spectra) {
            let d = dft(x);
            for (a, b) in s.iter().zip(&d) {
                fwd_err = fwd_err
                    .max((a[0] as f64 - b.0).abs().max((a[1] as f64 - b.1).abs()) / n as f64);
            }
            exact_f32.push(
                d.iter()
                    .map(|(r, i)| [*r as f32, *i as f32])
                    .collect::<Vec<_>>(),
            );
        }
        let back = fft.irfft(g, &exact_f32).expect("irfft");
        let mut inv_err = 0.0f64;
        for (x, y) in frames.iter().zip(&back) {
            let y: Vec<f32> = y.iter().map(|v| v / n as f32).collect();
            inv_err = inv_err.max(max_abs_diff(x, &y));
        }
        report(&format!("fft n={n} forward vs f64 DFT (/n)"), fwd_err);
        report(
            &format!("fft n={n} inverse of exact spectrum vs x"),
            inv_err,
        );
        assert!(fwd_err < FFT_TOL, "forward error {fwd_err:e}");
        assert!(inv_err < FFT_TOL * 4.0, "inverse error {inv_err:e}");
    }
}
