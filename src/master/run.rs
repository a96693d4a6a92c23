//! One album through `mixfarm master`: input hashes and settings hashes, the
//! `--skip-existing` check against the sidecars, decoding and the chains (once per song and
//! distinct chain), the loudness pass per delivery (`track` or `album`), fades, quantisation
//! (once per format: WAV and FLAC of the same depth hold the same samples), the outputs with
//! their tags, the sidecar written last, and the continuous album file with its CUE sheet.
//! CPU only; no shader mirrored.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use super::album::{limiter_for, master_album, master_track, AlbumMode, AlbumSong, MasteredSong};
use super::manifest::{file_sha256, text_sha256, Album, Track};
use super::prepare::{prepare_song, Prepared};
use super::report::{SongReport, Status};
use super::sequence::apply_fades;
use super::sequence::write_sequence;
use super::settings::{album_context, album_dir, fades_of, settings_hash, tags_for};
use super::sidecar::{self, SequenceReport};
use super::{Delivery, Job};
use crate::audio::pcm::Pcm;
use crate::error::{Error, Result};
use crate::loudness;
use crate::ops::InsertSpec;

/// How a run is steered from outside: the stop flag (SIGTERM) and a per-song callback.
pub struct Ctl<'a> {
    /// set when the worker must stop: the current songs are abandoned cleanly
    pub stop: &'a AtomicBool,
    /// called once per finished song and delivery
    pub on_song: &'a (dyn Fn(&SongReport) + Sync),
}

/// What one album produced.
#[derive(Debug, Default)]
pub struct AlbumResult {
    /// one report per song and delivery that was done, skipped or failed
    pub songs: Vec<SongReport>,
    /// one report per delivery's album file (`--sequence`)
    pub sequences: Vec<SequenceReport>,
    /// true when the stop flag cut the album short
    pub interrupted: bool,
}

/// A song's audio quantised once per format, and its sample rate (for the album file).
pub(super) type Quantised = (Vec<Pcm>, u32);

