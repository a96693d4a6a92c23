//! GPU twin of [`super::cpu::mix`]: `shaders/reverb_mix.wgsl` forms `dry · x + wet · w` in
//! place, for many channels of many songs per dispatch, after the streaming convolution
//! (`gpu::conv_stream`) wrote the wet signal, pre-delayed, into its line. Nothing is read
//! back.

use crate::error::Error;
use crate::gpu::{elementwise, Gpu, Profiler};

/// Shader source of the wet/dry sum.
pub const SHADER: &str = crate::gpu::kernels::source("reverb_mix");

/// One channel: `audio[audio_offset + i] = dry · audio[audio_offset + i] + wet ·
/// wet_buf[wet_offset + i]`, `i < frames`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct ReverbMixJob {
    /// first element of the channel in the audio buffer
    pub audio_offset: u32,
    /// first element of the wet channel in the scratch buffer
    pub wet_offset: u32,
    /// frames
    pub frames: u32,
    /// linear dry gain
    pub dry: f32,
    /// linear wet gain
    pub wet: f32,
    /// padding to 32 bytes
    pub _pad: [u32; 3],
}

/// The compiled `reverb_mix` kernel.
pub struct ReverbMixGpu {
    pipeline: wgpu::ComputePipeline,
}

impl ReverbMixGpu {
    /// Compiles `reverb_mix.wgsl`.
    pub fn new(gpu: &Gpu) -> Result<ReverbMixGpu, Error> {
        Ok(ReverbMixGpu {
            pipeline: gpu.pipeline("reverb mix", SHADER, "reverb_mix")?,
        })
    }

    /// Records `jobs` in one dispatch (`wet` read, `audio` written in place; jobs must not
    /// overlap in `audio`).
    pub fn encode(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        prof: Option<&mut Profiler>,
        jobs: &[ReverbMixJob],
        wet: &wgpu::Buffer,
        audio: &wgpu::Buffer,
    ) -> Result<(), Error> {
        elementwise::encode(
            gpu,
            enc,
            prof,
            "reverb/mix",
            &self.pipeline,
            jobs,
            |j| j.frames,
            &[wet, audio],
        )
    }
}
