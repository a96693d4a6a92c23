//! `mixfarm render` as a cluster worker: SIGTERM stops it cleanly with exit 75 — songs already
//! running are finished and written whole, songs not started are reported retryable, no
//! temporary or truncated file is left under a final name.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn sigterm_stops_render_with_exit_75() {
    let t = common::tempdir();
    let out = t.path().join("out");
    let album = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes/demo/album.toml");
    let report = t.path().join("report.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mixfarm"))
        .args([
            "render",
            album.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--backend",
            "cpu",
            "--jobs",
            "1",
            "--report",
            report.to_str().unwrap(),
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let wavs = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(&out)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "wav"))
                    .collect()
            })
            .unwrap_or_default()
    };
    let t0 = Instant::now();
    while wavs().is_empty() && t0.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(5));
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let code = child.wait().unwrap().code();
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let songs = r["songs"].as_array().unwrap();
    let stopped = songs.iter().filter(|s| s["retryable"] == true).count();
    eprintln!(
        "exit {code:?}: {} songs written, {stopped} left for a retry",
        wavs().len()
    );
    assert_eq!(code, Some(75));
    assert!(stopped >= 1, "the last song was not started");
    assert_eq!(wavs().len() + stopped, 3);
    for w in wavs() {
        let (x, _) = common::read_wav(&w);
        assert!(x[0].len() > 44_100, "{} is whole", w.display());
    }
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "no temporary files: {leftovers:?}");
}
