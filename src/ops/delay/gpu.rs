//! GPU twin of [`super::cpu`]: `shaders/delay.wgsl`, a recursive stage (`gpu::recursive`)
//! of one lane per song (ping-pong crosses the channels).

use super::DelayParams;
use crate::ops::kind::Recursive;
use crate::plan::PLAN_CHANNELS;

/// The stage: the [`DelayParams`] words; state `[ring position, w0, w1]` and one line of
/// `max(D, 1)` frames per channel.
pub fn recursive(p: &DelayParams) -> Recursive {
    let d = p.delay_frames.max(1) as usize;
    Recursive {
        op: "delay",
        words: bytemuck::cast_slice(std::slice::from_ref(p)).to_vec(),
        lanes: 1,
        state_words: 3 + PLAN_CHANNELS * d,
        init: Vec::new(),
        readout: None,
    }
}
