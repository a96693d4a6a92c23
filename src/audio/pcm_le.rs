//! WAV's little-endian PCM packets (16- and 24-bit integer, 32-bit float) straight to planar
//! f32 for [`super::decode::Decoder`]: the values symphonia's PCM decoder and its sample
//! conversion give (`i16 / 2¹⁵`, the sign-extended 24-bit integer `/ 2²³`, the float as
//! it is), in one pass over the packet instead of symphonia's two (into its buffer, then
//! out to f32). Only for samples coded at their full width (no shift).

use symphonia::core::codecs::audio::well_known::{
    CODEC_ID_PCM_F32LE, CODEC_ID_PCM_S16LE, CODEC_ID_PCM_S24LE,
};
use symphonia::core::codecs::audio::AudioCodecParameters;

/// A sample layout read here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PcmLe {
    S16,
    S24,
    F32,
}

impl PcmLe {
    /// The layout of `params` when it is one of these, coded at its full width, with a
    /// known channel count and rate; else `None` (symphonia decodes it).
    pub fn of(params: &AudioCodecParameters) -> Option<(PcmLe, usize)> {
        let (kind, width) = match params.codec {
            CODEC_ID_PCM_S16LE => (PcmLe::S16, 16),
            CODEC_ID_PCM_S24LE => (PcmLe::S24, 24),
            CODEC_ID_PCM_F32LE => (PcmLe::F32, 32),
            _ => return None,
        };
        let full = |b: Option<u32>| b.is_none_or(|b| b == width);
        let channels = params.channels.as_ref()?.count();
        let rate = params.sample_rate.is_some_and(|r| r > 0);
        let full_width = full(params.bits_per_sample) && full(params.bits_per_coded_sample);
        (full_width && channels > 0 && rate).then_some((kind, channels))
    }

    /// Bytes per sample.
    pub fn bytes(self) -> usize {
        match self {
            PcmLe::S16 => 2,
            PcmLe::S24 => 3,
            PcmLe::F32 => 4,
        }
    }

    /// Whether the samples are floats (which may be NaN or infinite).
    pub fn is_float(self) -> bool {
        self == PcmLe::F32
    }

    /// Appends the whole frames of interleaved `data` to `out` (one `Vec` per channel).
    pub fn append(self, data: &[u8], out: &mut [Vec<f32>]) {
        let frame = self.bytes() * out.len();
        if frame == 0 {
            return;
        }
        let frames = data.len() / frame;
        for (c, o) in out.iter_mut().enumerate() {
            let at = c * self.bytes();
            let samples = data.chunks_exact(frame).map(|f| &f[at..at + self.bytes()]);
            o.reserve(frames);
            match self {
                PcmLe::S16 => o.extend(
                    samples.map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32_768.0),
                ),
                PcmLe::S24 => o.extend(samples.map(|b| {
                    let v = (i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as f32;
                    v / 8_388_608.0
                })),
                PcmLe::F32 => {
                    o.extend(samples.map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values symphonia's conversions give, from the integers written out.
    #[test]
    fn samples_are_symphonias_values() {
        let s16: [i16; 4] = [i16::MIN, -1, 0, i16::MAX];
        let mut d: Vec<u8> = s16.iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut out = vec![Vec::new(), Vec::new()];
        PcmLe::S16.append(&d, &mut out);
        assert_eq!(
            out,
            [vec![-1.0, 0.0], vec![-1.0 / 32_768.0, 32_767.0 / 32_768.0]]
        );
        let s24: [i32; 3] = [-(1 << 23), -5, (1 << 23) - 1];
        d = s24
            .iter()
            .flat_map(|v| v.to_le_bytes()[..3].to_vec())
            .collect();
        let mut out = vec![Vec::new()];
        PcmLe::S24.append(&d, &mut out);
        let want: Vec<f32> = s24.iter().map(|&v| v as f32 / 8_388_608.0).collect();
        assert_eq!(out, [want]);
        d = [0.25f32, f32::NAN]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        d.push(7); // a partial frame is left out
        let mut out = vec![Vec::new(), Vec::new()];
        PcmLe::F32.append(&d, &mut out);
        assert_eq!(out[0], [0.25]);
        assert!(out[1][0].is_nan());
    }
}
