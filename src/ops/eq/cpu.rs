//! CPU path of a prepared [`Eq`], whole songs ([`process`]) or time chunks ([`Stream`],
//! [`process_chunk`]). Minimum phase: the section recursion [`run_sections_state`] (twin of
//! `shaders/eq.wgsl` and `shaders/sections.wgsl`). Linear phase: the convolution engine
//! ([`convolve::cpu`], twin of `shaders/convolve.wgsl`).

use crate::core::arith::madd;
use rayon::prelude::*;

use super::{Eq, Svf};
use crate::ops::convolve;

/// Filter states with a magnitude below this are set to 0 after every sample (explicit
/// denormal flush; far below 24-bit resolution).
pub const FLUSH_BELOW: f32 = 1e-30;

/// Runs the cascade `sections` over `x` in place, f32, sample by sample through all
/// sections, states starting at zero (see [`run_sections_state`]).
pub fn run_sections(x: &mut [f32], sections: &[Svf]) {
    let mut state = vec![[0.0f32; 2]; sections.len()];
    run_sections_state(x, sections, &mut state);
}

/// Runs the cascade `sections` over `x` in place, f32, sample by sample through all
/// sections, continuing from `state` (`[ic1, ic2]` per section, `state.len()` =
/// `sections.len()`) and leaving the final states there: consecutive calls on the pieces
/// of a signal give the bits of one call on the whole. Per section, in this exact order
/// (`v0` is the section's input; `madd` is `a·b + c`, which a GPU driver may fuse):
/// ```text
/// v3 = v0 − ic2
/// d1 = madd(a2, v3, −(c1·ic1))      v1 = ic1 + d1
/// d2 = madd(a3, v3, a2·ic1)         v2 = ic2 + d2
/// ic1 = ic1 + 2·d1
/// ic2 = ic2 + 2·d2
/// out = madd(m2, v2, madd(m0, v0, m1·v1))
/// ```
/// then each state with |ic| < [`FLUSH_BELOW`] becomes 0. This is Simper's recursion
/// (`v1 = a1·ic1 + a2·v3`, `v2 = ic2 + a2·ic1 + a3·v3`, `ic = 2·v − ic`) written in
/// increments, `c1 = 1 − a1`: at low cut-offs a1 ≈ 1 and g = a2 ≪ 1, so every product
/// in the recursion is small beside the states and each state is updated by one plain
/// addition. A fused multiply-add (one rounding less) then moves a state by a fraction of
/// an ulp of the small product instead of an ulp of the state, which the slow poles
/// (time constant ≈ 1/(g·k) samples) would otherwise accumulate (issue 11,
/// `tests/fma_growth.rs`).
pub fn run_sections_state(x: &mut [f32], sections: &[Svf], state: &mut [[f32; 2]]) {
    assert_eq!(state.len(), sections.len(), "one state per section");
    for v in x.iter_mut() {
        let mut v0 = *v;
        for (c, st) in sections.iter().zip(state.iter_mut()) {
            v0 = section_tick(c, st, v0);
        }
        *v = v0;
    }
}

/// [`run_sections_state`] on a stereo pair in one loop: two independent recursions side by
/// side (each channel's arithmetic unchanged), so one core overlaps their latencies.
pub fn run_sections_pair(
    [l, r]: [&mut [f32]; 2],
    sections: &[Svf],
    [sl, sr]: [&mut [[f32; 2]]; 2],
) {
    run_sections_two((l, sections, sl), (r, sections, sr));
}

