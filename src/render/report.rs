//! What `mixfarm render` reports: one [`SongReport`] per song and the [`BatchReport`] of the
//! run (printed, and written as JSON with `--report`).

use std::path::PathBuf;

use serde::Serialize;

use crate::engine::Backend;
use crate::error::Error;
use crate::loudness::{Loudness, Normalisation};

/// Outcome of one song.
#[derive(Debug, Clone, Serialize)]
pub struct SongReport {
    /// song title (or scene file name)
    pub title: String,
    /// the scene file
    pub scene: PathBuf,
    /// the written file (when rendered)
    pub output: Option<PathBuf>,
    /// `None` when rendered; the reason when failed
    pub error: Option<String>,
    /// true when the failure is in the scene itself (exit code 2)
    pub scene_error: bool,
    /// true when the failure is worth retrying elsewhere (GPU lost, out of memory: exit 75)
    pub retryable: bool,
    /// length of the render, seconds
    pub duration_s: f64,
    /// loudness of the mix before normalisation
    pub mix_loudness: Option<Loudness>,
    /// normalisation applied
    pub normalisation: Option<Normalisation>,
    /// loudness of the written output (measured on the float signal before quantisation)
    pub output_loudness: Option<Loudness>,
    /// the song's loudness target, LUFS (`None`: the scene sets none)
    pub target_lufs: Option<f64>,
    /// why a written song is not as asked (target missed by more than 0.1 LU, more limiting
    /// than `--max-reduction`); empty when it is
    pub warnings: Vec<String>,
    /// wall time spent on this song, seconds
    pub render_s: f64,
    /// not rendered again: its output was up to date (`--skip-existing`)
    pub skipped: bool,
    /// the stages of the closing's pass that made the output and where each ran (with the
    /// mix's own stages first when the mix ran inside the closing, on the GPU)
    pub closing_stages: Vec<crate::engine::StageRun>,
    /// where the mix was held between the mix and the closing: `"gpu"` (never read back:
    /// mixed inside the closing's passes, or kept in GPU memory) or `"host"` (the CPU path,
    /// a delivery at another rate, masters past the GPU memory budget); empty when the song
    /// was not written
    pub mix_held_on: String,
}

impl SongReport {
    pub(super) fn new(title: String, scene: PathBuf) -> Self {
        SongReport {
            title,
            scene,
            output: None,
            error: None,
            scene_error: false,
            retryable: false,
            duration_s: 0.0,
            mix_loudness: None,
            normalisation: None,
            output_loudness: None,
            target_lufs: None,
            warnings: Vec::new(),
            render_s: 0.0,
            skipped: false,
            closing_stages: Vec::new(),
            mix_held_on: String::new(),
        }
    }

    /// A song not rendered because the worker was told to stop (retryable: exit 75).
    pub(super) fn interrupted(title: String, scene: PathBuf) -> Self {
        SongReport {
            error: Some("not rendered: the worker was stopped (SIGTERM); run again".into()),
            retryable: true,
            ..Self::new(title, scene)
        }
    }

    /// The report with its [`crate::engine::warnings`] filled in.
    pub(super) fn checked(mut self, max_reduction_db: f64) -> Self {
        self.warnings = crate::engine::warnings(
            "song",
            self.target_lufs,
            self.output_loudness.and_then(|l| l.integrated_lufs),
            self.normalisation.and_then(|n| n.limiter_reduction_db),
            max_reduction_db,
        );
        self
    }

    pub(super) fn failed(title: String, scene: PathBuf, e: &Error) -> Self {
        SongReport {
            error: Some(e.to_string()),
            scene_error: matches!(e, Error::Scene { .. }),
            retryable: e.is_retryable(),
            ..Self::new(title, scene)
        }
    }
}

/// Outcome of a batch.
#[derive(Debug, Clone, Serialize)]
pub struct BatchReport {
    /// one entry per song (and per scene file that could not be read)
    pub songs: Vec<SongReport>,
    /// which backend rendered (`cpu` or `gpu`; `auto` resolves to one of them)
    pub backend: Backend,
    /// the GPU adapter used, if any
    pub adapter: Option<String>,
    /// what made the batch fall back to the CPU, or stop, if anything did
    pub note: Option<String>,
    /// true when the batch could not run at all (`--backend gpu` without an adapter)
    pub fatal: bool,
    /// wall time of the whole batch, seconds
    pub wall_s: f64,
    /// the shard (`I/N`) this batch was, when sharded
    pub shard: Option<String>,
    /// SHA-256 of the sorted list of scene files the shards were cut from
    pub inputs_sha256: Option<String>,
}

impl BatchReport {
    /// Songs rendered but not as asked (see [`SongReport::warnings`]).
    pub fn warned(&self) -> usize {
        self.songs
            .iter()
            .filter(|s| s.error.is_none() && !s.warnings.is_empty())
            .count()
    }
    /// Songs rendered.
    pub fn ok(&self) -> usize {
        self.songs.iter().filter(|s| s.error.is_none()).count()
    }
    /// Songs failed.
    pub fn failed(&self) -> usize {
        self.songs.len() - self.ok()
    }
    /// Seconds of audio rendered per wall second.
    pub fn realtime_factor(&self) -> f64 {
        let audio: f64 = self
            .songs
            .iter()
            .map(|s| s.duration_s)
            .fold(0.0, |a, b| a + b);
        audio / self.wall_s.max(1e-9)
    }
    /// Process exit code: 0 all ok, 1 some songs failed, 2 a scene error (or no GPU for
    /// `--backend gpu`), 75 a retryable GPU failure (device lost, out of memory).
    pub fn exit_code(&self) -> u8 {
        crate::engine::exit_code(
            self.fatal || self.songs.iter().any(|s| s.scene_error),
            self.songs.iter().any(|s| s.retryable),
            self.failed() > 0,
        )
    }
}
