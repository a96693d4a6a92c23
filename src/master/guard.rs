//! What a `mixfarm master` run would do to the files already in `--out`, worked out before
//! any mastering: each output it would write is new, replaces a file made with the same
//! settings (the same bytes), is skipped (`--skip-existing`, up to date), or would replace a
//! file made otherwise — from another input, with other settings, by another mixfarm
//! version, or not by `mixfarm master` at all — which is refused unless `--overwrite`.
//! Settings are compared without the format list, output by output: a run that adds a
//! format to an earlier run's settings writes the new files and replaces the others. Files
//! an earlier run wrote for these songs that this run no longer writes (another format) are
//! listed as stale, never deleted. Output folders that are symbolic links out of `--out` are
//! refused. CPU only; no shader mirrored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::manifest::{file_sha256, Album};
use super::report::{SongReport, Status};
use super::run::album_settings;
use super::settings::album_dir;
use super::sidecar::{self, canon, lists, lists_output};
use super::Job;

/// What the run does to one output file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// nothing there yet
    Write,
    /// made with the same input, settings and version: rewritten with the same bytes
    Replace,
    /// up to date, left alone (`--skip-existing`)
    Skip,
    /// made otherwise (the reason): replaced only with `--overwrite`
    Overwrite(String),
    /// refused: made otherwise and no `--overwrite` (the reason)
    Refuse(String),
}

/// The run's plan for the files in `--out`.
#[derive(Debug, Default)]
pub struct Plan {
    /// every output file (songs, album files) and what the run does to it
    pub files: Vec<(PathBuf, Action)>,
    /// files of these songs an earlier run wrote that this run does not write
    pub stale: Vec<PathBuf>,
    /// output folders that lead out of `--out` (message per folder)
    pub escapes: Vec<String>,
    /// the input hashes computed on the way (reused by the run)
    pub hashes: BTreeMap<PathBuf, String>,
}

impl Plan {
    /// The refused files with their reasons.
    pub fn refused(&self) -> Vec<(&Path, &str)> {
        self.files
            .iter()
            .filter_map(|(p, a)| match a {
                Action::Refuse(why) => Some((p.as_path(), why.as_str())),
                _ => None,
            })
            .collect()
    }

    /// One line per file: `write`, `replace`, `skip`, `overwrite`, `REFUSE`, `stale`.
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .files
            .iter()
            .map(|(p, a)| match a {
                Action::Write => format!("write     {}", p.display()),
                Action::Replace => format!("replace   {} (same settings)", p.display()),
                Action::Skip => format!("skip      {} (up to date)", p.display()),
                Action::Overwrite(why) => format!("overwrite {} ({why})", p.display()),
                Action::Refuse(why) => format!("REFUSE    {} ({why})", p.display()),
            })
            .collect();
        out.extend(self.stale.iter().map(|p| {
            format!(
                "stale     {} (an earlier run's, not written now)",
                p.display()
            )
        }));
        out
    }
}

/// Why the sidecar `side` does not vouch for an output made with `input_sha256` and
/// `settings_hash` by this version (`None`: it does).
fn mismatch(
    side: Option<&SongReport>,
    input_sha256: Option<&str>,
    settings: &str,
) -> Option<String> {
    let Some(r) = side else {
        return Some("no mixfarm sidecar beside it: not made by this run's settings".into());
    };
    if r.input_sha256.as_deref() != input_sha256 {
        Some(format!("made from another input ({})", r.input.display()))
    } else if r.mixfarm_version != crate::VERSION {
        Some(format!("made by mixfarm {}", r.mixfarm_version))
    } else if r.settings_hash.as_deref() != Some(settings) {
        Some("made with other settings (target, chain, rate, depth, tags, fades…)".into())
    } else {
        None
    }
}

fn read_sidecar(path: &Path) -> Option<SongReport> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// The output files of track `stem` in every format of `formats`, in the album folder
/// `dir`, each with its format.
pub fn song_outputs(
    dir: &Path,
    stem: &str,
    formats: &[crate::plan::OutputFormat],
) -> Vec<(PathBuf, crate::plan::OutputFormat)> {
    formats
        .iter()
        .map(|&f| (song_output(dir, stem, f, formats), f))
        .collect()
}

/// The album files and CUE sheets of `album` in every format of `formats` (`--sequence`).
pub fn sequence_outputs(
    dir: &Path,
    album: &Album,
    formats: &[crate::plan::OutputFormat],
) -> Vec<PathBuf> {
    formats
        .iter()
        .flat_map(|&f| super::sequence::sequence_paths(dir, album, f))
        .collect()
}

/// The output file of track `stem` in `format`, in the album folder `dir`.
pub fn song_output(
    dir: &Path,
    stem: &str,
    format: crate::plan::OutputFormat,
    formats: &[crate::plan::OutputFormat],
) -> PathBuf {
    dir.join(super::formats::file_name(stem, format, formats))
}

