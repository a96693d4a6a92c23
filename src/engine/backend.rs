//! `--backend cpu|gpu|auto` for every command: the [`Executor`] runs a batch of Plans on the
//! CPU reference path ([`super::cpu`], songs in parallel) or batched on the GPU
//! ([`crate::gpu::render::Renderer`]), and decides what a GPU failure means:
//!
//! - `auto` uses a hardware adapter when there is one; when the GPU fails (device lost, out
//!   of memory), that work and everything after it runs on the CPU; a song the GPU refuses
//!   (only one with more buffers than a binding holds for one time chunk) runs on the CPU;
//! - the GPU walks every song in time chunks, batches sized by the adapter's limits and
//!   [`super::budget`] (`--memory-budget`);
//! - `gpu` fails without an adapter (exit 2); once the GPU is lost, every song not yet
//!   rendered fails as retryable (exit 75) so a scheduler retries it elsewhere.

use rayon::prelude::*;
use serde::Serialize;

use crate::core::Planar;
use crate::error::{Error, Result};
use crate::gpu::render::Renderer;
use crate::gpu::{Gpu, GpuOptions, Kept};
use crate::plan::{Plan, Rendered};

use super::sources::Sources;

/// Where one stage of a Plan ran (reports, `selftest`, `verify`).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct StageRun {
    /// operator name (`eq`, `compressor`, `load`, …)
    pub op: String,
    /// the stage kind it lowered to (`recursive`, `convolve`, …)
    pub kind: String,
    /// `"gpu"` (its kernel) or `"cpu"` (its CPU twin)
    pub backend: String,
}

/// Which executor runs the Plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// the CPU reference path (never touches wgpu)
    Cpu,
    /// the GPU (wgpu compute); fails if no adapter exists
    Gpu,
    /// a hardware GPU when there is one, else the CPU
    Auto,
}

/// One Plan to run with its sources (index = `Stage::Load::source`).
pub type Job<'a> = (&'a Plan, &'a Sources<'a>);

/// Runs batches of Plans on the chosen backend; keep one for a whole run.
pub struct Executor {
    requested: Backend,
    gpu: Option<(Gpu, Renderer)>,
    lost: Option<String>,
    /// what made the run fall back to the CPU, or lose its GPU, if anything did
    pub note: Option<String>,
}

impl Executor {
    /// Opens the backend. `Err` (a sentence for the user, exit 2) only for `--backend gpu`
    /// without a usable adapter; `auto` without one runs on the CPU with a note.
    pub fn open(requested: Backend) -> std::result::Result<Executor, String> {
        let mut ex = Executor {
            requested,
            gpu: None,
            lost: None,
            note: None,
        };
        if requested == Backend::Cpu {
            return Ok(ex);
        }
        let opened = Gpu::new(GpuOptions {
            allow_software: requested == Backend::Gpu,
        })
        .and_then(|g| {
            g.map(|g| {
                Renderer::new(&g).map(|mut r| {
                    r.memory_budget_bytes = Some(super::budget::get());
                    (g, r)
                })
            })
            .transpose()
        });
        match opened {
            Ok(Some(g)) => ex.gpu = Some(g),
            Ok(None) if requested == Backend::Auto => {
                ex.note = Some("no hardware GPU adapter: rendered on the CPU".into());
            }
            Ok(None) => {
                return Err("--backend gpu: no GPU adapter found (is a Vulkan driver installed? `mixfarm devices` lists what wgpu sees)".into());
            }
            Err(e) if requested == Backend::Auto => {
                ex.note = Some(format!("GPU unavailable ({e}): rendered on the CPU"));
            }
            Err(e) => return Err(e.to_string()),
        }
        Ok(ex)
    }

    /// The backend that runs (or ran) the work: `Gpu` while a GPU is in use or was lost.
    pub fn backend(&self) -> Backend {
        if self.gpu.is_some() || self.lost.is_some() {
            Backend::Gpu
        } else {
            Backend::Cpu
        }
    }

    /// Where each stage of `plan` runs on this executor.
    pub fn stage_runs(&self, plan: &Plan) -> Vec<StageRun> {
        plan.stages
            .iter()
            .enumerate()
            .map(|(i, s)| StageRun {
                op: s.op_name().to_string(),
                kind: crate::ops::kind::kind_of(s).name().to_string(),
                backend: match &self.gpu {
                    Some((_, r)) => r.stage_backend(i),
                    None => "cpu",
                }
                .to_string(),
            })
            .collect()
    }

    /// The GPU adapter's name, when one is in use.
    pub fn adapter(&self) -> Option<String> {
        self.gpu.as_ref().map(|(g, _)| g.name().to_string())
    }

