//! Issue 13 item 1: each delivery's own sample rate and bit depth. The delivery converter's
//! passband and stopband against exact sines; `cd` writes 44.1 kHz / 16-bit from a 48 kHz
//! source with its ceiling held at 44.1 kHz (true peak by the f64 oracle); `--rate` and
//! `--bits` override, and `--skip-existing` redoes a song when either changes; `--format
//! wav24,wav16` writes both, told apart by name; an album of
//! mixed rates sequences at one rate; an album file that cannot be made names the songs and
//! counts in the summary. Rates and depths are read from the files' headers.

mod common;

use std::f64::consts::PI;
use std::path::{Path, PathBuf};
use std::process::Command;

use mixfarm::audio::resample::resample_delivery;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mixfarm"))
}

fn sine(freq_hz: f64, rate: u32, frames: usize, amp: f64) -> Vec<f32> {
    (0..frames)
        .map(|i| (amp * (2.0 * PI * freq_hz * i as f64 / f64::from(rate)).sin()) as f32)
        .collect()
}

/// Amplitude of the component at `freq_hz` in `x[from..to]` (least-squares fit of a sine
/// and a cosine at that frequency: the oracle).
fn amplitude(x: &[f32], rate: u32, freq_hz: f64, from: usize, to: usize) -> f64 {
    let w = 2.0 * PI * freq_hz / f64::from(rate);
    let (mut ss, mut sc, mut cc, mut xs, mut xc) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (i, &v) in x.iter().enumerate().take(to).skip(from) {
        let (s, c) = (w * i as f64).sin_cos();
        let v = f64::from(v);
        ss += s * s;
        sc += s * c;
        cc += c * c;
        xs += v * s;
        xc += v * c;
    }
    let det = ss * cc - sc * sc;
    let a = (xs * cc - xc * sc) / det;
    let b = (xc * ss - xs * sc) / det;
    a.hypot(b)
}

fn db(x: f64) -> f64 {
    20.0 * x.log10()
}

/// Passband gain error and the level of what falls outside the passband, through the
/// delivery converter from `from` to `to` Hz for a sine at `f_hz`; `alias_hz` is where
/// the out-of-band image or alias lands at the output rate.
fn through(from: u32, to: u32, f_hz: f64, alias_hz: f64) -> (f64, f64) {
    let frames = from as usize; // 1 s
    let x = sine(f_hz, from, frames, 0.5);
    let y = resample_delivery(Path::new("sine"), &[x], from, to).unwrap();
    let n = y[0].len();
    assert_eq!(
        n as u64,
        (frames as u64 * u64::from(to)).div_ceil(u64::from(from))
    );
    // skip the ends (the converter's edges), fit the middle
    let (a, b) = (n / 8, n - n / 8);
    let gain = db(amplitude(&y[0], to, f_hz, a, b) / 0.5);
    let alias = db(amplitude(&y[0], to, alias_hz, a, b) / 0.5);
    (gain, alias)
}

#[test]
fn delivery_converter_passband_and_stopband() {
    // passband: 20 Hz .. 20 kHz within ±0.01 dB, both directions
    for (from, to) in [(48_000, 44_100), (44_100, 48_000), (96_000, 44_100)] {
        for f in [20.0, 1000.0, 10_000.0, 20_000.0] {
            let (gain, _) = through(from, to, f, f);
            println!("{from} -> {to} Hz: {f} Hz passes at {gain:+.5} dB");
            assert!(gain.abs() < 0.01, "{from}->{to} {f} Hz: {gain} dB");
        }
    }
    // the transition band at 44.1 kHz (printed for the README): gain near the edge, and the
    // alias of tones just past the output's Nyquist frequency
    for f in [20_500.0, 21_000.0, 21_500.0, 21_800.0, 22_000.0] {
        let (gain, _) = through(48_000, 44_100, f, f);
        println!("48k -> 44.1k: {f} Hz at {gain:+.4} dB");
    }
    for f in [22_100.0, 22_300.0, 22_500.0, 23_000.0] {
        let (_, alias) = through(48_000, 44_100, f, 44_100.0 - f);
        println!(
            "48k -> 44.1k: {f} Hz aliases to {} Hz at {alias:.1} dB",
            44_100.0 - f
        );
        if f >= 22_500.0 {
            assert!(alias < -120.0, "{f} Hz: alias {alias} dB");
        }
    }
    // stopband, downsampling: a 23 kHz tone cannot exist at 44.1 kHz; its alias (21.1 kHz)
    // must stay far down
    let (_, alias) = through(48_000, 44_100, 23_000.0, 44_100.0 - 23_000.0);
    println!("48k -> 44.1k: 23 kHz aliases to 21.1 kHz at {alias:.1} dB");
    assert!(alias < -120.0, "alias {alias} dB");
    // stopband, upsampling: a 21 kHz tone at 44.1 kHz has an image at 23.1 kHz
    let (_, image) = through(44_100, 48_000, 21_000.0, 44_100.0 - 21_000.0);
    println!("44.1k -> 48k: the 21 kHz tone's image at 23.1 kHz is at {image:.1} dB");
    assert!(image < -120.0, "image {image} dB");
}

