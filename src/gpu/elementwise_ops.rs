//! The elementwise operators' kernels (`gpu::kernels::ELEMENTWISE`): one pipeline per
//! registered operator, all with one binding layout, the CPU twin's arguments in order —
//! 0 the dispatch [`super::elementwise::Params`], 1 the jobs ([`ElementwiseJob`]: the
//! stage's parameters and the channel), 2 the audio, read and written in place. Entry point:
//! the operator's name. One dispatch per operator and step over every song × channel.

use crate::error::Error;
use crate::gpu::kernels::{ELEMENTWISE, KERNELS};
use crate::gpu::{elementwise, Gpu, Profiler};
use crate::ops::elementwise::{ElementwiseOp, Params};

/// One channel of one song: `audio[offset .. offset + frames]` through the operator.
/// The WGSL struct `ElementwiseJob` of every elementwise kernel.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct ElementwiseJob {
    /// first element of the channel in the audio buffer
    pub offset: u32,
    /// frames
    pub frames: u32,
    /// the channel's index (the CPU twin's `channel`)
    pub channel: u32,
    /// padding to 16 bytes
    pub _pad: u32,
    /// the stage's parameters
    pub params: Params,
}

/// The compiled kernels, in the registry's order.
pub struct ElementwiseGpu {
    pipelines: Vec<wgpu::ComputePipeline>,
}

/// Where `op` sits in the registry.
pub fn index_of(op: &ElementwiseOp) -> usize {
    ELEMENTWISE
        .iter()
        .position(|o| o.name == op.name)
        .expect("elementwise operators come from the registry")
}

impl ElementwiseGpu {
    /// Compiles every registered operator's kernel.
    pub fn new(gpu: &Gpu) -> Result<ElementwiseGpu, Error> {
        let pipelines = ELEMENTWISE
            .iter()
            .map(|op| {
                let k = KERNELS
                    .iter()
                    .find(|k| k.name == op.name)
                    .expect("the registry lists every operator's kernel");
                gpu.pipeline(op.name, k.source, op.name)
            })
            .collect::<Result<_, Error>>()?;
        Ok(ElementwiseGpu { pipelines })
    }

    /// Records `jobs[k]` (the jobs of registry operator `k`) on `audio`, one dispatch per
    /// operator with jobs.
    pub fn encode(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        mut prof: Option<&mut Profiler>,
        jobs: &[Vec<ElementwiseJob>],
        audio: &wgpu::Buffer,
    ) -> Result<(), Error> {
        for ((op, pipeline), jobs) in ELEMENTWISE.iter().zip(&self.pipelines).zip(jobs) {
            elementwise::encode(
                gpu,
                enc,
                prof.as_deref_mut(),
                op.name,
                pipeline,
                jobs,
                |j| j.frames,
                &[audio],
            )?;
        }
        Ok(())
    }
}
