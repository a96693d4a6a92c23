//! `mixfarm master` end to end (the binary): track mode lands every song on target, album
//! mode lands the album on target and keeps the songs' differences, several deliveries write
//! their own files, a garbage file fails alone. Loudness is measured from the written files
//! (`analyze_file`, ebur128's `loudness_global_multiple` for the album figure).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{music_like, tempdir, write_f32};

/// How close a song (or album) must land to its target, LU: the gain search stops at 0.01 LU;
/// the rest is the 24-bit quantisation and dither of the written file (far below 0.01 LU).
const TARGET_TOL_LU: f64 = 0.1;
/// True-peak slack over the ceiling, dB: ebur128's 4× oversampled true peak of the written
/// file can read a little above the limiter's own (finer) peak estimate.
const CEILING_TOL_DB: f64 = 0.1;
const RATE: u32 = 44_100;

fn song(dir: &Path, name: &str, seconds: f64, level: f32, seed: u64) -> PathBuf {
    let n = (seconds * f64::from(RATE)) as usize;
    let l: Vec<f32> = music_like(n, RATE, seed)
        .iter()
        .map(|x| x * level)
        .collect();
    let r: Vec<f32> = music_like(n, RATE, seed + 1)
        .iter()
        .map(|x| x * level)
        .collect();
    let p = dir.join(name);
    write_f32(&p, &[l, r], RATE);
    p
}

fn master(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mixfarm"))
        .arg("master")
        .args(args)
        .output()
        .expect("runs mixfarm");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    eprintln!("{err}");
    (out.status.code().unwrap_or(-1), err)
}

fn lufs(p: &Path) -> f64 {
    let a = mixfarm::analyze::analyze_file(p).expect("output decodes");
    a.integrated_lufs.expect("measurable")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn track_mode_puts_every_song_on_target() {
    let t = tempdir();
    let alb = t.path().join("Album X");
    std::fs::create_dir_all(&alb).unwrap();
    song(&alb, "01 loud.wav", 4.0, 1.0, 1);
    song(&alb, "02 quiet.wav", 3.0, 0.1, 3);
    let out = t.path().join("out");
    let (code, _) = master(&[s(&alb), "--out", s(&out)]);
    assert_eq!(code, 0);
    for stem in ["01 - loud", "02 - quiet"] {
        let f = out.join("streaming/Album X").join(format!("{stem}.wav"));
        let a = mixfarm::analyze::analyze_file(&f).unwrap();
        let l = a.integrated_lufs.unwrap();
        eprintln!("{stem}: {l:.3} LUFS, {:.3} dBTP", a.true_peak_dbtp);
        assert!((l + 14.0).abs() <= TARGET_TOL_LU, "{stem}: {l}");
        assert!(
            a.true_peak_dbtp <= -1.0 + CEILING_TOL_DB,
            "{stem}: {}",
            a.true_peak_dbtp
        );
        let rep: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(f.with_extension("json")).unwrap())
                .unwrap();
        let out_l = rep["output_loudness"]["integrated_lufs"].as_f64().unwrap();
        assert!((out_l - l).abs() < TARGET_TOL_LU, "report says {out_l}");
        assert!(rep["reason"].as_str().unwrap().starts_with("track"));
        assert!(rep["limiter_reduction_db"].as_f64().is_some());
    }
    let sum: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(sum["ok"], 2);
    assert_eq!(sum["failed"], 0);
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3);

    // a target hot enough that the limiter must work on the loud song (its crest factor
    // caps what any gain into a −1 dBTP limiter can reach at about −6.3 LUFS)
    let hot = t.path().join("hot");
    let (code, _) = master(&[
        s(&alb),
        "--out",
        s(&hot),
        "--target",
        "-8",
        "--ceiling",
        "-1",
    ]);
    assert_eq!(code, 0);
    for stem in ["01 - loud", "02 - quiet"] {
        let f = hot.join("streaming/Album X").join(format!("{stem}.wav"));
        let a = mixfarm::analyze::analyze_file(&f).unwrap();
        let l = a.integrated_lufs.unwrap();
        let rep: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(f.with_extension("json")).unwrap())
                .unwrap();
        let gr = rep["limiter_reduction_db"].as_f64().unwrap();
        eprintln!(
            "hot {stem}: {l:.3} LUFS, {:.3} dBTP, limiter {gr:.2} dB",
            a.true_peak_dbtp
        );
        assert!((l + 8.0).abs() <= TARGET_TOL_LU, "{stem}: {l}");
        assert!(
            a.true_peak_dbtp <= -1.0 + CEILING_TOL_DB,
            "{stem}: {}",
            a.true_peak_dbtp
        );
        if stem == "01 - loud" {
            assert!(gr > 0.5, "the limiter should be working: {gr} dB");
        }
    }
}

