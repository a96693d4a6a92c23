//! EBU conformance of the measurements `mixfarm analyze` reports. Each test synthesises a
//! test signal from its description in EBU Tech 3341 (loudness, true peak) or EBU Tech 3342
//! (loudness range) and runs it through `analyze::analyze_planar`, the code path the CLI
//! takes after decoding a file. The official test-set files are not needed.
//!
//! Cases 10, 11, 13 and 14 place their bursts at offsets that are not multiples of 100 ms
//! (the official files' offsets are not reproduced: a meter stepping 100 ms reads such
//! bursts up to ~0.5 LU low). Cases 11 and 14 list one maximum per segment: each segment
//! is measured together with the one before it (so windows across the boundary count) and,
//! the levels rising, the maximum of that stretch is the segment's burst. Cases 20–23 are
//! band-limited pulses (see `tests/common/ebu_signals.rs`).
//!
//! Sine levels are peak levels in dBFS (a 1 kHz stereo sine at −23 dBFS per channel reads
//! −23 LUFS), as in the specifications. All signals are 48 kHz unless a test says otherwise.

mod common;

use mixfarm::analyze::{analyze_file, analyze_planar, Analysis};

/// Sample rate of the EBU test signals.
const RATE_HZ: u32 = 48_000;
/// Tech 3341: M, S and I must read within ±0.1 LU of the expected value.
const LOUDNESS_TOL_LU: f64 = 0.1;
/// Tech 3341 cases 15–19: the true peak may read at most 0.2 dB above the expected value…
const TRUE_PEAK_TOL_ABOVE_DB: f64 = 0.2;
/// …and at most 0.4 dB below it.
const TRUE_PEAK_TOL_BELOW_DB: f64 = 0.4;
/// Tech 3342: the loudness range must read within ±1 LU.
const LRA_TOL_LU: f64 = 1.0;
/// Sample peaks are computed from the signal definition in f64; the f32 samples differ by
/// at most half an f32 ulp (~3e-8 relative, ~3e-7 dB).
const SAMPLE_PEAK_TOL_DB: f64 = 1e-4;

/// A sine `freq_hz` made of segments `(peak level dBFS, seconds)`, the phase running on
/// across segment boundaries, starting at `phase_deg`.
fn sine_segments(freq_hz: f64, segments: &[(f64, f64)], phase_deg: f64, rate_hz: u32) -> Vec<f32> {
    let mut out = Vec::new();
    for &(level_dbfs, seconds) in segments {
        let amp = 10f64.powf(level_dbfs / 20.0);
        let n = (seconds * rate_hz as f64).round() as usize;
        let start = out.len();
        out.extend((start..start + n).map(|i| {
            let phase = std::f64::consts::TAU * freq_hz * i as f64 / rate_hz as f64
                + phase_deg.to_radians();
            (amp * phase.sin()) as f32
        }));
    }
    out
}

/// The same 1 kHz sequence on both channels of a stereo signal, measured.
fn stereo_1k(segments: &[(f64, f64)]) -> Analysis {
    let x = sine_segments(1000.0, segments, 0.0, RATE_HZ);
    analyze_planar(&[x.clone(), x], RATE_HZ).expect("analysis")
}

fn check(case: &str, what: &str, measured: Option<f64>, expected: f64, tol: f64) {
    let m = measured.unwrap_or_else(|| panic!("{case}: {what} is undefined, expected {expected}"));
    println!(
        "{case}: {what} {m:.3} (expected {expected:.1} ±{tol}, error {:+.3})",
        m - expected
    );
    assert!(
        (m - expected).abs() <= tol,
        "{case}: {what} {m:.3}, expected {expected} ±{tol}"
    );
}

// ---- EBU Tech 3341, Table 1 (minimum requirements of an "EBU Mode" meter) ----

