//! Mixing primitives end to end (scene → render → WAV) against a naive f64 oracle:
//! pan law, fader gain, sends, bus sums, bus routing, gain/pan automation, fades, mute.

mod common;

use common::*;
use mixfarm::render::{render_batch, Backend, RenderOptions};
use std::f64::consts::{FRAC_PI_2, FRAC_PI_4};

/// Tolerance of the render vs the ideal-curve oracle, full scale. Curves are sampled into
/// linear pieces on the host (fades in 256 pieces: ≤ (π/512)²/8 ≈ 5e-6 relative error;
/// automation ≤ 0.05 dB / 0.01 pan per piece: < 1e-5) and the mix runs in f32.
const ORACLE_TOLERANCE: f64 = 1e-5;

const RATE: u32 = 48_000;

fn db(x: f64) -> f64 {
    10f64.powf(x / 20.0)
}

fn pan_mono(p: f64) -> [f64; 2] {
    let th = (p + 1.0) * FRAC_PI_4;
    [th.cos(), th.sin()]
}

fn pan_balance(p: f64) -> [f64; 2] {
    let [l, r] = pan_mono(p);
    [(l * 2f64.sqrt()).min(1.0), (r * 2f64.sqrt()).min(1.0)]
}

/// Linear interpolation over `[t, v]` breakpoints, holding the ends.
fn interp(points: &[[f64; 2]], t: f64) -> f64 {
    if t <= points[0][0] {
        return points[0][1];
    }
    for w in points.windows(2) {
        if t < w[1][0] {
            return w[0][1] + (w[1][1] - w[0][1]) * (t - w[0][0]) / (w[1][0] - w[0][0]);
        }
    }
    points[points.len() - 1][1]
}

/// Equal-power fade gain at frame n of `len` frames (the first and the last frame silent).
fn fade(n: usize, len: usize, fade_in: usize, fade_out: usize) -> f64 {
    let mut g = 1.0;
    if n < fade_in {
        g *= (n as f64 / fade_in as f64 * FRAC_PI_2).sin();
    }
    if fade_out > 0 && n + fade_out + 1 > len {
        // the last frame is silent
        g *= ((len - 1 - n) as f64 / fade_out as f64 * FRAC_PI_2).sin();
    }
    g
}

#[test]
fn pan_law_is_constant_power_with_minus_3_db_centre() {
    let centre = mixfarm::ops::gain::pan_mono(0.0);
    for g in centre {
        assert!((20.0 * g.log10() + 3.0103).abs() < 1e-3, "centre gain {g}");
    }
    for i in 0..=200 {
        let p = -1.0 + i as f64 / 100.0;
        let [l, r] = mixfarm::ops::gain::pan_mono(p);
        assert!(
            (l * l + r * r - 1.0).abs() < 1e-12,
            "power not constant at pan {p}"
        );
    }
    assert!(mixfarm::ops::gain::pan_mono(-1.0)[1].abs() < 1e-15);
    assert_eq!(mixfarm::ops::gain::pan_balance(0.0), [1.0, 1.0]);
    let hard_left = mixfarm::ops::gain::pan_balance(-1.0);
    assert!(hard_left[0] == 1.0 && hard_left[1] < 1e-15);
}

