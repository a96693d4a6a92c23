//! The recursive kernels (`shaders/eq.wgsl`, `width.wgsl`, `compressor.wgsl`, `delay.wgsl`,
//! kind `recursive`) on the GPU executor against their CPU twins (the CPU executor
//! `engine::cpu::run_plan`): every EQ band kind and slope, the compressor's peak and RMS
//! detectors, knee and sidechain key, width with and without bass mono, the delay plain,
//! filtered and ping-pong; each on an impulse, a sweep, noise, silence, a full-scale square
//! and +6 dBFS float noise, 70 000 frames (two executor chunks, so the state crosses a
//! chunk boundary), all songs of a processor in one batch. Bit-identical on llvmpipe (no
//! fused multiply-add); within 2^-20 of full scale elsewhere. Skips without an adapter
//! unless `MIXFARM_REQUIRE_GPU=1`.

mod gpu_common;

use std::path::Path;

use gpu_common::{gpu, max_abs_diff, noise, report};
use mixfarm::gpu::render::Renderer;
use mixfarm::gpu::Profiler;
use mixfarm::ops::chorus::ChorusSpec;
use mixfarm::ops::compressor::{CompressorSpec, Detector};
use mixfarm::ops::delay::DelaySpec;
use mixfarm::ops::eq::{BandKind, BandSpec, EqMode, EqSpec};
use mixfarm::ops::width::WidthSpec;
use mixfarm::ops::{PrepareCtx, Processor};
use mixfarm::plan::{Plan, Planar, Source, Stage};

const RATE: u32 = 48_000;
const FRAMES: usize = 70_000;
const TOL: f64 = 1.0 / (1u64 << 20) as f64;

/// The test signals, stereo (the channels differ).
fn signals() -> Vec<(&'static str, Planar)> {
    let n = FRAMES;
    let impulse = |at: &[usize]| {
        let mut x = vec![0.0f32; n];
        for &i in at {
            x[i] = 1.0;
        }
        x
    };
    let sweep = |phase: f64| gpu_common::sweep(n, RATE, phase);
    let square = |period: usize| -> Vec<f32> {
        (0..n)
            .map(|i| {
                if (i / period).is_multiple_of(2) {
                    1.0
                } else {
                    -1.0
                }
            })
            .collect()
    };
    vec![
        ("impulse", vec![impulse(&[100, 65_600]), impulse(&[3_000])]),
        ("sweep", vec![sweep(0.0), sweep(1.0)]),
        ("noise", vec![noise(1, n, 0.5), noise(2, n, 0.5)]),
        ("silence", vec![vec![0.0; n], vec![0.0; n]]),
        ("full-scale square", vec![square(55), square(70)]),
        (
            "+6 dBFS float noise",
            vec![noise(3, n, 2.0), noise(4, n, 1.995)],
        ),
    ]
}

