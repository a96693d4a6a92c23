//! The closing of every song, for both commands, after its Plan has run: the loudness policy
//! (a song alone, or a group such as an album under one gain plus each song's offset), the
//! gain into the closing true-peak limiter, found by search, and the fades. The fades are part
//! of what is measured, so a faded song still lands on its target.
//!
//! With a limiter on every song and a target, the gain is searched ([`GainSearch`]): gain,
//! limit, fade, measure the group's integrated loudness, correct — until within
//! [`LIMITER_SEARCH_TOLERANCE_LU`] or [`LIMITER_SEARCH_PASSES`] passes; the closest pass is
//! kept. Otherwise loudness is linear in the gain: one gain `target − measured` (after the
//! offsets and fades), clamped so no song without a limiter passes the ceiling.
//! When a member asks ([`Member::curves`]: `master` does, for its reports), the limiter's
//! gain reduction per hop and the finished song's meters over time
//! ([`crate::loudness::Curves`]) come out with it.
//!
//! Every pass is a batch of Plans on the run's executor ([`pass`]: load the master, gain,
//! limiter, fades, loudness meter; the kept pass on the GPU also the true-peak meter), so
//! the closing runs on the backend the run chose, batched across the songs of every group
//! closed together ([`close_all`]: `master` closes all of a delivery's groups at once, each
//! searching its own gain; on the CPU a few songs at a time). A pass brings back the meters'
//! block energies and the limiters' reductions; the audio comes back from the pass that is
//! kept (on the GPU the kept pass runs once more with its audio and its true peak). What
//! stays on the host: the gating ([`crate::loudness::gating`]), the true peak of songs
//! without a limiter (their headroom) and, on the CPU, of the finished songs, the sample
//! peak and the long-term spectrum. A group the closing leaves as it is takes no pass.

mod pass;

use rayon::prelude::*;

use crate::core::Planar;
use crate::engine::{Backend, Executor};
use crate::error::{Error, Result};
use crate::loudness::{self, Gating, Loudness};
use crate::ops::limiter::Limiter;
use pass::{Take, Taken};

/// True-peak ceiling when a song, preset or delivery names none, dBTP.
pub const DEFAULT_CEILING_DBTP: f64 = -1.0;
/// Loudness error, LU, at which the gain-into-limiter search stops.
pub const LIMITER_SEARCH_TOLERANCE_LU: f64 = 0.01;
/// Most passes of the gain-into-limiter search (it converges in 2–4 on music).
pub const LIMITER_SEARCH_PASSES: usize = 8;

/// Next gain to try when searching the gain into a limiter that hits a loudness target.
/// The first step assumes 1 LU per dB; later steps use the secant through the last two
/// tries, because the limiter flattens the response (each extra dB in adds less than 1 LU
/// out once it works hard). The slope is kept within 0.05…1.5 LU/dB so a flat spot cannot
/// throw the gain far away.
#[derive(Debug, Clone, Copy, Default)]
pub struct GainSearch {
    prev: Option<(f64, f64)>,
}

impl GainSearch {
    /// Given the gain just tried and the loudness it gave, the gain to try next.
    pub fn next(&mut self, gain_db: f64, lufs: f64, target_lufs: f64) -> f64 {
        let slope = match self.prev {
            Some((g0, l0)) if (gain_db - g0).abs() > 1e-9 => {
                ((lufs - l0) / (gain_db - g0)).clamp(0.05, 1.5)
            }
            _ => 1.0,
        };
        self.prev = Some((gain_db, lufs));
        gain_db + (target_lufs - lufs) / slope
    }
}

/// Fade-in and fade-out of one song, frames: equal-power (quarter-sine) curves applied after
/// the limiter. Over a fade of n frames, frame i of the fade-in is scaled by sin(π/2 · i/n)
/// (the first frame is silent) and the fade-out mirrors it (the last frame is silent); each
/// fade is cut to the song's length. They run as an envelope stage ([`Fades::envelope`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fades {
    /// fade-in length, frames
    pub in_frames: usize,
    /// fade-out length, frames
    pub out_frames: usize,
}

impl Fades {
    /// Fades given in seconds at `sample_rate` (rounded to frames).
    pub fn from_seconds(fade_in_s: f64, fade_out_s: f64, sample_rate: u32) -> Fades {
        let frames = |s: f64| (s.max(0.0) * f64::from(sample_rate)).round() as usize;
        Fades {
            in_frames: frames(fade_in_s),
            out_frames: frames(fade_out_s),
        }
    }