/// Masters one album for every delivery and writes its files.
pub fn run_album(album: &Album, job: &Job, ctl: &Ctl<'_>) -> AlbumResult {
    let mut result = AlbumResult::default();
    let n = album.tracks.len();
    let hashes: Vec<Result<String>> = album
        .tracks
        .par_iter()
        .map(|t| file_sha256(&t.file))
        .collect();
    let whole_album = job.mode == AlbumMode::Album || job.sequence;
    let ctx = whole_album.then(|| album_context(album, &hashes, job));
    let settings: Vec<Vec<String>> = album
        .tracks
        .iter()
        .map(|t| {
            job.deliveries
                .iter()
                .map(|d| settings_hash(album, t, d, job, ctx.as_deref()))
                .collect()
        })
        .collect();
    let seq_hash: Vec<String> = (0..job.deliveries.len())
        .map(|di| text_sha256(&settings.iter().map(|s| s[di].as_str()).collect::<String>()))
        .collect();
    for d in &job.deliveries {
        sidecar::clear_stale_parts(&album_dir(job, d, album));
    }

    // --skip-existing: which songs are finished already, per delivery?
    let nd = job.deliveries.len();
    let mut done: Vec<Vec<Option<SongReport>>> = vec![vec![None; nd]; n];
    let mut fresh: Vec<Vec<Option<SongReport>>> = vec![vec![None; nd]; n];
    if job.skip_existing {
        for (k, t) in album.tracks.iter().enumerate() {
            let Ok(h) = &hashes[k] else { continue };
            for (di, d) in job.deliveries.iter().enumerate() {
                let side = album_dir(job, d, album).join(format!("{}.json", t.output_stem));
                done[k][di] = sidecar::up_to_date(&side, h, &settings[k][di]);
            }
        }
        let seq_done = !job.sequence
            || job.deliveries.iter().enumerate().all(|(di, d)| {
                sidecar::sequence_up_to_date(&album_dir(job, d, album), &seq_hash[di])
            });
        let all_done = done.iter().flatten().all(Option::is_some);
        if whole_album && !(seq_done && all_done) {
            // Album gain or sequence: the album is computed whole again, but the songs
            // already finished are not rewritten (the same bytes would come out).
            fresh = std::mem::replace(&mut done, vec![vec![None; nd]; n]);
        }
    }
    let todo: Vec<usize> = (0..n)
        .filter(|&k| done[k].iter().any(Option::is_none))
        .collect();
    if todo.is_empty() {
        for r in done.iter_mut().flatten().filter_map(Option::take) {
            result.songs.push(skipped(r, ctl));
        }
        if job.sequence {
            for (di, d) in job.deliveries.iter().enumerate() {
                if let Some(mut s) =
                    sidecar::read_sequence(&album_dir(job, d, album), &seq_hash[di])
                {
                    s.status = Status::Skipped;
                    result.sequences.push(s);
                }
            }
        }
        return result;
    }

    let done_before: Vec<Vec<bool>> = done
        .iter()
        .map(|row| row.iter().map(Option::is_some).collect())
        .collect();
    // Decode and run each song's distinct chains once.
    let prepared: Vec<(usize, Result<Prepared>)> = todo
        .par_iter()
        .map(|&k| {
            let t = &album.tracks[k];
            let mut chains: Vec<&[InsertSpec]> = Vec::new();
            for d in &job.deliveries {
                let c = job.chain_for(d, t).chain.as_slice();
                if !chains.contains(&c) {
                    chains.push(c);
                }
            }
            let r = match &hashes[k] {
                Ok(_) => prepare_song(t, &chains, job, ctl.stop),
                Err(e) => Err(Error::input(&t.file, e.to_string())),
            };
            (k, r)
        })
        .collect();
    if prepared
        .iter()
        .any(|(_, p)| matches!(p, Err(Error::Interrupted)))
    {
        result.interrupted = true;
        return result;
    }

    for (di, d) in job.deliveries.iter().enumerate() {
        for r in done.iter_mut().filter_map(|row| row[di].take()) {
            result.songs.push(skipped(r, ctl));
        }
        let dir = album_dir(job, d, album);
        let t0 = Instant::now();
        // Songs whose sidecar for this delivery is up to date were reported just above.
        let need: Vec<&(usize, Result<Prepared>)> = prepared
            .iter()
            .filter(|(k, _)| !done_before[*k][di])
            .collect();
        let mastered = master_delivery(album, job, d, &need);
        let share_s = t0.elapsed().as_secs_f64() / need.len().max(1) as f64;
        // `None`: not started because the worker was told to stop.
        let outs: Vec<Option<(SongReport, Option<Quantised>)>> = need
            .par_iter()
            .zip(mastered)
            .map(|((k, prep), m)| {
                let t = &album.tracks[*k];
                let mut r = SongReport::new(t, album, d, job.mode);
                r.input_sha256 = hashes[*k].as_ref().ok().cloned();
                r.settings_hash = Some(settings[*k][di].clone());
                r.manifest_sha256 = Some(job.manifest_sha256.clone());
                r.shard = job.shard.clone();
                if ctl.stop.load(Ordering::SeqCst) {
                    return None;
                }
                let existing = fresh[*k][di].as_ref();
                let out = finish(album, t, job, d, &dir, prep, m, share_s, &mut r, existing);
                Some((r, out))
            })
            .collect();
        let mut pcms: Vec<Option<Quantised>> = Vec::with_capacity(outs.len());
        for out in outs {
            let Some((r, p)) = out else {
                result.interrupted = true;
                pcms.push(None);
                continue;
            };
            (ctl.on_song)(&r);
            result.songs.push(r);
            pcms.push(p);
        }
        if result.interrupted {
            return result;
        }
        if job.sequence {
            result
                .sequences
                .push(write_sequence(album, job, d, &dir, &pcms, &seq_hash[di]));
        }
    }
    result
}

fn skipped(mut r: SongReport, ctl: &Ctl<'_>) -> SongReport {
    r.status = Status::Skipped;
    (ctl.on_song)(&r);
    r
}

