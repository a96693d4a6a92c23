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
