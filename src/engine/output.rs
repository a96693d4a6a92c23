//! The last step of every job: the finished audio quantised (seeded TPDF dither, so the same
//! inputs give the same bytes) once per output format and written atomically with its tags.

use std::path::PathBuf;

use crate::audio::pcm::Pcm;
use crate::audio::tags::Tags;
use crate::core::{OutputFormat, Planar};
use crate::error::Result;

/// Writes `audio` (at `rate`) to every `(path, format)` of `outputs` with `tags`, the dither
/// seeded by `seed`; returns the quantised audio per output, in order. Stops at the first
/// output that cannot be written (outputs written before it stay).
pub fn write_outputs(
    audio: &Planar,
    rate: u32,
    seed: u64,
    tags: &Tags,
    outputs: &[(PathBuf, OutputFormat)],
) -> Result<Vec<Pcm>> {
    outputs
        .iter()
        .map(|(path, format)| {
            let pcm = Pcm::from_planar(audio, *format, seed);
            crate::audio::encode::write_audio(path, &pcm, rate, *format, tags)?;
            Ok(pcm)
        })
        .collect()
}
