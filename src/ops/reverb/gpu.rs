//! GPU twin of [`super::cpu::process`]: the wet signal comes from the batched convolution
//! engine ([`crate::ops::convolve::gpu`], `shaders/convolve.wgsl`) written pre-delayed into
//! a scratch buffer, then `shaders/reverb_mix.wgsl` forms `dry · x + wet · w` in place, for
//! many channels of many songs per dispatch. Nothing is read back.

use super::Reverb;
use crate::error::Error;
use crate::gpu::{elementwise, Gpu, Profiler};
use crate::ops::convolve::gpu::ConvolveJob;

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

/// The jobs of one reverb stage on one song's stereo buffer: per channel `c`, the
/// convolution of the channel (element offset `audio_offsets[c]`, `frames` long) with
/// kernel `kernel_ids[c]` written `pre_delay` frames late into the scratch channel at
/// `wet_offsets[c]` (whose first `pre_delay` frames the caller zeroes), then the mix.
pub fn stage_jobs(
    rv: &Reverb,
    kernel_ids: &[usize],
    audio_offsets: &[u32],
    wet_offsets: &[u32],
    frames: u32,
) -> (Vec<ConvolveJob>, Vec<ReverbMixJob>) {
    let d = (rv.pre_delay_frames as u32).min(frames);
    let mut conv = Vec::new();
    let mut mix = Vec::new();
    for ((&k, &a), &w) in kernel_ids.iter().zip(audio_offsets).zip(wet_offsets) {
        conv.push(ConvolveJob {
            input_offset: a,
            input_frames: frames,
            kernel: k,
            window_offset: 0,
            output_offset: w + d,
            output_frames: frames - d,
        });
        mix.push(ReverbMixJob {
            audio_offset: a,
            wet_offset: w,
            frames,
            dry: rv.dry,
            wet: rv.wet,
            _pad: [0; 3],
        });
    }
    (conv, mix)
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
