//! EBU Tech 3341 / 3342 test signals synthesised from their descriptions (the official
//! files are not needed): level-stepped 1 kHz sines, bursts, and the true-peak cases 15–23.

use std::f64::consts::{PI, TAU};

/// A sine `freq_hz` made of segments `(peak level dBFS, seconds)` (level −∞: silence), the
/// phase running on across segment boundaries, starting at `phase_deg`.
pub fn sine_segments(
    freq_hz: f64,
    segments: &[(f64, f64)],
    phase_deg: f64,
    rate_hz: u32,
) -> Vec<f32> {
    let mut out = Vec::new();
    for &(level_dbfs, seconds) in segments {
        let amp = 10f64.powf(level_dbfs / 20.0);
        let n = (seconds * rate_hz as f64).round() as usize;
        let start = out.len();
        out.extend((start..start + n).map(|i| {
            let phase = TAU * freq_hz * i as f64 / rate_hz as f64 + phase_deg.to_radians();
            (amp * phase.sin()) as f32
        }));
    }
    out
}

/// Raised-cosine fade-in and fade-out of `fade_s` at both ends, in place.
pub fn fade_ends(x: &mut [f32], fade_s: f64, rate_hz: u32) {
    let n = ((fade_s * rate_hz as f64) as usize).min(x.len() / 2);
    let len = x.len();
    for i in 0..n {
        let g = (0.5 - 0.5 * (PI * i as f64 / n as f64).cos()) as f32;
        x[i] *= g;
        x[len - 1 - i] *= g;
    }
}

/// Band-limited periodic pulse train: `Σ_k w_k cos(2πk(t − t₀)/P)`, harmonics up to
/// 0.45·fs with half-Hann weights (all ≥ 0), normalised so its maximum, reached at every
/// `t₀ + mP` whatever `t₀`'s fraction of a sample, is exactly `peak`. Period `P` = 0.1 s; the
/// pulses sit mid-period, so the signal is ~0 at both ends.
pub fn pulse_train(rate_hz: u32, seconds: f64, offset_frames: f64, peak: f64) -> Vec<f32> {
    let period = (rate_hz / 10) as usize;
    let k_max = (0.45 * period as f64) as usize;
    let w: Vec<f64> = (1..=k_max)
        .map(|k| (PI * k as f64 / (2.0 * (k_max + 1) as f64)).cos().powi(2))
        .collect();
    let norm: f64 = w.iter().sum();
    let t0 = period as f64 / 2.0 + offset_frames;
    let one: Vec<f64> = (0..period)
        .map(|n| {
            let th = TAU * (n as f64 - t0) / period as f64;
            w.iter()
                .enumerate()
                .map(|(i, wk)| wk * ((i + 1) as f64 * th).cos())
                .sum::<f64>()
                * peak
                / norm
        })
        .collect();
    let frames = (seconds * rate_hz as f64) as usize;
    (0..frames).map(|n| one[n % period] as f32).collect()
}

/// EBU Tech 3341 true-peak case `case` (15–23) at 48 kHz, stereo, 1 s, with its exact
/// true peak from the definition (dBTP; the specification rounds: −6.0, +3.0, 0.0). 15–19 are the specification's sines (fs/4, fs/6, fs/8 with the phase
/// offsets it names; 10 ms raised-cosine fades so no switch-on step overshoots); 20–23 are
/// 0 dBTP band-limited pulses whose peak falls on a sample (20) or ¼, ½ and ⅓ of a sample
/// after one (21–23): our reading of "inter-sample peaks of a band-limited pulse", not the
/// official files.
pub fn true_peak_case(case: u32) -> (Vec<Vec<f32>>, f64) {
    let lin_db = |a: f64| 20.0 * a.log10();
    let rate = 48_000;
    let sine = |div: f64, amp: f64, phase: f64| {
        let mut x = sine_segments(rate as f64 / div, &[(20.0 * amp.log10(), 1.0)], phase, rate);
        fade_ends(&mut x, 0.01, rate);
        x
    };
    let (x, want) = match case {
        15 => (sine(4.0, 0.5, 0.0), lin_db(0.5)),
        16 => (sine(4.0, 0.5, 45.0), lin_db(0.5)),
        17 => (sine(6.0, 0.5, 60.0), lin_db(0.5)),
        18 => (sine(8.0, 0.5, 67.5), lin_db(0.5)),
        19 => (sine(4.0, 1.41, 45.0), lin_db(1.41)),
        20 => (pulse_train(rate, 1.0, 0.0, 1.0), 0.0),
        21 => (pulse_train(rate, 1.0, 0.25, 1.0), 0.0),
        22 => (pulse_train(rate, 1.0, 0.5, 1.0), 0.0),
        23 => (pulse_train(rate, 1.0, 1.0 / 3.0, 1.0), 0.0),
        _ => panic!("no true-peak case {case}"),
    };
    (vec![x.clone(), x], want)
}
