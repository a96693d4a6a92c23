//! Reports of `mixfarm master`: one JSON per song and delivery beside its output, and the
//! catalog summary (`summary.json`, `summary.csv`). CPU only; no shader mirrored.
//! Undefined loudness (silence, < 400 ms) is written as JSON `null` / an empty CSV cell.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::manifest::{Album, Track};
use super::{AlbumMode, Delivery};
use crate::error::{Error, Result};
use crate::loudness::{Bands, Curves, Loudness};

/// What happened to a song in a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// mastered and written in this run
    Ok,
    /// written in this run, but not as asked: see `warnings` (target missed, or more
    /// limiting than `--max-reduction`)
    Warning,
    /// up to date from an earlier run (`--skip-existing`): left as it was
    Skipped,
    /// failed: see `error`
    Failed,
}

/// What happened to one song in one delivery. Also the song's sidecar: written last, beside
/// its outputs, it records what `--skip-existing` compares (input hash, settings hash,
/// mixfarm version).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SongReport {
    /// the input file
    pub input: PathBuf,
    /// the song's identity in the catalog (the manifest's `file`, or the file name)
    pub key: String,
    /// song title
    pub title: String,
    /// track number on the album
    pub track_number: Option<u32>,
    /// ISRC
    pub isrc: Option<String>,
    /// album title
    pub album: String,
    /// delivery name
    pub delivery: String,
    /// the files written for this song (one per format)
    pub outputs: Vec<PathBuf>,
    /// the format of each of `outputs` (`wav24`, `flac16`…; empty in sidecars of earlier
    /// versions): an output is compared with a later run's by path and format
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_formats: Vec<String>,
    /// delivery target for this song (with its offset), LUFS
    pub target_lufs: f64,
    /// delivery ceiling, dBTP
    pub ceiling_dbtp: f64,
    /// album mode asked for
    pub mode: AlbumMode,
    /// the mode applied and why
    pub reason: String,
    /// reference matching applied, if any
    pub match_eq: Option<String>,
    /// loudness of the input (integrated, LRA, true and sample peak, …)
    pub input_loudness: Option<Loudness>,
    /// loudness of the output
    pub output_loudness: Option<Loudness>,
    /// sample rate of the outputs, Hz
    #[serde(default)]
    pub sample_rate_hz: Option<u32>,
    /// gain applied (into the limiter when there is one), dB
    pub gain_db: Option<f64>,
    /// largest gain reduction of the closing limiter, dB (`None`: no limiter)
    pub limiter_reduction_db: Option<f64>,
    /// seconds taken (decode and chain, this song's share of the delivery pass, writing)
    pub seconds: f64,
    /// ok, skipped or failed
    pub status: Status,
    /// why the song failed, if it did
    pub error: Option<String>,
    /// why a written song is not as asked (status `warning`), if it is not
    #[serde(default)]
    pub warnings: Vec<String>,
    /// true when the failure is worth retrying elsewhere (GPU lost, out of memory: exit 75)
    #[serde(default)]
    pub retryable: bool,
    /// SHA-256 of the input file
    pub input_sha256: Option<String>,
    /// hash of every setting that shapes this song's outputs
    pub settings_hash: Option<String>,
    /// the mixfarm version that wrote the outputs
    pub mixfarm_version: String,
    /// SHA-256 of the manifest (or of the input list)
    pub manifest_sha256: Option<String>,
    /// the shard that wrote it (`I/N`), when sharded
    pub shard: Option<String>,
    /// the stages of the song's chain (its Plan) and where each ran
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<crate::engine::StageRun>,
    /// the stages of its closing's kept pass (load, gain, limiter, fades, loudness meter)
    /// and where each ran
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub closing_stages: Vec<crate::engine::StageRun>,
    /// where the chain's output was held between the chain and the closing: `"gpu"` (the
    /// chain ran inside the closing's passes, or its output was kept in GPU memory and, for
    /// a delivery at another rate, converted there) or `"host"` (the CPU path, or outputs
    /// past the GPU memory budget)
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub chain_held_on: String,
    /// the manifest row's columns mixfarm does not read (UPC, notes…), as given
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<(String, String)>,
    /// the meters over time and the spectra, for `mixfarm report` (sidecars only: the
    /// summary leaves them out; absent in sidecars of earlier versions)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub curves: Option<SongCurves>,
}

