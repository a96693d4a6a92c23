//! CPU twin of the reverb, whole songs ([`process`]) or time chunks ([`Stream`],
//! [`process_chunk`]): the convolution engine ([`convolve::cpu`], twin of
//! `shaders/convolve.wgsl`) for the wet signal, the pre-delay, then the wet/dry sum
//! ([`mix`], twin of `shaders/reverb_mix.wgsl`).

use super::Reverb;
use crate::core::arith::madd;
use crate::ops::convolve;

/// `out[i] = dry · x[i] + wet · w[i]` (f32, in this order; no fused multiply-add).
pub fn mix(x: &mut [f32], w: &[f32], dry: f32, wet: f32) {
    for (a, b) in x.iter_mut().zip(w) {
        *a = madd(dry, *a, wet * *b);
    }
}

/// What the reverb carries from one time chunk to the next, per channel: the convolution
/// stream (delay line and last half-frame) and the pre-delay line (the last
/// `pre_delay_frames` frames of the wet signal, not yet output).
#[derive(Debug, Clone)]
pub struct Stream {
    convolution: Vec<convolve::cpu::Stream>,
    /// per channel: the pre-delay line (`pre_delay_frames`), then room for one chunk's wet
    /// signal
    wet: Vec<Vec<f32>>,
}

impl Stream {
    /// The state of `rv` at the start of a signal of `channels` channels.
    pub fn new(rv: &Reverb, channels: usize) -> Stream {
        Stream {
            convolution: (0..channels)
                .map(|c| convolve::cpu::Stream::new(rv.kernel(c)))
                .collect(),
            wet: vec![vec![0.0; rv.pre_delay_frames]; channels],
        }
    }
}

/// Frames by which the streamed output lags the input: 0 (the reverb is causal).
pub fn latency_frames(_rv: &Reverb) -> usize {
    0
}

/// Processes the next chunk in place (every channel a multiple of
/// [`convolve::BLOCK_FRAMES`] frames): the wet signal (the convolution, `pre_delay_frames`
/// late) mixed with the dry one. Channels one after the other (the convolution
/// parallelises inside).
pub fn process_chunk(rv: &Reverb, st: &mut Stream, x: &mut [Vec<f32>]) {
    assert_eq!(
        x.len(),
        st.wet.len(),
        "stream made for another channel count"
    );
    let d = rv.pre_delay_frames;
    for (c, ch) in x.iter_mut().enumerate() {
        let n = ch.len();
        let line = &mut st.wet[c];
        line.resize(d + n, 0.0);
        convolve::cpu::process_chunk(rv.kernel(c), &mut st.convolution[c], ch, &mut line[d..]);
        mix(ch, &line[..n], rv.dry, rv.wet);
        line.copy_within(n.., 0);
        line.truncate(d);
    }
}

/// Runs the reverb on a whole song in place: the wet signal is the first
/// `len − pre_delay` frames of the convolution, placed `pre_delay` frames late (the buffer
/// already holds room for the tail; nothing beyond its length is produced). A [`Stream`]
/// fed in chunks by [`convolve::cpu::run_streamed`].
pub fn process(rv: &Reverb, channels: &mut [Vec<f32>]) {
    let mut st = Stream::new(rv, channels.len());
    convolve::cpu::run_streamed(channels, latency_frames(rv), |x| {
        process_chunk(rv, &mut st, x)
    });
}
