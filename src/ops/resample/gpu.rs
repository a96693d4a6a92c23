//! GPU twin of [`super::cpu`]: `shaders/resample.wgsl` converts a master kept on the GPU
//! ([`Resident`], two channels) into a new kept master at the other rate, in pieces of
//! output whose input windows and outputs each fit one storage binding: each piece's input
//! window is copied on the device into a scratch buffer (zeros outside the signal), the
//! kernel writes the piece, and the piece is copied into the new master.

use crate::error::Error;
use crate::gpu::{dispatch, Gpu, Resident};
use crate::plan::PLAN_CHANNELS;

use super::Filter;

/// Shader source.
pub const SHADER: &str = crate::gpu::kernels::source("resample");

/// Threads per workgroup (one output frame each).
const THREADS: usize = 256;

#[repr(C)]
#[derive(Debug, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    up: u32,
    down: u32,
    taps: u32,
    first: u32,
    frames: u32,
    in_len: u32,
    in_first: i32,
    groups: u32,
}

/// The compiled `resample` kernel.
pub struct ResampleGpu {
    pipeline: wgpu::ComputePipeline,
}

impl ResampleGpu {
    /// Compiles `resample.wgsl`.
    pub fn new(gpu: &Gpu) -> Result<ResampleGpu, Error> {
        Ok(ResampleGpu {
            pipeline: gpu.pipeline("resample", SHADER, "resample")?,
        })
    }

    /// `input` converted by `filter` into a new kept master of `frames` frames.
    pub fn run(
        &self,
        gpu: &Gpu,
        filter: &Filter,
        input: &Resident,
        frames: usize,
    ) -> Result<Resident, Error> {
        self.run_in_pieces(gpu, filter, input, frames, usize::MAX)
    }

    /// [`ResampleGpu::run`] in pieces of at most `most` output frames (fewer where one
    /// binding holds less).
    pub fn run_in_pieces(
        &self,
        gpu: &Gpu,
        filter: &Filter,
        input: &Resident,
        frames: usize,
        most: usize,
    ) -> Result<Resident, Error> {
        use wgpu::BufferUsages as U;
        let out = gpu.buffer(
            "kept master",
            Resident::bytes_for(frames),
            U::COPY_DST | U::COPY_SRC,
        )?;
        if frames == 0 {
            return Ok(Resident::new(out, 0));
        }
        let (up, down, taps) = (filter.up, filter.down, filter.taps);
        // a piece of `piece` output frames reads at most piece·down/up + taps + 1 input
        // frames; both channels of either side fit one binding
        let per = (gpu.max_binding_bytes() / (4 * PLAN_CHANNELS) as u64) as usize;
        let by_input = (per.saturating_sub(taps + 2) * up / down).max(1);
        let piece = per.min(by_input).min(frames).min(most).max(1);
        let window = |j0: usize, n: usize| {
            let first = filter.position(j0).0 as i64 + 1 - (taps / 2) as i64;
            let last = filter.position(j0 + n - 1).0 as i64 + (taps / 2) as i64;
            (first, (last - first + 1) as usize)
        };
        // n_j grows by at most (n − 1)·down/up + 1 over a piece of n frames
        let in_len_max = (piece - 1) * down / up + 2 + taps;
        let coef = gpu.upload("resample coefficients", &filter.coef)?;
        let scratch_in = gpu.storage("resample input", (PLAN_CHANNELS * in_len_max * 4) as u64)?;
        let scratch_out = gpu.storage("resample output", (PLAN_CHANNELS * piece * 4) as u64)?;
        let n_in = input.frames() as i64;
        let mut j0 = 0;
        while j0 < frames {
            let n = piece.min(frames - j0);
            let (in_first, in_len) = window(j0, n);
            let mut enc = gpu.device.create_command_encoder(&Default::default());
            enc.clear_buffer(&scratch_in, 0, None);
            let (lo, hi) = (in_first.max(0), (in_first + in_len as i64).min(n_in));
            for c in 0..PLAN_CHANNELS {
                if lo < hi {
                    let to = ((c * in_len) as i64 + lo - in_first) as u64 * 4;
                    let src = input.offset(c, lo as usize);
                    enc.copy_buffer_to_buffer(
                        &input.buffer,
                        src,
                        &scratch_in,
                        to,
                        (hi - lo) as u64 * 4,
                    );
                }
            }
            let groups = n.div_ceil(THREADS);
            let params = Params {
                up: up as u32,
                down: down as u32,
                taps: taps as u32,
                first: j0 as u32,
                frames: n as u32,
                in_len: in_len as u32,
                in_first: in_first as i32,
                groups: groups as u32,
            };
            let u = gpu.uniform("resample", &params)?;
            let bg = gpu.bind(&self.pipeline, &[&u, &coef, &scratch_in, &scratch_out]);
            dispatch(
                gpu,
                &mut enc,
                None,
                "resample",
                &self.pipeline,
                &bg,
                (PLAN_CHANNELS * groups) as u64,
            )?;
            for c in 0..PLAN_CHANNELS {
                let from = (c * n * 4) as u64;
                let to = ((c * frames + j0) * 4) as u64;
                enc.copy_buffer_to_buffer(&scratch_out, from, &out, to, (n * 4) as u64);
            }
            gpu.queue.submit([enc.finish()]);
            gpu.wait()?;
            j0 += n;
        }
        Ok(Resident::new(out, frames))
    }
}