#[test]
fn album_mode_keeps_differences_and_lands_the_album() {
    let t = tempdir();
    let alb = t.path().join("Album Y");
    std::fs::create_dir_all(&alb).unwrap();
    // same material 9.5 dB apart: a plain gain (no compressor, no limiter) keeps that
    let a = song(&alb, "a.wav", 4.0, 0.3, 5);
    let b = song(&alb, "b.wav", 3.0, 0.1, 5);
    let preset = common::write_text(
        t.path(),
        "gentle.toml",
        "target_lufs = -20.0\nceiling_dbtp = -1.0\n[[chain]]\ntype = \"trim\"\ngain_db = 0.0\n",
    );
    let out = t.path().join("out");
    let (code, _) = master(&[
        s(&alb),
        "--out",
        s(&out),
        "--preset",
        s(&preset),
        "--album-mode",
        "album",
        "--format",
        "wav32f",
    ]);
    assert_eq!(code, 0);
    let oa = out.join("gentle/Album Y/01 - a.wav");
    let ob = out.join("gentle/Album Y/02 - b.wav");
    let d_in = lufs(&a) - lufs(&b);
    let d_out = lufs(&oa) - lufs(&ob);
    let album = common::album_lufs(&[oa.clone(), ob.clone()]);
    eprintln!("difference in {d_in:.3} out {d_out:.3} LU, album {album:.3} LUFS");
    assert!((d_in - d_out).abs() <= TARGET_TOL_LU);
    assert!((album + 20.0).abs() <= TARGET_TOL_LU);
    let rep = std::fs::read_to_string(oa.with_extension("json")).unwrap();
    assert!(rep.contains("album: one gain"), "{rep}");

    // with the streaming limiter, the album still lands on target
    let out2 = t.path().join("out2");
    let (code, _) = master(&[s(&alb), "--out", s(&out2), "--album-mode", "album"]);
    assert_eq!(code, 0);
    let files = [
        out2.join("streaming/Album Y/01 - a.wav"),
        out2.join("streaming/Album Y/02 - b.wav"),
    ];
    let album = common::album_lufs(&files);
    eprintln!("streaming album {album:.3} LUFS");
    assert!((album + 14.0).abs() <= TARGET_TOL_LU);
}

#[test]
fn two_deliveries_write_both_sets() {
    let t = tempdir();
    let a = song(t.path(), "one.wav", 3.0, 0.5, 7);
    let out = t.path().join("out");
    let (code, _) = master(&[s(&a), "--out", s(&out), "--deliver", "streaming,broadcast"]);
    assert_eq!(code, 0);
    for (d, target) in [("streaming", -14.0), ("broadcast", -23.0)] {
        let l = lufs(&out.join(d).join("Singles/one.wav"));
        eprintln!("{d}: {l:.3} LUFS (target {target})");
        assert!((l - target).abs() <= TARGET_TOL_LU);
    }
}

#[test]
fn a_garbage_file_fails_alone() {
    let t = tempdir();
    let good = song(t.path(), "good.wav", 3.0, 0.5, 9);
    let bad = t.path().join("bad.wav");
    std::fs::write(&bad, b"RIFF this is not audio at all").unwrap();
    let out = t.path().join("out");
    let (code, err) = master(&[s(&good), s(&bad), "--out", s(&out)]);
    assert_eq!(code, 1);
    assert!(err.contains("bad.wav"), "{err}");
    assert!(out.join("streaming/Singles/good.wav").exists());
    assert!(!out.join("streaming/Singles/bad.wav").exists());
    let sum: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(sum["ok"], 1);
    assert_eq!(sum["failed"], 1);
    let (code, _) = master(&[s(&good), "--out", s(&out), "--format", "mp3"]);
    assert_eq!(code, 2);
}

#[test]
fn a_chain_without_a_limiter_stops_at_the_ceiling() {
    // track mode, a chain without a limiter and a target the song cannot reach under the
    // ceiling: the one gain stops where the song's true peak meets the ceiling, so the
    // output peaks at the ceiling (float output: no dither) and reads under the target
    let t = tempdir();
    let n = 4 * RATE as usize;
    let quiet_with_clicks = |seed: u64| -> Vec<f32> {
        let mut x: Vec<f32> = music_like(n, RATE, seed).iter().map(|v| v * 0.1).collect();
        for k in 1..4 {
            x[k * n / 4] = 0.8;
        }
        x
    };
    let a = t.path().join("peaky.wav");
    write_f32(&a, &[quiet_with_clicks(11), quiet_with_clicks(12)], RATE);
    let preset = common::write_text(
        t.path(),
        "open.toml",
        "target_lufs = -6.0\nceiling_dbtp = -1.0\n[[chain]]\ntype = \"trim\"\ngain_db = 0.0\n",
    );
    let out = t.path().join("out");
    let (code, _) = master(&[
        s(&a),
        "--out",
        s(&out),
        "--preset",
        s(&preset),
        "--format",
        "wav32f",
    ]);
    assert_eq!(code, 0);
    let input = mixfarm::analyze::analyze_file(&a).unwrap();
    let o = mixfarm::analyze::analyze_file(&out.join("open/Singles/peaky.wav")).unwrap();
    let l = o.integrated_lufs.unwrap();
    eprintln!(
        "in {:.3} LUFS {:.3} dBTP, out {l:.3} LUFS {:.4} dBTP",
        input.integrated_lufs.unwrap(),
        input.true_peak_dbtp,
        o.true_peak_dbtp
    );
    assert!(
        input.integrated_lufs.unwrap() - input.true_peak_dbtp < -6.0 - -1.0,
        "the test song cannot reach -6 LUFS under -1 dBTP"
    );
    assert!(
        (o.true_peak_dbtp + 1.0).abs() < 0.01,
        "output true peak {} dBTP, the ceiling is -1",
        o.true_peak_dbtp
    );
    assert!(
        l < -6.0 - 0.5,
        "held under the target by the ceiling: {l} LUFS"
    );
}
