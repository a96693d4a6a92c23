//! The mastering passes of `mixfarm master` for one album: decode + preset chains once per
//! song, then per delivery either one target per song (`track`) or one gain into the
//! limiter for the whole album (`album`), written out with a report per song. CPU only.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ebur128::{EbuR128, Mode};
use rayon::prelude::*;

use super::report::SongReport;
use super::{Album, Delivery};
use crate::error::{Error, Result};
use crate::loudness::{self, Loudness, LIMITER_SEARCH_PASSES, LIMITER_SEARCH_TOLERANCE_LU};
use crate::ops::limiter::Limiter;
use crate::ops::{InsertSpec, PrepareCtx};
use crate::plan::{OutputFormat, Planar};

/// How the loudness target applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlbumMode {
    /// every song on target
    Track,
    /// one gain per album: the album on target, the songs' differences kept
    Album,
}

/// Songs after the album gain and limiter, with each limiter's largest gain reduction (dB).
type Limited = Vec<(Planar, Option<f64>)>;

/// A song after decoding and its chains, before the delivery gain.
struct Prepared {
    rate: u32,
    input: Loudness,
    /// one output per distinct chain
    chained: Vec<Planar>,
    seconds: f64,
}

/// A song mastered for one delivery.
#[derive(Debug, Clone)]
pub struct MasteredSong {
    /// the finished audio
    pub audio: Planar,
    /// gain into the limiter (or the only gain), dB
    pub gain_db: f64,
    /// largest limiter gain reduction, dB (`None`: no limiter)
    pub limiter_reduction_db: Option<f64>,
    /// loudness of the finished audio
    pub output: Loudness,
}

