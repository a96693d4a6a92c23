//! CPU twin of the true-peak interpolator of [`super`]: block-wise, vectorisable, the taps
//! of every phase summed in index order (`acc = acc + h·x`, no fused multiply-add).

use super::TAPS;

/// Frames per block (scratch size; does not change the result).
pub const BLOCK_FRAMES: usize = 1024;

/// Raises `out[i]` to the oversampled peak of frame `t₀ + i` of one channel:
/// `max(|x[t]|, max_p |x̂(t + p/F)|)`. `window` holds `x[t₀ − TAPS/2 + 1 .. t₀ + len + TAPS/2]`
/// (`len + TAPS − 1` samples, `len = out.len() ≤ BLOCK_FRAMES`).
pub fn peak_block(taps: &[f32], window: &[f32], out: &mut [f32]) {
    let len = out.len();
    debug_assert!(len <= BLOCK_FRAMES && window.len() >= len + TAPS - 1);
    for (o, &x) in out.iter_mut().zip(&window[TAPS / 2 - 1..TAPS / 2 - 1 + len]) {
        *o = o.max(x.abs());
    }
    let mut acc = [0.0f32; BLOCK_FRAMES];
    let acc = &mut acc[..len];
    for phase in taps.chunks_exact(TAPS) {
        acc.fill(0.0);
        for (j, &h) in phase.iter().enumerate() {
            for (a, &x) in acc.iter_mut().zip(&window[j..j + len]) {
                *a = *a + h * x;
            }
        }
        for (o, &a) in out.iter_mut().zip(acc.iter()) {
            *o = o.max(a.abs());
        }
    }
}

/// True peak of planar audio, linear: the largest sample or interpolated point over every
/// channel, the reconstruction taken from `TAPS/2` frames before the first sample to
/// `TAPS/2` after the last (silence outside the audio), so ringing at abrupt edges counts.
pub fn true_peak(taps: &[f32], channels: &[Vec<f32>]) -> f32 {
    let mut peak = 0.0f32;
    let mut e = [0.0f32; BLOCK_FRAMES];
    for ch in channels {
        // padded[i] = x[i − TAPS]; frames t ∈ [−TAPS/2, len + TAPS/2) read
        // padded[t + TAPS/2 + 1 ..= t + 3·TAPS/2]
        let mut padded = vec![0.0f32; ch.len() + 2 * TAPS];
        padded[TAPS..TAPS + ch.len()].copy_from_slice(ch);
        let frames = ch.len() + TAPS;
        let mut start = 0;
        while start < frames {
            let len = BLOCK_FRAMES.min(frames - start);
            let e = &mut e[..len];
            e.fill(0.0);
            peak_block(taps, &padded[start + 1..start + len + TAPS], e);
            peak = e.iter().fold(peak, |m, &v| m.max(v));
            start += len;
        }
    }
    peak
}