    /// True when there is neither fade.
    pub fn is_none(&self) -> bool {
        self.in_frames == 0 && self.out_frames == 0
    }
}

/// A song whose master is not rendered ahead of the closing: every closing pass runs its
/// chain's Plan (single-buffer, its master on buffer `plan.master`) over its sources,
/// then the closing's stages, so nothing comes back between the chain and the closing.
#[derive(Clone, Copy)]
pub struct ChainSource<'a> {
    /// the song's chain Plan
    pub plan: &'a crate::plan::Plan,
    /// its sources
    pub sources: ChainFeed<'a>,
}

/// A master kept on the GPU ([`crate::gpu::Resident`]) as the closing's passes load it: a
/// Plan that only loads it, at its rate, with the kept master as its one source.
pub struct KeptMaster {
    plan: crate::plan::Plan,
    sources: crate::engine::Sources<'static>,
}

impl KeptMaster {
    /// The song `name`'s kept master `kept`, at `rate`.
    pub fn new(name: &str, rate: u32, kept: crate::gpu::Resident) -> KeptMaster {
        KeptMaster {
            plan: crate::plan::Plan {
                name: name.to_string(),
                sample_rate: rate,
                frames: kept.frames(),
                n_buffers: 1,
                sources: vec![crate::plan::Source {
                    path: "the master, kept on the GPU".into(),
                }],
                stages: vec![crate::plan::Stage::Load { dst: 0, source: 0 }],
                master: 0,
            },
            sources: crate::engine::Sources::resident(kept),
        }
    }

    /// Its rate, Hz.
    pub fn rate(&self) -> u32 {
        self.plan.sample_rate
    }

    /// The closing's source: every pass loads the kept master.
    pub fn chain(&self) -> ChainSource<'_> {
        ChainSource {
            plan: &self.plan,
            sources: ChainFeed::Streams(&self.sources),
        }
    }
}

/// Where a [`ChainSource`]'s sources come from: audio in memory (`master`'s decoded
/// sources), or sources read again from the start in every pass (`render`'s stems,
/// streamed from disk, or its mix kept on the GPU: [`crate::gpu::Resident`]).
#[derive(Clone, Copy)]
pub enum ChainFeed<'a> {
    /// decoded audio
    Audio(&'a [Planar]),
    /// sources read chunk by chunk (streamed stems, a mix kept on the GPU)
    Streams(&'a crate::engine::Sources<'a>),
}

impl std::fmt::Debug for ChainSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainSource")
            .field("plan", &self.plan.name)
            .finish_non_exhaustive()
    }
}

/// One song going into the closing.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    /// the song's rendered master (before any loudness gain); empty with [`Member::chain`]
    pub audio: &'a Planar,
    /// the chain that renders the master inside every pass, instead of `audio`
    pub chain: Option<ChainSource<'a>>,
    /// its sample rate
    pub rate: u32,
    /// its closing limiter (ceiling already set), if it has one
    pub limiter: Option<&'a Limiter>,
    /// its level against the group gain, dB (album mode's per-song offset; 0 alone)
    pub offset_db: f64,
    /// its fades
    pub fades: Fades,
    /// the full loudness of `audio`, when the caller measured it already (its integrated
    /// loudness and true peak are then not measured again; a true peak left NaN is taken
    /// where the closing needs it)
    pub measured: Option<&'a Loudness>,
    /// keep the finished song's meters over time and the limiter's gain reduction per hop
    /// ([`Closed::curves`], for the reports; the spectrum costs one more FFT pass)
    pub curves: bool,
}

impl Member<'_> {
    /// Frames of the song's master.
    pub fn frames(&self) -> usize {
        self.chain
            .map_or_else(|| self.audio.first().map_or(0, Vec::len), |c| c.plan.frames)
    }
}

/// One song out of the closing.
#[derive(Debug, Clone)]
pub struct Closed {
    /// the finished audio
    pub audio: Planar,
    /// the stages of the pass that made it (gain, limiter, fades, meter) and where each ran
    pub stages: Vec<crate::engine::StageRun>,
    /// gain applied (group gain + offset), dB
    pub gain_db: f64,
    /// largest gain reduction of its limiter, dB (`None`: no limiter)
    pub limiter_reduction_db: Option<f64>,
    /// loudness of the finished audio
    pub output: Loudness,
    /// loudness of the song's master before the closing, when the closing measured it
    /// (a master rendered by its chain inside the passes)
    pub input: Option<Loudness>,
    /// the meters of the finished audio over time, and its spectrum (`None` unless the
    /// member asked for them)
    pub curves: Option<loudness::Curves>,
    /// largest gain reduction of its limiter per hop of `curves.hop_s`, dB (empty: no
    /// limiter, or no curves asked for)
    pub limiter_reduction_per_hop_db: Vec<f32>,
    /// the loudness its group (the song alone, or its album) reached, LUFS (`None`: no
    /// target, or unmeasurable)
    pub group_lufs: Option<f64>,
}

