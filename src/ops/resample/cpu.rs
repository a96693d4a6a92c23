//! CPU twin of `shaders/resample.wgsl` (the specification is in [`super`]): every output
//! frame's [`super::LANES`] partial sums in the kernel's order, pieces of the output side by
//! side with rayon (each frame is computed alone, so the pieces change nothing).

use rayon::prelude::*;

use super::{Filter, LANES};
use crate::core::arith::madd;

/// Output frames per parallel piece.
const PIECE: usize = 1 << 14;

/// `x` (one channel) converted by `filter` to `frames` output frames.
pub fn resample(filter: &Filter, x: &[f32], frames: usize) -> Vec<f32> {
    let mut y = vec![0.0f32; frames];
    y.par_chunks_mut(PIECE).enumerate().for_each(|(p, out)| {
        let mut window = vec![0.0f32; filter.taps];
        for (i, o) in out.iter_mut().enumerate() {
            let (n, phi) = filter.position(p * PIECE + i);
            // input frames n − taps/2 + 1 .. n + taps/2, zeros outside the signal
            let first = n as isize + 1 - (filter.taps / 2) as isize;
            let w: &[f32] = match usize::try_from(first) {
                Ok(f) if f + filter.taps <= x.len() => &x[f..f + filter.taps],
                _ => {
                    for (k, v) in window.iter_mut().enumerate() {
                        let at = first + k as isize;
                        *v = usize::try_from(at)
                            .ok()
                            .and_then(|a| x.get(a))
                            .copied()
                            .unwrap_or(0.0);
                    }
                    &window
                }
            };
            *o = dot(filter.phase(phi), w);
        }
    });
    y
}

/// One output frame: the partial sums and their fixed tree (see [`super`]).
fn dot(c: &[f32], x: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2
        return unsafe { dot_avx2(c, x) };
    }
    dot_plain(c, x)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dot_avx2(c: &[f32], x: &[f32]) -> f32 {
    dot_plain(c, x)
}

#[inline(always)]
fn dot_plain(c: &[f32], x: &[f32]) -> f32 {
    let mut s = [0.0f32; LANES];
    for (cc, xx) in c.chunks_exact(LANES).zip(x.chunks_exact(LANES)) {
        for l in 0..LANES {
            s[l] = madd(cc[l], xx[l], s[l]);
        }
    }
    ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The partial sums' order is the specification's: a change of order changes bits on
    /// these values (a plain running sum does not give the same result).
    #[test]
    fn partial_sums_in_the_specified_order() {
        let c: Vec<f32> = (0..32).map(|k| 1.0 / (k as f32 + 1.5)).collect();
        let x: Vec<f32> = (0..32)
            .map(|k| ((k * 7919) % 97) as f32 / 97.0 - 0.5)
            .collect();
        let mut s = [0.0f32; LANES];
        for k in 0..32 {
            s[k % LANES] += c[k] * x[k];
        }
        let want = ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
        assert_eq!(dot(&c, &x).to_bits(), want.to_bits());
        let running = c.iter().zip(&x).fold(0.0f32, |a, (c, x)| c * x + a);
        assert_ne!(
            running.to_bits(),
            want.to_bits(),
            "pick values that tell the orders apart"
        );
    }
}
