//! CPU twin of `shaders/polarity.wgsl`.

use crate::ops::elementwise::Params;

/// Negates `x` (channel `channel`) when `params[channel]` is non-zero; a sign flip, exact.
pub fn apply(params: &Params, channel: usize, x: &mut [f32]) {
    if params[channel] != 0.0 {
        for v in x {
            *v = -*v;
        }
    }
}