/// What the closing did to a group.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// the songs, in the order given
    pub songs: Vec<Closed>,
    /// integrated loudness of the group before the gain, LUFS (`None`: unmeasurable)
    pub input_lufs: Option<f64>,
    /// the group gain (each song adds its offset), dB
    pub gain_db: f64,
    /// true when the ceiling, not the target, set the gain (songs without a limiter)
    pub limited_by_ceiling: bool,
    /// target − the group's loudness after the closing, LU (`None` without a target or when
    /// unmeasurable)
    pub miss_lu: Option<f64>,
}

/// A group closed together: one song alone, or an album under one gain (each song adds its
/// offset).
#[derive(Debug, Clone)]
pub struct Group<'a> {
    /// its songs
    pub members: Vec<Member<'a>>,
    /// the loudness it is brought to, LUFS (`None`: only the ceiling is enforced)
    pub target_lufs: Option<f64>,
    /// the true-peak ceiling of its songs without a limiter, dBTP
    pub ceiling_dbtp: f64,
}

/// Closes one group on the CPU executor ([`close_all`]).
pub fn close_group(group: Group<'_>) -> Result<Outcome> {
    let mut ex = Executor::open(Backend::Cpu).map_err(|reason| Error::Render {
        song: String::new(),
        reason,
    })?;
    close_all(&[group], &mut ex)
        .pop()
        .unwrap_or_else(|| Err(render_err("nothing closed")))
}

fn render_err(reason: &str) -> Error {
    Error::Render {
        song: String::new(),
        reason: reason.into(),
    }
}

/// The integrated loudness of the songs of `taken` together.
fn integrated(taken: &[Taken]) -> Option<f64> {
    let g: Vec<Gating> = taken.iter().map(|t| t.blocks.gating()).collect();
    Gating::integrated_multiple(&g)
}

/// How a group is being closed.
enum Way {
    /// the gain into the limiters, searched
    Search {
        target: f64,
        gain_db: f64,
        search: GainSearch,
        /// the closest pass so far: gain, error (LU), its songs, the loudness reached
        best: Option<(f64, f64, Vec<Taken>, Option<f64>)>,
        done: bool,
    },
    /// one gain: loudness is linear in it
    Linear {
        gain_db: f64,
        limited_by_ceiling: bool,
        /// per song, its input measurement where the closing leaves it as it is
        unchanged: Vec<Option<Loudness>>,
    },
}

/// Where a group stands.
struct Closing<'a> {
    group: &'a Group<'a>,
    input_lufs: Option<f64>,
    /// per song rendered by its chain in the passes: its master's loudness, from the input
    /// pass (a song without a limiter: its true peak is its headroom)
    inputs: Vec<Option<Loudness>>,
    way: Way,
    /// the kept pass: its gain and songs (with their audio), and the loudness reached
    kept: Option<(f64, Vec<Taken>, Option<f64>)>,
    failed: Option<Error>,
}

