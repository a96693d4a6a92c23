//! The executor's convolution stages: every `Stage::Process` of one step whose processor
//! runs on the convolution engine (`Processor::Reverb`, linear-phase `Processor::Eq`), for
//! all songs of a batch, in ONE set of dispatches (`fft.wgsl` forward over every block of
//! every channel, `convolve.wgsl` multiply-accumulate, inverse), written to a scratch
//! buffer, then put back without a read-back: reverbs through `reverb_mix.wgsl`
//! (`dry · x + wet · w`), EQs by a buffer copy.
//!
//! Kernels are uploaded once per `Renderer::run` ([`RunKernels`]): keyed by the address of
//! the prepared `Kernel` (plans are borrowed for the whole run) and deduplicated by content,
//! so a catalogue sharing one IR uploads it once.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use crate::error::Error;
use crate::gpu::{Gpu, Profiler};
use crate::ops::convolve::gpu::{ConvolveGpu, KernelSet};
use crate::ops::convolve::Kernel;
use crate::ops::reverb::gpu::ReverbMixGpu;
use crate::ops::{eq, reverb, Processor};
use crate::plan::PLAN_CHANNELS;

/// The kernels a processor needs on the convolution engine, one per channel, or `None`
/// when it has no GPU path here (it then runs on the CPU).
pub fn kernels_of(p: &Processor) -> Option<Vec<&Kernel>> {
    match p {
        Processor::Reverb(rv) => Some((0..PLAN_CHANNELS).map(|c| rv.kernel(c)).collect()),
        Processor::Eq(eq::Eq::LinearPhase { kernel, .. }) => Some(vec![kernel; PLAN_CHANNELS]),
        _ => None,
    }
}

/// The kernels of one `Renderer::run`, uploaded once.
pub struct RunKernels {
    set: Option<KernelSet>,
    index: HashMap<usize, usize>,
}

impl RunKernels {
    /// No kernels (every convolution processor falls back to the CPU).
    pub fn none() -> RunKernels {
        RunKernels {
            set: None,
            index: HashMap::new(),
        }
    }

    /// Kernel-set indices of `p`'s per-channel kernels, if `p` runs here and all its kernels
    /// were uploaded.
    pub fn ids(&self, p: &Processor) -> Option<Vec<usize>> {
        self.set.as_ref()?;
        kernels_of(p)?
            .iter()
            .map(|k| self.index.get(&(*k as *const Kernel as usize)).copied())
            .collect()
    }
}

/// One convolution stage of one song at this step: the processor, the element offset of
/// channel 0 of its buffer (channels back to back) and the buffer's frames.
pub struct ConvItem<'a> {
    /// a processor [`RunKernels::ids`] accepts
    pub processor: &'a Processor,
    /// element offset of channel 0 in the audio buffer
    pub offset: u32,
    /// frames per channel
    pub frames: u32,
}

/// Compiled pipelines of the convolution stages.
pub struct ConvStages {
    conv: ConvolveGpu,
    mix: ReverbMixGpu,
}

impl ConvStages {
    /// Compiles the convolution engine and the reverb mix kernel.
    pub fn new(gpu: &Gpu) -> Result<ConvStages, Error> {
        Ok(ConvStages {
            conv: ConvolveGpu::new(gpu)?,
            mix: ReverbMixGpu::new(gpu)?,
        })
    }

