//! Honest outcomes of `mixfarm master` (the binary): promises that cannot be kept are
//! refused before any work (exit 2); a song that misses its target or needs more limiting
//! than `--max-reduction` is written with a `warning` status naming why, in its sidecar,
//! the summary (JSON and CSV) and the log; with fades, the reported loudness and true peak
//! are those of the file written (measured back from the file; true peak by the f64 oracle).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::true_peak_oracle::true_peak_dbtp as oracle_dbtp;
use common::{music_like, read_wav, tempdir, write_f32};

const RATE: u32 = 44_100;

fn song(dir: &Path, name: &str, seconds: f64, level: f32) -> PathBuf {
    let n = (seconds * f64::from(RATE)) as usize;
    let ch = |seed| {
        music_like(n, RATE, seed)
            .iter()
            .map(|x| x * level)
            .collect()
    };
    let p = dir.join(name);
    write_f32(&p, &[ch(5), ch(6)], RATE);
    p
}

fn master(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mixfarm"))
        .arg("master")
        .args(args)
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .expect("runs mixfarm");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    eprintln!("{err}");
    (out.status.code().unwrap_or(-1), err)
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn unkeepable_promises_are_refused_up_front() {
    let t = tempdir();
    let inp = song(t.path(), "a.wav", 2.0, 0.5);
    let out = t.path().join("out");
    let i = inp.to_str().unwrap();
    let o = out.to_str().unwrap();
    let (code, err) = master(&[i, "--out", o, "--target", "3"]);
    assert_eq!(code, 2, "target above 0 LUFS");
    assert!(err.contains("target 3"), "{err}");
    let (code, err) = master(&[i, "--out", o, "--ceiling", "1", "--format", "wav24"]);
    assert_eq!(code, 2, "ceiling above 0 dBTP in an integer format");
    assert!(err.contains("integer format"), "{err}");
    assert!(!out.exists(), "nothing written before the refusal");
    // a float format can carry a ceiling above full scale
    let (code, _) = master(&[i, "--out", o, "--ceiling", "1", "--format", "wav32f"]);
    assert_eq!(code, 0);
}

#[test]
fn misses_and_heavy_limiting_end_as_warnings() {
    let t = tempdir();
    let alb = t.path().join("Album");
    std::fs::create_dir_all(&alb).unwrap();
    song(&alb, "01 song.wav", 4.0, 0.3);
    let out = t.path().join("out");
    let (code, err) = master(&[
        alb.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--preset",
        "cd",
        "--target",
        "-6",
        "--max-reduction",
        "3",
    ]);
    assert_eq!(code, 0, "a warning is not a failure");
    let side = json(&out.join("cd/Album/01 - song.json"));
    eprintln!("{side:#}");
    assert_eq!(side["status"], "warning");
    let warnings: Vec<String> = side["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect();
    let gr = side["limiter_reduction_db"].as_f64().unwrap();
    assert!(gr > 3.0, "GR {gr}");
    assert!(
        warnings.iter().any(|w| w.contains("gain reduction")),
        "{warnings:?}"
    );
    let reached = side["output_loudness"]["integrated_lufs"].as_f64().unwrap();
    if (reached + 6.0).abs() > 0.1 {
        assert!(warnings.iter().any(|w| w.contains("missed the target")));
    }
    assert!(!side["reason"].as_str().unwrap().contains("brought to"));
    let sum = json(&out.join("summary.json"));
    assert_eq!(sum["warned"], 1);
    assert_eq!(sum["ok"], 0);
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(csv.lines().nth(1).unwrap().contains(",warning,"), "{csv}");
    assert!(err.contains("WARNING"), "the log names it: {err}");
}

#[test]
fn faded_songs_report_the_file_written() {
    let t = tempdir();
    let alb = t.path().join("Album");
    std::fs::create_dir_all(&alb).unwrap();
    song(&alb, "01 song.wav", 6.0, 0.5);
    for (fade_in, fade_out) in [("2", "0"), ("0", "100")] {
        let out = t.path().join(format!("out-{fade_in}-{fade_out}"));
        let (code, _) = master(&[
            alb.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--fade-in",
            fade_in,
            "--fade-out",
            fade_out,
            "--format",
            "wav24",
        ]);
        assert_eq!(code, 0);
        let f = out.join("streaming/Album/01 - song.wav");
        let side = json(&f.with_extension("json"));
        let reported = &side["output_loudness"];
        let file = mixfarm::analyze::analyze_file(&f).unwrap();
        let (x, _) = read_wav(&f);
        let oracle = oracle_dbtp(&x);
        let (rl, rtp) = (
            reported["integrated_lufs"].as_f64().unwrap(),
            reported["true_peak_dbtp"].as_f64().unwrap(),
        );
        let fl = file.integrated_lufs.unwrap();
        eprintln!(
            "fades {fade_in}/{fade_out} s: reported {rl:.3} LUFS {rtp:+.3} dBTP; file {fl:.3} LUFS, oracle {oracle:+.3} dBTP; status {}",
            side["status"]
        );
        assert!((rl - fl).abs() < 0.02, "reported {rl}, file {fl}");
        assert!(
            (rtp - oracle).abs() <= 0.1,
            "reported {rtp}, oracle {oracle}"
        );
        assert!(oracle <= -1.0, "over the ceiling: {oracle}");
        if side["status"] == "ok" {
            assert!((fl + 14.0).abs() <= 0.1, "ok but {fl} LUFS");
        }
    }
}

#[test]
fn render_refuses_unkeepable_promises_up_front() {
    let t = tempdir();
    song(t.path(), "a.wav", 1.0, 0.5);
    let scene = |name: &str, master: &str| {
        let p = t.path().join(name);
        std::fs::write(
            &p,
            format!("sample_rate = 48000\n[output]\nfile = \"{name}.wav\"\n[master]\n{master}\n[[track]]\nname = \"a\"\nfile = \"a.wav\"\n"),
        )
        .unwrap();
        p
    };
    let render = |s: &Path, extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_mixfarm"))
            .arg("render")
            .arg(s)
            .arg("--out")
            .arg(t.path().join("out"))
            .args(["--backend", "cpu"])
            .args(extra)
            .output()
            .expect("runs mixfarm");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        eprintln!("{err}");
        (out.status.code().unwrap_or(-1), err)
    };
    let (code, err) = render(&scene("hot.toml", "target_lufs = 3.0"), &[]);
    assert_eq!(code, 2, "a target above 0 LUFS is a scene error: {err}");
    assert!(err.contains("hot.toml"), "{err}");
    let (code, err) = render(&scene("over.toml", "ceiling_dbtp = 1.0"), &[]);
    assert_eq!(code, 2, "a ceiling above 0 dBTP in WAV 24: {err}");
    let (code, err) = render(
        &scene("fine.toml", "target_lufs = -14.0"),
        &["--max-reduction=-1"],
    );
    assert_eq!(code, 2, "a negative --max-reduction: {err}");
    assert!(err.contains("--max-reduction must be"), "{err}");
    assert!(!t.path().join("out/fine.toml.wav").exists());
}