/// Case 1: "Stereo sine wave, 1000 Hz, −23.0 dBFS (per channel), 20 s": M, S and I = −23.0 LUFS.
#[test]
fn tech3341_case_1() {
    let a = stereo_1k(&[(-23.0, 20.0)]);
    check("3341-1", "I", a.integrated_lufs, -23.0, LOUDNESS_TOL_LU);
    check(
        "3341-1",
        "max M",
        a.momentary_max_lufs,
        -23.0,
        LOUDNESS_TOL_LU,
    );
    check(
        "3341-1",
        "max S",
        a.short_term_max_lufs,
        -23.0,
        LOUDNESS_TOL_LU,
    );
}

/// Case 1 again at 44.1 kHz: the K-weighting is defined for any rate, the reading must not move.
#[test]
fn tech3341_case_1_at_44k1() {
    let x = sine_segments(1000.0, &[(-23.0, 20.0)], 0.0, 44_100);
    let a = analyze_planar(&[x.clone(), x], 44_100).expect("analysis");
    check(
        "3341-1 @44.1k",
        "I",
        a.integrated_lufs,
        -23.0,
        LOUDNESS_TOL_LU,
    );
}

/// Case 2: "Stereo sine wave, 1000 Hz, −33.0 dBFS, 20 s": M, S and I = −33.0 LUFS.
#[test]
fn tech3341_case_2() {
    let a = stereo_1k(&[(-33.0, 20.0)]);
    check("3341-2", "I", a.integrated_lufs, -33.0, LOUDNESS_TOL_LU);
    check(
        "3341-2",
        "max M",
        a.momentary_max_lufs,
        -33.0,
        LOUDNESS_TOL_LU,
    );
    check(
        "3341-2",
        "max S",
        a.short_term_max_lufs,
        -33.0,
        LOUDNESS_TOL_LU,
    );
}

/// Case 3: "Stereo sine, 1000 Hz: 10 s at −36.0 dBFS, 60 s at −23.0 dBFS, 10 s at −36.0 dBFS":
/// I = −23.0 LUFS (the relative gate removes the −36 parts).
#[test]
fn tech3341_case_3() {
    let a = stereo_1k(&[(-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0)]);
    check("3341-3", "I", a.integrated_lufs, -23.0, LOUDNESS_TOL_LU);
}

/// Case 4: "Stereo sine, 1000 Hz: 10 s at −72.0, 10 s at −36.0, 60 s at −23.0, 10 s at −36.0,
/// 10 s at −72.0 dBFS": I = −23.0 LUFS (absolute gate at −70 LUFS, then the relative gate).
#[test]
fn tech3341_case_4() {
    let a = stereo_1k(&[
        (-72.0, 10.0),
        (-36.0, 10.0),
        (-23.0, 60.0),
        (-36.0, 10.0),
        (-72.0, 10.0),
    ]);
    check("3341-4", "I", a.integrated_lufs, -23.0, LOUDNESS_TOL_LU);
}

/// Case 5: "Stereo sine, 1000 Hz: 20 s at −26.0, 20.1 s at −20.0, 20 s at −26.0 dBFS": I = −23.0 LUFS.
#[test]
fn tech3341_case_5() {
    let a = stereo_1k(&[(-26.0, 20.0), (-20.0, 20.1), (-26.0, 20.0)]);
    check("3341-5", "I", a.integrated_lufs, -23.0, LOUDNESS_TOL_LU);
}

/// Case 6: "5-channel sine, 1000 Hz, 20 s: L and R at −28.0 dBFS, C at −24.0 dBFS, Ls and Rs at
/// −30.0 dBFS" (channel order L, R, C, Ls, Rs): I = −23.0 LUFS (surrounds weighted +1.5 dB).
#[test]
fn tech3341_case_6() {
    let ch = |db: f64| sine_segments(1000.0, &[(db, 20.0)], 0.0, RATE_HZ);
    let a = analyze_planar(
        &[ch(-28.0), ch(-28.0), ch(-24.0), ch(-30.0), ch(-30.0)],
        RATE_HZ,
    )
    .expect("analysis");
    check("3341-6", "I", a.integrated_lufs, -23.0, LOUDNESS_TOL_LU);
}

