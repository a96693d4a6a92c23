//! The GPU backend: a headless wgpu context ([`context`]), the batched FFT ([`fft`]), the
//! optional timestamp [`profiler`] and the batched Plan executor ([`render`]: songs in time
//! chunks, [`chunked`]; streaming convolution, [`conv_stream`]; host steps, [`host`];
//! masters kept on the device between runs, [`resident`]). Operator kernels live in
//! `shaders/<name>.wgsl` with their dispatch code in `ops/<name>/gpu.rs`, or, for the
//! registered elementwise operators, in [`elementwise_ops`].

pub mod chunked;
pub mod context;
pub mod conv_stream;
pub mod elementwise;
pub mod elementwise_ops;
pub mod fft;
pub mod host;
pub mod kernels;
pub mod load;
pub mod pools;
pub mod profiler;
pub mod readback;
pub mod recursive;
pub mod render;
pub mod resident;

pub use context::{list_adapters, AdapterReport, Gpu, GpuOptions};
pub use profiler::Profiler;
pub use resident::{Keep, Kept, Resident};

/// Threads per workgroup of the 1-D element-wise kernels (gain, envelope, mix, load).
pub const WORKGROUP_THREADS: u32 = 256;

/// A 2-D grid holding `n` workgroups (`x * y >= n`, both within the adapter's per-dimension
/// limit); kernels recover the linear workgroup index as `wid.x + wid.y * nwg.x`.
pub fn grid(gpu: &Gpu, n: u64) -> Result<(u32, u32), crate::Error> {
    let max = gpu.limits.max_compute_workgroups_per_dimension.max(1) as u64;
    let x = n.clamp(1, max);
    let y = n.div_ceil(x).max(1);
    if y > max {
        return Err(crate::Error::Gpu {
            reason: format!("dispatch of {n} workgroups exceeds the grid limit"),
            retryable: false,
        });
    }
    Ok((x as u32, y as u32))
}

/// Records one compute pass running `pipeline` with `bind_group` over `n_workgroups`
/// (a 2-D [`grid`]), timed under `stage` when a profiler is given.
pub fn dispatch(
    gpu: &Gpu,
    enc: &mut wgpu::CommandEncoder,
    prof: Option<&mut Profiler>,
    stage: &str,
    pipeline: &wgpu::ComputePipeline,
    bind_group: &wgpu::BindGroup,
    n_workgroups: u64,
) -> Result<(), crate::Error> {
    if n_workgroups == 0 {
        return Ok(());
    }
    let (x, y) = grid(gpu, n_workgroups)?;
    let timestamp_writes = prof.and_then(|p| p.pass_writes(stage));
    let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
        label: Some(stage),
        timestamp_writes,
    });
    pass.set_pipeline(pipeline);
    pass.set_bind_group(0, bind_group, &[]);
    pass.dispatch_workgroups(x, y, 1);
    Ok(())
}
