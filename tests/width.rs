//! Stereo width / bass mono (ops::width) against an f64 mid/side oracle and analytic
//! Linkwitz-Riley magnitudes; phase correlation against known values.

use std::f64::consts::PI;

use mixfarm::ops::width::{self, correlation, WidthSpec};
use mixfarm::ops::{InsertSpec, PrepareCtx, Processor};

/// Plain mid/side arithmetic in f32 vs f64: a few roundings of unit-scale values.
const MS_TOL: f64 = 1e-6;
/// Bass-mono filter magnitudes vs the analytic curves (pass band), as for the EQ.
const FILTER_TOL_DB: f64 = 0.01;
/// Correlation of signals whose true correlation is 0 (finite noise): a few / √N.
const NOISE_CORR_TOL: f64 = 0.05;

const RATE: u32 = 48_000;

fn prepare(width: f64, bass_mono_hz: Option<f64>) -> Processor {
    let load = |p: &std::path::Path, _: u32| -> Result<Vec<Vec<f32>>, mixfarm::Error> {
        Err(mixfarm::Error::input(p, "no files in this test"))
    };
    let ctx = PrepareCtx {
        sample_rate: RATE,
        scene_dir: std::path::Path::new("."),
        tempo_bpm: None,
        load_audio: &load,
    };
    InsertSpec::Width(WidthSpec {
        width,
        bass_mono_hz,
    })
    .prepare(&ctx)
    .expect("valid")
}

fn noise(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 11) as f64 / (1u64 << 52) as f64 - 1.0) as f32 * 0.7
        })
        .collect()
}

#[test]
fn mid_side_width_matches_oracle() {
    for w in [0.0, 0.5, 1.7, 2.0] {
        let p = prepare(w, None);
        let (l, r) = (noise(5000, 1), noise(5000, 2));
        let mut x = vec![l.clone(), r.clone()];
        p.process_cpu(&mut x, RATE, None);
        let mut err = 0.0f64;
        for i in 0..l.len() {
            let (a, b) = (f64::from(l[i]), f64::from(r[i]));
            let (m, s) = ((a + b) / 2.0, (a - b) / 2.0 * w);
            err = err
                .max((f64::from(x[0][i]) - (m + s)).abs())
                .max((f64::from(x[1][i]) - (m - s)).abs());
        }
        eprintln!(
            "width {w}: max err {err:e}, correlation {:.4}",
            correlation(&x[0], &x[1])
        );
        assert!(err <= MS_TOL, "width {w}: {err:e}");
        if w == 0.0 {
            assert_eq!(x[0], x[1], "width 0 is mono");
        }
    }
    let p = prepare(1.0, None);
    let mut x = vec![noise(100, 3), noise(100, 4)];
    let before = x.clone();
    p.process_cpu(&mut x, RATE, None);
    assert_eq!(x, before, "width 1 leaves the signal bit-exact");
}

fn dtft(h: &[f32], f: f64) -> f64 {
    let w = 2.0 * PI * f / f64::from(RATE);
    let (mut re, mut im) = (0.0, 0.0);
    for (n, &v) in h.iter().enumerate() {
        let (s, c) = (w * n as f64).sin_cos();
        re += f64::from(v) * c;
        im -= f64::from(v) * s;
    }
    re.hypot(im)
}

