//! Audio input: every format and bit depth decodes to the right samples; every kind of
//! bad file gives a clear error naming the file, while the other songs of the batch render.

mod common;

use common::*;
use mixfarm::audio::decode::decode_file;
use mixfarm::render::{render_batch, Backend, RenderOptions};
use std::path::Path;

const RATE: u32 = 48_000;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn max_diff(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).abs())
        .fold(0.0, f64::max)
}

#[test]
fn every_wav_depth_decodes_to_the_written_samples() {
    let dir = tempdir();
    let sig = vec![music_like(3000, RATE, 11), music_like(3000, RATE, 12)];
    // (name, writer, bits, tolerance = half a quantisation step, or f32 rounding)
    type Writer<'a> = Box<dyn Fn(&Path) + 'a>;
    let cases: Vec<(&str, Writer, f64)> = vec![
        (
            "i8.wav",
            Box::new(|p: &Path| write_int(p, &sig, RATE, 8)),
            0.5 / 128.0 + 1e-9,
        ),
        (
            "i16.wav",
            Box::new(|p: &Path| write_int(p, &sig, RATE, 16)),
            0.5 / 32768.0 + 1e-9,
        ),
        (
            "i24.wav",
            Box::new(|p: &Path| write_int(p, &sig, RATE, 24)),
            0.5 / 8_388_608.0 + 1e-9,
        ),
        (
            "i32.wav",
            Box::new(|p: &Path| write_int(p, &sig, RATE, 32)),
            1e-7,
        ),
        (
            "f32.wav",
            Box::new(|p: &Path| write_f32(p, &sig, RATE)),
            0.0,
        ),
        (
            "f64.wav",
            Box::new(|p: &Path| write_f64(p, &sig, RATE)),
            0.0,
        ),
    ];
    for (name, write, tol) in cases {
        let p = dir.path().join(name);
        write(&p);
        let d = decode_file(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(d.sample_rate, RATE, "{name}");
        assert_eq!(d.channels.len(), 2, "{name}");
        assert_eq!(d.frames(), 3000, "{name}");
        let err = max_diff(&d.channels[0], &sig[0]).max(max_diff(&d.channels[1], &sig[1]));
        println!("{name}: max error {err:.3e}");
        assert!(err <= tol, "{name}: error {err} > {tol}");
    }
}

#[test]
fn compressed_and_other_containers_decode() {
    // (file, channels, rate, expected frames, lossless?)
    for (name, ch, rate, frames, lossless) in [
        ("tone24.flac", 1, 48_000, 24_000, true),
        ("tone.aiff", 1, 48_000, 9_600, true),
        ("tone.mp3", 2, 44_100, 22_050, false),
        ("tone.ogg", 2, 44_100, 22_050, false),
    ] {
        let d = decode_file(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(d.channels.len(), ch, "{name}");
        assert_eq!(d.sample_rate, rate, "{name}");
        // lossy codecs may add encoder delay/padding frames
        let slack = if lossless { 0 } else { 3000 };
        assert!(
            d.frames() >= frames && d.frames() <= frames + slack,
            "{name}: {} frames",
            d.frames()
        );
        // ffmpeg's sine source: 440 Hz at amplitude 1/8; its mono → stereo upmix (`-ac 2`)
        // places the mono signal at −3 dB in each channel. ffmpeg's own decode of the lossy
        // files reads −21.5 dBFS (mp3) and −20.8 dBFS (ogg) with volumedetect.
        let peak = d.channels[0].iter().fold(0.0f32, |m, x| m.max(x.abs()));
        let want = if ch == 2 { 0.125 / 2f64.sqrt() } else { 0.125 };
        println!("{name}: peak {peak} (source {want:.4})");
        assert!((f64::from(peak) - want).abs() < 0.01, "{name}: peak {peak}");
        if lossless {
            // compare with the ideal sine (ffmpeg rounds to the stored depth)
            let ideal: Vec<f32> = (0..frames)
                .map(|i| {
                    (0.125
                        * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / f64::from(rate)).sin())
                        as f32
                })
                .collect();
            let err = max_diff(&d.channels[0], &ideal);
            println!("{name}: max error vs ideal sine {err:.3e}");
            assert!(err < 1e-4, "{name}: {err}");
        }
    }
}

/// Each bad input and the words its error must contain.
fn bad_inputs(d: &Path) -> Vec<(std::path::PathBuf, &'static str)> {
    let good = vec![music_like(2000, RATE, 1)];
    let empty = d.join("empty.wav");
    std::fs::write(&empty, b"").unwrap();
    let garbage = d.join("garbage.wav");
    std::fs::write(
        &garbage,
        (0..4000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let truncated = d.join("truncated.wav");
    write_int(&truncated, &good, RATE, 16);
    let bytes = std::fs::read(&truncated).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let rate0 = d.join("rate0.wav");
    let data: Vec<u8> = (0..2000i16).flat_map(|i| (i * 7).to_le_bytes()).collect();
    std::fs::write(&rate0, wav_bytes(1, 1, 0, 16, &data)).unwrap();
    let nan = d.join("nan.wav");
    let mut sig = music_like(2000, RATE, 2);
    sig[1234] = f32::NAN;
    write_f32(&nan, &[sig], RATE);
    let inf = d.join("inf.wav");
    let mut sig = music_like(2000, RATE, 3);
    sig[77] = f32::INFINITY;
    write_f32(&inf, &[sig], RATE);
    let surround = d.join("three_channels.wav");
    write_f32(
        &surround,
        &[good[0].clone(), good[0].clone(), good[0].clone()],
        RATE,
    );
    let zero_frames = d.join("zero_frames.wav");
    std::fs::write(&zero_frames, wav_bytes(1, 2, RATE, 16, &[])).unwrap();
    vec![
        (empty, "empty"),
        (garbage, "not a recognised audio file"),
        (truncated, "truncated"),
        (rate0, "sample rate is 0"),
        (nan, "NaN"),
        (inf, "inf"),
        (surround, "3 channels"),
        (zero_frames, "no audio"),
        (d.join("missing.wav"), "cannot open"),
    ]
}

#[test]
fn bad_inputs_give_clear_errors() {
    let dir = tempdir();
    for (path, words) in bad_inputs(dir.path()) {
        let err = decode_file(&path)
            .err()
            .unwrap_or_else(|| panic!("{} decoded", path.display()))
            .to_string();
        println!("{err}");
        assert!(
            err.contains(&path.display().to_string()),
            "error does not name the file: {err}"
        );
        assert!(
            err.to_lowercase().contains(&words.to_lowercase()),
            "error for {} does not say '{words}': {err}",
            path.display()
        );
    }
}

#[test]
fn a_bad_stem_fails_only_its_song() {
    let dir = tempdir();
    let d = dir.path();
    write_f32(&d.join("good.wav"), &[music_like(4800, RATE, 9)], RATE);
    let mut scenes = Vec::new();
    let bad = bad_inputs(d);
    for (i, (path, _)) in bad.iter().enumerate() {
        let text = format!(
            "sample_rate = 48000\n[output]\nfile = \"bad{i}.wav\"\n[[track]]\nname = \"good\"\nfile = \"good.wav\"\n[[track]]\nname = \"bad\"\nfile = \"{}\"\n",
            path.file_name().unwrap().to_string_lossy()
        );
        scenes.push(write_text(d, &format!("bad{i}.toml"), &text));
    }
    scenes.insert(3, write_text(d, "fine.toml", "sample_rate = 48000\n[output]\nfile = \"fine.wav\"\n[[track]]\nname = \"good\"\nfile = \"good.wav\"\n"));
    // a bad file is found while the song streams its sources (NaN, truncation): on
    // either backend only its song fails
    for backend in [Backend::Cpu, Backend::Gpu] {
        let out = d.join(format!("out-{backend:?}"));
        let r = render_batch(
            &scenes,
            &RenderOptions {
                out_dir: out.clone(),
                backend,
                on_song_done: None,
                skip_existing: false,
                max_reduction_db: mixfarm::engine::DEFAULT_MAX_REDUCTION_DB,
            },
        );
        assert_eq!(r.ok(), 1);
        assert_eq!(r.failed(), bad.len());
        assert_eq!(r.exit_code(), 1, "bad audio is a per-song failure (exit 1)");
        assert!(out.join("fine.wav").is_file());
        for (i, (path, words)) in bad.iter().enumerate() {
            assert!(!out.join(format!("bad{i}.wav")).exists());
            let rep = r
                .songs
                .iter()
                .find(|s| s.scene.ends_with(format!("bad{i}.toml")))
                .unwrap();
            let err = rep.error.as_ref().unwrap();
            assert!(
                err.contains(&path.display().to_string())
                    && err.to_lowercase().contains(&words.to_lowercase()),
                "{backend:?}: {err}"
            );
        }
        // no temporary files left behind
        let leftovers: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}

#[test]
fn other_rates_are_resampled_to_the_song_rate() {
    let dir = tempdir();
    let d = dir.path();
    let f = 1000.0;
    let n = 44_100;
    let sine: Vec<f32> = (0..n)
        .map(|i| (0.5 * (2.0 * std::f64::consts::PI * f * i as f64 / 44_100.0).sin()) as f32)
        .collect();
    write_f32(&d.join("s.wav"), &[sine], 44_100);
    let out = mixfarm::audio::load_for_render(&d.join("s.wav"), RATE).unwrap();
    assert_eq!(out[0].len(), 48_000, "1 s at 44.1 kHz becomes 48000 frames");
    // away from the edges the result is the same sine sampled at 48 kHz
    let err = (2000..46_000)
        .map(|i| {
            (0.5 * (2.0 * std::f64::consts::PI * f * i as f64 / 48_000.0).sin()
                - f64::from(out[0][i]))
            .abs()
        })
        .fold(0.0, f64::max);
    println!(
        "resampled 44.1k → 48k sine: max error {err:.2e} ({:.1} dB)",
        20.0 * err.log10()
    );
    assert!(err < 1e-3, "resampling error {err}");
}

#[test]
fn m4a_decodes_and_opus_fails_by_name() {
    let dir = tempdir();
    let d = dir.path();
    let wav = d.join("a.wav");
    write_f32(
        &wav,
        &[music_like(48_000, RATE, 21), music_like(48_000, RATE, 22)],
        RATE,
    );
    // AAC in an MP4 container, made by ffmpeg (the independent reference tools install it)
    let m4a = d.join("b.m4a");
    let ff = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&wav)
        .args(["-c:a", "aac", "-b:a", "192k"])
        .arg(&m4a)
        .output()
        .expect("ffmpeg runs");
    assert!(
        ff.status.success(),
        "ffmpeg could not write an .m4a: {}",
        String::from_utf8_lossy(&ff.stderr)
    );
    let got = decode_file(&m4a).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got.sample_rate, RATE);
    assert!(got.frames() >= 47_000, "{} frames", got.frames());
    // a folder's .opus file is listed, and fails by name with the reason (not skipped)
    std::fs::write(d.join("c.opus"), b"OggS not really").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mixfarm"))
        .arg("master")
        .arg(d)
        .arg("--out")
        .arg(d.join("o"))
        .args(["--backend", "cpu"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("c.opus") && err.contains("Opus"), "{err}");
    assert!(err.contains("2 mastered"), "the wav and the m4a: {err}");
}