fn prepare_song(path: &Path, chains: &[&[InsertSpec]]) -> Result<Prepared> {
    let t0 = Instant::now();
    let d = crate::audio::decode::decode_file(path)?;
    crate::audio::decode::check_finite(path, &d.channels)?;
    if d.frames() == 0 {
        return Err(Error::input(path, "no audio frames"));
    }
    let mut x = d.channels;
    if x.len() == 1 {
        x.push(x[0].clone()); // centred mono
    }
    let input =
        loudness::measure(&x, d.sample_rate).map_err(|e| Error::input(path, e.to_string()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let load = |p: &Path, r: u32| crate::audio::load_for_render(p, r);
    let ctx = PrepareCtx {
        sample_rate: d.sample_rate,
        scene_dir: dir,
        tempo_bpm: None,
        load_audio: &load,
    };
    let mut chained = Vec::with_capacity(chains.len());
    for chain in chains {
        let mut y = x.clone();
        for spec in chain.iter() {
            let p = spec.prepare(&ctx)?;
            p.process_cpu(&mut y, d.sample_rate, None);
        }
        chained.push(y);
    }
    Ok(Prepared {
        rate: d.sample_rate,
        input,
        chained,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

fn limiter_for(d: &Delivery, rate: u32) -> Result<Option<Limiter>> {
    let Some(l) = &d.limiter else { return Ok(None) };
    let spec = crate::ops::limiter::LimiterSpec {
        ceiling_dbtp: d.ceiling_dbtp,
        ..l.clone()
    };
    let load = |p: &Path, r: u32| crate::audio::load_for_render(p, r);
    let ctx = PrepareCtx {
        sample_rate: rate,
        scene_dir: Path::new("."),
        tempo_bpm: None,
        load_audio: &load,
    };
    Ok(Some(spec.prepare(&ctx)?))
}

fn meter(x: &Planar, rate: u32) -> Result<EbuR128> {
    let fail = |e: ebur128::Error| Error::Render {
        song: String::new(),
        reason: format!("loudness measurement failed: {e}"),
    };
    let mut m = EbuR128::new(x.len() as u32, rate, Mode::I).map_err(fail)?;
    let s: Vec<&[f32]> = x.iter().map(Vec::as_slice).collect();
    m.add_frames_planar_f32(&s).map_err(fail)?;
    Ok(m)
}

/// Integrated loudness of songs taken together (all their gated blocks), LUFS.
pub fn album_lufs(songs: &[(&Planar, u32)]) -> Result<Option<f64>> {
    let meters: Vec<EbuR128> = songs
        .par_iter()
        .map(|(x, r)| meter(x, *r))
        .collect::<Result<_>>()?;
    let l = EbuR128::loudness_global_multiple(meters.iter()).unwrap_or(f64::NEG_INFINITY);
    Ok(l.is_finite().then_some(l))
}

/// One gain into the (optional) limiter for every song; returns the songs, the album loudness.
fn apply_album_gain(
    songs: &[(&Planar, u32, Option<&Limiter>)],
    gain_db: f64,
) -> Result<(Limited, Option<f64>)> {
    let out: Limited = songs
        .par_iter()
        .map(|(x, _, lim)| {
            let mut y = (*x).clone();
            loudness::apply_gain(&mut y, gain_db);
            let gr = lim.map(|l| l.process_cpu(&mut y));
            (y, gr)
        })
        .collect();
    let refs: Vec<(&Planar, u32)> = out.iter().zip(songs).map(|((y, _), s)| (y, s.1)).collect();
    let l = album_lufs(&refs)?;
    Ok((out, l))
}

/// Masters songs (already through the delivery's chain) with one album gain: into the
/// limiter, searched so the album lands on target; without a limiter, clamped so no song
/// passes the ceiling. Returns the songs and a sentence saying what was done.
pub fn master_album(
    songs: &[(&Planar, u32)],
    limiters: &[Option<Limiter>],
    d: &Delivery,
    album: &str,
) -> Result<(Vec<MasteredSong>, String)> {
    let input: Vec<(&Planar, u32, Option<&Limiter>)> = songs
        .iter()
        .zip(limiters)
        .map(|(s, l)| (s.0, s.1, l.as_ref()))
        .collect();
    let Some(l0) = album_lufs(songs)? else {
        return Err(Error::Render {
            song: album.into(),
            reason: "album loudness is unmeasurable (silent or too short)".into(),
        });
    };
    let n = songs.len();
    let mut gain_db = d.target_lufs - l0;
    let mut why = String::new();
    let (out, gain_db) = if limiters.iter().all(Option::is_some) && d.limiter.is_some() {
        let mut best: Option<(f64, Limited, f64)> = None;
        let mut search = loudness::GainSearch::default();
        for _ in 0..LIMITER_SEARCH_PASSES {
            let (y, l) = apply_album_gain(&input, gain_db)?;
            let err = d.target_lufs - l.unwrap_or(d.target_lufs);
            if best.as_ref().is_none_or(|b| err.abs() < b.2.abs()) {
                best = Some((gain_db, y, err));
            }
            if err.abs() <= LIMITER_SEARCH_TOLERANCE_LU {
                break;
            }
            gain_db = search.next(gain_db, d.target_lufs - err, d.target_lufs);
        }
        let (g, y, err) = best.expect("at least one pass");
        why = format!(" into the limiter (album {:+.2} LU off target)", -err);
        (y, g)
    } else {
        let peaks: Vec<f64> = songs
            .par_iter()
            .map(|(x, r)| loudness::measure(x, *r).map(|m| m.true_peak_dbtp))
            .collect::<Result<_>>()?;
        let headroom = peaks
            .iter()
            .map(|tp| d.ceiling_dbtp - tp)
            .fold(f64::INFINITY, f64::min);
        if headroom < gain_db {
            why = format!(
                "; clamped from {gain_db:+.2} dB so the loudest peak stays under {:.1} dBTP",
                d.ceiling_dbtp
            );
            gain_db = headroom;
        }
        (apply_album_gain(&input, gain_db)?.0, gain_db)
    };
    let reason = format!("album: one gain {gain_db:+.2} dB for '{album}' ({n} songs){why}");
    let mastered = out
        .into_par_iter()
        .zip(songs.par_iter())
        .map(|((audio, gr), (_, r))| {
            let output = loudness::measure(&audio, *r)?;
            Ok(MasteredSong {
                audio,
                gain_db,
                limiter_reduction_db: gr,
                output,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((mastered, reason))
}

fn master_track(x: &Planar, rate: u32, lim: Option<Limiter>, d: &Delivery) -> Result<MasteredSong> {
    let m = crate::plan::Mastering {
        target_lufs: Some(d.target_lufs),
        ceiling_dbtp: d.ceiling_dbtp,
        limiter: lim,
    };
    let mut audio = x.clone();
    let (_, norm, output) = loudness::master_to_target(&mut audio, rate, &m)?;
    Ok(MasteredSong {
        audio,
        gain_db: norm.gain_db,
        limiter_reduction_db: norm.limiter_reduction_db,
        output,
    })
}

/// Masters one album for every delivery and writes the files; one report per song and
/// delivery (a song that fails carries its error, the others go on).
pub fn master_album_to(
    album: &Album,
    dels: &[Delivery],
    mode: AlbumMode,
    out_dir: &Path,
    format: OutputFormat,
) -> Vec<SongReport> {
    let mut chains: Vec<&[InsertSpec]> = Vec::new();
    let chain_of: Vec<usize> = dels
        .iter()
        .map(
            |d| match chains.iter().position(|c| *c == d.chain.as_slice()) {
                Some(i) => i,
                None => {
                    chains.push(&d.chain);
                    chains.len() - 1
                }
            },
        )
        .collect();
    let prepared: Vec<Result<Prepared>> = album
        .songs
        .par_iter()
        .map(|p| prepare_song(p, &chains))
        .collect();
    let mut reports = Vec::new();
    for (d, &ci) in dels.iter().zip(&chain_of) {
        let dir = out_dir.join(&d.name).join(&album.name);
        let ok: Vec<(usize, &Prepared)> = prepared
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.as_ref().ok().map(|p| (i, p)))
            .collect();
        let t0 = Instant::now();
        let mastered: Vec<Result<(MasteredSong, String)>> = match mode {
            AlbumMode::Track => ok
                .par_iter()
                .map(|(_, p)| {
                    let lim = limiter_for(d, p.rate)?;
                    let m = master_track(&p.chained[ci], p.rate, lim, d)?;
                    Ok((
                        m,
                        format!(
                            "track: song brought to {:.1} LUFS on its own",
                            d.target_lufs
                        ),
                    ))
                })
                .collect(),
            AlbumMode::Album => {
                let songs: Vec<(&Planar, u32)> =
                    ok.iter().map(|(_, p)| (&p.chained[ci], p.rate)).collect();
                let lims: Result<Vec<Option<Limiter>>> =
                    ok.iter().map(|(_, p)| limiter_for(d, p.rate)).collect();
                match lims.and_then(|l| master_album(&songs, &l, d, &album.name)) {
                    Ok((ms, why)) => ms.into_iter().map(|m| Ok((m, why.clone()))).collect(),
                    Err(e) => {
                        let msg = e.to_string();
                        ok.iter()
                            .map(|_| {
                                Err(Error::Render {
                                    song: album.name.clone(),
                                    reason: msg.clone(),
                                })
                            })
                            .collect()
                    }
                }
            }
        };
        let share_s = t0.elapsed().as_secs_f64() / ok.len().max(1) as f64;
        let mut by_song: Vec<Option<Result<(MasteredSong, String)>>> =
            (0..album.songs.len()).map(|_| None).collect();
        for ((i, _), m) in ok.iter().zip(mastered) {
            by_song[*i] = Some(m);
        }
        let rs: Vec<SongReport> = album
            .songs
            .par_iter()
            .zip(prepared.par_iter())
            .zip(by_song.into_par_iter())
            .map(|((path, prep), m)| {
                finish(path, prep, m, d, &album.name, &dir, format, mode, share_s)
            })
            .collect();
        reports.extend(rs);
    }
    reports
}

#[allow(clippy::too_many_arguments)]
fn finish(
    path: &Path,
    prep: &Result<Prepared>,
    m: Option<Result<(MasteredSong, String)>>,
    d: &Delivery,
    album: &str,
    dir: &Path,
    format: OutputFormat,
    mode: AlbumMode,
    share_s: f64,
) -> SongReport {
    let stem = path
        .file_stem()
        .map_or_else(|| "song".into(), |s| s.to_string_lossy().into_owned());
    let output = dir.join(format!("{stem}.wav"));
    let mut r = SongReport::new(path, &output, d, album, mode);
    let prep = match prep {
        Ok(p) => p,
        Err(e) => return r.failed(e),
    };
    r.input_loudness = Some(prep.input);
    let t0 = Instant::now();
    let (m, why) = match m {
        Some(Ok(m)) => m,
        Some(Err(e)) => return r.failed(&e),
        None => return r.failed(&Error::input(path, "not mastered")),
    };
    let seed = crate::audio::encode::stable_hash(
        format!("{}|{}|{}", d.name, album, path.display()).as_bytes(),
    );
    if let Err(e) = crate::audio::encode::write_wav(&output, &m.audio, prep.rate, format, seed) {
        return r.failed(&e);
    }
    r.reason = why;
    r.gain_db = Some(m.gain_db);
    r.limiter_reduction_db = m.limiter_reduction_db;
    r.output_loudness = Some(m.output);
    r.seconds = prep.seconds + share_s + t0.elapsed().as_secs_f64();
    let json: PathBuf = dir.join(format!("{stem}.json"));
    if let Err(e) = r.write_json(&json) {
        return r.failed(&e);
    }
    r
}
