//! CPU twin of the true-peak interpolator of [`super`]: block-wise, the taps of every stage
//! and phase summed in index order (`acc += h·x`, no fused multiply-add; the symmetric 2×
//! stage folded, `acc += h_j·(x_j + x_{n−1−j})`), many points side by side in registers.

use super::{FINE_TAPS, HALF_TAPS, REACH, SPAN};
use crate::core::arith::madd;
use rayon::prelude::*;

/// Frames per block (scratch size; does not change the result).
pub const BLOCK_FRAMES: usize = 1024;
/// 2× values of one block: `2·(len + FINE_TAPS/2)`.
const U_LEN: usize = 2 * (BLOCK_FRAMES + FINE_TAPS / 2);

/// Raises `out[i]` to the oversampled peak of frame `t₀ + i` of one channel: the largest
/// `|x̂(t + p/16)|`, `p = 0 … 15`. `window` holds `x[t₀ − REACH + 1 .. t₀ + len + REACH]`
/// (`len + SPAN − 1` samples, `len = out.len() ≤ BLOCK_FRAMES`); `taps` is
/// [`super::design`]'s layout in f32.
///
/// Every point is its own sum over the taps in index order; points are computed [`LANES`]
/// at a time with their accumulators in registers (AVX2 where the CPU has it, chosen at run
/// time; AVX-512 where it has that), which changes nothing in any sum.
pub fn peak_block(taps: &[f32], window: &[f32], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        // a block shorter than the AVX-512 build's points at a time (the screen's groups)
        // runs 64 at a time, not one by one
        if std::arch::is_x86_feature_detected!("avx512f") && out.len() >= 4 * LANES {
            // SAFETY: the CPU has AVX-512F (checked just above)
            unsafe { peak_block_avx512(taps, window, out) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above)
            unsafe { peak_block_avx2(taps, window, out) };
            return;
        }
    }
    peak_block_with::<LANES>(taps, window, out)
}