/// Case 9: "Stereo sine, 1000 Hz: 1.34 s at −20.0 dBFS then 1.66 s at −30.0 dBFS, repeated 5
/// times": S = −23.0 LUFS, constant after 3 s (every 3 s window holds one period).
#[test]
fn tech3341_case_9() {
    let seq: Vec<(f64, f64)> = (0..5)
        .flat_map(|_| [(-20.0, 1.34), (-30.0, 1.66)])
        .collect();
    let a = stereo_1k(&seq);
    check(
        "3341-9",
        "max S",
        a.short_term_max_lufs,
        -23.0,
        LOUDNESS_TOL_LU,
    );
}

/// Case 12: "Stereo sine, 1000 Hz: 0.18 s at −20.0 dBFS then 0.22 s at −30.0 dBFS, repeated 25
/// times": M = −23.0 LUFS, constant after 1 s (every 400 ms window holds one period).
#[test]
fn tech3341_case_12() {
    let seq: Vec<(f64, f64)> = (0..25)
        .flat_map(|_| [(-20.0, 0.18), (-30.0, 0.22)])
        .collect();
    let a = stereo_1k(&seq);
    check(
        "3341-12",
        "max M",
        a.momentary_max_lufs,
        -23.0,
        LOUDNESS_TOL_LU,
    );
}

/// Case 6 as 5.1 (L R C LFE Ls Rs): the LFE channel, here a loud 1 kHz sine at −10 dBFS,
/// is excluded; I = −23.0 LUFS.
#[test]
fn tech3341_case_6_as_5_1() {
    let ch = |db: f64| sine_segments(1000.0, &[(db, 20.0)], 0.0, RATE_HZ);
    let x = [
        ch(-28.0),
        ch(-28.0),
        ch(-24.0),
        ch(-10.0),
        ch(-30.0),
        ch(-30.0),
    ];
    let a = analyze_planar(&x, RATE_HZ).expect("analysis");
    check(
        "3341-6 (5.1)",
        "I",
        a.integrated_lufs,
        -23.0,
        LOUDNESS_TOL_LU,
    );
}

/// Cases 6 (5.0) and 6 as 5.1 read from 24-bit WAV files through `analyze`'s file path
/// (the surround reader).
#[test]
fn tech3341_case_6_files() {
    let dir = common::tempdir();
    let ch = |db: f64| sine_segments(1000.0, &[(db, 20.0)], 0.0, RATE_HZ);
    for (name, x) in [
        (
            "5.0",
            vec![ch(-28.0), ch(-28.0), ch(-24.0), ch(-30.0), ch(-30.0)],
        ),
        (
            "5.1",
            vec![
                ch(-28.0),
                ch(-28.0),
                ch(-24.0),
                ch(-10.0),
                ch(-30.0),
                ch(-30.0),
            ],
        ),
    ] {
        let path = dir.path().join(format!("case6-{name}.wav"));
        common::write_int(&path, &x, RATE_HZ, 24);
        let a = analyze_file(&path).expect("analysis");
        assert_eq!(a.channels, x.len());
        check(
            &format!("3341-6 file ({name})"),
            "I",
            a.integrated_lufs,
            -23.0,
            LOUDNESS_TOL_LU,
        );
    }
}