fn spec(p: &Path) -> hound::WavSpec {
    hound::WavReader::open(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .spec()
}

fn song(dir: &Path, name: &str, rate: u32, seconds: f64, seed: u64) -> PathBuf {
    let frames = (seconds * f64::from(rate)) as usize;
    let l = common::music_like(frames, rate, seed);
    let r = common::music_like(frames, rate, seed + 1);
    let p = dir.join(name);
    common::write_f32(&p, &[l, r], rate);
    p
}

fn master(args: &[&str]) -> (i32, String) {
    let out = bin()
        .arg("master")
        .args(args)
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), err)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn cd_delivery_is_44k1_16_bit_with_its_ceiling_at_that_rate() {
    let t = common::tempdir();
    let src = song(t.path(), "Song.wav", 48_000, 6.0, 3);
    let out = t.path().join("out");
    let (code, err) = master(&[
        s(&src),
        "--out",
        s(&out),
        "--deliver",
        "cd",
        "--backend",
        "cpu",
    ]);
    assert_eq!(code, 0, "{err}");
    let f = out.join("cd").join("Singles").join("Song.wav");
    let sp = spec(&f);
    assert_eq!((sp.sample_rate, sp.bits_per_sample), (44_100, 16), "{sp:?}");
    let (x, _) = common::read_wav(&f);
    assert!(
        (x[0].len() as i64 - 6 * 44_100).abs() <= 1,
        "{} frames",
        x[0].len()
    );
    let tp = common::true_peak_oracle::true_peak_dbtp(&x);
    // the cd ceiling is −0.3 dBTP; 16-bit dither adds at most ~1 LSB (≈ 0.0003 dB here)
    assert!(tp <= -0.3 + 0.05, "true peak {tp} dBTP at 44.1 kHz");
    println!("cd: 44.1 kHz / 16-bit, true peak {tp:.3} dBTP (oracle)");

    // --skip-existing: the same settings skip the song; another depth or rate is not up to
    // date (the settings hash covers them): refused unless --overwrite, which redoes it
    let summary = |o: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(o.join("summary.json")).unwrap()).unwrap()
    };
    let again = |extra: &[&str], want: i32| {
        let mut a = vec![s(&src), "--out", s(&out), "--deliver", "cd"];
        a.extend_from_slice(extra);
        let (code, err) = master(&a);
        assert_eq!(code, want, "{err}");
        summary(&out)
    };
    assert_eq!(again(&["--skip-existing"], 0)["skipped"], 1);
    again(&["--skip-existing", "--bits", "24"], 2);
    assert_eq!(
        spec(&f).bits_per_sample,
        16,
        "a refused run replaced nothing"
    );
    assert_eq!(
        again(&["--overwrite", "--bits", "24"], 0)["skipped"],
        0,
        "a new depth is redone"
    );
    assert_eq!(spec(&f).bits_per_sample, 24);
    assert_eq!(
        again(&["--overwrite", "--bits", "24", "--rate", "48000"], 0)["skipped"],
        0,
        "and a new rate"
    );
    assert_eq!(spec(&f).sample_rate, 48_000);
    assert_eq!(
        again(&["--skip-existing", "--bits", "24", "--rate", "48000"], 0)["skipped"],
        1
    );

    // --rate and --bits override the preset
    let out2 = t.path().join("out2");
    let (code, err) = master(&[
        s(&src),
        "--out",
        s(&out2),
        "--deliver",
        "cd",
        "--rate",
        "96000",
        "--bits",
        "24",
        "--backend",
        "cpu",
    ]);
    assert_eq!(code, 0, "{err}");
    let sp = spec(&out2.join("cd").join("Singles").join("Song.wav"));
    assert_eq!((sp.sample_rate, sp.bits_per_sample), (96_000, 24), "{sp:?}");
    // a rate the CUE sheet cannot hold is refused up front with --sequence
    let (code, err) = master(&[
        s(&src),
        "--out",
        s(&t.path().join("o3")),
        "--rate",
        "32000",
        "--sequence",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("32000"), "{err}");
}

