//! The quantisation step shared by every encoder: planar f32 in, interleaved PCM out.
//!
//! Integer formats use the seeded TPDF dither of [`super::encode::quantize`] (same inputs and
//! seed ⇒ the same integers, the same ones `write_wav` has always written); the float format
//! keeps the samples as they are. No shader twin: this runs once per output on the host.

use super::encode::quantize_run;
use crate::plan::OutputFormat;

/// Interleaved PCM ready for an encoder.
#[derive(Debug, Clone, PartialEq)]
pub enum Pcm {
    /// Integer samples, right-justified (a 16-bit sample lies in `-32768..=32767`).
    Int {
        /// bits per sample (16 or 24)
        bits: u32,
        /// channel count
        channels: usize,
        /// interleaved samples, `frames × channels`
        samples: Vec<i32>,
    },
    /// 32-bit float samples, full scale ±1.
    Float {
        /// channel count
        channels: usize,
        /// interleaved samples, `frames × channels`
        samples: Vec<f32>,
    },
}

impl Pcm {
    /// Quantises planar audio (`[channel][frame]`, all channels the same length) for `format`:
    /// TPDF dither seeded by `dither_seed` for the integer formats, a plain interleave for
    /// float. The dither draws samples in interleaved order (frame by frame, channel by
    /// channel), as `write_wav` always did.
    pub fn from_planar(x: &[Vec<f32>], format: OutputFormat, dither_seed: u64) -> Pcm {
        let channels = x.len();
        let frames = x.iter().map(Vec::len).min().unwrap_or(0);
        let interleaved = (0..frames).flat_map(|f| x.iter().map(move |ch| ch[f]));
        if format.is_float() {
            Pcm::Float {
                channels,
                samples: interleaved.collect(),
            }
        } else {
            // in pieces side by side, each from the dither generator where the previous
            // piece left it: the integers of one pass in interleaved order
            use rayon::prelude::*;
            const PIECE_FRAMES: usize = 1 << 15;
            let bits = format.bits();
            let mut samples = vec![0i32; frames * channels];
            samples
                .par_chunks_mut(PIECE_FRAMES * channels.max(1))
                .enumerate()
                .for_each(|(k, out)| {
                    // sample s of the song (interleaved order) takes the dither of draws
                    // 2s + 1 and 2s + 2 of the seed's generator, each computed from its
                    // index (no chain from one sample to the next); interleaved in blocks
                    // first, so the quantiser runs over flat runs
                    const BLOCK_FRAMES: usize = 256;
                    let first = k * PIECE_FRAMES;
                    let mut vals = vec![0.0f32; BLOCK_FRAMES * channels];
                    for (b, out) in out.chunks_mut(BLOCK_FRAMES * channels).enumerate() {
                        let f0 = first + b * BLOCK_FRAMES;
                        let vals = &mut vals[..out.len()];
                        if let [l, r] = x {
                            for (v, (&a, &b)) in
                                vals.chunks_exact_mut(2).zip(l[f0..].iter().zip(&r[f0..]))
                            {
                                v[0] = a;
                                v[1] = b;
                            }
                        } else {
                            for (i, v) in vals.iter_mut().enumerate() {
                                *v = x[i % channels][f0 + i / channels];
                            }
                        }
                        quantize_run(vals, (f0 * channels) as u64, dither_seed, bits, out);
                    }
                });
            Pcm::Int {
                bits,
                channels,
                samples,
            }
        }
    }

    /// Channel count.
    pub fn channels(&self) -> usize {
        match self {
            Pcm::Int { channels, .. } | Pcm::Float { channels, .. } => *channels,
        }
    }

    /// Number of interleaved samples (`frames × channels`).
    pub fn len_samples(&self) -> usize {
        match self {
            Pcm::Int { samples, .. } => samples.len(),
            Pcm::Float { samples, .. } => samples.len(),
        }
    }

    /// Number of frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.len_samples().checked_div(self.channels()).unwrap_or(0)
    }

    /// Bits per sample: 16/24 for integers, 32 for float.
    pub fn bits(&self) -> u32 {
        match self {
            Pcm::Int { bits, .. } => *bits,
            Pcm::Float { .. } => 32,
        }
    }

    /// `frames` frames of digital silence of the same kind, bit depth and channel count.
    pub fn silence_like(&self, frames: usize) -> Pcm {
        match self {
            Pcm::Int { bits, channels, .. } => Pcm::Int {
                bits: *bits,
                channels: *channels,
                samples: vec![0; frames * channels],
            },
            Pcm::Float { channels, .. } => Pcm::Float {
                channels: *channels,
                samples: vec![0.0; frames * channels],
            },
        }
    }

    /// Appends `other` (same kind, bit depth and channel count) after `self`: album gaps,
    /// concatenated deliveries.
    pub fn append(&mut self, other: &Pcm) -> Result<(), String> {
        match (self, other) {
            (
                Pcm::Int {
                    bits,
                    channels,
                    samples,
                },
                Pcm::Int {
                    bits: b2,
                    channels: c2,
                    samples: s2,
                },
            ) if bits == b2 && channels == c2 => {
                samples.extend_from_slice(s2);
                Ok(())
            }
            (
                Pcm::Float { channels, samples },
                Pcm::Float {
                    channels: c2,
                    samples: s2,
                },
            ) if channels == c2 => {
                samples.extend_from_slice(s2);
                Ok(())
            }
            (a, b) => Err(format!(
                "cannot append {} to {}",
                b.describe(),
                a.describe()
            )),
        }
    }

    /// "2 ch 24-bit int" / "2 ch float": for messages.
    pub fn describe(&self) -> String {
        match self {
            Pcm::Int { bits, channels, .. } => format!("{channels} ch {bits}-bit int"),
            Pcm::Float { channels, .. } => format!("{channels} ch float"),
        }
    }
}