#[test]
fn bass_mono_removes_side_below_the_frequency() {
    let (fc, w) = (120.0, 1.2);
    let p = prepare(w, Some(fc));
    let n = 1 << 15;
    // pure side impulse (L = δ, R = −δ): the output side is the side high-pass × width
    let mut side = vec![vec![0.0f32; n], vec![0.0f32; n]];
    side[0][0] = 1.0;
    side[1][0] = -1.0;
    p.process_cpu(&mut side, RATE, None);
    let s_out: Vec<f32> = side[0]
        .iter()
        .zip(&side[1])
        .map(|(l, r)| (l - r) * 0.5)
        .collect();
    let m_leak: f32 = side[0]
        .iter()
        .zip(&side[1])
        .map(|(l, r)| ((l + r) * 0.5).abs())
        .fold(0.0, f32::max);
    assert!(m_leak == 0.0, "side leaked into mid: {m_leak}");
    // pure mid impulse: the output mid is the all-pass (flat), no side
    let mut mid = vec![vec![0.0f32; n], vec![0.0f32; n]];
    mid[0][0] = 1.0;
    mid[1][0] = 1.0;
    p.process_cpu(&mut mid, RATE, None);
    assert_eq!(mid[0], mid[1], "mid stays mono");
    let mut worst = 0.0f64;
    for k in 0..40 {
        let f = 20.0 * 1000f64.powf(k as f64 / 39.0);
        let omega = (PI * f / f64::from(RATE)).tan() / (PI * fc / f64::from(RATE)).tan();
        let want = omega.powi(4) / (1.0 + omega.powi(4)) * w; // LR4 high-pass × width
        let got = dtft(&s_out, f);
        if 20.0 * want.log10() >= -40.0 {
            let e = (20.0 * (got / want).log10()).abs();
            worst = worst.max(e);
            assert!(e <= FILTER_TOL_DB, "side at {f:.1} Hz: {e:.4} dB");
        } else {
            assert!(
                (got - want).abs() <= 1e-4,
                "side at {f:.1} Hz: {got:e} vs {want:e}"
            );
        }
        let e = (20.0 * dtft(&mid[0], f).log10()).abs();
        assert!(e <= FILTER_TOL_DB, "mid at {f:.1} Hz: {e:.4} dB");
    }
    eprintln!("bass mono: side within {worst:.5} dB of LR4 high-pass x width");
    // a 40 Hz stereo signal comes out (nearly) mono
    let sine = |ph: f64| {
        (0..48_000)
            .map(|i| (2.0 * PI * 40.0 * i as f64 / 48_000.0 + ph).sin() as f32 * 0.5)
            .collect()
    };
    let mut x: Vec<Vec<f32>> = vec![sine(0.0), sine(1.0)];
    let before = correlation(&x[0], &x[1]);
    p.process_cpu(&mut x, RATE, None);
    let after = correlation(&x[0][24_000..], &x[1][24_000..]);
    eprintln!("40 Hz, 1 rad apart: correlation {before:.4} -> {after:.4}");
    assert!(after > 0.999, "{after}");
}

#[test]
fn correlation_known_values() {
    let x = noise(48_000, 7);
    let y = noise(48_000, 8);
    let neg: Vec<f32> = x.iter().map(|v| -v).collect();
    let half: Vec<f32> = x.iter().map(|v| v * 0.5).collect();
    assert!((correlation(&x, &x) - 1.0).abs() < 1e-12);
    assert!((correlation(&x, &half) - 1.0).abs() < 1e-12);
    assert!((correlation(&x, &neg) + 1.0).abs() < 1e-12);
    let c = correlation(&x, &y);
    assert!(c.abs() < NOISE_CORR_TOL, "{c}");
    // sine and cosine over whole periods: 0 (quadrature)
    let s: Vec<f32> = (0..48_000)
        .map(|i| (2.0 * PI * 100.0 * i as f64 / 48_000.0).sin() as f32)
        .collect();
    let co: Vec<f32> = (0..48_000)
        .map(|i| (2.0 * PI * 100.0 * i as f64 / 48_000.0).cos() as f32)
        .collect();
    assert!(correlation(&s, &co).abs() < 1e-6);
    // cos(φ) for two sines φ apart
    let phi = 1.0f64;
    let s2: Vec<f32> = (0..48_000)
        .map(|i| (2.0 * PI * 100.0 * i as f64 / 48_000.0 + phi).sin() as f32)
        .collect();
    assert!((correlation(&s, &s2) - phi.cos()).abs() < 1e-6);
    assert_eq!(correlation(&[0.0; 10], &x[..10]), 0.0);
    assert_eq!(correlation(&[], &[]), 0.0);
    eprintln!("independent noise correlation {c:.4}");
}

#[test]
fn silence_tiny_inputs_scene_syntax() {
    let p = prepare(1.5, Some(100.0));
    for n in [0, 1, 2, 3000] {
        let mut x = vec![vec![0.0f32; n]; 2];
        p.process_cpu(&mut x, RATE, None);
        assert!(x
            .iter()
            .all(|c| c.len() == n && c.iter().all(|v| *v == 0.0)));
    }
    let mut mono = vec![vec![0.5f32; 4]];
    p.process_cpu(&mut mono, RATE, None);
    assert_eq!(mono, vec![vec![0.5f32; 4]], "mono buffers pass unchanged");
    #[derive(serde::Deserialize)]
    struct C {
        insert: InsertSpec,
    }
    let c: C = toml::from_str(r#"insert = { type = "width", width = 1.2, bass_mono_hz = 120 }"#)
        .expect("parses");
    assert_eq!(
        c.insert,
        InsertSpec::Width(WidthSpec {
            width: 1.2,
            bass_mono_hz: Some(120.0)
        })
    );
    assert!(WidthSpec {
        width: -1.0,
        bass_mono_hz: None
    }
    .prepare(48_000.0)
    .is_err());
    assert!(WidthSpec {
        width: 1.0,
        bass_mono_hz: Some(0.0)
    }
    .prepare(48_000.0)
    .is_err());
    const { assert!(width::MAX_WIDTH >= 2.0) };
}
