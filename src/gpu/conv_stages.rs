//! The executor's convolution stages: every `Stage::Process` of one step whose processor
//! runs on the convolution engine (`Processor::Reverb`, linear-phase `Processor::Eq`), for
//! all songs of a batch, in ONE set of dispatches (`fft.wgsl` forward over every block of
//! every channel, `convolve.wgsl` multiply-accumulate, inverse), written to a scratch
//! buffer, then put back without a read-back: reverbs through `reverb_mix.wgsl`
//! (`dry · x + wet · w`), EQs by a buffer copy.
//!
//! A linear-phase `Processor::Multiband` gets its crossover split here too (every band of
//! every channel in the same kind of batched convolution, [`ConvStages::encode_split`]); its
//! per-band compressors then run on the CPU after one read-back of the bands
//! ([`finish_split`]). They stay on the CPU because the compressor is a recursion: its
//! envelope follower (attack/release one-pole on the linked level) depends on the previous
//! sample, so a song's band is one sequential walk of millions of samples, which a GPU can
//! only give one invocation per band and song (slow clocks, no caches to speak of), while the
//! read-back is bands × 2 × frames × 4 bytes, small next to the convolution it saved.
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
use crate::ops::crossover::{self, Crossover};
use crate::ops::reverb::gpu::ReverbMixGpu;
use crate::ops::{eq, multiband, reverb, Processor};
use crate::plan::{Planar, PLAN_CHANNELS};

/// The kernels a processor needs on the convolution engine (one per channel; one per band
/// for a linear-phase multiband), or `None` when it has no GPU path here (it then runs on
/// the CPU).
pub fn kernels_of(p: &Processor) -> Option<Vec<&Kernel>> {
    match p {
        Processor::Reverb(rv) => Some((0..PLAN_CHANNELS).map(|c| rv.kernel(c)).collect()),
        Processor::Eq(eq::Eq::LinearPhase { kernel, .. }) => Some(vec![kernel; PLAN_CHANNELS]),
        Processor::Multiband(multiband::Multiband {
            crossover: Crossover::LinearPhase { kernels, .. },
            ..
        }) => Some(kernels.iter().collect()),
        _ => None,
    }
}

/// Whether `p` is split on the GPU and finished on the CPU (linear-phase multiband) rather
/// than run entirely on the GPU.
pub fn is_split(p: &Processor) -> bool {
    matches!(p, Processor::Multiband(_))
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

    /// Kernel-set indices of `p`'s kernels (see [`kernels_of`]), if `p` runs here and all
    /// its kernels were uploaded.
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

/// Crossover bands split on the GPU: the buffer and, per item, its element offset there
/// (`None`: not split on the GPU).
pub type Split = (wgpu::Buffer, Vec<Option<u32>>);

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
        self.mix.encode(gpu, enc, prof, &mixes, &scratch, audio)?;
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

    /// Records the crossover split of every linear-phase multiband `items` (one batched
    /// convolution) into a new buffer, `[item][band][channel][frame]`; returns it with each
    /// item's element offset, or `None` for items that did not fit one binding (the caller
    /// runs those wholly on the CPU).
    pub fn encode_split(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        prof: Option<&mut Profiler>,
        kernels: &RunKernels,
        items: &[ConvItem<'_>],
        audio: &wgpu::Buffer,
    ) -> Result<Option<Split>, Error> {
        let Some(set) = kernels.set.as_ref() else {
            return Ok(None);
        };
        let limit = gpu.max_binding_bytes() / 4;
        let (mut jobs, mut offsets, mut used) = (Vec::new(), Vec::new(), 0u64);
        for it in items {
            let (Some(ids), Processor::Multiband(mb)) = (kernels.ids(it.processor), it.processor)
            else {
                offsets.push(None);
                continue;
            };
            let n = (ids.len() * PLAN_CHANNELS) as u64 * it.frames as u64;
            if n == 0 || used + n > limit {
                offsets.push(None);
                continue;
            }
            let chans: Vec<u32> = (0..PLAN_CHANNELS as u32)
                .map(|c| it.offset + c * it.frames)
                .collect();
            jobs.extend(crossover::gpu::split_jobs(
                &mb.crossover,
                &ids,
                &chans,
                used as u32,
                it.frames,
            ));
            offsets.push(Some(used as u32));
            used += n;
        }
        if jobs.is_empty() {
            return Ok(None);
        }
        let bands = gpu.storage("crossover bands", used * 4)?;
        self.conv
            .encode(gpu, enc, prof, set, &jobs, audio, &bands)?;
        Ok(Some((bands, offsets)))
    }
}

/// Reads back one multiband's split (at element `offset` of `bands`, written by
/// [`ConvStages::encode_split`]) and runs its band compressors and the band sum on the CPU
/// ([`multiband::cpu::compress_and_sum`]); returns the processed stereo buffer.
pub fn finish_split(
    gpu: &Gpu,
    bands: &wgpu::Buffer,
    offset: u32,
    mb: &multiband::Multiband,
    frames: usize,
) -> Result<Planar, Error> {
    let n = mb.crossover.bands();
    let flat: Vec<f32> = gpu.read(bands, offset as u64 * 4, n * PLAN_CHANNELS * frames)?;
    let mut split: Vec<Planar> = flat
        .chunks(PLAN_CHANNELS * frames.max(1))
        .map(|b| b.chunks(frames.max(1)).map(<[f32]>::to_vec).collect())
        .collect();
    let mut out = vec![vec![0.0f32; frames]; PLAN_CHANNELS];
    multiband::cpu::compress_and_sum(&mb.bands, &mut split, &mut out);
    Ok(out)
}
