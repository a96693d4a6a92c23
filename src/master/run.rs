//! One album through `mixfarm master`: input hashes and settings hashes, the
//! `--skip-existing` check against the sidecars, decoding, the chains (one Plan per song and
//! distinct chain, the album's Plans run as one batch by the engine's executor), the closing
//! per delivery (each song converted to the delivery's sample rate first, then `track` or
//! `album` loudness, limiter, fades), quantisation (once per format: WAV and FLAC of the
//! same depth hold the same samples), the outputs with their tags (ReplayGain with
//! `--replaygain`, a BWF `bext` chunk for deliveries that ask; written beside their places,
//! then put in place on a thread of their own per song — a provisional sidecar, each output
//! synced and renamed, the final sidecar last — while the workers go on), and the continuous
//! album file with its CUE sheet.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;

use super::album::{limiter_for, AlbumMode};
use super::manifest::{file_sha256, text_sha256, Album, Track};
use super::prepare::{prepare_song, Prepared};
use super::rate::AtRate;
use super::report::{SongReport, Status};
use super::sequence::write_sequence;
use super::settings::{album_context, album_dir, fades_of, settings_hash};
use super::sidecar::{self, SequenceReport};
use super::song_tags::output_tags;
use super::{Delivery, Job};
use crate::audio::encode::write_audio_pending;
use crate::audio::pcm::Pcm;
use crate::engine::{self, Closed, Executor, Fades, Member, Outcome};
use crate::error::{Error, Result};
use crate::gpu::Kept;
use crate::loudness::{self, Blocks, Loudness};
use crate::ops::meter::Meter;
use crate::ops::{InsertSpec, Processor};
use crate::plan::{Plan, Rendered, Stage, PLAN_CHANNELS};

/// How a run is steered from outside: the stop flag (SIGTERM) and a per-song callback.
pub struct Ctl<'a> {
    /// set when the worker must stop: the current songs are abandoned cleanly
    pub stop: &'a AtomicBool,
    /// called once per finished song and delivery
    pub on_song: &'a (dyn Fn(&SongReport) + Sync),
    /// runs the songs' Plans (`--backend`)
    pub executor: &'a Mutex<Executor>,
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

/// The settings hash of every track (per delivery) of `album` and of its album file (per
/// delivery), from the tracks' input hashes.
pub(super) fn album_settings(
    album: &Album,
    job: &Job,
    hashes: &[Result<String>],
) -> (Vec<Vec<String>>, Vec<String>) {
    let whole_album = job.mode_for(album) == AlbumMode::Album || job.sequence;
    let ctx = whole_album.then(|| album_context(album, hashes, job));
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
    (settings, seq_hash)
}

