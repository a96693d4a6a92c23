//! CPU twin of `shaders/gain.wgsl`.

/// `channel[i] *= gain`.
pub fn apply(channel: &mut [f32], gain: f32) {
    for x in channel {
        *x *= gain;
    }
}
