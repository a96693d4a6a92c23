//! Checks before any work and input robustness (issue 13, items 4, 5, 8), through the binary:
//! a missing manifest file is listed before any work as `manifest:line` and fails alone; files of formats mixfarm does
//! not decode are listed up front and fail alone; two inputs with one stem get distinct
//! outputs; a quirky WAV (odd chunk, ffmpeg pipe sizes) masters; an impulse response named in
//! a preset file resolves against the preset file; outputs stay inside `--out` (scene paths
//! with `..` or absolute, symbolic links out of it).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{music_like, tempdir, tree_files, write_f32, write_text};

const RATE: u32 = 44_100;

fn song(dir: &Path, name: &str, seed: u64) -> PathBuf {
    let n = 2 * RATE as usize;
    let l: Vec<f32> = music_like(n, RATE, seed).iter().map(|x| x * 0.3).collect();
    let r: Vec<f32> = music_like(n, RATE, seed + 1)
        .iter()
        .map(|x| x * 0.3)
        .collect();
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(name);
    write_f32(&p, &[l, r], RATE);
    p
}

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mixfarm"))
        .args(args)
        .output()
        .expect("runs mixfarm");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    eprintln!("{err}");
    (out.status.code().unwrap_or(-1), err)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn audio_files(dir: &Path) -> Vec<PathBuf> {
    tree_files(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "wav" || e == "flac"))
        .collect()
}

#[test]
fn a_missing_manifest_file_is_reported_before_any_work_with_its_line() {
    let t = tempdir();
    song(t.path(), "here.wav", 1);
    let m = write_text(
        t.path(),
        "catalog.csv",
        "file,title\nhere.wav,Here\ngone.wav,Gone\n",
    );
    let out = t.path().join("out");
    let (code, err) = run(&["master", s(&m), "--out", s(&out), "--backend", "cpu"]);
    assert_eq!(
        code, 1,
        "the missing song fails, the other is mastered: {err}"
    );
    let first = err
        .lines()
        .position(|l| l.contains("gone.wav"))
        .expect("named");
    let first_ok = err
        .lines()
        .position(|l| l.starts_with("ok"))
        .expect("here.wav mastered");
    assert!(first < first_ok, "listed before any work: {err}");
    assert!(
        err.lines().nth(first).unwrap().contains("catalog.csv:3"),
        "{err}"
    );
    for l in err.lines().filter(|l| l.contains("gone.wav")) {
        assert!(
            l.contains("catalog.csv:3"),
            "every mention has the line: {l}"
        );
        assert_eq!(l.matches("gone.wav").count(), 1, "the path once: {l}");
    }
    assert_eq!(audio_files(&out).len(), 1);
}

#[test]
fn unsupported_formats_in_a_folder_are_listed_and_fail_alone() {
    let t = tempdir();
    let album = t.path().join("Album");
    song(&album, "a.wav", 2);
    std::fs::write(album.join("b.opus"), b"OggS not really").unwrap();
    std::fs::write(album.join("c.wv"), b"wvpk not really").unwrap();
    std::fs::write(album.join("cover.jpg"), b"jpeg").unwrap();
    let out = t.path().join("out");
    let (code, err) = run(&["master", s(&album), "--out", s(&out), "--backend", "cpu"]);
    assert_eq!(code, 1, "{err}");
    for (name, format) in [("b.opus", "Opus"), ("c.wv", "WavPack")] {
        let line = err
            .lines()
            .find(|l| l.starts_with("unsupported") && l.contains(name))
            .unwrap_or_else(|| panic!("{name} listed up front: {err}"));
        assert!(line.contains(format), "{line}");
    }
    assert!(
        !err.contains("cover.jpg"),
        "other files are not audio: {err}"
    );
    let first_ok = err.find("ok ").expect("a.wav mastered");
    assert!(
        err.find("unsupported").unwrap() < first_ok,
        "listed before any work"
    );
    assert_eq!(audio_files(&out).len(), 1);
    let sum: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(sum["failed"], 2);
}

#[test]
fn two_inputs_with_one_stem_get_distinct_outputs() {
    let t = tempdir();
    let album = t.path().join("Album");
    let wav = song(&album, "song.wav", 3);
    let (x, _) = mixfarm::audio::decode::decode_file(&wav)
        .map(|d| (d.channels, d.sample_rate))
        .unwrap();
    // the same stem as FLAC, other audio
    let other: Vec<Vec<f32>> = x
        .iter()
        .map(|c| c.iter().map(|v| v * 0.5).collect())
        .collect();
    mixfarm::audio::encode::write_wav(
        &album.join("song.flac"),
        &other,
        RATE,
        mixfarm::plan::OutputFormat::Flac24,
        1,
    )
    .unwrap();
    let out = t.path().join("out");
    let (code, err) = run(&["master", s(&album), "--out", s(&out), "--backend", "cpu"]);
    assert_eq!(code, 0, "{err}");
    let files = audio_files(&out);
    assert_eq!(files.len(), 2, "two outputs: {files:?}");
    assert_ne!(files[0], files[1]);
}