/// Mono convention: a mono file is measured as dual-mono, exactly as the centred stereo
/// file mixfarm makes of it (ffmpeg's `ebur128=dualmono=true`): a 1 kHz sine at −23 dBFS
/// reads −23.0 LUFS mono (counted once, ffmpeg's default, it would read −26.0), the same as
/// on both channels of a stereo file.
#[test]
fn mono_is_dual_mono() {
    let x = sine_segments(1000.0, &[(-23.0, 10.0)], 0.0, RATE_HZ);
    let mono = analyze_planar(std::slice::from_ref(&x), RATE_HZ).expect("analysis");
    let stereo = analyze_planar(&[x.clone(), x], RATE_HZ).expect("analysis");
    check("mono", "I", mono.integrated_lufs, -23.0, LOUDNESS_TOL_LU);
    for (m, s) in [
        (mono.integrated_lufs, stereo.integrated_lufs),
        (mono.momentary_max_lufs, stereo.momentary_max_lufs),
        (mono.short_term_max_lufs, stereo.short_term_max_lufs),
    ] {
        assert!(
            (m.unwrap() - s.unwrap()).abs() < 1e-6,
            "mono {m:?} vs stereo {s:?}"
        );
    }
}

/// A 1 kHz stereo burst of `burst_s` at `level` dBFS after `offset_s` of silence, then
/// `tail_s` of silence.
fn burst(level: f64, offset_s: f64, burst_s: f64, tail_s: f64) -> Vec<f32> {
    let silence = |s: f64| vec![0.0f32; (s * RATE_HZ as f64).round() as usize];
    let mut x = silence(offset_s);
    x.extend(sine_segments(1000.0, &[(level, burst_s)], 0.0, RATE_HZ));
    x.extend(silence(tail_s));
    x
}

/// Case 10: a 3 s burst at −23 LUFS, anywhere: max S = −23.0 LUFS (ten offsets, none a
/// multiple of 100 ms).
#[test]
fn tech3341_case_10() {
    for k in 0..10 {
        let offset = 0.5 + 0.137 * k as f64;
        let x = burst(-23.0, offset, 3.0, 0.7);
        let a = analyze_planar(&[x.clone(), x], RATE_HZ).expect("analysis");
        check(
            &format!("3341-10 @{offset:.3} s"),
            "max S",
            a.short_term_max_lufs,
            -23.0,
            LOUDNESS_TOL_LU,
        );
    }
}

/// Case 13: a 0.4 s burst at −23 LUFS, anywhere: max M = −23.0 LUFS (twenty offsets).
#[test]
fn tech3341_case_13() {
    for k in 0..20 {
        let offset = 0.2 + 0.0371 * k as f64;
        let x = burst(-23.0, offset, 0.4, 0.3);
        let a = analyze_planar(&[x.clone(), x], RATE_HZ).expect("analysis");
        check(
            &format!("3341-13 @{offset:.4} s"),
            "max M",
            a.momentary_max_lufs,
            -23.0,
            LOUDNESS_TOL_LU,
        );
    }
}

/// Cases 11 and 14: segments of `segment_s` each holding one burst of `burst_s` at −38,
/// −37, … −19 LUFS at a segment-dependent offset; the maximum (`pick`) of each segment
/// measured with the one before it must read the segment's level.
fn rising_bursts(case: &str, segment_s: f64, burst_s: f64, pick: fn(&Analysis) -> Option<f64>) {
    let seg = |k: usize| {
        let offset = 0.05 + 0.0937 * k as f64 % (segment_s - burst_s - 0.05);
        burst(
            -38.0 + k as f64,
            offset,
            burst_s,
            segment_s - offset - burst_s,
        )
    };
    let segments: Vec<Vec<f32>> = (0..20).map(seg).collect();
    for k in 0..20 {
        let mut x = if k > 0 {
            segments[k - 1].clone()
        } else {
            Vec::new()
        };
        x.extend(&segments[k]);
        let a = analyze_planar(&[x.clone(), x], RATE_HZ).expect("analysis");
        check(
            &format!("{case} segment {}", k + 1),
            "max",
            pick(&a),
            -38.0 + k as f64,
            LOUDNESS_TOL_LU,
        );
    }
}

