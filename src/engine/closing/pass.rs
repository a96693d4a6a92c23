//! One pass of the closing as Plans on the run's [`Executor`]: every song of a batch of
//! groups loaded from its master, gained, through its limiter (reporting its gain
//! reduction), faded and metered ([`crate::ops::meter`]), and when asked through the
//! true-peak meter ([`limiter::Limiter::true_peak_meter`]): the closing runs on the backend
//! the run chose, batched across songs, and a pass brings back the meters' block energies,
//! the limiters' reductions and peaks, plus the audio only when asked.

use super::{ChainFeed, Fades, Member};
use crate::core::Planar;
use crate::engine::{Executor, Sources};
use crate::error::{Error, Result};
use crate::loudness::Blocks;
use crate::ops::envelope::Envelope;
use crate::ops::meter::Meter;
use crate::ops::{limiter, Processor};
use crate::plan::{Plan, Source, Stage, PLAN_CHANNELS};

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
    /// and the true-peak meter after everything (its output's true peak per hop)
    pub peaks: bool,
}

/// One song after a pass.
#[derive(Debug, Clone)]
pub(super) struct Taken {
    /// its audio (when the pass kept it)
    pub audio: Option<Planar>,
    /// its meter's sub-block energies
    pub blocks: Blocks,
    /// its largest |sample| (the meter's), linear
    pub sample_peak: f32,
    /// its limiter's largest gain reduction and the largest per hop of the reports'
    /// curves, dB (no limiter: `None`)
    pub reduction: Option<(f64, Vec<f32>)>,
    /// its true peak per hop of the reports' curves, linear (when the pass metered it)
    pub peaks: Option<Vec<f32>>,
    /// the pass's stages and where each ran
    pub stages: Vec<crate::engine::StageRun>,
}

