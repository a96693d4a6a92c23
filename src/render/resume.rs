//! `render --skip-existing`: after a song's file is written, a sidecar `<file>.json` beside
//! it records the hash of what made it (the scene file, every stem's bytes, the mixfarm
//! version: SHA-256 over those parts, each stem's part its BLAKE3). A later run with `--skip-existing` skips a song whose output and sidecar are on
//! disk with the same hash, so a Slurm task or a Kubernetes pod that was killed picks up where
//! it stopped; anything changed (a stem, the scene, the version) renders again.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::scene::LoadedSong;

/// What the sidecar holds.
#[derive(Serialize, Deserialize)]
struct Sidecar {
    /// SHA-256 over the mixfarm version, the scene file's SHA-256 and every stem's BLAKE3
    inputs_sha256: String,
    /// the file written
    output: PathBuf,
    /// the mixfarm version that wrote it
    mixfarm_version: String,
}

/// The sidecar of output `out`.
fn sidecar_of(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".json");
    out.with_file_name(name)
}

/// Hash of what makes song `s`: the mixfarm version, its scene file and its stems' bytes
/// (each stem's BLAKE3).
pub fn inputs_hash(s: &LoadedSong) -> Result<String> {
    let v = crate::scene::compile::validate(s)?;
    let mut parts = vec![crate::VERSION.to_string()];
    let scene = std::fs::read(&s.path).map_err(|e| Error::io(&s.path, e))?;
    parts.push(crate::core::hash::sha256_hex(&scene));
    parts.push(s.title());
    // the stems hashed side by side, joined in their order
    let stems: Vec<String> = v
        .files
        .par_iter()
        .map(|f| crate::core::hash::file_blake3(f))
        .collect::<Result<_>>()?;
    parts.extend(stems);
    Ok(crate::core::hash::text_sha256(&parts.join("\n")))
}

/// The output of song `s` in `out_dir`, when it is there with a sidecar of hash `hash`.
pub fn up_to_date(s: &LoadedSong, out_dir: &Path, hash: &str) -> Option<PathBuf> {
    let out = out_dir.join(crate::scene::compile::output_file(s));
    let text = std::fs::read_to_string(sidecar_of(&out)).ok()?;
    let side: Sidecar = serde_json::from_str(&text).ok()?;
    (side.inputs_sha256 == hash && out.is_file()).then_some(out)
}

/// Writes the sidecar of `out` (atomically, like every output).
pub fn write(out: &Path, hash: &str) -> Result<()> {
    let side = Sidecar {
        inputs_sha256: hash.into(),
        output: out.file_name().map(PathBuf::from).unwrap_or_default(),
        mixfarm_version: crate::VERSION.into(),
    };
    let text = serde_json::to_string_pretty(&side).expect("a sidecar serialises");
    crate::audio::encode::write_atomic(&sidecar_of(out), |tmp| {
        std::fs::write(tmp, text.as_bytes()).map_err(|e| Error::io(tmp, e))
    })
}
