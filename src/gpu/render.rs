//! The GPU executor of [`Plan`]s: the GPU twin of `engine::cpu::run_plan`, for every song.
//!
//! Songs are packed into batches sized from the adapter's limits (a batch's chunk buffers
//! `[song][buffer][channel][chunk]` in one storage binding, its source chunks in another) and
//! a memory budget ([`Renderer::memory_budget_bytes`], `--memory-budget`). A batch walks its
//! songs in the CPU executor's time chunks with the same schedule and carried state
//! ([`super::chunked`]): many songs × one chunk per step, each stage kind one dispatch over
//! the batch, convolutions streaming on the GPU ([`super::conv_stream`]), the recursive
//! processors with their state on the GPU ([`super::recursive`]). Nothing returns to the host
//! between GPU stages except for a stage the per-stage switch ([`CpuStages`]) sends to the
//! CPU (its CPU stream runs on the chunk after a read-back, [`super::host`]). Only the
//! masters' chunks come back, unless a run keeps them on the GPU for a later Plan
//! ([`Renderer::run_kept`], [`super::resident`]).

use crate::error::Error;
use crate::gpu::conv_stream::ConvStream;
use crate::gpu::elementwise_ops::ElementwiseGpu;
use crate::gpu::load::LoadGpu;
use crate::gpu::recursive::RecursiveGpu;
use crate::gpu::resident::{Keep, Kept, Resident};
use crate::gpu::{Gpu, Profiler};
use crate::ops::envelope::gpu::EnvelopeGpu;
use crate::ops::gain::gpu::GainGpu;
use crate::ops::kind::{kind_of, Kind};
use crate::ops::mix::gpu::MixGpu;
use crate::ops::resample::gpu::ResampleGpu;
use crate::plan::{Planar, Rendered};

pub use crate::engine::Job;

/// Which stages run on the CPU instead of their kernel (to bisect a divergence, as vello
/// does): by index into `plan.stages`. `MIXFARM_CPU_STAGES=all` or `=3,7` sets it for any
/// command ([`CpuStages::from_env`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub enum CpuStages {
    /// every stage with a kernel runs it
    #[default]
    None,
    /// every stage runs its CPU twin
    All,
    /// these stage indices run their CPU twins
    Only(Vec<usize>),
}

impl CpuStages {
    /// Whether stage `index` runs on the CPU.
    pub fn contains(&self, index: usize) -> bool {
        match self {
            CpuStages::None => false,
            CpuStages::All => true,
            CpuStages::Only(v) => v.contains(&index),
        }
    }

    /// Parses `all`, `none` or a comma-separated list of stage indices.
    pub fn parse(s: &str) -> Result<CpuStages, String> {
        match s.trim() {
            "" | "none" => Ok(CpuStages::None),
            "all" => Ok(CpuStages::All),
            list => list
                .split(',')
                .map(|x| {
                    x.trim()
                        .parse()
                        .map_err(|_| format!("bad stage index '{x}' (want all, none or 3,7)"))
                })
                .collect::<Result<_, _>>()
                .map(CpuStages::Only),
        }
    }

    /// The switch from `MIXFARM_CPU_STAGES` (unset or unparsable: none).
    pub fn from_env() -> CpuStages {
        std::env::var("MIXFARM_CPU_STAGES")
            .ok()
            .and_then(|s| CpuStages::parse(&s).ok())
            .unwrap_or_default()
    }
}

/// Compiled kernels of the executor; keep one to render many batches.
pub struct Renderer {
    pub(super) load: LoadGpu,
    pub(super) gain: GainGpu,
    pub(super) envelope: EnvelopeGpu,
    pub(super) mix: MixGpu,
    pub(super) elementwise: ElementwiseGpu,
    pub(super) conv: ConvStream,
    pub(super) recursive: RecursiveGpu,
    resample: ResampleGpu,
    /// GPU memory a batch may take (chunk buffers, sources, convolution state); `None`:
    /// four storage bindings' worth. A song always runs, alone if it passes the budget.
    pub memory_budget_bytes: Option<u64>,
    /// stages run on the CPU (per-stage switch)
    pub cpu_stages: CpuStages,
}