/// What a song's report plots: the meters over time of its input and output, the closing
/// limiter's gain reduction over time, and with `--reference` the reference's spectrum and
/// the match EQ's curve.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SongCurves {
    /// the input (the mix as decoded)
    pub input: Curves,
    /// the output (after the chain, the gain, the limiter and the fades)
    #[serde(default)]
    pub output: Curves,
    /// largest gain reduction of the closing limiter per hop of `output.hop_s`, dB (empty:
    /// no limiter)
    #[serde(default)]
    pub limiter_reduction_db: Vec<f32>,
    /// the reference's long-term spectrum (`--reference`)
    #[serde(default)]
    pub reference_spectrum: Option<Bands>,
    /// the match EQ's gain curve, dB (`--reference`)
    #[serde(default)]
    pub match_curve: Option<Bands>,
}

impl SongReport {
    /// An empty report for a track of an album in a delivery.
    pub fn new(t: &Track, album: &Album, d: &Delivery, mode: AlbumMode) -> Self {
        SongReport {
            input: t.file.clone(),
            key: t.key.clone(),
            title: t.title.clone(),
            track_number: t.track_number,
            isrc: t.isrc.clone(),
            album: album.title.clone(),
            delivery: d.name.clone(),
            outputs: Vec::new(),
            output_formats: Vec::new(),
            target_lufs: d.target_lufs + t.gain_offset_db,
            ceiling_dbtp: d.ceiling_dbtp,
            mode,
            reason: String::new(),
            match_eq: None,
            input_loudness: None,
            output_loudness: None,
            sample_rate_hz: None,
            gain_db: None,
            limiter_reduction_db: None,
            seconds: 0.0,
            status: Status::Ok,
            error: None,
            warnings: Vec::new(),
            retryable: false,
            input_sha256: None,
            settings_hash: None,
            mixfarm_version: crate::VERSION.to_string(),
            manifest_sha256: None,
            shard: None,
            extra: t.extra.clone(),
            stages: Vec::new(),
            closing_stages: Vec::new(),
            chain_held_on: String::new(),
            curves: None,
        }
    }

    /// Marks the song failed with `e`.
    pub fn failed(mut self, e: &Error) -> Self {
        let msg = e.to_string();
        let names_file = msg.contains(&*self.input.to_string_lossy());
        self.status = Status::Failed;
        self.retryable = e.is_retryable();
        self.error = Some(if names_file {
            msg
        } else {
            format!("{}: {msg}", self.input.display())
        });
        self
    }

    /// Checks the written song against `max_reduction_db` and the target of what it was
    /// brought to (`scope`: the song in track mode, its album in album mode, which reached
    /// `reached_lufs` against `target_lufs`) ([`crate::engine::warnings`]): any reason makes
    /// the status `warning`.
    pub fn check_outcome(
        &mut self,
        max_reduction_db: f64,
        scope: &str,
        target_lufs: f64,
        reached_lufs: Option<f64>,
    ) {
        self.warnings = crate::engine::warnings(
            scope,
            Some(target_lufs),
            reached_lufs,
            self.limiter_reduction_db,
            max_reduction_db,
        );
        if !self.warnings.is_empty() {
            self.status = Status::Warning;
        }
    }

    /// Writes the report as JSON to `path` (atomically).
    pub fn write_json(&self, path: &Path) -> Result<()> {
        write_json(path, self)
    }
}

