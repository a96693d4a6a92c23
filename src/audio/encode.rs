//! Audio output through hound: 16/24-bit PCM with seeded TPDF dither (same inputs ⇒ same
//! bytes), 32-bit float without dither. Files are written to a temporary name in the
//! destination folder and renamed into place, so an interrupted render never leaves a
//! truncated file under the final name.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::plan::OutputFormat;

/// A small deterministic PRNG (SplitMix64) for dither noise.
#[derive(Debug, Clone)]
pub struct DitherRng(u64);

impl DitherRng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        DitherRng(seed)
    }

    /// Next uniform value in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Triangular (TPDF) noise of ±1 LSB peak: the sum of two uniform ±½ LSB values.
    pub fn tpdf(&mut self) -> f64 {
        self.next_f64() - self.next_f64()
    }
}

/// Quantises `x` (full scale ±1) to a `bits`-bit integer with TPDF dither.
pub fn quantize(x: f32, bits: u32, rng: &mut DitherRng) -> i32 {
    let scale = (1i64 << (bits - 1)) as f64;
    let v = (f64::from(x) * scale + rng.tpdf()).round();
    v.clamp(-scale, scale - 1.0) as i32
}

/// A temporary path beside `dest` (same folder, so the final rename is atomic).
pub fn temp_path_for(dest: &Path) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dest.with_file_name(format!(".{name}.part-{}", std::process::id()))
}

/// Writes `bytes_writer`'s output to `dest` atomically: temp file, flush + sync, rename.
pub fn write_atomic(dest: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let tmp = temp_path_for(dest);
    let result = write(&tmp).and_then(|()| {
        let f = std::fs::File::open(&tmp).map_err(|e| Error::io(&tmp, e))?;
        f.sync_all().map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, dest).map_err(|e| Error::io(dest, e))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes planar audio as a WAV file in `format`, atomically. `dither_seed` seeds the TPDF
/// dither of the integer formats.
pub fn write_wav(
    dest: &Path,
    channels: &[Vec<f32>],
    sample_rate: u32,
    format: OutputFormat,
    dither_seed: u64,
) -> Result<()> {
    let n_ch = channels.len();
    if n_ch == 0 {
        return Err(Error::Output {
            path: dest.to_path_buf(),
            reason: "no channels to write".into(),
        });
    }
    let (bits, float) = match format {
        OutputFormat::Wav16 => (16, false),
        OutputFormat::Wav24 => (24, false),
        OutputFormat::Wav32f => (32, true),
    };
    let spec = hound::WavSpec {
        channels: n_ch as u16,
        sample_rate,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    };
    let frames = channels[0].len();
    write_atomic(dest, |tmp| {
        let out_err = |e: hound::Error| Error::Output {
            path: dest.to_path_buf(),
            reason: e.to_string(),
        };
        let file = std::fs::File::create(tmp).map_err(|e| Error::io(tmp, e))?;
        let mut w = hound::WavWriter::new(BufWriter::new(file), spec).map_err(out_err)?;
        let mut rng = DitherRng::new(dither_seed);
        for f in 0..frames {
            for ch in channels {
                let x = ch[f];
                if float {
                    w.write_sample(x).map_err(out_err)?;
                } else {
                    w.write_sample(quantize(x, u32::from(bits), &mut rng))
                        .map_err(out_err)?;
                }
            }
        }
        w.flush().map_err(out_err)?;
        w.finalize().map_err(out_err)
    })
}

/// A stable 64-bit hash (FNV-1a) used to derive dither seeds from song identities.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// TEMPORARY shim (replaced by the flac branch): writes quantised audio (WAV only, no tags).
pub fn write_audio(
    dest: &Path,
    pcm: &super::pcm::Pcm,
    sample_rate: u32,
    _format: OutputFormat,
    _tags: &super::tags::Tags,
) -> Result<()> {
    use super::pcm::Pcm;
    let (bits, fmt) = match pcm {
        Pcm::Int { bits, .. } => (*bits as u16, hound::SampleFormat::Int),
        Pcm::Float { .. } => (32, hound::SampleFormat::Float),
    };
    let spec = hound::WavSpec {
        channels: pcm.channels() as u16,
        sample_rate,
        bits_per_sample: bits,
        sample_format: fmt,
    };
    write_atomic(dest, |tmp| {
        let out_err = |e: hound::Error| Error::Output {
            path: dest.to_path_buf(),
            reason: e.to_string(),
        };
        let file = std::fs::File::create(tmp).map_err(|e| Error::io(tmp, e))?;
        let mut w = hound::WavWriter::new(BufWriter::new(file), spec).map_err(out_err)?;
        match pcm {
            Pcm::Int { samples, .. } => {
                for s in samples {
                    w.write_sample(*s).map_err(out_err)?
                }
            }
            Pcm::Float { samples, .. } => {
                for s in samples {
                    w.write_sample(*s).map_err(out_err)?
                }
            }
        }
        w.finalize().map_err(out_err)
    })
}