/// Masters one album for every delivery and writes its files.
pub fn run_album(album: &Album, job: &Job, ctl: &Ctl<'_>) -> AlbumResult {
    let mut result = AlbumResult::default();
    let n = album.tracks.len();
    let hashes: Vec<Result<String>> = album
        .tracks
        .par_iter()
        .map(|t| match job.input_hashes.get(&t.file) {
            Some(h) => Ok(h.clone()),
            None => file_sha256(&t.file),
        })
        .collect();
    let whole_album = job.mode_for(album) == AlbumMode::Album || job.sequence;
    let (settings, seq_hash) = album_settings(album, job, &hashes);
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
                let dir = album_dir(job, d, album);
                let side = dir.join(format!("{}.json", t.output_stem));
                let expected = super::guard::song_outputs(&dir, &t.output_stem, &d.formats);
                done[k][di] = sidecar::up_to_date(&side, h, &settings[k][di], &expected);
            }
        }
        let seq_done = !job.sequence
            || job.deliveries.iter().enumerate().all(|(di, d)| {
                let dir = album_dir(job, d, album);
                let expected = super::guard::sequence_outputs(&dir, album, &d.formats);
                sidecar::sequence_up_to_date(&dir, &seq_hash[di], &expected)
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
                let dir = album_dir(job, d, album);
                let expected = super::guard::sequence_outputs(&dir, album, &d.formats);
                if let Some(mut s) = sidecar::read_sequence(&dir, &seq_hash[di], &expected) {
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
    // Decode and run each song's distinct chains once; on the GPU the inputs are metered
    // there, all songs in one batch
    let meter_on_host = {
        let ex = ctl.executor.lock().unwrap_or_else(|e| e.into_inner());
        ex.backend() != engine::Backend::Gpu
    };
    let mut prepared: Vec<(usize, Result<Prepared>)> = todo
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
                Ok(_) => prepare_song(t, &chains, job, ctl.stop, meter_on_host),
                Err(e) => Err(super::precheck::unreadable(job.manifest.as_deref(), t, e)),
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
    super::input_meter::measure_inputs(&mut prepared, ctl.executor);
    let mut prepared = run_chains(prepared, ctl.executor, job);

    for (di, d) in job.deliveries.iter().enumerate() {
        for r in done.iter_mut().filter_map(|row| row[di].take()) {
            result.songs.push(skipped(r, ctl));
        }
        let dir = album_dir(job, d, album);
        let t0 = Instant::now();
        // Songs whose sidecar for this delivery is up to date were reported just above.
        let needed: Vec<usize> = (0..prepared.len())
            .filter(|&i| !done_before[prepared[i].0][di])
            .collect();
        let mut need: Vec<&(usize, Result<Prepared>)> =
            needed.iter().map(|&i| &prepared[i]).collect();
        // every song at the delivery's rate (an album file: the album's one rate)
        let (ok_rated, conv_err) = super::rate::songs_at_rate(album, job, d, &prepared, &need);
        let mut mastered = master_delivery(album, job, d, &ok_rated, ctl.executor);
        for (m, e) in mastered.iter_mut().zip(conv_err) {
            if let Some(e) = e {
                *m = Some(Err(e));
            }
        }
        // album mode: the album's highest true peak (ReplayGain's album peak)
        let album_peak_dbtp = (job.mode_for(album) == AlbumMode::Album).then(|| {
            mastered
                .iter()
                .filter_map(|m| m.as_ref()?.as_ref().ok())
                .map(|(c, _)| c.output.true_peak_dbtp)
                .fold(f64::NEG_INFINITY, f64::max)
        });
        let rates: Vec<u32> = ok_rated
            .iter()
            .map(|(_, a)| a.as_ref().map_or(0, |a| a.rate))
            .collect();
        drop(ok_rated);
        if di + 1 == job.deliveries.len() {
            // the chain outputs have served their last delivery: freed before the songs
            // are quantised and written, whose buffers then take their memory
            drop(need);
            for (_, p) in &mut prepared {
                if let Ok(p) = p {
                    for (_, audio) in &mut p.chains {
                        *audio = crate::core::Planar::new();
                    }
                }
            }
            need = needed.iter().map(|&i| &prepared[i]).collect();
        }
        let share_s = t0.elapsed().as_secs_f64() / need.len().max(1) as f64;
        // `None`: not started because the worker was told to stop.
        let outs: Vec<Option<Finished>> = need
            .par_iter()
            .zip(mastered)
            .zip(rates)
            .map(|(((k, prep), m), rate)| {
                let t = &album.tracks[*k];
                let mut r = SongReport::new(t, album, d, job.mode_for(album));
                r.input_sha256 = hashes[*k].as_ref().ok().cloned();
                r.settings_hash = Some(settings[*k][di].clone());
                r.manifest_sha256 = Some(job.manifest_sha256.clone());
                r.shard = job.shard.clone();
                if let Ok(p) = prep {
                    let c = &job.chain_for(d, t).chain;
                    let i = p.chains.iter().position(|(cc, _)| cc == c).unwrap_or(0);
                    r.stages = p.stages.get(i).cloned().unwrap_or_default();
                    let on_gpu = !p.plans.is_empty() || p.kept.iter().any(|(k, _, _)| *k == i);
                    r.chain_held_on = if on_gpu { "gpu" } else { "host" }.into();
                }
                if let Some(Ok((c, _))) = &m {
                    r.closing_stages = c.stages.clone();
                }
                if ctl.stop.load(Ordering::SeqCst) {
                    return None;
                }
                let existing = fresh[*k][di].as_ref();
                let done = Done {
                    m,
                    rate,
                    share_s,
                    album_peak_dbtp,
                };
                let mut commit = None;
                let out = finish(
                    album,
                    t,
                    job,
                    d,
                    &dir,
                    prep,
                    done,
                    &mut r,
                    existing,
                    &mut commit,
                );
                Some((r, out, commit))
            })
            .collect();
        let mut pcms: Vec<Option<Quantised>> = Vec::with_capacity(outs.len());
        for out in outs {
            let Some((mut r, mut p, commit)) = out else {
                result.interrupted = true;
                pcms.push(None);
                continue;
            };
            if let Some(c) = commit {
                r = c.wait();
                if r.status == Status::Failed {
                    p = None; // as a song that failed before its outputs
                }
            }
            (ctl.on_song)(&r);
            result.songs.push(r);
            pcms.push(p);
        }
        if result.interrupted {
            return result;
        }
        if job.sequence {
            let failed: Vec<&SongReport> = result
                .songs
                .iter()
                .filter(|r| r.delivery == d.name && r.status == Status::Failed)
                .collect();
            result.sequences.push(write_sequence(
                album,
                job,
                d,
                &dir,
                &pcms,
                &seq_hash[di],
                &failed,
            ));
        }
    }
    result
}

fn skipped(mut r: SongReport, ctl: &Ctl<'_>) -> SongReport {
    r.status = Status::Skipped;
    (ctl.on_song)(&r);
    r
}

/// Runs the Plans of every prepared song as one batch on the executor and keeps each
/// chain's output; a song whose Plan failed fails with that error. On the GPU, a song that
/// every delivery writes at its own rate is not rendered here: its chain Plans and sources
/// stay with it (`Prepared::plans`) and every closing pass runs the chain on the GPU
/// before the closing's stages, so nothing comes back between them; the other songs' chain
/// outputs are kept on the GPU (within the memory budget), converted there to each rate a
/// delivery writes (`Prepared::kept`).
fn run_chains(
    prepared: Vec<(usize, Result<Prepared>)>,
    executor: &Mutex<Executor>,
    job: &Job,
) -> Vec<(usize, Result<Prepared>)> {
    let mut ex = executor.lock().unwrap_or_else(|e| e.into_inner());
    let on_gpu = ex.backend() == engine::Backend::Gpu;
    // the rate each delivery writes the album at (`None`: each song its own), as
    // `rate::songs_at_rate` decides it
    let rates: Vec<u32> = prepared
        .iter()
        .filter_map(|(_, p)| p.as_ref().ok().map(|p| p.rate))
        .collect();
    let album_rates: Vec<Option<u32>> = job
        .deliveries
        .iter()
        .map(|d| super::rate::album_rate(d, job, rates.iter().copied()))
        .collect();
    let in_closing =
        |p: &Prepared| on_gpu && album_rates.iter().all(|r| r.is_none_or(|r| r == p.rate));
    let ok: Vec<&Prepared> = prepared
        .iter()
        .filter_map(|(_, p)| p.as_ref().ok())
        .collect();
    let sources: Vec<engine::Sources<'_>> = ok
        .iter()
        .map(|p| engine::Sources::borrowed(&p.sources))
        .collect();
    // each chain's Plan with a loudness meter on its output, so the closing need not read
    // that output again to measure it
    let metered: Vec<(Plan, usize)> = ok
        .iter()
        .filter(|p| !in_closing(p))
        .flat_map(|p| p.plans.iter().map(|(_, plan)| metered(plan)))
        .collect();
    let jobs: Vec<engine::Job<'_>> = ok
        .iter()
        .zip(&sources)
        .filter(|(p, _)| !in_closing(p))
        .flat_map(|(p, s)| p.plans.iter().map(move |_| s))
        .zip(&metered)
        .map(|(s, (plan, _))| (plan, s))
        .collect();
    // on the GPU each chain output stays there (within the memory budget), converted there
    // to every rate a delivery writes it at
    let on_gpu_all = vec![on_gpu; jobs.len()];
    let mut outs = ex.run_kept(&jobs, &on_gpu_all).into_iter().zip(
        metered
            .iter()
            .map(|(plan, meter)| (plan.sample_rate, plan.frames, *meter)),
    );
    let runs: Vec<Vec<Vec<engine::StageRun>>> = ok
        .iter()
        .map(|p| {
            p.plans
                .iter()
                .map(|(_, plan)| ex.stage_runs(plan))
                .collect()
        })
        .collect();
    let keep: Vec<bool> = ok.iter().map(|p| in_closing(p)).collect();
    drop(jobs);
    drop(sources);
    drop(ok);
    let mut runs = runs.into_iter().zip(keep);
    let out = prepared
        .into_iter()
        .map(|(k, p)| {
            let p = p.and_then(|mut p| {
                let (stages, keep) = runs.next().unwrap_or_default();
                p.stages = stages;
                if keep {
                    p.chains = p
                        .plans
                        .iter()
                        .map(|(c, _)| (c.clone(), crate::core::Planar::new()))
                        .collect();
                    return Ok(p);
                }
                let plans = std::mem::take(&mut p.plans);
                for (chain, plan) in plans {
                    let (out, (rate, frames, meter)) =
                        outs.next().ok_or_else(|| Error::Render {
                            song: String::new(),
                            reason: "the engine returned fewer results than Plans".into(),
                        })?;
                    let (kept, readings) = out?;
                    let r = match kept {
                        Kept::Host(master) => Rendered { master, readings },
                        Kept::Gpu(r) => {
                            p.chain_loudness.push(None);
                            p.chains.push((chain, crate::core::Planar::new()));
                            let at = p.chains.len() - 1;
                            let mut rates: Vec<u32> =
                                album_rates.iter().map(|a| a.unwrap_or(p.rate)).collect();
                            rates.sort_unstable();
                            rates.dedup();
                            for to in rates {
                                let k = if to == p.rate {
                                    r.clone()
                                } else {
                                    let k = Kept::Gpu(r.clone());
                                    match ex.resample_kept(k, &p.path, p.rate, to)? {
                                        Kept::Gpu(k) => k,
                                        Kept::Host(_) => unreachable!("a kept master stays kept"),
                                    }
                                };
                                let kept = engine::KeptMaster::new(&plan.name, to, k);
                                p.kept.push((at, to, kept));
                            }
                            continue;
                        }
                    };
                    p.chain_loudness
                        .push(chain_loudness(&r, rate, frames, meter));
                    p.chains.push((chain, r.master));
                }
                p.sources = Vec::new();
                Ok(p)
            });
            (k, p)
        })
        .collect();
    drop(ex);
    out
}

/// `plan` with a loudness meter on its master after its stages, and that stage's index.
fn metered(plan: &Plan) -> (Plan, usize) {
    let mut p = plan.clone();
    let meter = p.stages.len();
    p.stages.push(Stage::Process {
        buf: p.master,
        sidechain: None,
        processor: Box::new(Processor::Meter(Meter::new(p.sample_rate, p.frames))),
    });
    (p, meter)
}

/// The loudness of a chain's output from its pass's meter (stage `meter`) and the audio,
/// as `loudness::measure` reads it but for the true peak, left NaN: only a delivery without
/// a closing limiter reads it (its headroom), and the closing takes it there; `None` when
/// the meter read nothing or a non-finite energy (the closing measures it then, and says
/// why it cannot close it).
fn chain_loudness(r: &Rendered, rate: u32, frames: usize, meter: usize) -> Option<Loudness> {
    let lanes = r
        .readings
        .iter()
        .find(|(k, _)| *k == meter)
        .map(|(_, l)| l)?;
    // the meter's readings: each channel's energies, then each one's sample peak
    let energies: Vec<&[f32]> = lanes
        .iter()
        .take(PLAN_CHANNELS)
        .map(Vec::as_slice)
        .collect();
    let blocks = Blocks::from_lanes(&energies, &[1.0, 1.0], rate, frames);
    if blocks.energy().iter().any(|e| !e.is_finite()) {
        return None;
    }
    Some(loudness::measure_blocks_without_true_peak(
        &r.master, &blocks,
    ))
}

/// Track `k` of `album` (its chain output `a` at the delivery's rate) going into the
/// closing of delivery `d`.
fn member_of<'a>(
    album: &Album,
    job: &Job,
    k: usize,
    a: &'a AtRate<'_>,
    limiter: Option<&'a crate::ops::limiter::Limiter>,
    offset_db: f64,
) -> Member<'a> {
    let t = &album.tracks[k];
    let (fade_in_s, fade_out_s) = fades_of(t, job);
    Member {
        audio: &a.audio,
        chain: a.chain,
        rate: a.rate,
        limiter,
        offset_db,
        fades: Fades::from_seconds(fade_in_s, fade_out_s, a.rate),
        measured: a.measured,
        curves: true,
    }
}

