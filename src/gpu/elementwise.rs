//! Shared dispatch of the element-wise kernels (`gain`, `mix`, `envelope`, `load` shaders):
//! one job per channel, [`FRAMES_PER_GROUP`] frames per workgroup, workgroup `w` serving job
//! `w / groups_per_job`. Bindings: 0 [`Params`], 1 the jobs, then the kernel's other buffers
//! (read-only inputs first, the read/write audio last).

use crate::error::Error;
use crate::gpu::{dispatch, Gpu, Profiler};

/// Frames handled by one workgroup (256 threads × 4).
pub const FRAMES_PER_GROUP: u32 = 1024;

/// Uniform parameters shared by the element-wise kernels (binding 0).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Params {
    /// jobs in the dispatch
    pub n_jobs: u32,
    /// workgroups per job: ceil(longest job / FRAMES_PER_GROUP)
    pub groups_per_job: u32,
    /// padding to 16 bytes
    pub _pad: [u32; 2],
}

/// Records one dispatch of `pipeline` over `jobs` (each `frames_of(job)` long).
#[allow(clippy::too_many_arguments)]
pub fn encode<J: bytemuck::Pod>(
    gpu: &Gpu,
    enc: &mut wgpu::CommandEncoder,
    prof: Option<&mut Profiler>,
    stage: &str,
    pipeline: &wgpu::ComputePipeline,
    jobs: &[J],
    frames_of: impl Fn(&J) -> u32,
    buffers: &[&wgpu::Buffer],
) -> Result<(), Error> {
    let longest = jobs.iter().map(&frames_of).max().unwrap_or(0);
    if jobs.is_empty() || longest == 0 {
        return Ok(());
    }
    let groups_per_job = longest.div_ceil(FRAMES_PER_GROUP);
    let params = Params {
        n_jobs: jobs.len() as u32,
        groups_per_job,
        _pad: [0; 2],
    };
    let u = gpu.uniform(stage, &params)?;
    let j = gpu.upload(stage, jobs)?;
    let mut all: Vec<&wgpu::Buffer> = vec![&u, &j];
    all.extend_from_slice(buffers);
    let bg = gpu.bind(pipeline, &all);
    dispatch(
        gpu,
        enc,
        prof,
        stage,
        pipeline,
        &bg,
        jobs.len() as u64 * groups_per_job as u64,
    )
}
