//! Host side of the executor's synchronisation points: submitting a recorded encoder and
//! reading a song buffer back (the CPU fallback, the taps of `verify`, the final masters).

use crate::error::Error;
use crate::gpu::{Gpu, Profiler};
use crate::plan::{Planar, PLAN_CHANNELS};

/// Submits `enc` (resolving the profiler's timestamps first), waits, and collects the
/// timings.
pub fn submit(
    gpu: &Gpu,
    mut enc: wgpu::CommandEncoder,
    prof: Option<&mut Profiler>,
) -> Result<(), Error> {
    if let Some(p) = &prof {
        p.resolve(&mut enc);
    }
    gpu.queue.submit([enc.finish()]);
    gpu.wait()?;
    if let Some(p) = prof {
        p.collect(gpu)?;
    }
    Ok(())
}

/// Reads one stereo buffer (two channels back to back from element `offset`).
pub fn read_stereo(
    gpu: &Gpu,
    audio: &wgpu::Buffer,
    offset: u32,
    frames: usize,
) -> Result<Planar, Error> {
    let v: Vec<f32> = gpu.read(audio, offset as u64 * 4, PLAN_CHANNELS * frames)?;
    Ok(v.chunks(frames.max(1))
        .take(PLAN_CHANNELS)
        .map(|c| c.to_vec())
        .chain(std::iter::repeat_with(Vec::new))
        .take(PLAN_CHANNELS)
        .collect())
}
