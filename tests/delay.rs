//! Delay: naive f64 oracle (sample-by-sample recursion over whole-history arrays) ⇄ CPU;
//! echo times and levels, ping-pong alternation, beats ⇄ tempo, tail length, silence.

mod common;

use common::*;
use mixfarm::ops::delay::DelaySpec;
use mixfarm::ops::InsertSpec;

const FS: u32 = 48_000;
/// Sample-wise bound vs the f64 oracle, full scale: f32 state and f32-rounded
/// coefficients through a recursion with loop gain < 1 (errors do not grow).
const ORACLE_TOL: f64 = 1e-5;

/// Naive f64 delay, written from the definitions in `ops::delay` docs.
fn oracle(
    x: &[Vec<f64>],
    d: usize,
    fb: f64,
    a: Option<f64>,
    mix: f64,
    ping_pong: bool,
) -> Vec<Vec<f64>> {
    let (nch, frames) = (x.len(), x[0].len());
    let mut line = vec![vec![0.0; frames]; nch];
    let mut w = vec![0.0; nch];
    let mut y = x.to_vec();
    for n in 0..frames {
        for c in 0..nch {
            let dc = if n >= d { line[c][n - d] } else { 0.0 };
            w[c] = match a {
                Some(a) => w[c] + a * (dc - w[c]),
                None => dc,
            };
        }
        if ping_pong && nch == 2 {
            line[0][n] = (x[0][n] + x[1][n]) * 0.5 + fb * w[1];
            line[1][n] = fb * w[0];
        } else {
            for c in 0..nch {
                line[c][n] = x[c][n] + fb * w[c];
            }
        }
        for c in 0..nch {
            y[c][n] = (1.0 - mix) * x[c][n] + mix * w[c];
        }
    }
    y
}

fn spec(inline: &str) -> DelaySpec {
    match parse(inline) {
        InsertSpec::Delay(s) => s,
        _ => panic!("not a delay"),
    }
}

#[test]
fn matches_f64_oracle() {
    let n = 24_000;
    let x = vec![noise(n, 11), noise(n, 12).iter().map(|v| 0.5 * v).collect()];
    for (inline, pp, hc) in [
        (
            r#"{ type = "delay", time_ms = 37.5, feedback = 0.35, high_cut_hz = 6000, mix = 0.2, ping_pong = true }"#,
            true,
            Some(6000.0),
        ),
        (
            r#"{ type = "delay", time_ms = 20, feedback = -0.8, mix = 0.5 }"#,
            false,
            None,
        ),
        (
            r#"{ type = "delay", time_beats = 0.125, feedback = 0.9, high_cut_hz = 2000, mix = 1.0 }"#,
            false,
            Some(2000.0),
        ),
    ] {
        let s = spec(inline);
        let p = s.prepare(&ctx(FS, Some(120.0))).expect("prepares");
        let d = (s.time_s(Some(120.0)).unwrap() * FS as f64).round() as usize;
        let a =
            hc.map(|hz: f64| (1.0 - (-std::f64::consts::TAU * hz / FS as f64).exp()) as f32 as f64);
        let want = oracle(&x, d, s.feedback as f32 as f64, a, s.mix, pp);
        let mut got = to_f32(&x);
        p.process_cpu(&mut got);
        let err = max_abs_diff(&got, &want);
        eprintln!("{inline}: D = {d} frames, max |cpu − oracle| {err:.3e}");
        assert!(err <= ORACLE_TOL);
    }
}

