//! True-peak limiter: output true peak by the f64 reconstruction oracle
//! (`tests/common/true_peak_oracle.rs`) stays ≤ ceiling on stress signals; naive f64 oracle of the gain pipeline ⇄ CPU;
//! inter-sample-peak detection; transparency below the ceiling; silence; tiny inputs.

mod common;

use common::*;
use mixfarm::ops::limiter::{self, cpu, Limiter};
use mixfarm::ops::oversample;
use mixfarm::ops::Processor;

const FS: u32 = 48_000;
const TAU: f64 = std::f64::consts::TAU;
/// Allowed true-peak excess over the ceiling, dB: none (the oracle's f64 result is compared
/// directly; the limiter's own margin is `limiter::SAFETY_MARGIN_DB`).
const TP_EXCESS_DB: f64 = 0.0;
/// Sample-wise oracle bound (full scale): f32 detector/gain arithmetic and rare one-step
/// (1/4096 L2) differences in the floor() quantisation, diluted by the window average
/// (measured ≈ 1e-6).
const ORACLE_TOL: f64 = 5e-6;

fn true_peak_dbtp(ch: &[Vec<f32>]) -> f64 {
    common::true_peak_oracle::true_peak_dbtp(ch)
}

fn sine(frames: usize, hz: f64, amp: f64, phase: f64) -> Vec<f64> {
    (0..frames)
        .map(|n| amp * (TAU * hz * n as f64 / FS as f64 + phase).sin())
        .collect()
}

fn limiter_proc(ceiling: f64, release_ms: f64, lookahead_ms: f64) -> Processor {
    prepare(
        &format!(
            "{{ type = \"limiter\", ceiling_dbtp = {ceiling}, release_ms = {release_ms}, lookahead_ms = {lookahead_ms} }}"
        ),
        FS,
    )
}

fn as_limiter(p: &Processor) -> &Limiter {
    match p {
        Processor::Limiter(l) => l,
        _ => panic!("not a limiter"),
    }
}