/// The closing of one delivery over the songs at the delivery's rate (same order as
/// `rated`; `None`: a song that failed before).
fn master_delivery(
    album: &Album,
    job: &Job,
    d: &Delivery,
    rated: &[(usize, Option<AtRate<'_>>)],
    executor: &Mutex<Executor>,
) -> Vec<Option<Result<(Closed, String)>>> {
    match job.mode_for(album) {
        AlbumMode::Track => {
            // every song its own group, all closed together (each pass one batch)
            let (mut lims, mut errs) = (Vec::new(), Vec::new());
            for l in rated.iter().map(|(k, p)| {
                let p = p.as_ref()?;
                let t = &album.tracks[*k];
                Some(limiter_for(
                    job.chain_for(d, t).limiter.as_ref(),
                    d.ceiling_dbtp,
                    p.rate,
                ))
            }) {
                match l {
                    Some(Ok(l)) => {
                        lims.push(Some(l));
                        errs.push(None);
                    }
                    Some(Err(e)) => {
                        lims.push(None);
                        errs.push(Some(e));
                    }
                    None => {
                        lims.push(None);
                        errs.push(None);
                    }
                }
            }
            let mut groups = Vec::new();
            let mut at: Vec<Option<Result<usize>>> = Vec::with_capacity(rated.len());
            for (((k, p), l), e) in rated.iter().zip(&lims).zip(errs) {
                at.push(match (p, l, e) {
                    (_, _, Some(e)) => Some(Err(e)),
                    (Some(p), Some(l), None) => {
                        let t = &album.tracks[*k];
                        groups.push(engine::Group {
                            members: vec![member_of(album, job, *k, p, l.as_ref(), 0.0)],
                            target_lufs: Some(d.target_lufs + t.gain_offset_db),
                            ceiling_dbtp: d.ceiling_dbtp,
                        });
                        Some(Ok(groups.len() - 1))
                    }
                    _ => None,
                });
            }
            let mut closed: Vec<Option<Result<Outcome>>> = engine::close_all(
                &groups,
                &mut executor.lock().unwrap_or_else(|e| e.into_inner()),
            )
            .into_iter()
            .map(Some)
            .collect();
            rated
                .iter()
                .zip(at)
                .map(|((k, _), at)| {
                    let t = &album.tracks[*k];
                    let g = match at? {
                        Ok(g) => g,
                        Err(e) => return Some(Err(e)),
                    };
                    let target = groups[g].target_lufs.unwrap_or(d.target_lufs);
                    let out = closed[g].take()?;
                    Some(out.and_then(|mut out| {
                        let song = out
                            .songs
                            .pop()
                            .ok_or_else(|| Error::input(&t.file, "not mastered"))?;
                        Ok((
                            song,
                            format!(
                                "track: song gained toward {target:.1} LUFS on its own (target from {})",
                                d.target_from
                            ),
                        ))
                    }))
                })
                .collect()
        }
        AlbumMode::Album => {
            let ok: Vec<(usize, &AtRate<'_>)> = rated
                .iter()
                .filter_map(|(k, p)| p.as_ref().map(|p| (*k, p)))
                .collect();
            let res = ok
                .iter()
                .map(|(k, p)| {
                    limiter_for(
                        job.chain_for(d, &album.tracks[*k]).limiter.as_ref(),
                        d.ceiling_dbtp,
                        p.rate,
                    )
                })
                .collect::<Result<Vec<_>>>()
                .and_then(|lims| {
                    let members: Vec<Member<'_>> = ok
                        .iter()
                        .zip(&lims)
                        .map(|((k, p), l)| {
                            member_of(
                                album,
                                job,
                                *k,
                                p,
                                l.as_ref(),
                                album.tracks[*k].gain_offset_db,
                            )
                        })
                        .collect();
                    let all_limited = lims.iter().all(Option::is_some);
                    let group = engine::Group {
                        members,
                        target_lufs: Some(d.target_lufs),
                        ceiling_dbtp: d.ceiling_dbtp,
                    };
                    let out = engine::close_all(
                        std::slice::from_ref(&group),
                        &mut executor.lock().unwrap_or_else(|e| e.into_inner()),
                    )
                    .pop()
                    .unwrap_or_else(|| {
                        Err(Error::Render {
                            song: album.title.clone(),
                            reason: "nothing closed".into(),
                        })
                    })?;
                    if out.input_lufs.is_none() {
                        return Err(Error::Render {
                            song: album.title.clone(),
                            reason: "album loudness is unmeasurable (silent or too short)".into(),
                        });
                    }
                    let why = if all_limited {
                        format!(
                            " into the limiter (album {:+.2} LU off target)",
                            -out.miss_lu.unwrap_or(0.0)
                        )
                    } else if out.limited_by_ceiling {
                        format!(
                            "; clamped so the loudest peak stays under {:.1} dBTP",
                            d.ceiling_dbtp
                        )
                    } else {
                        String::new()
                    };
                    let reason = format!(
                        "album: one gain {:+.2} dB for '{}' ({} songs){why} (target from {})",
                        out.gain_db,
                        album.title,
                        ok.len(),
                        d.target_from
                    );
                    Ok((out.songs, reason))
                });
            let mut it: Box<dyn Iterator<Item = Result<(Closed, String)>>> = match res {
                Ok((songs, why)) => Box::new(songs.into_iter().map(move |m| Ok((m, why.clone())))),
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
            rated
                .iter()
                .map(|(_, p)| p.as_ref().and_then(|_| it.next()))
                .collect()
        }
    }
}

/// What the closing gave one song in one delivery.
struct Done {
    /// the closed song and why it got its gain (`None`: not mastered)
    m: Option<Result<(Closed, String)>>,
    /// its sample rate, Hz
    rate: u32,
    /// this song's share of the delivery pass, seconds
    share_s: f64,
    /// the album's highest true peak, dBTP (album mode)
    album_peak_dbtp: Option<f64>,
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
    done: Done,
    r: &mut SongReport,
    existing: Option<&SongReport>,
    commit: &mut Option<Committing>,
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
    let (m, why) = match done.m {
        Some(Ok(m)) => m,
        Some(Err(e)) => return fail(r, &e),
        None => return fail(r, &Error::input(&t.file, "not mastered")),
    };
    let rate = done.rate;
    let seed = crate::audio::encode::stable_hash(
        format!("{}|{}|{}", d.name, album.title, t.key).as_bytes(),
    );
    let album_mode = job.mode_for(album) == AlbumMode::Album;
    let (tags, bext) = output_tags(album, t, job, d, &m, rate, album_mode, done.album_peak_dbtp);
    if let Some(e) = existing {
        // Up to date on disk: only the album file needs its samples.
        *r = e.clone();
        r.status = Status::Skipped;
        let mut pcms = Vec::new();
        if job.sequence {
            pcms = d
                .formats
                .iter()
                .map(|&f| Pcm::from_planar(&m.audio, f, seed))
                .collect();
        }
        return Some((pcms, rate));
    }
    let outputs: Vec<_> = d
        .formats
        .iter()
        .map(|&f| {
            let path = super::guard::song_output(dir, &t.output_stem, f, &d.formats);
            (path, f)
        })
        .collect();
    // A provisional sidecar goes in place before the outputs ([`Commit`]): a run killed
    // while they go in place leaves them with a sidecar naming these settings (redone by
    // `--skip-existing`, replaceable without `--overwrite`); the final sidecar replaces it
    // last.
    let side = dir.join(format!("{}.json", t.output_stem));
    let mut provisional = r.clone();
    provisional.status = Status::Failed;
    provisional.error = Some("interrupted while its outputs were written".into());
    let mut pcms = Vec::with_capacity(outputs.len());
    let mut files = Vec::with_capacity(outputs.len());
    for (path, f) in &outputs {
        let pcm = Pcm::from_planar(&m.audio, *f, seed);
        let b = bext.as_deref().filter(|_| !f.is_flac());
        match write_audio_pending(path, &pcm, rate, *f, &tags, b) {
            Ok(p) => files.push(p),
            Err(e) => {
                // the files written so far are removed (dropped uncommitted)
                fail(r, &e);
                let _ = r.write_json(&side); // the sidecar says why
                return None;
            }
        }
        // the album file (`--sequence`) is made from these samples; else they go now
        if job.sequence {
            pcms.push(pcm);
        }
    }
    r.output_formats = outputs.iter().map(|(_, f)| f.name().to_string()).collect();
    r.outputs = outputs.into_iter().map(|(path, _)| path).collect();
    r.reason = why;
    r.gain_db = Some(m.gain_db);
    r.limiter_reduction_db = m.limiter_reduction_db;
    r.output_loudness = Some(m.output);
    r.curves = Some(super::report::SongCurves {
        output: m.curves.clone().unwrap_or_default(),
        limiter_reduction_db: m.limiter_reduction_per_hop_db.clone(),
        ..prep.curves.clone()
    });
    r.sample_rate_hz = Some(rate);
    let (scope, target) = match job.mode_for(album) {
        AlbumMode::Track => ("song", r.target_lufs),
        AlbumMode::Album => ("album", d.target_lufs),
    };
    r.check_outcome(job.max_reduction_db, scope, target, m.group_lufs);
    r.seconds = prep.seconds + done.share_s + t0.elapsed().as_secs_f64();
    let c = Commit {
        provisional,
        files,
        side: side.clone(),
        report: r.clone(),
    };
    // on a thread of its own: the disk syncs wait there, not on a worker
    *commit = Some(match std::thread::Builder::new().spawn(move || c.run()) {
        Ok(h) => Committing::Thread(h),
        Err(e) => {
            // no thread to be had: the outputs were removed with the commit; the sidecar
            // says why
            let failed = r.clone().failed(&Error::io(dir, e));
            let _ = failed.write_json(&side);
            Committing::Failed(Box::new(failed))
        }
    });
    Some((pcms, rate))
}

/// A song's outputs written beside their places, and its sidecars: [`Commit::run`] puts
/// them in place in the order a crash can be recovered from (the provisional sidecar, then
/// each output synced and renamed, then the final sidecar).
struct Commit {
    /// the sidecar that names these settings while the outputs go in place
    provisional: SongReport,
    files: Vec<crate::audio::encode::Pending>,
    side: std::path::PathBuf,
    /// the song's final report
    report: SongReport,
}

impl Commit {
    /// Puts everything in place; returns the song's report (failed, with the reason, when
    /// a step failed: the outputs not yet in place are removed).
    fn run(self) -> SongReport {
        let Commit {
            provisional,
            files,
            side,
            report,
        } = self;
        if let Err(e) = provisional.write_json(&side) {
            return report.failed(&e);
        }
        for f in files {
            if let Err(e) = f.commit() {
                let r = report.failed(&e);
                let _ = r.write_json(&side); // the sidecar says why, not "interrupted"
                return r;
            }
        }
        match report.write_json(&side) {
            Ok(()) => report,
            Err(e) => report.failed(&e),
        }
    }
}

/// A song out of [`finish`]: its report, its samples (for the album file) and its outputs'
/// commit under way.
type Finished = (SongReport, Option<Quantised>, Option<Committing>);

/// A song's commit under way ([`Commit`]).
enum Committing {
    /// on its thread
    Thread(std::thread::JoinHandle<SongReport>),
    /// not started: the song's report says why
    Failed(Box<SongReport>),
}

impl Committing {
    /// The song's report once its outputs are in place (or why not).
    fn wait(self) -> SongReport {
        match self {
            Committing::Thread(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            Committing::Failed(r) => *r,
        }
    }
}