#[test]
fn echoes_land_where_and_how_loud_they_should() {
    // impulse, 10 ms, feedback 0.5, no filter, full wet: echoes k·480 frames at 0.5^(k−1)
    let s = spec(r#"{ type = "delay", time_ms = 10, feedback = 0.5, mix = 1.0 }"#);
    let p = s.prepare(&ctx(FS, None)).expect("prepares");
    let mut x = vec![vec![0.0f32; 2400]];
    x[0][0] = 1.0;
    p.process_cpu(&mut x);
    for k in 1..5usize {
        assert_eq!(x[0][k * 480], 0.5f32.powi(k as i32 - 1), "echo {k}");
    }
    let energy_elsewhere: f32 = x[0]
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 480 != 0)
        .map(|(_, v)| v.abs())
        .sum();
    assert_eq!(energy_elsewhere, 0.0);
    // ping-pong: first echo left, second right, third left
    let s =
        spec(r#"{ type = "delay", time_ms = 10, feedback = 0.5, mix = 1.0, ping_pong = true }"#);
    let p = s.prepare(&ctx(FS, None)).expect("prepares");
    let mut x = vec![vec![0.0f32; 2400], vec![0.0f32; 2400]];
    x[0][0] = 1.0;
    x[1][0] = 1.0;
    p.process_cpu(&mut x);
    let got: Vec<(f32, f32)> = (1..4).map(|k| (x[0][k * 480], x[1][k * 480])).collect();
    eprintln!("ping-pong echoes (L, R): {got:?}");
    assert_eq!(got, vec![(1.0, 0.0), (0.0, 0.5), (0.25, 0.0)]);
}

#[test]
fn beats_need_a_tempo_and_tail_follows_feedback() {
    let s = spec(r#"{ type = "delay", time_beats = 0.75, feedback = 0.35, mix = 0.2 }"#);
    assert!(
        s.prepare(&ctx(FS, None)).is_err(),
        "time_beats without tempo must fail"
    );
    let p = s.prepare(&ctx(FS, Some(120.0))).expect("prepares");
    assert_eq!(p.params.delay_frames, 18_000); // 0.75 beat at 120 bpm = 375 ms
                                               // 0.35^k ≤ 1e-3 ⇔ k ≥ 6.58 → 7 repeats after the first echo
    let tail = s.tail_seconds_at(Some(120.0));
    eprintln!("tail at 120 bpm: {tail} s");
    assert!((tail - 0.375 * 8.0).abs() < 1e-12);
    assert!(InsertSpec::Delay(s.clone()).tail_seconds() >= tail);
    for bad in [
        r#"{ type = "delay", time_ms = 10, time_beats = 1, mix = 0.2 }"#,
        r#"{ type = "delay", time_ms = 10, feedback = 1.0, mix = 0.2 }"#,
        r#"{ type = "delay", mix = 0.2 }"#,
        r#"{ type = "delay", time_ms = 10, mix = 0.2, high_cut_hz = 30000 }"#,
    ] {
        let e = parse(bad)
            .prepare(&ctx(FS, Some(120.0)))
            .expect_err("rejected");
        eprintln!("{e}");
    }
}

#[test]
fn silence_and_tiny_inputs() {
    let p = prepare(
        r#"{ type = "delay", time_ms = 1, feedback = 0.9, high_cut_hz = 3000, mix = 0.5, ping_pong = true }"#,
        FS,
    );
    let mut z = vec![vec![0.0f32; 5000]; 2];
    p.process_cpu(&mut z, FS, None);
    assert!(z.iter().flatten().all(|&v| v == 0.0));
    for frames in [0usize, 1] {
        let mut t = vec![vec![0.8f32; frames], vec![0.4f32; frames]];
        p.process_cpu(&mut t, FS, None);
        assert!(
            t.iter()
                .zip([0.4f32, 0.2])
                .all(|(c, v)| c.iter().all(|&s| s == v)),
            "{t:?}"
        );
    }
    // a long decaying tail ends in exact zeros (denormals flushed), not in denormals
    let mut x = vec![vec![0.0f32; 200_000]];
    x[0][0] = 1.0;
    p.process_cpu(&mut x, FS, None);
    let denormals = x[0].iter().filter(|v| v.is_subnormal()).count();
    assert_eq!(denormals, 0);
}
