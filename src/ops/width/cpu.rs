//! CPU twin of `shaders/width.wgsl` (the width processor), in streaming form: [`process_chunk`] carries the bass-mono filter states in a
//! [`Stream`]; [`process`] (the whole song) is one chunk.

use super::Width;
use crate::ops::eq::cpu::run_sections_state;

/// What the width processor carries from one time chunk to the next: the states of the
/// bass-mono sections (mid all-pass, the two side high-pass sections).
#[derive(Debug, Clone)]
pub struct Stream {
    mid: [[f32; 2]; 1],
    side: [[f32; 2]; 2],
}

impl Stream {
    /// Fresh state (silence before the song) for `channels` channels (only a stereo pair is
    /// processed).
    pub fn new(_w: &Width, _channels: usize) -> Stream {
        Stream {
            mid: [[0.0; 2]; 1],
            side: [[0.0; 2]; 2],
        }
    }
}

/// Frames by which the streamed output lags the input: 0 (the processor is causal).
pub fn latency_frames(_w: &Width) -> usize {
    0
}

/// Runs the width processor in place on the next chunk of a stereo pair (other channel
/// counts are left alone; the pair's common length is processed). Per frame, in f32:
/// `m = (l + r)·0.5`, `s = (l − r)·side_gain`; with bass mono, m and s then pass their
/// filters over the chunk; `l = m + s`, `r = m − s`.
pub fn process_chunk(w: &Width, st: &mut Stream, x: &mut [Vec<f32>]) {
    if w.unchanged || x.len() != 2 {
        return;
    }
    let (left, right) = x.split_at_mut(1);
    let frames = left[0].len().min(right[0].len());
    let (left, right) = (&mut left[0][..frames], &mut right[0][..frames]);
    for (l, r) in left.iter_mut().zip(right.iter_mut()) {
        let m = (*l + *r) * 0.5;
        let s = (*l - *r) * w.side_gain;
        *l = m;
        *r = s;
    }
    if let Some(bm) = &w.bass_mono {
        let (mid, side) = (&mut st.mid, &mut st.side);
        rayon::join(
            || run_sections_state(left, std::slice::from_ref(&bm.mid_all_pass), mid),
            || run_sections_state(right, &bm.side_high_pass, side),
        );
    }
    for (l, r) in left.iter_mut().zip(right.iter_mut()) {
        let (m, s) = (*l, *r);
        *l = m + s;
        *r = m - s;
    }
}

/// Runs the width processor in place on a whole stereo song (one chunk of a fresh
/// [`Stream`]; other channel counts are left alone).
pub fn process(w: &Width, channels: &mut [Vec<f32>]) {
    let mut st = Stream::new(w, channels.len());
    process_chunk(w, &mut st, channels);
}