/// Stress signals that exceed the ceiling in different ways.
fn stress_signals() -> Vec<(&'static str, Vec<Vec<f64>>)> {
    let n = 24_000;
    let isp = sine(n, FS as f64 / 4.0, 2f64.sqrt(), TAU / 8.0); // ±1.0 samples, +3.01 dBTP
    let hot_noise: Vec<f64> = noise(n, 7).iter().map(|v| 2.0 * v).collect();
    let square: Vec<f64> = (0..n)
        .map(|i| if (i / 24) % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let hf = sine(n, 19_000.0, 1.5, 0.3);
    let mut clicks = sine(n, 220.0, 0.3, 0.0);
    for k in (1000..n).step_by(3001) {
        clicks[k] = 1.0;
        clicks[k + 1] = -1.0; // full-scale alternating pair: a big inter-sample overshoot
    }
    let sweep: Vec<f64> = (0..n)
        .map(|i| 1.2 * (TAU * (100.0 * i as f64 + 0.4 * (i as f64).powi(2)) / FS as f64).sin())
        .collect();
    vec![
        ("fs/4 sine, 45° (0 dBFS, +3 dBTP)", vec![isp.clone(), isp]),
        (
            "noise +6 dBFS",
            vec![
                hot_noise.clone(),
                noise(n, 8).iter().map(|v| 1.5 * v).collect(),
            ],
        ),
        ("full-scale square", vec![square.clone(), square]),
        (
            "19 kHz sine +3.5 dBFS",
            vec![hf.clone(), sine(n, 18_000.0, 1.2, 1.0)],
        ),
        ("clicks on a quiet sine", vec![clicks.clone(), clicks]),
        ("chirp 100 Hz…19 kHz, +1.6 dBFS", vec![sweep.clone(), sweep]),
    ]
}

#[test]
fn true_peak_stays_under_ceiling() {
    let mut worst = f64::NEG_INFINITY;
    for ceiling in [-1.0, -0.3] {
        let proc = limiter_proc(ceiling, 100.0, 5.0);
        for (name, x) in stress_signals() {
            let before = true_peak_dbtp(&to_f32(&x));
            let mut y = to_f32(&x);
            let gr = as_limiter(&proc).process_cpu(&mut y);
            let after = true_peak_dbtp(&y);
            eprintln!("ceiling {ceiling}: {name}: {before:+.2} dBTP in → {after:+.3} dBTP out, max GR {gr:.2} dB");
            worst = worst.max(after - ceiling);
            assert!(
                after <= ceiling + TP_EXCESS_DB,
                "{name}: {after} dBTP over {ceiling}"
            );
        }
    }
    eprintln!(
        "worst true peak relative to ceiling: {worst:+.4} dB (margin {} dB)",
        limiter::SAFETY_MARGIN_DB
    );
}

#[test]
fn inter_sample_peak_is_detected() {
    // 0 dBFS sample peak, +3.01 dBTP: a sample-peak limiter at −1 would cut 1 dB; we must cut ≈ 4 dB
    // 20 ms raised-cosine fades: an abrupt start or end would overshoot (Gibbs) above +3 dBTP
    let x: Vec<f64> = sine(9600, FS as f64 / 4.0, 2f64.sqrt(), TAU / 8.0)
        .iter()
        .enumerate()
        .map(|(n, v)| {
            let edge = n.min(9599 - n);
            v * if edge < 960 {
                0.5 - 0.5 * (TAU * edge as f64 / 1920.0).cos()
            } else {
                1.0
            }
        })
        .collect();
    let mut y = to_f32(&[x.clone(), x]);
    let proc = limiter_proc(-1.0, 100.0, 5.0);
    let gr = as_limiter(&proc).process_cpu(&mut y);
    let want = 20.0 * 2f64.sqrt().log10() + 1.0 + limiter::SAFETY_MARGIN_DB;
    let steady = db(y[0][4800..].iter().fold(0.0f32, |m, v| m.max(v.abs())) as f64);
    eprintln!(
        "ISP sine: GR {gr:.4} dB (expected ≈ {want:.4}); steady sample peak {steady:.3} dBFS"
    );
    assert!((gr - want).abs() < 0.01);
    assert!((steady - (-want)).abs() < 0.01);
}

#[test]
fn transparent_below_ceiling_and_silence() {
    let proc = limiter_proc(-1.0, 100.0, 5.0);
    let x = to_f32(&[sine(4800, 1000.0, 0.5, 0.0), sine(4800, 300.0, 0.7, 1.0)]);
    let mut y = x.clone();
    let gr = as_limiter(&proc).process_cpu(&mut y);
    assert_eq!(y, x, "below the ceiling the limiter is bit-transparent");
    assert_eq!(gr, 0.0);
    let mut z = vec![vec![0.0f32; 1000]; 2];
    proc.process_cpu(&mut z, FS, None);
    assert!(z.iter().flatten().all(|&v| v == 0.0));
    for frames in [0usize, 1] {
        let mut t = vec![vec![1.5f32; frames], vec![-1.5f32; frames]];
        let gr = as_limiter(&proc).process_cpu(&mut t);
        eprintln!("{frames} frame(s): {t:?}, GR {gr:.3} dB");
        assert!(t
            .iter()
            .flatten()
            .all(|v| v.abs() <= 10f32.powf(-1.0 / 20.0)));
    }
    let mut none: Vec<Vec<f32>> = vec![];
    proc.process_cpu(&mut none, FS, None);
}

/// The detector's `e[t]` for frames `−1 … frames − 1` (index `t + 1`) in f64 by the
/// definition of `ops::oversample`: the 2× sequence `u` (samples and half points from the
/// f64 2× taps), then the 8× phases over `u`; the largest |point| over channels.
fn detector_f64(x: &[Vec<f64>]) -> Vec<f64> {
    let taps = oversample::design();
    let (ht, ft) = (
        oversample::HALF_TAPS as isize,
        oversample::FINE_TAPS as isize,
    );
    let (half, fine) = taps.split_at(ht as usize);
    let frames = x[0].len() as isize;
    let mut e = vec![0.0f64; frames as usize + 1];
    for c in x {
        let at = |i: isize| {
            if i >= 0 && i < frames {
                c[i as usize]
            } else {
                0.0
            }
        };
        // u[s + off] for 2× positions s ∈ [−2·ft − 2, 2·frames + 2·ft)
        let off = 2 * ft + 2;
        let u: Vec<f64> = (-off..2 * frames + 2 * ft)
            .map(|s| {
                let t = s.div_euclid(2);
                if s.rem_euclid(2) == 0 {
                    at(t)
                } else {
                    (0..ht)
                        .map(|j| half[j as usize] * at(t + j - ht / 2 + 1))
                        .sum()
                }
            })
            .collect();
        for t in -1..frames {
            let mut m = e[(t + 1) as usize];
            for s in [2 * t, 2 * t + 1] {
                m = m.max(u[(s + off) as usize].abs());
                for ph in fine.chunks(ft as usize) {
                    let v: f64 = (0..ft)
                        .map(|j| ph[j as usize] * u[(s + j - ft / 2 + 1 + off) as usize])
                        .sum();
                    m = m.max(v.abs());
                }
            }
            e[(t + 1) as usize] = m;
        }
    }
    e
}

/// Naive f64 limiter: the detector in f64 ([`detector_f64`]), exact log2, the same
/// floor() quantisation, naive window min and window sum, one-pole release, exact exp2.
fn oracle(lim: &Limiter, x: &[Vec<f64>], ceiling: f64, release_ms: f64) -> (Vec<Vec<f64>>, f64) {
    let frames = x[0].len();
    let e_all = detector_f64(x);
    // e[−1]: the reconstruction between the silence before the song and its first frame
    let e_before = e_all[0];
    let e = &e_all[1..];
    let target = (ceiling - limiter::SAFETY_MARGIN_DB) / 20.0 * 10f64.log2();
    let q: Vec<f64> = (0..frames)
        .map(|n| {
            let peak = if n > 0 {
                e[n].max(e[n - 1])
            } else {
                e[n].max(e_before)
            };
            let r = (target - peak.max(1e-300).log2()).clamp(-limiter::MAX_REDUCTION_L2, 0.0);
            (r * limiter::Q_PER_L2).floor()
        })
        .collect();
    // the pipeline starts at n = −L (before the start: silence, q = 0)
    let l = lim.params.lookahead_frames as isize;
    let q_at = |i: isize| {
        if i >= 0 && (i as usize) < frames {
            q[i as usize]
        } else {
            0.0
        }
    };
    // m[n] for n ∈ [−2L, frames): naive window minimum
    let m_vec: Vec<f64> = (-2 * l..frames as isize)
        .map(|n| (n..=n + l).map(q_at).fold(0.0, f64::min))
        .collect();
    let m = |n: isize| m_vec[(n + 2 * l) as usize];
    // the kernel's step β = 1 − α is rounded to f32 (not α)
    let alpha = 1.0 - (-(-1.0 / (release_ms * 1e-3 * FS as f64)).exp_m1()) as f32 as f64;
    let (mut g, mut min_g) = (0.0f64, 0.0f64);
    let mut out = x.to_vec();
    for n in -l..frames as isize {
        let sum: f64 = (n - l..=n).map(m).sum();
        let a = sum / (limiter::Q_PER_L2 * (l + 1) as f64);
        g = if a <= g { a } else { a + alpha * (g - a) };
        if n >= 0 {
            min_g = min_g.min(g);
            for c in out.iter_mut() {
                c[n as usize] *= g.exp2();
            }
        }
    }
    (out, -min_g * 20.0 * 2f64.log10())
}

#[test]
fn matches_f64_oracle() {
    let n = 9600;
    let x = vec![
        noise(n, 3)
            .iter()
            .zip(sine(n, 3.0, 1.0, 0.0))
            .map(|(a, b)| 1.6 * a * b.abs())
            .collect(),
        noise(n, 4).iter().map(|v| 0.9 * v).collect(),
    ];
    for (ceiling, release_ms, lookahead_ms) in
        [(-1.0, 100.0, 5.0), (-0.3, 30.0, 1.0), (-6.0, 200.0, 0.0)]
    {
        let proc = limiter_proc(ceiling, release_ms, lookahead_ms);
        let lim = as_limiter(&proc);
        let mut y = to_f32(&x);
        let gr = lim.process_cpu(&mut y);
        let (want, want_gr) = oracle(lim, &x, ceiling, release_ms);
        let err = max_abs_diff(&y, &want);
        // the required gain is quantised (1/Q_PER_L2 of log2): where the f32 detector and
        // the f64 one fall on either side of a step, the frames differ by one step (0.0015
        // dB) until the release has carried the difference away; never by more
        let step = 2f64.powf(1.0 / limiter::Q_PER_L2) - 1.0;
        let (mut flips, mut beyond) = (0usize, 0usize);
        for (yc, wc) in y.iter().zip(&want) {
            for (&a, &b) in yc.iter().zip(wc) {
                let d = (a as f64 - b).abs();
                if d > ORACLE_TOL {
                    flips += 1;
                    if d > step * b.abs() * 1.01 + ORACLE_TOL {
                        beyond += 1;
                    }
                }
            }
        }
        eprintln!(
            "ceiling {ceiling} release {release_ms} lookahead {lookahead_ms}: max |cpu − oracle| {err:.3e}, {flips} sample(s) one quantisation step off, {beyond} beyond; GR {gr:.4} vs {want_gr:.4} dB"
        );
        assert!(beyond == 0 && (gr - want_gr).abs() < 1e-3);
    }
}

#[test]
fn taps_interpolate_bandlimited_signals() {
    // both stages reconstruct a 0.45·fs sine (the 8× stage a 0.225·fs one, what the 2×
    // sequence holds) between samples to better than 0.001 of full scale
    let taps = oversample::design();
    let (ht, ft) = (oversample::HALF_TAPS, oversample::FINE_TAPS);
    let (half, fine) = taps.split_at(ht);
    let err = |h: &[f64], k: usize, f: f64, w: f64| {
        let y: f64 = (0..k)
            .map(|j| h[j] * (w * (300.0 + j as f64 - (k / 2) as f64 + 1.0)).sin())
            .sum();
        (y - (w * (300.0 + f)).sin()).abs()
    };
    // the 2× stage is exactly symmetric (both twins sum it folded), in f32 as in f64
    let half32: Vec<f32> = half.iter().map(|&h| h as f32).collect();
    assert!((0..ht).all(|j| half[j] == half[ht - 1 - j] && half32[j] == half32[ht - 1 - j]));
    let tau = std::f64::consts::TAU;
    let mut worst = err(half, ht, 0.5, tau * 0.45);
    for (q, ph) in fine.chunks(ft).enumerate() {
        worst = worst.max(err(ph, ft, (q + 1) as f64 / 8.0, tau * 0.225));
    }
    eprintln!("interpolation max error {worst:.2e}");
    assert!(worst < 1e-3);
    assert_eq!(taps.len(), ht + oversample::FINE_PHASES * ft);
    assert_eq!(oversample::FACTOR, 2 * (oversample::FINE_PHASES + 1));
    let _ = cpu::LimiterReport::default();
}

#[test]
fn kernel_constants_match_the_interpolator() {
    // shaders/limiter.wgsl spells the interpolator's sizes as constants: they must be the
    // CPU twin's, or the kernels read the wrong taps
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/shaders/limiter.wgsl"))
        .expect("read shaders/limiter.wgsl");
    let constant = |name: &str| -> usize {
        let line = src
            .lines()
            .find(|l| l.starts_with(&format!("const {name}: u32 = ")))
            .unwrap_or_else(|| panic!("shaders/limiter.wgsl has no const {name}"));
        line.rsplit("= ")
            .next()
            .unwrap()
            .trim_end_matches("u;")
            .parse()
            .unwrap()
    };
    assert_eq!(constant("HALF_TAPS"), oversample::HALF_TAPS);
    assert_eq!(constant("FINE_TAPS"), oversample::FINE_TAPS);
    assert_eq!(constant("FINE_PHASES"), oversample::FINE_PHASES);
    assert_eq!(constant("SPAN"), oversample::SPAN);
}
