//! CPU twin of `shaders/chorus.wgsl` (the chorus): the
//! per-frame formula of [`super`], reading the dry input from a ring buffer per channel (the
//! processing is in place) of a power-of-two length longer than the longest delay, so slots
//! not yet written read as the zeros before the start. Streaming form: [`process_chunk`]
//! carries the rings and the frame count in a [`Stream`]; [`process`] (the whole song) is
//! one chunk.

use super::{Chorus, DELAY_FRAC_BITS, LFO_TABLE_BITS};
use crate::core::arith::madd;

/// What the chorus carries from one time chunk to the next: per channel the ring of the
/// last dry input frames, and the number of frames processed (the LFO phase and ring
/// position).
#[derive(Debug, Clone)]
pub struct Stream {
    rings: Vec<Vec<f32>>,
    pos: usize,
}

impl Stream {
    /// Fresh state (silence before the song) for `channels` channels.
    pub fn new(ch: &Chorus, channels: usize) -> Stream {
        Stream {
            rings: vec![vec![0.0f32; ring_frames(ch)]; channels],
            pos: 0,
        }
    }
}

/// Frames of each channel's ring: the power of two above the longest delay plus 2.
pub fn ring_frames(ch: &Chorus) -> usize {
    let top = ch.lfo_table.iter().copied().max().unwrap_or(0).max(0) as usize;
    let max_delay = ((ch.params.delay_fixed as usize + top + 2) >> DELAY_FRAC_BITS) + 2;
    max_delay.next_power_of_two()
}

impl Stream {
    /// The stream of a chorus whose input lags the song by `lag` frames (latency
    /// compensation upstream): its LFO clock starts `lag` frames before the song, so the
    /// song's frames meet the same LFO phases as without the lag.
    pub fn lagging(mut self, lag: usize) -> Stream {
        self.pos = self.pos.wrapping_sub(lag);
        self
    }
}

/// Frames by which the streamed output lags the input: 0 (the chorus is causal).
pub fn latency_frames(_ch: &Chorus) -> usize {
    0
}

/// Choruses the next chunk in place: `x` holds the next frames of every channel (all the
/// same length, any length ≥ 0; only the shortest channel's length is processed), as many
/// channels as the [`Stream`] was made for (channel `c ≥ 2` reuses the right channel's
/// phases).
pub fn process_chunk(ch: &Chorus, st: &mut Stream, x: &mut [Vec<f32>]) {
    let p = &ch.params;
    let frames = x.iter().map(|c| c.len()).min().unwrap_or(0);
    if frames == 0 {
        return;
    }
    assert_eq!(x.len(), st.rings.len(), "chorus stream: channel count");
    let voices = p.voices as usize;
    let index_shift = 32 - LFO_TABLE_BITS;
    let delay_mask = (1i32 << DELAY_FRAC_BITS) - 1;
    let delay_scale = 1.0 / (1u32 << DELAY_FRAC_BITS) as f32;
    let centre = p.delay_fixed as i32;
    let table = &ch.lfo_table;
    for (c, (channel, ring)) in x.iter_mut().zip(st.rings.iter_mut()).enumerate() {
        let mask = ring.len() - 1;
        let offsets = &ch.phase_offsets[c.min(1) * voices..(c.min(1) + 1) * voices];
        for (i, v) in channel[..frames].iter_mut().enumerate() {
            let n = st.pos.wrapping_add(i);
            let dry = *v;
            ring[n & mask] = dry;
            let mut acc = 0.0f32;
            for &off in offsets {
                let phase = off.wrapping_add((n as u32).wrapping_mul(p.phase_inc));
                let i = (phase >> index_shift) as usize;
                let f = ((phase >> 4) & 0xffff) as i32;
                let step = table[i + 1] - table[i];
                let s = table[i] + (((f >> 8) * step) >> 8) + (((f & 0xff) * step) >> 16);
                let d = (centre + s).max(0);
                let k = (d >> DELAY_FRAC_BITS) as usize;
                let t = (d & delay_mask) as f32 * delay_scale;
                let a = ring[n.wrapping_sub(k) & mask];
                let b = ring[n.wrapping_sub(k + 1) & mask];
                acc += madd(t, b - a, a);
            }
            *v = madd(p.dry, dry, p.wet * (acc * p.voice_gain));
        }
    }
    st.pos = st.pos.wrapping_add(frames);
}

/// Choruses a whole song in place (one chunk of a fresh [`Stream`]; channel `c ≥ 2` reuses
/// the right channel's phases).
pub fn process(ch: &Chorus, channels: &mut [Vec<f32>]) {
    let mut st = Stream::new(ch, channels.len());
    process_chunk(ch, &mut st, channels);
}
