//! CPU twin of `shaders/delay.wgsl`: the per-frame recursion of [`super`], with one ring
//! buffer of `D` frames per channel.

use super::DelayParams;
use crate::ops::loglin::flush_denormal;

/// Delays `channels` (1 or 2 channels expected; ping-pong needs exactly 2) in place.
#[allow(clippy::needless_range_loop)] // one frame across several per-channel arrays
pub fn process(p: &DelayParams, channels: &mut [Vec<f32>]) {
    let frames = channels.iter().map(|c| c.len()).min().unwrap_or(0);
    let nch = channels.len();
    if frames == 0 || nch == 0 {
        return;
    }
    let d = p.delay_frames.max(1) as usize;
    let mut line = vec![vec![0.0f32; d]; nch];
    let mut w = vec![0.0f32; nch];
    let ping_pong = p.ping_pong == 1 && nch == 2;
    let mut pos = 0usize;
    for n in 0..frames {
        for c in 0..nch {
            let dc = line[c][pos];
            w[c] = if p.filter == 1 {
                flush_denormal(w[c] + p.lowpass_coef * (dc - w[c]))
            } else {
                dc
            };
        }
        if ping_pong {
            let (xl, xr) = (channels[0][n], channels[1][n]);
            line[0][pos] = flush_denormal((xl + xr) * 0.5 + p.feedback * w[1]);
            line[1][pos] = flush_denormal(p.feedback * w[0]);
        } else {
            for c in 0..nch {
                line[c][pos] = flush_denormal(channels[c][n] + p.feedback * w[c]);
            }
        }
        for c in 0..nch {
            let x = &mut channels[c][n];
            *x = flush_denormal(p.dry * *x + p.wet * w[c]);
        }
        pos += 1;
        if pos == d {
            pos = 0;
        }
    }
}
