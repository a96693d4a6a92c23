//! GPU twin of [`super::cpu::Stream`]: `shaders/meter.wgsl`, a recursive stage
//! (`gpu::recursive`) of one lane per channel whose state keeps the energies it reads
//! ([`Readout`]): the energies, then the sample peak, of each lane.

use super::Meter;
use crate::ops::eq::gpu::section_words;
use crate::ops::kind::{Count, Init, Readout, Recursive, Span};
use crate::plan::PLAN_CHANNELS;

/// Words before the lanes in the state: the song's first and end frame in the input
/// (`[start, end)`).
const SHARED: usize = 2;
/// Words of a lane before its energies (`METER_LANE_HEADER` in the shader): the two
/// sections' `[ic1, ic2]`, the sum in progress, its frames, the input frames seen, the
/// energies written, the largest |sample|.
pub const LANE_HEADER: usize = 9;
/// Where in a lane the count of energies written is.
const COUNT_WORD: usize = 7;
/// Where in a lane the largest |sample| is.
const PEAK_WORD: usize = 8;

/// The stage: sub-block frames, sub-blocks per lane, the two sections' words; state: the
/// song's span, then per lane its header and one word per sub-block of the song.
pub fn recursive(m: &Meter) -> Recursive {
    let n_sub = m.frames / m.sub;
    let mut words = vec![m.sub as u32, n_sub as u32];
    words.extend(m.k.iter().flat_map(section_words));
    let lane = LANE_HEADER + n_sub;
    Recursive {
        op: "meter",
        words,
        lanes: PLAN_CHANNELS,
        state_words: SHARED + PLAN_CHANNELS * lane,
        init: vec![(0, Init::Lag { value: 0, step: 1 }), (1, Init::SongEnd)],
        // the energies of each lane, then the sample peak of each (the CPU twin's order)
        readout: Some(Readout {
            lanes: (0..PLAN_CHANNELS)
                .map(|l| {
                    let at = SHARED + l * lane;
                    Span {
                        first: at + LANE_HEADER,
                        count: Count::Word(at + COUNT_WORD),
                    }
                })
                .chain((0..PLAN_CHANNELS).map(|l| Span {
                    first: SHARED + l * lane + PEAK_WORD,
                    count: Count::Fixed(1),
                }))
                .collect(),
        }),
    }
}
