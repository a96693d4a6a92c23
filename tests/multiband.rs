//! Multiband compressor, the part that does not need the crossover yet: settings checks,
//! per-band compression + summation, and the presets' multiband settings.
//! (Band split vs an f64 oracle comes with the crossover from branch `fft`.)

mod common;

use std::path::Path;

use common::*;
use mixfarm::ops::compressor;
use mixfarm::ops::multiband::{cpu, MultibandSpec};

const FS: u32 = 48_000;

fn spec(toml_text: &str) -> Result<MultibandSpec, toml::de::Error> {
    toml::from_str(toml_text)
}

const GOOD: &str = r#"
crossover_hz = [120, 1000, 6000]
mode = "linkwitz_riley"
bands = [
  { threshold_db = -24, ratio = 2.0, knee_db = 6, attack_ms = 30, release_ms = 200, makeup_db = 1.0 },
  { threshold_db = -22, ratio = 1.0, attack_ms = 20, release_ms = 150 },
  { threshold_db = -22, ratio = 4.0, knee_db = 6, attack_ms = 10, release_ms = 120, detector = "rms" },
  { threshold_db = -26, ratio = 1.5, attack_ms = 5, release_ms = 80 },
]
"#;

#[test]
fn bands_are_compressed_independently_and_summed_in_order() {
    let s = spec(GOOD).expect("parses");
    let params = s.band_params(FS, Path::new(".")).expect("valid");
    let frames = 4800;
    let bands: Vec<Vec<Vec<f32>>> = (0..4)
        .map(|b| {
            let g = 0.1 + 0.3 * b as f64;
            to_f32(&[
                noise(frames, 2 * b as u64 + 1)
                    .iter()
                    .map(|v| g * v)
                    .collect(),
                noise(frames, 2 * b as u64 + 2)
                    .iter()
                    .map(|v| g * v)
                    .collect(),
            ])
        })
        .collect();
    let mut work = bands.clone();
    let mut out = vec![vec![0.0f32; frames]; 2];
    cpu::compress_and_sum(&params, &mut work, &mut out);
    // expected: each band through the single-band compressor, summed b0 + b1 + b2 + b3
    let mut want = vec![vec![0.0f32; frames]; 2];
    for (p, band) in params.iter().zip(&bands) {
        let mut b = band.clone();
        compressor::cpu::process(p, &mut b, None);
        for (w, bc) in want.iter_mut().zip(&b) {
            for (x, y) in w.iter_mut().zip(bc) {
                *x += y;
            }
        }
    }
    assert_eq!(out, want);
    // a band at ratio 1 without makeup is untouched; a compressing band is not
    assert_eq!(work[1], bands[1]);
    assert_ne!(work[2], bands[2]);
    let gr_db = db(work[2][0].iter().map(|v| v.abs() as f64).sum::<f64>()
        / bands[2][0].iter().map(|v| v.abs() as f64).sum::<f64>());
    eprintln!("band 2 (ratio 4, −22 dB threshold) average level change {gr_db:.2} dB");
    assert!(gr_db < -3.0);
}

#[test]
fn settings_are_checked() {
    let dir = Path::new(".");
    for (bad, why) in [
        (
            GOOD.replace("[120, 1000, 6000]", "[120, 1000]"),
            "band count",
        ),
        (
            GOOD.replace("[120, 1000, 6000]", "[120, 6000, 1000]"),
            "order",
        ),
        (
            GOOD.replace("[120, 1000, 6000]", "[120, 1000, 30000]"),
            "above Nyquist",
        ),
        (GOOD.replace("ratio = 1.5", "ratio = 0.5"), "ratio"),
    ] {
        let e = spec(&bad)
            .expect("parses")
            .band_params(FS, dir)
            .expect_err(why);
        eprintln!("{why}: {e}");
    }
    assert!(spec(&GOOD.replace("linkwitz_riley", "butterworth")).is_err());
    assert!(spec(&GOOD.replace("linkwitz_riley", "linear_phase")).is_ok());
}

#[test]
fn preset_multiband_settings_are_valid() {
    for stem in ["streaming", "apple", "broadcast", "cd"] {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenes/presets/{stem}.toml"));
        let t: toml::Table =
            toml::from_str(&std::fs::read_to_string(path).expect("readable")).expect("toml");
        let chain = t["chain"].as_array().expect("chain");
        let mb = chain
            .iter()
            .find(|i| i.get("type").and_then(|v| v.as_str()) == Some("multiband"))
            .expect("multiband");
        let mut mb = mb.as_table().expect("table").clone();
        mb.remove("type");
        let s: MultibandSpec = toml::Value::Table(mb).try_into().expect("multiband parses");
        s.band_params(FS, Path::new("."))
            .expect("multiband settings valid");
    }
}
