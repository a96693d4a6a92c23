//! `mixfarm selftest`: the check an operator runs on a new GPU node. It reports the adapter
//! (driver, limits), runs a built-in synthetic catalog (`catalog.toml`: one song per insert,
//! every processor and mode, plus one song through all of them, on generated programme
//! material with synthesised reverb IRs, nothing read from disk) through the GPU executor
//! and the CPU reference, compares every song's output (so every kernel against its CPU
//! twin), and times both for a short bench. It passes when every song is within the parity
//! bound of `mixfarm verify` (2^-20 of full scale).

use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::cpu::run_job_read;
use crate::engine::{Sources, StageRun};
use crate::error::Error;
use crate::gpu::render::Renderer;
use crate::gpu::{AdapterReport, Gpu};
use crate::ops::{InsertSpec, PrepareCtx, Processor};
use crate::plan::{Plan, Planar, Rendered, Source, Stage};
use crate::verify::{diff, Diff, MAX_ABS_TOLERANCE};

/// Sample rate of the synthetic catalog.
pub const RATE: u32 = 48_000;

const CATALOG: &str = include_str!("catalog.toml");

#[derive(Deserialize)]
struct Catalog {
    insert: Vec<InsertSpec>,
}

/// One song of the catalog compared across the backends.
#[derive(Debug, Clone, Serialize)]
pub struct SongCheck {
    /// what the song runs (`eq`, `compressor`, …, or `every insert`)
    pub name: String,
    /// the stage kinds its inserts lower to, with where each ran
    pub stages: Vec<StageRun>,
    /// GPU against CPU, the whole output
    pub diff: Diff,
    /// the loudness meter's sub-block energies, largest |gpu − cpu| / |cpu|
    pub meter_max_rel: f64,
    /// |integrated loudness from the GPU's energies − from the CPU's|, LU
    pub loudness_diff_lu: f64,
    /// within the parity bounds
    pub pass: bool,
}

/// Largest relative difference of the meter's sub-block energies the selftest accepts
/// (bit-identical on a software adapter; fused multiply-adds elsewhere move a few ulps).
pub const METER_TOLERANCE: f64 = 1e-5;

/// The meters' readings of one song on both executors: the largest relative difference of
/// the energies, and of the integrated loudness formed from them (LU). Missing readings
/// count as a failure (infinite).
fn compare_readings(
    g: &crate::plan::Readings,
    c: &crate::plan::Readings,
    frames: usize,
) -> (f64, f64) {
    let (Some((_, g)), Some((_, c))) = (g.first(), c.first()) else {
        return (f64::INFINITY, f64::INFINITY);
    };
    let mut rel = 0.0f64;
    for (a, b) in g.iter().zip(c) {
        if a.len() != b.len() {
            return (f64::INFINITY, f64::INFINITY);
        }
        for (x, y) in a.iter().zip(b) {
            let d = (f64::from(*x) - f64::from(*y)).abs();
            rel = rel.max(if d == 0.0 {
                0.0
            } else {
                d / f64::from(y.abs())
            });
        }
    }
    let lufs = |l: &Vec<Vec<f32>>| {
        // the energies of both channels (the sample peaks follow them)
        let lanes: Vec<&[f32]> = l.iter().take(2).map(Vec::as_slice).collect();
        crate::loudness::Blocks::from_lanes(&lanes, &[1.0, 1.0], RATE, frames)
            .gating()
            .integrated()
    };
    let lu = match (lufs(g), lufs(c)) {
        (Some(a), Some(b)) => (a - b).abs(),
        (None, None) => 0.0,
        _ => f64::INFINITY,
    };
    (rel, lu)
}

/// One GPU pass of the bench: its time on the adapter's clock and the bytes it must move
/// at least (each buffer element it reads or writes once), and what those bytes take at
/// the memory bandwidth of an H100 and an H200.
#[derive(Debug, Clone, Serialize)]
pub struct KernelTime {
    /// the pass (entry point)
    pub pass: String,
    /// its time over the catalog, milliseconds
    pub ms: f64,
    /// bytes it moves over the catalog (0: not counted)
    pub bytes: u64,
    /// bytes over time, GB/s
    pub gb_per_s: f64,
    /// the bytes at 3.35 TB/s (H100 SXM), milliseconds
    pub h100_ms: f64,
    /// the bytes at 4.8 TB/s (H200), milliseconds
    pub h200_ms: f64,
}

