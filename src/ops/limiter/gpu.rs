//! GPU twin of [`super::cpu`]: `shaders/limiter.wgsl`, a recursive stage (`gpu::recursive`)
//! of one lane per song in four passes (feed, the 2× half points and the detector per
//! frame, then the serial gain pipeline).

use super::{cpu, Limiter};
use crate::engine::cpu::CHUNK_FRAMES;
use crate::ops::kind::{Count, Init, Readout, Recursive, Span};
use crate::ops::oversample::SPAN;
use crate::plan::PLAN_CHANNELS;

/// Header words of the state (`HEADER` in the shader).
const HEADER: usize = 8;
/// The header word holding the lowest gain of the song (log2).
const MIN_GAIN: usize = 5;

/// The stage: the [`super::LimiterParams`] words, the line history `H = max(latency,
/// SPAN − 1)`, the latency, the interpolator taps, the report's hop and hops (0, 0 without
/// one); state: the header (the song's end set from the stage's input; word 5 the lowest
/// gain), the window ring, the hold deque, one chunk of detector values, per channel a line
/// of `H` + one chunk, per channel one chunk + 8 half points, then the report: the lag of
/// the input behind the song, the lowest gain of each hop, the input's true peak of each
/// hop.
pub fn recursive(l: &Limiter) -> Recursive {
    let lat = cpu::latency_frames(l);
    let hist = lat.max(SPAN - 1);
    let la = l.params.lookahead_frames as usize;
    let mut words: Vec<u32> = bytemuck::cast_slice(std::slice::from_ref(&l.params)).to_vec();
    words.extend([hist as u32, lat as u32]);
    words.extend(l.taps.iter().map(|v| v.to_bits()));
    let (hop, hops) = l.report.map_or((0, 0), |r| (r.hop_frames, r.hops));
    words.extend([hop as u32, hops as u32]);
    let trace = HEADER
        + (la + 1)
        + 2 * (la + 2)
        + CHUNK_FRAMES
        + PLAN_CHANNELS * (hist + CHUNK_FRAMES)
        + PLAN_CHANNELS * (CHUNK_FRAMES + 8);
    Recursive {
        op: "limiter",
        words,
        lanes: 1,
        state_words: trace + 1 + 2 * hops,
        init: vec![(1, Init::SongEnd), (trace, Init::Lag { value: 0, step: 1 })],
        readout: l.report.map(|_| Readout {
            lanes: vec![
                Span {
                    first: MIN_GAIN,
                    count: Count::Fixed(1),
                },
                Span {
                    first: trace + 1,
                    count: Count::Fixed(hops),
                },
                Span {
                    first: trace + 1 + hops,
                    count: Count::Fixed(hops),
                },
            ],
        }),
    }
}
