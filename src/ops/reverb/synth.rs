//! Synthetic room impulse responses (the ones under `scenes/irs/` come from here): early
//! reflections plus exponentially decaying noise whose highs die away faster than its lows,
//! independent per channel (decorrelated stereo). Host-side f64, deterministic per seed.

use std::path::Path;

use crate::error::Error;

/// Split frequency between the slow (low) and fast (high) decaying parts of the tail.
pub const DAMPING_SPLIT_HZ: f64 = 5000.0;
/// RT60 of the highs relative to the given RT60 (air absorption, soft surfaces).
pub const HF_RT60_RATIO: f64 = 0.6;
/// Early reflections per channel, between [`FIRST_REFLECTION_S`] and [`EARLY_END_S`].
pub const EARLY_REFLECTIONS: usize = 24;
/// Time of the earliest reflection.
pub const FIRST_REFLECTION_S: f64 = 0.003;
/// Time by which the early reflections are over and the diffuse tail has faded in.
pub const EARLY_END_S: f64 = 0.08;
/// Fade-out at the end of the IR.
pub const FADE_OUT_S: f64 = 0.05;
/// Largest sample allowed in a synthesised IR (unit energy per channel unless that would
/// exceed it).
pub const MAX_PEAK: f64 = 0.9;

/// xorshift64*: uniform noise in [-1, 1).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let v = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (v >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// A stereo room IR (`[left, right]`, f64) at `sample_rate`, `rt60_s` long (the tail
/// decays by 60 dB over that time below [`DAMPING_SPLIT_HZ`], faster above), with
/// [`EARLY_REFLECTIONS`] reflections per channel from 3 to 80 ms, a diffuse tail fading in
/// from 15 to 80 ms, and a [`FADE_OUT_S`] fade at the end. Each channel is scaled to unit
/// energy (both by the same factor, lowered if a peak would exceed [`MAX_PEAK`]).
pub fn synth_room_ir(sample_rate: u32, rt60_s: f64, seed: u64) -> [Vec<f64>; 2] {
    let rate = f64::from(sample_rate);
    let len = (rt60_s * rate).round().max(1.0) as usize;
    let decay = |t: f64, rt60: f64| (-(1000f64.ln()) * t / rt60).exp(); // −60 dB at rt60
    let lp = 1.0 - (-2.0 * std::f64::consts::PI * DAMPING_SPLIT_HZ / rate).exp();
    let mut out = [vec![0.0; len], vec![0.0; len]];
    for (c, h) in out.iter_mut().enumerate() {
        let mut noise = Noise(
            seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                ^ (c as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03),
        );
        for _ in 0..8 {
            noise.next();
        }
        // diffuse tail: low and high parts decaying at their own rates
        let mut low = 0.0;
        let (t0, t1) = (0.015, EARLY_END_S);
        for (i, v) in h.iter_mut().enumerate() {
            let t = i as f64 / rate;
            let n = noise.next();
            low += lp * (n - low);
            let fade_in = if t < t0 {
                0.0
            } else if t < t1 {
                0.5 - 0.5 * (std::f64::consts::PI * (t - t0) / (t1 - t0)).cos()
            } else {
                1.0
            };
            *v = fade_in * (low * decay(t, rt60_s) + (n - low) * decay(t, rt60_s * HF_RT60_RATIO));
        }
        // early reflections: ∝ 1/distance, random sign, decaying with the room
        for _ in 0..EARLY_REFLECTIONS {
            let t = FIRST_REFLECTION_S
                + (noise.next() * 0.5 + 0.5) * (EARLY_END_S - FIRST_REFLECTION_S);
            let i = (t * rate) as usize;
            if i < len {
                h[i] += 1.5
                    * noise.next().signum()
                    * (FIRST_REFLECTION_S / t).sqrt()
                    * decay(t, rt60_s);
            }
        }
        let fade = ((FADE_OUT_S * rate) as usize).min(len);
        for k in 0..fade {
            h[len - 1 - k] *= 0.5 - 0.5 * (std::f64::consts::PI * k as f64 / fade as f64).cos();
        }
    }
    let energy = out
        .iter()
        .map(|h| h.iter().map(|v| v * v).sum::<f64>())
        .fold(0.0, f64::max);
    let peak = out.iter().flatten().fold(0.0f64, |m, v| m.max(v.abs()));
    let scale = if energy > 0.0 {
        (1.0 / energy.sqrt()).min(MAX_PEAK / peak)
    } else {
        1.0
    };
    out.iter_mut().flatten().for_each(|v| *v *= scale);
    out
}

/// Writes `channels` as a 24-bit PCM WAV (through a temporary file renamed into place).
pub fn write_ir_wav(path: &Path, channels: &[Vec<f64>], sample_rate: u32) -> Result<(), Error> {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let tmp = path.with_extension("wav.tmp");
    let out_err = |e: hound::Error| Error::Output {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut w = hound::WavWriter::create(&tmp, spec).map_err(out_err)?;
    let frames = channels.first().map_or(0, Vec::len);
    let full = f64::from((1 << 23) - 1);
    for i in 0..frames {
        for c in channels {
            w.write_sample((c[i].clamp(-1.0, 1.0) * full).round() as i32)
                .map_err(out_err)?;
        }
    }
    w.finalize().map_err(out_err)?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}
