//! Album sequencing for `mixfarm master --sequence`: the layout of an album as one
//! continuous file (gaps of silence between tracks, every track
//! start on a CUE frame), and the CUE sheet for it.
//!
//! CUE times count frames of 1/75 s, so a track start can only be named exactly when it
//! falls on a multiple of `rate / 75` samples (588 at 44.1 kHz, 640 at 48 kHz). Each gap is
//! therefore the requested length rounded *up* so the next track starts on such a boundary:
//! at most 1/75 s longer than asked, never shorter. Rates that are not a multiple of 75 Hz
//! cannot carry a CUE sheet and are refused.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::manifest::Album;
use super::report::{SongReport, Status};
use super::run::Quantised;
use super::sidecar::{self, SequenceReport};
use super::{Delivery, Job};
use crate::audio::tags::Tags;
use crate::error::Error;
use crate::plan::OutputFormat;

/// CUE frames per second.
pub const CUE_FRAMES_PER_S: u32 = 75;

/// Where a track sits in the album file, in sample frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// first frame of the gap before the track (= `start_frame` when there is no gap)
    pub gap_start_frame: usize,
    /// first frame of the track
    pub start_frame: usize,
    /// the track's length
    pub frames: usize,
}

/// Frames per CUE frame at `sample_rate`, or why the rate cannot carry a CUE sheet.
pub fn frames_per_cue_frame(sample_rate: u32) -> Result<usize, String> {
    if sample_rate == 0 || !sample_rate.is_multiple_of(CUE_FRAMES_PER_S) {
        return Err(format!(
            "a CUE sheet needs a sample rate that is a multiple of 75 Hz, not {sample_rate} Hz"
        ));
    }
    Ok((sample_rate / CUE_FRAMES_PER_S) as usize)
}

/// Lays tracks of `lengths` frames one after the other with `gaps_s[k]` seconds of silence
/// before track k (ignored for the first track, which starts at 0); each start is rounded up
/// to a CUE frame. Returns the placements and the album length in frames.
pub fn layout(
    lengths: &[usize],
    gaps_s: &[f64],
    sample_rate: u32,
) -> Result<(Vec<Placement>, usize), String> {
    let fpf = frames_per_cue_frame(sample_rate)?;
    let mut out = Vec::with_capacity(lengths.len());
    let mut end = 0usize;
    for (k, (&len, &gap_s)) in lengths.iter().zip(gaps_s).enumerate() {
        let (gap_start, start) = if k == 0 {
            (0, 0)
        } else {
            let gap = (gap_s * f64::from(sample_rate)).round() as usize;
            (end, (end + gap).div_ceil(fpf) * fpf)
        };
        out.push(Placement {
            gap_start_frame: gap_start,
            start_frame: start,
            frames: len,
        });
        end = start + len;
    }
    Ok((out, end))
}

/// `mm:ss:ff` for a frame on a CUE-frame boundary.
pub fn cue_time(frame: usize, sample_rate: u32) -> String {
    let fpf = (sample_rate / CUE_FRAMES_PER_S).max(1) as usize;
    let cf = frame / fpf;
    let f = cf % 75;
    let s = (cf / 75) % 60;
    let m = cf / 75 / 60;
    format!("{m:02}:{s:02}:{f:02}")
}

fn cue_text(s: &str) -> String {
    s.replace('"', "'").replace(['\r', '\n'], " ")
}

/// The CUE sheet of an album file `file_name` (in the same folder). `INDEX 01` is each
/// track's first frame; `INDEX 00` marks the start of the gap before it (the first CUE frame
/// at or after the previous track's end) when there is one.
pub fn cue_sheet(
    album: &Album,
    file_name: &str,
    placements: &[Placement],
    sample_rate: u32,
) -> Result<String, String> {
    if album.tracks.len() > 99 {
        return Err(format!(
            "a CUE sheet holds at most 99 tracks; album '{}' has {}",
            album.title,
            album.tracks.len()
        ));
    }
    let fpf = frames_per_cue_frame(sample_rate)?;
    let mut c = String::new();
    let _ = writeln!(c, "REM COMMENT \"mixfarm {}\"", crate::VERSION);
    if let Some(d) = album.tracks.iter().find_map(|t| t.date.clone()) {
        let _ = writeln!(c, "REM DATE \"{}\"", cue_text(&d));
    }
    if let Some(a) = &album.artist {
        let _ = writeln!(c, "PERFORMER \"{}\"", cue_text(a));
    }
    let _ = writeln!(c, "TITLE \"{}\"", cue_text(&album.title));
    let _ = writeln!(c, "FILE \"{}\" WAVE", cue_text(file_name));
    for (k, (t, p)) in album.tracks.iter().zip(placements).enumerate() {
        let _ = writeln!(c, "  TRACK {:02} AUDIO", k + 1);
        let _ = writeln!(c, "    TITLE \"{}\"", cue_text(&t.title));
        if let Some(a) = &t.artist {
            let _ = writeln!(c, "    PERFORMER \"{}\"", cue_text(a));
        }
        if let Some(i) = &t.isrc {
            let _ = writeln!(c, "    ISRC {i}");
        }
        let idx0 = p.gap_start_frame.div_ceil(fpf) * fpf;
        if k > 0 && idx0 < p.start_frame {
            let _ = writeln!(c, "    INDEX 00 {}", cue_time(idx0, sample_rate));
        }
        let _ = writeln!(c, "    INDEX 01 {}", cue_time(p.start_frame, sample_rate));
    }
    Ok(c)
}

