//! CPU twin of `shaders/envelope.wgsl`: applies kernel segments to one channel.

use super::Segment;
use crate::core::arith::madd;

/// Multiplies `channel` by the curve given as `segments` (which cover the channel).
pub fn apply(channel: &mut [f32], segments: &[Segment]) {
    apply_at(channel, segments, 0);
}

/// [`apply`] to a window of a channel: `channel[i]` is frame `first_frame + i` of the curve
/// (negative frames lie before the song and are left alone), with the same arithmetic per
/// frame as over the whole channel.
pub fn apply_at(channel: &mut [f32], segments: &[Segment], first_frame: i64) {
    let win_end = first_frame + channel.len() as i64;
    for seg in segments {
        let (s, e) = (i64::from(seg.start_frame), i64::from(seg.end_frame));
        let (from, to) = (s.max(first_frame), e.min(win_end));
        if from >= to {
            continue;
        }
        let out = &mut channel[(from - first_frame) as usize..(to - first_frame) as usize];
        for (k, x) in out.iter_mut().enumerate() {
            let g = madd(seg.slope, (from - s + k as i64) as f32, seg.gain0);
            *x *= g;
        }
    }
}