#[test]
fn two_depths_of_one_container_in_one_run() {
    let t = common::tempdir();
    let src = song(t.path(), "Tune.wav", 44_100, 3.0, 5);
    let out = t.path().join("out");
    let (code, err) = master(&[
        s(&src),
        "--out",
        s(&out),
        "--format",
        "wav24,wav16,flac",
        "--backend",
        "cpu",
    ]);
    assert_eq!(code, 0, "{err}");
    let dir = out.join("streaming").join("Singles");
    let a = spec(&dir.join("Tune (24-bit).wav"));
    let b = spec(&dir.join("Tune (16-bit).wav"));
    assert_eq!((a.bits_per_sample, b.bits_per_sample), (24, 16));
    assert_eq!((a.sample_rate, b.sample_rate), (44_100, 44_100));
    // the only FLAC keeps the plain name, at the delivery's depth (streaming: 24)
    let flac = claxon::FlacReader::open(dir.join("Tune.flac")).unwrap();
    assert_eq!(flac.streaminfo().bits_per_sample, 24);
    // 'wav' and 'wav24' are the same file in a 24-bit delivery: refused
    let (code, err) = master(&[
        s(&src),
        "--out",
        s(&t.path().join("o2")),
        "--format",
        "wav,wav24",
    ]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn mixed_rate_album_sequences_at_one_rate() {
    let t = common::tempdir();
    let album = t.path().join("Mixed");
    std::fs::create_dir(&album).unwrap();
    song(&album, "a.wav", 44_100, 3.0, 7);
    song(&album, "b.wav", 48_000, 3.0, 9);
    song(&album, "c.wav", 96_000, 2.0, 11);
    let out = t.path().join("out");
    let (code, err) = master(&[
        s(&album),
        "--out",
        s(&out),
        "--sequence",
        "--backend",
        "cpu",
    ]);
    assert_eq!(code, 0, "{err}");
    let dir = out.join("streaming").join("Mixed");
    // no delivery rate: the album takes its highest
    let seq = spec(&dir.join("sequence").join("wav24").join("Mixed.wav"));
    assert_eq!(seq.sample_rate, 96_000);
    for n in ["01 - a.wav", "02 - b.wav", "03 - c.wav"] {
        assert_eq!(spec(&dir.join(n)).sample_rate, 96_000, "{n}");
    }
    // the cd delivery's own rate
    let out2 = t.path().join("out2");
    let (code, err) = master(&[
        s(&album),
        "--out",
        s(&out2),
        "--sequence",
        "--deliver",
        "cd",
        "--backend",
        "cpu",
    ]);
    assert_eq!(code, 0, "{err}");
    let seq = spec(&out2.join("cd/Mixed/sequence/wav16/Mixed.wav"));
    assert_eq!((seq.sample_rate, seq.bits_per_sample), (44_100, 16));
}

#[test]
fn album_file_failure_names_the_song_and_counts() {
    let t = common::tempdir();
    let album = t.path().join("Broken");
    std::fs::create_dir(&album).unwrap();
    song(&album, "good.wav", 44_100, 3.0, 13);
    std::fs::write(album.join("bad.wav"), b"RIFF....WAVEgarbage").unwrap();
    let out = t.path().join("out");
    let (code, err) = master(&[
        s(&album),
        "--out",
        s(&out),
        "--sequence",
        "--backend",
        "cpu",
    ]);
    assert_eq!(code, 1, "{err}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["failed"], 1, "{summary}");
    assert_eq!(summary["album_files_failed"], 1, "{summary}");
    let e = summary["sequences"][0]["error"].as_str().unwrap();
    assert!(e.contains("'bad'") && e.contains("bad.wav"), "{e}");
    assert!(err.contains("1 album file failed"), "{err}");
}
