//! The convolution processors on the GPU executor: `Processor::Reverb` (the shipped IR
//! `scenes/irs/room.wav`) and linear-phase `Processor::Eq` (parametric and the match EQ) through `Renderer::run` against
//! the CPU reference executor `engine::cpu::run_plan`, alone and batched with songs whose
//! reverb sits at other steps; the linear-phase multiband (crossover split on the GPU's
//! convolution, band compressors and sum in the multiband kernel). Skips without an adapter unless `MIXFARM_REQUIRE_GPU=1`.

mod gpu_common;

use std::path::Path;

use gpu_common::{gpu, max_abs_diff, noise, report};
use mixfarm::gpu::render::Renderer;
use mixfarm::gpu::Profiler;
use mixfarm::ops::crossover::CrossoverKind;
use mixfarm::ops::eq::{BandKind, BandSpec, EqMode, EqSpec};
use mixfarm::ops::multiband::{self, MultibandSpec};
use mixfarm::ops::reverb::ReverbSpec;
use mixfarm::ops::{PrepareCtx, Processor};
use mixfarm::plan::{Plan, Planar, Source, Stage};

/// Parity bound: the project's 2^-20 of full scale. Both sides run the same f32 UPOLS
/// arithmetic (the spec in `src/ops/convolve/mod.rs`), the same FFT (`ops::convolve::fft` is the CPU
/// twin of `fft.wgsl`) and the same `dry·x + wet·w` order; a GPU fusing `a*b+c` may still
/// round differently.
const PLAN_TOL: f64 = 1.0 / (1u64 << 20) as f64;

/// On llvmpipe (no fused multiply-add) the twins must agree bit for bit.
fn assert_exact_on_llvmpipe(g: &mixfarm::gpu::Gpu, what: &str, e: f64) {
    if g.name().to_lowercase().contains("llvmpipe") {
        assert_eq!(e, 0.0, "{what}: gpu and cpu twins differ on llvmpipe");
    } else {
        eprintln!(
            "{what}: adapter {} is not llvmpipe, bit equality not asserted",
            g.name()
        );
    }
}

const RATE: u32 = 48_000;

fn plan(name: &str, frames: usize, stages: Vec<Stage>) -> Plan {
    Plan {
        name: name.into(),
        sample_rate: RATE,
        frames,
        n_buffers: 2,
        sources: vec![Source {
            path: format!("{name}.wav").into(),
        }],
        stages,
        master: 1,
    }
}