/// Two independent [`run_sections_state`] runs (each its own signal, sections and states)
/// in one loop when their signals and section counts match (3 to 8 sections: as one
/// vector skewed in time, [`super::skewed`]), else one after the other: the same arithmetic
/// either way.
pub fn run_sections_two(
    (a, ca, sa): (&mut [f32], &[Svf], &mut [[f32; 2]]),
    (b, cb, sb): (&mut [f32], &[Svf], &mut [[f32; 2]]),
) {
    assert!(
        sa.len() == ca.len() && sb.len() == cb.len(),
        "one state per section"
    );
    if a.len() != b.len() || ca.len() != cb.len() {
        run_sections_state(a, ca, sa);
        run_sections_state(b, cb, sb);
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2
        return unsafe { two_avx2((a, ca, sa), (b, cb, sb)) };
    }
    two((a, ca, sa), (b, cb, sb));
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn two_avx2(
    a: (&mut [f32], &[Svf], &mut [[f32; 2]]),
    b: (&mut [f32], &[Svf], &mut [[f32; 2]]),
) {
    two(a, b);
}

#[inline(always)]
fn two(
    (a, ca, sa): (&mut [f32], &[Svf], &mut [[f32; 2]]),
    (b, cb, sb): (&mut [f32], &[Svf], &mut [[f32; 2]]),
) {
    // 3 to 8 sections: one skewed vector of 2 lanes per section (same arithmetic; with
    // fewer, one section's own recursion is the bound either way)
    macro_rules! skewed {
        ($(($s:literal, $l:literal))*) => {
            match ca.len() {
                $($s if a.len() >= 2 * $s => {
                    return super::skewed::run::<$s, $l>((a, ca, sa), (b, cb, sb));
                })*
                _ => {}
            }
        };
    }
    skewed!((3, 6)(4, 8)(5, 10)(6, 12)(7, 14)(8, 16));
    for (x, y) in a.iter_mut().zip(b.iter_mut()) {
        let (mut va, mut vb) = (*x, *y);
        for (((c, d), s), t) in ca.iter().zip(cb).zip(sa.iter_mut()).zip(sb.iter_mut()) {
            va = section_tick(c, s, va);
            vb = section_tick(d, t, vb);
        }
        (*x, *y) = (va, vb);
    }
}

/// One sample `v0` through one section `c` with state `st` (see [`run_sections_state`]
/// for the arithmetic); twin of `section_tick` in `shaders/sections.wgsl`.
#[inline(always)]
pub fn section_tick(c: &Svf, st: &mut [f32; 2], v0: f32) -> f32 {
    let [ic1, ic2] = *st;
    let v3 = v0 - ic2;
    let d1 = madd(c.a2, v3, -(c.c1 * ic1));
    let d2 = madd(c.a3, v3, c.a2 * ic1);
    let v1 = ic1 + d1;
    let v2 = ic2 + d2;
    let n1 = ic1 + 2.0 * d1;
    let n2 = ic2 + 2.0 * d2;
    st[0] = if n1.abs() < FLUSH_BELOW { 0.0 } else { n1 };
    st[1] = if n2.abs() < FLUSH_BELOW { 0.0 } else { n2 };
    madd(c.m2, v2, madd(c.m0, v0, c.m1 * v1))
}

/// What the EQ carries from one time chunk to the next: per channel, the section states
/// (minimum phase) or the convolution stream (linear phase: delay line and last
/// half-frame).
#[derive(Debug, Clone)]
pub struct Stream {
    channels: Vec<ChannelState>,
    /// scratch for one channel's convolution output
    scratch: Vec<f32>,
}

#[derive(Debug, Clone)]
enum ChannelState {
    Sections(Vec<[f32; 2]>),
    Fir(convolve::cpu::Stream),
}

impl Stream {
    /// The state of `eq` at the start of a signal of `channels` channels.
    pub fn new(eq: &Eq, channels: usize) -> Stream {
        let one = match eq {
            Eq::MinimumPhase { sections } => ChannelState::Sections(vec![[0.0; 2]; sections.len()]),
            Eq::LinearPhase { kernel, .. } => ChannelState::Fir(convolve::cpu::Stream::new(kernel)),
        };
        Stream {
            channels: vec![one; channels],
            scratch: Vec::new(),
        }
    }
}

/// Frames by which the streamed output lags the input: 0 (minimum phase) or the FIR's
/// `latency_frames` (linear phase; the whole-song [`process`] removes it).
pub fn latency_frames(eq: &Eq) -> usize {
    match eq {
        Eq::MinimumPhase { .. } => 0,
        Eq::LinearPhase { latency_frames, .. } => *latency_frames,
    }
}

/// Processes the next chunk in place (a stereo pair in one loop, other layouts channel by
/// channel in parallel, for the sections; one channel after the other for the convolution,
/// which parallelises inside). Linear phase: every channel a
/// multiple of [`convolve::BLOCK_FRAMES`] frames, output the causal convolution (lagging
/// by [`latency_frames`]); minimum phase: any length.
pub fn process_chunk(eq: &Eq, st: &mut Stream, x: &mut [Vec<f32>]) {
    assert_eq!(
        x.len(),
        st.channels.len(),
        "stream made for another channel count"
    );
    match eq {
        Eq::MinimumPhase { sections } => {
            if let ([l, r], [ChannelState::Sections(sl), ChannelState::Sections(sr)]) =
                (&mut x[..], &mut st.channels[..])
            {
                if l.len() == r.len() {
                    run_sections_pair([l, r], sections, [sl, sr]);
                    return;
                }
            }
            x.par_iter_mut()
                .zip(st.channels.par_iter_mut())
                .for_each(|(ch, state)| match state {
                    ChannelState::Sections(s) => run_sections_state(ch, sections, s),
                    ChannelState::Fir(_) => panic!("stream made for a linear-phase EQ"),
                });
        }
        Eq::LinearPhase { kernel, .. } => {
            for (ch, state) in x.iter_mut().zip(st.channels.iter_mut()) {
                let ChannelState::Fir(s) = state else {
                    panic!("stream made for a minimum-phase EQ");
                };
                st.scratch.resize(ch.len(), 0.0);
                convolve::cpu::process_chunk(kernel, s, ch, &mut st.scratch);
                ch.copy_from_slice(&st.scratch);
            }
        }
    }
}

/// Runs the EQ on every channel of a whole song in place, latency removed (same length
/// out, lined up with the input): a [`Stream`] given the whole song as one chunk (minimum
/// phase: the recursion takes any length) or fed in chunks by
/// [`convolve::cpu::run_streamed`] (linear phase).
pub fn process(eq: &Eq, channels: &mut [Vec<f32>]) {
    let mut st = Stream::new(eq, channels.len());
    match eq {
        Eq::MinimumPhase { .. } => process_chunk(eq, &mut st, channels),
        Eq::LinearPhase { latency_frames, .. } => {
            convolve::cpu::run_streamed(channels, *latency_frames, |x| {
                process_chunk(eq, &mut st, x)
            })
        }
    }
}