/// Where a pass's reading stages sit in its Plan.
struct At {
    limiter: Option<usize>,
    /// a fade stage follows the limiter
    faded: bool,
    meter: usize,
    peaks: Option<usize>,
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
            let steps = n.clamp(1, FADE_SEGMENTS);
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

/// The Plan of one song's pass, and where its readings come from: the song's master loaded
/// (or rendered by its chain, [`super::ChainSource`]), then the closing's stages.
fn plan(t: &Take<'_>, frames: usize) -> (Plan, At) {
    let m = t.member;
    let (mut stages, n_buffers, sources, buf) = match m.chain {
        Some(c) => (
            c.plan.stages.clone(),
            c.plan.n_buffers,
            c.plan.sources.clone(),
            c.plan.master,
        ),
        None => (
            vec![Stage::Load { dst: 0, source: 0 }],
            1,
            vec![Source {
                path: "the song's master".into(),
            }],
            0,
        ),
    };
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
    let hop = crate::loudness::curves::hop_frames(frames, m.rate);
    let mut limiter = None;
    if let (true, Some(l)) = (t.limit, m.limiter) {
        limiter = Some(stages.len());
        stages.push(process(Processor::Limiter(l.reporting(hop, frames))));
    }
    let fades = t.fade.then(|| m.fades.envelope(frames)).flatten();
    let faded = fades.is_some();
    if let Some(e) = fades {
        stages.push(Stage::Envelope {
            buf,
            curves: Box::new([e.clone(), e]),
        });
    }
    let meter = stages.len();
    stages.push(process(Processor::Meter(Meter::new(m.rate, frames))));
    let mut peaks = None;
    if t.peaks {
        peaks = Some(stages.len());
        let tp = limiter::Limiter::true_peak_meter(m.rate).reporting(hop, frames);
        stages.push(process(Processor::Limiter(tp)));
    }
    let plan = Plan {
        name: "closing".into(),
        sample_rate: m.rate,
        frames,
        n_buffers,
        sources,
        stages,
        master: buf,
    };
    (
        plan,
        At {
            limiter,
            faded,
            meter,
            peaks,
        },
    )
}

/// Runs one pass of every take as one batch on `ex`; keeps the audio with `keep`.
pub(super) fn run(ex: &mut Executor, takes: &[Take<'_>], keep: bool) -> Vec<Result<Taken>> {
    let frames: Vec<usize> = takes.iter().map(|t| t.member.frames()).collect();
    let (plans, ats): (Vec<Plan>, Vec<At>) =
        takes.iter().zip(&frames).map(|(t, &f)| plan(t, f)).unzip();
    // a take lends its audio (the master, or a chain's decoded sources) as sources of the
    // pass, or its chain streams its own
    let lent: Vec<Option<Sources<'_>>> = takes
        .iter()
        .map(|t| match t.member.chain.map(|c| c.sources) {
            Some(ChainFeed::Streams(_)) => None,
            Some(ChainFeed::Audio(a)) => Some(Sources::borrowed(a)),
            None => Some(Sources::borrowed(std::slice::from_ref(t.member.audio))),
        })
        .collect();
    let jobs: Vec<crate::engine::Job<'_>> = plans
        .iter()
        .zip(takes.iter().zip(&lent))
        .map(|(p, (t, l))| match (l, t.member.chain.map(|c| c.sources)) {
            (Some(s), _) => (p, s),
            (None, Some(ChainFeed::Streams(s))) => (p, s),
            (None, _) => unreachable!("only a streaming chain lends no sources"),
        })
        .collect();
    let out = ex.run_read(&jobs, keep);
    let runs: Vec<_> = plans
        .iter()
        .zip(&ats)
        .map(|(p, at)| {
            let mut runs = ex.stage_runs(p);
            // the true-peak meter is the limiter's detector: named for what it does here
            if let Some(r) = at.peaks.and_then(|i| runs.get_mut(i)) {
                r.op = "true_peak".into();
            }
            runs
        })
        .collect();
    out.into_iter()
        .zip(plans.iter().zip(&frames).zip(ats).zip(runs))
        .map(|(r, (((p, &f), at), stages))| {
            let r = r?;
            let reading = |i: usize| r.readings.iter().find(|(k, _)| *k == i).map(|(_, l)| l);
            let energies = reading(at.meter).ok_or_else(|| Error::Render {
                song: String::new(),
                reason: "the closing's meter read nothing".into(),
            })?;
            // the meter's readings: each channel's energies, then each one's sample peak
            let (energies, sample_peaks) = energies.split_at(PLAN_CHANNELS.min(energies.len()));
            let lanes: Vec<&[f32]> = energies.iter().map(Vec::as_slice).collect();
            let sample_peak = sample_peaks.iter().flatten().fold(0.0f32, |m, &v| m.max(v));
            let blocks = Blocks::from_lanes(&lanes, &[1.0, 1.0], p.sample_rate, f);
            let reduction = at.limiter.and_then(reading).map(|l| {
                let low = l.first().and_then(|v| v.first()).copied().unwrap_or(0.0);
                let per_hop = l.get(1).map_or_else(Vec::new, |v| {
                    v.iter().map(|&g| limiter::reduction_db(g) as f32).collect()
                });
                (limiter::reduction_db(low), per_hop)
            });
            // the output's true peak per hop: the true-peak meter's, else the limiter's input
            // peaks when nothing changed its input after them (it reduced nothing, so it
            // multiplied every frame by exactly 1, and no fade followed)
            let untouched = at
                .limiter
                .filter(|_| !at.faded)
                .and_then(reading)
                .filter(|l| l.first().and_then(|v| v.first()).is_some_and(|&g| g == 0.0));
            let peaks = at
                .peaks
                .and_then(reading)
                .or(untouched)
                .map(|l| l.get(2).cloned().unwrap_or_default());
            Ok(Taken {
                audio: keep.then_some(r.master),
                blocks,
                sample_peak,
                reduction,
                peaks,
                stages,
            })
        })
        .collect()
}