fn with_ctx<T>(f: impl FnOnce(&PrepareCtx<'_>) -> T) -> T {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes");
    let load = |p: &Path, sr: u32| mixfarm::audio::load_for_render(p, sr);
    f(&PrepareCtx {
        sample_rate: RATE,
        scene_dir: &dir,
        tempo_bpm: None,
        load_audio: &load,
    })
}

fn multiband_linear() -> Processor {
    let band = |threshold_db, ratio| multiband::BandSpec {
        threshold_db,
        ratio,
        knee_db: 6.0,
        attack_ms: 5.0,
        release_ms: 80.0,
        makeup_db: 1.0,
        detector: Default::default(),
    };
    let spec = MultibandSpec {
        crossover_hz: vec![200.0, 2500.0],
        mode: CrossoverKind::LinearPhase,
        bands: vec![band(-20.0, 3.0), band(-18.0, 2.0), band(-24.0, 4.0)],
    };
    Processor::Multiband(with_ctx(|ctx| spec.prepare(ctx)).expect("multiband"))
}

fn reverb(pre_delay_ms: f64, mix: f64) -> Processor {
    let spec = ReverbSpec {
        ir: "irs/room.wav".into(),
        pre_delay_ms,
        mix,
        wet_db: -1.5,
        dry_db: 0.5,
    };
    Processor::Reverb(with_ctx(|ctx| spec.prepare(ctx)).expect("room.wav reverb"))
}

fn eq_linear() -> Processor {
    let band = |kind, freq_hz, gain_db, q| BandSpec {
        kind,
        freq_hz,
        gain_db,
        q,
        slope_db_per_oct: None,
    };
    let spec = EqSpec {
        mode: EqMode::LinearPhase,
        bands: vec![
            band(BandKind::HighPass, 40.0, 0.0, None),
            band(BandKind::Peak, 3000.0, 4.0, Some(1.2)),
            band(BandKind::HighShelf, 9000.0, -3.0, None),
        ],
    };
    Processor::Eq(spec.prepare(f64::from(RATE)).expect("eq"))
}

fn process(buf: usize, p: Processor) -> Stage {
    Stage::Process {
        buf,
        sidechain: None,
        processor: Box::new(p),
    }
}

/// Source in buffer 0, `chain` processors on it, then summed into the master (buffer 1).
fn song(seed: u64, frames: usize, source_frames: usize, chain: Vec<Processor>) -> (Plan, Planar) {
    let mut stages = vec![Stage::Load { dst: 0, source: 0 }];
    stages.extend(chain.into_iter().map(|p| process(0, p)));
    stages.push(Stage::Mix {
        dst: 1,
        src: 0,
        gain: [1.0, 1.0],
    });
    let src = vec![
        noise(seed, source_frames, 0.5),
        noise(seed + 100, source_frames, 0.5),
    ];
    (plan(&format!("song{seed}"), frames, stages), src)
}

fn err(a: &Planar, b: &Planar) -> f64 {
    assert_eq!(a.len(), 2);
    assert_eq!(
        a.iter().map(Vec::len).collect::<Vec<_>>(),
        b.iter().map(Vec::len).collect::<Vec<_>>()
    );
    a.iter()
        .zip(b)
        .map(|(x, y)| max_abs_diff(x, y))
        .fold(0.0, f64::max)
}

fn peak(a: &Planar) -> f64 {
    a.iter()
        .flatten()
        .fold(0.0f64, |m, v| m.max(f64::from(v.abs())))
}

/// Renders `songs` in one `Renderer::run`; returns the masters and the GPU stages that ran
/// (empty when the adapter has no timestamp queries).
fn gpu_run(
    r: &Renderer,
    g: &mixfarm::gpu::Gpu,
    songs: &[(Plan, Planar)],
) -> (Vec<Planar>, Vec<String>) {
    let srcs: Vec<Vec<Planar>> = songs.iter().map(|(_, s)| vec![s.clone()]).collect();
    let srcs: Vec<mixfarm::engine::Sources<'_>> = srcs
        .iter()
        .map(|s| mixfarm::engine::Sources::borrowed(s))
        .collect();
    let jobs: Vec<mixfarm::engine::Job<'_>> = songs.iter().map(|(p, _)| p).zip(&srcs).collect();
    let mut prof = Profiler::new(g, 256).expect("profiler");
    let out = r.run(g, &jobs, prof.as_mut()).expect("gpu run");
    let stages = prof.map_or(Vec::new(), |p| p.totals_ns.keys().cloned().collect());
    (out.into_iter().map(|r| r.expect("song")).collect(), stages)
}

fn cpu_run(songs: &[(Plan, Planar)]) -> Vec<Planar> {
    songs
        .iter()
        .map(|(p, s)| mixfarm::engine::cpu::run_plan(p, std::slice::from_ref(s)).expect("cpu"))
        .collect()
}

#[test]
fn reverb_gpu_matches_cpu() {
    let Some(g) = gpu("reverb on the gpu") else {
        return;
    };
    let r = Renderer::new(g).expect("renderer");
    // 0.25 s of noise, then the 1.6 s tail and a 12 ms pre-delay
    let songs = vec![song(1, 90_000, 12_000, vec![reverb(12.0, 0.3)])];
    let ((gpu_out, stages), cpu_out) = (gpu_run(&r, g, &songs), cpu_run(&songs));
    eprintln!("gpu stages: {stages:?}");
    if !stages.is_empty() {
        assert!(
            stages.iter().any(|s| s == "convolve/mac") && stages.iter().any(|s| s == "reverb/mix")
        );
    }
    let e = err(&gpu_out[0], &cpu_out[0]);
    report("reverb room.wav (pre-delay 12 ms, mix 0.3)", e);
    assert!(peak(&cpu_out[0]) > 0.1, "the reverb produced no signal");
    assert!(e <= PLAN_TOL, "reverb gpu vs cpu {e:e} > {PLAN_TOL:e}");
    assert_exact_on_llvmpipe(g, "reverb", e);
}

#[test]
fn linear_phase_eq_gpu_matches_cpu() {
    let Some(g) = gpu("linear-phase eq on the gpu") else {
        return;
    };
    let r = Renderer::new(g).expect("renderer");
    let songs = vec![song(2, 30_000, 30_000, vec![eq_linear()])];
    let ((gpu_out, stages), cpu_out) = (gpu_run(&r, g, &songs), cpu_run(&songs));
    eprintln!("gpu stages: {stages:?}");
    if !stages.is_empty() {
        assert!(stages.iter().any(|s| s == "convolve/mac"));
    }
    let e = err(&gpu_out[0], &cpu_out[0]);
    report("eq linear phase (hp 40, peak 3k +4, shelf 9k -3)", e);
    assert!(peak(&cpu_out[0]) > 0.1, "the eq produced no signal");
    assert!(e <= PLAN_TOL, "eq gpu vs cpu {e:e} > {PLAN_TOL:e}");
    assert_exact_on_llvmpipe(g, "linear-phase eq", e);
}

#[test]
fn batch_with_reverb_at_other_steps_matches_each_song_alone() {
    let Some(g) = gpu("convolution batch") else {
        return;
    };
    let r = Renderer::new(g).expect("renderer");
    let songs = vec![
        song(3, 80_000, 3_000, vec![reverb(0.0, 1.0)]),
        song(4, 40_000, 40_000, vec![eq_linear(), reverb(5.0, 0.5)]),
        song(
            5,
            82_000,
            5_000,
            vec![eq_linear(), eq_linear(), reverb(30.0, 0.2)],
        ),
    ];
    let (batched, _) = gpu_run(&r, g, &songs);
    let cpu = cpu_run(&songs);
    for (i, s) in songs.iter().enumerate() {
        let (alone, _) = gpu_run(&r, g, std::slice::from_ref(s));
        let e_alone = err(&batched[i], &alone[0]);
        let e_cpu = err(&batched[i], &cpu[i]);
        report(&format!("song {i}: batched vs alone"), e_alone);
        report(&format!("song {i}: batched vs cpu"), e_cpu);
        assert_eq!(e_alone, 0.0, "song {i}: batching changed the result");
        assert!(e_cpu <= PLAN_TOL, "song {i}: gpu vs cpu {e_cpu:e}");
    }
}

#[test]
fn forced_cpu_fallback_agrees() {
    // the bisect switch: the same plan with every processor on the CPU read-back path
    let Some(g) = gpu("forced cpu fallback") else {
        return;
    };
    let mut r = Renderer::new(g).expect("renderer");
    let songs = vec![song(6, 20_000, 20_000, vec![eq_linear()])];
    let (on_gpu, _) = gpu_run(&r, g, &songs);
    r.cpu_stages = mixfarm::gpu::render::CpuStages::All;
    let (on_cpu, stages) = gpu_run(&r, g, &songs);
    assert!(
        !stages.iter().any(|s| s == "convolve/mac"),
        "forced cpu still convolved on the gpu"
    );
    let e = err(&on_gpu[0], &on_cpu[0]);
    report("eq on gpu vs forced cpu fallback", e);
    assert!(e <= PLAN_TOL);
}

#[test]
fn linear_phase_multiband_split_on_gpu_matches_cpu() {
    let Some(g) = gpu("linear-phase multiband") else {
        return;
    };
    let r = Renderer::new(g).expect("renderer");
    let songs = vec![
        song(7, 48_000, 48_000, vec![multiband_linear()]),
        song(8, 30_000, 30_000, vec![eq_linear(), multiband_linear()]),
    ];
    let ((gpu_out, stages), cpu_out) = (gpu_run(&r, g, &songs), cpu_run(&songs));
    eprintln!("gpu stages: {stages:?}");
    if !stages.is_empty() {
        // split by the convolution engine, bands finished by the multiband kernel
        assert!(stages.iter().any(|s| s == "convolve/mac"));
        assert!(stages.iter().any(|s| s == "multiband_bands"));
    }
    for i in 0..songs.len() {
        let e = err(&gpu_out[i], &cpu_out[i]);
        report(&format!("multiband linear phase song {i}"), e);
        assert!(peak(&cpu_out[i]) > 0.1, "the multiband produced no signal");
        assert!(e <= PLAN_TOL, "multiband gpu vs cpu {e:e} > {PLAN_TOL:e}");
        assert_exact_on_llvmpipe(g, "linear-phase multiband", e);
    }
}

/// The match EQ of `mixfarm master --reference` (a 32767-tap linear-phase FIR at 48 kHz from
/// a tilt-and-dip difference curve) through the GPU convolution against the CPU twin.
fn match_eq() -> Processor {
    use mixfarm::ops::match_eq::{match_curve, MatchSettings, Spectrum};
    let band_hz: Vec<f64> = (0..60).map(|k| 20.0 * 2f64.powf(k as f64 / 6.0)).collect();
    let oct = |f: &f64| (f / 1000.0).log2();
    let song = Spectrum {
        level_db: band_hz.iter().map(|f| -20.0 - 0.8 * oct(f)).collect(),
        band_hz: band_hz.clone(),
    };
    let reference = Spectrum {
        level_db: band_hz
            .iter()
            .map(|f| -20.0 + 0.8 * oct(f) - 3.0 * (-(oct(f) + 1.3).powi(2)).exp())
            .collect(),
        band_hz,
    };
    let curve = match_curve(&song, &reference, &MatchSettings::default());
    assert!(!curve.is_flat());
    Processor::Eq(curve.prepare(RATE))
}

#[test]
fn match_eq_gpu_matches_cpu() {
    let Some(g) = gpu("match eq on the gpu") else {
        return;
    };
    let r = Renderer::new(g).expect("renderer");
    let songs = vec![song(9, 24_000, 24_000, vec![match_eq()])];
    let ((gpu_out, _), cpu_out) = (gpu_run(&r, g, &songs), cpu_run(&songs));
    let e = err(&gpu_out[0], &cpu_out[0]);
    report("match eq (32767 taps, tilt + low-mid dip)", e);
    assert!(peak(&cpu_out[0]) > 0.1, "the match eq produced no signal");
    assert!(e <= PLAN_TOL, "match eq gpu vs cpu {e:e} > {PLAN_TOL:e}");
    assert_exact_on_llvmpipe(g, "match eq", e);
}