/// Case 11: 3 s bursts in 6 s segments: max S = −38, −37, … −19 LUFS.
#[test]
fn tech3341_case_11() {
    rising_bursts("3341-11", 6.0, 3.0, |a| a.short_term_max_lufs);
}

/// Case 14: 0.4 s bursts in 1 s segments: max M = −38, −37, … −19 LUFS.
#[test]
fn tech3341_case_14() {
    rising_bursts("3341-14", 1.0, 0.4, |a| a.momentary_max_lufs);
}

/// Cases 20–23: band-limited pulses at 0 dBTP, on a sample and ¼, ½, ⅓ of a sample after
/// one: true peak 0.0 dBTP (+0.2 / −0.4).
#[test]
fn tech3341_cases_20_to_23() {
    for case in 20..=23 {
        let (x, _) = common::ebu_signals::true_peak_case(case);
        let tp = analyze_planar(&x, RATE_HZ)
            .expect("analysis")
            .true_peak_dbtp;
        println!("3341-{case}: true peak {tp:+.3} dBTP (expected 0.0 +0.2/−0.4)");
        assert!(
            (-TRUE_PEAK_TOL_BELOW_DB..=TRUE_PEAK_TOL_ABOVE_DB).contains(&tp),
            "3341-{case}: true peak {tp}"
        );
    }
}

// ---- EBU Tech 3341, true-peak cases 15–19 ----

/// Raised-cosine fade-in and fade-out of the true-peak signals. The cases describe steady
/// sines, whose true peak is the sine's amplitude. A sine switched on abruptly at a non-zero
/// phase is a step, and its band-limited reconstruction really overshoots (Gibbs): measured
/// here without fades, case 17 reads −5.66 dBTP and case 18 −5.37 dBTP; with 1 ms fades
/// −6.01 and −6.02. The fades leave the steady part, and so the sample peak, unchanged.
const TRUE_PEAK_FADE_S: f64 = 0.01;

fn fade_ends(x: &mut [f32], fade_s: f64, rate_hz: u32) {
    let n = ((fade_s * rate_hz as f64) as usize).min(x.len() / 2);
    let len = x.len();
    for i in 0..n {
        let g = (0.5 - 0.5 * (std::f64::consts::PI * i as f64 / n as f64).cos()) as f32;
        x[i] *= g;
        x[len - 1 - i] *= g;
    }
}

/// A stereo sine at `rate / divisor` with peak `amplitude` (linear) and start phase, 3 s with
/// 10 ms fades; the
/// measured true peak must read `expected_dbtp` (+0.2 / −0.4 dB) and the sample peak what the
/// definition gives: `amplitude · max_k |sin(phase + 2πk / divisor)|`.
fn true_peak_case(case: &str, divisor: f64, amplitude: f64, phase_deg: f64, expected_dbtp: f64) {
    let level_dbfs = 20.0 * amplitude.log10();
    let mut x = sine_segments(
        RATE_HZ as f64 / divisor,
        &[(level_dbfs, 3.0)],
        phase_deg,
        RATE_HZ,
    );
    fade_ends(&mut x, TRUE_PEAK_FADE_S, RATE_HZ);
    let a = analyze_planar(&[x.clone(), x], RATE_HZ).expect("analysis");
    let tp = a.true_peak_dbtp;
    println!(
        "{case}: true peak {tp:.3} dBTP (expected {expected_dbtp:.1} +0.2/−0.4, error {:+.3})",
        tp - expected_dbtp
    );
    assert!(
        tp <= expected_dbtp + TRUE_PEAK_TOL_ABOVE_DB
            && tp >= expected_dbtp - TRUE_PEAK_TOL_BELOW_DB,
        "{case}: true peak {tp:.3} dBTP, expected {expected_dbtp} +0.2/−0.4"
    );
    let sample_peak = (0..divisor as usize)
        .map(|k| {
            (phase_deg.to_radians() + std::f64::consts::TAU * k as f64 / divisor)
                .sin()
                .abs()
        })
        .fold(0.0, f64::max)
        * amplitude;
    let want_db = 20.0 * sample_peak.log10();
    println!(
        "{case}: sample peak {:.4} dBFS (from the definition {want_db:.4})",
        a.sample_peak_dbfs
    );
    assert!(
        (a.sample_peak_dbfs - want_db).abs() < SAMPLE_PEAK_TOL_DB,
        "{case}: sample peak"
    );
    assert!(
        tp >= a.sample_peak_dbfs - SAMPLE_PEAK_TOL_DB,
        "{case}: true peak below the sample peak"
    );
}

