//! `mixfarm bench`: renders a generated catalog (`synth::catalog`) with the typical mix
//! ([`workload::song_plan`]) on the CPU reference path (rayon over songs) and on the batched
//! GPU executor (`gpu::render::Renderer`), times both, measures per-stage GPU time with the
//! timestamp [`Profiler`], measures the convolution engine separately (a stereo IR over every
//! song's master: `ops::convolve::cpu` vs `ConvolveGpu`), and reports realtime factors,
//! speed-ups, effective bandwidth and the GPU ⇄ CPU parity error. Host-side orchestration
//! only; it mirrors no shader.
//!
//! What is timed (wall clock, `Instant`):
//! - CPU mix: `engine::cpu::run_plan` for every song, songs in parallel;
//! - GPU mix: `Renderer::run` on the whole batch: source upload, every dispatch, read-back of
//!   the masters (kernel compilation is done before and not timed);
//! - CPU convolution: `convolve` of every master channel (songs × 2 in parallel, each
//!   parallel inside); GPU convolution: input upload, forward FFT, MAC, inverse FFT,
//!   read-back (kernel spectra design in f64 is done before and not timed on either side).
//!
//! Catalog generation is timed separately and is not part of any figure.

pub mod cli;
mod convolution;
pub mod report;
pub mod table;
pub mod workload;

use std::collections::BTreeMap;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

pub use cli::{bench_cmd, BenchArgs, BenchBackend};
pub use report::{BenchReport, ConvolutionSetup, GpuInfo, Parity, Section, StageTime, Timing};

use crate::engine::{Job, Sources};
use crate::error::{Error, Result};
use crate::gpu::render::Renderer;
use crate::gpu::{Gpu, GpuOptions, Profiler};
use crate::plan::{Plan, Planar};

/// Parity bound of the project: `max |gpu − cpu| ≤ 2^-20` of full scale (GUIDE §4).
pub const PARITY_BOUND_FS: f64 = 1.0 / (1u64 << 20) as f64;

/// Passes the profiler can time per submit (the executor submits once per batch unless a
/// processor falls back to the CPU; a song of S stems has about 4·S + 4 steps).
const PROFILER_PASSES: u32 = 2048;

/// What to benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct BenchOptions {
    /// songs in the catalog
    pub songs: usize,
    /// stems per song
    pub stems: usize,
    /// song length, seconds
    pub seconds: f64,
    /// sample rate, Hz
    pub sample_rate: u32,
    /// catalog and mix-parameter seed
    pub seed: u64,
    /// time the CPU reference path
    pub cpu: bool,
    /// time the GPU path (skipped when no acceptable adapter exists)
    pub gpu: bool,
    /// accept a software (CPU) Vulkan adapter such as llvmpipe
    pub allow_software_gpu: bool,
    /// length of the stereo IR of the convolution figure, seconds; 0 skips that figure
    pub ir_seconds: f64,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            songs: 8,
            stems: 8,
            seconds: 30.0,
            sample_rate: 48_000,
            seed: 1,
            cpu: true,
            gpu: true,
            allow_software_gpu: false,
            ir_seconds: 2.5,
        }
    }
}

fn check_options(o: &BenchOptions) -> Result<()> {
    let bad = |m: String| Err(Error::scene("mixfarm bench", m));
    if o.songs == 0 || o.stems == 0 {
        return bad("--songs and --stems must be at least 1".into());
    }
    if !(o.seconds.is_finite() && o.seconds > 0.0) {
        return bad(format!("--seconds must be > 0 (got {})", o.seconds));
    }
    if o.sample_rate < 8_000 || o.sample_rate > 768_000 {
        return bad(format!(
            "--rate must be 8000 ..= 768000 Hz (got {})",
            o.sample_rate
        ));
    }
    if !(o.ir_seconds.is_finite() && o.ir_seconds >= 0.0) {
        return bad(format!("--ir-seconds must be >= 0 (got {})", o.ir_seconds));
    }
    if !o.cpu && !o.gpu {
        return bad("nothing to run: enable the CPU and/or the GPU backend".into());
    }
    Ok(())
}

