//! The first half of mastering a song: decode, check, measure, and one Plan per distinct
//! chain (the reference match EQ first where asked, then the chain's inserts) for the
//! engine to run before any delivery gain.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::manifest::Track;
use super::report::SongCurves;
use super::Job;
use crate::core::Planar;
use crate::error::{Error, Result};
use crate::loudness::{self, Bands, Loudness};
use crate::ops::{InsertSpec, PrepareCtx, Processor};
use crate::plan::{Plan, Source, Stage};

/// A song decoded and compiled, then (once the engine ran its Plans) through its chains.
pub(super) struct Prepared {
    /// the source file
    pub(super) path: std::path::PathBuf,
    /// the source's sample rate (the chains run at it), Hz
    pub(super) rate: u32,
    pub(super) input: Loudness,
    /// the input's meters over time, the reference's spectrum and the match curve
    pub(super) curves: SongCurves,
    pub(super) match_eq: Option<String>,
    /// the decoded song (stereo; mono centred): the one source of every Plan
    pub(super) sources: Vec<Planar>,
    /// one Plan per distinct chain
    pub(super) plans: Vec<(Vec<InsertSpec>, Plan)>,
    /// one output per distinct chain, in the order of `plans` (filled by the engine)
    pub(super) chains: Vec<(Vec<InsertSpec>, Planar)>,
    /// each chain output's loudness, metered in the chain's own pass (`None`: not metered
    /// there), in `chains`' order
    pub(super) chain_loudness: Vec<Option<Loudness>>,
    /// chain outputs kept on the GPU (the output in `chains` is then empty): (index into
    /// `chains`, the rate, the kept master at that rate), one per rate a delivery writes
    pub(super) kept: Vec<(usize, u32, crate::engine::KeptMaster)>,
    /// where each chain's stages ran, in `chains`' order
    pub(super) stages: Vec<Vec<crate::engine::StageRun>>,
    pub(super) seconds: f64,
    /// the input's long-term spectrum while its loudness is still to be metered on the
    /// run's executor ([`super::input_meter`]); `None` once `input` holds it
    pub(super) input_pending: Option<crate::ops::match_eq::Spectrum>,
}

/// Decodes track `t` (mono becomes centred stereo), measures it and compiles one Plan per
/// chain of `chains` (match EQ, then the chain); stops early with [`Error::Interrupted`].
/// With `meter_on_host` false only its spectrum is taken here: its loudness and true peak
/// are metered on the run's executor afterwards ([`super::input_meter`]).
pub(super) fn prepare_song(
    t: &Track,
    chains: &[&[InsertSpec]],
    job: &Job,
    stop: &AtomicBool,
    meter_on_host: bool,
) -> Result<Prepared> {
    if stop.load(Ordering::SeqCst) {
        return Err(Error::Interrupted);
    }
    let t0 = Instant::now();
    let path = &t.file;
    let d = crate::audio::decode::decode_file(path)?;
    if d.frames() == 0 {
        return Err(Error::input(path, "no audio frames"));
    }
    let mut x = d.channels;
    if x.len() == 1 {
        x.push(x[0].clone()); // centred mono
    }
    let (input, input_curves, spectrum) = if meter_on_host {
        let m = loudness::measure_with_curves(&x, d.sample_rate)
            .map_err(|e| Error::input(path, e.to_string()))?;
        (m.loudness, m.curves, m.spectrum)
    } else {
        loudness::weights(x.len()).map_err(|e| Error::input(path, e.to_string()))?;
        let s = crate::ops::match_eq::long_term_spectrum(&x, d.sample_rate);
        (
            loudness::Loudness::unmeasured(),
            loudness::Curves::default(),
            s,
        )
    };
    let mut curves = SongCurves {
        input: input_curves,
        ..SongCurves::default()
    };
    let (match_eq, match_note) = match &job.reference {
        Some(r) => {
            let (eq, note, curve) = r.match_eq(&spectrum, d.sample_rate);
            curves.reference_spectrum = Some(Bands::new(&r.spectrum.band_hz, &r.spectrum.level_db));
            curves.match_curve = Some(Bands::new(&curve.band_hz, &curve.gain_db));
            (eq, Some(note))
        }
        None => (None, None),
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let load = |p: &Path, r: u32| crate::audio::load_for_render(p, r);
    let ctx = PrepareCtx {
        sample_rate: d.sample_rate,
        scene_dir: dir,
        tempo_bpm: None,
        load_audio: &load,
    };
    let frames = x[0].len();
    let mut plans = Vec::with_capacity(chains.len());
    for chain in chains {
        let mut stages = vec![Stage::Load { dst: 0, source: 0 }];
        let head = match_eq.clone().map(Processor::Eq);
        for processor in head
            .into_iter()
            .map(Ok)
            .chain(chain.iter().map(|s| s.prepare(&ctx)))
        {
            stages.push(Stage::Process {
                buf: 0,
                sidechain: None,
                processor: Box::new(processor?),
            });
        }
        let plan = Plan {
            name: t.title.clone(),
            sample_rate: d.sample_rate,
            frames,
            n_buffers: 1,
            sources: vec![Source { path: path.clone() }],
            stages,
            master: 0,
        };
        plans.push((chain.to_vec(), plan));
    }
    Ok(Prepared {
        path: path.clone(),
        rate: d.sample_rate,
        input,
        curves,
        match_eq: match_note,
        sources: vec![x],
        plans,
        chains: Vec::new(),
        chain_loudness: Vec::new(),
        kept: Vec::new(),
        stages: Vec::new(),
        seconds: t0.elapsed().as_secs_f64(),
        input_pending: (!meter_on_host).then_some(spectrum),
    })
}
