//! CPU twin of `shaders/chorus.wgsl`: the per-frame formula of [`super`], reading the dry
//! input from a ring buffer (the processing is in place) of a power-of-two length longer
//! than the longest delay, so slots not yet written read as the zeros before the start.

use super::{Chorus, LFO_TABLE_BITS};

/// Choruses `channels` in place (channel `c ≥ 2` reuses the right channel's phases).
pub fn process(ch: &Chorus, channels: &mut [Vec<f32>]) {
    let p = &ch.params;
    let frames = channels.iter().map(|c| c.len()).min().unwrap_or(0);
    if frames == 0 {
        return;
    }
    let voices = p.voices as usize;
    let max_delay = (p.delay_frames + p.depth_frames).ceil() as usize + 2;
    let ring_len = max_delay.next_power_of_two();
    let mask = ring_len - 1;
    let frac_bits = 32 - LFO_TABLE_BITS;
    let frac_mask = (1u32 << frac_bits) - 1;
    let frac_scale = 1.0 / (1u64 << frac_bits) as f32;
    let table = &ch.lfo_table;
    let mut ring = vec![0.0f32; ring_len];
    for (c, channel) in channels.iter_mut().enumerate() {
        let offsets = &ch.phase_offsets[c.min(1) * voices..(c.min(1) + 1) * voices];
        ring.fill(0.0);
        for (n, x) in channel[..frames].iter_mut().enumerate() {
            let dry = *x;
            ring[n & mask] = dry;
            let mut acc = 0.0f32;
            for &off in offsets {
                let phase = off.wrapping_add((n as u32).wrapping_mul(p.phase_inc));
                let i = (phase >> frac_bits) as usize;
                let fr = (phase & frac_mask) as f32 * frac_scale;
                let s = table[i] + fr * (table[i + 1] - table[i]);
                let d = p.delay_frames + p.depth_frames * s;
                let k = d as usize; // d ≥ 0: truncation is floor
                let t = d - k as f32;
                let a = ring[n.wrapping_sub(k) & mask];
                let b = ring[n.wrapping_sub(k + 1) & mask];
                acc += a + t * (b - a);
            }
            *x = p.dry * dry + p.wet * (acc * p.voice_gain);
        }
    }
}
