//! GPU twin of the linear-phase branch of [`super::cpu::process`]: the convolution engine
//! ([`crate::ops::convolve::gpu`], `shaders/convolve.wgsl`) with the latency window
//! `y[latency .. latency + M]`, written to a scratch channel that the executor copies back
//! over the input (the engine is not in-place safe across scratch batches). The minimum-phase
//! EQ (a recursion) has no GPU kernel yet and runs on the CPU.

use super::Eq;
use crate::ops::convolve::gpu::ConvolveJob;

/// The convolution job of a linear-phase EQ on one channel (element offsets
/// `input_offset` in the audio buffer and `output_offset` in the scratch buffer, `frames`
/// long), or `None` for a minimum-phase EQ.
pub fn channel_job(
    eq: &Eq,
    kernel_id: usize,
    input_offset: u32,
    output_offset: u32,
    frames: u32,
) -> Option<ConvolveJob> {
    match eq {
        Eq::MinimumPhase { .. } => None,
        Eq::LinearPhase { latency_frames, .. } => Some(ConvolveJob {
            input_offset,
            input_frames: frames,
            kernel: kernel_id,
            window_offset: *latency_frames as u32,
            output_offset,
            output_frames: frames,
        }),
    }
}