/// Runs the takes of the groups `who` (`takes(group)` gives each group's) as one batch;
/// hands each group its songs, or marks it failed.
fn batch<'a>(
    ex: &mut Executor,
    closings: &mut [Closing<'a>],
    who: &[usize],
    keep: bool,
    takes: impl Fn(&Closing<'a>) -> Vec<Take<'a>>,
) -> Vec<(usize, Vec<Taken>)> {
    let per: Vec<Vec<Take<'a>>> = who.iter().map(|&g| takes(&closings[g])).collect();
    let flat: Vec<Take<'a>> = per.iter().flatten().copied().collect();
    let mut out = pass::run(ex, &flat, keep).into_iter();
    let mut done = Vec::new();
    for (&g, t) in who.iter().zip(&per) {
        let songs: Result<Vec<Taken>> = out.by_ref().take(t.len()).collect();
        match songs {
            Ok(s) => done.push((g, s)),
            Err(e) => closings[g].failed = Some(e),
        }
    }
    done
}

/// Closes groups of songs (a song alone, or an album) toward their targets under their
/// ceilings, every pass of every group as one batch on `ex`; see the module docs. Without
/// a target the gain only enforces the ceiling on songs without a limiter (a limiter guards
/// its own song).
///
/// On the CPU, where a pass keeps every song's audio (the closest pass so far and the
/// current one), groups are closed a few songs at a time (about two per thread), so the
/// host holds what it held when songs closed one by one; on the GPU a pass brings back no
/// audio and every group runs in one batch.
pub fn close_all(groups: &[Group<'_>], ex: &mut Executor) -> Vec<Result<Outcome>> {
    if ex.backend() != Backend::Cpu {
        return close_batch(groups, ex);
    }
    let most = (2 * rayon::current_num_threads()).max(2);
    let mut out = Vec::with_capacity(groups.len());
    let mut from = 0;
    while from < groups.len() {
        let (mut to, mut songs) = (from, 0);
        while to < groups.len() && (to == from || songs + groups[to].members.len() <= most) {
            songs += groups[to].members.len();
            to += 1;
        }
        out.extend(close_batch(&groups[from..to], ex));
        from = to;
    }
    out
}

/// [`close_all`] for one batch of groups.
fn close_batch(groups: &[Group<'_>], ex: &mut Executor) -> Vec<Result<Outcome>> {
    let keep_searching = ex.backend() == Backend::Cpu;
    let mut closings: Vec<Closing<'_>> = groups
        .iter()
        .map(|g| Closing {
            group: g,
            input_lufs: None,
            inputs: Vec::new(),
            way: Way::Linear {
                gain_db: 0.0,
                limited_by_ceiling: false,
                unchanged: Vec::new(),
            },
            kept: None,
            failed: None,
        })
        .collect();
    // 1. the input loudness: a song's own measurement, else one pass at 0 dB as it is
    let need: Vec<usize> = (0..closings.len())
        .filter(|&g| match groups[g].members.as_slice() {
            [Member {
                measured: Some(l), ..
            }] => {
                closings[g].input_lufs = l.integrated_lufs;
                false
            }
            _ => true,
        })
        .collect();
    for (g, songs) in batch(ex, &mut closings, &need, false, |c| {
        let mut t = takes(c.group, |_| 0.0, false, false);
        // a master rendered in the pass is not on the host: it is measured in the pass
        for t in &mut t {
            t.peaks = t.member.chain.is_some();
        }
        t
    }) {
        if songs
            .iter()
            .any(|t| t.blocks.energy().iter().any(|e| !e.is_finite()))
        {
            closings[g].failed = Some(render_err(
                "the master to close holds a non-finite sample (the mix or the chain made it)",
            ));
            continue;
        }
        closings[g].inputs = songs
            .iter()
            .zip(&groups[g].members)
            .map(|(t, m)| {
                let peak = t.peaks.as_ref()?.iter().fold(0.0f32, |a, &v| a.max(v));
                m.chain
                    .map(|_| loudness::measure_read(&t.blocks, peak, t.sample_peak))
            })
            .collect();
        closings[g].input_lufs = integrated(&songs);
    }
    // 2. how each group closes
    let linear_pass: Vec<usize> = (0..closings.len())
        .filter(|&g| {
            let c = &closings[g];
            let m = &c.group.members;
            c.failed.is_none()
                && c.group.target_lufs.is_some()
                && c.input_lufs.is_some()
                && !m.iter().all(|m| m.limiter.is_some())
                && !m.iter().all(|m| m.offset_db == 0.0 && m.fades.is_none())
        })
        .collect();
    // loudness is linear in the gain here: measured once at 0 dB, offsets and fades on
    let mut linear_l: Vec<Option<Option<f64>>> = vec![None; closings.len()];
    for (g, songs) in batch(ex, &mut closings, &linear_pass, false, |c| {
        takes(c.group, |m| m.offset_db, false, true)
    }) {
        linear_l[g] = Some(integrated(&songs));
    }
    for (g, c) in closings.iter_mut().enumerate() {
        if c.failed.is_some() {
            continue;
        }
        let members = &c.group.members;
        match (c.group.target_lufs, c.input_lufs) {
            (Some(target), Some(l0)) if members.iter().all(|m| m.limiter.is_some()) => {
                c.way = Way::Search {
                    target,
                    gain_db: target - l0,
                    search: GainSearch::default(),
                    best: None,
                    done: false,
                };
            }
            (target, l0) => match linear(c.group, target, l0, linear_l[g], &c.inputs) {
                Ok(way) => c.way = way,
                Err(e) => c.failed = Some(e),
            },
        }
    }
    // 3. the searches, all groups' passes in one batch each
    for _ in 0..LIMITER_SEARCH_PASSES {
        let active: Vec<usize> = (0..closings.len())
            .filter(|&g| {
                closings[g].failed.is_none()
                    && matches!(closings[g].way, Way::Search { done: false, .. })
            })
            .collect();
        if active.is_empty() {
            break;
        }
        let results = batch(ex, &mut closings, &active, keep_searching, |c| {
            match c.way {
                Way::Search { gain_db, .. } => {
                    takes(c.group, |m| gain_db + m.offset_db, true, true)
                }
                Way::Linear { .. } => Vec::new(),
            }
        });
        for (g, songs) in results {
            if let Way::Search {
                target,
                gain_db,
                search,
                best,
                done,
            } = &mut closings[g].way
            {
                let l = integrated(&songs);
                let err = *target - l.unwrap_or(*target);
                if best.as_ref().is_none_or(|b| err.abs() < b.1.abs()) {
                    *best = Some((*gain_db, err, songs, l));
                }
                if err.abs() <= LIMITER_SEARCH_TOLERANCE_LU {
                    *done = true;
                } else {
                    *gain_db = search.next(*gain_db, *target - err, *target);
                }
            }
        }
    }
    // 4. the kept passes: a search's closest pass (run again with its audio when the
    // search did not keep it), a linear group's one pass
    for c in closings.iter_mut() {
        if let Way::Search {
            best: Some((g, _, songs, l)),
            ..
        } = &mut c.way
        {
            if songs.iter().all(|t| t.audio.is_some()) {
                c.kept = Some((*g, std::mem::take(songs), *l));
            }
        }
    }
    // a group the closing leaves as it is (no limiter, no fades, 0 dB on every song) keeps
    // its input: its songs read as their input measurements said
    for c in closings.iter_mut().filter(|c| c.failed.is_none()) {
        if let Way::Linear { unchanged, .. } = &c.way {
            if unchanged.len() == c.group.members.len() && unchanged.iter().all(Option::is_some) {
                let songs = c
                    .group
                    .members
                    .iter()
                    .map(|m| Taken {
                        audio: Some(m.audio.clone()),
                        blocks: loudness::Blocks::from_lanes(&[], &[], m.rate, 0),
                        sample_peak: 0.0,
                        reduction: None,
                        peaks: None,
                        stages: Vec::new(),
                    })
                    .collect();
                let Way::Linear { gain_db, .. } = c.way else {
                    continue;
                };
                c.kept = Some((gain_db, songs, c.input_lufs));
            }
        }
    }
    let finals: Vec<usize> = (0..closings.len())
        .filter(|&g| closings[g].failed.is_none() && closings[g].kept.is_none())
        .collect();
    let results = batch(ex, &mut closings, &finals, true, |c| match &c.way {
        Way::Search {
            best: Some((g, ..)),
            ..
        } => kept_takes(c.group, |m| g + m.offset_db),
        Way::Search { best: None, .. } => Vec::new(),
        Way::Linear { gain_db, .. } => kept_takes(c.group, |m| gain_db + m.offset_db),
    });
    for (g, songs) in results {
        let c = &mut closings[g];
        let gain = match &c.way {
            Way::Search {
                best: Some((g, ..)),
                ..
            } => *g,
            Way::Search { .. } => 0.0,
            Way::Linear { gain_db, .. } => *gain_db,
        };
        let l = integrated(&songs);
        c.kept = Some((gain, songs, l));
    }
    // 5. the outcomes
    closings.into_iter().map(finish).collect()
}

/// The takes of a group's songs at `gain(member)` dB, through their limiters with `limit`,
/// faded with `fade`.
fn takes<'a>(
    group: &'a Group<'a>,
    gain: impl Fn(&Member<'_>) -> f64,
    limit: bool,
    fade: bool,
) -> Vec<Take<'a>> {
    group
        .members
        .iter()
        .map(|m| Take {
            member: m,
            gain_db: gain(m),
            limit,
            fade,
            peaks: false,
        })
        .collect()
}

/// The takes of a group's kept pass: at `gain(member)`, limited, faded, and its output's
/// true peak metered in the pass.
fn kept_takes<'a>(group: &'a Group<'a>, gain: impl Fn(&Member<'_>) -> f64) -> Vec<Take<'a>> {
    let mut t = takes(group, gain, true, true);
    for t in &mut t {
        t.peaks = true;
    }
    t
}

