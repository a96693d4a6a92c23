//! The batched GPU executor of [`Plan`]s: the GPU twin of `engine::cpu::run_plan`.
//!
//! Songs are packed into batches; a batch's song buffers live in one planar GPU buffer
//! `[song][buffer][channel][frames]` (one binding, so its size is bounded by the adapter's
//! storage-binding limit, never by a constant) and its decoded sources in another. Stages run
//! in lockstep by index: at step `i`, stage `i` of every song in the batch is grouped by kind
//! and each kind is ONE dispatch over songs × channels (Load, Gain + Trim, Envelope, Mix);
//! the step's convolution stages (Reverb, linear-phase EQ) are one batched convolution
//! ([`super::conv_stages`], kernels uploaded once per run). Nothing returns to the host
//! between GPU stages. A linear-phase multiband is split into bands on the GPU the same way,
//! then finished (band compressors, a recursion) on the CPU after one read-back. A
//! `Stage::Process` whose processor has no GPU kernel yet runs on the CPU (`Processor::process_cpu`): the work recorded so far is
//! submitted, that song buffer (and its sidechain) is read back, processed and re-uploaded,
//! then recording goes on. Only the masters are read back at the end.
//!
//! A song whose whole-length buffers pass one binding runs in time chunks instead
//! ([`super::chunked`], the CPU executor's chunk schedule), so no song is refused for its
//! length; the run's output is the same bits either way.

use crate::error::Error;
use crate::gpu::chunked::chunk_bytes;
use crate::gpu::conv_stages::{finish_split, is_split, ConvItem, ConvStages, RunKernels};
use crate::gpu::load::{LoadGpu, LoadJob};
use crate::gpu::readback::{read_stereo, submit};
use crate::gpu::{Gpu, Profiler};
use crate::ops::envelope::gpu::{push_job, EnvelopeGpu};
use crate::ops::gain::gpu::{GainGpu, GainJob};
use crate::ops::mix::gpu::{MixGpu, MixJob};
use crate::ops::Processor;
use crate::plan::{Plan, Planar, Stage, PLAN_CHANNELS};

pub use crate::engine::Job;
use crate::engine::sources::Sources;

/// A song of a whole-song batch: its Plan and its sources read whole.
type WholeJob<'a> = (&'a Plan, &'a [Planar]);

/// Compiled kernels of the executor; keep one to render many batches.
pub struct Renderer {
    pub(super) load: LoadGpu,
    pub(super) gain: GainGpu,
    pub(super) envelope: EnvelopeGpu,
    pub(super) mix: MixGpu,
    conv: ConvStages,
    /// caps the per-batch buffers below the adapter's binding limit (tests use it to force
    /// several batches; a memory budget can too)
    pub batch_limit_bytes: Option<u64>,
    /// run every `Stage::Process` on the CPU (read-back path), to bisect a divergence
    pub force_cpu_processors: bool,
    /// run every song in time chunks ([`super::chunked`]), even one whose whole-length
    /// buffers fit a binding (tests compare the two paths with it)
    pub always_chunked: bool,
}

