//! Reports of `mixfarm master`: one JSON per song and delivery beside its output, and the
//! catalog summary (`summary.json`, `summary.csv`). CPU only; no shader mirrored.
//! Undefined loudness (silence, < 400 ms) is written as JSON `null` / an empty CSV cell.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{AlbumMode, Delivery};
use crate::error::{Error, Result};
use crate::loudness::Loudness;

/// What happened to one song in one delivery.
#[derive(Debug, Clone, Serialize)]
pub struct SongReport {
    /// the input file
    pub input: PathBuf,
    /// the output file (absent on disk when the song failed)
    pub output: PathBuf,
    /// delivery name
    pub delivery: String,
    /// album name
    pub album: String,
    /// delivery target, LUFS
    pub target_lufs: f64,
    /// delivery ceiling, dBTP
    pub ceiling_dbtp: f64,
    /// album mode asked for
    pub mode: AlbumMode,
    /// the mode applied and why
    pub reason: String,
    /// loudness of the input (integrated, LRA, true and sample peak, …)
    pub input_loudness: Option<Loudness>,
    /// loudness of the output
    pub output_loudness: Option<Loudness>,
    /// gain applied (into the limiter when there is one), dB
    pub gain_db: Option<f64>,
    /// largest gain reduction of the closing limiter, dB (`None`: no limiter)
    pub limiter_reduction_db: Option<f64>,
    /// seconds taken (decode and chain, this song's share of the delivery pass, writing)
    pub seconds: f64,
    /// why the song failed, if it did
    pub error: Option<String>,
}

impl SongReport {
    /// An empty report for a song of a delivery.
    pub fn new(input: &Path, output: &Path, d: &Delivery, album: &str, mode: AlbumMode) -> Self {
        SongReport {
            input: input.to_path_buf(),
            output: output.to_path_buf(),
            delivery: d.name.clone(),
            album: album.to_string(),
            target_lufs: d.target_lufs,
            ceiling_dbtp: d.ceiling_dbtp,
            mode,
            reason: String::new(),
            input_loudness: None,
            output_loudness: None,
            gain_db: None,
            limiter_reduction_db: None,
            seconds: 0.0,
            error: None,
        }
    }

    /// Marks the song failed with `e`.
    pub fn failed(mut self, e: &Error) -> Self {
        let msg = e.to_string();
        let names_file = msg.contains(&*self.input.to_string_lossy());
        self.error = Some(if names_file {
            msg
        } else {
            format!("{}: {msg}", self.input.display())
        });
        self
    }

    /// Writes the report as JSON to `path` (atomically).
    pub fn write_json(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::Output {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        crate::audio::encode::write_atomic(path, |tmp| {
            std::fs::write(tmp, text.as_bytes()).map_err(|e| Error::io(tmp, e))
        })
    }
}

/// The catalog summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// song × delivery results
    pub total: usize,
    /// how many were written
    pub ok: usize,
    /// how many failed
    pub failed: usize,
    /// the failures: input, delivery, error
    pub failures: Vec<(PathBuf, String, String)>,
    /// every song report
    pub songs: Vec<SongReport>,
}

fn cell(x: Option<f64>) -> String {
    x.map_or_else(String::new, |v| format!("{v:.2}"))
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

impl Summary {
    /// Adds reports.
    pub fn add(&mut self, reports: Vec<SongReport>) {
        for r in reports {
            self.total += 1;
            match &r.error {
                Some(e) => {
                    self.failed += 1;
                    self.failures
                        .push((r.input.clone(), r.delivery.clone(), e.clone()));
                }
                None => self.ok += 1,
            }
            self.songs.push(r);
        }
    }

    /// Writes `summary.json` and `summary.csv` into `dir` (atomically).
    pub fn write(&self, dir: &Path) -> Result<()> {
        let json = dir.join("summary.json");
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::Output {
            path: json.clone(),
            reason: e.to_string(),
        })?;
        crate::audio::encode::write_atomic(&json, |tmp| {
            std::fs::write(tmp, text.as_bytes()).map_err(|e| Error::io(tmp, e))
        })?;
        let mut csv = String::from(
            "delivery,album,input,output,status,input_lufs,output_lufs,output_lra_lu,\
             output_true_peak_dbtp,gain_db,limiter_reduction_db,seconds,reason,error\n",
        );
        for r in &self.songs {
            let o = r.output_loudness.as_ref();
            let _ = writeln!(
                csv,
                "{},{},{},{},{},{},{},{},{},{},{},{:.3},{},{}",
                quote(&r.delivery),
                quote(&r.album),
                quote(&r.input.to_string_lossy()),
                quote(&r.output.to_string_lossy()),
                if r.error.is_some() { "failed" } else { "ok" },
                cell(r.input_loudness.and_then(|l| l.integrated_lufs)),
                cell(o.and_then(|l| l.integrated_lufs)),
                cell(o.and_then(|l| l.loudness_range_lu)),
                cell(o.map(|l| l.true_peak_dbtp)),
                cell(r.gain_db),
                cell(r.limiter_reduction_db),
                r.seconds,
                quote(&r.reason),
                quote(r.error.as_deref().unwrap_or("")),
            );
        }
        let path = dir.join("summary.csv");
        crate::audio::encode::write_atomic(&path, |tmp| {
            std::fs::write(tmp, csv.as_bytes()).map_err(|e| Error::io(tmp, e))
        })
    }
}
