//! GPU twin of [`super::cpu`]: `shaders/mix.wgsl`, `dst += gain · src` for many channels of
//! many songs per dispatch (both regions of one audio buffer).

use crate::error::Error;
use crate::gpu::{elementwise, Gpu, Profiler};

/// Shader source.
pub const SHADER: &str = crate::gpu::kernels::source("mix");

/// One channel: `audio[dst_offset + i] += gain * audio[src_offset + i]`, `i < frames`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct MixJob {
    /// destination channel
    pub dst_offset: u32,
    /// source channel
    pub src_offset: u32,
    /// frames
    pub frames: u32,
    /// linear gain
    pub gain: f32,
}

/// The compiled `mix` kernel.
pub struct MixGpu {
    pipeline: wgpu::ComputePipeline,
}

impl MixGpu {
    /// Compiles `mix.wgsl`.
    pub fn new(gpu: &Gpu) -> Result<MixGpu, Error> {
        Ok(MixGpu {
            pipeline: gpu.pipeline("mix", SHADER, "mix")?,
        })
    }

    /// Records `jobs` on `audio` in one dispatch. Jobs of one dispatch must not write a
    /// region another job of the same dispatch reads or writes (the executor puts one
    /// stage per song per dispatch).
    pub fn encode(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        prof: Option<&mut Profiler>,
        jobs: &[MixJob],
        audio: &wgpu::Buffer,
    ) -> Result<(), Error> {
        elementwise::encode(
            gpu,
            enc,
            prof,
            "mix",
            &self.pipeline,
            jobs,
            |j| j.frames,
            &[audio],
        )
    }
}