/// Writes any report as pretty JSON to `path`, atomically; arrays of numbers (the curves)
/// stay on one line each ([`compact_number_arrays`]).
pub fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Output {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let text = compact_number_arrays(&text);
    crate::audio::encode::write_atomic(path, |tmp| {
        std::fs::write(tmp, text.as_bytes()).map_err(|e| Error::io(tmp, e))
    })
}

/// Pretty JSON with every array that holds only numbers and `null`s joined onto one line
/// (`serde_json` puts each element on its own line, which makes a sidecar's curves several
/// times larger). Strings are never touched: only lines that are a bare number or `null`
/// are joined.
pub fn compact_number_arrays(pretty: &str) -> String {
    let scalar = |l: &str| {
        let v = l.trim().trim_end_matches(',');
        v == "null" || (!v.is_empty() && v.parse::<f64>().is_ok())
    };
    let lines: Vec<&str> = pretty.lines().collect();
    let mut out = String::with_capacity(pretty.len());
    let mut k = 0;
    while k < lines.len() {
        let line = lines[k];
        if line.ends_with('[') {
            let mut j = k + 1;
            while j < lines.len() && scalar(lines[j]) {
                j += 1;
            }
            let close = lines.get(j).map(|l| l.trim());
            if j > k + 1 && matches!(close, Some("]") | Some("],")) {
                out.push_str(line);
                for l in &lines[k + 1..j] {
                    out.push_str(l.trim());
                }
                out.push_str(close.unwrap_or("]"));
                out.push('\n');
                k = j + 1;
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
        k += 1;
    }
    if !pretty.ends_with('\n') {
        out.pop();
    }
    out
}

/// The catalog summary (or one shard's part of it).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    /// the mixfarm version
    pub mixfarm_version: String,
    /// SHA-256 of the manifest (or of the input list)
    pub manifest_sha256: String,
    /// the shard (`I/N`) this report covers; `None` for the whole catalog
    pub shard: Option<String>,
    /// shards merged into this report (merge-reports)
    pub shards_merged: Vec<String>,
    /// shards expected but missing (merge-reports)
    pub shards_missing: Vec<String>,
    /// albums covered
    pub albums: usize,
    /// song × delivery results
    pub total: usize,
    /// how many were written in this run as asked
    pub ok: usize,
    /// how many were written in this run but not as asked (status `warning`)
    #[serde(default)]
    pub warned: usize,
    /// how many were up to date already (`--skip-existing`)
    pub skipped: usize,
    /// how many failed
    pub failed: usize,
    /// album files (`--sequence`) that failed (their errors name the songs)
    #[serde(default)]
    pub album_files_failed: usize,
    /// true when the run stopped early (SIGTERM): songs not listed were not done
    pub interrupted: bool,
    /// the failures: input, delivery, error
    pub failures: Vec<(PathBuf, String, String)>,
    /// every song report
    pub songs: Vec<SongReport>,
    /// album files (`--sequence`)
    #[serde(default)]
    pub sequences: Vec<super::sidecar::SequenceReport>,
    /// the reports of earlier runs into the same folder for songs × deliveries this run did
    /// not touch (as those runs left them; the counts above are this run's)
    #[serde(default)]
    pub earlier: Vec<SongReport>,
    /// files an earlier run wrote for these songs that this run did not write (another
    /// format): left in place, listed here
    #[serde(default)]
    pub stale: Vec<PathBuf>,
}

fn cell(x: Option<f64>) -> String {
    x.map_or_else(String::new, |v| format!("{v:.2}"))
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

impl Summary {
    /// Adds reports (without their curves, which stay in the sidecars).
    pub fn add(&mut self, reports: Vec<SongReport>) {
        for mut r in reports {
            r.curves = None;
            self.total += 1;
            match r.status {
                Status::Failed => {
                    self.failed += 1;
                    let e = r.error.clone().unwrap_or_default();
                    self.failures.push((r.input.clone(), r.delivery.clone(), e));
                }
                Status::Skipped => self.skipped += 1,
                Status::Ok => self.ok += 1,
                Status::Warning => self.warned += 1,
            }
            self.songs.push(r);
        }
    }

    /// Keeps the entries of the summary at `path` (an earlier run's) for every song ×
    /// delivery (album, key, delivery) this run did not report, in [`Summary::earlier`].
    pub fn keep_earlier(&mut self, path: &Path) {
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        let Ok(old) = serde_json::from_str::<Summary>(&text) else {
            return;
        };
        let id = |r: &SongReport| (r.album.clone(), r.key.clone(), r.delivery.clone());
        let mut seen: std::collections::HashSet<_> = self.songs.iter().map(id).collect();
        for r in old.songs.into_iter().chain(old.earlier) {
            if seen.insert(id(&r)) {
                self.earlier.push(r);
            }
        }
    }

    /// Writes the summary as `<stem>.json` and `<stem>.csv` in `dir` (atomically); the CSV
    /// holds this run's songs (`run` = `this`) then the earlier runs' (`earlier`).
    pub fn write(&self, dir: &Path, stem: &str) -> Result<()> {
        write_json(&dir.join(format!("{stem}.json")), self)?;
        let all = || {
            let runs = self.songs.iter().map(|r| (r, "this"));
            runs.chain(self.earlier.iter().map(|r| (r, "earlier")))
        };
        // the manifest's pass-through columns, in the order first met
        let mut extra: Vec<&str> = Vec::new();
        for (k, _) in all().flat_map(|(r, _)| &r.extra) {
            if !extra.contains(&k.as_str()) {
                extra.push(k);
            }
        }
        let mut csv = String::from(
            "delivery,album,track,title,isrc,input,outputs,status,input_lufs,output_lufs,\
             output_lra_lu,output_true_peak_dbtp,gain_db,limiter_reduction_db,seconds,reason,\
             error,warnings,run",
        );
        for k in &extra {
            csv.push(',');
            csv.push_str(&quote(k));
        }
        csv.push('\n');
        for (r, run) in all() {
            let o = r.output_loudness.as_ref();
            let outputs: Vec<String> = r.outputs.iter().map(|p| p.display().to_string()).collect();
            let _ = writeln!(
                csv,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.3},{},{},{},{run}",
                quote(&r.delivery),
                quote(&r.album),
                r.track_number.map_or_else(String::new, |n| n.to_string()),
                quote(&r.title),
                r.isrc.as_deref().unwrap_or(""),
                quote(&r.input.to_string_lossy()),
                quote(&outputs.join(";")),
                match r.status {
                    Status::Ok => "ok",
                    Status::Warning => "warning",
                    Status::Skipped => "skipped",
                    Status::Failed => "failed",
                },
                cell(r.input_loudness.and_then(|l| l.integrated_lufs)),
                cell(o.and_then(|l| l.integrated_lufs)),
                cell(o.and_then(|l| l.loudness_range_lu)),
                cell(o.map(|l| l.true_peak_dbtp).filter(|v| v.is_finite())),
                cell(r.gain_db),
                cell(r.limiter_reduction_db),
                r.seconds,
                quote(&r.reason),
                quote(r.error.as_deref().unwrap_or("")),
                quote(&r.warnings.join("; ")),
            );
            csv.pop(); // the newline, after the pass-through columns
            for k in &extra {
                let v = r.extra.iter().find(|(c, _)| c == k).map_or("", |(_, v)| v);
                csv.push(',');
                csv.push_str(&quote(v));
            }
            csv.push('\n');
        }
        let path = dir.join(format!("{stem}.csv"));
        crate::audio::encode::write_atomic(&path, |tmp| {
            std::fs::write(tmp, csv.as_bytes()).map_err(|e| Error::io(tmp, e))
        })
    }
}
