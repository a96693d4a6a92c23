//! Chorus: naive f64 oracle (exact `sin` of the quantised LFO phase, f64 delays, linear
//! interpolation on whole-input arrays) ⇄ CPU; silence; tiny inputs; settings checks.

mod common;

use common::*;
use mixfarm::ops::chorus::{self, ChorusSpec};
use mixfarm::ops::InsertSpec;

const FS: u32 = 48_000;
/// Sample-wise bound vs the oracle, full scale: the LFO table's interpolation error
/// (≤ 2.9e-7 of the depth, i.e. ≤ 4e-5 frames at 3 ms) and the fixed-point delay's
/// rounding (≤ 3 steps of 2^-15 ≈ 1e-4 frames) times the signal's slope (≤ ~0.6 per frame
/// for this test's noise low-passed at ~5 kHz), plus f32 sums.
const ORACLE_TOL: f64 = 1e-4;

fn spec(inline: &str) -> ChorusSpec {
    match parse(inline) {
        InsertSpec::Chorus(s) => s,
        _ => panic!("not a chorus"),
    }
}

fn oracle(s: &ChorusSpec, x: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let fs = FS as f64;
    let inc = (s.rate_hz / fs * 2f64.powi(32)).round() as u64 & 0xffff_ffff;
    let (delay, depth) = (s.delay_ms * 1e-3 * fs, s.depth_ms * 1e-3 * fs);
    x.iter()
        .enumerate()
        .map(|(c, ch)| {
            let at = |i: isize| if i >= 0 { ch[i as usize] } else { 0.0 };
            (0..ch.len())
                .map(|n| {
                    let mut wet = 0.0;
                    for v in 0..s.voices {
                        let off = chorus::phase_offset(c.min(1), v, s.voices) as u64;
                        let phase = ((off + n as u64 * inc) % (1u64 << 32)) as f64 / 2f64.powi(32);
                        let d = delay + depth * (std::f64::consts::TAU * phase).sin();
                        let pos = n as f64 - d;
                        let i = pos.floor();
                        let t = pos - i;
                        wet += at(i as isize) * (1.0 - t) + at(i as isize + 1) * t;
                    }
                    (1.0 - s.mix) * ch[n] + s.mix * wet / s.voices as f64
                })
                .collect()
        })
        .collect()
}

/// Noise smoothed by a 4-tap moving average (content mostly under ~5 kHz at 48 kHz).
fn smooth_noise(frames: usize, seed: u64) -> Vec<f64> {
    let w = noise(frames + 3, seed);
    (0..frames)
        .map(|i| 0.25 * (w[i] + w[i + 1] + w[i + 2] + w[i + 3]))
        .collect()
}

#[test]
fn matches_f64_oracle() {
    let x = vec![smooth_noise(24_000, 21), smooth_noise(24_000, 22)];
    for inline in [
        r#"{ type = "chorus", rate_hz = 0.8, depth_ms = 3, delay_ms = 12, voices = 3, mix = 0.35 }"#,
        r#"{ type = "chorus", rate_hz = 7.3, depth_ms = 1.5, delay_ms = 1.5, voices = 1, mix = 1.0 }"#,
        r#"{ type = "chorus", rate_hz = 0.13, depth_ms = 8, delay_ms = 20, voices = 8, mix = 0.5 }"#,
    ] {
        let s = spec(inline);
        let p = s.prepare(&ctx(FS, None)).expect("prepares");
        let want = oracle(&s, &x);
        let mut got = to_f32(&x);
        p.process_cpu(&mut got);
        let err = max_abs_diff(&got, &want);
        eprintln!("{inline}: max |cpu − oracle| {err:.3e}");
        assert!(err <= ORACLE_TOL);
    }
}

#[test]
fn lfo_table_is_a_sine() {
    let depth = 144.0; // 3 ms at 48 kHz, frames
    let t = chorus::lfo_table(depth);
    let n = t.len() - 1;
    let unit = 2f64.powi(chorus::DELAY_FRAC_BITS as i32);
    let worst = t
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            (v as f64 / unit - depth * (std::f64::consts::TAU * i as f64 / n as f64).sin()).abs()
        })
        .fold(0.0, f64::max);
    eprintln!("LFO table max error {worst:.2e} frames");
    // rounded to the nearest step of the fixed point
    assert!(worst <= 0.5 / unit && t[0] == t[n]);
}

#[test]
fn silence_tiny_inputs_and_bad_settings() {
    let p = prepare(
        r#"{ type = "chorus", rate_hz = 0.8, depth_ms = 3, delay_ms = 12, mix = 0.35 }"#,
        FS,
    );
    let mut z = vec![vec![0.0f32; 3000]; 2];
    p.process_cpu(&mut z, FS, None);
    assert!(z.iter().flatten().all(|&v| v == 0.0));
    for frames in [0usize, 1] {
        let mut t = vec![vec![1.0f32; frames]; 2];
        p.process_cpu(&mut t, FS, None);
        // one frame: the delayed voices read silence → dry share only
        assert!(
            t.iter().flatten().all(|&v| (v - 0.65).abs() < 1e-7),
            "{t:?}"
        );
    }
    let mut mono = vec![smooth_noise(100, 3)
        .iter()
        .map(|&v| v as f32)
        .collect::<Vec<_>>()];
    p.process_cpu(&mut mono, FS, None);
    for bad in [
        r#"{ type = "chorus", rate_hz = 0.8, depth_ms = 5, delay_ms = 3, mix = 0.35 }"#,
        r#"{ type = "chorus", rate_hz = 0.8, depth_ms = 3, delay_ms = 12, voices = 0, mix = 0.35 }"#,
        r#"{ type = "chorus", rate_hz = 0.8, depth_ms = 3, delay_ms = 12, mix = 1.5 }"#,
    ] {
        let e = parse(bad).prepare(&ctx(FS, None)).expect_err("rejected");
        eprintln!("{e}");
    }
}
