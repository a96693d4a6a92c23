//! CPU twin of `shaders/mix.wgsl`.

use crate::core::arith::madd;

/// `dst[i] += gain * src[i]` over the common length.
pub fn apply(dst: &mut [f32], src: &[f32], gain: f32) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = madd(gain, *s, *d);
    }
}
