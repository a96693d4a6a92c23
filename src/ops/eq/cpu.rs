//! CPU twin of `shaders/eq.wgsl` (minimum phase) and of the convolution kernel
//! (linear phase): runs a prepared [`Eq`] in place.

use rayon::prelude::*;

use super::{Eq, Svf};
use crate::ops::convolve;

/// Filter states with a magnitude below this are set to 0 after every sample (explicit
/// denormal flush, done identically by the GPU kernel; far below 24-bit resolution).
pub const FLUSH_BELOW: f32 = 1e-30;

/// Runs the cascade `sections` over `x` in place, f32, sample by sample through all
/// sections, states starting at zero. Per section, in this exact order (no fused
/// multiply-add; `v0` is the section's input):
/// ```text
/// v3 = v0 − ic2
/// v1 = a1·ic1 + a2·v3
/// v2 = (ic2 + a2·ic1) + a3·v3
/// ic1 = 2·v1 − ic1
/// ic2 = 2·v2 − ic2
/// out = (m0·v0 + m1·v1) + m2·v2
/// ```
/// then each state with |ic| < [`FLUSH_BELOW`] becomes 0.
pub fn run_sections(x: &mut [f32], sections: &[Svf]) {
    let mut state = vec![[0.0f32; 2]; sections.len()];
    run_sections_state(x, sections, &mut state);
}

/// [`run_sections`] from the states `state` (`[ic1, ic2]` per section, one per section),
/// which it leaves as they are after the last sample: running a signal in pieces, the state
/// carried, gives exactly the result of one run.
pub fn run_sections_state(x: &mut [f32], sections: &[Svf], state: &mut [[f32; 2]]) {
    assert_eq!(state.len(), sections.len(), "one state per section");
    for v in x.iter_mut() {
        let mut v0 = *v;
        for (c, st) in sections.iter().zip(state.iter_mut()) {
            let [ic1, ic2] = *st;
            let v3 = v0 - ic2;
            let v1 = c.a1 * ic1 + c.a2 * v3;
            let v2 = ic2 + c.a2 * ic1 + c.a3 * v3;
            let n1 = 2.0 * v1 - ic1;
            let n2 = 2.0 * v2 - ic2;
            st[0] = if n1.abs() < FLUSH_BELOW { 0.0 } else { n1 };
            st[1] = if n2.abs() < FLUSH_BELOW { 0.0 } else { n2 };
            v0 = c.m0 * v0 + c.m1 * v1 + c.m2 * v2;
        }
        *v = v0;
    }
}

/// Runs the EQ on every channel in place (channels in parallel for the sections; the
/// convolution engine parallelises inside each channel).
pub fn process(eq: &Eq, channels: &mut [Vec<f32>]) {
    match eq {
        Eq::MinimumPhase { sections } => {
            channels
                .par_iter_mut()
                .for_each(|ch| run_sections(ch, sections));
        }
        Eq::LinearPhase {
            kernel,
            latency_frames,
        } => {
            for ch in channels.iter_mut() {
                let x = ch.clone();
                convolve::convolve_window_into(&x, kernel, *latency_frames, ch);
            }
        }
    }
}