/// The loudness pass of one delivery over the prepared songs (same order as `prepared`).
fn master_delivery(
    album: &Album,
    job: &Job,
    d: &Delivery,
    prepared: &[&(usize, Result<Prepared>)],
) -> Vec<Option<Result<(MasteredSong, String)>>> {
    let chained = |k: usize, p: &'_ Prepared| -> usize {
        let c = &job.chain_for(d, &album.tracks[k]).chain;
        p.chains.iter().position(|(cc, _)| cc == c).unwrap_or(0)
    };
    match job.mode {
        AlbumMode::Track => prepared
            .par_iter()
            .map(|(k, p)| {
                let p = p.as_ref().ok()?;
                let t = &album.tracks[*k];
                let target = d.target_lufs + t.gain_offset_db;
                let run = || -> Result<(MasteredSong, String)> {
                    let lim =
                        limiter_for(job.chain_for(d, t).limiter.as_ref(), d.ceiling_dbtp, p.rate)?;
                    let m = master_track(
                        &p.chains[chained(*k, p)].1,
                        p.rate,
                        lim,
                        target,
                        d.ceiling_dbtp,
                    )?;
                    Ok((
                        m,
                        format!(
                            "track: song brought to {target:.1} LUFS on its own (target from {})",
                            d.target_from
                        ),
                    ))
                };
                Some(run())
            })
            .collect(),
        AlbumMode::Album => {
            let ok: Vec<(usize, &Prepared)> = prepared
                .iter()
                .filter_map(|(k, p)| p.as_ref().ok().map(|p| (*k, p)))
                .collect();
            let lims: Result<Vec<_>> = ok
                .iter()
                .map(|(k, p)| {
                    limiter_for(
                        job.chain_for(d, &album.tracks[*k]).limiter.as_ref(),
                        d.ceiling_dbtp,
                        p.rate,
                    )
                })
                .collect();
            let res = lims.and_then(|lims| {
                let songs: Vec<AlbumSong<'_>> = ok
                    .iter()
                    .zip(&lims)
                    .map(|((k, p), l)| {
                        (
                            &p.chains[chained(*k, p)].1,
                            p.rate,
                            l.as_ref(),
                            album.tracks[*k].gain_offset_db,
                        )
                    })
                    .collect();
                master_album(&songs, d.target_lufs, d.ceiling_dbtp, &album.title)
            });
            let mut it: Box<dyn Iterator<Item = Result<(MasteredSong, String)>>> = match res {
                Ok((ms, why)) => {
                    let why = format!("{why} (target from {})", d.target_from);
                    Box::new(ms.into_iter().map(move |m| Ok((m, why.clone()))))
                }
                Err(e) => {
                    let msg = e.to_string();
                    Box::new(std::iter::repeat_with(move || {
                        Err(Error::Render {
                            song: album.title.clone(),
                            reason: msg.clone(),
                        })
                    }))
                }
            };
            prepared
                .iter()
                .map(|(_, p)| p.as_ref().ok().and_then(|_| it.next()))
                .collect()
        }
    }
}

/// Fades, quantises, writes one song's outputs and its sidecar; returns the quantised audio
/// (for the album file) on success.
#[allow(clippy::too_many_arguments)]
fn finish(
    album: &Album,
    t: &Track,
    job: &Job,
    d: &Delivery,
    dir: &Path,
    prep: &Result<Prepared>,
    m: Option<Result<(MasteredSong, String)>>,
    share_s: f64,
    r: &mut SongReport,
    existing: Option<&SongReport>,
) -> Option<Quantised> {
    let fail = |r: &mut SongReport, e: &Error| {
        *r = r.clone().failed(e);
        None
    };
    let prep = match prep {
        Ok(p) => p,
        Err(e) => return fail(r, e),
    };
    r.input_loudness = Some(prep.input);
    r.match_eq = prep.match_eq.clone();
    let t0 = Instant::now();
    let (mut m, why) = match m {
        Some(Ok(m)) => m,
        Some(Err(e)) => return fail(r, &e),
        None => return fail(r, &Error::input(&t.file, "not mastered")),
    };
    let (fi, fo) = fades_of(t, job);
    if fi > 0.0 || fo > 0.0 {
        apply_fades(&mut m.audio, prep.rate, fi, fo);
        match loudness::measure(&m.audio, prep.rate) {
            Ok(l) => m.output = l,
            Err(e) => return fail(r, &e),
        }
    }
    let seed = crate::audio::encode::stable_hash(
        format!("{}|{}|{}", d.name, album.title, t.key).as_bytes(),
    );
    let tags = tags_for(album, t);
    let mut pcms = Vec::with_capacity(job.formats.len());
    if let Some(e) = existing {
        // Up to date on disk: only the album file needs its samples.
        *r = e.clone();
        r.status = Status::Skipped;
        if job.sequence {
            pcms = job
                .formats
                .iter()
                .map(|&f| Pcm::from_planar(&m.audio, f, seed))
                .collect();
        }
        return Some((pcms, prep.rate));
    }
    for &f in &job.formats {
        let pcm = Pcm::from_planar(&m.audio, f, seed);
        let out = dir.join(format!("{}.{}", t.output_stem, f.extension()));
        if let Err(e) = crate::audio::encode::write_audio(&out, &pcm, prep.rate, f, &tags) {
            return fail(r, &e);
        }
        r.outputs.push(out);
        pcms.push(pcm);
    }
    r.reason = why;
    r.gain_db = Some(m.gain_db);
    r.limiter_reduction_db = m.limiter_reduction_db;
    r.output_loudness = Some(m.output);
    r.seconds = prep.seconds + share_s + t0.elapsed().as_secs_f64();
    let side = dir.join(format!("{}.json", t.output_stem));
    if let Err(e) = r.write_json(&side) {
        return fail(r, &e);
    }
    Some((pcms, prep.rate))
}
