//! GPU twin of [`super::cpu`] with a Linkwitz-Riley crossover: `shaders/multiband.wgsl`, a
//! recursive stage (`gpu::recursive`) of one lane per song (the bands' compressors link the
//! channels). A linear-phase crossover splits on the GPU's convolution instead
//! (`ops::kind`).

use super::Multiband;
use crate::ops::crossover::Crossover;
use crate::ops::eq::gpu::section_words;
use crate::ops::kind::{Init, Recursive};
use crate::plan::PLAN_CHANNELS;

/// The stage, or `None` for a linear-phase crossover: N (crossovers), the N + 1
/// compressors' words, the low, high and all-pass sections; state: the lead-in (the lag:
/// [`super::cpu::Stream::lagging`]), the compressors' states, per channel the sections'.
pub fn recursive(mb: &Multiband) -> Option<Recursive> {
    let Crossover::LinkwitzRiley {
        low,
        high,
        all_pass,
    } = &mb.crossover
    else {
        return None;
    };
    let n = low.len();
    let mut words = vec![n as u32];
    for p in &mb.bands {
        words.extend_from_slice(bytemuck::cast_slice(std::slice::from_ref(p)));
    }
    for s in low.iter().chain(high).flatten().chain(all_pass) {
        words.extend(section_words(s));
    }
    let per_channel = 8 * n + n * n.saturating_sub(1);
    Some(Recursive {
        op: "multiband",
        words,
        lanes: 1,
        state_words: 1 + 2 * mb.bands.len() + PLAN_CHANNELS * per_channel,
        init: vec![(
            0,
            Init::Lag {
                value: super::cpu::latency_frames(mb) as u32,
                step: 1,
            },
        )],
    })
}
