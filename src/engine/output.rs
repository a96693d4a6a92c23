//! The last step of every job: the finished audio quantised (seeded TPDF dither, so the same
//! inputs give the same bytes) once per output format and written atomically with its tags.

use std::path::{Path, PathBuf};

use crate::audio::pcm::Pcm;
use crate::audio::tags::Tags;
use crate::core::{OutputFormat, Planar};
use crate::error::Result;

/// Writes `audio` (at `rate`) to every `(path, format)` of `outputs` with `tags` (and the
/// `bext` chunk body in WAV outputs, when given), the dither seeded by `seed`; returns the
/// quantised audio per output, in order. Stops at the first output that cannot be written
/// (outputs written before it stay).
pub fn write_outputs(
    audio: &Planar,
    rate: u32,
    seed: u64,
    tags: &Tags,
    bext: Option<&[u8]>,
    outputs: &[(PathBuf, OutputFormat)],
) -> Result<Vec<Pcm>> {
    outputs
        .iter()
        .map(|(path, format)| {
            let pcm = Pcm::from_planar(audio, *format, seed);
            let b = bext.filter(|_| !format.is_flac());
            crate::audio::encode::write_audio_with(path, &pcm, rate, *format, tags, b)?;
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

/// Checks that `rel`, an output path a scene or manifest gives relative to the output
/// folder, stays inside it: not absolute, no `..` (a scene received from someone else must
/// not write anywhere the user can). The message says why.
pub fn check_relative(rel: &Path) -> std::result::Result<(), String> {
    use std::path::Component;
    for c in rel.components() {
        match c {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => {
                return Err(format!(
                    "output path '{}' climbs out of the output folder with '..': give a path inside --out",
                    rel.display()
                ))
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!(
                    "output path '{}' is absolute: give a path relative to --out",
                    rel.display()
                ))
            }
        }
    }
    Ok(())
}

/// Checks that writing `out/rel` stays inside `out`: [`check_relative`], and no folder on
/// the way that exists already is a symbolic link leading out of `out`.
pub fn check_inside(out: &Path, rel: &Path) -> std::result::Result<(), String> {
    check_relative(rel)?;
    let Ok(root) = out.canonicalize() else {
        return Ok(()); // not created yet: nothing on the way can be a link
    };
    let mut at = out.to_path_buf();
    let parents: Vec<_> = rel
        .parent()
        .map(|p| p.components().collect())
        .unwrap_or_default();
    for c in parents {
        at.push(c);
        let Ok(meta) = std::fs::symlink_metadata(&at) else {
            break; // the rest is created by the run, inside `at`
        };
        if meta.file_type().is_symlink() {
            let leads = at
                .canonicalize()
                .map_err(|e| format!("{}: {e}", at.display()))?;
            if !leads.starts_with(&root) {
                return Err(format!(
                    "output folder {} is a symbolic link to {}, outside the output folder {}: not followed",
                    at.display(),
                    leads.display(),
                    out.display()
                ));
            }
        }
    }
    Ok(())
}
