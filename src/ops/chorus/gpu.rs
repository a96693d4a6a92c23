//! GPU twin of [`super::cpu`]: `shaders/chorus.wgsl`, a recursive stage (`gpu::recursive`)
//! of one lane per channel.

use super::{cpu, Chorus, LFO_TABLE_BITS};
use crate::ops::kind::{Init, Recursive};
use crate::plan::PLAN_CHANNELS;

/// The stage: the [`super::ChorusParams`] words, the ring length `R` (a power of two), the
/// phase offsets (channel-major) and the LFO table; per lane the frame clock (starting
/// `lag` frames before the song, as [`cpu::Stream::lagging`] does) and a ring of `R` dry
/// frames.
pub fn recursive(ch: &Chorus) -> Recursive {
    let ring = cpu::ring_frames(ch);
    let mut words: Vec<u32> = bytemuck::cast_slice(std::slice::from_ref(&ch.params)).to_vec();
    words.push(ring as u32);
    words.extend_from_slice(&ch.phase_offsets);
    words.extend(ch.lfo_table.iter().map(|&v| v as u32));
    debug_assert_eq!(ch.lfo_table.len(), (1 << LFO_TABLE_BITS) + 1);
    let lane = 1 + ring;
    Recursive {
        op: "chorus",
        words,
        lanes: PLAN_CHANNELS,
        state_words: PLAN_CHANNELS * lane,
        init: (0..PLAN_CHANNELS)
            .map(|c| (c * lane, Init::Lag { value: 0, step: -1 }))
            .collect(),
        readout: None,
    }
}
