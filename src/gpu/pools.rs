//! GPU state that streams carry between time chunks: pools of buffers, each within one
//! storage binding, holding every convolution lane's spectra ring, input staging and output
//! tail, and the latency-compensation delay lines ([`Pools::encode_delay`]). The staging
//! and tail regions are ping-ponged by chunk parity (a copy never reads and writes one
//! buffer). Placed once per batch ([`PoolPlan`]), zeroed at creation (silence before every
//! song).

use crate::engine::cpu::CHUNK_FRAMES;
use crate::error::Error;
use crate::gpu::conv_stream::Lane;
use crate::gpu::Gpu;

const C: u64 = CHUNK_FRAMES as u64;

/// Where a lane's (or a delay line's) GPU state lives: its pool and its offsets there.
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    /// pool index
    pub pool: usize,
    /// first bin of the spectra ring
    pub x: u64,
    /// first element of the staging region (in each of the two staging buffers)
    pub stage: u64,
    /// first element of the output tail region (in each of the two tail buffers)
    pub out: u64,
}

/// Buffers of one pool (each within one binding).
pub(crate) struct PoolBufs {
    /// the lanes' spectra rings
    pub(crate) x: wgpu::Buffer,
    /// input staging, by chunk parity
    pub(crate) stage: [wgpu::Buffer; 2],
    /// output tails and delay lines, by chunk parity
    pub(crate) out: [wgpu::Buffer; 2],
}

/// Places slots into pools whose buffers each stay within a binding.
pub struct PoolPlan {
    cap_bins: u64,
    cap_f32: u64,
    used: Vec<[u64; 3]>,
}

impl PoolPlan {
    /// Pools for an adapter whose bindings hold `limit_bytes`.
    pub fn new(limit_bytes: u64) -> PoolPlan {
        PoolPlan {
            cap_bins: limit_bytes / 8,
            cap_f32: limit_bytes / 4,
            used: Vec::new(),
        }
    }

    /// A slot of `x` bins of ring, `stage` and `out` elements (each ping-ponged).
    pub fn place(&mut self, x: u64, stage: u64, out: u64) -> Result<Slot, Error> {
        if x > self.cap_bins || stage.max(out) > self.cap_f32 {
            return Err(Error::Gpu {
                reason: format!("a convolution lane needs {x} spectra bins, over one binding"),
                retryable: false,
            });
        }
        let fits = |u: &[u64; 3]| {
            u[0] + x <= self.cap_bins && u[1] + stage <= self.cap_f32 && u[2] + out <= self.cap_f32
        };
        if !self.used.last().is_some_and(fits) {
            self.used.push([0; 3]);
        }
        let pool = self.used.len() - 1;
        let u = &mut self.used[pool];
        let slot = Slot {
            pool,
            x: u[0],
            stage: u[1],
            out: u[2],
        };
        *u = [u[0] + x, u[1] + stage, u[2] + out];
        Ok(slot)
    }

    /// Bytes the placed slots take on the GPU.
    pub fn bytes(&self) -> u64 {
        self.used
            .iter()
            .map(|u| u[0] * 8 + 2 * 4 * (u[1] + u[2]))
            .sum()
    }

    /// Creates the pools (zeroed: silence before every song).
    pub fn create(self, gpu: &Gpu) -> Result<Pools, Error> {
        let pools = self
            .used
            .iter()
            .map(|u| {
                Ok(PoolBufs {
                    x: gpu.storage("convolution rings", u[0] * 8)?,
                    stage: [
                        gpu.storage("convolution staging", u[1] * 4)?,
                        gpu.storage("convolution staging", u[1] * 4)?,
                    ],
                    out: [
                        gpu.storage("stream tails", u[2] * 4)?,
                        gpu.storage("stream tails", u[2] * 4)?,
                    ],
                })
            })
            .collect::<Result<_, Error>>()?;
        Ok(Pools { pools })
    }
}

/// The GPU state of one batch's lanes and delay lines.
pub struct Pools {
    pub(crate) pools: Vec<PoolBufs>,
}

impl Pools {
    /// Records a copy of chunk `t`'s tail of `lane` (its crossover band, `C` frames) to
    /// byte `to` of `dst`, on the GPU.
    pub fn copy_tail(
        &self,
        enc: &mut wgpu::CommandEncoder,
        lane: &Lane,
        t: usize,
        dst: &wgpu::Buffer,
        to: u64,
    ) {
        let pb = &self.pools[lane.slot.pool];
        enc.copy_buffer_to_buffer(&pb.out[t % 2], lane.slot.out * 4, dst, to, C * 4);
    }

    /// Records a delay of `frames` on the channel at element `input` of `audio` (chunk `t`),
    /// its line in the tail of `slot` (`frames + C` elements): the previous chunk's last
    /// `frames` frames, then this chunk, of which the first `C` go back to `audio`.
    pub fn encode_delay(
        &self,
        enc: &mut wgpu::CommandEncoder,
        slot: &Slot,
        frames: u64,
        input: u64,
        audio: &wgpu::Buffer,
        t: usize,
    ) {
        let (p, q) = (t % 2, 1 - t % 2);
        let pb = &self.pools[slot.pool];
        let o = slot.out * 4;
        enc.copy_buffer_to_buffer(&pb.out[q], o + C * 4, &pb.out[p], o, frames * 4);
        enc.copy_buffer_to_buffer(audio, input * 4, &pb.out[p], o + frames * 4, C * 4);
        enc.copy_buffer_to_buffer(&pb.out[p], o, audio, input * 4, C * 4);
    }
}
