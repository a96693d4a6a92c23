//! CPU twin of `shaders/compressor.wgsl`. Works in blocks of [`BLOCK_FRAMES`] frames:
//! detector levels, gain computer, ballistics and gain application are separate passes over
//! the block (so the stateless passes vectorise), but every frame sees exactly the
//! arithmetic of the per-frame description in [`super`], in the same order.

use super::CompressorParams;
use crate::ops::loglin::{exp2_approx, flush_denormal, log2_approx};

/// Frames per internal block (scratch size; does not change the result).
pub const BLOCK_FRAMES: usize = 256;

/// Static gain computer: gain change in L2 (≤ 0) for detector level `level_l2`.
#[inline]
pub fn gain_computer(p: &CompressorParams, level_l2: f32) -> f32 {
    let over = level_l2 - p.threshold_l2;
    if over <= -p.half_knee_l2 {
        0.0
    } else if over >= p.half_knee_l2 {
        p.slope * over
    } else {
        let d = over + p.half_knee_l2;
        p.knee_coef * (d * d)
    }
}

/// Key sample `k[c][n]`, zero past the key's end.
#[inline]
fn key_at(key: &[Vec<f32>], c: usize, n: usize) -> f32 {
    key[c].get(n).copied().unwrap_or(0.0)
}

/// Detector input per frame of the block starting at `start`: peak `max_c |k|` or
/// mean square `(Σ_c k²)·(1/C)` (channels summed in index order).
fn detect_block(p: &CompressorParams, key: &[Vec<f32>], start: usize, out: &mut [f32]) {
    let nk = key.len();
    let len = out.len();
    out.fill(0.0);
    if nk == 0 {
        return;
    }
    let full = key.iter().all(|k| k.len() >= start + len);
    if p.detector == 0 {
        for c in 0..nk {
            if full {
                for (o, &k) in out.iter_mut().zip(&key[c][start..start + len]) {
                    *o = o.max(k.abs());
                }
            } else {
                for (i, o) in out.iter_mut().enumerate() {
                    *o = o.max(key_at(key, c, start + i).abs());
                }
            }
        }
    } else {
        let inv_c = 1.0 / nk as f32;
        for c in 0..nk {
            for (i, o) in out.iter_mut().enumerate() {
                let k = if full {
                    key[c][start + i]
                } else {
                    key_at(key, c, start + i)
                };
                *o += k * k;
            }
        }
        for o in out.iter_mut() {
            *o *= inv_c;
        }
    }
}

/// Recursive state carried across blocks (and, on the GPU, across dispatch chunks).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct State {
    /// smoothed gain, L2
    pub gain_l2: f32,
    /// mean-square detector state
    pub mean_square: f32,
}

/// Compresses `channels` in place. `key` (sidechain) feeds the detector when given,
/// otherwise the input does. Frames past the end of a shorter key read as silence.
pub fn process(p: &CompressorParams, channels: &mut [Vec<f32>], key: Option<&[Vec<f32>]>) {
    let frames = channels.iter().map(|c| c.len()).min().unwrap_or(0);
    let mut state = State::default();
    let mut level = [0.0f32; BLOCK_FRAMES];
    let mut gain = [0.0f32; BLOCK_FRAMES];
    let mut start = 0;
    while start < frames {
        let len = BLOCK_FRAMES.min(frames - start);
        let (level, gain) = (&mut level[..len], &mut gain[..len]);
        match key {
            Some(k) => detect_block(p, k, start, level),
            None => detect_block(p, channels, start, level),
        }
        gains_block(p, &mut state, level, gain);
        for ch in channels.iter_mut() {
            for (x, &g) in ch[start..start + len].iter_mut().zip(gain.iter()) {
                *x *= g;
            }
        }
        start += len;
    }
}

/// From detector inputs (`level`: peak amplitude or mean square) to linear gains, advancing
/// `state`. Sequential parts: the mean-square one-pole and the ballistics.
pub fn gains_block(p: &CompressorParams, state: &mut State, level: &mut [f32], gain: &mut [f32]) {
    if p.detector == 0 {
        for v in level.iter_mut() {
            *v = log2_approx(*v);
        }
    } else {
        let a = p.rms_coef;
        let mut ms = state.mean_square;
        for v in level.iter_mut() {
            let x = *v;
            ms = flush_denormal(x + a * (ms - x));
            *v = 0.5 * log2_approx(ms);
        }
        state.mean_square = ms;
    }
    for (g, &l) in gain.iter_mut().zip(level.iter()) {
        *g = gain_computer(p, l);
    }
    let mut s = state.gain_l2;
    for g in gain.iter_mut() {
        let gc = *g;
        let a = if gc < s {
            p.attack_coef
        } else {
            p.release_coef
        };
        s = flush_denormal(gc + a * (s - gc));
        *g = s;
    }
    state.gain_l2 = s;
    for g in gain.iter_mut() {
        *g = exp2_approx(*g + p.makeup_l2);
    }
}