#[test]
fn a_wav_with_an_odd_chunk_and_pipe_sizes_masters() {
    let t = tempdir();
    let a = t.path().join("plain.wav");
    let x = music_like(2 * RATE as usize, RATE, 4);
    common::write_int(&a, &[x.clone(), x], RATE, 16);
    let bytes = std::fs::read(&a).unwrap();
    // hound's file: RIFF, fmt (16 bytes), data. Insert an odd LIST chunk before data and
    // set the RIFF and data sizes to 0xFFFFFFFF, as ffmpeg writes to a pipe.
    let fmt_end = 12 + 8 + u32::from_le_bytes(bytes[16..20].try_into().unwrap()) as usize;
    assert_eq!(&bytes[fmt_end..fmt_end + 4], b"data");
    let mut q = bytes[..fmt_end].to_vec();
    q.extend_from_slice(b"LIST\x07\0\0\0INFOabc\0");
    q.extend_from_slice(b"data");
    q.extend_from_slice(&u32::MAX.to_le_bytes());
    q.extend_from_slice(&bytes[fmt_end + 8..]);
    q[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    let quirky = t.path().join("quirky.wav");
    std::fs::write(&quirky, q).unwrap();
    let out = t.path().join("out");
    let (code, err) = run(&[
        "master",
        s(&a),
        s(&quirky),
        "--out",
        s(&out),
        "--backend",
        "cpu",
    ]);
    assert_eq!(code, 0, "{err}");
    let files = audio_files(&out);
    assert_eq!(files.len(), 2);
    // the same samples in, the same closing: the two masters' audio is the same
    let a_out = mixfarm::audio::decode::decode_file(&out.join(&files[0])).unwrap();
    let q_out = mixfarm::audio::decode::decode_file(&out.join(&files[1])).unwrap();
    assert_eq!(a_out.frames(), q_out.frames());
}

#[test]
fn an_impulse_response_in_a_preset_file_resolves_against_the_preset_file() {
    let t = tempdir();
    let songs = t.path().join("songs");
    let a = song(&songs, "a.wav", 5);
    let presets = t.path().join("presets");
    std::fs::create_dir_all(&presets).unwrap();
    let ir: Vec<f32> = (0..4410)
        .map(|i| (-(i as f32) / 600.0).exp() * if i % 7 == 0 { 0.5 } else { -0.2 })
        .collect();
    write_f32(&presets.join("room.wav"), &[ir], RATE);
    let preset = write_text(
        &presets,
        "roomy.toml",
        "target_lufs = -16.0\nchain = [ { type = \"reverb\", ir = \"room.wav\", mix = 0.2 } ]\n",
    );
    let out = t.path().join("out");
    let (code, err) = run(&[
        "master",
        s(&a),
        "--out",
        s(&out),
        "--preset",
        s(&preset),
        "--backend",
        "cpu",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(audio_files(&out).len(), 1);
}

#[test]
fn scene_outputs_stay_inside_out() {
    let t = tempdir();
    let d = t.path();
    song(d, "stem.wav", 6);
    let out = d.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let elsewhere = d.join("elsewhere");
    let cases = [
        ("climb.toml", "../../../elsewhere/x.wav".to_string()),
        (
            "abs.toml",
            elsewhere.join("y.wav").to_string_lossy().into_owned(),
        ),
    ];
    for (name, file) in &cases {
        let scene = write_text(
            d,
            name,
            &format!(
                "sample_rate = 44100\n\n[output]\nfile = \"{file}\"\n\n[[track]]\nname = \"a\"\nfile = \"stem.wav\"\n"
            ),
        );
        let (code, err) = run(&["render", s(&scene), "--out", s(&out), "--backend", "cpu"]);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains(&format!("{name}:4")),
            "file:line of `file =`: {err}"
        );
        assert!(!elsewhere.exists(), "nothing written outside --out");
    }
    // a folder inside --out that is a symbolic link to somewhere else is not followed
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("linked")).unwrap();
    let scene = write_text(
        d,
        "link.toml",
        "sample_rate = 44100\n[output]\nfile = \"linked/z.wav\"\n[[track]]\nname = \"a\"\nfile = \"stem.wav\"\n",
    );
    let (code, err) = run(&["render", s(&scene), "--out", s(&out), "--backend", "cpu"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    assert!(
        tree_files(&elsewhere).is_empty(),
        "nothing written through the link"
    );
    // master: a delivery folder that is a link out of --out
    let a = song(d, "a.wav", 7);
    let mout = d.join("mout");
    std::fs::create_dir_all(&mout).unwrap();
    std::os::unix::fs::symlink(&elsewhere, mout.join("streaming")).unwrap();
    let (code, err) = run(&["master", s(&a), "--out", s(&mout), "--backend", "cpu"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    assert!(
        tree_files(&elsewhere).is_empty(),
        "nothing written through the link"
    );
}

#[test]
fn manifest_columns_mixfarm_does_not_read_reach_the_reports() {
    let t = tempdir();
    song(t.path(), "a.wav", 8);
    let m = write_text(
        t.path(),
        "catalog.csv",
        "file,title,UPC,Label Notes\na.wav,A,0123456789012,\"remaster, 2026\"\n",
    );
    let out = t.path().join("out");
    let (code, err) = run(&["master", s(&m), "--out", s(&out), "--backend", "cpu"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err.matches("passed through").count(), 1, "one note: {err}");
    let sum: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let extra = &sum["songs"][0]["extra"];
    assert_eq!(
        extra[0],
        serde_json::json!(["UPC", "0123456789012"]),
        "{extra}"
    );
    assert_eq!(
        extra[1],
        serde_json::json!(["Label Notes", "remaster, 2026"]),
        "{extra}"
    );
    let mut csv = csv_rows(&std::fs::read_to_string(out.join("summary.csv")).unwrap());
    let header = csv.remove(0);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(csv[0][col("UPC")], "0123456789012");
    assert_eq!(csv[0][col("Label Notes")], "remaster, 2026");
}

/// The rows of a CSV text (quoted fields may hold commas).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    r.records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect()
}
