//! Compressor: f64 oracle (exact log10/pow, Giannoulis et al. 2012 static curve, branching
//! one-pole ballistics in dB) ⇄ CPU reference; static curve, time constants, sidechain,
//! silence, tiny inputs; accuracy of the shared log2/exp2 polynomials.

mod common;

use common::comp_oracle::{oracle, Oracle};
use common::*;
use mixfarm::ops::compressor::cpu;
use mixfarm::ops::loglin::{exp2_approx, log2_approx};

const FS: u32 = 48_000;

/// log2 polynomial: f32 evaluation + fit error, in log2 units (stated accuracy 6e-8, plus
/// one f32 rounding of results up to |log2| ≈ 126, i.e. up to 2^-17 absolute there).
const LOG2_TOL_REL: f64 = 2e-7;
/// exp2 polynomial: relative error (fit 1.1e-7 + f32 rounding).
const EXP2_TOL_REL: f64 = 3e-7;
/// static curve error in dB: polynomial errors (< 1e-6 dB) plus f32 rounding of the
/// threshold/knee parameters and of levels (≈ 1e-5 dB at −60 dB).
const STATIC_TOL_DB: f64 = 1e-4;
/// sample-wise oracle bound, full scale (signals peak near +3 dBFS): f32 gain state,
/// f32 thresholds, polynomial log/exp (the oracle uses the same f32-rounded step 1 − α).
const ORACLE_TOL: f64 = 2e-6;

#[test]
fn log2_exp2_polynomials_match_f64() {
    let (mut e_log, mut e_exp) = (0.0f64, 0.0f64);
    for i in 0..200_000 {
        // levels from 2^-126 to 2^20, mantissas densely covered
        let x = (2f64).powf(-126.0 + 146.0 * i as f64 / 200_000.0) as f32;
        let err =
            (log2_approx(x) as f64 - (x as f64).log2()).abs() / (x as f64).log2().abs().max(1.0);
        e_log = e_log.max(err);
        let y = -125.0 + 252.0 * i as f64 / 200_000.0;
        let y32 = y as f32;
        let err = (exp2_approx(y32) as f64 / (y32 as f64).exp2() - 1.0).abs();
        e_exp = e_exp.max(err);
    }
    eprintln!("log2_approx max rel err {e_log:.3e}, exp2_approx max rel err {e_exp:.3e}");
    assert!(e_log <= LOG2_TOL_REL && e_exp <= EXP2_TOL_REL);
    assert_eq!(exp2_approx(0.0), 1.0, "unity gain must be exact");
    assert_eq!(log2_approx(0.0), -126.0, "zero reads as the floor");
}

/// DC at each level, instant ballistics: output/input = static curve + makeup.
#[test]
fn static_curve_matches_formula() {
    let mut worst = 0.0f64;
    for &(ratio, knee_db) in &[
        (2.0, 0.0),
        (4.0, 0.0),
        (20.0, 0.0),
        (3.0, 6.0),
        (8.0, 12.0),
        (1.5, 3.0),
    ] {
        for rms in [false, true] {
            let o = Oracle {
                makeup_db: 2.5,
                rms,
                ..oracle(-18.0, ratio, knee_db, 0.0, 0.0)
            };
            let p = o.params();
            for i in 0..=120 {
                let x_db = -60.0 + 0.5 * i as f64;
                let a = 10f64.powf(x_db / 20.0);
                let mut ch = vec![vec![a as f32; 4], vec![-a as f32; 4]];
                cpu::process(&p, &mut ch, None);
                let got = db(ch[0][3] as f64 / (a as f32) as f64);
                let want = o.static_gain_db(db((a as f32) as f64)) + 2.5;
                worst = worst.max((got - want).abs());
                assert!(
                    (got - want).abs() <= STATIC_TOL_DB,
                    "ratio {ratio} knee {knee_db} at {x_db} dB: {got} vs {want}"
                );
            }
        }
    }
    eprintln!("static curve: max error {worst:.3e} dB");
}

