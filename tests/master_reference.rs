//! `mixfarm master --reference`: the mastered song's long-term spectrum moves toward the
//! reference's by the match strength, and its loudness lands on the reference's. Measured
//! on the written files with `long_term_spectrum` (checked against an f64 DFT oracle in
//! tests/match_eq.rs).

mod common;

use std::path::Path;
use std::process::Command;

use common::spectrum_oracle::shaped_noise_at;
use common::{read_wav, tempdir, write_f32, write_text};
use mixfarm::ops::match_eq::{long_term_spectrum, Spectrum};

const RATE: u32 = 48_000;

fn distance_db(a: &Spectrum, b: &Spectrum) -> f64 {
    common::spectrum_oracle::shape_distance_db(&a.band_hz, &a.level_db, &b.level_db)
}

fn spectrum(p: &Path) -> Spectrum {
    let (x, spec) = read_wav(p);
    long_term_spectrum(&x, spec.sample_rate)
}

#[test]
fn reference_matching_moves_spectrum_and_loudness() {
    let t = tempdir();
    let frames = 1 << 17;
    let oct = |f: f64| (f / 1000.0).log2();
    // A dark song and a brighter, louder reference (differences within the ±6 dB limits).
    let song: Vec<Vec<f32>> = shaped_noise_at(frames, RATE, 11, |f| -0.6 * oct(f))
        .into_iter()
        .map(|c| c.iter().map(|v| v * 0.5).collect())
        .collect();
    let reference: Vec<Vec<f32>> = shaped_noise_at(frames, RATE, 12, |f| 0.6 * oct(f))
        .into_iter()
        .map(|c| c.iter().map(|v| v * 1.5).collect())
        .collect();
    let (sp, rp) = (t.path().join("song.wav"), t.path().join("ref.wav"));
    write_f32(&sp, &song, RATE);
    write_f32(&rp, &reference, RATE);
    // A preset with only the closing limiter, so the match EQ is the only tonal change.
    write_text(t.path(), "plain.toml", "ceiling_dbtp = -1.0\n[[chain]]\ntype = \"limiter\"\nceiling_dbtp = -1.0\nrelease_ms = 100\nlookahead_ms = 5\n");
    let s_ref = spectrum(&rp);
    let before = distance_db(&long_term_spectrum(&song, RATE), &s_ref);
    let ref_lufs = mixfarm::analyze::analyze_file(&rp)
        .unwrap()
        .integrated_lufs
        .unwrap();
    let mut left = Vec::new();
    for strength in ["0", "0.5", "1"] {
        let out = t.path().join(format!("out{strength}"));
        let st = Command::new(env!("CARGO_BIN_EXE_mixfarm"))
            .current_dir(t.path())
            .args([
                "master",
                "song.wav",
                "--out",
                out.to_str().unwrap(),
                "--preset",
                "plain.toml",
                "--format",
                "wav32f",
                "--reference",
                "ref.wav",
                "--match-strength",
                strength,
            ])
            .output()
            .unwrap();
        eprintln!("{}", String::from_utf8_lossy(&st.stderr));
        assert_eq!(st.status.code(), Some(0));
        let f = out.join("plain/Singles/song.wav");
        let after = distance_db(&spectrum(&f), &s_ref);
        let lufs = mixfarm::analyze::analyze_file(&f)
            .unwrap()
            .integrated_lufs
            .unwrap();
        eprintln!("strength {strength}: shape distance {before:.3} → {after:.3} dB; loudness {lufs:.3} LUFS (reference {ref_lufs:.3})");
        assert!((lufs - ref_lufs).abs() < 0.1, "loudness matched");
        let rep: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join("plain/Singles/song.json")).unwrap(),
        )
        .unwrap();
        assert!(
            rep["match_eq"].as_str().unwrap().contains("ref.wav"),
            "{}",
            rep["match_eq"]
        );
        left.push(after / before);
    }
    assert!(
        (left[0] - 1.0).abs() < 0.02,
        "strength 0 leaves the balance: {left:?}"
    );
    assert!(
        (0.35..0.65).contains(&left[1]),
        "strength 0.5 goes about halfway: {left:?}"
    );
    assert!(left[2] < 0.3, "strength 1 closes most of the gap: {left:?}");
}