    /// Runs every job; each gets its master buffer or its own error. See the module docs for
    /// what a GPU failure does.
    pub fn run(&mut self, jobs: &[Job<'_>]) -> Vec<Result<Planar>> {
        self.run_read(jobs, true)
            .into_iter()
            .map(|r| r.map(|r| r.master))
            .collect()
    }

    /// [`Executor::run`], keeping the master of each job `on_gpu` marks on the GPU
    /// ([`Kept::Gpu`]) for a later Plan to load ([`Sources::resident`]) where the GPU runs
    /// the work and the kept masters fit its memory budget; elsewhere (the CPU, a song the
    /// GPU refused under `auto`, past the budget) the master comes back to the host as
    /// [`Executor::run`] gives it. With each master, what the song's metering stages read.
    pub fn run_kept(
        &mut self,
        jobs: &[Job<'_>],
        on_gpu: &[bool],
    ) -> Vec<Result<(Kept, crate::plan::Readings)>> {
        let on_gpu = match (&self.gpu, &self.lost) {
            (Some((gpu, renderer)), None) if !jobs.is_empty() => {
                Some(renderer.run_kept(gpu, jobs, on_gpu))
            }
            _ => None,
        };
        let host = |r: Rendered| (Kept::Host(r.master), r.readings);
        match on_gpu {
            Some(Ok(mut out)) => {
                self.refused_on_cpu(&mut out, jobs, true, host);
                out
            }
            Some(Err(e)) => self
                .failed(e, jobs, true)
                .into_iter()
                .map(|r| r.map(host))
                .collect(),
            None => self
                .run_read(jobs, true)
                .into_iter()
                .map(|r| r.map(host))
                .collect(),
        }
    }

    /// A master as [`Executor::run_kept`] kept it, converted from `from_hz` to `to_hz` where
    /// it is: on the GPU by the `resample` kernel, on the host by its twin
    /// ([`crate::audio::resample::resample_delivery`]); `path` names the song in errors. A
    /// GPU failure here fails the song (retryable under `gpu`), and is the run's as in
    /// [`Executor::run_read`].
    pub fn resample_kept(
        &mut self,
        kept: Kept,
        path: &std::path::Path,
        from_hz: u32,
        to_hz: u32,
    ) -> Result<Kept> {
        let r = match kept {
            Kept::Host(m) => {
                return crate::audio::resample::resample_delivery(path, &m, from_hz, to_hz)
                    .map(Kept::Host)
            }
            Kept::Gpu(r) => r,
        };
        let Some((gpu, renderer)) = &self.gpu else {
            return Err(lost(self.lost.as_deref().unwrap_or("no GPU")));
        };
        match renderer.resample(gpu, &r, from_hz, to_hz) {
            Ok(Ok(r)) => Ok(Kept::Gpu(r)),
            Ok(Err(reason)) => Err(Error::input(
                path,
                format!("cannot convert the rate: {reason}"),
            )),
            Err(e) => {
                let reason = e.to_string();
                self.failed(e, &[], true);
                Err(lost(&reason))
            }
        }
    }

    /// [`Executor::run`], also returning what each song's metering stages read; without
    /// `masters` no audio is kept (the masters are empty), only the readings.
    pub fn run_read(&mut self, jobs: &[Job<'_>], masters: bool) -> Vec<Result<Rendered>> {
        if let Some(reason) = &self.lost {
            return jobs.iter().map(|_| Err(lost(reason))).collect();
        }
        if jobs.is_empty() {
            return Vec::new();
        }
        let Some((gpu, renderer)) = &self.gpu else {
            return run_cpu(jobs, masters);
        };
        match renderer.run_read(gpu, jobs, None, masters) {
            Ok(mut out) => {
                self.refused_on_cpu(&mut out, jobs, masters, |r| r);
                out
            }
            Err(e) => self.failed(e, jobs, masters),
        }
    }

    /// Under `auto`, a song the GPU refused (more buffers than one binding holds for a time
    /// chunk: never for its length) renders on the CPU: its place in `out` takes the CPU's
    /// result, as `wrap` makes it.
    fn refused_on_cpu<T>(
        &self,
        out: &mut [Result<T>],
        jobs: &[Job<'_>],
        masters: bool,
        wrap: impl Fn(Rendered) -> T,
    ) {
        if self.requested != Backend::Auto {
            return;
        }
        let refused: Vec<usize> = (0..out.len())
            .filter(|&i| matches!(out[i], Err(Error::Gpu { .. })))
            .collect();
        let again: Vec<Job<'_>> = refused.iter().map(|&i| jobs[i]).collect();
        for (i, r) in refused.into_iter().zip(run_cpu(&again, masters)) {
            out[i] = r.map(&wrap);
        }
    }

    /// What a GPU failure `e` means for `jobs` (see the module docs): under `auto` they
    /// and everything after run on the CPU; under `gpu` they fail, retryable, and so does
    /// everything after.
    fn failed(&mut self, e: Error, jobs: &[Job<'_>], masters: bool) -> Vec<Result<Rendered>> {
        self.gpu = None;
        if self.requested == Backend::Auto {
            self.note = Some(format!("{e}; the rest rendered on the CPU"));
            return run_cpu(jobs, masters);
        }
        let reason = e.to_string();
        self.note = Some(format!("{reason}; the songs not yet rendered were not"));
        let out = jobs.iter().map(|_| Err(lost(&reason))).collect();
        self.lost = Some(reason);
        out
    }
}

fn lost(reason: &str) -> Error {
    Error::Gpu {
        reason: reason.to_string(),
        retryable: true,
    }
}

/// The CPU executor, songs in parallel; a song not started when a stop is requested is
/// left for the retry ([`Error::Interrupted`]).
fn run_cpu(jobs: &[Job<'_>], masters: bool) -> Vec<Result<Rendered>> {
    jobs.par_iter()
        .map(|(plan, sources)| {
            if super::stop::stop_requested() {
                return Err(Error::Interrupted);
            }
            super::cpu::run_job_read(plan, sources, masters)
        })
        .collect()
}