/// A step of gain reduction G covers 1 − 1/e of the way after attack_ms; recovers to G/e
/// after release_ms.
#[test]
fn attack_and_release_time_constants() {
    let (attack_ms, release_ms) = (10.0, 80.0);
    let o = oracle(-20.0, 4.0, 0.0, attack_ms, release_ms);
    let p = o.params();
    let n0 = 4800;
    let n1 = n0 + 9600;
    let frames = n1 + 19_200;
    let x: Vec<f32> = (0..frames)
        .map(|n| if (n0..n1).contains(&n) { 1.0 } else { 0.01 })
        .collect();
    let mut ch = vec![x.clone()];
    cpu::process(&p, &mut ch, None);
    let g_db: Vec<f64> = (0..frames)
        .map(|n| db(ch[0][n] as f64 / x[n] as f64))
        .collect();
    let target = o.static_gain_db(0.0); // −15 dB
    let first = |from: usize, pred: &dyn Fn(f64) -> bool| {
        (from..frames).find(|&n| pred(g_db[n])).expect("crossing")
    };
    let up = first(n0, &|g| g <= (1.0 - (-1f64).exp()) * target) + 1 - n0;
    let down = first(n1, &|g| g >= target * (-1f64).exp()) + 1 - n1;
    let (ta, tr) = (attack_ms * 1e-3 * FS as f64, release_ms * 1e-3 * FS as f64);
    eprintln!("attack: 1-1/e after {up} frames (definition {ta}); release: 1/e after {down} frames ({tr})");
    assert!((up as f64 - ta).abs() <= 1.0 && (down as f64 - tr).abs() <= 1.0);
    // whole trajectory against the exponential
    let mut worst = 0.0f64;
    for k in 0..9600 {
        let want = target * (1.0 - (-((k + 1) as f64) / ta).exp());
        worst = worst.max((g_db[n0 + k] - want).abs());
    }
    eprintln!("attack trajectory max error {worst:.3e} dB");
    assert!(worst < 1e-3);
}

fn program(frames: usize) -> Vec<Vec<f64>> {
    // noise with a slow swelling envelope spanning −40…+3 dBFS
    let (l, r) = (noise(frames, 1), noise(frames, 2));
    let env =
        |n: usize| 10f64.powf((-40.0 + 43.0 * (0.5 - 0.5 * (n as f64 * 0.0007).cos())) / 20.0);
    vec![
        (0..frames).map(|n| l[n] * env(n)).collect(),
        (0..frames).map(|n| 0.6 * r[n] * env(n)).collect(),
    ]
}

#[test]
fn matches_f64_oracle_on_program_material() {
    let x = program(24_000);
    for (rms, knee) in [(false, 0.0), (false, 6.0), (true, 6.0)] {
        let o = Oracle {
            makeup_db: 2.0,
            rms,
            rms_ms: 5.0,
            ..oracle(-18.0, 3.0, knee, 10.0, 120.0)
        };
        let want = o.run(&x, None);
        let mut got = to_f32(&x);
        cpu::process(&o.params(), &mut got, None);
        let err = max_abs_diff(&got, &want);
        eprintln!(
            "rms={rms} knee={knee}: max |cpu − oracle| = {err:.3e} ({:.1} dBFS)",
            db(err)
        );
        assert!(err <= ORACLE_TOL);
    }
}

