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

/// Checks, before any work, that output folder `dir` can be written: creates it (and its
/// parents) and writes and removes a probe file. The message names the folder and the reason
/// (a file in the way, no permission), so a run never fails after hours of mastering.
pub fn check_writable(dir: &std::path::Path) -> std::result::Result<(), String> {
    let fail = |why: String| format!("cannot write to the output folder {}: {why}", dir.display());
    if dir.exists() && !dir.is_dir() {
        return Err(fail("it is a file, not a folder".into()));
    }
    std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    let probe = dir.join(format!(".mixfarm-write-check-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| fail(e.to_string()))?;
    // written, so writable; another worker of the run may share the name on a shared folder
    let _ = std::fs::remove_file(&probe);
    Ok(())
}
