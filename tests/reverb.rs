//! Convolution reverb (ops::reverb) against a direct f64 oracle, IR loading rules, and the
//! synthetic room generator.

use std::path::{Path, PathBuf};

use mixfarm::ops::reverb::{self, synth, ReverbSpec};
use mixfarm::ops::{InsertSpec, PrepareCtx, Processor};
use mixfarm::plan::Planar;
use mixfarm::Error;

/// Output vs oracle, re full scale: −120 dB (f32 engine, unit-energy IR, |x| <= 0.5).
const MAX_ERR_FS: f64 = 1e-6;
/// 24-bit WAV round trip: half an LSB of rounding plus the f32 conversion.
const WAV_24_TOL: f64 = 0.5 / 8_388_607.0 + 1e-7;
/// Low-band RT60 of the synthetic room vs the requested one (T30 fit on a noisy decay).
const RT60_REL_TOL: f64 = 0.15;
/// Largest |inter-channel correlation| of the synthetic stereo IR (independent noise).
const MAX_IR_CORRELATION: f64 = 0.1;

const RATE: u32 = 48_000;

fn noise(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 11) as f64 / (1u64 << 52) as f64 - 1.0) as f32 * 0.5
        })
        .collect()
}

fn prepare_with(spec: &ReverbSpec, ir: Planar) -> Result<Processor, Error> {
    let load = move |_: &Path, _: u32| -> Result<Planar, Error> { Ok(ir.clone()) };
    let ctx = PrepareCtx {
        sample_rate: RATE,
        scene_dir: Path::new("/scenes"),
        tempo_bpm: None,
        load_audio: &load,
    };
    InsertSpec::Reverb(spec.clone()).prepare(&ctx)
}

fn spec(pre_delay_ms: f64, mix: f64) -> ReverbSpec {
    ReverbSpec {
        ir: PathBuf::from("irs/test.wav"),
        pre_delay_ms,
        mix,
        wet_db: 0.0,
        dry_db: 0.0,
    }
}

/// Oracle: out[n] = (1 − mix)·x[n] + mix·Σ x[m]·ir[n − d − m], f64.
fn oracle(x: &[f32], ir: &[f32], d: usize, mix: f64) -> Vec<f64> {
    let mut wet = vec![0.0f64; x.len()];
    for (m, &xm) in x.iter().enumerate() {
        for (t, &h) in ir.iter().enumerate() {
            if let Some(w) = wet.get_mut(m + t + d) {
                *w += f64::from(xm) * f64::from(h);
            }
        }
    }
    x.iter()
        .zip(&wet)
        .map(|(&a, w)| (1.0 - mix) * f64::from(a) + mix * w)
        .collect()
}

#[test]
fn matches_direct_convolution_with_pre_delay_and_mix() {
    let [l, r] = synth::synth_room_ir(RATE, 0.25, 3);
    let ir: Planar = vec![
        l.iter().map(|&v| v as f32).collect(),
        r.iter().map(|&v| v as f32).collect(),
    ];
    let (pre_delay_ms, mix) = (10.0, 0.25);
    let p = prepare_with(&spec(pre_delay_ms, mix), ir.clone()).expect("prepares");
    let d = 480;
    let tail = ir[0].len() + d;
    assert!((p.tail_seconds() - tail as f64 / f64::from(RATE)).abs() < 1e-12);
    let src = 6000;
    let mut x: Planar = (0..2).map(|c| noise(src, 10 + c)).collect();
    x.iter_mut().for_each(|c| c.resize(src + tail, 0.0));
    let input = x.clone();
    p.process_cpu(&mut x, RATE, None);
    for c in 0..2 {
        let want = oracle(&input[c], &ir[c], d, mix);
        let err = x[c]
            .iter()
            .zip(&want)
            .map(|(g, w)| (f64::from(*g) - w).abs())
            .fold(0.0, f64::max);
        eprintln!(
            "reverb channel {c}: max err {:.1} dB FS",
            20.0 * err.log10()
        );
        assert!(err <= MAX_ERR_FS, "channel {c}: {err:e}");
    }
}

#[test]
fn mono_ir_feeds_both_channels_and_silence_stays_silent() {
    let ir = vec![noise(3000, 4)];
    let p = prepare_with(&spec(0.0, 1.0), ir).expect("prepares");
    let x = noise(4000, 5);
    let mut st = vec![x.clone(), x];
    p.process_cpu(&mut st, RATE, None);
    assert_eq!(st[0], st[1]);
    for n in [0, 1, 2, 3000] {
        let mut z = vec![vec![0.0f32; n]; 2];
        p.process_cpu(&mut z, RATE, None);
        assert!(z
            .iter()
            .all(|c| c.len() == n && c.iter().all(|v| *v == 0.0)));
    }
    let mut one = vec![vec![0.5f32], vec![-0.5]];
    p.process_cpu(&mut one, RATE, None);
    assert!(one.iter().all(|c| c.len() == 1 && c[0].is_finite()));
}

