//! Issue 5's "done when", end to end through the binary: a folder of 20 stereo songs in 2
//! albums plus a manifest masters in one command to FLAC and WAV for two delivery targets,
//! with tags (read back by lofty), album files and CUE sheets, per-song and catalog reports;
//! a run killed mid-way and resumed with `--skip-existing` gives byte-identical files.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lofty::prelude::*;
use lofty::tag::TagType;

/// How close the album must land to its target, LU (the gain search stops at 0.01 LU).
const TARGET_TOL_LU: f64 = 0.1;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mixfarm"))
}

fn ext(p: &Path) -> &str {
    p.extension().and_then(|e| e.to_str()).unwrap_or("")
}

fn flac_ints(p: &Path) -> Vec<i32> {
    let mut r = claxon::FlacReader::open(p).unwrap();
    r.samples().map(Result::unwrap).collect()
}

fn wav_ints(p: &Path) -> Vec<i32> {
    let mut r = hound::WavReader::open(p).unwrap();
    r.samples::<i32>().map(Result::unwrap).collect()
}

#[test]
fn twenty_songs_two_albums_flac_and_wav_two_deliveries_resumable() {
    let t = common::tempdir();
    let cat = t.path().join("catalog");
    let st = bin()
        .args([
            "synth-catalog",
            cat.to_str().unwrap(),
            "--albums",
            "2",
            "--songs-per-album",
            "10",
            "--seconds",
            "5",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let manifest = cat.join("manifest.csv");
    let rows: Vec<Vec<String>> = std::fs::read_to_string(&manifest)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len(), 20);
    let args = |out: &Path, extra: &[&str]| {
        let mut a: Vec<String> = [
            "master",
            "--manifest",
            manifest.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--deliver",
            "streaming,broadcast",
            "--format",
            "flac24,wav24",
            "--album-mode",
            "album",
            "--sequence",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let full = t.path().join("full");
    let t0 = Instant::now();
    let out = bin().args(args(&full, &[])).output().unwrap();
    eprintln!(
        "{}",
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .unwrap_or("")
    );
    eprintln!(
        "one command: 20 songs × 2 deliveries × 2 formats in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(out.status.code(), Some(0));

    // Every song: FLAC + WAV + sidecar per delivery; same samples; tags; loudness reports.
    for delivery in ["streaming", "broadcast"] {
        for album in ["Harbour Lights", "Paper Moons"] {
            let dir = full.join(delivery).join(album);
            let mut wavs = Vec::new();
            for r in rows.iter().filter(|r| r[3] == album) {
                let stem = format!("{:02} - {}", r[4].parse::<u32>().unwrap(), r[1]);
                let (flac, wav) = (
                    dir.join(format!("{stem}.flac")),
                    dir.join(format!("{stem}.wav")),
                );
                assert_eq!(
                    flac_ints(&flac),
                    wav_ints(&wav),
                    "{stem}: FLAC and WAV hold the same samples"
                );
                let isrc = r[5].replace('-', "");
                let tf = lofty::read_from_path(&flac).unwrap();
                let vc = tf.tag(TagType::VorbisComments).expect("Vorbis comments");
                let tw = lofty::read_from_path(&wav).unwrap();
                let id3 = tw.tag(TagType::Id3v2).expect("ID3 chunk");
                let info = tw.tag(TagType::RiffInfo).expect("LIST/INFO chunk");
                for tag in [vc, id3] {
                    assert_eq!(tag.title().as_deref(), Some(r[1].as_str()));
                    assert_eq!(tag.artist().as_deref(), Some(r[2].as_str()));
                    assert_eq!(tag.album().as_deref(), Some(album));
                    assert_eq!(tag.track(), r[4].parse().ok());
                    assert_eq!(tag.get_string(ItemKey::Isrc), Some(isrc.as_str()));
                }
                assert_eq!(info.title().as_deref(), Some(r[1].as_str()));
                let rep: serde_json::Value = serde_json::from_str(
                    &std::fs::read_to_string(dir.join(format!("{stem}.json"))).unwrap(),
                )
                .unwrap();
                assert_eq!(rep["status"], "ok");
                assert_eq!(rep["isrc"], isrc.as_str());
                assert!(rep["reason"]
                    .as_str()
                    .unwrap()
                    .starts_with("album: one gain"));
                for k in [
                    "integrated_lufs",
                    "loudness_range_lu",
                    "true_peak_dbtp",
                    "sample_peak_dbfs",
                ] {
                    assert!(rep["output_loudness"][k].is_number(), "{k}");
                    assert!(rep["input_loudness"][k].is_number(), "{k}");
                }
                assert!(
                    rep["gain_db"].is_number()
                        && rep["limiter_reduction_db"].is_number()
                        && rep["seconds"].is_number()
                );
                wavs.push(wav);
            }
            let target = if delivery == "streaming" {
                -14.0
            } else {
                -23.0
            };
            let l = common::album_lufs(&wavs);
            eprintln!("{delivery} / {album}: album loudness {l:.3} LUFS (target {target})");
            assert!((l - target).abs() < TARGET_TOL_LU);
            // Album files: FLAC and WAV, CUE INDEX 01 on the track starts of sequence.json.
            let seq: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(dir.join("sequence/sequence.json")).unwrap(),
            )
            .unwrap();
            let starts: Vec<u64> = seq["track_start_frames"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect();
            assert_eq!(starts.len(), 10);
            // a CUE frame is 1/75 s at the album file's rate (broadcast delivers 48 kHz)
            let rate = seq["sample_rate"].as_u64().unwrap();
            assert_eq!(
                rate,
                if delivery == "broadcast" {
                    48_000
                } else {
                    44_100
                }
            );
            let fpf = rate / 75;
            for (fmt, e) in [("flac24", "flac"), ("wav24", "wav")] {
                let cue = std::fs::read_to_string(dir.join(format!("sequence/{fmt}/{album}.cue")))
                    .unwrap();
                assert!(cue.contains(&format!("FILE \"{album}.{e}\" WAVE")));
                let idx: Vec<u64> = cue
                    .lines()
                    .filter_map(|l| l.trim().strip_prefix("INDEX 01 "))
                    .map(|t| {
                        let p: Vec<u64> = t.split(':').map(|x| x.parse().unwrap()).collect();
                        ((p[0] * 60 + p[1]) * 75 + p[2]) * fpf
                    })
                    .collect();
                assert_eq!(idx, starts, "{fmt}: CUE times = rendered track starts");
            }
            let fl = flac_ints(&dir.join(format!("sequence/flac24/{album}.flac")));
            assert_eq!(
                fl,
                wav_ints(&dir.join(format!("sequence/wav24/{album}.wav")))
            );
            assert_eq!(fl.len() as u64, 2 * seq["total_frames"].as_u64().unwrap());
        }
    }
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(full.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        (s["total"].as_u64(), s["ok"].as_u64(), s["failed"].as_u64()),
        (Some(40), Some(40), Some(0))
    );
    assert_eq!(s["sequences"].as_array().unwrap().len(), 4);
    assert_eq!(
        std::fs::read_to_string(full.join("summary.csv"))
            .unwrap()
            .lines()
            .count(),
        41
    );

    // Killed after its first finished song, resumed with --skip-existing: the same bytes.
    let cut = t.path().join("cut");
    let mut child = bin()
        .args(args(&cut, &[]))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !common::tree_files(&cut).iter().any(|p| ext(p) == "json")
        && t0.elapsed() < Duration::from_secs(120)
    {
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = common::tree_files(&cut)
        .iter()
        .filter(|p| ext(p) == "json")
        .count();
    let out = bin()
        .args(args(&cut, &["--skip-existing"]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cut.join("summary.json")).unwrap()).unwrap();
    eprintln!(
        "killed with {partial} sidecars on disk; resumed: {} mastered, {} skipped",
        s["ok"], s["skipped"]
    );
    let audio = |d: &Path| -> Vec<PathBuf> {
        common::tree_files(d)
            .into_iter()
            .filter(|p| !matches!(ext(p), "json" | "csv"))
            .collect()
    };
    assert_eq!(audio(&full), audio(&cut));
    assert_eq!(
        audio(&full).len(),
        2 * 2 * (20 + 2) + 2 * 2 * 2,
        "80 songs, 8 album files, 8 CUE sheets"
    );
    for f in audio(&full) {
        assert!(
            std::fs::read(full.join(&f)).unwrap() == std::fs::read(cut.join(&f)).unwrap(),
            "{} differs",
            f.display()
        );
    }
    eprintln!(
        "{} files byte-identical after the resume",
        audio(&full).len()
    );
}