/// A group without a search: the one gain (`target − measured`, the linear pass's loudness
/// `at_0db` when offsets or fades change it), clamped so no song without a limiter passes
/// the ceiling.
fn linear(
    group: &Group<'_>,
    target: Option<f64>,
    l0: Option<f64>,
    at_0db: Option<Option<f64>>,
    measured_in_pass: &[Option<Loudness>],
) -> Result<Way> {
    let members = &group.members;
    let want = match (target, l0, at_0db) {
        (Some(t), Some(_), Some(l)) => l.map_or(0.0, |l| t - l),
        (Some(t), Some(l0), None) => t - l0,
        _ => 0.0,
    };
    // the full measurement of each song without a limiter: its true peak sets the
    // headroom, and a song the closing leaves as it is reads the same afterwards (a song
    // rendered in the passes: its true peak from the input pass)
    let inputs: Vec<Option<Loudness>> = members
        .par_iter()
        .map(|m| match (m.limiter, m.measured, m.chain) {
            (Some(_), _, _) | (None, None, Some(_)) => Ok(None),
            // a measurement that left the true peak out (NaN) takes it now
            (None, Some(l), _) if l.true_peak_dbtp.is_nan() => Ok(Some(Loudness {
                true_peak_dbtp: loudness::true_peak_dbtp(m.audio),
                ..*l
            })),
            (None, Some(l), _) => Ok(Some(*l)),
            (None, None, None) => loudness::measure(m.audio, m.rate).map(Some),
        })
        .collect::<Result<_>>()?;
    let tp = |i: usize| {
        inputs[i]
            .or_else(|| measured_in_pass.get(i).copied().flatten())
            .map(|l| l.true_peak_dbtp)
    };
    let headroom = (0..members.len())
        .filter(|&i| members[i].limiter.is_none())
        .map(|i| group.ceiling_dbtp - (tp(i).unwrap_or(f64::NEG_INFINITY) + members[i].offset_db))
        .fold(f64::INFINITY, f64::min);
    let gain_db = want.min(headroom);
    let unchanged = inputs
        .into_iter()
        .zip(members)
        .map(|(l, m)| l.filter(|_| gain_db + m.offset_db == 0.0 && m.fades.is_none()))
        .collect();
    Ok(Way::Linear {
        gain_db,
        limited_by_ceiling: gain_db < want,
        unchanged,
    })
}

