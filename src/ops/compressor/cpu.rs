//! CPU twin of `shaders/compressor.wgsl` (the compressor), in streaming form: [`process_chunk`] runs the next frames of a song with the state
//! carried in a [`Stream`]; [`process`] (the whole song) is one chunk. Works in blocks of
//! [`BLOCK_FRAMES`] frames: detector levels, gain computer, ballistics and gain application
//! are separate passes over the block (so the stateless passes vectorise), but every frame
//! sees exactly the arithmetic of the per-frame description in [`super`], in the same order,
//! so the output does not depend on how a song is cut into chunks or blocks.

use super::CompressorParams;
use crate::core::arith::madd;
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
                *o = madd(k, k, *o);
            }
        }
        for o in out.iter_mut() {
            *o *= inv_c;
        }
    }
}

/// Recursive state carried across blocks and time chunks (inside a [`Stream`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct State {
    /// smoothed gain, L2
    pub gain_l2: f32,
    /// mean-square detector state
    pub mean_square: f32,
}

/// What the compressor carries from one time chunk to the next: the recursive [`State`]
/// (smoothed gain and mean-square detector).
#[derive(Debug, Clone)]
pub struct Stream {
    state: State,
}

impl Stream {
    /// Fresh state (silence before the song) for `channels` channels (the state is shared by
    /// the linked channels, so their number does not matter).
    pub fn new(_p: &CompressorParams, _channels: usize) -> Stream {
        Stream {
            state: State::default(),
        }
    }
}

/// Frames by which the streamed output lags the input: 0 (the compressor is causal).
pub fn latency_frames(_p: &CompressorParams) -> usize {
    0
}

/// Compresses the next chunk in place: `x` holds the next frames of every channel (all the
/// same length, any length ≥ 0; only the shortest channel's length is processed). `key`
/// (sidechain) holds the same frames of the key and feeds the detector when given,
/// otherwise the input does; frames past the end of a shorter key chunk read as silence.
pub fn process_chunk(
    p: &CompressorParams,
    st: &mut Stream,
    x: &mut [Vec<f32>],
    key: Option<&[Vec<f32>]>,
) {
    let frames = x.iter().map(|c| c.len()).min().unwrap_or(0);
    let mut level = [0.0f32; BLOCK_FRAMES];
    let mut gain = [0.0f32; BLOCK_FRAMES];
    let mut start = 0;
    while start < frames {
        let len = BLOCK_FRAMES.min(frames - start);
        let (level, gain) = (&mut level[..len], &mut gain[..len]);
        match key {
            Some(k) => detect_block(p, k, start, level),
            None => detect_block(p, x, start, level),
        }
        gains_block(p, &mut st.state, level, gain);
        for ch in x.iter_mut() {
            for (v, &g) in ch[start..start + len].iter_mut().zip(gain.iter()) {
                *v *= g;
            }
        }
        start += len;
    }
}

/// Compresses a whole song in place (one chunk of a fresh [`Stream`]). `key` (sidechain)
/// feeds the detector when given, otherwise the input does. Frames past the end of a
/// shorter key read as silence.
pub fn process(p: &CompressorParams, channels: &mut [Vec<f32>], key: Option<&[Vec<f32>]>) {
    let mut st = Stream::new(p, channels.len());
    process_chunk(p, &mut st, channels, key);
}

/// From detector inputs (`level`: peak amplitude or mean square) to linear gains, advancing
/// `state`. Sequential parts: the mean-square one-pole and the ballistics.
pub fn gains_block(p: &CompressorParams, state: &mut State, level: &mut [f32], gain: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2
        return unsafe { gains_block_avx2(p, state, level, gain) };
    }
    gains(p, state, level, gain);
}

/// [`gains`] compiled for AVX2 (no FMA: the same bits).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn gains_block_avx2(
    p: &CompressorParams,
    state: &mut State,
    level: &mut [f32],
    gain: &mut [f32],
) {
    gains(p, state, level, gain);
}

/// The ballistics over the computed gains `gain` (log2), from state `s`, in place; returns
/// the new state. Attack where the computed gain is below the state, release elsewhere.
#[inline(always)]
fn ballistics(p: &CompressorParams, mut s: f32, gain: &mut [f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if !cfg!(feature = "fma-twins") {
        // the step chosen by a compare and a blend in registers (a select the compiler
        // made a load indexed by the comparison, on the loop-carried chain); the same
        // operations as below
        if is_x86_feature_detected!("sse4.1") {
            // SAFETY: the CPU has SSE4.1 (checked just above)
            return unsafe { ballistics_sse41(p.attack_step, p.release_step, s, gain) };
        }
    }
    for g in gain.iter_mut() {
        let gc = *g;
        let b = if gc < s {
            p.attack_step
        } else {
            p.release_step
        };
        s = flush_denormal(madd(b, gc - s, s));
        *g = s;
    }
    s
}

/// [`ballistics`] in SSE registers: `b = gc < s ? attack : release` as a compare and a
/// blend, `s = flush(b·(gc − s) + s)` (unfused; `flush_denormal`: |s| below the smallest
/// normal reads 0).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.1")]
unsafe fn ballistics_sse41(attack: f32, release: f32, s: f32, gain: &mut [f32]) -> f32 {
    use std::arch::x86_64::*;
    let (att, rel) = (_mm_set_ss(attack), _mm_set_ss(release));
    let (abs, tiny) = (
        _mm_set_ss(f32::from_bits(0x7FFF_FFFF)),
        _mm_set_ss(f32::MIN_POSITIVE),
    );
    let mut sv = _mm_set_ss(s);
    for g in gain.iter_mut() {
        let gc = _mm_set_ss(*g);
        let b = _mm_blendv_ps(rel, att, _mm_cmplt_ss(gc, sv));
        let n = _mm_add_ss(_mm_mul_ss(b, _mm_sub_ss(gc, sv)), sv);
        // |n| < MIN_POSITIVE (false for NaN: kept, as `flush_denormal` keeps it)
        sv = _mm_andnot_ps(_mm_cmplt_ss(_mm_and_ps(n, abs), tiny), n);
        *g = _mm_cvtss_f32(sv);
    }
    _mm_cvtss_f32(sv)
}

#[inline(always)]
fn gains(p: &CompressorParams, state: &mut State, level: &mut [f32], gain: &mut [f32]) {
    if p.detector == 0 {
        for v in level.iter_mut() {
            *v = log2_approx(*v);
        }
    } else {
        let b = p.rms_step;
        let mut ms = state.mean_square;
        for v in level.iter_mut() {
            let x = *v;
            ms = flush_denormal(madd(b, x - ms, ms));
            *v = 0.5 * log2_approx(ms);
        }
        state.mean_square = ms;
    }
    for (g, &l) in gain.iter_mut().zip(level.iter()) {
        *g = gain_computer(p, l);
    }
    state.gain_l2 = ballistics(p, state.gain_l2, gain);
    for g in gain.iter_mut() {
        *g = exp2_approx(*g + p.makeup_l2);
    }
}
