//! Issue 13 item 7: our FLAC writer against the reference encoder's default level
//! (`flac -5`) on 24-bit music: at most 3 % larger, and the bytes decode back (claxon, an
//! independent decoder) to exactly the samples encoded. Needs the `flac` program; skipped
//! with a message when it is absent, unless `MIXFARM_REQUIRE_FLAC=1` (CI sets it).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::tempdir;
use mixfarm::audio::flac::encode_flac;
use mixfarm::audio::pcm::Pcm;

/// Whether the `flac` program runs here; panics if it must (`MIXFARM_REQUIRE_FLAC=1`).
fn have_flac() -> bool {
    let ok = Command::new("flac")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("MIXFARM_REQUIRE_FLAC").as_deref() != Ok("1"),
            "MIXFARM_REQUIRE_FLAC=1 but the `flac` program is missing (apt-get install flac)"
        );
        eprintln!("SKIPPED: the `flac` program is missing (apt-get install flac)");
    }
    ok
}

/// The first song WAV under `dir` (synth-catalog writes album folders of songs).
fn first_wav(dir: &Path) -> PathBuf {
    let mut found: Vec<PathBuf> = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            for f in std::fs::read_dir(&p).unwrap() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|e| e == "wav") {
                    found.push(f);
                }
            }
        }
    }
    found.sort();
    found.into_iter().next().expect("a song WAV")
}

/// Size of `flac -5 --no-padding` on `wav` (metadata: STREAMINFO and its vendor comment,
/// like ours before tags are added).
fn reference_size(wav: &Path, dir: &Path) -> u64 {
    let out = dir.join("ref.flac");
    let o = Command::new("flac")
        .args(["-5", "--no-padding", "-s", "-f", "-o"])
        .arg(&out)
        .arg(wav)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "flac -5 failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::metadata(&out).unwrap().len()
}

/// A deterministic 24-bit song from `mixfarm synth-catalog` (decaying partials, drums,
/// reverb: music, not white noise), `seconds` long, and its samples.
fn synth_song(dir: &Path, seconds: &str, loud: bool) -> (PathBuf, Pcm, u32) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mixfarm"));
    cmd.args(["synth-catalog", dir.to_str().unwrap()]).args([
        "--albums",
        "1",
        "--songs-per-album",
        "1",
        "--seconds",
        seconds,
    ]);
    if loud {
        cmd.arg("--loud");
    }
    let st = cmd.status().unwrap();
    assert!(st.success(), "synth-catalog failed");
    let wav = first_wav(dir);
    let mut r = hound::WavReader::open(&wav).unwrap();
    assert_eq!(
        r.spec().bits_per_sample,
        24,
        "synth-catalog writes 24-bit WAVs"
    );
    let rate = r.spec().sample_rate;
    let pcm = Pcm::Int {
        bits: 24,
        channels: usize::from(r.spec().channels),
        samples: r.samples::<i32>().map(Result::unwrap).collect(),
    };
    (wav, pcm, rate)
}

fn check_against_reference(loud: bool) {
    if !have_flac() {
        return;
    }
    let dir = tempdir();
    let (wav, pcm, rate) = synth_song(dir.path(), "20", loud);
    let Pcm::Int { samples, .. } = &pcm else {
        unreachable!()
    };
    let ours = encode_flac(&pcm, rate).unwrap();
    // decoded back by an independent decoder: exactly the samples encoded
    let mut r = claxon::FlacReader::new(std::io::Cursor::new(&ours)).unwrap();
    assert_eq!(r.streaminfo().bits_per_sample, 24);
    let decoded: Vec<i32> = r.samples().map(|s| s.unwrap()).collect();
    assert_eq!(decoded.len(), samples.len(), "decoded length");
    assert!(&decoded == samples, "decoded samples differ");
    let reference = reference_size(&wav, dir.path());
    let ratio = ours.len() as f64 / reference as f64;
    println!(
        "24-bit synth-catalog song, 20 s{}: ours {} bytes, flac -5 {reference} bytes ({:+.2} %)",
        if loud { ", --loud" } else { "" },
        ours.len(),
        100.0 * (ratio - 1.0)
    );
    assert!(
        ratio <= 1.03,
        "our FLAC is {:+.2} % against flac -5 (limit +3 %)",
        100.0 * (ratio - 1.0)
    );
}

#[test]
fn flac_within_3_percent_of_flac_5_on_a_24_bit_song() {
    check_against_reference(false);
}

#[test]
fn flac_within_3_percent_of_flac_5_on_a_loud_24_bit_master() {
    check_against_reference(true);
}