/// A group's outcome from its kept pass: each song's output measured from its pass's
/// block energies and, on the host, its peaks (and its curves when asked).
fn finish(c: Closing<'_>) -> Result<Outcome> {
    if let Some(e) = c.failed {
        return Err(e);
    }
    let (gain_db, songs, reached) = c.kept.ok_or_else(|| render_err("no pass was kept"))?;
    let (limited_by_ceiling, unchanged) = match c.way {
        Way::Linear {
            limited_by_ceiling,
            unchanged,
            ..
        } => (limited_by_ceiling, unchanged),
        Way::Search { .. } => (false, vec![None; songs.len()]),
    };
    let target = c.group.target_lufs;
    let group = target.and(reached);
    let mut inputs = c.inputs;
    inputs.resize(songs.len(), None);
    let songs = songs
        .into_par_iter()
        .zip(c.group.members.par_iter().zip(unchanged))
        .zip(inputs)
        .map(|((t, (m, same)), input)| {
            let audio = t
                .audio
                .ok_or_else(|| render_err("the kept pass brought no audio back"))?;
            let peaks = t.peaks.as_deref();
            let (output, curves) = if m.curves {
                let measured =
                    loudness::measure_blocks_with_curves(&audio, m.rate, &t.blocks, peaks);
                (measured.loudness, Some(measured.curves))
            } else if let Some(l) = same {
                (l, None)
            } else {
                (loudness::measure_blocks(&audio, &t.blocks, peaks), None)
            };
            let (gr, gr_per_hop) = match t.reduction {
                Some((g, v)) => (Some(g), if m.curves { v } else { Vec::new() }),
                None => (None, Vec::new()),
            };
            Ok(Closed {
                audio,
                stages: t.stages,
                gain_db: gain_db + m.offset_db,
                limiter_reduction_db: gr,
                output,
                input,
                curves,
                limiter_reduction_per_hop_db: gr_per_hop,
                group_lufs: group,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Outcome {
        songs,
        input_lufs: c.input_lufs,
        gain_db,
        limited_by_ceiling,
        miss_lu: target.zip(reached).map(|(t, l)| t - l),
    })
}
