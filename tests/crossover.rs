//! Crossovers (ops::crossover) against analytic Linkwitz-Riley magnitudes and the
//! sums-back-to-input property.

use std::f64::consts::PI;

use mixfarm::ops::crossover::{cpu, CrossoverKind, CrossoverSpec};

/// Linkwitz-Riley bands, pass band (oracle >= −40 dB), and the flat sum: the brief's bound.
const LR_TOL_DB: f64 = 0.01;
/// Below −40 dB: linear magnitude difference (f32 floor).
const LR_STOP_TOL_LIN: f64 = 1e-4;
/// Linear-phase bands summed vs the input (the brief's −100 dB).
const LIN_SUM_TOL: f64 = 1e-5;
/// Linear-phase band magnitudes vs the LR magnitudes they copy, at or above 100 Hz and
/// where the band is above −40 dB: the 8191-tap Blackman-windowed FIR smooths the curve
/// near low crossovers (measured: 0.14 dB with an 80 Hz crossover, 0.05 dB at 120 Hz,
/// 0.0004 dB at the 1 kHz edge).
const LIN_TOL_DB: f64 = 0.2;

const RATE: f64 = 48_000.0;

/// Oracle: 4th-order Linkwitz-Riley low-pass magnitude = |Butterworth 2nd order|²
/// = 1 / (1 + Ω⁴), bilinear-warped Ω.
fn lr_low(f: f64, fc: f64) -> f64 {
    let w = (PI * f / RATE).tan() / (PI * fc / RATE).tan();
    1.0 / (1.0 + w.powi(4))
}

/// Oracle magnitude of band `b` for crossovers `fcs`.
fn band_oracle(b: usize, fcs: &[f64], f: f64) -> f64 {
    let mut m = 1.0;
    for (i, &fc) in fcs.iter().enumerate() {
        if i < b {
            m *= 1.0 - lr_low(f, fc);
        } else if i == b {
            m *= lr_low(f, fc);
        }
    }
    m
}

fn dtft(h: &[f64], f: f64) -> f64 {
    let w = 2.0 * PI * f / RATE;
    let (mut re, mut im) = (0.0, 0.0);
    for (n, v) in h.iter().enumerate() {
        let (s, c) = (w * n as f64).sin_cos();
        re += v * c;
        im -= v * s;
    }
    re.hypot(im)
}

fn db(v: f64) -> f64 {
    20.0 * v.max(1e-300).log10()
}

fn freqs(fcs: &[f64]) -> Vec<f64> {
    let mut f: Vec<f64> = (0..40)
        .map(|i| 20.0 * (20_000.0f64 / 20.0).powf(i as f64 / 39.0))
        .collect();
    f.extend(fcs.iter().flat_map(|&c| [c, c * 0.7, c * 1.4]));
    f
}

const SPLITS: [&[f64]; 4] = [
    &[120.0],
    &[120.0, 1000.0],
    &[100.0, 800.0, 4000.0],
    &[80.0, 300.0, 2000.0, 8000.0],
];

fn impulse_bands(spec: &CrossoverSpec, n: usize, at: usize) -> Vec<Vec<f64>> {
    let xo = spec.prepare(RATE).expect("valid");
    let mut x = vec![0.0f32; n];
    x[at] = 1.0;
    let bands = cpu::split_channel(&xo, &x);
    assert_eq!(bands.len(), spec.freqs_hz.len() + 1);
    bands
        .iter()
        .map(|b| b.iter().map(|&v| f64::from(v)).collect())
        .collect()
}

#[test]
fn linkwitz_riley_bands_follow_oracle_and_sum_flat() {
    for fcs in SPLITS {
        let spec = CrossoverSpec {
            kind: CrossoverKind::LinkwitzRiley,
            freqs_hz: fcs.to_vec(),
        };
        let bands = impulse_bands(&spec, 1 << 16, 0);
        let sum: Vec<f64> = (0..bands[0].len())
            .map(|i| bands.iter().map(|b| b[i]).sum())
            .collect();
        let (mut worst, mut worst_sum) = (0.0f64, 0.0f64);
        for f in freqs(fcs) {
            for (b, h) in bands.iter().enumerate() {
                let (got, want) = (dtft(h, f), band_oracle(b, fcs, f));
                if db(want) >= -40.0 {
                    let e = (db(got) - db(want)).abs();
                    worst = worst.max(e);
                    assert!(
                        e <= LR_TOL_DB,
                        "{fcs:?} band {b} at {f:.1} Hz: {:.4} vs {:.4} dB",
                        db(got),
                        db(want)
                    );
                } else {
                    assert!(
                        (got - want).abs() <= LR_STOP_TOL_LIN,
                        "{fcs:?} band {b} at {f:.1} Hz"
                    );
                }
            }
            let e = db(dtft(&sum, f)).abs();
            worst_sum = worst_sum.max(e);
            assert!(e <= LR_TOL_DB, "{fcs:?}: sum at {f:.1} Hz is {e:.4} dB");
        }
        eprintln!(
            "LR {fcs:?}: bands within {worst:.5} dB of oracle, sum flat within {worst_sum:.5} dB"
        );
    }
}

#[test]
fn linkwitz_riley_edges_at_minus_6_db() {
    let bands = impulse_bands(
        &CrossoverSpec {
            kind: CrossoverKind::LinkwitzRiley,
            freqs_hz: vec![1000.0],
        },
        1 << 15,
        0,
    );
    for (b, h) in bands.iter().enumerate() {
        let m = db(dtft(h, 1000.0));
        eprintln!("LR band {b} at 1 kHz: {m:.4} dB");
        assert!((m - 20.0 * 0.5f64.log10()).abs() <= LR_TOL_DB, "{m}");
    }
}

