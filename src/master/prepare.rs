//! The first half of mastering a song: decode, check, the reference match EQ, and each
//! distinct chain once (before any delivery gain). CPU only; no shader mirrored.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::manifest::Track;
use super::Job;
use crate::error::{Error, Result};
use crate::loudness::{self, Loudness};
use crate::ops::{InsertSpec, PrepareCtx};
use crate::plan::Planar;

/// A song after decoding and its chains, before the delivery gain.
pub(super) struct Prepared {
    pub(super) rate: u32,
    pub(super) input: Loudness,
    pub(super) match_eq: Option<String>,
    /// one output per distinct chain, in the order of `chains`
    pub(super) chains: Vec<(Vec<InsertSpec>, Planar)>,
    pub(super) seconds: f64,
}

/// Decodes track `t` (mono becomes centred stereo), measures it, applies the reference
/// match EQ and runs each of `chains` once; stops early with [`Error::Interrupted`].
pub(super) fn prepare_song(
    t: &Track,
    chains: &[&[InsertSpec]],
    job: &Job,
    stop: &AtomicBool,
) -> Result<Prepared> {
    if stop.load(Ordering::SeqCst) {
        return Err(Error::Interrupted);
    }
    let t0 = Instant::now();
    let path = &t.file;
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
    let match_eq = match &job.reference {
        Some(r) => Some(r.apply(&mut x, d.sample_rate)),
        None => None,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let load = |p: &Path, r: u32| crate::audio::load_for_render(p, r);
    let ctx = PrepareCtx {
        sample_rate: d.sample_rate,
        scene_dir: dir,
        tempo_bpm: None,
        load_audio: &load,
    };
    let mut out = Vec::with_capacity(chains.len());
    for chain in chains {
        if stop.load(Ordering::SeqCst) {
            return Err(Error::Interrupted);
        }
        let mut y = x.clone();
        for spec in chain.iter() {
            let p = spec.prepare(&ctx)?;
            p.process_cpu(&mut y, d.sample_rate, None);
        }
        out.push((chain.to_vec(), y));
    }
    Ok(Prepared {
        rate: d.sample_rate,
        input,
        match_eq,
        chains: out,
        seconds: t0.elapsed().as_secs_f64(),
    })
}
