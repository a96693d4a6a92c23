//! GPU twin of [`super::cpu`]: `shaders/width.wgsl`, a recursive stage (`gpu::recursive`)
//! of one lane per song (the pair is processed together).

use super::Width;
use crate::ops::eq::gpu::section_words;
use crate::ops::kind::Recursive;

/// The stage: side gain, unchanged, bass mono, then the mid all-pass and the two side
/// high-pass sections (zeros without bass mono); three sections' `[ic1, ic2]` of state.
pub fn recursive(w: &Width) -> Recursive {
    let mut words = vec![
        w.side_gain.to_bits(),
        w.unchanged as u32,
        w.bass_mono.is_some() as u32,
    ];
    match &w.bass_mono {
        Some(b) => {
            words.extend(section_words(&b.mid_all_pass));
            b.side_high_pass
                .iter()
                .for_each(|s| words.extend(section_words(s)));
        }
        None => words.extend([0; 18]),
    }
    Recursive {
        op: "width",
        words,
        lanes: 1,
        state_words: 6,
        init: Vec::new(),
        readout: None,
    }
}
