//! Checks of a catalog's inputs before any work: a file a manifest row (or the command line)
//! names that does not exist, and a file of a format mixfarm does not decode, are listed up
//! front (`manifest:line: path: reason`); each then fails alone, by name and line, and the
//! rest is mastered. CPU only; no shader mirrored.

use std::path::Path;

use super::manifest::{Album, Track};
use crate::error::Error;

/// What the check found.
#[derive(Debug, Default)]
pub struct Found {
    /// missing inputs, one message each (`manifest:line: …`): they fail alone
    pub missing: Vec<String>,
    /// inputs of unsupported formats, one message each: they fail alone
    pub unsupported: Vec<String>,
}

/// Checks every track of `albums` (read from `manifest`, when one).
pub fn check_inputs(albums: &[Album], manifest: Option<&Path>) -> Found {
    let mut found = Found::default();
    for t in albums.iter().flat_map(|a| &a.tracks) {
        let at = line_of(manifest, t).map_or_else(String::new, |l| format!("{l}: "));
        if !t.file.is_file() {
            let why = if t.file.is_dir() {
                "is a folder, not an audio file"
            } else {
                "not found"
            };
            found
                .missing
                .push(format!("{at}{}: {why}", t.file.display()));
        } else if let Some(why) = crate::audio::decode::unsupported(&t.file) {
            found
                .unsupported
                .push(format!("{at}{}: {why}", t.file.display()));
        }
    }
    found
}

/// `manifest:line` of track `t`, when it comes from a manifest.
pub fn line_of(manifest: Option<&Path>, t: &Track) -> Option<String> {
    Some(format!("{}:{}", manifest?.display(), t.line?))
}

/// The error of a track whose file cannot be read (`e`, from hashing it): the path once, the
/// reason, and the manifest line.
pub fn unreadable(manifest: Option<&Path>, t: &Track, e: &Error) -> Error {
    let why = match e {
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            "not found".to_string()
        }
        Error::Io { source, .. } => source.to_string(),
        other => other.to_string(),
    };
    let at = line_of(manifest, t).map_or_else(String::new, |l| format!(" (row {l})"));
    Error::input(&t.file, format!("{why}{at}"))
}
