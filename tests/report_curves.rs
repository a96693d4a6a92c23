//! The meters over time that the HTML report draws (issue 14): momentary and short-term
//! loudness, true peak and spectrum per hop from `loudness::measure_with_curves`, the
//! limiter's gain reduction per hop, and old sidecars (without curves) still read.
//! Expected values come from the signals' definitions (EBU Tech 3341: a stereo 1 kHz sine
//! at X dBFS reads X LUFS; a sine of amplitude A has power A²/2 per channel) and from the
//! limiter's specification (steady gain reduction = peak − (ceiling − safety margin)).

mod common;

use common::ebu_signals::sine_segments;
use mixfarm::loudness::{self, curves};
use mixfarm::ops::limiter::{Limiter, SAFETY_MARGIN_DB};

const RATE: u32 = 48_000;

/// A stereo 1 kHz sine at −20 dBFS for 6 s, then at −30 dBFS for 6 s.
fn stepped() -> Vec<Vec<f32>> {
    let x = sine_segments(1000.0, &[(-20.0, 6.0), (-30.0, 6.0)], 0.0, RATE);
    vec![x.clone(), x]
}

/// Values of hops whose whole span lies in `lo_s..hi_s`.
fn within(series: &[Option<f32>], hop_s: f64, lo_s: f64, hi_s: f64) -> Vec<f64> {
    series
        .iter()
        .enumerate()
        .filter(|(k, _)| *k as f64 * hop_s >= lo_s && (*k + 1) as f64 * hop_s <= hi_s)
        .map(|(_, v)| f64::from(v.expect("defined")))
        .collect()
}

#[test]
fn loudness_and_true_peak_over_time_follow_the_steps() {
    let x = stepped();
    let m = loudness::measure_with_curves(&x, RATE).unwrap();
    let c = &m.curves;
    let frames = x[0].len();
    assert_eq!(c.hop_s, 0.1, "12 s fits 300 values at 100 ms");
    let hops = frames.div_ceil(4800);
    assert_eq!(c.momentary_lufs.len(), hops);
    assert_eq!(c.short_term_lufs.len(), hops);
    assert_eq!(c.true_peak_dbtp.len(), hops);
    // momentary windows (400 ms) ending in 0.5..6 s read −20, in 6.5..12 s read −30
    for (lo, hi, want) in [(0.5, 6.0, -20.0), (6.5, 12.0, -30.0)] {
        let v = within(&c.momentary_lufs, c.hop_s, lo, hi);
        assert!(!v.is_empty());
        for l in v {
            assert!(
                (l - want).abs() < 0.1,
                "momentary {l} in {lo}..{hi} s, want {want}"
            );
        }
    }
    // short-term windows (3 s) ending in 3.1..6 s read −20, in 9.1..12 s read −30
    for (lo, hi, want) in [(3.1, 6.0, -20.0), (9.1, 12.0, -30.0)] {
        for l in within(&c.short_term_lufs, c.hop_s, lo, hi) {
            assert!(
                (l - want).abs() < 0.1,
                "short-term {l} in {lo}..{hi} s, want {want}"
            );
        }
    }
    // true peak: the sine's amplitude, away from the step
    for (lo, hi, want) in [(0.0, 5.9, -20.0), (6.1, 12.0, -30.0)] {
        for l in within(&c.true_peak_dbtp, c.hop_s, lo, hi) {
            assert!(
                (l - want).abs() < 0.05,
                "true peak {l} in {lo}..{hi} s, want {want}"
            );
        }
    }
    // each series' largest value is the figure the sidecar reports (0.01 dB rounding)
    let top = |s: &[Option<f32>]| s.iter().flatten().fold(f32::MIN, |a, &b| a.max(b)) as f64;
    let l = m.loudness;
    assert!((top(&c.momentary_lufs) - l.momentary_max_lufs.unwrap()).abs() <= 0.005);
    assert!((top(&c.short_term_lufs) - l.short_term_max_lufs.unwrap()).abs() <= 0.005);
    assert!((top(&c.true_peak_dbtp) - l.true_peak_dbtp).abs() <= 0.005);
    // and the figures are those of `measure`, which has no curves
    assert_eq!(loudness::measure(&x, RATE).unwrap(), l);
}