#[test]
fn linear_phase_bands_sum_to_input() {
    for fcs in SPLITS {
        let spec = CrossoverSpec {
            kind: CrossoverKind::LinearPhase,
            freqs_hz: fcs.to_vec(),
        };
        let xo = spec.prepare(RATE).expect("valid");
        let mut s = 12345u64;
        let x: Vec<Vec<f32>> = (0..2)
            .map(|_| {
                (0..20_000)
                    .map(|_| {
                        s ^= s << 13;
                        s ^= s >> 7;
                        s ^= s << 17;
                        ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 1.6
                    })
                    .collect()
            })
            .collect();
        let bands = cpu::split(&xo, &x);
        assert_eq!(bands.len(), fcs.len() + 1);
        let mut sum = vec![vec![0.0f32; 20_000]; 2];
        cpu::sum_bands(&bands, &mut sum);
        let err = (0..2)
            .flat_map(|c| {
                sum[c]
                    .iter()
                    .zip(&x[c])
                    .map(|(a, b)| f64::from(a - b).abs())
                    .collect::<Vec<_>>()
            })
            .fold(0.0, f64::max);
        eprintln!(
            "linear phase {fcs:?}: sum vs input max err {:.1} dB FS",
            db(err)
        );
        assert!(err <= LIN_SUM_TOL, "{err:e}");
    }
}

#[test]
fn linear_phase_bands_follow_lr_magnitudes() {
    for fcs in SPLITS {
        let spec = CrossoverSpec {
            kind: CrossoverKind::LinearPhase,
            freqs_hz: fcs.to_vec(),
        };
        let xo = spec.prepare(RATE).expect("valid");
        let mixfarm::ops::crossover::Crossover::LinearPhase { firs, .. } = &xo else {
            panic!("kind")
        };
        let mut worst = 0.0f64;
        for f in freqs(fcs).into_iter().filter(|&f| f >= 100.0) {
            for (b, h) in firs.iter().enumerate() {
                let want = band_oracle(b, fcs, f);
                if db(want) >= -40.0 {
                    let e = (db(dtft(h, f)) - db(want)).abs();
                    worst = worst.max(e);
                    assert!(e <= LIN_TOL_DB, "{fcs:?} band {b} at {f:.1} Hz: {e:.4} dB");
                }
            }
        }
        eprintln!("linear phase {fcs:?}: band magnitudes within {worst:.4} dB of LR (>= 100 Hz)");
        let taps = firs[0].len();
        let delta: Vec<f64> = (0..taps).map(|i| firs.iter().map(|h| h[i]).sum()).collect();
        let err = delta
            .iter()
            .enumerate()
            .map(|(i, v)| (v - f64::from(i == taps / 2)).abs())
            .fold(0.0, f64::max);
        assert!(err < 1e-12, "FIRs do not sum to a delay: {err:e}");
    }
    // edges: a 2-band split at 1 kHz
    let xo = CrossoverSpec {
        kind: CrossoverKind::LinearPhase,
        freqs_hz: vec![1000.0],
    }
    .prepare(RATE)
    .expect("valid");
    let mixfarm::ops::crossover::Crossover::LinearPhase { firs, .. } = &xo else {
        panic!("kind")
    };
    for h in firs {
        let m = db(dtft(h, 1000.0));
        eprintln!("linear phase edge at 1 kHz: {m:.4} dB");
        assert!((m - 20.0 * 0.5f64.log10()).abs() <= LIN_TOL_DB);
    }
}

#[test]
fn silence_tiny_inputs_and_validation() {
    for kind in [CrossoverKind::LinkwitzRiley, CrossoverKind::LinearPhase] {
        let xo = CrossoverSpec {
            kind,
            freqs_hz: vec![200.0, 2000.0],
        }
        .prepare(RATE)
        .expect("valid");
        assert_eq!(xo.bands(), 3);
        for n in [0, 1, 2, 3000] {
            let bands = cpu::split(&xo, &[vec![0.0; n], vec![0.0; n]]);
            assert!(bands.iter().all(|b| b.len() == 2
                && b.iter()
                    .all(|c| c.len() == n && c.iter().all(|v| *v == 0.0))));
        }
        let bands = cpu::split(&xo, &[vec![0.25]]);
        assert!(bands.iter().all(|b| b[0].len() == 1 && b[0][0].is_finite()));
    }
    let bad = [
        vec![],
        vec![100.0, 100.0],
        vec![500.0, 200.0],
        vec![30_000.0],
        vec![50.0, 100.0, 200.0, 400.0, 800.0],
    ];
    for f in bad {
        let e = CrossoverSpec {
            kind: CrossoverKind::LinkwitzRiley,
            freqs_hz: f.clone(),
        }
        .prepare(RATE);
        assert!(e.is_err(), "{f:?} accepted");
    }
    #[derive(serde::Deserialize)]
    struct P {
        crossover: CrossoverSpec,
    }
    let p: P =
        toml::from_str(r#"crossover = { kind = "linear_phase", freqs_hz = [120, 1000, 6000] }"#)
            .expect("parses");
    assert_eq!(p.crossover.kind, CrossoverKind::LinearPhase);
    let p: P = toml::from_str(r#"crossover = { freqs_hz = [120] }"#).expect("parses");
    assert_eq!(p.crossover.kind, CrossoverKind::LinkwitzRiley);
}
