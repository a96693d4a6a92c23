//! GPU side of the Plan's `Load` stage (`shaders/load.wgsl`): copies decoded source channels
//! into song buffers, zero-padded to the song length.

use crate::error::Error;
use crate::gpu::{elementwise, Gpu, Profiler};

/// Shader source.
pub const SHADER: &str = crate::gpu::kernels::source("load");

/// One destination channel (offsets in f32 elements).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct LoadJob {
    /// destination channel in the audio buffer
    pub dst_offset: u32,
    /// source channel in the sources buffer
    pub src_offset: u32,
    /// source frames (copied)
    pub src_frames: u32,
    /// destination frames (the rest is zeroed)
    pub dst_frames: u32,
}

/// The compiled `load` kernel.
pub struct LoadGpu {
    pipeline: wgpu::ComputePipeline,
}

impl LoadGpu {
    /// Compiles `load.wgsl`.
    pub fn new(gpu: &Gpu) -> Result<LoadGpu, Error> {
        Ok(LoadGpu {
            pipeline: gpu.pipeline("load", SHADER, "load")?,
        })
    }

    /// Records the copies of `jobs` from `sources` into `audio`.
    pub fn encode(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        prof: Option<&mut Profiler>,
        jobs: &[LoadJob],
        sources: &wgpu::Buffer,
        audio: &wgpu::Buffer,
    ) -> Result<(), Error> {
        elementwise::encode(
            gpu,
            enc,
            prof,
            "load",
            &self.pipeline,
            jobs,
            |j| j.dst_frames,
            &[sources, audio],
        )
    }
}
