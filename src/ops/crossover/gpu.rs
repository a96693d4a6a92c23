//! GPU twin of the linear-phase branch of [`super::cpu::split`]: one convolution job per
//! band and channel on the batched engine ([`crate::ops::convolve::gpu`],
//! `shaders/convolve.wgsl`), window `y[latency .. latency + M]` as the CPU's
//! `convolve_window`. The Linkwitz-Riley split (a recursion) has no GPU path here.

use super::Crossover;
use crate::ops::convolve::gpu::ConvolveJob;

/// The jobs splitting `channels` (element offsets of each input channel, `frames` long)
/// into the bands, band `b` of channel `c` written at
/// `out_base + (b · channels + c) · frames` (`[band][channel][frame]`), with kernel
/// `kernel_ids[b]`. Empty for a Linkwitz-Riley crossover.
pub fn split_jobs(
    xo: &Crossover,
    kernel_ids: &[usize],
    channels: &[u32],
    out_base: u32,
    frames: u32,
) -> Vec<ConvolveJob> {
    let Crossover::LinearPhase { latency_frames, .. } = xo else {
        return Vec::new();
    };
    let n = channels.len() as u32;
    let mut jobs = Vec::new();
    for (b, &k) in kernel_ids.iter().enumerate() {
        for (c, &input_offset) in channels.iter().enumerate() {
            jobs.push(ConvolveJob {
                input_offset,
                input_frames: frames,
                kernel: k,
                window_offset: *latency_frames as u32,
                output_offset: out_base + (b as u32 * n + c as u32) * frames,
                output_frames: frames,
            });
        }
    }
    jobs
}