/// Case 15: "Stereo sine, fs/4 (12 kHz), 0.50 peak (−6.02 dBFS), phase 0°": −6.0 dBTP. The samples
/// hit the peaks (sample peak −6.0 dBFS).
#[test]
fn tech3341_case_15() {
    true_peak_case("3341-15", 4.0, 0.5, 0.0, -6.0);
}

/// Case 16: "fs/4, 0.50, phase 45°": −6.0 dBTP while the samples only reach −9.0 dBFS.
#[test]
fn tech3341_case_16() {
    true_peak_case("3341-16", 4.0, 0.5, 45.0, -6.0);
}

/// Case 17: "fs/6 (8 kHz), 0.50, phase 60°": −6.0 dBTP (sample peak −7.2 dBFS).
#[test]
fn tech3341_case_17() {
    true_peak_case("3341-17", 6.0, 0.5, 60.0, -6.0);
}

/// Case 18: "fs/8 (6 kHz), 0.50, phase 67.5°": −6.0 dBTP (sample peak −6.7 dBFS).
#[test]
fn tech3341_case_18() {
    true_peak_case("3341-18", 8.0, 0.5, 67.5, -6.0);
}

/// Case 19: "fs/4, 1.41 peak, phase 45°": +3.0 dBTP although every sample is under full scale.
#[test]
fn tech3341_case_19() {
    true_peak_case("3341-19", 4.0, 1.41, 45.0, 3.0);
}

// ---- EBU Tech 3342, loudness range cases 1–4 ----

/// Case 1: "Stereo sine, 1000 Hz: 20 s at −20 dBFS then 20 s at −30 dBFS": LRA = 10 LU.
#[test]
fn tech3342_case_1() {
    check(
        "3342-1",
        "LRA",
        stereo_1k(&[(-20.0, 20.0), (-30.0, 20.0)]).loudness_range_lu,
        10.0,
        LRA_TOL_LU,
    );
}

/// Case 2: "20 s at −20 dBFS then 20 s at −15 dBFS": LRA = 5 LU.
#[test]
fn tech3342_case_2() {
    check(
        "3342-2",
        "LRA",
        stereo_1k(&[(-20.0, 20.0), (-15.0, 20.0)]).loudness_range_lu,
        5.0,
        LRA_TOL_LU,
    );
}

/// Case 3: "20 s at −40 dBFS then 20 s at −20 dBFS": LRA = 20 LU.
#[test]
fn tech3342_case_3() {
    check(
        "3342-3",
        "LRA",
        stereo_1k(&[(-40.0, 20.0), (-20.0, 20.0)]).loudness_range_lu,
        20.0,
        LRA_TOL_LU,
    );
}

/// Case 4: "20 s each at −50, −35, −20, −35, −50 dBFS": LRA = 15 LU (the −50 parts fall under
/// the −20 LU relative gate).
#[test]
fn tech3342_case_4() {
    let seq = [
        (-50.0, 20.0),
        (-35.0, 20.0),
        (-20.0, 20.0),
        (-35.0, 20.0),
        (-50.0, 20.0),
    ];
    check(
        "3342-4",
        "LRA",
        stereo_1k(&seq).loudness_range_lu,
        15.0,
        LRA_TOL_LU,
    );
}
