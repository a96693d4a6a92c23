//! Multiband compressor: whole insert vs an f64 oracle (Linkwitz–Riley split from RBJ
//! biquads in direct form, the compressor oracle per band, bands summed); settings checks;
//! per-band compression + summation order; the presets' multiband settings.

mod common;

use std::path::Path;

use common::comp_oracle::{oracle, Oracle, FS};
use common::*;
use mixfarm::ops::compressor::{self, Detector};
use mixfarm::ops::multiband::{cpu, MultibandSpec};
use mixfarm::ops::Processor;

/// Whole-insert bound vs the f64 oracle, full scale (measured 1.2e-6): the crossover's f32 state-variable
/// sections against f64 biquads (same transfer functions) plus the compressor's f32 gain
/// path; the signals peak near 1.
const ORACLE_TOL: f64 = 1e-5;

/// RBJ cookbook biquad in f64, direct form I: `kind` 0 = low-pass, 1 = high-pass,
/// 2 = all-pass, Q = 1/√2.
fn biquad(x: &[f64], kind: u8, f0: f64) -> Vec<f64> {
    let w0 = std::f64::consts::TAU * f0 / FS as f64;
    let (cw, alpha) = (w0.cos(), w0.sin() / (2.0 * std::f64::consts::FRAC_1_SQRT_2));
    let (b, a) = match kind {
        0 => (
            [(1.0 - cw) / 2.0, 1.0 - cw, (1.0 - cw) / 2.0],
            [1.0 + alpha, -2.0 * cw, 1.0 - alpha],
        ),
        1 => (
            [(1.0 + cw) / 2.0, -(1.0 + cw), (1.0 + cw) / 2.0],
            [1.0 + alpha, -2.0 * cw, 1.0 - alpha],
        ),
        _ => (
            [1.0 - alpha, -2.0 * cw, 1.0 + alpha],
            [1.0 + alpha, -2.0 * cw, 1.0 - alpha],
        ),
    };
    let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
    x.iter()
        .map(|&v| {
            let y = (b[0] * v + b[1] * x1 + b[2] * x2 - a[1] * y1 - a[2] * y2) / a[0];
            (x2, x1, y2, y1) = (x1, v, y1, y);
            y
        })
        .collect()
}

/// Linkwitz–Riley 24 dB/oct split, as documented in `ops::crossover`: band i = all-passes
/// of the higher crossovers applied to LP_i²(rest), rest = HP_i²(rest), last band = rest.
fn lr_split(x: &[f64], freqs: &[f64]) -> Vec<Vec<f64>> {
    let mut rest = x.to_vec();
    let mut bands = Vec::new();
    for (i, &f) in freqs.iter().enumerate() {
        let mut band = biquad(&biquad(&rest, 0, f), 0, f);
        rest = biquad(&biquad(&rest, 1, f), 1, f);
        for &g in &freqs[i + 1..] {
            band = biquad(&band, 2, g);
        }
        bands.push(band);
    }
    bands.push(rest);
    bands
}

#[test]
fn matches_f64_oracle() {
    let frames = 24_000;
    let x = vec![
        noise(frames, 31),
        noise(frames, 32)
            .iter()
            .map(|v| 0.7 * v)
            .collect::<Vec<f64>>(),
    ];
    let spec_text = GOOD;
    let s = spec(spec_text).expect("parses");
    let inline = format!("{{ type = \"multiband\", crossover_hz = [120, 1000, 6000], bands = [{}] }}",
        s.bands.iter().map(|b| format!("{{ threshold_db = {}, ratio = {}, knee_db = {}, attack_ms = {}, release_ms = {}, makeup_db = {}, detector = \"{}\" }}",
            b.threshold_db, b.ratio, b.knee_db, b.attack_ms, b.release_ms, b.makeup_db,
            if b.detector == Detector::Rms { "rms" } else { "peak" })).collect::<Vec<_>>().join(", "));
    let proc = prepare(&inline, FS);
    assert!(matches!(proc, Processor::Multiband(_)));
    let mut got = to_f32(&x);
    proc.process_cpu(&mut got, FS, None);
    // oracle: split each channel, compress each (stereo) band, sum
    let split: Vec<Vec<Vec<f64>>> = x.iter().map(|c| lr_split(c, &s.crossover_hz)).collect();
    let mut want = vec![vec![0.0; frames]; 2];
    for (b, band) in s.bands.iter().enumerate() {
        let o = Oracle {
            makeup_db: band.makeup_db,
            rms: band.detector == Detector::Rms,
            rms_ms: compressor::DEFAULT_RMS_WINDOW_MS,
            ..oracle(
                band.threshold_db,
                band.ratio,
                band.knee_db,
                band.attack_ms,
                band.release_ms,
            )
        };
        let y = o.run(&[split[0][b].clone(), split[1][b].clone()], None);
        for (w, yc) in want.iter_mut().zip(&y) {
            w.iter_mut().zip(yc).for_each(|(a, v)| *a += v);
        }
    }
    let err = max_abs_diff(&got, &want);
    eprintln!("multiband (LR4 120/1000/6000, 4 band compressors): max |cpu − oracle| {err:.3e} ({:.1} dBFS)", db(err));
    assert!(err <= ORACLE_TOL);
}

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
    // the crossover's own limits (at most 5 bands) surface through prepare
    let six = parse(
        r#"{ type = "multiband", crossover_hz = [100, 200, 400, 800, 1600], bands = [
        { threshold_db = -20, ratio = 2, attack_ms = 1, release_ms = 10 }, { threshold_db = -20, ratio = 2, attack_ms = 1, release_ms = 10 },
        { threshold_db = -20, ratio = 2, attack_ms = 1, release_ms = 10 }, { threshold_db = -20, ratio = 2, attack_ms = 1, release_ms = 10 },
        { threshold_db = -20, ratio = 2, attack_ms = 1, release_ms = 10 }, { threshold_db = -20, ratio = 2, attack_ms = 1, release_ms = 10 } ] }"#,
    );
    eprintln!(
        "six bands: {}",
        six.prepare(&ctx(FS, None)).expect_err("too many bands")
    );
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

#[test]
fn silence_and_tiny_inputs() {
    for mode in ["linkwitz_riley", "linear_phase"] {
        let proc = prepare(
            &format!(
                "{{ type = \"multiband\", mode = \"{mode}\", crossover_hz = [200], bands = [ \
                 {{ threshold_db = -20, ratio = 2, attack_ms = 1, release_ms = 10, makeup_db = 3 }}, \
                 {{ threshold_db = -20, ratio = 2, attack_ms = 1, release_ms = 10, makeup_db = 3 }} ] }}"
            ),
            FS,
        );
        let mut z = vec![vec![0.0f32; 2000]; 2];
        proc.process_cpu(&mut z, FS, None);
        assert!(
            z.iter().flatten().all(|&v| v == 0.0),
            "{mode}: silence stays silent"
        );
        for frames in [0usize, 1] {
            let mut t = vec![vec![0.5f32; frames]; 2];
            proc.process_cpu(&mut t, FS, None);
            assert!(
                t.iter()
                    .all(|c| c.len() == frames && c.iter().all(|v| v.is_finite())),
                "{mode}"
            );
        }
    }
}
