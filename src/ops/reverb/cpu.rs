//! CPU twin of the reverb: the convolution engine (`shaders/convolve.wgsl`) for the wet
//! signal, then the wet/dry sum (`shaders/reverb_mix.wgsl`).

use super::Reverb;
use crate::ops::convolve;

/// `out[i] = dry · x[i] + wet · w[i]` (f32, in this order; no fused multiply-add).
pub fn mix(x: &mut [f32], w: &[f32], dry: f32, wet: f32) {
    for (a, b) in x.iter_mut().zip(w) {
        *a = dry * *a + wet * *b;
    }
}

/// Runs the reverb in place on each channel: the wet signal is the first
/// `len − pre_delay` frames of the convolution, placed `pre_delay` frames late (the buffer
/// already holds room for the tail; nothing beyond its length is produced).
pub fn process(rv: &Reverb, channels: &mut [Vec<f32>]) {
    for (c, ch) in channels.iter_mut().enumerate() {
        let n = ch.len();
        let d = rv.pre_delay_frames.min(n);
        let mut wet = vec![0.0f32; n];
        convolve::convolve_window_into(ch, rv.kernel(c), 0, &mut wet[d..]);
        mix(ch, &wet, rv.dry, rv.wet);
    }
}
