//! GPU twin of [`super::cpu`]: `shaders/multiband.wgsl`. With a Linkwitz-Riley crossover,
//! one recursive stage (`gpu::recursive`) of one lane per song (the bands' compressors link
//! the channels) splits, compresses and sums; with a linear-phase crossover the split is
//! the GPU convolution's (`ops::kind`) and the entry `multiband_bands` finishes the bands
//! ([`super::cpu::finish_chunk`]'s twin).

use super::Multiband;
use crate::engine::cpu::CHUNK_FRAMES;
use crate::ops::eq::gpu::section_words;
use crate::ops::eq::Svf;
use crate::ops::kind::{Init, Recursive};
use crate::plan::PLAN_CHANNELS;

/// The stage of `mb` with its Linkwitz-Riley crossover's `low`, `high` and `all_pass`
/// sections: N (crossovers), the N + 1 compressors' words, the low, high and all-pass
/// sections; state: the lead-in (the lag: [`super::cpu::Stream::lagging`]), the
/// compressors' states, per channel the sections'.
pub fn recursive(
    mb: &Multiband,
    low: &[[Svf; 2]],
    high: &[[Svf; 2]],
    all_pass: &[Svf],
) -> Recursive {
    let n = low.len();
    let mut words = vec![n as u32];
    for p in &mb.bands {
        words.extend_from_slice(bytemuck::cast_slice(std::slice::from_ref(p)));
    }
    for s in low.iter().chain(high).flatten().chain(all_pass) {
        words.extend(section_words(s));
    }
    let per_channel = 8 * n + n * n.saturating_sub(1);
    Recursive {
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
        readout: None,
    }
}

/// The finish of a linear-phase split: the band count and the bands' compressors' words;
/// state: the lead-in (the FIRs' latency plus the lag, [`super::cpu::Stream::lagging`]),
/// each band's compressor state, then the bands of the chunk, `[band][channel][frame]`,
/// copied there from the convolution's outputs.
pub fn band_finish(mb: &Multiband) -> Recursive {
    let bands = mb.bands.len();
    let mut words = vec![bands as u32];
    for p in &mb.bands {
        words.extend_from_slice(bytemuck::cast_slice(std::slice::from_ref(p)));
    }
    Recursive {
        op: "multiband_bands",
        words,
        lanes: 1,
        state_words: BAND_AREA + bands * PLAN_CHANNELS * CHUNK_FRAMES,
        init: vec![(
            0,
            Init::Lag {
                value: super::cpu::latency_frames(mb) as u32,
                step: 1,
            },
        )],
        readout: None,
    }
}

/// Where the band area starts in a [`band_finish`] state: after the lead-in and room for
/// the compressors' states of the most bands a crossover makes.
pub const BAND_AREA: usize = 1 + 2 * crate::ops::crossover::MAX_BANDS;
