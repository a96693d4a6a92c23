//! The loudness meter's signal stage (ITU-R BS.1770): K-weighting and block energies. Each
//! channel runs through the two K-weighting filters (the high shelf, then the RLB
//! high-pass) as f32 state-variable sections, the arithmetic of the minimum-phase EQ
//! ([`crate::ops::eq::cpu::run_sections_state`], `shaders/sections.wgsl`), and the squares
//! of the filtered samples are summed in f32, in time order, over **sub-blocks** of
//! [`sub_block_frames`] frames (about 1 ms; a whole number of them makes 100 ms). The
//! gating, integration, loudness range and the momentary / short-term windows are formed on
//! the host from these energies in f64 ([`crate::loudness::gating`]). CPU twin in [`cpu`].
//!
//! The K-weighting filters are those of libebur128 at any rate: the shelf's analog
//! prototype (f0 1681.97 Hz, +4.00 dB, Q 0.7072) and the high-pass (f0 38.135 Hz, Q 0.5003)
//! bilinear-transformed with prewarping at f0. As SVF sections (Simper's form, coefficients
//! in f64 rounded once to f32): shelf g = tan(π f0/fs), k = 1/Q, m = (Vh, (Vb − Vh)/Q,
//! 1 − Vh); high-pass m = a0·(1, −k, −1) with a0 = 1 + g/Q + g² (BS.1770 leaves its numerator
//! 1 − 2z⁻¹ + z⁻² unnormalised). At 48 kHz they are the BS.1770 table's biquads.

pub mod cpu;

use crate::ops::eq::Svf;

/// The two K-weighting sections at `sample_rate`: the high shelf, then the RLB high-pass.
pub fn k_weighting(sample_rate: u32) -> [Svf; 2] {
    let rate = f64::from(sample_rate);
    let svf = |f0: f64, q: f64, m: [f64; 3]| {
        Svf::new((std::f64::consts::PI * f0 / rate).tan(), 1.0 / q, m)
    };
    let (f0, g_db, q) = (1681.974450955533, 3.999843853973347, 0.7071752369554196);
    let vh = 10f64.powf(g_db / 20.0);
    let vb = vh.powf(0.4996667741545416);
    let shelf = svf(f0, q, [vh, (vb - vh) / q, 1.0 - vh]);
    let (f0, q) = (38.13547087602444, 0.5003270373238773);
    // BS.1770's high-pass has numerator 1 − 2z⁻¹ + z⁻² unnormalised: the bilinear
    // high-pass times its a0 = 1 + K/Q + K² (+0.043 dB at 48 kHz), as libebur128 keeps it
    let k = (std::f64::consts::PI * f0 / rate).tan();
    let a0 = 1.0 + k / q + k * k;
    let high_pass = svf(f0, q, [a0, -a0 / q, -a0]);
    [shelf, high_pass]
}

/// Frames in 100 ms at `sample_rate`, rounded as libebur128 rounds them.
pub fn frames_per_100ms(sample_rate: u32) -> usize {
    (sample_rate as usize + 5) / 10
}

/// Frames of one sub-block at `sample_rate`: the largest divisor of
/// [`frames_per_100ms`] that is at most 1 ms (at least one frame). 44.1 kHz: 42 frames,
/// 48 kHz: 48.
pub fn sub_block_frames(sample_rate: u32) -> usize {
    let n = frames_per_100ms(sample_rate);
    let most = (sample_rate as usize / 1000).max(1);
    (1..=most).rev().find(|d| n.is_multiple_of(*d)).unwrap_or(1)
}

pub mod gpu;

/// The meter as a Plan stage (`Stage::Process` of [`crate::ops::Processor::Meter`]): it
/// leaves its buffer as it is and reads, per channel, the sub-block energies of the song's
/// `frames` frames ([`cpu::Stream`], `shaders/meter.wgsl`).
#[derive(Debug, Clone, PartialEq)]
pub struct Meter {
    /// the K-weighting sections
    pub k: [Svf; 2],
    /// frames per sub-block
    pub sub: usize,
    /// frames of the song metered
    pub frames: usize,
}

impl Meter {
    /// The meter of a song of `frames` frames at `sample_rate`.
    pub fn new(sample_rate: u32, frames: usize) -> Meter {
        Meter {
            k: k_weighting(sample_rate),
            sub: sub_block_frames(sample_rate),
            frames,
        }
    }
}