/// Renders every song; see [`Renderer::run`].
pub fn run_plans(gpu: &Gpu, jobs: &[Job<'_>]) -> Result<Vec<Result<Planar, Error>>, Error> {
    Renderer::new(gpu)?.run(gpu, jobs, None)
}

/// Where one song sits in its batch.
struct Placed {
    job: usize,
    base: u64,
    source_offsets: Vec<Vec<u64>>,
}

/// Bytes of a song's whole-length buffers and of its decoded sources.
fn whole_bytes(plan: &Plan, sources: &Sources<'_>) -> (u64, u64) {
    let audio = (plan.n_buffers * PLAN_CHANNELS * plan.frames * 4) as u64;
    let src: u64 = (0..sources.len())
        .map(|k| (sources.channels(k) * sources.frames(k)) as u64 * 4)
        .sum();
    (audio, src)
}

/// Checks routing and size; returns (audio bytes, source bytes).
fn check(plan: &Plan, sources: &Sources<'_>, limit: u64) -> Result<(u64, u64), Error> {
    plan.check(sources)?;
    let (audio, src) = whole_bytes(plan, sources);
    if audio > limit || src > limit {
        return Err(Error::Gpu {
            reason: format!(
                "song '{}' needs {audio} + {src} bytes, over the GPU binding limit {limit}",
                plan.name
            ),
            retryable: false,
        });
    }
    Ok((audio, src))
}

/// Songs packed into batches whose buffers and sources each stay within a limit.
#[derive(Default)]
struct Batches(Vec<Vec<usize>>, u64, u64);

impl Batches {
    fn add(&mut self, i: usize, a: u64, s: u64, limit: u64) {
        if self.0.is_empty() || self.1 + a > limit || self.2 + s > limit {
            self.0.push(Vec::new());
            self.1 = 0;
            self.2 = 0;
        }
        self.1 += a;
        self.2 += s;
        self.0.last_mut().expect("a batch").push(i);
    }
}

impl Renderer {
    /// Compiles the executor's kernels.
    pub fn new(gpu: &Gpu) -> Result<Renderer, Error> {
        Ok(Renderer {
            load: LoadGpu::new(gpu)?,
            gain: GainGpu::new(gpu)?,
            envelope: EnvelopeGpu::new(gpu)?,
            mix: MixGpu::new(gpu)?,
            conv: ConvStages::new(gpu)?,
            batch_limit_bytes: None,
            force_cpu_processors: false,
            always_chunked: false,
        })
    }

    /// Renders every song, returning each song's master (planar stereo, `plan.frames` long)
    /// or its own error (bad routing, too big for this GPU). The outer error is a GPU failure
    /// (device lost, out of memory: retryable) that stops the whole call.
    pub fn run(
        &self,
        gpu: &Gpu,
        jobs: &[Job<'_>],
        mut prof: Option<&mut Profiler>,
    ) -> Result<Vec<Result<Planar, Error>>, Error> {
        let limit = gpu
            .max_binding_bytes()
            .min(self.batch_limit_bytes.unwrap_or(u64::MAX));
        let mut results: Vec<Option<Result<Planar, Error>>> =
            (0..jobs.len()).map(|_| None).collect();
        // songs whose whole-length buffers fit run whole; the others in time chunks
        let (mut whole, mut chunked) = (Batches::default(), Batches::default());
        for (i, (plan, sources)) in jobs.iter().enumerate() {
            if let Err(e) = plan.check(sources) {
                results[i] = Some(Err(e));
                continue;
            }
            let (a, s) = whole_bytes(plan, sources);
            if a <= limit && s <= limit && !self.always_chunked {
                whole.add(i, a, s, limit);
            } else {
                let (a, s) = chunk_bytes(plan, sources);
                if a <= limit && s <= limit {
                    chunked.add(i, a, s, limit);
                } else {
                    results[i] = Some(Err(Error::Gpu {
                        reason: format!(
                            "song '{}' needs {a} + {s} bytes per time chunk, over the GPU binding limit {limit}",
                            plan.name
                        ),
                        retryable: false,
                    }));
                }
            }
        }
        let plans: Vec<&Plan> = jobs.iter().map(|j| j.0).collect();
        let kernels = self.upload_kernels(gpu, &plans)?;
        for batch in &whole.0 {
            // the batch's sources, read whole (a song whose file turns out bad fails alone)
            let mut read: Vec<(usize, Vec<Planar>)> = Vec::with_capacity(batch.len());
            for &i in batch {
                let s = jobs[i].1;
                match (0..s.len()).map(|k| s.whole(k)).collect() {
                    Ok(v) => read.push((i, v)),
                    Err(e) => results[i] = Some(Err(e)),
                }
            }
            let local: Vec<WholeJob<'_>> = read.iter().map(|(i, v)| (jobs[*i].0, &v[..])).collect();
            let all: Vec<usize> = (0..local.len()).collect();
            for (j, master) in
                self.run_batch(gpu, &local, &all, &kernels, prof.as_deref_mut(), None)?
            {
                results[read[j].0] = Some(Ok(master));
            }
        }
        for batch in &chunked.0 {
            for (i, master) in self.run_chunked(gpu, jobs, batch)? {
                results[i] = Some(master);
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

    /// Renders one song and reads back the buffer each stage wrote, right after that stage
    /// (for `mixfarm verify`: the GPU side of a per-stage comparison). Slow: one submit and
    /// one read-back per stage.
    pub fn run_tapped(&self, gpu: &Gpu, job: Job<'_>) -> Result<Vec<Planar>, Error> {
        let limit = gpu
            .max_binding_bytes()
            .min(self.batch_limit_bytes.unwrap_or(u64::MAX));
        check(job.0, job.1, limit)?;
        let mut taps = Vec::with_capacity(job.0.stages.len());
        let kernels = self.upload_kernels(gpu, &[job.0])?;
        let sources: Vec<Planar> = (0..job.1.len())
            .map(|k| job.1.whole(k))
            .collect::<Result<_, Error>>()?;
        let whole: WholeJob<'_> = (job.0, &sources);
        self.run_batch(gpu, &[whole], &[0], &kernels, None, Some(&mut taps))?;
        Ok(taps)
    }

    /// Uploads the convolution kernels of every song's processors once for the run.
    fn upload_kernels(&self, gpu: &Gpu, plans: &[&Plan]) -> Result<RunKernels, Error> {
        if self.force_cpu_processors {
            return Ok(RunKernels::none());
        }
        let processors = plans.iter().flat_map(|plan| {
            plan.stages.iter().filter_map(|s| match s {
                Stage::Process { processor, .. } => Some(&**processor),
                _ => None,
            })
        });
        self.conv.upload(gpu, processors, gpu.max_binding_bytes())
    }

    fn run_batch(
        &self,
        gpu: &Gpu,
        jobs: &[WholeJob<'_>],
        batch: &[usize],
        kernels: &RunKernels,
        mut prof: Option<&mut Profiler>,
        mut taps: Option<&mut Vec<Planar>>,
    ) -> Result<Vec<(usize, Planar)>, Error> {
        // layout
        let (mut placed, mut src_flat) = (Vec::new(), Vec::<f32>::new());
        let mut audio_len = 0u64;
        for &i in batch {
            let (plan, sources) = jobs[i];
            let mut source_offsets = Vec::new();
            for s in sources {
                source_offsets.push(
                    s.iter()
                        .map(|c| {
                            let o = src_flat.len() as u64;
                            src_flat.extend_from_slice(c);
                            o
                        })
                        .collect(),
                );
            }
            placed.push(Placed {
                job: i,
                base: audio_len,
                source_offsets,
            });
            audio_len += (plan.n_buffers * PLAN_CHANNELS * plan.frames) as u64;
        }
        let audio = gpu.storage("song buffers", audio_len * 4)?;
        let sources_buf = gpu.upload("sources", &src_flat)?;
        drop(src_flat);
        let chan = |p: &Placed, buf: usize, c: usize| -> u32 {
            let frames = jobs[p.job].0.frames as u64;
            (p.base + (buf * PLAN_CHANNELS + c) as u64 * frames) as u32
        };
        let steps = placed
            .iter()
            .map(|p| jobs[p.job].0.stages.len())
            .max()
            .unwrap_or(0);
        let mut enc = gpu.device.create_command_encoder(&Default::default());
        for step in 0..steps {
            let (mut loads, mut gains, mut envs, mut segs, mut mixes, mut cpu) =
                (vec![], vec![], vec![], vec![], vec![], vec![]);
            let mut convs = vec![];
            for p in &placed {
                let (plan, sources) = jobs[p.job];
                let Some(stage) = plan.stages.get(step) else {
                    continue;
                };
                let frames = plan.frames as u32;
                match stage {
                    Stage::Load { dst, source } => {
                        for c in 0..PLAN_CHANNELS {
                            let sc = c.min(sources[*source].len() - 1);
                            let n = sources[*source][sc].len().min(plan.frames) as u32;
                            let src_offset = p.source_offsets[*source][sc] as u32;
                            loads.push(LoadJob {
                                dst_offset: chan(p, *dst, c),
                                src_offset,
                                src_frames: n,
                                dst_frames: frames,
                            });
                        }
                    }
                    Stage::Gain { buf, gain } => {
                        for (c, g) in gain.iter().enumerate() {
                            gains.push(GainJob {
                                offset: chan(p, *buf, c),
                                frames,
                                gain: *g,
                                _pad: 0,
                            });
                        }
                    }
                    Stage::Process { buf, processor, .. }
                        if !self.force_cpu_processors && gpu_gain(processor).is_some() =>
                    {
                        let g = gpu_gain(processor).unwrap_or(1.0);
                        for c in 0..PLAN_CHANNELS {
                            gains.push(GainJob {
                                offset: chan(p, *buf, c),
                                frames,
                                gain: g,
                                _pad: 0,
                            });
                        }
                    }
                    Stage::Process { buf, processor, .. }
                        if kernels.ids(processor).is_some() && !is_split(processor) =>
                    {
                        convs.push(ConvItem {
                            processor,
                            offset: chan(p, *buf, 0),
                            frames,
                        })
                    }
                    Stage::Envelope { buf, curves } => {
                        for (c, curve) in curves.iter().enumerate() {
                            let s = curve.segments(plan.frames);
                            push_job(&mut envs, &mut segs, chan(p, *buf, c), frames, s);
                        }
                    }
                    Stage::Mix { dst, src, gain } => {
                        for (c, g) in gain.iter().enumerate() {
                            mixes.push(MixJob {
                                dst_offset: chan(p, *dst, c),
                                src_offset: chan(p, *src, c),
                                frames,
                                gain: *g,
                            });
                        }
                    }
                    Stage::Process {
                        buf,
                        sidechain,
                        processor,
                    } => cpu.push((p, *buf, *sidechain, processor)),
                }
            }
            self.load.encode(
                gpu,
                &mut enc,
                prof.as_deref_mut(),
                &loads,
                &sources_buf,
                &audio,
            )?;
            self.gain
                .encode(gpu, &mut enc, prof.as_deref_mut(), &gains, &audio)?;
            self.envelope
                .encode(gpu, &mut enc, prof.as_deref_mut(), &envs, &segs, &audio)?;
            self.mix
                .encode(gpu, &mut enc, prof.as_deref_mut(), &mixes, &audio)?;
            self.conv
                .encode_step(gpu, &mut enc, prof.as_deref_mut(), kernels, &convs, &audio)?;
            if let Some(taps) = taps.as_deref_mut() {
                let full = std::mem::replace(
                    &mut enc,
                    gpu.device.create_command_encoder(&Default::default()),
                );
                submit(gpu, full, prof.as_deref_mut())?;
                let p = &placed[0];
                let plan = jobs[p.job].0;
                if cpu.is_empty() {
                    if let Some(stage) = plan.stages.get(step) {
                        taps.push(read_stereo(
                            gpu,
                            &audio,
                            chan(p, stage.target(), 0),
                            plan.frames,
                        )?);
                    }
                }
            }
            if cpu.is_empty() {
                continue;
            }
            // CPU fallback: flush, read back, process, re-upload (linear-phase multibands:
            // crossover split on the GPU first, only the band compressors on the CPU)
            let splits: Vec<ConvItem> = cpu
                .iter()
                .map(|(p, buf, _, processor)| ConvItem {
                    processor,
                    offset: chan(p, *buf, 0),
                    frames: jobs[p.job].0.frames as u32,
                })
                .collect();
            let split = self.conv.encode_split(
                gpu,
                &mut enc,
                prof.as_deref_mut(),
                kernels,
                &splits,
                &audio,
            )?;
            let full = std::mem::replace(
                &mut enc,
                gpu.device.create_command_encoder(&Default::default()),
            );
            submit(gpu, full, prof.as_deref_mut())?;
            for (i, (p, buf, sidechain, processor)) in cpu.into_iter().enumerate() {
                let plan = jobs[p.job].0;
                let on_gpu = split.as_ref().and_then(|(b, offs)| Some((b, offs[i]?)));
                let chans = match (on_gpu, &**processor) {
                    (Some((bands, off)), Processor::Multiband(mb)) => {
                        finish_split(gpu, bands, off, mb, plan.frames)?
                    }
                    _ => {
                        let mut chans = read_stereo(gpu, &audio, chan(p, buf, 0), plan.frames)?;
                        let key = match sidechain {
                            Some(k) => Some(read_stereo(gpu, &audio, chan(p, k, 0), plan.frames)?),
                            None => None,
                        };
                        processor.process_cpu(&mut chans, plan.sample_rate, key.as_deref());
                        chans
                    }
                };
                if let Some(taps) = taps.as_deref_mut() {
                    taps.push(chans.clone());
                }
                for (c, ch) in chans.iter().enumerate() {
                    gpu.write(
                        &audio,
                        chan(p, buf, c) as u64 * 4,
                        &ch[..plan.frames.min(ch.len())],
                    );
                }
            }
        }
        submit(gpu, enc, prof)?;
        let mut out = Vec::new();
        for p in &placed {
            let plan = jobs[p.job].0;
            out.push((
                p.job,
                read_stereo(gpu, &audio, chan(p, plan.master, 0), plan.frames)?,
            ));
        }
        Ok(out)
    }
}

/// The constant gain of processors that run on the GPU gain kernel.
fn gpu_gain(p: &Processor) -> Option<f32> {
    #[allow(unreachable_patterns)]
    match p {
        Processor::Trim { gain } => Some(*gain),
        _ => None,
    }
}
