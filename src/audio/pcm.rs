//! TEMPORARY shim (replaced by the flac branch): interleaved PCM after quantisation.

use crate::plan::OutputFormat;

/// Quantised, interleaved audio.
#[derive(Debug, Clone, PartialEq)]
pub enum Pcm {
    /// integer samples
    Int {
        /// bits per sample
        bits: u32,
        /// channels
        channels: usize,
        /// interleaved samples
        samples: Vec<i32>,
    },
    /// float samples
    Float {
        /// channels
        channels: usize,
        /// interleaved samples
        samples: Vec<f32>,
    },
}

impl Pcm {
    /// Quantises planar audio for `format` (seeded TPDF dither for integer formats).
    pub fn from_planar(x: &[Vec<f32>], format: OutputFormat, dither_seed: u64) -> Pcm {
        let channels = x.len();
        let frames = x.first().map_or(0, Vec::len);
        let bits = match format {
            OutputFormat::Wav16 => 16,
            OutputFormat::Wav24 => 24,
            OutputFormat::Wav32f => {
                let mut s = Vec::with_capacity(frames * channels);
                for f in 0..frames {
                    for ch in x {
                        s.push(ch[f]);
                    }
                }
                return Pcm::Float {
                    channels,
                    samples: s,
                };
            }
        };
        let mut rng = super::encode::DitherRng::new(dither_seed);
        let mut s = Vec::with_capacity(frames * channels);
        for f in 0..frames {
            for ch in x {
                s.push(super::encode::quantize(ch[f], bits, &mut rng));
            }
        }
        Pcm::Int {
            bits,
            channels,
            samples: s,
        }
    }

    /// Channels.
    pub fn channels(&self) -> usize {
        match self {
            Pcm::Int { channels, .. } | Pcm::Float { channels, .. } => *channels,
        }
    }

    /// Frames.
    pub fn frames(&self) -> usize {
        let n = match self {
            Pcm::Int { samples, .. } => samples.len(),
            Pcm::Float { samples, .. } => samples.len(),
        };
        n / self.channels().max(1)
    }

    /// Silence of the same kind.
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

    /// Appends `other` (same kind).
    pub fn append(&mut self, other: &Pcm) -> Result<(), String> {
        match (self, other) {
            (
                Pcm::Int {
                    bits,
                    channels,
                    samples,
                },
                Pcm::Int {
                    bits: b,
                    channels: c,
                    samples: s,
                },
            ) if bits == b && channels == c => {
                samples.extend_from_slice(s);
                Ok(())
            }
            (
                Pcm::Float { channels, samples },
                Pcm::Float {
                    channels: c,
                    samples: s,
                },
            ) if channels == c => {
                samples.extend_from_slice(s);
                Ok(())
            }
            _ => Err("cannot join audio of different formats".into()),
        }
    }
}
