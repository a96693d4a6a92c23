//! Checks of a catalog's inputs before any work: every file a manifest row (or the command
//! line) names exists, else the run stops with each one as `manifest:line` (exit 2); files
//! of formats mixfarm does not decode are listed up front with the reason (they then fail
//! alone, by name, and the rest is mastered). CPU only; no shader mirrored.

use super::Catalog;

/// What the check found.
#[derive(Debug, Default)]
pub struct Found {
    /// missing inputs, one message each (`manifest:line: …`): the run is refused
    pub missing: Vec<String>,
    /// inputs of unsupported formats, one message each: they fail alone
    pub unsupported: Vec<String>,
}

/// Checks every track of `cat`.
pub fn check_inputs(cat: &Catalog) -> Found {
    let mut found = Found::default();
    for t in cat.albums.iter().flat_map(|a| &a.tracks) {
        let at = match (&cat.manifest, t.line) {
            (Some(m), Some(l)) => format!("{}:{l}: ", m.display()),
            _ => String::new(),
        };
        if !t.file.is_file() {
            let why = if t.file.is_dir() {
                "is a folder, not an audio file"
            } else {
                "not found"
            };
            found.missing.push(format!("{at}{}: {why}", t.file.display()));
        } else if let Some(why) = crate::audio::decode::unsupported(&t.file) {
            found
                .unsupported
                .push(format!("{at}{}: {why}", t.file.display()));
        }
    }
    found
}