#[test]
fn spectrum_peaks_at_the_tone_with_its_power() {
    let x = stepped();
    let c = loudness::measure_with_curves(&x, RATE).unwrap().curves;
    let s = &c.spectrum;
    assert_eq!(s.hz.len(), s.db.len());
    assert!((s.hz[0] - 20.0).abs() < 0.1);
    let (k, &peak) =
        s.db.iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap();
    // centres 1/6 octave apart, each band 1/3 octave wide: the tone sits in the band
    // nearest 1 kHz
    let f = f64::from(s.hz[k]);
    assert!(
        (f / 1000.0).log2().abs() <= 1.0 / 12.0 + 1e-3,
        "peak band {f} Hz"
    );
    // mean-square power, channels summed, averaged over the song: 2 · (A1² + A2²)/2 / 2
    let (a1, a2) = (10f64.powf(-20.0 / 20.0), 10f64.powf(-30.0 / 20.0));
    let want = 10.0 * ((a1 * a1 + a2 * a2) / 2.0).log10();
    assert!(
        (f64::from(peak) - want).abs() < 0.5,
        "peak band {peak} dB, want {want:.2}"
    );
    // far from the tone, the band holds only the Hann window's leakage
    let low = s.hz.iter().position(|&h| h >= 100.0).unwrap();
    assert!(f64::from(s.db[low]) < want - 60.0);
}

#[test]
fn hop_grows_with_the_song() {
    assert_eq!(curves::hop_seconds(12 * RATE as usize, RATE), 0.1);
    assert_eq!(curves::hop_seconds(300 * RATE as usize, RATE), 1.0);
    for minutes in [1usize, 5, 20, 80] {
        let frames = minutes * 60 * RATE as usize;
        let hop = curves::hop_frames(frames, RATE);
        assert!(frames.div_ceil(hop) <= curves::MAX_POINTS, "{minutes} min");
    }
}

#[test]
fn limiter_reduction_per_hop_follows_the_loud_part() {
    // 2 s at −20 dBFS, 2 s at 0 dBFS, 2 s at −20 dBFS
    let x = sine_segments(1000.0, &[(-20.0, 2.0), (0.0, 2.0), (-20.0, 2.0)], 0.0, RATE);
    let ceiling = -1.0;
    let lim = Limiter::new(ceiling, 50.0, 240, RATE);
    let mut plain = vec![x.clone(), x.clone()];
    let gr_plain = lim.process_cpu(&mut plain);
    let mut traced = vec![x.clone(), x];
    let hop = 4800;
    let (gr, per_hop) = lim.process_cpu_traced(&mut traced, hop);
    assert_eq!(plain, traced, "tracing changes no sample");
    assert_eq!(gr, gr_plain);
    assert_eq!(per_hop.len(), (6 * RATE as usize).div_ceil(hop));
    let top = per_hop.iter().fold(0.0f32, |a, &b| a.max(b));
    assert!((f64::from(top) - gr).abs() < 1e-4);
    // steady state inside the loud part: peak 0 dBTP brought to ceiling − margin
    let want = 0.0 - (ceiling - SAFETY_MARGIN_DB);
    for (k, &v) in per_hop.iter().enumerate() {
        let (a, b) = (k as f64 * 0.1, (k + 1) as f64 * 0.1);
        if a >= 2.1 && b <= 3.9 {
            assert!(
                (f64::from(v) - want).abs() < 0.1,
                "hop {k}: {v} dB, want {want}"
            );
        }
        if b <= 1.9 || a >= 4.6 {
            assert!(v < 0.01, "hop {k}: {v} dB where the sine is quiet");
        }
    }
}

