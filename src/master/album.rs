//! The loudness passes of `mixfarm master`: one target per song (`track`) or one gain into
//! the limiters for a whole album (`album`, the songs keep their relative loudness). CPU
//! only; no shader mirrored.

use std::path::Path;

use ebur128::EbuR128;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::loudness::{self, Loudness, LIMITER_SEARCH_PASSES, LIMITER_SEARCH_TOLERANCE_LU};
use crate::ops::limiter::{Limiter, LimiterSpec};
use crate::ops::PrepareCtx;
use crate::plan::Planar;

/// How the loudness target applies.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum AlbumMode {
    /// every song on target
    Track,
    /// one gain per album: the album on target, the songs' differences kept
    Album,
}

/// Songs after the album gain and limiter, with each limiter's largest gain reduction (dB).
type Limited = Vec<(Planar, Option<f64>)>;

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

/// Prepares a closing limiter `spec` at `rate` with its ceiling set to `ceiling_dbtp`.
pub fn limiter_for(
    spec: Option<&LimiterSpec>,
    ceiling_dbtp: f64,
    rate: u32,
) -> Result<Option<Limiter>> {
    let Some(l) = spec else { return Ok(None) };
    let spec = LimiterSpec {
        ceiling_dbtp,
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

/// Integrated loudness of songs taken together (all their gated blocks), LUFS.
pub fn album_lufs(songs: &[(&Planar, u32)]) -> Result<Option<f64>> {
    let meters: Vec<EbuR128> = songs
        .par_iter()
        .map(|(x, r)| loudness::integrated_meter(x, *r))
        .collect::<Result<_>>()?;
    let l = EbuR128::loudness_global_multiple(meters.iter()).unwrap_or(f64::NEG_INFINITY);
    Ok(l.is_finite().then_some(l))
}

/// A song going into the album gain: audio, rate, its limiter, its level offset (dB).
pub type AlbumSong<'a> = (&'a Planar, u32, Option<&'a Limiter>, f64);

/// One gain (plus each song's offset) into the (optional) limiter for every song; returns
/// the songs and the album loudness.
fn apply_album_gain(songs: &[AlbumSong<'_>], gain_db: f64) -> Result<(Limited, Option<f64>)> {
    let out: Limited = songs
        .par_iter()
        .map(|(x, _, lim, off)| {
            let mut y = (*x).clone();
            loudness::apply_gain(&mut y, gain_db + off);
            let gr = lim.map(|l| l.process_cpu(&mut y));
            (y, gr)
        })
        .collect();
    let refs: Vec<(&Planar, u32)> = out.iter().zip(songs).map(|((y, _), s)| (y, s.1)).collect();
    let l = album_lufs(&refs)?;
    Ok((out, l))
}

/// Masters songs (already through their chains) with one album gain (plus each song's
/// offset, dB): into the limiters, searched so the album lands on `target_lufs`; when a song
/// has no limiter, clamped so none of those songs passes `ceiling_dbtp`. Returns the songs
/// and a sentence saying what was done.
pub fn master_album(
    input: &[AlbumSong<'_>],
    target_lufs: f64,
    ceiling_dbtp: f64,
    album: &str,
) -> Result<(Vec<MasteredSong>, String)> {
    let songs: Vec<(&Planar, u32)> = input.iter().map(|s| (s.0, s.1)).collect();
    let songs = songs.as_slice();
    let Some(l0) = album_lufs(songs)? else {
        return Err(Error::Render {
            song: album.into(),
            reason: "album loudness is unmeasurable (silent or too short)".into(),
        });
    };
    let n = input.len();
    let mut gain_db = target_lufs - l0;
    let mut why = String::new();
    let (out, gain_db) = if input.iter().all(|s| s.2.is_some()) {
        let mut best: Option<(f64, Limited, f64)> = None;
        let mut search = loudness::GainSearch::default();
        for _ in 0..LIMITER_SEARCH_PASSES {
            let (y, l) = apply_album_gain(input, gain_db)?;
            let err = target_lufs - l.unwrap_or(target_lufs);
            if best.as_ref().is_none_or(|b| err.abs() < b.2.abs()) {
                best = Some((gain_db, y, err));
            }
            if err.abs() <= LIMITER_SEARCH_TOLERANCE_LU {
                break;
            }
            gain_db = search.next(gain_db, target_lufs - err, target_lufs);
        }
        let (g, y, err) = best.expect("at least one pass");
        why = format!(" into the limiter (album {:+.2} LU off target)", -err);
        (y, g)
    } else {
        // Songs without a limiter bound the gain: none may pass the ceiling.
        let peaks: Vec<f64> = input
            .par_iter()
            .filter(|s| s.2.is_none())
            .map(|(x, r, _, off)| loudness::measure(x, *r).map(|m| m.true_peak_dbtp + off))
            .collect::<Result<_>>()?;
        let headroom = peaks
            .iter()
            .map(|tp| ceiling_dbtp - tp)
            .fold(f64::INFINITY, f64::min);
        if headroom < gain_db {
            why = format!(
                "; clamped from {gain_db:+.2} dB so the loudest peak stays under {:.1} dBTP",
                ceiling_dbtp
            );
            gain_db = headroom;
        }
        (apply_album_gain(input, gain_db)?.0, gain_db)
    };
    let reason = format!("album: one gain {gain_db:+.2} dB for '{album}' ({n} songs){why}");
    let mastered = out
        .into_par_iter()
        .zip(input.par_iter())
        .map(|((audio, gr), (_, r, _, off))| {
            let output = loudness::measure(&audio, *r)?;
            Ok(MasteredSong {
                audio,
                gain_db: gain_db + off,
                limiter_reduction_db: gr,
                output,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((mastered, reason))
}

/// Masters one song on its own to `target_lufs` under `ceiling_dbtp` (through `lim`).
pub fn master_track(
    x: &Planar,
    rate: u32,
    lim: Option<Limiter>,
    target_lufs: f64,
    ceiling_dbtp: f64,
) -> Result<MasteredSong> {
    let m = crate::plan::Mastering {
        target_lufs: Some(target_lufs),
        ceiling_dbtp,
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
