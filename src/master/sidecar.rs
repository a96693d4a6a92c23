//! Sidecars that make `mixfarm master` resumable: each song's JSON report (a provisional
//! one, status `failed`, before its audio files; the final one after them) and each album
//! file's `sequence.json` record the input hash, the settings hash and the mixfarm version.
//! `--skip-existing` trusts a song only when all three match, the status is not `failed`,
//! every output it lists is on disk and it lists every output the run would write (the
//! settings hash leaves the format list out: outputs are compared one by one); the check of `--out` before a run ([`super::guard`])
//! compares the same three to tell files made otherwise. Also clears the temporary files a killed run
//! leaves behind. CPU only; no shader mirrored.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::report::{write_json, SongReport, Status};
use crate::error::Result;
use crate::plan::OutputFormat;

/// What an album file (`--sequence`) holds, and its sidecar.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SequenceReport {
    /// album title
    pub album: String,
    /// delivery name
    pub delivery: String,
    /// the album files written (one per format)
    pub files: Vec<PathBuf>,
    /// their CUE sheets
    pub cue_sheets: Vec<PathBuf>,
    /// sample rate of the album file
    pub sample_rate: u32,
    /// length of the album file, frames
    pub total_frames: usize,
    /// first frame of every track in the album file
    pub track_start_frames: Vec<usize>,
    /// length of every track, frames (absent in sidecars of earlier versions)
    #[serde(default)]
    pub track_frames: Vec<usize>,
    /// ok, skipped or failed
    pub status: Status,
    /// why it failed
    pub error: Option<String>,
    /// hash of the settings of every song in it
    pub settings_hash: String,
    /// the mixfarm version that wrote it
    pub mixfarm_version: String,
}

impl SequenceReport {
    /// An empty report.
    pub fn new(album: &str, delivery: &str, settings_hash: &str) -> Self {
        SequenceReport {
            album: album.into(),
            delivery: delivery.into(),
            files: Vec::new(),
            cue_sheets: Vec::new(),
            sample_rate: 0,
            total_frames: 0,
            track_start_frames: Vec::new(),
            track_frames: Vec::new(),
            status: Status::Ok,
            error: None,
            settings_hash: settings_hash.into(),
            mixfarm_version: crate::VERSION.into(),
        }
    }
}

/// The sidecar of an album's sequence in `album_dir`.
pub fn sequence_path(album_dir: &Path) -> PathBuf {
    album_dir.join("sequence").join("sequence.json")
}

/// `p` with its folder made canonical (the file itself need not exist), to compare paths
/// recorded from another working folder.
pub(super) fn canon(p: &Path) -> Option<PathBuf> {
    let dir = p.parent()?.canonicalize().ok()?;
    Some(dir.join(p.file_name()?))
}

/// Whether `listed` (paths a sidecar records) names the file at `p`.
pub(super) fn lists(listed: &[PathBuf], p: &Path) -> bool {
    let at = canon(p);
    listed
        .iter()
        .any(|l| l == p || (at.is_some() && canon(l) == at))
}

/// Whether the song sidecar `r` lists the file at `p` as written in format `f`.
pub(super) fn lists_output(r: &SongReport, p: &Path, f: OutputFormat) -> bool {
    let at = canon(p);
    r.outputs
        .iter()
        .zip(&r.output_formats)
        .any(|(o, of)| of == f.name() && (o == p || (at.is_some() && canon(o) == at)))
}

/// Reads a song sidecar and returns it when it records `input_sha256`, `settings_hash` and
/// this mixfarm version, did not fail, all its outputs exist and it lists every file of
/// `expected` in its format (this run's outputs of the song: the settings hash leaves the
/// format list out, so an added format is not up to date until it is written).
pub fn up_to_date(
    sidecar: &Path,
    input_sha256: &str,
    settings_hash: &str,
    expected: &[(PathBuf, OutputFormat)],
) -> Option<SongReport> {
    let text = std::fs::read_to_string(sidecar).ok()?;
    let r: SongReport = serde_json::from_str(&text).ok()?;
    let fresh = r.status != Status::Failed
        && r.input_sha256.as_deref() == Some(input_sha256)
        && r.settings_hash.as_deref() == Some(settings_hash)
        && r.mixfarm_version == crate::VERSION
        && !r.outputs.is_empty()
        && r.outputs.iter().all(|o| o.is_file())
        && expected.iter().all(|(p, f)| lists_output(&r, p, *f));
    fresh.then_some(r)
}

/// Reads an album's sequence sidecar when it matches `settings_hash` and this version, its
/// files exist, and it lists every file of `expected` (this run's album files and CUE sheets).
pub fn read_sequence(
    album_dir: &Path,
    settings_hash: &str,
    expected: &[PathBuf],
) -> Option<SequenceReport> {
    let text = std::fs::read_to_string(sequence_path(album_dir)).ok()?;
    let r: SequenceReport = serde_json::from_str(&text).ok()?;
    let listed: Vec<PathBuf> = r.files.iter().chain(&r.cue_sheets).cloned().collect();
    let fresh = r.status != Status::Failed
        && r.settings_hash == settings_hash
        && r.mixfarm_version == crate::VERSION
        && listed.iter().all(|f| f.is_file())
        && expected.iter().all(|p| lists(&listed, p));
    fresh.then_some(r)
}

/// Reads an album's sequence sidecar whatever it records (`None`: absent or unreadable).
pub fn read_sequence_any(album_dir: &Path) -> Option<SequenceReport> {
    serde_json::from_str(&std::fs::read_to_string(sequence_path(album_dir)).ok()?).ok()
}

/// True when the album's sequence is up to date (see [`read_sequence`]).
pub fn sequence_up_to_date(album_dir: &Path, settings_hash: &str, expected: &[PathBuf]) -> bool {
    read_sequence(album_dir, settings_hash, expected).is_some()
}

/// Writes an album's sequence sidecar (after its files).
pub fn write_sequence(album_dir: &Path, r: &SequenceReport) -> Result<()> {
    write_json(&sequence_path(album_dir), r)
}

/// Removes the temporary files (`.NAME.part-PID`) a killed run left in `dir` and its
/// `sequence/*` sub-folders. An album is written by one worker at a time, so nothing
/// else is writing there.
pub fn clear_stale_parts(dir: &Path) {
    let mut dirs = vec![dir.to_path_buf()];
    if let Ok(rd) = std::fs::read_dir(dir.join("sequence")) {
        dirs.extend(
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_dir()),
        );
    }
    for d in dirs {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.filter_map(|e| e.ok()) {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.contains(".part-") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}
