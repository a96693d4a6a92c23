//! GPU twin of [`super::cpu`]: `shaders/envelope.wgsl`, gain curves as [`Segment`]s for many
//! channels of many songs per dispatch (binary search of the segment per frame).

use super::Segment;
use crate::error::Error;
use crate::gpu::{elementwise, Gpu, Profiler};

/// Shader source.
pub const SHADER: &str = crate::gpu::kernels::source("envelope");

/// One channel and its curve: `segments[seg_first .. seg_first + seg_count]` (sorted).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct EnvelopeJob {
    /// first element of the channel in the audio buffer
    pub offset: u32,
    /// frames
    pub frames: u32,
    /// first segment of the curve in the segments buffer
    pub seg_first: u32,
    /// segments of the curve
    pub seg_count: u32,
}

/// The compiled `envelope` kernel.
pub struct EnvelopeGpu {
    pipeline: wgpu::ComputePipeline,
}

impl EnvelopeGpu {
    /// Compiles `envelope.wgsl`.
    pub fn new(gpu: &Gpu) -> Result<EnvelopeGpu, Error> {
        Ok(EnvelopeGpu {
            pipeline: gpu.pipeline("envelope", SHADER, "envelope")?,
        })
    }

    /// Records `jobs` on `audio` in one dispatch; `segments` holds every job's curve.
    pub fn encode(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        prof: Option<&mut Profiler>,
        jobs: &[EnvelopeJob],
        segments: &[Segment],
        audio: &wgpu::Buffer,
    ) -> Result<(), Error> {
        if jobs.is_empty() {
            return Ok(());
        }
        let segs = gpu.upload("envelope segments", segments)?;
        elementwise::encode(
            gpu,
            enc,
            prof,
            "envelope",
            &self.pipeline,
            jobs,
            |j| j.frames,
            &[&segs, audio],
        )
    }
}

/// Adds the job of one channel (element `offset`, `frames` long) whose curve is `segments`
/// to a dispatch's `jobs` and `segs`.
pub fn push_job(
    jobs: &mut Vec<EnvelopeJob>,
    segs: &mut Vec<Segment>,
    offset: u32,
    frames: u32,
    segments: Vec<Segment>,
) {
    jobs.push(EnvelopeJob {
        offset,
        frames,
        seg_first: segs.len() as u32,
        seg_count: segments.len() as u32,
    });
    segs.extend(segments);
}