/// Opens the GPU of the bench, or says why not.
fn open_gpu(opts: &BenchOptions) -> Result<std::result::Result<Gpu, String>> {
    match Gpu::new(GpuOptions {
        allow_software: opts.allow_software_gpu,
    })? {
        Some(g) => Ok(Ok(g)),
        None if opts.allow_software_gpu => Ok(Err("no GPU adapter found".into())),
        None => Ok(Err(
            "no hardware GPU adapter found (pass --allow-software to use llvmpipe/lavapipe)".into(),
        )),
    }
}

/// Runs the benchmark, opening the GPU itself when `opts.gpu`.
pub fn run(opts: &BenchOptions) -> Result<BenchReport> {
    check_options(opts)?;
    let gpu = if opts.gpu {
        open_gpu(opts)?
    } else {
        Err("not requested (--backend cpu)".into())
    };
    run_with(opts, gpu.as_ref().map_err(Clone::clone))
}

/// Runs the benchmark on a given GPU (tests pass `Gpu::for_tests`), or with the GPU part
/// skipped for the reason given.
pub fn run_with(
    opts: &BenchOptions,
    gpu: std::result::Result<&Gpu, String>,
) -> Result<BenchReport> {
    check_options(opts)?;
    let gpu = if opts.gpu {
        gpu
    } else {
        Err("not requested (--backend cpu)".into())
    };
    if let (false, Err(why)) = (opts.cpu, &gpu) {
        return Err(Error::Gpu {
            reason: format!("{why}: nothing to measure with --backend gpu"),
            retryable: false,
        });
    }
    let t0 = Instant::now();
    let catalog = crate::synth::catalog(
        opts.songs,
        opts.stems,
        opts.seconds,
        opts.sample_rate,
        opts.seed,
    );
    let catalog_s = t0.elapsed().as_secs_f64();
    let plans: Vec<Plan> = catalog
        .iter()
        .enumerate()
        .map(|(i, stems)| workload::song_plan(i, stems, opts.sample_rate, opts.seed))
        .collect();
    let song_s = plans[0].frames as f64 / f64::from(opts.sample_rate);
    let sources: Vec<Sources<'_>> = catalog.iter().map(|s| Sources::borrowed(s)).collect();
    let jobs: Vec<Job<'_>> = plans.iter().zip(&sources).collect();

    let mut mix = empty_section();
    let cpu_masters = if opts.cpu {
        let t = Instant::now();
        let masters = jobs
            .par_iter()
            .map(|(p, s)| crate::engine::cpu::run_job(p, s))
            .collect::<Result<Vec<Planar>>>()?;
        mix.cpu = Some(Timing::new(t.elapsed().as_secs_f64(), plans.len(), song_s));
        Some(masters)
    } else {
        None
    };
    let mut gpu_masters = None;
    if let Ok(g) = gpu {
        let renderer = Renderer::new(g)?;
        let mut prof = Profiler::new(g, PROFILER_PASSES)?;
        let t = Instant::now();
        let out = renderer.run(g, &jobs, prof.as_mut())?;
        let wall = t.elapsed().as_secs_f64();
        let masters = out.into_iter().collect::<Result<Vec<Planar>>>()?;
        mix.gpu = Some(Timing::new(wall, plans.len(), song_s));
        if let Some(p) = &prof {
            mix.gpu_stages = stage_times(
                &p.totals_ns,
                &workload::mix_stage_bytes(&plans),
                plans.len(),
            );
            warn_dropped(p);
        }
        gpu_masters = Some(masters);
    }
    finish_section(&mut mix, plans.len());
    if let (Some(c), Some(g)) = (&cpu_masters, &gpu_masters) {
        mix.parity = Some(Parity::of(max_abs_diff(c, g)));
    }
    drop(jobs);
    drop(catalog);
    // both sides of the convolution figure convolve the same masters: the CPU's when the CPU
    // ran, else the GPU's
    let masters = cpu_masters.or(gpu_masters).unwrap_or_default();
    let (convolution_setup, convolution, fft_gb_per_s, convolve_gb_per_s) = if opts.ir_seconds > 0.0
    {
        let c = convolution::measure(opts, &masters, song_s, gpu.as_ref().ok().copied())?;
        (
            Some(c.setup),
            Some(c.section),
            c.fft_gb_per_s,
            c.convolve_gb_per_s,
        )
    } else {
        (None, None, None, None)
    };

    Ok(BenchReport {
        options: opts.clone(),
        songs: plans.len(),
        audio_s: plans.len() as f64 * song_s,
        cpu_threads: rayon::current_num_threads(),
        catalog_s,
        gpu: gpu.as_ref().ok().map(|g| GpuInfo {
            adapter: g.name().to_string(),
            backend: g.info.backend.to_str().to_string(),
            software: g.info.device_type == wgpu::DeviceType::Cpu,
            timestamps: g.timestamps,
        }),
        gpu_skipped: gpu.err(),
        mix,
        convolution_setup,
        convolution,
        fft_gb_per_s,
        convolve_gb_per_s,
    })
}