#[test]
fn rejects_bad_irs_naming_the_file() {
    let too_long = vec![vec![0.1f32; 10 * RATE as usize + 1]];
    let e = prepare_with(&spec(0.0, 0.5), too_long)
        .unwrap_err()
        .to_string();
    eprintln!("{e}");
    assert!(e.contains("irs/test.wav") && e.contains("limit"), "{e}");
    let three = vec![vec![0.1f32; 10]; 3];
    let e = prepare_with(&spec(0.0, 0.5), three)
        .unwrap_err()
        .to_string();
    assert!(e.contains("irs/test.wav") && e.contains("channels"), "{e}");
    let empty = vec![Vec::new()];
    assert!(prepare_with(&spec(0.0, 0.5), empty)
        .unwrap_err()
        .to_string()
        .contains("empty"));
    assert!(prepare_with(&spec(0.0, 1.5), vec![vec![1.0]]).is_err());
    assert!(prepare_with(&spec(-1.0, 0.5), vec![vec![1.0]]).is_err());
}

#[test]
fn scene_syntax() {
    #[derive(serde::Deserialize)]
    struct Chain {
        insert: InsertSpec,
    }
    let c: Chain = toml::from_str(
        r#"insert = { type = "reverb", ir = "irs/room.wav", pre_delay_ms = 10, mix = 0.25 }"#,
    )
    .expect("parses");
    let InsertSpec::Reverb(s) = c.insert else {
        panic!("not a reverb")
    };
    assert_eq!(
        (s.pre_delay_ms, s.mix, s.ir.to_str()),
        (10.0, 0.25, Some("irs/room.wav"))
    );
    assert!((InsertSpec::Reverb(s).tail_seconds() - (0.01 + reverb::MAX_IR_SECONDS)).abs() < 1e-12);
}

/// T30 estimate from the Schroeder backward integral: time from −5 to −35 dB, × 2.
fn t30(h: &[f64], rate: f64) -> f64 {
    let mut edc: Vec<f64> = h
        .iter()
        .rev()
        .scan(0.0, |s, v| {
            *s += v * v;
            Some(*s)
        })
        .collect();
    edc.reverse();
    let db = |e: f64| 10.0 * (e / edc[0]).log10();
    let t5 = edc
        .iter()
        .position(|&e| db(e) <= -5.0)
        .expect("decays 5 dB");
    let t35 = edc
        .iter()
        .position(|&e| db(e) <= -35.0)
        .expect("decays 35 dB");
    2.0 * (t35 - t5) as f64 / rate
}

#[test]
fn synthetic_room_decays_and_is_decorrelated() {
    let rt60 = 1.6;
    let [l, r] = synth::synth_room_ir(RATE, rt60, 1);
    assert_eq!(l.len(), (rt60 * f64::from(RATE)) as usize);
    let peak = l.iter().chain(&r).fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(peak <= synth::MAX_PEAK + 1e-12);
    let corr = mixfarm::ops::width::correlation(
        &l.iter().map(|&v| v as f32).collect::<Vec<_>>(),
        &r.iter().map(|&v| v as f32).collect::<Vec<_>>(),
    );
    // low band: one-pole low-pass at 500 Hz (f64, in the test) keeps the slow-decaying part
    let a = 1.0 - (-2.0 * std::f64::consts::PI * 500.0 / f64::from(RATE)).exp();
    let mut s = 0.0;
    let low: Vec<f64> = l
        .iter()
        .map(|v| {
            s += a * (v - s);
            s
        })
        .collect();
    let (t_low, t_all) = (t30(&low, f64::from(RATE)), t30(&l, f64::from(RATE)));
    eprintln!("room: peak {peak:.3}, L/R correlation {corr:.4}, T30 low {t_low:.3} s, broadband {t_all:.3} s (RT60 {rt60})");
    assert!(corr.abs() <= MAX_IR_CORRELATION);
    assert!((t_low / rt60 - 1.0).abs() <= RT60_REL_TOL, "{t_low}");
    assert!(t_all < t_low, "highs decay faster");
}

#[test]
fn ir_wav_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ir.wav");
    let ir = synth::synth_room_ir(RATE, 0.2, 9);
    synth::write_ir_wav(&path, &ir, RATE).expect("writes");
    let mut rd = hound::WavReader::open(&path).expect("opens");
    assert_eq!(
        (
            rd.spec().channels,
            rd.spec().bits_per_sample,
            rd.spec().sample_rate
        ),
        (2, 24, RATE)
    );
    let v: Vec<i32> = rd.samples::<i32>().map(|s| s.expect("sample")).collect();
    let err = v
        .iter()
        .enumerate()
        .map(|(i, &s)| (f64::from(s) / 8_388_607.0 - ir[i % 2][i / 2]).abs())
        .fold(0.0, f64::max);
    assert!(err <= WAV_24_TOL, "{err:e}");
}

/// Regenerates the IRs shipped in `scenes/irs/` (`cargo test --test reverb -- --ignored`).
#[test]
#[ignore]
fn write_scene_irs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes/irs");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let ir = synth::synth_room_ir(RATE, 1.6, 1);
    synth::write_ir_wav(&dir.join("room.wav"), &ir, RATE).expect("writes");
}