#[test]
fn sidechain_ducks_program() {
    let frames = FS as usize;
    let sine: Vec<f64> = (0..frames)
        .map(|n| 0.5 * (n as f64 * 440.0 * std::f64::consts::TAU / FS as f64).sin())
        .collect();
    let prog = vec![sine.clone(), sine.clone()];
    // key: 60 Hz burst at 0 dBFS from 100 ms to 200 ms, silence elsewhere
    let key_ch: Vec<f64> = (0..frames)
        .map(|n| {
            if (4800..9600).contains(&n) {
                (n as f64 * 60.0 * std::f64::consts::TAU / FS as f64).sin()
            } else {
                0.0
            }
        })
        .collect();
    let key = vec![key_ch.clone(), key_ch];
    let proc = prepare(
        r#"{ type = "compressor", threshold_db = -30, ratio = 10, attack_ms = 1, release_ms = 50, sidechain = "kick" }"#,
        FS,
    );
    let mut got = to_f32(&prog);
    proc.process_cpu(&mut got, FS, Some(&to_f32(&key)));
    let want = Oracle {
        ..oracle(-30.0, 10.0, 0.0, 1.0, 50.0)
    }
    .run(&prog, Some(&key));
    let err = max_abs_diff(&got, &want);
    let rms = |c: &[f32], r: std::ops::Range<usize>| {
        let n = r.len() as f64;
        (c[r].iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / n).sqrt()
    };
    let dry = 0.5 / 2f64.sqrt();
    let during = db(rms(&got[0], 7200..9600) / dry);
    let before = db(rms(&got[0], 0..4800) / dry);
    let after = db(rms(&got[1], 38_400..48_000) / dry);
    eprintln!("ducking: before {before:.4} dB, during {during:.2} dB, 600 ms after {after:.4} dB; |cpu − oracle| {err:.2e}");
    assert!(during < -15.0, "key must duck the program");
    assert!(
        before.abs() < 1e-3 && after.abs() < 0.01,
        "no ducking without key"
    );
    assert!(err <= ORACLE_TOL);
}

#[test]
fn silence_and_tiny_inputs() {
    let proc = prepare(
        r#"{ type = "compressor", threshold_db = -18, ratio = 3, knee_db = 6, attack_ms = 10, release_ms = 120, makeup_db = 6, detector = "rms" }"#,
        FS,
    );
    let mut z = vec![vec![0.0f32; 1000]; 2];
    proc.process_cpu(&mut z, FS, None);
    assert!(
        z.iter().flatten().all(|&v| v == 0.0),
        "silence stays silent"
    );
    let mut empty: Vec<Vec<f32>> = vec![vec![], vec![]];
    proc.process_cpu(&mut empty, FS, None);
    let mut none: Vec<Vec<f32>> = vec![];
    proc.process_cpu(&mut none, FS, None);
    // one frame at 0 dBFS: instant ballistics → static curve in a single frame
    let o = Oracle {
        makeup_db: 1.0,
        ..oracle(-10.0, 2.0, 0.0, 0.0, 0.0)
    };
    let mut one = vec![vec![1.0f32], vec![0.5f32]];
    cpu::process(&o.params(), &mut one, None);
    let want = o.run(&[vec![1.0], vec![0.5]], None);
    eprintln!("one frame: {:?} vs oracle {:?}", one, want);
    assert!(max_abs_diff(&one, &want) < 1e-6);
    // a key shorter than the program reads as silence past its end
    let mut prog = vec![vec![0.5f32; 64]];
    cpu::process(&o.params(), &mut prog, Some(&[vec![1.0f32; 10]]));
    assert!(prog[0][9] < 0.5 && prog[0][63] > prog[0][9]);
}

#[test]
fn rejects_bad_settings() {
    let c = ctx(FS, None);
    for bad in [
        r#"{ type = "compressor", threshold_db = -18, ratio = 0.5, attack_ms = 1, release_ms = 1 }"#,
        r#"{ type = "compressor", threshold_db = -18, ratio = 2, knee_db = -1, attack_ms = 1, release_ms = 1 }"#,
        r#"{ type = "compressor", threshold_db = -18, ratio = 2, attack_ms = -1, release_ms = 1 }"#,
    ] {
        let e = parse(bad).prepare(&c).expect_err("must be rejected");
        eprintln!("{e}");
    }
    let typo = toml::from_str::<toml::Table>("x = 1").ok().and_then(|_| {
        toml::from_str::<std::collections::HashMap<String, mixfarm::ops::InsertSpec>>(
            r#"i = { type = "compressor", threshold_db = -18, ratio = 2, attack_ms = 1, release_ms = 1, atack = 2 }"#,
        )
        .ok()
    });
    assert!(typo.is_none(), "unknown fields are rejected");
}
