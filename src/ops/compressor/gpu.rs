//! GPU twin of [`super::cpu`]: `shaders/compressor.wgsl`, a recursive stage
//! (`gpu::recursive`) of one lane per song (the channels are linked), keyed by the
//! sidechain buffer when the stage has one.

use super::CompressorParams;
use crate::ops::kind::Recursive;

/// The stage: the [`CompressorParams`] words; state `[smoothed gain, mean square]`.
pub fn recursive(p: &CompressorParams) -> Recursive {
    Recursive {
        op: "compressor",
        words: bytemuck::cast_slice(std::slice::from_ref(p)).to_vec(),
        lanes: 1,
        state_words: 2,
        init: Vec::new(),
        readout: None,
    }
}
