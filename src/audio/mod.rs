//! Audio files in and out: decoding (symphonia), resampling (rubato), quantisation (`pcm`),
//! encoding (hound WAV, RF64 past 4 GiB, libFLAC FLAC (`libflac`)) and tags; WAV quirks on input
//! (`wav_chunks`).

pub mod bext;
pub mod decode;
pub mod encode;
pub mod flac;
pub mod libflac;
pub mod pcm;
mod pcm_le;
#[cfg(target_arch = "x86_64")]
mod quantize_avx2;
pub mod resample;
pub mod rf64;
pub mod stream;
pub mod tags;
pub mod wav_chunks;

use std::path::Path;

use crate::error::Result;
use crate::plan::Planar;

/// Decodes `path`, checks it, and resamples it to `sample_rate`: what a render reads.
pub fn load_for_render(path: &Path, sample_rate: u32) -> Result<Planar> {
    stream::SourceStream::open(path, sample_rate)?.read_all()
}