fn empty_section() -> Section {
    Section {
        cpu: None,
        gpu: None,
        speedup: None,
        gpu_kernel_ms_per_song: None,
        gpu_stages: Vec::new(),
        parity: None,
    }
}

/// Fills speed-up and the per-song kernel time from the timings and stages.
fn finish_section(s: &mut Section, songs: usize) {
    if let (Some(c), Some(g)) = (s.cpu, s.gpu) {
        s.speedup = Some(c.wall_s / g.wall_s.max(1e-9));
    }
    if !s.gpu_stages.is_empty() {
        let total: f64 = s.gpu_stages.iter().map(|t| t.total_ms).sum();
        s.gpu_kernel_ms_per_song = Some(total / songs.max(1) as f64);
    }
}

fn warn_dropped(p: &Profiler) {
    if p.dropped > 0 {
        eprintln!(
            "warning: {} GPU passes were not timed (profiler full): stage times are low",
            p.dropped
        );
    }
}

/// Per-stage rows from profiler totals and byte counts.
fn stage_times(
    totals_ns: &BTreeMap<String, u64>,
    bytes: &BTreeMap<String, u64>,
    songs: usize,
) -> Vec<StageTime> {
    totals_ns
        .iter()
        .map(|(stage, ns)| {
            let b = bytes.get(stage).copied().unwrap_or(0);
            let total_ms = *ns as f64 / 1e6;
            StageTime {
                stage: stage.clone(),
                total_ms,
                per_song_ms: total_ms / songs.max(1) as f64,
                bytes: b,
                gb_per_s: if *ns > 0 { b as f64 / *ns as f64 } else { 0.0 },
            }
        })
        .collect()
}

/// Effective bandwidth of a group of stages: their bytes over their summed time, GB/s.
fn group_gb_per_s(stages: &[StageTime], names: &[&str]) -> Option<f64> {
    let sel: Vec<&StageTime> = stages
        .iter()
        .filter(|s| names.contains(&s.stage.as_str()))
        .collect();
    let ms: f64 = sel.iter().map(|s| s.total_ms).sum();
    let bytes: u64 = sel.iter().map(|s| s.bytes).sum();
    (ms > 0.0).then(|| bytes as f64 / (ms * 1e6))
}

/// `max |a − b|` over every channel and frame of two lists of planar buffers (a length
/// mismatch counts as an error of 1.0, full scale).
pub fn max_abs_diff(a: &[Planar], b: &[Planar]) -> f64 {
    let mut worst = 0.0f64;
    for (x, y) in a.iter().zip(b) {
        if x.len() != y.len() {
            return 1.0;
        }
        for (cx, cy) in x.iter().zip(y) {
            if cx.len() != cy.len() {
                return 1.0;
            }
            for (p, q) in cx.iter().zip(cy) {
                let d = (f64::from(*p) - f64::from(*q)).abs();
                // NaN anywhere is a total failure
                worst = if d.is_nan() {
                    f64::INFINITY
                } else {
                    worst.max(d)
                };
            }
        }
    }
    if a.len() != b.len() {
        return 1.0;
    }
    worst
}
