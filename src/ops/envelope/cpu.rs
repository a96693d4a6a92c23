//! CPU twin of `shaders/envelope.wgsl`: applies kernel segments to one channel.

use super::Segment;

/// Multiplies `channel` by the curve given as `segments` (which cover the channel).
pub fn apply(channel: &mut [f32], segments: &[Segment]) {
    for seg in segments {
        let end = (seg.end_frame as usize).min(channel.len());
        let start = seg.start_frame as usize;
        if start >= end {
            continue;
        }
        for (i, x) in channel[start..end].iter_mut().enumerate() {
            let g = seg.gain0 + seg.slope * i as f32;
            *x *= g;
        }
    }
}
