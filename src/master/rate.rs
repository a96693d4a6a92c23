//! Each delivery's sample rate: a song's chain output converted to it (the delivery
//! converter, [`crate::ops::resample`]) before the closing, so the closing limiter and its
//! true-peak ceiling work at the rate that is written: on the host by the converter's CPU
//! twin ([`crate::audio::resample::resample_delivery`]), or, for a chain output kept on
//! the GPU, by its kernel when the chains ran ([`super::run`]), each rate kept there.

use std::borrow::Cow;

use rayon::prelude::*;

use super::manifest::Album;
use super::prepare::Prepared;
use super::{Delivery, Job};
use crate::core::Planar;
use crate::error::{Error, Result};

/// A song's chain output for one delivery, at the delivery's rate.
pub(super) struct AtRate<'a> {
    /// the audio (borrowed when no conversion was needed; empty when the chain runs inside
    /// the closing's passes, `chain`)
    pub audio: Cow<'a, Planar>,
    /// its sample rate, Hz
    pub rate: u32,
    /// the chain's Plan and sources, when its output was not rendered ahead of the closing
    pub chain: Option<crate::engine::ChainSource<'a>>,
    /// the audio's loudness, when the chain's pass metered it and nothing changed it since
    pub measured: Option<&'a crate::loudness::Loudness>,
}

/// The rate delivery `d` writes an album's songs at (their own `rates`): the delivery's,
/// else, when the album becomes one file (`--sequence`), the highest of the songs' rates,
/// else `None` (each song keeps its own).
pub(super) fn album_rate(d: &Delivery, job: &Job, rates: impl Iterator<Item = u32>) -> Option<u32> {
    d.sample_rate_hz
        .or_else(|| job.sequence.then(|| rates.max()).flatten())
}

/// The output of chain `chain` of `p` at `rate` (`None`: the song's own rate).
pub(super) fn at_rate<'a>(p: &'a Prepared, chain: usize, rate: Option<u32>) -> Result<AtRate<'a>> {
    let audio = &p.chains[chain].1;
    let want = rate.unwrap_or(p.rate);
    if let Some((_, _, k)) = p.kept.iter().find(|(c, r, _)| *c == chain && *r == want) {
        // kept on the GPU at this rate: every closing pass loads it there
        return Ok(AtRate {
            audio: Cow::Borrowed(audio),
            rate: want,
            chain: Some(k.chain()),
            measured: None,
        });
    }
    if p.kept.iter().any(|(c, _, _)| *c == chain) {
        return Err(Error::Render {
            song: p.path.display().to_string(),
            reason: format!("the chain output was kept on the GPU but not at {want} Hz"),
        });
    }
    if let Some((_, plan)) = p.plans.get(chain) {
        // not rendered ahead: the closing runs the chain (only at the song's own rate)
        return Ok(AtRate {
            audio: Cow::Borrowed(audio),
            rate: p.rate,
            chain: Some(crate::engine::ChainSource {
                plan,
                sources: crate::engine::closing::ChainFeed::Audio(&p.sources),
            }),
            measured: None,
        });
    }
    match rate {
        Some(r) if r != p.rate => Ok(AtRate {
            audio: Cow::Owned(crate::audio::resample::resample_delivery(
                &p.path, audio, p.rate, r,
            )?),
            rate: r,
            chain: None,
            measured: None,
        }),
        _ => Ok(AtRate {
            audio: Cow::Borrowed(audio),
            rate: p.rate,
            chain: None,
            measured: p.chain_loudness.get(chain).and_then(Option::as_ref),
        }),
    }
}

/// The songs of `need` (an album's `prepared` songs still to write in delivery `d`) at the
/// delivery's rate, in order: the audio, or `None` for a song that failed before or whose
/// conversion failed; the second list holds those conversion errors at the same places.
#[allow(clippy::type_complexity)]
pub(super) fn songs_at_rate<'a>(
    album: &Album,
    job: &Job,
    d: &Delivery,
    prepared: &[(usize, Result<Prepared>)],
    need: &[&'a (usize, Result<Prepared>)],
) -> (Vec<(usize, Option<AtRate<'a>>)>, Vec<Option<Error>>) {
    let rate = album_rate(
        d,
        job,
        prepared
            .iter()
            .filter_map(|(_, p)| p.as_ref().ok().map(|p| p.rate)),
    );
    let rated: Vec<Option<Result<AtRate<'a>>>> = need
        .par_iter()
        .map(|(k, p)| {
            let p = p.as_ref().ok()?;
            let c = &job.chain_for(d, &album.tracks[*k]).chain;
            let chain = p.chains.iter().position(|(cc, _)| cc == c).unwrap_or(0);
            Some(at_rate(p, chain, rate))
        })
        .collect();
    let mut errors = Vec::with_capacity(rated.len());
    let mut songs = Vec::with_capacity(rated.len());
    for ((k, _), r) in need.iter().zip(rated) {
        let (a, e) = match r {
            Some(Ok(a)) => (Some(a), None),
            Some(Err(e)) => (None, Some(e)),
            None => (None, None),
        };
        songs.push((*k, a));
        errors.push(e);
    }
    (songs, errors)
}
