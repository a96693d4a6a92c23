//! `mixfarm analyze` on folders (issue 14): a folder stands for its audio files, `--album`
//! gives each folder's loudness as one album, `--csv` one row per file, `--html` the
//! files' charts. Expected loudness from EBU Tech 3341 (a stereo 1 kHz sine at X dBFS reads
//! X LUFS) and BS.1770's gating (two steady tones of equal length within 10 LU of each
//! other: the album reads the power mean).

mod common;

use std::process::Command;

use common::browser::{self, attr, elements, text};
use common::ebu_signals::sine_segments;
use serde_json::Value;

const RATE: u32 = 48_000;

fn tone(path: &std::path::Path, dbfs: f64, seconds: f64) {
    let x = sine_segments(1000.0, &[(dbfs, seconds)], 0.0, RATE);
    common::write_f32(path, &[x.clone(), x], RATE);
}

#[test]
fn folders_album_loudness_csv_and_html() {
    let tmp = tempfile::tempdir().unwrap();
    let album = tmp.path().join("album");
    std::fs::create_dir(&album).unwrap();
    tone(&album.join("01 loud.wav"), -20.0, 5.0);
    tone(&album.join("02 soft.wav"), -26.0, 5.0);
    std::fs::write(album.join("notes.txt"), "not audio").unwrap();
    let loose = tmp.path().join("single.wav");
    tone(&loose, -30.0, 4.0);
    let csv = tmp.path().join("out.csv");
    let html = tmp.path().join("out.html");
    let out = Command::new(env!("CARGO_BIN_EXE_mixfarm"))
        .env("XDG_RUNTIME_DIR", tmp.path())
        .arg("analyze")
        .arg(&album)
        .arg(&loose)
        .args(["--album", "--json", "--csv"])
        .arg(&csv)
        .arg("--html")
        .arg(&html)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = v["files"].as_array().unwrap();
    assert_eq!(
        files.len(),
        3,
        "the folder's two WAVs (not the .txt) and the loose file"
    );
    let i_of = |k: usize| files[k]["analysis"]["integrated_lufs"].as_f64().unwrap();
    for (k, want) in [(0, -20.0), (1, -26.0), (2, -30.0)] {
        assert!((i_of(k) - want).abs() < 0.05, "file {k}: {} LUFS", i_of(k));
    }
    let albums = v["albums"].as_array().unwrap();
    assert_eq!(albums.len(), 2, "the folder and the loose files");
    let power = |l: f64| 10f64.powf(l / 10.0);
    let want = 10.0 * ((power(-20.0) + power(-26.0)) / 2.0).log10();
    let got = albums[0]["integrated_lufs"].as_f64().unwrap();
    assert!(
        (got - want).abs() < 0.05,
        "album {got} LUFS, want {want:.2}"
    );
    let single = albums[1]["integrated_lufs"].as_f64().unwrap();
    assert!(
        (single - i_of(2)).abs() < 1e-9,
        "one file alone is its own album"
    );

    // CSV: one row per file, the same figures
    let text_csv = std::fs::read_to_string(&csv).unwrap();
    let mut rows = csv::Reader::from_reader(text_csv.as_bytes());
    let header = rows.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let recs: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 3);
    for (k, r) in recs.iter().enumerate() {
        let i: f64 = r[col("integrated_lufs")].parse().unwrap();
        assert!((i - i_of(k)).abs() <= 0.005);
        let a: f64 = r[col("album_integrated_lufs")].parse().unwrap();
        let want = albums[usize::from(k == 2)]["integrated_lufs"]
            .as_f64()
            .unwrap();
        assert!((a - want).abs() <= 0.005);
    }

    // HTML: the charts of each file (in a browser when there is one)
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(page.matches("<details").count(), 3);
    let Some(chromium) = browser::chromium("analyze_cmd html") else {
        return;
    };
    let dom = browser::dom(&chromium, &browser::file_url(&html, ""));
    let rows = elements(&dom, "tr", "data-file=");
    assert_eq!(rows.len(), 3);
    for (k, (_, inner)) in rows.iter().enumerate() {
        let cells = elements(inner, "td", "");
        let (h, t) = cells
            .iter()
            .find(|(h, _)| attr(h, "class") == Some("n i"))
            .unwrap();
        let dv: f64 = attr(h, "data-v").unwrap().parse().unwrap();
        assert!((dv - i_of(k)).abs() < 1e-9, "data-v {dv}");
        assert!((text(t).parse::<f64>().unwrap() - i_of(k)).abs() <= 0.005);
    }
    // the first file open: loudness, true peak and spectrum (no limiter in analyze)
    let open = elements(&dom, "details", " open");
    assert_eq!(open.len(), 1);
    assert_eq!(elements(open[0].1, "svg", "class=\"chart\"").len(), 3);
}