#[test]
fn mix_matches_f64_oracle() {
    let dir = tempdir();
    let d = dir.path();
    let n = RATE as usize; // 1 s stems
    let a = music_like(n, RATE, 1);
    let b = [music_like(n, RATE, 2), music_like(n - 1000, RATE, 3)];
    let mut b_r = b[1].clone();
    b_r.resize(n, 0.0);
    let c = music_like(n / 2, RATE, 4);
    let e = music_like(n, RATE, 5);
    write_f32(&d.join("a.wav"), std::slice::from_ref(&a), RATE);
    write_f32(&d.join("b.wav"), &[b[0].clone(), b_r.clone()], RATE);
    write_int(&d.join("c.wav"), std::slice::from_ref(&c), RATE, 24);
    write_f32(&d.join("e.wav"), &[e], RATE);
    let scene = write_text(
        d,
        "song.toml",
        r#"
sample_rate = 48000
fade_out_s = 0.3
[metadata]
title = "Oracle"
[output]
file = "oracle.wav"
format = "wav32f"
[master]
ceiling_dbtp = 40.0

[[track]]
name = "a"
file = "a.wav"
gain_db = -6.0
pan = 0.5
output = "grp"
sends = [ { bus = "verb", level_db = -10.0 } ]

[[track]]
name = "b"
file = "b.wav"
pan = -0.3
fade_in_s = 0.05
automation.gain_db = [[0.1, 0.0], [0.5, -12.0]]

[[track]]
name = "c"
file = "c.wav"
gain_db = 3.0
fade_out_s = 0.2
sends = [ { bus = "verb", level_db = -6.0, pre_fader = true } ]
automation.pan = [[0.0, -1.0], [1.0, 1.0]]

[[track]]
name = "muted"
file = "e.wav"
mute = true

[[bus]]
name = "grp"
gain_db = -2.0

[[bus]]
name = "verb"
output = "grp"
chain = [ { type = "trim", gain_db = -3.0 } ]
"#,
    );
    let out = d.join("out");
    let report = render_batch(
        &[scene],
        &RenderOptions {
            out_dir: out.clone(),
            backend: Backend::Cpu,
            on_song_done: None,
            skip_existing: false,
            max_reduction_db: mixfarm::engine::DEFAULT_MAX_REDUCTION_DB,
        },
    );
    assert_eq!(report.exit_code(), 0, "{:?}", report.songs[0].error);
    let (got, spec) = read_wav(&out.join("oracle.wav"));
    assert_eq!(spec.sample_rate, RATE);
    assert_eq!(got[0].len(), n, "song length = longest stem");

    // oracle, f64, sample by sample
    let t = |i: usize| i as f64 / f64::from(RATE);
    let mut max_err = 0.0f64;
    let c_fade_len = (0.2 * f64::from(RATE)) as usize;
    let c_len = c.len();
    for i in 0..n {
        let mut grp = [0.0f64; 2];
        let mut verb = [0.0f64; 2];
        let mut master = [0.0f64; 2];
        // a: mono, -6 dB, pan 0.5 → grp; post-fader send -10 dB → verb
        let pa = pan_mono(0.5);
        for ch in 0..2 {
            let x = f64::from(a[i]) * db(-6.0) * pa[ch];
            grp[ch] += x;
            verb[ch] += x * db(-10.0);
        }
        // b: stereo balance -0.3, fade-in 0.05 s, gain automation (dB-linear) → master
        let pb = pan_balance(-0.3);
        let gb = db(interp(&[[0.1, 0.0], [0.5, -12.0]], t(i)))
            * fade(i, n, (0.05 * f64::from(RATE)) as usize, 0);
        let bs = [f64::from(b[0][i]), f64::from(b_r[i])];
        for ch in 0..2 {
            master[ch] += bs[ch] * pb[ch] * gb;
        }
        // c: mono, +3 dB, pan automation -1 → 1, fade-out 0.2 s at the song end; pre-fader send -6 dB
        let xc = if i < c_len { f64::from(c[i]) } else { 0.0 };
        let pc = pan_mono(interp(&[[0.0, -1.0], [1.0, 1.0]], t(i)));
        let fc = fade(i, n, 0, c_fade_len);
        for ch in 0..2 {
            master[ch] += xc * db(3.0) * pc[ch] * fc;
            verb[ch] += xc * db(-6.0);
        }
        // verb: trim -3 dB → grp; grp: -2 dB → master; song fade-out 0.3 s
        for ch in 0..2 {
            grp[ch] += verb[ch] * db(-3.0);
            master[ch] += grp[ch] * db(-2.0);
            let want = master[ch] * fade(i, n, 0, (0.3 * f64::from(RATE)) as usize);
            max_err = max_err.max((want - f64::from(got[ch][i])).abs());
        }
    }
    println!(
        "mix vs f64 oracle: max error {max_err:.3e} ({:.1} dBFS)",
        20.0 * max_err.log10()
    );
    assert!(max_err < ORACLE_TOLERANCE, "max error {max_err}");
}

#[test]
fn solo_silences_the_other_tracks() {
    let dir = tempdir();
    let d = dir.path();
    let n = 4800;
    write_f32(&d.join("x.wav"), &[music_like(n, RATE, 7)], RATE);
    write_f32(&d.join("y.wav"), &[music_like(n, RATE, 8)], RATE);
    let scene = write_text(
        d,
        "s.toml",
        r#"
sample_rate = 48000
[output]
file = "s.wav"
format = "wav32f"
[master]
ceiling_dbtp = 40.0
[[track]]
name = "x"
file = "x.wav"
solo = true
[[track]]
name = "y"
file = "y.wav"
"#,
    );
    let out = d.join("out");
    let r = render_batch(
        &[scene],
        &RenderOptions {
            out_dir: out.clone(),
            backend: Backend::Cpu,
            on_song_done: None,
            skip_existing: false,
            max_reduction_db: mixfarm::engine::DEFAULT_MAX_REDUCTION_DB,
        },
    );
    assert_eq!(r.exit_code(), 0);
    let (got, _) = read_wav(&out.join("s.wav"));
    let x = music_like(n, RATE, 7);
    let g = 1.0 / 2f64.sqrt();
    let err = (0..n)
        .map(|i| (f64::from(x[i]) * g - f64::from(got[0][i])).abs())
        .fold(0.0, f64::max);
    assert!(
        err < 1e-6,
        "solo: left channel should be x alone, error {err}"
    );
}
