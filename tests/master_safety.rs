//! `mixfarm master` and the files already in `--out` (issue 13, item 3), through the binary:
//! outputs made with other settings are refused before any work unless `--overwrite`; an
//! output the run no longer writes (an old format) is listed as stale; summary.json and .csv
//! keep earlier runs' songs; `--dry-run` writes nothing and says what a run would do;
//! `--skip-existing` excludes `--overwrite`. Also `--jobs`, `--quiet` and `--json`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{music_like, tempdir, tree_files, write_f32};

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

/// Runs `mixfarm master ARGS --backend cpu`: exit code, stdout, stderr.
fn master(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mixfarm"))
        .arg("master")
        .args(args)
        .args(["--backend", "cpu"])
        .output()
        .expect("runs mixfarm");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    eprintln!("{err}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        err,
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The audio files (not sidecars or summaries) under `dir`.
fn audio_files(dir: &Path) -> Vec<PathBuf> {
    tree_files(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "wav" || e == "flac"))
        .collect()
}

fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn outputs_made_with_other_settings_are_refused_unless_overwrite() {
    let t = tempdir();
    let a = song(t.path(), "a.wav", 1);
    let out = t.path().join("out");
    let (code, _, _) = master(&[s(&a), "--out", s(&out), "--target", "-14"]);
    assert_eq!(code, 0);
    let files = audio_files(&out);
    assert_eq!(files.len(), 1, "{files:?}");
    let wav = out.join(&files[0]);
    let first = std::fs::read(&wav).unwrap();

    // the same settings again: replaced by the same bytes, no flag needed
    let (code, _, _) = master(&[s(&a), "--out", s(&out), "--target", "-14"]);
    assert_eq!(code, 0);
    assert_eq!(std::fs::read(&wav).unwrap(), first);

    // other settings: refused before any work, the file listed with the reason
    let (code, _, err) = master(&[s(&a), "--out", s(&out), "--target", "-18"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(s(&files[0])) || err.contains(&*wav.to_string_lossy()),
        "{err}"
    );
    assert!(
        err.contains("other settings") && err.contains("--overwrite"),
        "{err}"
    );
    assert!(!err.contains("ok "), "nothing was mastered: {err}");
    assert_eq!(std::fs::read(&wav).unwrap(), first, "left as it was");

    // --skip-existing does not replace them either (they are not up to date)
    let (code, _, err) = master(&[
        s(&a),
        "--out",
        s(&out),
        "--target",
        "-18",
        "--skip-existing",
    ]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(std::fs::read(&wav).unwrap(), first);

    // --overwrite replaces them
    let (code, _, _) = master(&[s(&a), "--out", s(&out), "--target", "-18", "--overwrite"]);
    assert_eq!(code, 0);
    assert_ne!(
        std::fs::read(&wav).unwrap(),
        first,
        "remastered at -18 LUFS"
    );
}

#[test]
fn a_file_not_made_by_mixfarm_is_not_replaced() {
    let t = tempdir();
    let a = song(t.path(), "a.wav", 2);
    let out = t.path().join("out");
    // where the master would go, someone's own file (no sidecar)
    let dry = Command::new(env!("CARGO_BIN_EXE_mixfarm"))
        .args(["master", s(&a), "--out", s(&out), "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(dry.status.code(), Some(0));
    assert!(!out.exists(), "--dry-run creates nothing");
    let stdout = String::from_utf8_lossy(&dry.stdout);
    let target = stdout
        .lines()
        .find_map(|l| l.strip_prefix("write"))
        .map(|p| PathBuf::from(p.trim()))
        .unwrap_or_else(|| panic!("a 'write' line: {stdout}"));
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::write(&target, b"precious").unwrap();
    let (code, _, err) = master(&[s(&a), "--out", s(&out)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no mixfarm sidecar"), "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), b"precious");
}

#[test]
fn skip_existing_and_overwrite_exclude_each_other() {
    let t = tempdir();
    let a = song(t.path(), "a.wav", 3);
    let out = t.path().join("out");
    let (code, _, err) = master(&[s(&a), "--out", s(&out), "--skip-existing", "--overwrite"]);
    assert_eq!(code, 2, "{err}");
    assert!(!out.exists());
}

#[test]
fn an_old_format_is_listed_as_stale_and_summaries_keep_earlier_runs() {
    let t = tempdir();
    let one = song(&t.path().join("One"), "a.wav", 4);
    let two = song(&t.path().join("Two"), "b.wav", 5);
    let out = t.path().join("out");
    let (code, _, _) = master(&[s(one.parent().unwrap()), "--out", s(&out)]);
    assert_eq!(code, 0);
    let old = audio_files(&out);
    assert_eq!(old.len(), 1);
    // the same album as FLAC: the WAV stays, listed as stale (stderr and summary.json)
    let (code, _, err) = master(&[
        s(one.parent().unwrap()),
        "--out",
        s(&out),
        "--format",
        "flac24",
    ]);
    assert_eq!(code, 0, "{err}");
    let old_wav = out.join(&old[0]);
    assert!(old_wav.is_file());
    let name = old[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        err.lines()
            .any(|l| l.starts_with("stale") && l.contains(&name)),
        "{err}"
    );
    let sum = summary(&out);
    let stale: Vec<String> = sum["stale"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert!(stale.iter().any(|p| p.ends_with(&name)), "{stale:?}");

    // another album into the same folder: the first album's entry stays in the summary
    let (code, _, _) = master(&[s(two.parent().unwrap()), "--out", s(&out)]);
    assert_eq!(code, 0);
    let sum = summary(&out);
    let albums = |k: &str| -> Vec<String> {
        sum[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["album"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(albums("songs"), ["Two"]);
    assert_eq!(albums("earlier"), ["One"]);
    assert_eq!(sum["total"], 1, "the counts are this run's");
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(
        rows[0].contains("\"Two\"") && rows[0].ends_with(",this"),
        "{csv}"
    );
    assert!(
        rows[1].contains("\"One\"") && rows[1].ends_with(",earlier"),
        "{csv}"
    );
}

#[test]
fn dry_run_says_what_would_be_written_skipped_or_replaced() {
    let t = tempdir();
    let a = song(t.path(), "a.wav", 6);
    let b = song(t.path(), "b.wav", 7);
    let out = t.path().join("out");
    let (code, _, _) = master(&[s(&a), "--out", s(&out)]);
    assert_eq!(code, 0);
    let before = tree_files(&out);
    let (code, stdout, _) = master(&[
        s(&a),
        s(&b),
        "--out",
        s(&out),
        "--skip-existing",
        "--dry-run",
    ]);
    assert_eq!(code, 0);
    let line = |out: &str, verb: &str, name: &str| {
        out.lines().any(|l| l.starts_with(verb) && l.contains(name))
    };
    assert!(line(&stdout, "skip", "a.wav"), "{stdout}");
    assert!(line(&stdout, "write", "b.wav"), "{stdout}");
    let (code, stdout, _) = master(&[s(&a), s(&b), "--out", s(&out), "--dry-run"]);
    assert_eq!(code, 0);
    assert!(line(&stdout, "replace", "a.wav"), "{stdout}");
    assert!(line(&stdout, "write", "b.wav"), "{stdout}");
    let (code, stdout, _) = master(&[s(&a), "--out", s(&out), "--target", "-20", "--dry-run"]);
    assert_eq!(code, 2, "a refusal is a refusal in a dry run too");
    assert!(stdout.lines().any(|l| l.starts_with("REFUSE")), "{stdout}");
    assert_eq!(tree_files(&out), before, "a dry run writes nothing");
}

#[test]
fn jobs_quiet_and_json() {
    let t = tempdir();
    let a = song(t.path(), "a.wav", 8);
    let b = song(t.path(), "b.wav", 9);
    let (code, _, err) = master(&[s(&a), "--out", s(&t.path().join("x")), "--jobs", "0"]);
    assert_eq!(code, 2, "{err}");
    let o1 = t.path().join("o1");
    let o2 = t.path().join("o2");
    let (code, stdout, err) = master(&[
        s(&a),
        s(&b),
        "--out",
        s(&o1),
        "--jobs",
        "1",
        "--quiet",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.trim().is_empty(),
        "--quiet prints nothing on success: {err}"
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is the JSON summary");
    assert_eq!(v["ok"].as_u64().unwrap() + v["warned"].as_u64().unwrap(), 2);
    assert_eq!(v, summary(&o1), "the same summary as summary.json");
    let (code, _, _) = master(&[s(&a), s(&b), "--out", s(&o2)]);
    assert_eq!(code, 0);
    for f in audio_files(&o1) {
        assert_eq!(
            std::fs::read(o1.join(&f)).unwrap(),
            std::fs::read(o2.join(&f)).unwrap(),
            "--jobs 1 writes the same bytes: {}",
            f.display()
        );
    }
}

#[test]
fn an_input_gone_since_the_last_run_fails_alone_and_blocks_nothing() {
    let t = tempdir();
    let a = song(t.path(), "a.wav", 10);
    let b = song(t.path(), "b.wav", 11);
    let out = t.path().join("out");
    let (code, _, _) = master(&[s(&a), s(&b), "--out", s(&out)]);
    assert_eq!(code, 0);
    let before = audio_files(&out);
    std::fs::remove_file(&b).unwrap();
    // its earlier output is not "replaced": nothing is written for it
    let (code, _, err) = master(&[s(&a), s(&b), "--out", s(&out)]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("missing") && l.contains("b.wav")),
        "{err}"
    );
    assert_eq!(audio_files(&out), before);
}

/// Adding a format to an earlier run's settings (`--format wav24`, then `--format
/// wav24,flac`) needs no `--overwrite`: the FLAC is written, the WAV rewritten with the same
/// bytes, nothing is stale, and `--skip-existing` then skips both. A file at the same path in
/// another format (`flac` → `flac16`) is still refused.
#[test]
fn adding_a_format_to_an_earlier_run_needs_no_overwrite() {
    let t = tempdir();
    let a = song(t.path(), "a.wav", 8);
    let out = t.path().join("out");
    let (code, _, err) = master(&[s(&a), "--out", s(&out), "--format", "wav24"]);
    assert_eq!(code, 0, "{err}");
    let first = audio_files(&out);
    assert_eq!(first.len(), 1, "{first:?}");
    let wav = out.join(&first[0]);
    let wav_bytes = std::fs::read(&wav).unwrap();

    let (code, _, err) = master(&[s(&a), "--out", s(&out), "--format", "wav24,flac"]);
    assert_eq!(code, 0, "adding flac was refused: {err}");
    let flac = wav.with_extension("flac");
    assert!(flac.is_file(), "{:?}", audio_files(&out));
    assert_eq!(audio_files(&out).len(), 2);
    assert!(
        std::fs::read(&wav).unwrap() == wav_bytes,
        "the WAV is rewritten with the same bytes"
    );
    assert!(!err.lines().any(|l| l.starts_with("stale")), "{err}");

    let (code, stdout, _) = master(&[
        s(&a),
        "--out",
        s(&out),
        "--format",
        "wav24,flac",
        "--skip-existing",
        "--dry-run",
    ]);
    assert_eq!(code, 0);
    for ext in [".wav", ".flac"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with("skip") && l.contains(ext)),
            "{ext}: {stdout}"
        );
    }

    // the same path, another depth: refused before any work, the file untouched
    let flac_bytes = std::fs::read(&flac).unwrap();
    let (code, _, err) = master(&[s(&a), "--out", s(&out), "--format", "wav24,flac16"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.lines()
            .any(|l| l.contains(".flac") && l.contains("flac16")),
        "{err}"
    );
    assert!(std::fs::read(&flac).unwrap() == flac_bytes);
}