/// Works out what `job` would do to `albums`' outputs in `--out` (`overwrite`: replace
/// files made otherwise).
pub fn plan(albums: &[Album], job: &Job, overwrite: bool) -> Plan {
    let mut plan = Plan::default();
    for d in &job.deliveries {
        for a in albums {
            let rel = Path::new(&d.name).join(&a.dir);
            let mut leaves = vec![rel.join("x")];
            if job.sequence {
                let seq = rel.join("sequence");
                leaves.extend(d.formats.iter().map(|f| seq.join(f.name()).join("x")));
            }
            for leaf in leaves {
                if let Err(m) = crate::engine::output::check_inside(&job.out, &leaf) {
                    plan.escapes.push(m);
                }
            }
        }
    }
    for album in albums {
        let dirs: Vec<PathBuf> = job
            .deliveries
            .iter()
            .map(|d| album_dir(job, d, album))
            .collect();
        let any_there = dirs.iter().any(|d| d.is_dir());
        if !any_there {
            for (di, d) in job.deliveries.iter().enumerate() {
                for t in &album.tracks {
                    for &f in &d.formats {
                        plan.files.push((
                            song_output(&dirs[di], &t.output_stem, f, &d.formats),
                            Action::Write,
                        ));
                    }
                }
                if job.sequence {
                    for &f in &d.formats {
                        for p in super::sequence::sequence_paths(&dirs[di], album, f) {
                            plan.files.push((p, Action::Write));
                        }
                    }
                }
            }
            continue;
        }
        // Something is there: hash the inputs to compare with the sidecars.
        let hashes: Vec<crate::Result<String>> = album
            .tracks
            .par_iter()
            .map(|t| file_sha256(&t.file))
            .collect();
        for (t, h) in album.tracks.iter().zip(&hashes) {
            if let Ok(h) = h {
                plan.hashes.insert(t.file.clone(), h.clone());
            }
        }
        let (settings, seq_hash) = album_settings(album, job, &hashes);
        for (di, dir) in dirs.iter().enumerate() {
            for (k, t) in album.tracks.iter().enumerate() {
                if hashes[k].is_err() {
                    continue; // unreadable: the song fails (listed up front), replacing nothing
                }
                let side = read_sidecar(&dir.join(format!("{}.json", t.output_stem)));
                let why = mismatch(side.as_ref(), hashes[k].as_deref().ok(), &settings[k][di]);
                let ours = song_outputs(dir, &t.output_stem, &job.deliveries[di].formats);
                // the settings hash leaves the format list out: each file must be one its
                // sidecar lists (an added format is new, not a change of settings) — unless
                // the sidecar is that of a run that did not finish the song (its placeholder,
                // status failed, lists nothing): a file there was written with these settings
                let listed = |p: &Path, f| {
                    side.as_ref()
                        .is_some_and(|r| r.status == Status::Failed || lists_output(r, p, f))
                };
                let up_to_date = why.is_none()
                    && side.as_ref().is_some_and(|r| {
                        r.status != Status::Failed
                            && !r.outputs.is_empty()
                            && r.outputs.iter().all(|o| o.is_file())
                    })
                    && ours.iter().all(|(p, f)| listed(p, *f));
                for (p, f) in &ours {
                    let why = why.clone().or_else(|| {
                        (!listed(p, *f))
                            .then(|| format!("not a {} file its sidecar lists", f.name()))
                    });
                    let action = if !p.exists() {
                        Action::Write
                    } else if job.skip_existing && up_to_date {
                        Action::Skip
                    } else {
                        match why {
                            None => Action::Replace,
                            Some(w) if overwrite => Action::Overwrite(w),
                            Some(w) => Action::Refuse(w),
                        }
                    };
                    plan.files.push((p.clone(), action));
                }
                // what an earlier run wrote for this song and this run does not
                let mut earlier: Vec<PathBuf> = side.map(|r| r.outputs).unwrap_or_default();
                earlier.extend(
                    ["wav", "flac"]
                        .iter()
                        .map(|e| dir.join(format!("{}.{e}", t.output_stem))),
                );
                let ours_at: Vec<Option<PathBuf>> = ours.iter().map(|(p, _)| canon(p)).collect();
                for p in earlier {
                    let at = canon(&p);
                    if p.is_file() && !ours_at.contains(&at) && !plan.stale.contains(&p) {
                        plan.stale.push(p);
                    }
                }
            }
            if job.sequence {
                let seq = sidecar::read_sequence_any(dir);
                for &f in &job.deliveries[di].formats {
                    for p in super::sequence::sequence_paths(dir, album, f) {
                        let action = if !p.exists() {
                            Action::Write
                        } else {
                            let why = match &seq {
                                None => Some("no mixfarm sequence.json beside it".to_string()),
                                Some(s)
                                    if s.settings_hash == seq_hash[di]
                                        && s.mixfarm_version == crate::VERSION =>
                                {
                                    let listed: Vec<PathBuf> =
                                        s.files.iter().chain(&s.cue_sheets).cloned().collect();
                                    (!lists(&listed, &p)).then(|| {
                                        "not among the files its sequence.json lists".into()
                                    })
                                }
                                Some(_) => Some("an album file made with other settings".into()),
                            };
                            match why {
                                None if job.skip_existing => Action::Skip,
                                None => Action::Replace,
                                Some(w) if overwrite => Action::Overwrite(w),
                                Some(w) => Action::Refuse(w),
                            }
                        };
                        plan.files.push((p, action));
                    }
                }
            }
        }
    }
    plan
}