/// Bytes per frame (stereo) a pass moves at least: its reads and writes of audio, lines and
/// detector values, each once.
fn bytes_per_frame(pass: &str) -> u64 {
    match pass {
        "load" | "gain" | "polarity" | "eq" | "width" | "compressor" | "multiband" => 16,
        "limiter_feed" => 16,
        "limiter_half" => 16,
        "limiter_detect" => 28,
        "limiter" => 20,
        "mix" => 24,
        "chorus" => 24,
        "delay" => 32,
        "meter" => 8,
        _ => 0,
    }
}

/// The short bench: the whole catalog on each backend.
#[derive(Debug, Clone, Serialize)]
pub struct Bench {
    /// songs in the catalog
    pub songs: usize,
    /// seconds of audio per song
    pub seconds: f64,
    /// GPU executor, wall milliseconds (compiled kernels, uploads, read-backs and the
    /// timestamp queries of the per-pass figures included)
    pub gpu_ms: f64,
    /// CPU executor on every core, wall milliseconds
    pub cpu_ms: f64,
    /// audio seconds per wall second on the GPU
    pub gpu_realtime: f64,
    /// audio seconds per wall second on the CPU
    pub cpu_realtime: f64,
    /// per GPU pass (when the adapter has timestamp queries)
    pub kernels: Vec<KernelTime>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Selftest {
    /// mixfarm's version
    pub version: &'static str,
    /// the adapter tested
    pub adapter: AdapterReport,
    /// the parity bound, full scale
    pub bound: f64,
    /// every song
    pub songs: Vec<SongCheck>,
    /// the bench
    pub bench: Bench,
    /// every song within the bound
    pub pass: bool,
}

/// The catalog's inserts, prepared at [`RATE`] (reverb IRs synthesised).
pub fn inserts() -> Result<Vec<(String, Processor)>, Error> {
    let cat: Catalog = toml::from_str(CATALOG).map_err(|e| Error::Render {
        song: "selftest catalog".into(),
        reason: e.to_string(),
    })?;
    let load = |_: &Path, sr: u32| -> Result<Planar, Error> {
        let ir = crate::ops::reverb::synth::synth_room_ir(sr, 1.2, 7);
        Ok(ir
            .iter()
            .map(|c| c.iter().map(|&v| v as f32).collect())
            .collect())
    };
    let ctx = PrepareCtx {
        sample_rate: RATE,
        scene_dir: Path::new("."),
        tempo_bpm: Some(120.0),
        load_audio: &load,
    };
    let mut out: Vec<(String, Processor)> = Vec::new();
    for spec in &cat.insert {
        let p = spec.prepare(&ctx)?;
        let op = p.op_name();
        let k = out
            .iter()
            .filter(|(n, _)| n.split('#').next() == Some(op))
            .count();
        let name = if k == 0 {
            op.to_string()
        } else {
            format!("{op}#{}", k + 1)
        };
        out.push((name, p));
    }
    Ok(out)
}

/// Generated stereo programme: a decaying chord of partials, a noise burst every half
/// second, a sweep and a +6 dBFS overshoot near the end (float headroom), `seconds` long.
pub fn programme(seconds: f64, seed: u64) -> Planar {
    let n = (seconds * RATE as f64) as usize;
    let mut rng = crate::synth::dsp::Rng::new(seed);
    (0..2)
        .map(|c| {
            (0..n)
                .map(|i| {
                    let t = i as f64 / RATE as f64;
                    let tone: f64 = [110.0, 220.0 * 1.26, 330.0 * 1.5, 1_760.0]
                        .iter()
                        .enumerate()
                        .map(|(k, f)| {
                            (std::f64::consts::TAU * f * t + c as f64).sin() / (k + 2) as f64
                        })
                        .sum();
                    let beat = (t * 2.0).fract();
                    let burst = rng.bipolar() * (-(beat * 30.0)).exp();
                    let sweep =
                        (std::f64::consts::TAU * 40.0 * t * (1.0 + 200.0 * t / seconds)).sin();
                    let hot = if t > seconds * 0.8 { 2.0 } else { 0.6 };
                    (hot * (0.5 * tone + 0.4 * burst + 0.2 * sweep)) as f32
                })
                .collect()
        })
        .collect()
}

/// A song of the catalog: source 0 through `chain` in buffer 0, summed into the master
/// (buffer 1), `frames` long at [`RATE`].
pub fn song_plan(name: &str, chain: Vec<Processor>, frames: usize) -> Plan {
    let mut stages = vec![Stage::Load { dst: 0, source: 0 }];
    stages.extend(chain.into_iter().map(|p| Stage::Process {
        buf: 0,
        sidechain: None,
        processor: Box::new(p),
    }));
    stages.push(Stage::Mix {
        dst: 1,
        src: 0,
        gain: [1.0, 1.0],
    });
    Plan {
        name: name.into(),
        sample_rate: RATE,
        frames,
        n_buffers: 2,
        sources: vec![Source {
            path: format!("selftest/{name}.wav").into(),
        }],
        stages,
        master: 1,
    }
}

/// Runs the selftest on `gpu` with songs of `seconds`.
pub fn run(gpu: &Gpu, seconds: f64) -> Result<Selftest, Error> {
    let inserts = inserts()?;
    let frames = (seconds * RATE as f64) as usize;
    // every song ends in the loudness meter, whose readings are compared too
    let meter = Processor::Meter(crate::ops::meter::Meter::new(RATE, frames));
    let mut plans: Vec<Plan> = inserts
        .iter()
        .map(|(name, p)| song_plan(name, vec![p.clone(), meter.clone()], frames))
        .collect();
    let mut every: Vec<Processor> = inserts.iter().map(|(_, p)| p.clone()).collect();
    every.push(meter);
    plans.push(song_plan("every insert", every, frames));
    let audio: Vec<Vec<Planar>> = (0..plans.len())
        .map(|i| vec![programme(seconds, 11 + i as u64)])
        .collect();
    let sources: Vec<Sources<'_>> = audio.iter().map(|a| Sources::borrowed(a)).collect();
    let jobs: Vec<crate::engine::Job<'_>> = plans.iter().zip(&sources).collect();
    let renderer = Renderer::new(gpu)?;
    let mut prof = crate::gpu::Profiler::new(gpu, 1 << 16)?;
    let t0 = Instant::now();
    let gpu_out = renderer.run_read(gpu, &jobs, prof.as_mut(), true)?;
    let gpu_ms = t0.elapsed().as_secs_f64() * 1e3;
    let kernels = prof.map_or_else(Vec::new, |p| kernel_times(&p.totals_ns, &jobs));
    let t0 = Instant::now();
    let cpu_out: Vec<Result<Rendered, Error>> = jobs
        .par_iter()
        .map(|(p, a)| run_job_read(p, a, true))
        .collect();
    let cpu_ms = t0.elapsed().as_secs_f64() * 1e3;
    let mut songs = Vec::with_capacity(plans.len());
    for ((plan, g), c) in plans.iter().zip(gpu_out).zip(cpu_out) {
        let (g, c) = (g?, c?);
        let d = diff(&c.master, &g.master);
        let (meter_rel, loudness_diff_lu) = compare_readings(&g.readings, &c.readings, frames);
        songs.push(SongCheck {
            name: plan.name.clone(),
            stages: plan
                .stages
                .iter()
                .enumerate()
                .map(|(i, s)| StageRun {
                    op: s.op_name().to_string(),
                    kind: crate::ops::kind::kind_of(s).name().to_string(),
                    backend: renderer.stage_backend(i).to_string(),
                })
                .collect(),
            pass: d.max_abs <= MAX_ABS_TOLERANCE
                && meter_rel <= METER_TOLERANCE
                && loudness_diff_lu <= crate::verify::LOUDNESS_TOLERANCE_LU,
            diff: d,
            meter_max_rel: meter_rel,
            loudness_diff_lu,
        });
    }
    let audio_s = seconds * plans.len() as f64;
    Ok(Selftest {
        version: env!("CARGO_PKG_VERSION"),
        adapter: gpu.report(),
        bound: MAX_ABS_TOLERANCE,
        pass: songs.iter().all(|s| s.pass),
        songs,
        bench: Bench {
            songs: plans.len(),
            seconds,
            gpu_ms,
            cpu_ms,
            gpu_realtime: audio_s / (gpu_ms * 1e-3),
            cpu_realtime: audio_s / (cpu_ms * 1e-3),
            kernels,
        },
    })
}

/// Each timed GPU pass of the run (`totals_ns`, the profiler's), with its bytes counted over
/// the frames the executor runs (whole chunks).
fn kernel_times(
    totals_ns: &std::collections::BTreeMap<String, u64>,
    jobs: &[crate::engine::Job<'_>],
) -> Vec<KernelTime> {
    let c = crate::engine::cpu::CHUNK_FRAMES as u64;
    let mut frames: std::collections::BTreeMap<&str, u64> = Default::default();
    for (plan, _) in jobs {
        let chunks = (plan.frames as u64).div_ceil(c) + 1;
        for st in &plan.stages {
            let kind = crate::ops::kind::kind_of(st);
            let passes: Vec<&str> = match &kind {
                crate::ops::kind::Kind::Recursive { rec, .. } => crate::gpu::recursive::RECURSIVE
                    [crate::gpu::recursive::index_of(rec.op)]
                .passes
                .iter()
                .map(|p| p.entry)
                .collect(),
                _ => vec![st.op_name()],
            };
            for p in passes {
                *frames.entry(p).or_default() += chunks * c;
            }
        }
    }
    totals_ns
        .iter()
        .map(|(pass, ns)| {
            let bytes = frames.get(pass.as_str()).copied().unwrap_or(0) * bytes_per_frame(pass);
            KernelTime {
                pass: pass.clone(),
                ms: *ns as f64 / 1e6,
                bytes,
                gb_per_s: if *ns > 0 {
                    bytes as f64 / *ns as f64
                } else {
                    0.0
                },
                h100_ms: bytes as f64 / 3.35e9,
                h200_ms: bytes as f64 / 4.8e9,
            }
        })
        .collect()
}

/// Prints the report as a table.
pub fn print(r: &Selftest) {
    let a = &r.adapter;
    println!("adapter: {} ({}, {})", a.name, a.device_type, a.backend);
    println!("driver:  {} {}", a.driver, a.driver_info);
    println!(
        "limits:  storage binding {} MiB, buffer {} MiB, workgroup memory {} KiB, timestamps {}",
        a.max_storage_buffer_binding_size >> 20,
        a.max_buffer_size >> 20,
        a.max_compute_workgroup_storage_size >> 10,
        if a.timestamps { "yes" } else { "no" }
    );
    println!(
        "parity:  max |gpu − cpu| ≤ 2^-20 FS ({:.1} dBFS) per song; its loudness meter's \
         energies within {METER_TOLERANCE:e} relative, integrated loudness within {} LU",
        20.0 * r.bound.log10(),
        crate::verify::LOUDNESS_TOLERANCE_LU
    );
    println!(
        "  {:<14} {:<36} {:>12} {:>10} {:>10} {:>10} {:>8}  result",
        "song",
        "stages (kind/backend)",
        "max |Δ| dBFS",
        "LSB@24",
        "identical",
        "meter rel",
        "ΔI LU"
    );
    for s in &r.songs {
        let kinds: Vec<String> = s
            .stages
            .iter()
            .filter(|st| st.op != "load" && st.op != "mix")
            .map(|st| format!("{}/{}", st.kind, st.backend))
            .collect();
        let mut kinds = kinds.join(" ");
        if kinds.len() > 36 {
            kinds.truncate(33);
            kinds.push_str("...");
        }
        println!(
            "  {:<14} {:<36} {:>12.1} {:>10.3} {:>9.3}% {:>10.1e} {:>8.4}  {}",
            s.name,
            kinds,
            s.diff.max_abs_dbfs,
            s.diff.max_lsb_24,
            100.0 * s.diff.identical_24bit,
            s.meter_max_rel,
            s.loudness_diff_lu,
            if s.pass { "ok" } else { "FAIL" }
        );
    }
    let b = &r.bench;
    println!(
        "bench:   {} songs × {:.1} s: gpu {:.0} ms ({:.0}× realtime), cpu {:.0} ms ({:.0}× realtime)",
        b.songs, b.seconds, b.gpu_ms, b.gpu_realtime, b.cpu_ms, b.cpu_realtime
    );
    if !b.kernels.is_empty() {
        println!(
            "  {:<16} {:>10} {:>12} {:>9} {:>10} {:>10}",
            "pass", "ms", "bytes", "GB/s", "H100 ms", "H200 ms"
        );
        for k in &b.kernels {
            println!(
                "  {:<16} {:>10.2} {:>12} {:>9.2} {:>10.4} {:>10.4}",
                k.pass, k.ms, k.bytes, k.gb_per_s, k.h100_ms, k.h200_ms
            );
        }
    }
    println!("{}", if r.pass { "PASS" } else { "FAIL" });
}
