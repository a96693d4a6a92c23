//! Streaming convolution on the GPU: the GPU twin of `ops::convolve::cpu::Stream`, for every
//! `Kind::Convolve` stage (reverb, linear-phase EQ, match EQ, linear-phase crossover split)
//! of a batch of songs, one time chunk at a time, with every lane's state kept on the GPU.
//!
//! A lane (one channel, or one band of one channel, of one stage of one song) owns, in a
//! slot of `gpu::pools`: a ring of `P − 1 + NB` input spectra (the frequency-domain delay line:
//! X_j in slot `j mod ring`, NB = chunk blocks), and two ping-pong regions each of the
//! input staging `[B previous frames | chunk]` and of the output tail (`[pre-delay | chunk]`
//! for a reverb's wet line, the chunk for crossover bands). Per chunk (parity `p`): the
//! previous half-frame and the chunk are copied into staging `p`, `fft.wgsl` transforms the
//! chunk's NB frames into the ring, `convolve.wgsl` sums Y_k = Σ_p X_{k−p}·H_p over the ring
//! (p ascending, `min(P, k + 1)` terms, as the CPU's `mac`), and the inverse writes each
//! block's second half into the channel (Replace), the wet line (then `reverb_mix.wgsl`) or
//! the bands. Same transforms, same sums, same order as the CPU twin: the same bits on an
//! adapter that does not fuse multiply-adds. Lanes of one pool share each dispatch.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

use crate::engine::cpu::CHUNK_FRAMES;
use crate::error::Error;
use crate::gpu::fft::FrameJob;
use crate::gpu::pools::{PoolPlan, Pools, Slot};
use crate::gpu::{dispatch, Gpu, Profiler};
use crate::ops::convolve::gpu::{ConvolveGpu, KernelSet, MacJob, MacParams};
use crate::ops::convolve::{Kernel, BINS, BLOCK_FRAMES, FFT_SIZE};
use crate::ops::reverb::gpu::{ReverbMixGpu, ReverbMixJob};

/// Convolution blocks per time chunk.
pub const NB: usize = CHUNK_FRAMES / BLOCK_FRAMES;

const C: u64 = CHUNK_FRAMES as u64;
const B: u64 = BLOCK_FRAMES as u64;

/// Compiled pipelines: FFT, multiply-accumulate, reverb wet/dry sum.
pub struct ConvStream {
    engine: ConvolveGpu,
    mix: ReverbMixGpu,
}

/// The kernels of one run, uploaded once, deduplicated by content; looked up by the address
/// of the prepared [`Kernel`] (Plans are borrowed for the whole run).
pub struct RunKernels {
    set: Option<KernelSet>,
    index: HashMap<usize, usize>,
}

impl RunKernels {
    /// Index in the uploaded set of `k`, if it was uploaded.
    pub fn id(&self, k: &Kernel) -> Option<usize> {
        self.set.as_ref()?;
        self.index.get(&(k as *const Kernel as usize)).copied()
    }

    /// P of kernel `id`.
    pub fn partitions(&self, id: usize) -> usize {
        self.set.as_ref().map_or(1, |s| s.partitions[id])
    }
}

/// Where a lane's output goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Out {
    /// over its input channel (element offset in the audio buffer)
    Replace,
    /// into its tail, `delay` frames late, then `x = dry · x + wet · tail`
    WetDry {
        /// frames of pre-delay
        delay: u64,
        /// linear dry gain
        dry: f32,
        /// linear wet gain
        wet: f32,
    },
    /// into its tail (crossover bands read back by the host)
    Tail,
}

/// One convolution lane.
#[derive(Debug, Clone, Copy)]
pub struct Lane {
    /// its GPU state
    pub slot: Slot,
    /// uploaded kernel index
    pub kernel: usize,
    /// spectra in its ring: P − 1 + NB
    pub ring: u64,
    /// element offset of its input channel in the audio buffer
    pub input: u64,
    /// where the output goes
    pub out: Out,
}