#[test]
fn old_sidecars_without_curves_still_read() {
    let x = stepped();
    let m = loudness::measure_with_curves(&x, RATE).unwrap();
    let text = serde_json::json!({
        "input": "a.wav", "key": "a.wav", "title": "A", "track_number": 1, "isrc": null,
        "album": "X", "delivery": "streaming", "outputs": ["a.wav"], "target_lufs": -14.0,
        "ceiling_dbtp": -1.0, "mode": "track", "reason": "", "match_eq": null,
        "input_loudness": m.loudness, "output_loudness": m.loudness, "gain_db": 1.0,
        "limiter_reduction_db": 0.5, "seconds": 1.0, "status": "ok", "error": null,
        "input_sha256": null, "settings_hash": null, "mixfarm_version": "0.0.0",
        "manifest_sha256": null, "shard": null
    })
    .to_string();
    let r: mixfarm::master::SongReport = serde_json::from_str(&text).unwrap();
    assert!(r.curves.is_none());
    let seq = r#"{"album":"X","delivery":"streaming","files":[],"cue_sheets":[],
        "sample_rate":48000,"total_frames":10,"track_start_frames":[0],"status":"ok",
        "error":null,"settings_hash":"h","mixfarm_version":"0.0.0"}"#;
    let s: mixfarm::master::sidecar::SequenceReport = serde_json::from_str(seq).unwrap();
    assert!(s.track_frames.is_empty());

    // `mixfarm report` still builds the pages; the song page says it has no curves
    let tmp = tempfile::tempdir().unwrap();
    let album = tmp.path().join("streaming").join("X");
    std::fs::create_dir_all(&album).unwrap();
    std::fs::write(album.join("01 - A.json"), &text).unwrap();
    let w = mixfarm::report::write_report(tmp.path()).unwrap();
    assert_eq!((w.song_pages, w.album_pages), (1, 1));
    let page = std::fs::read_to_string(tmp.path().join("report/streaming/X/01 - A.html")).unwrap();
    assert!(page.contains("holds no curves"));
    let overview = std::fs::read_to_string(w.overview).unwrap();
    assert!(overview.contains("data-sidecar=\"streaming/X/01 - A.json\""));
}

#[test]
fn sidecar_json_keeps_number_arrays_on_one_line() {
    let x = stepped();
    let m = loudness::measure_with_curves(&x, RATE).unwrap();
    let v = serde_json::json!({
        "title": "12",
        "names": ["1.5", "null", "x"],
        "curves": m.curves,
        "empty": [],
        "nested": [[1.0, 2.0], [null, 3.5]]
    });
    let pretty = serde_json::to_string_pretty(&v).unwrap();
    let compact = mixfarm::master::report::compact_number_arrays(&pretty);
    let back: serde_json::Value = serde_json::from_str(&compact).unwrap();
    let curves: loudness::Curves = serde_json::from_value(back["curves"].clone()).unwrap();
    assert_eq!(curves, m.curves, "the same curves read back");
    for k in ["title", "names", "empty", "nested"] {
        assert_eq!(back[k], v[k], "{k}");
    }
    // the 120-value series take one line each; the strings keep theirs
    assert!(compact.lines().count() < 40, "{compact}");
    assert!(compact.contains("\"1.5\","), "strings untouched");
    // as written in a sidecar (f32 values as such): under two thirds of the size
    let pretty = serde_json::to_string_pretty(&m.curves).unwrap();
    let compact = mixfarm::master::report::compact_number_arrays(&pretty);
    assert!(
        compact.len() * 3 < pretty.len() * 2,
        "{} of {}",
        compact.len(),
        pretty.len()
    );
    let back: loudness::Curves = serde_json::from_str(&compact).unwrap();
    assert_eq!(back, m.curves);
}
