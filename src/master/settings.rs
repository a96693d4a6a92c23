//! What a song's outputs depend on: its tags, its fades, the album context, and the
//! settings hash recorded in its sidecar (`--skip-existing` compares it). CPU only; no shader
//! mirrored.

use std::path::PathBuf;

use serde::Serialize;

use super::manifest::{text_sha256, Album, Track};
use super::{AlbumMode, Chain, Delivery, Job};
use crate::audio::tags::Tags;
use crate::error::Result;

/// Everything that shapes one song's outputs in one delivery (hashed into the sidecar). Not
/// the format list: a file's bytes do not depend on which other formats were written beside it
/// (the dither seed is per delivery and song), so a run that adds a format is compared output
/// by output (the sidecar lists the files it made; [`super::guard`]).
#[derive(Serialize)]
struct SongSettings<'a> {
    version: &'a str,
    delivery: &'a str,
    target_lufs: f64,
    ceiling_dbtp: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    sample_rate_hz: Option<u32>,
    bits: u32,
    bwf: bool,
    replaygain: bool,
    chain: &'a Chain,
    mode: AlbumMode,
    tags: &'a Tags,
    key: &'a str,
    gain_offset_db: f64,
    fade_in_s: f64,
    fade_out_s: f64,
    reference: Option<(&'a str, f64)>,
    album_context: Option<&'a str>,
}

/// The tags of track `t` of `album`: the catalog's fields (manifest, else the source's
/// tags, else the folder), and the source's album artist, disc, genre and cover. The album
/// is the manifest's, else the source's album tag, else the folder's name (none for loose
/// singles); the track total is the source's when the number is, else the album's highest.
pub fn tags_for(album: &Album, t: &Track) -> Tags {
    let s = &t.source;
    let album_tag = if album.title_given {
        Some(album.title.clone())
    } else {
        s.album
            .clone()
            .or_else(|| (!album.singles).then(|| album.title.clone()))
    };
    let highest = || {
        album
            .tracks
            .iter()
            .filter_map(|t| t.track_number)
            .max()
            .unwrap_or(0)
    };
    let from_source = t.track_number.is_some() && t.track_number == s.track_number;
    Tags {
        title: Some(t.title.clone()),
        artist: t.artist.clone().or_else(|| album.artist.clone()),
        album: album_tag,
        album_artist: album.artist.clone().or_else(|| s.album_artist.clone()),
        track_number: t.track_number,
        track_total: t.track_number.map(|_| {
            s.track_total
                .filter(|_| from_source)
                .unwrap_or_else(highest)
        }),
        disc_number: s.disc_number,
        disc_total: s.disc_total,
        isrc: t.isrc.clone(),
        date: t.date.clone(),
        genre: s.genre.clone(),
        cover: s.cover.clone(),
        replay_gain: None,
    }
}

/// The album-level facts every song's result depends on in album mode or in a sequence:
/// each track's identity, input hash and settings, and the default gap and fades.
pub(super) fn album_context(album: &Album, hashes: &[Result<String>], job: &Job) -> String {
    let mut s = format!(
        "gap {} fades {} {}\n",
        job.gap_s, job.fade_in_s, job.fade_out_s
    );
    for (t, h) in album.tracks.iter().zip(hashes) {
        s.push_str(&format!(
            "{}|{}|{:?}|{}|{:?}|{:?}|{:?}\n",
            t.key,
            h.as_deref().unwrap_or("unreadable"),
            t.preset,
            t.gain_offset_db,
            t.fade_in_s,
            t.fade_out_s,
            t.gap_s
        ));
    }
    text_sha256(&s)
}

pub(super) fn fades_of(t: &Track, job: &Job) -> (f64, f64) {
    (
        t.fade_in_s.unwrap_or(job.fade_in_s),
        t.fade_out_s.unwrap_or(job.fade_out_s),
    )
}

/// Hex settings hash of track `t` in delivery `d`.
pub(super) fn settings_hash(
    album: &Album,
    t: &Track,
    d: &Delivery,
    job: &Job,
    ctx: Option<&str>,
) -> String {
    let (fade_in_s, fade_out_s) = fades_of(t, job);
    let s = SongSettings {
        version: crate::VERSION,
        delivery: &d.name,
        target_lufs: d.target_lufs,
        ceiling_dbtp: d.ceiling_dbtp,
        sample_rate_hz: d.sample_rate_hz,
        bits: d.bits,
        bwf: d.bwf,
        replaygain: job.replaygain,
        chain: job.chain_for(d, t),
        mode: job.mode_for(album),
        tags: &tags_for(album, t),
        key: &t.key,
        gain_offset_db: t.gain_offset_db,
        fade_in_s,
        fade_out_s,
        reference: job
            .reference
            .as_ref()
            .map(|r| (r.sha256.as_str(), r.strength)),
        album_context: ctx,
    };
    text_sha256(&serde_json::to_string(&s).unwrap_or_default())
}

/// The folder of `album` in delivery `d`.
pub fn album_dir(job: &Job, d: &Delivery, album: &Album) -> PathBuf {
    job.out.join(&d.name).join(&album.dir)
}