    /// Uploads the distinct kernels of `processors` into one buffer, in first-seen order,
    /// while they fit one binding (`limit_bytes`); processors whose kernels did not fit
    /// run on the CPU.
    pub fn upload<'a>(
        &self,
        gpu: &Gpu,
        processors: impl Iterator<Item = &'a Processor>,
        limit_bytes: u64,
    ) -> Result<RunKernels, Error> {
        let mut unique: Vec<&Kernel> = Vec::new();
        let mut by_hash: HashMap<u64, Vec<usize>> = HashMap::new();
        let mut index = HashMap::new();
        let mut bytes = 0u64;
        for k in processors.filter_map(kernels_of).flatten() {
            let addr = k as *const Kernel as usize;
            if index.contains_key(&addr) {
                continue;
            }
            let mut h = std::collections::hash_map::DefaultHasher::new();
            k.len_frames.hash(&mut h);
            bytemuck::cast_slice::<[f32; 2], u32>(&k.spectra).hash(&mut h);
            let same = by_hash.entry(h.finish()).or_default();
            let found = same.iter().copied().find(|&i| {
                unique[i].len_frames == k.len_frames
                    && bytemuck::cast_slice::<[f32; 2], u32>(&unique[i].spectra)
                        == bytemuck::cast_slice::<[f32; 2], u32>(&k.spectra)
            });
            let id = match found {
                Some(i) => i,
                None => {
                    let b = (k.spectra.len() * 8) as u64;
                    if bytes + b > limit_bytes {
                        continue;
                    }
                    bytes += b;
                    unique.push(k);
                    same.push(unique.len() - 1);
                    unique.len() - 1
                }
            };
            index.insert(addr, id);
        }
        if unique.is_empty() {
            return Ok(RunKernels::none());
        }
        Ok(RunKernels {
            set: Some(self.conv.upload_kernels(gpu, &unique)?),
            index,
        })
    }

    /// Records every item of one step: one batched convolution into a scratch buffer
    /// (input and output never alias, so the engine's scratch batching is safe), then one
    /// reverb mix dispatch and one copy per EQ'd buffer.
    pub fn encode_step(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        mut prof: Option<&mut Profiler>,
        kernels: &RunKernels,
        items: &[ConvItem<'_>],
        audio: &wgpu::Buffer,
    ) -> Result<(), Error> {
        let Some(set) = kernels.set.as_ref() else {
            return Ok(());
        };
        let total: u64 = items
            .iter()
            .map(|it| (PLAN_CHANNELS as u64) * it.frames as u64)
            .sum();
        if total == 0 {
            return Ok(());
        }
        let scratch = gpu.storage("convolve stage scratch", total * 4)?;
        let (mut conv, mut mixes, mut copies) = (Vec::new(), Vec::new(), Vec::new());
        let mut s = 0u32;
        for it in items {
            let ids = kernels.ids(it.processor).ok_or_else(|| Error::Gpu {
                reason: format!("{} stage has no uploaded kernel", it.processor.op_name()),
                retryable: false,
            })?;
            let chans: Vec<u32> = (0..PLAN_CHANNELS as u32)
                .map(|c| it.offset + c * it.frames)
                .collect();
            let outs: Vec<u32> = (0..PLAN_CHANNELS as u32)
                .map(|c| s + c * it.frames)
                .collect();
            match it.processor {
                Processor::Reverb(rv) => {
                    let (c, m) = reverb::gpu::stage_jobs(rv, &ids, &chans, &outs, it.frames);
                    conv.extend(c);
                    mixes.extend(m);
                }
                Processor::Eq(e) => {
                    for c in 0..PLAN_CHANNELS {
                        conv.extend(eq::gpu::channel_job(
                            e, ids[c], chans[c], outs[c], it.frames,
                        ));
                    }
                    copies.push((s, it.offset, PLAN_CHANNELS as u32 * it.frames));
                }
                _ => {}
            }
            s += PLAN_CHANNELS as u32 * it.frames;
        }
        // wgpu zero-initialises new buffers: the reverbs' pre-delay heads are already 0
        self.conv
            .encode(gpu, enc, prof.as_deref_mut(), set, &conv, audio, &scratch)?;
        self.mix
            .encode(gpu, enc, prof.as_deref_mut(), &mixes, &scratch, audio)?;
        for (from, to, n) in copies {
            enc.copy_buffer_to_buffer(
                &scratch,
                from as u64 * 4,
                audio,
                to as u64 * 4,
                n as u64 * 4,
            );
        }
        Ok(())
    }
}
