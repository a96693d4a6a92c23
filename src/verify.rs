//! `mixfarm verify`: renders songs on both backends and measures how far the GPU is from
//! the CPU reference — per stage (the buffer each stage wrote, right after it ran) and end to
//! end (the normalised master) — in dBFS, in 24-bit LSBs, as the share of identical 24-bit
//! samples, and as a loudness difference. GUIDE §4's tolerance decides pass/fail.

use std::path::PathBuf;

use serde::Serialize;

use crate::engine::cpu;
use crate::error::{Error, Result};
use crate::gpu::render::{CpuStages, Renderer};
use crate::gpu::Gpu;
use crate::plan::Planar;
use crate::render::prepare;
use crate::scene;

/// End-to-end tolerance: max |gpu − cpu| ≤ 2^-20 of full scale (−120 dBFS).
pub const MAX_ABS_TOLERANCE: f64 = 1.0 / (1u64 << 20) as f64;
/// End-to-end tolerance on integrated loudness, LU.
pub const LOUDNESS_TOLERANCE_LU: f64 = 0.01;
/// One LSB at 24 bits.
pub const LSB_24: f64 = 1.0 / (1u64 << 23) as f64;

/// How two signals differ.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Diff {
    /// max |gpu − cpu|, full scale
    pub max_abs: f64,
    /// the same in dBFS (−inf when identical)
    pub max_abs_dbfs: f64,
    /// the same in 24-bit LSBs
    pub max_lsb_24: f64,
    /// share of samples equal after rounding to 24 bits (0…1)
    pub identical_24bit: f64,
}

/// Compares planar signals sample by sample.
pub fn diff(a: &[Vec<f32>], b: &[Vec<f32>]) -> Diff {
    let (mut max_abs, mut same, mut n) = (0.0f64, 0usize, 0usize);
    for (ca, cb) in a.iter().zip(b) {
        for (x, y) in ca.iter().zip(cb) {
            let d = (f64::from(*x) - f64::from(*y)).abs();
            max_abs = max_abs.max(if d.is_nan() { f64::INFINITY } else { d });
            let q = |v: f32| (f64::from(v) / LSB_24).round() as i64;
            same += usize::from(q(*x) == q(*y));
            n += 1;
        }
        n += ca.len().abs_diff(cb.len());
        if ca.len() != cb.len() {
            max_abs = f64::INFINITY;
        }
    }
    Diff {
        max_abs,
        max_abs_dbfs: 20.0 * max_abs.log10(),
        max_lsb_24: max_abs / LSB_24,
        identical_24bit: same as f64 / n.max(1) as f64,
    }
}

/// One stage's comparison.
#[derive(Debug, Clone, Serialize)]
pub struct StageDiff {
    /// position in the Plan
    pub index: usize,
    /// operator name
    pub op: &'static str,
    /// where the GPU executor ran it: `"gpu"` (its kernel) or `"cpu"` (its CPU twin)
    pub backend: &'static str,
    /// the buffer the stage wrote, compared right after it ran
    pub diff: Diff,
}

/// One song's verification.
#[derive(Debug, Clone, Serialize)]
pub struct SongVerify {
    /// song title
    pub title: String,
    /// per stage
    pub stages: Vec<StageDiff>,
    /// the normalised master (what is written, before dither)
    pub end_to_end: Diff,
    /// integrated loudness of the CPU and GPU outputs, LUFS
    pub loudness_lufs: [Option<f64>; 2],
    /// |difference| of integrated loudness, LU
    pub loudness_diff_lu: f64,
    /// within GUIDE §4's tolerance
    pub pass: bool,
}

static CPU_STAGES: std::sync::Mutex<Option<CpuStages>> = std::sync::Mutex::new(None);

/// Runs these stages on the CPU inside the GPU executor in later [`verify`] calls
/// (`verify --cpu-stages`; otherwise `MIXFARM_CPU_STAGES` decides).
pub fn set_cpu_stages(stages: CpuStages) {
    if let Ok(mut s) = CPU_STAGES.lock() {
        *s = Some(stages);
    }
}

/// Verifies every song of the given scene files on `gpu`.
pub fn verify(scene_paths: &[PathBuf], gpu: &Gpu) -> Vec<Result<SongVerify>> {
    let mut renderer = match Renderer::new(gpu) {
        Ok(r) => r,
        Err(e) => return vec![Err(e)],
    };
    if let Some(s) = CPU_STAGES.lock().ok().and_then(|s| s.clone()) {
        renderer.cpu_stages = s;
    }
    scene::load_batch(scene_paths)
        .into_iter()
        .map(|s| s.and_then(|s| verify_song(s, gpu, &renderer)))
        .collect()
}

fn verify_song(s: scene::LoadedSong, gpu: &Gpu, renderer: &Renderer) -> Result<SongVerify> {
    let p = prepare(s)?;
    let plan = &p.plan;
    // one GPU run: the stage taps and the master it rendered
    let (gpu_master, taps) = renderer.run_tapped(gpu, (plan, &p.sources))?;
    if taps.len() != plan.stages.len() {
        return Err(Error::Render {
            song: plan.name.clone(),
            reason: format!(
                "GPU returned {} stage taps for {} stages",
                taps.len(),
                plan.stages.len()
            ),
        });
    }
    let (cpu_master, cpu_taps) = cpu::run_plan_tapped(plan, &p.sources)?;
    let stages = plan
        .stages
        .iter()
        .zip(cpu_taps.iter().zip(&taps))
        .enumerate()
        .map(|(i, (stage, (c, g)))| StageDiff {
            index: i,
            op: stage.op_name(),
            backend: renderer.stage_backend(i),
            diff: diff(c, g),
        })
        .collect();
    drop((taps, cpu_taps));
    let d = &p.delivery;
    let normalise = |m: Planar| -> Result<(Planar, Option<f64>)> {
        let member = crate::engine::Member {
            audio: &m,
            chain: None,
            rate: plan.sample_rate,
            limiter: d.limiter.as_ref(),
            offset_db: 0.0,
            fades: d.fades,
            measured: None,
            curves: false,
        };
        let mut out = crate::engine::close_group(crate::engine::Group {
            members: vec![member],
            target_lufs: d.target_lufs,
            ceiling_dbtp: d.ceiling_dbtp,
        })?;
        let song = out.songs.pop().ok_or_else(|| Error::Render {
            song: plan.name.clone(),
            reason: "nothing closed".into(),
        })?;
        Ok((song.audio, song.output.integrated_lufs))
    };
    let (c, lc) = normalise(cpu_master)?;
    let (g, lg) = normalise(gpu_master)?;
    let end_to_end = diff(&c, &g);
    let loudness_diff_lu = match (lc, lg) {
        (Some(a), Some(b)) => (a - b).abs(),
        (None, None) => 0.0,
        _ => f64::INFINITY,
    };
    let pass = end_to_end.max_abs <= MAX_ABS_TOLERANCE && loudness_diff_lu <= LOUDNESS_TOLERANCE_LU;
    Ok(SongVerify {
        title: plan.name.clone(),
        stages,
        end_to_end,
        loudness_lufs: [lc, lg],
        loudness_diff_lu,
        pass,
    })
}
