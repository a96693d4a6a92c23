//! CPU twin of `shaders/delay.wgsl` (the delay): the
//! per-frame recursion of [`super`], with one ring buffer of `D` frames per channel, in
//! streaming form ([`process_chunk`] carries the lines in a [`Stream`]; [`process`], the
//! whole song, is one chunk).

use super::DelayParams;
use crate::core::arith::madd;
use crate::ops::loglin::flush_denormal;

/// What the delay carries from one time chunk to the next: per channel the ring buffer of
/// the last `D` written line values and the low-pass (wet) state, and the ring position.
#[derive(Debug, Clone)]
pub struct Stream {
    line: Vec<Vec<f32>>,
    w: Vec<f32>,
    pos: usize,
}

impl Stream {
    /// Fresh state (silence before the song) for `channels` channels.
    pub fn new(p: &DelayParams, channels: usize) -> Stream {
        let d = p.delay_frames.max(1) as usize;
        Stream {
            line: vec![vec![0.0f32; d]; channels],
            w: vec![0.0f32; channels],
            pos: 0,
        }
    }
}

/// Frames by which the streamed output lags the input: 0 (the delay is causal; its echoes
/// are part of the output, not a lag).
pub fn latency_frames(_p: &DelayParams) -> usize {
    0
}

/// Delays the next chunk in place: `x` holds the next frames of every channel (all the same
/// length, any length ≥ 0; only the shortest channel's length is processed), as many
/// channels as the [`Stream`] was made for (1 or 2 expected; ping-pong needs exactly 2).
#[allow(clippy::needless_range_loop)] // one frame across several per-channel arrays
pub fn process_chunk(p: &DelayParams, st: &mut Stream, x: &mut [Vec<f32>]) {
    let frames = x.iter().map(|c| c.len()).min().unwrap_or(0);
    let nch = x.len();
    if frames == 0 || nch == 0 {
        return;
    }
    assert_eq!(nch, st.line.len(), "delay stream: channel count");
    let d = st.line[0].len();
    let (line, w) = (&mut st.line, &mut st.w);
    let ping_pong = p.ping_pong == 1 && nch == 2;
    let mut pos = st.pos;
    for n in 0..frames {
        for c in 0..nch {
            let dc = line[c][pos];
            w[c] = if p.filter == 1 {
                flush_denormal(madd(p.lowpass_coef, dc - w[c], w[c]))
            } else {
                dc
            };
        }
        if ping_pong {
            let (xl, xr) = (x[0][n], x[1][n]);
            line[0][pos] = flush_denormal(madd(p.feedback, w[1], (xl + xr) * 0.5));
            line[1][pos] = flush_denormal(p.feedback * w[0]);
        } else {
            for c in 0..nch {
                line[c][pos] = flush_denormal(madd(p.feedback, w[c], x[c][n]));
            }
        }
        for c in 0..nch {
            let v = &mut x[c][n];
            *v = flush_denormal(madd(p.dry, *v, p.wet * w[c]));
        }
        pos += 1;
        if pos == d {
            pos = 0;
        }
    }
    st.pos = pos;
}

/// Delays a whole song in place (one chunk of a fresh [`Stream`]; 1 or 2 channels
/// expected, ping-pong needs exactly 2).
pub fn process(p: &DelayParams, channels: &mut [Vec<f32>]) {
    let mut st = Stream::new(p, channels.len());
    process_chunk(p, &mut st, channels);
}