/// Points summed side by side (8 SSE registers of accumulators; twice and four times as
/// many for AVX2 and AVX-512, 8 registers each).
const LANES: usize = 32;

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn peak_block_avx2(taps: &[f32], window: &[f32], out: &mut [f32]) {
    peak_block_with::<{ 2 * LANES }>(taps, window, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn peak_block_avx512(taps: &[f32], window: &[f32], out: &mut [f32]) {
    peak_block_with::<{ 4 * LANES }>(taps, window, out)
}

/// Fills `acc` with `point(k)` for every `k`, `B` points at a time with `block(k)` (points
/// `k .. k + B`); the last `B` points as one more block, some of them again (the same sums:
/// the same values); one by one only when `acc` is shorter than `B`.
#[inline(always)]
fn in_blocks<const B: usize>(
    acc: &mut [f32],
    block: impl Fn(usize) -> [f32; B],
    point: impl Fn(usize) -> f32,
) {
    let n = acc.len();
    let mut k = 0;
    while k + B <= n {
        acc[k..k + B].copy_from_slice(&block(k));
        k = if k + B < n && k + 2 * B > n {
            n - B
        } else {
            k + B
        };
    }
    for (i, av) in acc[k..].iter_mut().enumerate() {
        *av = point(k + i);
    }
}

/// `acc[k] = Σ_j h[j]·(x[k + j] + x[k + n − 1 − j])` for `k < acc.len()`, `j < h.len()`, in
/// index order of `j`, `B` points at a time: a symmetric FIR of `n = 2·h.len()` taps whose
/// first half is `h`, folded (each pair of samples added, then weighted).
#[inline(always)]
fn fir_folded_into<const B: usize>(h: &[f32], x: &[f32], acc: &mut [f32]) {
    let last = 2 * h.len() - 1;
    in_blocks::<B>(
        acc,
        |k| {
            let mut a = [0.0f32; B];
            for (j, &hj) in h.iter().enumerate() {
                let xs: &[f32; B] = x[k + j..k + j + B].try_into().unwrap();
                let ys: &[f32; B] = x[k + last - j..k + last - j + B].try_into().unwrap();
                for ((av, &xv), &yv) in a.iter_mut().zip(xs).zip(ys) {
                    *av = madd(hj, xv + yv, *av);
                }
            }
            a
        },
        |k| {
            h.iter().enumerate().fold(0.0f32, |a, (j, &hj)| {
                madd(hj, x[k + j] + x[k + last - j], a)
            })
        },
    );
}

/// `acc[k] = Σ_j h[j]·x[k + j]` for `k < acc.len()`, in index order of `j`, `B` points at
/// a time.
#[inline(always)]
fn fir_into<const B: usize>(h: &[f32], x: &[f32], acc: &mut [f32]) {
    in_blocks::<B>(
        acc,
        |k| {
            let mut a = [0.0f32; B];
            for (j, &hj) in h.iter().enumerate() {
                let xs: &[f32; B] = x[k + j..k + j + B].try_into().unwrap();
                for (av, &xv) in a.iter_mut().zip(xs) {
                    *av = madd(hj, xv, *av);
                }
            }
            a
        },
        |k| {
            h.iter()
                .enumerate()
                .fold(0.0f32, |a, (j, &hj)| madd(hj, x[k + j], a))
        },
    );
}

#[inline(always)]
fn peak_block_with<const B: usize>(taps: &[f32], window: &[f32], out: &mut [f32]) {
    let len = out.len();
    debug_assert!(len <= BLOCK_FRAMES && window.len() >= len + SPAN - 1);
    let (half, fine) = taps.split_at(HALF_TAPS);
    // stage 1: u[2i] = x[t_lo + i], u[2i + 1] = x̂(t_lo + i + ½), t_lo = t₀ − FINE_TAPS/4;
    // x[t_lo + i] = window[i + HALF_TAPS/2 − 1], the half point reads window[i + j]
    let n = len + FINE_TAPS / 2;
    let mut odd = [0.0f32; BLOCK_FRAMES + FINE_TAPS / 2];
    let odd = &mut odd[..n];
    fir_folded_into::<B>(&half[..HALF_TAPS / 2], window, odd);
    let mut u = [0.0f32; U_LEN];
    let u = &mut u[..2 * n];
    for (i, (pair, &o)) in u.chunks_exact_mut(2).zip(odd.iter()).enumerate() {
        pair[0] = window[i + HALF_TAPS / 2 - 1];
        pair[1] = o;
    }
    fine_stage::<B>(fine, u, out);
}

/// Stage 2 of [`peak_block_with`]: raises `out[i]` (`len` frames) with the largest `|u|` of
/// frame `t₀ + i`'s two 2× values and its 14 points of the 8× stage, `u` (`2·(len +
/// FINE_TAPS/2)` values) the 2× sequence from frame `t₀ − FINE_TAPS/4` on.
#[inline(always)]
fn fine_stage<const B: usize>(fine: &[f32], u: &[f32], out: &mut [f32]) {
    let len = out.len();
    // the 2× points of frame t₀ + i are u[2i + FINE_TAPS/2] (the sample) and the next
    let mut v = [0.0f32; 2 * BLOCK_FRAMES];
    let v = &mut v[..2 * len];
    for (vm, &um) in v.iter_mut().zip(&u[FINE_TAPS / 2..FINE_TAPS / 2 + 2 * len]) {
        *vm = um.abs();
    }
    // stage 2: the point s + q/8 of 2× position s = 2t₀ + m reads u[m + 1 + j]
    let mut acc = [0.0f32; 2 * BLOCK_FRAMES];
    let acc = &mut acc[..2 * len];
    for phase in fine.chunks_exact(FINE_TAPS) {
        fir_into::<B>(phase, &u[1..], acc);
        for (vm, &a) in v.iter_mut().zip(acc.iter()) {
            *vm = vm.max(a.abs());
        }
    }
    for (o, pair) in out.iter_mut().zip(v.chunks_exact(2)) {
        *o = o.max(pair[0]).max(pair[1]);
    }
}

/// The 8× stage of [`peak_block`] on a 2× sequence given (the screen's estimates,
/// [`super::screen`]): raises `out[i]` (`len ≤ BLOCK_FRAMES` frames) with frame `t₀ + i`'s
/// 16 points as the interpolator's 8× stage reads them from `u`, the 2× sequence from frame
/// `t₀ − FINE_TAPS/4` on (`2·(len + FINE_TAPS/2)` values: sample, half point, …).
pub fn fine_block(taps: &[f32], u: &[f32], out: &mut [f32]) {
    debug_assert!(out.len() <= BLOCK_FRAMES && u.len() >= 2 * (out.len() + FINE_TAPS / 2));
    let fine = &taps[HALF_TAPS..];
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F (checked just above)
            unsafe { fine_block_avx512(fine, u, out) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above)
            unsafe { fine_block_avx2(fine, u, out) };
            return;
        }
    }
    fine_stage::<LANES>(fine, u, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fine_block_avx2(fine: &[f32], u: &[f32], out: &mut [f32]) {
    fine_stage::<{ 2 * LANES }>(fine, u, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn fine_block_avx512(fine: &[f32], u: &[f32], out: &mut [f32]) {
    fine_stage::<{ 4 * LANES }>(fine, u, out)
}

/// True peak of planar audio, linear: the largest sample or interpolated point over every
/// channel, the reconstruction taken from `REACH` frames before the first sample to `REACH`
/// after the last (silence outside the audio), so ringing at abrupt edges counts. The
/// channels are measured side by side (a largest value does not depend on the order).
pub fn true_peak(taps: &[f32], channels: &[Vec<f32>]) -> f32 {
    channels
        .par_iter()
        .map(|ch| {
            let mut peak = 0.0f32;
            for_each_peak_block(taps, ch, |_, e| {
                peak = e.iter().fold(peak, |m, &v| m.max(v));
            });
            peak
        })
        .reduce(|| 0.0, f32::max)
}

/// The same reconstruction as [`true_peak`], kept per hop of `hop_frames` frames: element
/// `b` is the largest point of frames `b·hop .. (b + 1)·hop` over every channel (the ringing
/// before the first frame counts in hop 0, after the last frame in the last hop). Its
/// largest element is [`true_peak`] exactly. No frames → empty.
pub fn true_peak_per_hop(taps: &[f32], channels: &[Vec<f32>], hop_frames: usize) -> Vec<f32> {
    let frames = channels.iter().map(Vec::len).max().unwrap_or(0);
    let hop = hop_frames.max(1);
    let hops = frames.div_ceil(hop);
    if hops == 0 {
        return Vec::new();
    }
    let last = hops - 1;
    channels
        .par_iter()
        .map(|ch| {
            let mut out = vec![0.0f32; hops];
            for_each_peak_block(taps, ch, |first, e| {
                for (i, &v) in e.iter().enumerate() {
                    let t = (first + i as isize).max(0) as usize;
                    let b = (t / hop).min(last);
                    out[b] = out[b].max(v);
                }
            });
            out
        })
        .reduce(
            || vec![0.0f32; hops],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x = x.max(y);
                }
                a
            },
        )
}

/// Calls `f(first_frame, peaks)` for every block of channel `ch`: `peaks[i]` is the
/// oversampled peak of frame `first_frame + i`, frames running from `−REACH` to
/// `len + REACH` (silence outside the audio).
fn for_each_peak_block(taps: &[f32], ch: &[f32], mut f: impl FnMut(isize, &[f32])) {
    let mut e = [0.0f32; BLOCK_FRAMES];
    // frame t ∈ [−REACH, len + REACH) reads x[t − REACH + 1 ..= t + REACH]: a block of
    // frames from stream frame `start` = t + REACH reads x[start + 1 − SPAN .. start + len];
    // read in place inside the song, from a zero-padded copy at its edges
    let mut edge = vec![0.0f32; BLOCK_FRAMES + SPAN - 1];
    let frames = ch.len() + 2 * REACH;
    let mut start = 0;
    while start < frames {
        let len = BLOCK_FRAMES.min(frames - start);
        let e = &mut e[..len];
        e.fill(0.0);
        let (lo, hi) = (start as isize + 1 - SPAN as isize, start + len);
        let window = if lo >= 0 && hi <= ch.len() {
            &ch[lo as usize..hi]
        } else {
            let w = &mut edge[..len + SPAN - 1];
            for (i, v) in w.iter_mut().enumerate() {
                let x = lo + i as isize;
                *v = if x >= 0 && (x as usize) < ch.len() {
                    ch[x as usize]
                } else {
                    0.0
                };
            }
            &edge[..len + SPAN - 1]
        };
        peak_block(taps, window, e);
        f(start as isize - REACH as isize, e);
        start += len;
    }
}