fn ctx_do<T>(f: impl FnOnce(&PrepareCtx<'_>) -> T) -> T {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes");
    let load = |p: &Path, sr: u32| mixfarm::audio::load_for_render(p, sr);
    f(&PrepareCtx {
        sample_rate: RATE,
        scene_dir: &dir,
        tempo_bpm: None,
        load_audio: &load,
    })
}

/// Source 0 in buffer 0 through `chain` (the last keyed by source 1 in buffer 2 with
/// `keyed`), summed into the master (buffer 1).
fn song(
    name: &str,
    chain: &[Processor],
    keyed: bool,
    src: Planar,
    key: Planar,
) -> (Plan, Vec<Planar>) {
    let mut stages = vec![Stage::Load { dst: 0, source: 0 }];
    if keyed {
        stages.push(Stage::Load { dst: 2, source: 1 });
    }
    for (i, p) in chain.iter().enumerate() {
        stages.push(Stage::Process {
            buf: 0,
            sidechain: (keyed && i + 1 == chain.len()).then_some(2),
            processor: Box::new(p.clone()),
        });
    }
    stages.push(Stage::Mix {
        dst: 1,
        src: 0,
        gain: [1.0, 1.0],
    });
    let mut sources = vec![Source {
        path: format!("{name}.wav").into(),
    }];
    let mut audio = vec![src];
    if keyed {
        sources.push(Source {
            path: format!("{name}-key.wav").into(),
        });
        audio.push(key);
    }
    let plan = Plan {
        name: name.into(),
        sample_rate: RATE,
        frames: FRAMES,
        n_buffers: if keyed { 3 } else { 2 },
        sources,
        stages,
        master: 1,
    };
    (plan, audio)
}

/// Runs `p` on every test signal, all songs in one GPU batch, against the CPU executor;
/// asserts the kernel `kernel` ran (when the adapter times passes) and the outputs agree.
fn check(what: &str, kernel: &str, p: Processor, keyed: bool) {
    check_chain(what, kernel, vec![p], keyed)
}

/// [`check`] for a chain of processors on the source.
fn check_chain(what: &str, kernel: &str, chain: Vec<Processor>, keyed: bool) {
    let Some(g) = gpu(what) else { return };
    let r = Renderer::new(g).expect("renderer");
    let sigs = signals();
    let songs: Vec<(Plan, Vec<Planar>)> = sigs
        .iter()
        .enumerate()
        .map(|(i, (name, x))| {
            // the key is the next signal: the detector hears something else than the input
            let key = sigs[(i + 1) % sigs.len()].1.clone();
            song(name, &chain, keyed, x.clone(), key)
        })
        .collect();
    let srcs: Vec<mixfarm::engine::Sources<'_>> = songs
        .iter()
        .map(|(_, a)| mixfarm::engine::Sources::borrowed(a))
        .collect();
    let jobs: Vec<mixfarm::engine::Job<'_>> = songs.iter().map(|(p, _)| p).zip(&srcs).collect();
    let mut prof = Profiler::new(g, 256).expect("profiler");
    let out = r.run(g, &jobs, prof.as_mut()).expect("gpu run");
    if let Some(prof) = prof {
        let ran: Vec<&String> = prof.totals_ns.keys().collect();
        assert!(
            ran.iter().any(|s| s.as_str() == kernel),
            "{what}: kernel '{kernel}' did not run (passes: {ran:?})"
        );
    }
    let llvmpipe = g.name().to_lowercase().contains("llvmpipe");
    for ((name, _), ((plan, audio), gpu_out)) in sigs.iter().zip(songs.iter().zip(out)) {
        let gpu_out = gpu_out.expect("song rendered");
        let cpu_out = mixfarm::engine::cpu::run_plan(plan, audio).expect("cpu");
        let e = gpu_out
            .iter()
            .zip(&cpu_out)
            .map(|(a, b)| max_abs_diff(a, b))
            .fold(0.0, f64::max);
        report(&format!("{what} on {name}"), e);
        assert!(e <= TOL, "{what} on {name}: gpu vs cpu {e:e} > {TOL:e}");
        if llvmpipe {
            assert_eq!(e, 0.0, "{what} on {name}: the twins differ on llvmpipe");
        }
        if *name == "noise" {
            let peak = cpu_out.iter().flatten().fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(peak > 0.01, "{what}: no output on noise");
        }
    }
}

fn band(
    kind: BandKind,
    freq_hz: f64,
    gain_db: f64,
    q: Option<f64>,
    slope: Option<u32>,
) -> BandSpec {
    BandSpec {
        kind,
        freq_hz,
        gain_db,
        q,
        slope_db_per_oct: slope,
    }
}

#[test]
fn eq_every_band_kind_and_slope_matches_cpu() {
    use BandKind::*;
    let spec = EqSpec {
        mode: EqMode::MinimumPhase,
        bands: vec![
            band(HighPass, 30.0, 0.0, None, Some(48)),
            band(LowShelf, 120.0, 3.0, None, None),
            band(Peak, 400.0, -4.0, Some(1.4), None),
            band(Notch, 1_000.0, 0.0, Some(8.0), None),
            band(AllPass, 2_000.0, 0.0, Some(0.7), None),
            band(HighShelf, 8_000.0, 2.5, None, None),
            band(LowPass, 18_000.0, 0.0, None, Some(24)),
            band(HighPass, 60.0, 0.0, None, Some(12)),
            band(LowPass, 16_000.0, 0.0, None, Some(36)),
        ],
    };
    let eq = spec.prepare(f64::from(RATE)).expect("eq");
    check(
        "eq (every band kind, slopes 12–48)",
        "eq",
        Processor::Eq(eq),
        false,
    );
}

fn compressor(detector: Detector, knee_db: f64, makeup_db: f64) -> Processor {
    let spec = CompressorSpec {
        threshold_db: -20.0,
        ratio: 4.0,
        knee_db,
        attack_ms: 3.0,
        release_ms: 120.0,
        makeup_db,
        detector,
        rms_window_ms: None,
        sidechain: None,
    };
    Processor::Compressor(ctx_do(|c| spec.prepare(c)).expect("compressor"))
}

#[test]
fn compressor_peak_and_rms_match_cpu() {
    check(
        "compressor peak, soft knee",
        "compressor",
        compressor(Detector::Peak, 6.0, 2.0),
        false,
    );
    check(
        "compressor rms, hard knee",
        "compressor",
        compressor(Detector::Rms, 0.0, 0.0),
        false,
    );
}

#[test]
fn compressor_with_a_sidechain_key_matches_cpu() {
    check(
        "compressor keyed by another buffer",
        "compressor",
        compressor(Detector::Peak, 4.0, 1.0),
        true,
    );
}

#[test]
fn width_with_and_without_bass_mono_matches_cpu() {
    for (width, bass) in [(1.6, Some(150.0)), (0.4, None), (0.0, Some(90.0))] {
        let w = WidthSpec {
            width,
            bass_mono_hz: bass,
        }
        .prepare(f64::from(RATE))
        .expect("width");
        check(
            &format!("width {width}, bass mono {bass:?}"),
            "width",
            Processor::Width(w),
            false,
        );
    }
}

#[test]
fn delay_plain_filtered_and_ping_pong_match_cpu() {
    for (ms, high_cut, ping_pong) in [
        (125.0, None, false),
        (333.3, Some(4_000.0), false),
        (250.0, Some(6_000.0), true),
    ] {
        let spec = DelaySpec {
            time_ms: Some(ms),
            time_beats: None,
            feedback: 0.55,
            high_cut_hz: high_cut,
            mix: 0.35,
            ping_pong,
        };
        let d = ctx_do(|c| spec.prepare(c)).expect("delay");
        check(
            &format!("delay {ms} ms, high cut {high_cut:?}, ping-pong {ping_pong}"),
            "delay",
            Processor::Delay(d),
            false,
        );
    }
}

fn chorus(voices: u32, rate_hz: f64) -> Processor {
    let spec = ChorusSpec {
        rate_hz,
        depth_ms: 3.0,
        delay_ms: 12.0,
        voices,
        mix: 0.5,
    };
    Processor::Chorus(ctx_do(|c| spec.prepare(c)).expect("chorus"))
}

#[test]
fn chorus_matches_cpu() {
    check("chorus 3 voices 0.8 Hz", "chorus", chorus(3, 0.8), false);
    check("chorus 1 voice 5 Hz", "chorus", chorus(1, 5.0), false);
}

#[test]
fn chorus_after_a_latency_keeps_its_lfo_phase() {
    // a linear-phase EQ before the chorus delays its input: its LFO clock must start that
    // many frames before the song on both backends (the stage's `lag`)
    let eq = EqSpec {
        mode: EqMode::LinearPhase,
        bands: vec![band(BandKind::Peak, 1_000.0, 3.0, Some(1.0), None)],
    }
    .prepare(f64::from(RATE))
    .expect("eq");
    check_chain(
        "linear-phase eq then chorus",
        "chorus",
        vec![Processor::Eq(eq), chorus(2, 1.3)],
        false,
    );
}

fn multiband_lr(crossovers: &[f64], detector: Detector) -> Processor {
    use mixfarm::ops::crossover::CrossoverKind;
    use mixfarm::ops::multiband::{BandSpec as Band, MultibandSpec};
    let bands = (0..=crossovers.len())
        .map(|i| Band {
            threshold_db: -18.0 - 2.0 * i as f64,
            ratio: 2.0 + i as f64,
            knee_db: 6.0,
            attack_ms: 5.0,
            release_ms: 80.0,
            makeup_db: 1.0,
            detector,
        })
        .collect();
    let spec = MultibandSpec {
        crossover_hz: crossovers.to_vec(),
        mode: CrossoverKind::LinkwitzRiley,
        bands,
    };
    Processor::Multiband(ctx_do(|c| spec.prepare(c)).expect("multiband"))
}

#[test]
fn multiband_linkwitz_riley_matches_cpu() {
    check(
        "multiband 3 bands, peak",
        "multiband",
        multiband_lr(&[200.0, 2_500.0], Detector::Peak),
        false,
    );
    check(
        "multiband 5 bands, rms",
        "multiband",
        multiband_lr(&[90.0, 400.0, 2_000.0, 8_000.0], Detector::Rms),
        false,
    );
    check(
        "multiband 2 bands, peak",
        "multiband",
        multiband_lr(&[1_000.0], Detector::Peak),
        false,
    );
}

#[test]
fn multiband_after_a_latency_starts_its_compressors_on_the_song() {
    let eq = EqSpec {
        mode: EqMode::LinearPhase,
        bands: vec![band(BandKind::LowShelf, 200.0, 2.0, None, None)],
    }
    .prepare(f64::from(RATE))
    .expect("eq");
    check_chain(
        "linear-phase eq then multiband",
        "multiband",
        vec![
            Processor::Eq(eq),
            multiband_lr(&[300.0, 3_000.0], Detector::Peak),
        ],
        false,
    );
}

fn limiter(ceiling_dbtp: f64, release_ms: f64, lookahead_ms: f64) -> Processor {
    let spec = mixfarm::ops::limiter::LimiterSpec {
        ceiling_dbtp,
        release_ms,
        lookahead_ms,
    };
    Processor::Limiter(ctx_do(|c| spec.prepare(c)).expect("limiter"))
}

#[test]
fn limiter_matches_cpu() {
    // −1 dBTP on +6 dBFS float noise is 7+ dB of gain reduction; 0 ms lookahead is instant
    check(
        "limiter −1 dBTP, 5 ms",
        "limiter",
        limiter(-1.0, 100.0, 5.0),
        false,
    );
    check(
        "limiter −6 dBTP, 0 ms",
        "limiter",
        limiter(-6.0, 50.0, 0.0),
        false,
    );
}

#[test]
fn limiter_after_a_latency_ends_with_the_song() {
    // a limiter whose input lags the song: its song end (no gain asked past it) moves too
    check_chain(
        "multiband then compressor then limiter",
        "limiter",
        vec![
            multiband_lr(&[250.0, 4_000.0], Detector::Peak),
            compressor(Detector::Rms, 3.0, 4.0),
            limiter(-0.3, 80.0, 2.0),
        ],
        false,
    );
}
