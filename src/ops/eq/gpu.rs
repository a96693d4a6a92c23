//! GPU twin of the minimum-phase EQ ([`super::cpu::run_sections_state`]):
//! `shaders/eq.wgsl`, a recursive stage (`gpu::recursive`) of one lane per channel.

use super::Svf;
use crate::ops::kind::Recursive;
use crate::plan::PLAN_CHANNELS;

/// Parameter words of one section (c1 a2 a3 m0 m1 m2), as `sections.wgsl` reads them.
pub fn section_words(s: &Svf) -> [u32; 6] {
    [s.c1, s.a2, s.a3, s.m0, s.m1, s.m2].map(f32::to_bits)
}

/// The stage: the section count, then each section's words; `[ic1, ic2]` per section and
/// channel of state.
pub fn recursive(sections: &[Svf]) -> Recursive {
    let mut words = vec![sections.len() as u32];
    words.extend(sections.iter().flat_map(section_words));
    Recursive {
        op: "eq",
        words,
        lanes: PLAN_CHANNELS,
        state_words: 2 * sections.len() * PLAN_CHANNELS,
        init: Vec::new(),
        readout: None,
    }
}
