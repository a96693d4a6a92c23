//! One pass of the closing as Plans on the run's [`Executor`]: every song of a batch of
//! groups loaded from its master, gained, through its limiter (reporting its gain
//! reduction), faded and metered ([`crate::ops::meter`]): the closing runs on the backend
//! the run chose, batched across songs, and a pass brings back the meters' block energies
//! and the limiters' reductions, plus the audio only when asked.

use std::sync::Mutex;

use super::{Fades, Member};
use crate::core::Planar;
use crate::engine::{Executor, Sources};
use crate::error::{Error, Result};
use crate::loudness::Blocks;
use crate::ops::envelope::Envelope;
use crate::ops::meter::Meter;
use crate::ops::{limiter, Processor};
use crate::plan::{Plan, Source, Stage};

/// What one song goes through in a pass.
#[derive(Debug, Clone, Copy)]
pub(super) struct Take<'a> {
    /// the song
    pub member: &'a Member<'a>,
    /// its gain, dB (the group's plus its offset)
    pub gain_db: f64,
    /// through its limiter, when it has one
    pub limit: bool,
    /// with its fades
    pub fade: bool,
}

/// One song after a pass.
#[derive(Debug, Clone)]
pub(super) struct Taken {
    /// its audio (when the pass kept it)
    pub audio: Option<Planar>,
    /// its meter's sub-block energies
    pub blocks: Blocks,
    /// its limiter's largest gain reduction and the largest per hop of the reports'
    /// curves, dB (no limiter: `None`)
    pub reduction: Option<(f64, Vec<f32>)>,
    /// the pass's stages and where each ran
    pub stages: Vec<crate::engine::StageRun>,
}

/// Sub-sampling of a long fade: at most this many linear segments (the gain is exact at
/// their ends; between them a segment of a quarter sine of 4096 segments is within 2e-8 of
/// the curve).
const FADE_SEGMENTS: usize = 4096;

impl Fades {
    /// The fades of a song of `frames` frames as a gain curve (`None` without fades): the
    /// exact gain of [`Fades::apply`] at every frame of a fade up to [`FADE_SEGMENTS`]
    /// frames long, else at [`FADE_SEGMENTS`] + 1 frames spread over it, linear between.
    pub fn envelope(&self, frames: usize) -> Option<Envelope> {
        if self.is_none() || frames == 0 {
            return None;
        }
        let (n_in, n_out) = (self.in_frames.min(frames), self.out_frames.min(frames));
        let sine = |i: usize, n: usize| (std::f64::consts::FRAC_PI_2 * i as f64 / n as f64).sin();
        let gain = |f: usize| {
            let a = if f < n_in { sine(f, n_in) } else { 1.0 };
            let k = frames - 1 - f;
            let b = if k < n_out { sine(k, n_out) } else { 1.0 };
            a * b
        };
        let mut at: Vec<usize> = Vec::new();
        let mut spread = |from: usize, n: usize| {
            let steps = n.min(FADE_SEGMENTS).max(1);
            at.extend((0..=steps).map(|j| from + (j * n).div_ceil(steps).min(n)));
        };
        if n_in > 0 {
            spread(0, n_in);
        }
        if n_out > 0 {
            spread(frames - n_out, n_out);
            at.push(frames - 1);
        }
        at.retain(|&f| f < frames);
        Some(Envelope::new(
            at.into_iter().map(|f| (f as u64, gain(f))).collect(),
        ))
    }
}

/// The Plan of one song's pass.
fn plan(t: &Take<'_>, frames: usize) -> Plan {
    let m = t.member;
    let buf = 0;
    let mut stages = vec![Stage::Load {
        dst: buf,
        source: 0,
    }];
    if t.gain_db != 0.0 {
        let g = crate::ops::gain::db_to_linear(t.gain_db) as f32;
        stages.push(Stage::Gain {
            buf,
            gain: [g; crate::plan::PLAN_CHANNELS],
        });
    }
    let process = |p: Processor| Stage::Process {
        buf,
        sidechain: None,
        processor: Box::new(p),
    };
    if let (true, Some(l)) = (t.limit, m.limiter) {
        let hop = crate::loudness::curves::hop_frames(frames, m.rate);
        stages.push(process(Processor::Limiter(l.reporting(hop, frames))));
    }
    if let Some(e) = t.fade.then(|| m.fades.envelope(frames)).flatten() {
        stages.push(Stage::Envelope {
            buf,
            curves: Box::new([e.clone(), e]),
        });
    }
    stages.push(process(Processor::Meter(Meter::new(m.rate, frames))));
    Plan {
        name: "closing".into(),
        sample_rate: m.rate,
        frames,
        n_buffers: 1,
        sources: vec![Source {
            path: "the song's master".into(),
        }],
        stages,
        master: buf,
    }
}

/// Runs one pass of every take as one batch on `ex`; keeps the audio with `keep`.
pub(super) fn run(ex: &Mutex<Executor>, takes: &[Take<'_>], keep: bool) -> Vec<Result<Taken>> {
    let frames: Vec<usize> = takes
        .iter()
        .map(|t| t.member.audio.first().map_or(0, Vec::len))
        .collect();
    let plans: Vec<Plan> = takes
        .iter()
        .zip(&frames)
        .map(|(t, &f)| plan(t, f))
        .collect();
    let sources: Vec<Sources<'_>> = takes
        .iter()
        .map(|t| Sources::borrowed(std::slice::from_ref(t.member.audio)))
        .collect();
    let jobs: Vec<crate::engine::Job<'_>> = plans.iter().zip(&sources).collect();
    let (out, runs) = {
        let mut ex = ex.lock().unwrap_or_else(|e| e.into_inner());
        let out = ex.run_read(&jobs, keep);
        let runs: Vec<_> = plans.iter().map(|p| ex.stage_runs(p)).collect();
        (out, runs)
    };
    out.into_iter()
        .zip(plans.iter().zip(&frames).zip(runs))
        .map(|(r, ((p, &f), stages))| {
            let r = r?;
            let missing = || Error::Render {
                song: String::new(),
                reason: "the closing's meter read nothing".into(),
            };
            let meter_at = p.stages.len() - 1;
            let energies = r
                .readings
                .iter()
                .find(|(i, _)| *i == meter_at)
                .ok_or_else(missing)?;
            let lanes: Vec<&[f32]> = energies.1.iter().map(Vec::as_slice).collect();
            let blocks = Blocks::from_lanes(&lanes, &[1.0, 1.0], p.sample_rate, f);
            let reduction = r
                .readings
                .iter()
                .find(|(i, _)| *i != meter_at)
                .map(|(_, l)| {
                    let low = l.first().and_then(|v| v.first()).copied().unwrap_or(0.0);
                    let per_hop = l.get(1).map_or_else(Vec::new, |v| {
                        v.iter().map(|&g| limiter::reduction_db(g) as f32).collect()
                    });
                    (limiter::reduction_db(low), per_hop)
                });
            Ok(Taken {
                audio: keep.then_some(r.master),
                blocks,
                reduction,
                stages,
            })
        })
        .collect()
}
