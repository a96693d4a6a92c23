//! GPU twin of [`super::cpu`]: `shaders/gain.wgsl`, many channels of many songs per dispatch.

use crate::error::Error;
use crate::gpu::{elementwise, Gpu, Profiler};

/// Shader source.
pub const SHADER: &str = crate::gpu::kernels::source("gain");

/// One channel: `audio[offset .. offset + frames] *= gain`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct GainJob {
    /// first element of the channel in the audio buffer
    pub offset: u32,
    /// frames
    pub frames: u32,
    /// linear gain
    pub gain: f32,
    /// padding to 16 bytes
    pub _pad: u32,
}

/// The compiled `gain` kernel.
pub struct GainGpu {
    pipeline: wgpu::ComputePipeline,
}

impl GainGpu {
    /// Compiles `gain.wgsl`.
    pub fn new(gpu: &Gpu) -> Result<GainGpu, Error> {
        Ok(GainGpu {
            pipeline: gpu.pipeline("gain", SHADER, "gain")?,
        })
    }

    /// Records `jobs` on `audio` in one dispatch.
    pub fn encode(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        prof: Option<&mut Profiler>,
        jobs: &[GainJob],
        audio: &wgpu::Buffer,
    ) -> Result<(), Error> {
        elementwise::encode(
            gpu,
            enc,
            prof,
            "gain",
            &self.pipeline,
            jobs,
            |j| j.frames,
            &[audio],
        )
    }
}