/// A song's master as [`Renderer::run_kept`] kept it, and what its metering stages read.
pub type KeptRun = (Kept, crate::plan::Readings);

/// A song rendered, and its master when it was kept on the GPU.
type RunKept = (Rendered, Option<Resident>);

/// Renders every song; see [`Renderer::run`].
pub fn run_plans(gpu: &Gpu, jobs: &[Job<'_>]) -> Result<Vec<Result<Planar, Error>>, Error> {
    Renderer::new(gpu)?.run(gpu, jobs, None)
}

impl Renderer {
    /// Compiles the executor's kernels; the per-stage switch comes from
    /// `MIXFARM_CPU_STAGES`.
    pub fn new(gpu: &Gpu) -> Result<Renderer, Error> {
        Ok(Renderer {
            load: LoadGpu::new(gpu)?,
            gain: GainGpu::new(gpu)?,
            envelope: EnvelopeGpu::new(gpu)?,
            mix: MixGpu::new(gpu)?,
            elementwise: ElementwiseGpu::new(gpu)?,
            conv: ConvStream::new(gpu)?,
            recursive: RecursiveGpu::new(gpu)?,
            resample: ResampleGpu::new(gpu)?,
            memory_budget_bytes: None,
            cpu_stages: CpuStages::from_env(),
        })
    }

    /// Where stage `index` of a Plan runs on this executor: `"gpu"` (its kind's kernels) or
    /// `"cpu"` (its CPU twin on the host: the per-stage switch).
    pub fn stage_backend(&self, index: usize) -> &'static str {
        if self.cpu_stages.contains(index) {
            "cpu"
        } else {
            "gpu"
        }
    }

    /// The batch memory budget in bytes.
    pub(super) fn budget(&self, gpu: &Gpu) -> u64 {
        self.memory_budget_bytes
            .unwrap_or(4 * gpu.max_binding_bytes())
    }

    /// Renders every song, returning each song's master (planar stereo, `plan.frames` long)
    /// or its own error (bad routing, more buffers than one binding holds for a chunk). The
    /// outer error is a GPU failure (device lost, out of memory: retryable) that stops the
    /// whole call.
    pub fn run(
        &self,
        gpu: &Gpu,
        jobs: &[Job<'_>],
        prof: Option<&mut Profiler>,
    ) -> Result<Vec<Result<Planar, Error>>, Error> {
        Ok(self
            .run_read(gpu, jobs, prof, true)?
            .into_iter()
            .map(|r| r.map(|r| r.master))
            .collect())
    }

    /// [`Renderer::run`], also returning what each song's metering stages read; without
    /// `masters` no audio comes back (the masters are empty): the readings are all.
    pub fn run_read(
        &self,
        gpu: &Gpu,
        jobs: &[Job<'_>],
        prof: Option<&mut Profiler>,
        masters: bool,
    ) -> Result<Vec<Result<Rendered, Error>>, Error> {
        let keep = vec![if masters { Keep::Host } else { Keep::Nothing }; jobs.len()];
        Ok(self
            .run_keep(gpu, jobs, prof, &keep)?
            .into_iter()
            .map(|r| r.map(|(r, _)| r))
            .collect())
    }

    /// Renders every song and keeps the master of each job `on_gpu` marks on the GPU
    /// ([`Resident`]) for a later Plan to load, as long as the kept masters fit the memory
    /// budget together and each fits one buffer; the other masters come back to the host.
    /// With each master, what the song's metering stages read.
    pub fn run_kept(
        &self,
        gpu: &Gpu,
        jobs: &[Job<'_>],
        on_gpu: &[bool],
    ) -> Result<Vec<Result<KeptRun, Error>>, Error> {
        let mut room = self.budget(gpu);
        let keep: Vec<Keep> = jobs
            .iter()
            .zip(on_gpu.iter().chain(std::iter::repeat(&false)))
            .map(|((plan, _), &want)| {
                let bytes = Resident::bytes_for(plan.frames);
                if want && bytes <= room && bytes <= gpu.limits.max_buffer_size {
                    room -= bytes;
                    Keep::Gpu
                } else {
                    Keep::Host
                }
            })
            .collect();
        Ok(self
            .run_keep(gpu, jobs, None, &keep)?
            .into_iter()
            .map(|r| {
                r.map(|(r, kept)| {
                    let m = kept.map_or(Kept::Host(r.master), Kept::Gpu);
                    (m, r.readings)
                })
            })
            .collect())
    }

    /// A master kept on the GPU converted there from `from_hz` to `to_hz`
    /// ([`crate::ops::resample`]) into a new kept master (`round(frames · to / from)`
    /// frames); `Err(reason)` for a ratio the converter refuses.
    pub fn resample(
        &self,
        gpu: &Gpu,
        kept: &Resident,
        from_hz: u32,
        to_hz: u32,
    ) -> Result<std::result::Result<Resident, String>, Error> {
        let filter = match crate::ops::resample::Filter::new(from_hz, to_hz) {
            Ok(f) => f,
            Err(reason) => return Ok(Err(reason)),
        };
        let frames = crate::ops::resample::output_frames(kept.frames(), from_hz, to_hz);
        self.resample.run(gpu, &filter, kept, frames).map(Ok)
    }

    /// Renders every song, each master where `keep` says.
    fn run_keep(
        &self,
        gpu: &Gpu,
        jobs: &[Job<'_>],
        mut prof: Option<&mut Profiler>,
        keep: &[Keep],
    ) -> Result<Vec<Result<RunKept, Error>>, Error> {
        let mut results: Vec<Option<Result<RunKept, Error>>> =
            (0..jobs.len()).map(|_| None).collect();
        let kernels = self.upload_kernels(gpu, jobs)?;
        let (batches, refused) = self.batches(gpu, jobs, &kernels);
        for (i, e) in refused {
            results[i] = Some(Err(e));
        }
        for batch in &batches {
            let p = prof.as_deref_mut();
            for (i, master, _, readings, kept) in
                self.run_chunked(gpu, jobs, batch, &kernels, p, false, keep)?
            {
                results[i] = Some(master.map(|master| (Rendered { master, readings }, kept)));
            }
        }
        Ok(results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(Error::Gpu {
                        reason: "song not rendered".into(),
                        retryable: false,
                    })
                })
            })
            .collect())
    }

    /// Renders one song and reads back the buffer each stage wrote, right after that stage,
    /// over the whole song (for `mixfarm verify`: the GPU side of a per-stage comparison);
    /// returns the master (the same run's, as [`Renderer::run`] returns it: the taps are
    /// copies taken between the stages) and the taps. Slow: one read-back per stage and chunk.
    pub fn run_tapped(&self, gpu: &Gpu, job: Job<'_>) -> Result<(Planar, Vec<Planar>), Error> {
        let kernels = self.upload_kernels(gpu, &[job])?;
        let (_, mut refused) = self.batches(gpu, &[job], &kernels);
        if let Some((_, e)) = refused.pop() {
            return Err(e);
        }
        let mut out = self.run_chunked(gpu, &[job], &[0], &kernels, None, true, &[Keep::Host])?;
        match out.pop() {
            Some((_, Err(e), _, _, _)) => Err(e),
            Some((_, Ok(master), taps, _, _)) => Ok((master, taps)),
            None => Err(Error::Gpu {
                reason: "no result".into(),
                retryable: false,
            }),
        }
    }

    /// Uploads the convolution kernels of every song's stages once for the run (none for
    /// stages switched to the CPU).
    fn upload_kernels(
        &self,
        gpu: &Gpu,
        jobs: &[Job<'_>],
    ) -> Result<crate::gpu::conv_stream::RunKernels, Error> {
        let kernels = jobs.iter().flat_map(|(plan, _)| {
            plan.stages
                .iter()
                .enumerate()
                .filter(|(i, _)| !self.cpu_stages.contains(*i))
                .flat_map(|(_, s)| match kind_of(s) {
                    Kind::Convolve { conv, .. } => conv.kernels,
                    _ => Vec::new(),
                })
        });
        self.conv.upload(gpu, kernels, gpu.max_binding_bytes())
    }
}