impl Lane {
    /// Places a lane convolving with kernel `kernel` (P = `parts`) whose input is at
    /// `input`; returns it.
    pub fn place(
        plan: &mut PoolPlan,
        kernel: usize,
        parts: usize,
        input: u64,
        out: Out,
    ) -> Result<Lane, Error> {
        let ring = (parts - 1 + NB) as u64;
        let tail = match out {
            Out::Replace => 0,
            Out::WetDry { delay, .. } => delay + C,
            Out::Tail => C,
        };
        Ok(Lane {
            slot: plan.place(ring * BINS as u64, C + B, tail)?,
            kernel,
            ring,
            input,
            out,
        })
    }
}

impl ConvStream {
    /// Compiles the pipelines.
    pub fn new(gpu: &Gpu) -> Result<ConvStream, Error> {
        Ok(ConvStream {
            engine: ConvolveGpu::new(gpu)?,
            mix: ReverbMixGpu::new(gpu)?,
        })
    }

    /// Uploads the distinct `kernels` into one buffer, in first-seen order, while they fit
    /// one binding (`limit_bytes`); stages whose kernels did not fit run on the host.
    pub fn upload<'a>(
        &self,
        gpu: &Gpu,
        kernels: impl Iterator<Item = &'a Kernel>,
        limit_bytes: u64,
    ) -> Result<RunKernels, Error> {
        let bits = |k: &Kernel| bytemuck::cast_slice::<[f32; 2], u32>(&k.spectra).to_vec();
        let (mut unique, mut index) = (Vec::<&Kernel>::new(), HashMap::new());
        let mut by_hash: HashMap<u64, Vec<usize>> = HashMap::new();
        let mut bytes = 0u64;
        for k in kernels {
            let addr = k as *const Kernel as usize;
            if index.contains_key(&addr) {
                continue;
            }
            let mut h = std::collections::hash_map::DefaultHasher::new();
            k.len_frames.hash(&mut h);
            bits(k).hash(&mut h);
            let same = by_hash.entry(h.finish()).or_default();
            let found = same
                .iter()
                .copied()
                .find(|&i| unique[i].len_frames == k.len_frames && bits(unique[i]) == bits(k));
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
        let set = if unique.is_empty() {
            None
        } else {
            Some(self.engine.upload_kernels(gpu, &unique)?)
        };
        Ok(RunKernels { set, index })
    }

    /// Records chunk `t` (stream frames `t·C ..`) of every lane in `lanes`: staging copies,
    /// forward transforms into the rings, multiply-accumulate, inverse transforms, reverb
    /// sums. `y` is a scratch of at least one lane's NB spectra.
    #[allow(clippy::too_many_arguments)]
    pub fn encode_chunk(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        mut prof: Option<&mut Profiler>,
        kernels: &RunKernels,
        pools: &Pools,
        lanes: &[Lane],
        audio: &wgpu::Buffer,
        y: &wgpu::Buffer,
        t: usize,
    ) -> Result<(), Error> {
        let Some(set) = kernels.set.as_ref() else {
            return Ok(());
        };
        if lanes.is_empty() {
            return Ok(());
        }
        let (p, q) = (t % 2, 1 - t % 2);
        let m = t * NB;
        let mut by_pool: BTreeMap<usize, Vec<&Lane>> = BTreeMap::new();
        for l in lanes {
            let pb = &pools.pools[l.slot.pool];
            let s = l.slot.stage * 4;
            enc.copy_buffer_to_buffer(&pb.stage[q], s + C * 4, &pb.stage[p], s, B * 4);
            enc.copy_buffer_to_buffer(audio, l.input * 4, &pb.stage[p], s + B * 4, C * 4);
            if let Out::WetDry { delay, .. } = l.out {
                if delay > 0 {
                    let o = l.slot.out * 4;
                    enc.copy_buffer_to_buffer(&pb.out[q], o + C * 4, &pb.out[p], o, delay * 4);
                }
            }
            by_pool.entry(l.slot.pool).or_default().push(l);
        }
        let per_y = (y.size() / (NB * BINS * 8) as u64).max(1) as usize;
        for (pool, all) in by_pool {
            let pb = &pools.pools[pool];
            for group in all.chunks(per_y) {
                let (mut fwd, mut macs, mut inv_audio, mut inv_tail) =
                    (vec![], vec![], vec![], vec![]);
                for (g, l) in group.iter().enumerate() {
                    let parts = set.partitions[l.kernel];
                    for i in 0..NB {
                        let k = m + i;
                        let slot = (k as u64 % l.ring) as u32;
                        fwd.push(FrameJob {
                            signal_offset: l.slot.stage as u32,
                            signal_len: (C + B) as u32,
                            frame_start: (i * BLOCK_FRAMES) as i32,
                            spectrum_offset: (l.slot.x + slot as u64 * BINS as u64) as u32,
                        });
                        let y_offset = ((g * NB + i) * BINS) as u32;
                        macs.push(MacJob {
                            y_offset,
                            x_base: l.slot.x as u32,
                            x_slot: slot,
                            ring: l.ring as u32,
                            h_offset: set.offsets[l.kernel],
                            terms: parts.min(k + 1) as u32,
                            _pad: [0; 2],
                        });
                        let (to, list) = match l.out {
                            Out::Replace => (l.input, &mut inv_audio),
                            Out::WetDry { delay, .. } => (l.slot.out + delay, &mut inv_tail),
                            Out::Tail => (l.slot.out, &mut inv_tail),
                        };
                        list.push(FrameJob {
                            signal_offset: to as u32,
                            signal_len: C as u32,
                            frame_start: (i * BLOCK_FRAMES) as i32,
                            spectrum_offset: y_offset,
                        });
                    }
                }
                let fft = &self.engine.fft;
                fft.encode_forward(gpu, enc, prof.as_deref_mut(), &fwd, &pb.stage[p], &pb.x)?;
                let u = gpu.uniform(
                    "mac params",
                    &MacParams {
                        n_jobs: macs.len() as u32,
                        _pad: [0; 3],
                    },
                )?;
                let jb = gpu.upload("mac jobs", &macs)?;
                let mac = &self.engine.mac;
                let bg = gpu.bind(mac, &[&u, &pb.x, &set.buffer, &jb, y]);
                let groups = (macs.len() * BINS).div_ceil(256) as u64;
                dispatch(
                    gpu,
                    enc,
                    prof.as_deref_mut(),
                    "convolve/mac",
                    mac,
                    &bg,
                    groups,
                )?;
                let keep = BLOCK_FRAMES..FFT_SIZE;
                fft.encode_inverse(
                    gpu,
                    enc,
                    prof.as_deref_mut(),
                    &inv_audio,
                    keep.clone(),
                    y,
                    audio,
                )?;
                fft.encode_inverse(
                    gpu,
                    enc,
                    prof.as_deref_mut(),
                    &inv_tail,
                    keep,
                    y,
                    &pb.out[p],
                )?;
            }
            let mixes: Vec<ReverbMixJob> = lanes
                .iter()
                .filter(|l| l.slot.pool == pool)
                .filter_map(|l| match l.out {
                    Out::WetDry { dry, wet, .. } => Some(ReverbMixJob {
                        audio_offset: l.input as u32,
                        wet_offset: l.slot.out as u32,
                        frames: C as u32,
                        dry,
                        wet,
                        _pad: [0; 3],
                    }),
                    _ => None,
                })
                .collect();
            self.mix
                .encode(gpu, enc, prof.as_deref_mut(), &mixes, &pb.out[p], audio)?;
        }
        Ok(())
    }
}