mod gpu_common;

/// `analyze --backend gpu` meters mono and stereo files as Plans on the GPU executor (a
/// batch of files at once) and prints what `--backend cpu` prints, byte for byte: figures,
/// album loudness and CSV; a 5.1 file (metered on the host either way) and a broken file
/// (its error, the others reported) in the same batch. The batch on a GPU executor gives
/// the host's figures, curves and gating. Skips without an adapter unless
/// `MIXFARM_REQUIRE_GPU=1`.
#[test]
fn gpu_backend_prints_the_cpu_figures() {
    if gpu_common::gpu("analyze --backend gpu").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("album");
    std::fs::create_dir(&dir).unwrap();
    let music = |n: usize, seed: u64| common::music_like(n, RATE, seed);
    common::write_f32(
        &dir.join("01 stereo.wav"),
        &[music(70_000, 1), music(70_000, 2)],
        RATE,
    );
    common::write_f32(&dir.join("02 mono.wav"), &[music(50_000, 3)], RATE);
    let six: Vec<Vec<f32>> = (0..6).map(|c| music(40_000, 10 + c)).collect();
    common::write_f32(&dir.join("03 surround.wav"), &six, RATE);
    std::fs::write(dir.join("04 broken.wav"), b"RIFF not really a wav").unwrap();
    let quiet: Vec<f32> = music(30_000, 5).iter().map(|v| v * 0.01).collect();
    common::write_f32(&dir.join("05 quiet.wav"), &[quiet.clone(), quiet], RATE);
    let run = |backend: &str, album: bool| {
        let csv = tmp.path().join(format!("{backend}-{album}.csv"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mixfarm"));
        cmd.env("XDG_RUNTIME_DIR", tmp.path())
            .arg("analyze")
            .arg(&dir)
            .args(["--json", "--backend", backend, "--csv"])
            .arg(&csv);
        if album {
            cmd.arg("--album");
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "one file is broken: exit 1");
        (out.stdout, std::fs::read_to_string(&csv).unwrap())
    };
    for album in [false, true] {
        let (cpu, cpu_csv) = run("cpu", album);
        let (gpu, gpu_csv) = run("gpu", album);
        let v: Value = serde_json::from_slice(&cpu).unwrap();
        let files = if album { &v["files"] } else { &v };
        assert_eq!(files.as_array().unwrap().len(), 5, "every file reported");
        assert!(files[3]["error"].is_string(), "the broken file's error");
        assert!(
            files[1]["analysis"]["integrated_lufs"].as_f64().is_some(),
            "mono metered"
        );
        assert_eq!(
            String::from_utf8_lossy(&cpu),
            String::from_utf8_lossy(&gpu),
            "--album {album}: the GPU's figures are the CPU's"
        );
        assert_eq!(cpu_csv, gpu_csv, "--album {album}: CSV");
        println!("analyze --album {album}: gpu and cpu print the same bytes");
    }
    // the batch itself on a GPU executor: the host's figures, curves and gating blocks
    let mut ex = mixfarm::engine::Executor::open(mixfarm::engine::Backend::Gpu).unwrap();
    assert_eq!(
        ex.backend(),
        mixfarm::engine::Backend::Gpu,
        "a GPU executor"
    );
    let names = ["01 stereo.wav", "02 mono.wav", "05 quiet.wav"];
    let paths: Vec<std::path::PathBuf> = names.iter().map(|n| dir.join(n)).collect();
    let refs: Vec<&std::path::Path> = paths.iter().map(|p| p.as_path()).collect();
    for (p, got) in paths
        .iter()
        .zip(mixfarm::analyze::analyze_files_on(&mut ex, &refs))
    {
        let got = got.unwrap();
        let want = mixfarm::analyze::analyze_file_with_curves(p).unwrap();
        assert_eq!(got.analysis, want.analysis, "{}: figures", p.display());
        assert_eq!(got.curves, want.curves, "{}: curves", p.display());
        assert_eq!(
            got.gating.integrated(),
            want.gating.integrated(),
            "{}: gating",
            p.display()
        );
    }
}
