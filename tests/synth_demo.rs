//! The demo synthesiser: deterministic bytes, and stems that are sane audio (non-silent,
//! peaks where the sketch puts them, no clipping, no NaN), with scene files that reference
//! them.

use std::path::Path;

use mixfarm::synth::demo::{decode_flac, write_songs};
use mixfarm::synth::{demo_songs, write_demo, SongSketch};

/// Stems are scaled to their sketch's peak in f64, then rounded to 16 bits: the decoded
/// peak may differ by the rounding and the f32 step (far below 0.01 dB).
const PEAK_TOL_DB: f64 = 0.01;
/// A stem whose RMS over the whole file is below this is "silent".
const MIN_RMS_DBFS: f64 = -45.0;

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

/// The songs cut to their first 3 bars (keeps the test fast, runs the same code).
fn short_songs() -> Vec<SongSketch> {
    demo_songs()
        .into_iter()
        .map(|mut s| {
            s.bars = 3;
            s
        })
        .collect()
}

#[test]
fn generator_is_deterministic() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let songs = short_songs();
    write_songs(a.path(), &songs).unwrap();
    write_songs(b.path(), &songs).unwrap();
    let (fa, fb) = (
        files(&a.path().join("stems")),
        files(&b.path().join("stems")),
    );
    assert_eq!(fa.len(), 15);
    assert_eq!(
        fa.iter().map(|p| p.file_name()).collect::<Vec<_>>(),
        fb.iter().map(|p| p.file_name()).collect::<Vec<_>>()
    );
    for (x, y) in fa
        .iter()
        .zip(&fb)
        .chain(files(a.path()).iter().zip(&files(b.path())))
    {
        if x.is_file() {
            let same = std::fs::read(x).unwrap() == std::fs::read(y).unwrap();
            assert!(same, "{} differs between two runs", x.display());
        }
    }
    // and a different seed gives different audio
    let mut other = songs.clone();
    other[0].seed ^= 1;
    let (x, y) = (songs[0].render_stems(), other[0].render_stems());
    assert_ne!(x[0], y[0], "the seed must matter");
}

#[test]
fn demo_stems_are_sane_and_scenes_reference_them() {
    let dir = tempfile::tempdir().unwrap();
    write_demo(dir.path()).unwrap();
    let mut total_bytes = 0;
    for song in demo_songs() {
        let scene_path = dir.path().join(format!("{}.toml", song.slug));
        let scene: toml::Table = std::fs::read_to_string(&scene_path)
            .unwrap()
            .parse()
            .unwrap();
        let tracks = scene["track"].as_array().unwrap();
        assert_eq!(tracks.len(), song.stems.len());
        let dur = song.duration_s();
        assert!((20.0..=30.0).contains(&dur), "{}: {dur} s", song.title);
        for (track, stem) in tracks.iter().zip(&song.stems) {
            let file = dir.path().join(track["file"].as_str().unwrap());
            let bytes = std::fs::read(&file).unwrap();
            total_bytes += bytes.len();
            let d = decode_flac(&bytes).unwrap();
            assert_eq!(d.sample_rate, song.stem_sample_rate);
            assert_eq!(d.channels, stem.channels);
            let frames = d.samples.len() / d.channels;
            // exactly the rendered length (no padding to whole FLAC blocks any more)
            assert_eq!(
                frames,
                (dur * d.sample_rate as f64).round() as usize,
                "{}: length",
                file.display()
            );
            let x: Vec<f64> = d
                .samples
                .iter()
                .map(|&s| s as f64 / 2f64.powi(31))
                .collect();
            let peak_db = 20.0 * x.iter().fold(0.0f64, |m, v| m.max(v.abs())).log10();
            let rms_db = 10.0 * (x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64).log10();
            println!(
                "{}: {} ch, {} Hz, peak {peak_db:.2} dBFS, rms {rms_db:.1} dBFS, {} bytes",
                file.display(),
                d.channels,
                d.sample_rate,
                bytes.len()
            );
            assert!(
                (peak_db - stem.peak_dbfs).abs() < PEAK_TOL_DB,
                "peak {peak_db} vs {}",
                stem.peak_dbfs
            );
            assert!(peak_db < -2.9, "no stem may come near clipping");
            assert!(
                rms_db > MIN_RMS_DBFS,
                "{} is (nearly) silent",
                file.display()
            );
        }
    }
    println!("total stem bytes: {total_bytes}");
    for song in short_songs() {
        for stem in song.render_stems() {
            assert!(
                stem.iter().flatten().all(|v| v.is_finite()),
                "NaN or Inf in {}",
                song.title
            );
        }
    }
    let album: toml::Table = std::fs::read_to_string(dir.path().join("album.toml"))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(album["songs"].as_array().unwrap().len(), 3);
}

#[test]
fn catalog_shape_determinism_and_levels() {
    let (songs, stems, seconds, rate) = (2, 7, 4.0, 22050);
    let a = mixfarm::synth::catalog(songs, stems, seconds, rate, 11);
    let frames = (seconds * rate as f64).round() as usize;
    assert_eq!(a.len(), songs);
    for song in &a {
        assert_eq!(song.len(), stems);
        for stem in song {
            assert!(stem.len() == 1 || stem.len() == 2);
            for ch in stem {
                assert_eq!(ch.len(), frames);
                assert!(
                    ch.iter().all(|v| v.is_finite() && v.abs() < 1.0),
                    "NaN or clipping"
                );
                let rms_db = 10.0
                    * (ch.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / frames as f64).log10();
                assert!(
                    rms_db > MIN_RMS_DBFS - 10.0,
                    "silent catalog stem ({rms_db:.1} dBFS)"
                );
            }
        }
    }
    assert_eq!(
        a,
        mixfarm::synth::catalog(songs, stems, seconds, rate, 11),
        "same seed, same catalog"
    );
    assert_ne!(
        a[0][0],
        mixfarm::synth::catalog(1, 1, seconds, rate, 12)[0][0],
        "the seed must matter"
    );
    // a longer catalog starts with the shorter one (the loop tiling is the same)
    let longer = mixfarm::synth::catalog(1, stems, 2.0 * seconds, rate, 11);
    for (s, l) in a[0].iter().zip(&longer[0]) {
        for (cs, cl) in s.iter().zip(l) {
            assert_eq!(cs[..], cl[..frames]);
        }
    }
}