/// The album file of `album` in `format` and its CUE sheet, under the album folder `dir`.
pub(super) fn sequence_paths(dir: &Path, album: &Album, format: OutputFormat) -> [PathBuf; 2] {
    let sub = dir.join("sequence").join(format.name());
    [
        sub.join(format!("{}.{}", album.dir, format.extension())),
        sub.join(format!("{}.cue", album.dir)),
    ]
}

/// Joins the album's songs (quantised, per format) with their gaps into one file per format
/// plus its CUE sheet, under `DIR/<delivery>/<album>/sequence/<format>/`.
pub(super) fn write_sequence(
    album: &Album,
    job: &Job,
    d: &Delivery,
    dir: &Path,
    pcms: &[Option<Quantised>],
    hash: &str,
    failed: &[&SongReport],
) -> SequenceReport {
    let mut rep = SequenceReport::new(&album.title, &d.name, hash);
    let mut go = || -> std::result::Result<(), String> {
        if pcms.len() != album.tracks.len() || pcms.iter().any(Option::is_none) {
            let names: Vec<String> = failed
                .iter()
                .map(|r| format!("'{}' ({})", r.title, r.input.display()))
                .collect();
            return Err(format!(
                "no album file: {} of {} songs failed: {}",
                names.len().max(1),
                album.tracks.len(),
                if names.is_empty() {
                    "not every song was mastered".to_string()
                } else {
                    names.join(", ")
                }
            ));
        }
        let songs: Vec<&Quantised> = pcms.iter().flatten().collect();
        let rate = songs[0].1;
        let odd: Vec<String> = album
            .tracks
            .iter()
            .zip(&songs)
            .filter(|(_, s)| s.1 != rate)
            .map(|(t, s)| format!("'{}' at {} Hz", t.title, s.1))
            .collect();
        if !odd.is_empty() {
            return Err(format!(
                "the album's songs have different sample rates ({} Hz for '{}'; {})",
                rate,
                album.tracks[0].title,
                odd.join(", ")
            ));
        }
        let lengths: Vec<usize> = songs.iter().map(|s| s.0[0].frames()).collect();
        let gaps: Vec<f64> = album
            .tracks
            .iter()
            .map(|t| t.gap_s.unwrap_or(job.gap_s))
            .collect();
        let (places, total) = layout(&lengths, &gaps, rate)?;
        rep.sample_rate = rate;
        rep.total_frames = total;
        rep.track_start_frames = places.iter().map(|p| p.start_frame).collect();
        rep.track_frames = lengths.clone();
        for (fi, &f) in d.formats.iter().enumerate() {
            let [audio, cue_path] = sequence_paths(dir, album, f);
            let name = format!("{}.{}", album.dir, f.extension());
            let mut joined = songs[0].0[fi].silence_like(0);
            for (s, p) in songs.iter().zip(&places) {
                let gap = p.start_frame - joined.frames();
                joined.append(&joined.silence_like(gap))?;
                joined.append(&s.0[fi])?;
            }
            let tags = Tags {
                title: Some(album.title.clone()),
                artist: album.artist.clone(),
                album: Some(album.title.clone()),
                album_artist: album.artist.clone(),
                date: album.tracks.iter().find_map(|t| t.date.clone()),
                ..Tags::default()
            };
            crate::audio::encode::write_audio(&audio, &joined, rate, f, &tags)
                .map_err(|e| e.to_string())?;
            let cue = cue_sheet(album, &name, &places, rate)?;
            crate::audio::encode::write_atomic(&cue_path, |tmp| {
                std::fs::write(tmp, cue.as_bytes()).map_err(|e| Error::io(tmp, e))
            })
            .map_err(|e| e.to_string())?;
            rep.files.push(audio);
            rep.cue_sheets.push(cue_path);
        }
        Ok(())
    };
    if let Err(e) = go() {
        rep.status = Status::Failed;
        rep.error = Some(format!("album '{}' ({}): {e}", album.title, d.name));
        return rep;
    }
    if let Err(e) = sidecar::write_sequence(dir, &rep) {
        rep.status = Status::Failed;
        rep.error = Some(e.to_string());
    }
    rep
}
