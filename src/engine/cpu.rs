//! The CPU executor: walks a Plan in fixed time chunks of [`CHUNK_FRAMES`] with every stage's
//! state carried from one chunk to the next ([`super::schedule`]: lookahead processors run
//! causally, buffers are lined up before they meet), each operator's `cpu.rs` doing the
//! work. With a second thread in the pool, a song's steps run as a two-part pipeline over
//! consecutive chunks (see [`run`]), so a song alone keeps two cores busy. A song's working
//! memory is its buffers × one chunk (two chunks when pipelined), whatever its length; only
//! the master it returns grows with the song. The output equals the whole-song result bit for
//! bit (every buffer is silent outside the song, as a whole-song buffer holds only the song).

use crate::error::Result;
use crate::ops::envelope::Segment;
use crate::ops::stream::ProcStream;
use crate::ops::{envelope, gain, mix};
use crate::plan::{Plan, Planar, Readings, Rendered, Stage, PLAN_CHANNELS};

use super::schedule::{schedule, Step};
use super::sources::Sources;

/// Frames per chunk: a multiple of the convolution block (2048), about 1.4 s at 48 kHz.
pub const CHUNK_FRAMES: usize = 1 << 16;

/// Renders one song's Plan; `sources[k]` is source `k` at the render rate, in memory.
/// Returns the master buffer (stereo, `plan.frames` long).
pub fn run_plan(plan: &Plan, sources: &[Planar]) -> Result<Planar> {
    run_job(plan, &Sources::borrowed(sources))
}

/// Renders one song's Plan reading its sources chunk by chunk. Returns the master buffer.
pub fn run_job(plan: &Plan, sources: &Sources<'_>) -> Result<Planar> {
    Ok(run(plan, sources, false, true)?.0.master)
}

/// Renders one song's Plan reading its sources chunk by chunk; returns what its metering
/// stages read and, with `master`, the master buffer (else none is kept).
pub fn run_job_read(plan: &Plan, sources: &Sources<'_>, master: bool) -> Result<Rendered> {
    Ok(run(plan, sources, false, master)?.0)
}

/// [`run_job`], also returning the buffer each stage wrote, right after it ran, over the
/// whole song (for `mixfarm verify`'s per-stage comparison).
pub fn run_plan_tapped(plan: &Plan, sources: &Sources<'_>) -> Result<(Planar, Vec<Planar>)> {
    let (r, taps) = run(plan, sources, true, true)?;
    Ok((r.master, taps))
}

/// What one step carries between chunks (both executors keep it on the host).
pub(crate) enum State {
    None,
    Process(ProcStream),
    /// per channel, the last `frames` frames of the buffer (latency compensation)
    Align(Planar),
    /// the curves as kernel segments, per channel
    Envelope(Vec<Vec<Segment>>),
}

impl State {
    /// The state of `step` before the song (a Plan of `frames` frames).
    pub(crate) fn new(step: &Step<'_>, frames: usize) -> State {
        match step {
            Step::Stage {
                stage: Stage::Process { processor, .. },
                lag,
                ..
            } => State::Process(processor.stream(PLAN_CHANNELS, *lag)),
            Step::Stage {
                stage: Stage::Envelope { curves, .. },
                ..
            } => State::Envelope(curves.iter().map(|e| e.segments(frames)).collect()),
            Step::Align { frames: d, .. } => State::Align(vec![vec![0.0; *d]; PLAN_CHANNELS]),
            Step::Stage { .. } => State::None,
        }
    }
}

/// What every chunk of one run reads.
struct Walk<'p, 's> {
    plan: &'p Plan,
    sources: &'p Sources<'s>,
    steps: &'p [Step<'p>],
    frames: usize,
}

impl Walk<'_, '_> {
    /// Runs steps `first..` (`states` theirs) on `bufs`, the chunk at stream frame
    /// `start`; with `taps`, keeps each stage's output; with `cost`, adds each step's time.
    fn steps(
        &self,
        first: usize,
        states: &mut [State],
        bufs: &mut [Planar],
        start: usize,
        mut taps: Option<&mut Vec<Planar>>,
        mut cost: Option<&mut [std::time::Duration]>,
    ) -> Result<()> {
        let steps = &self.steps[first..first + states.len()];
        for (k, (step, st)) in steps.iter().zip(states.iter_mut()).enumerate() {
            let t0 = cost.is_some().then(std::time::Instant::now);
            match *step {
                Step::Align { buf, .. } => {
                    if let State::Align(line) = st {
                        delay_line(&mut bufs[buf], line);
                    }
                }
                Step::Stage {
                    index,
                    stage,
                    lag,
                    lag_after,
                } => {
                    run_stage(self.plan, stage, bufs, self.sources, st, start, lag)?;
                    let t = stage.target();
                    silence_outside_song(&mut bufs[t], start, lag_after, self.frames);
                    if let Some(taps) = taps.as_deref_mut() {
                        keep_song_frames(&mut taps[index], &bufs[t], start, lag_after, self.frames);
                    }
                }
            }
            if let (Some(c), Some(t0)) = (cost.as_deref_mut(), t0) {
                c[k] += t0.elapsed();
            }
        }
        Ok(())
    }
}

/// Zeroes every buffer of a chunk.
fn clear(bufs: &mut [Planar]) {
    for ch in bufs.iter_mut().flatten() {
        ch.fill(0.0);
    }
}

/// Where to cut the steps (costs `cost`) into a first and a second part of about equal
/// cost, the first holding at least `min` steps: the first part runs on chunk `i + 1`
/// while the second runs on chunk `i`.
fn cut(cost: &[std::time::Duration], min: usize) -> usize {
    let total: std::time::Duration = cost.iter().sum();
    let mut before: std::time::Duration = cost[..min].iter().sum();
    let mut best = (before.max(total - before), min);
    for (k, c) in cost.iter().enumerate().skip(min) {
        before += *c;
        let worst = before.max(total - before);
        if worst < best.0 {
            best = (worst, k + 1);
        }
    }
    best.1
}

/// Walks the Plan chunk by chunk. Where the thread pool has a second thread and the song
/// more than two chunks, the steps are cut in two parts of about equal cost (timed on the
/// first chunk; every `Load` in the first part) that run as a two-stage pipeline: the first
/// part on chunk `i + 1` while the second finishes chunk `i`, each on its own copy of the
/// buffers. Every step still sees its chunks in order with its own state, so the output
/// does not depend on the cut: a song alone keeps two cores busy.
fn run(
    plan: &Plan,
    sources: &Sources<'_>,
    tap: bool,
    keep_master: bool,
) -> Result<(Rendered, Vec<Planar>)> {
    plan.check(sources)?;
    let sched = schedule(plan);
    let frames = plan.frames;
    let total = frames + sched.master_delay;
    let c = CHUNK_FRAMES;
    let new_bufs = || -> Vec<Planar> { vec![vec![vec![0.0f32; c]; PLAN_CHANNELS]; plan.n_buffers] };
    let mut bufs = new_bufs();
    let mut states: Vec<State> = sched.steps.iter().map(|s| State::new(s, frames)).collect();
    let mut master: Planar = (0..PLAN_CHANNELS)
        .map(|_| Vec::with_capacity(if keep_master { frames } else { 0 }))
        .collect();
    let mut taps: Vec<Planar> = if tap {
        vec![vec![Vec::new(); PLAN_CHANNELS]; plan.stages.len()]
    } else {
        Vec::new()
    };
    let walk = Walk {
        plan,
        sources,
        steps: &sched.steps,
        frames,
    };
    let keep = |master: &mut Planar, bufs: &[Planar], start: usize| {
        if keep_master {
            keep_song_frames(
                master,
                &bufs[plan.master],
                start,
                sched.master_delay,
                frames,
            );
        }
    };
    let pipelined = !tap && rayon::current_num_threads() > 1 && total > 2 * c;
    let mut cost = vec![std::time::Duration::ZERO; sched.steps.len()];
    let mut start = 0;
    while start < total && !(pipelined && start > 0) {
        clear(&mut bufs);
        if start < frames {
            sources.prefetch(start, c);
        }
        let taps = tap.then_some(&mut taps);
        walk.steps(
            0,
            &mut states,
            &mut bufs,
            start,
            taps,
            pipelined.then_some(&mut cost[..]),
        )?;
        keep(&mut master, &bufs, start);
        start += c;
    }
    if start < total {
        // every source is read (and read ahead) by the first part, so each stream is
        // read in order
        let loads = sched
            .steps
            .iter()
            .rposition(|s| {
                matches!(
                    s,
                    Step::Stage {
                        stage: Stage::Load { .. },
                        ..
                    }
                )
            })
            .map_or(0, |k| k + 1);
        let at = cut(&cost, loads);
        let (first, second) = states.split_at_mut(at);
        let mut other = new_bufs();
        // `bufs` takes the next chunk's first part; `other` holds the chunk whose second
        // part is due (none before the loop: the first chunk ran whole)
        let mut due: Option<usize> = None;
        loop {
            let next = (start < total).then_some(start);
            if next.is_none() && due.is_none() {
                break;
            }
            std::mem::swap(&mut bufs, &mut other);
            let (ra, rb) = rayon::join(
                || -> Result<()> {
                    let Some(s) = next else { return Ok(()) };
                    clear(&mut other);
                    if s < frames {
                        sources.prefetch(s, c);
                    }
                    walk.steps(0, first, &mut other, s, None, None)
                },
                || -> Result<()> {
                    let Some(s) = due else { return Ok(()) };
                    walk.steps(at, second, &mut bufs, s, None, None)?;
                    keep(&mut master, &bufs, s);
                    Ok(())
                },
            );
            ra?;
            rb?;
            due = next;
            start += c;
        }
    }
    let readings: Readings = sched
        .steps
        .iter()
        .zip(&states)
        .filter_map(|(step, st)| match (step, st) {
            (Step::Stage { index, .. }, State::Process(ps)) => ps.readings().map(|r| (*index, r)),
            _ => None,
        })
        .collect();
    if !keep_master {
        master.clear();
    }
    Ok((Rendered { master, readings }, taps))
}

/// Runs one stage on the current chunk (stream frames `start..start + CHUNK_FRAMES`; the
/// target buffer lags song time by `lag` frames).
fn run_stage(
    plan: &Plan,
    stage: &Stage,
    bufs: &mut [Planar],
    sources: &Sources<'_>,
    st: &mut State,
    start: usize,
    lag: usize,
) -> Result<()> {
    match stage {
        Stage::Load { dst, source } => {
            // read straight into the buffer; a mono source fills both channels
            let n = sources.channels(*source).min(PLAN_CHANNELS);
            let b = &mut bufs[*dst];
            sources.read(*source, start, &mut b[..n])?;
            let (first, rest) = b.split_at_mut(1);
            for ch in &mut rest[n - 1..] {
                ch.copy_from_slice(&first[0]);
            }
        }
        Stage::Gain { buf, gain: g } => {
            for (ch, g) in bufs[*buf].iter_mut().zip(g) {
                gain::cpu::apply(ch, *g);
            }
        }
        Stage::Envelope { buf, .. } => {
            if let State::Envelope(segs) = st {
                let first = start as i64 - lag as i64;
                for (ch, s) in bufs[*buf].iter_mut().zip(segs.iter()) {
                    envelope::cpu::apply_at(ch, s, first);
                }
            }
        }
        Stage::Mix { dst, src, gain: g } => {
            // `Plan::check` refused a buffer mixed into itself
            let (d, s) = two_mut(bufs, *dst, *src);
            for ((d, s), g) in d.iter_mut().zip(s.iter()).zip(g) {
                mix::cpu::apply(d, s, *g);
            }
        }
        Stage::Process {
            buf,
            sidechain,
            processor,
        } => {
            if let State::Process(ps) = st {
                let key = sidechain.map(|k| bufs[k].clone());
                let end = song_end(plan.frames + lag, start);
                processor.process_chunk(ps, &mut bufs[*buf], key.as_deref(), end);
            }
        }
    }
    Ok(())
}

/// The frame of the chunk starting at stream frame `start` at which a stream whose song
/// ends at stream frame `end` passes that end, when it lies in this chunk.
pub(crate) fn song_end(end: usize, start: usize) -> Option<usize> {
    (start..start + CHUNK_FRAMES)
        .contains(&end)
        .then(|| end - start)
}

/// Delays `x` by the length of `line` (which holds the previous chunk's last frames).
pub(crate) fn delay_line(x: &mut Planar, line: &mut Planar) {
    for (ch, held) in x.iter_mut().zip(line.iter_mut()) {
        let d = held.len();
        if d == 0 {
            continue;
        }
        let n = ch.len();
        let mut joined = Vec::with_capacity(d + n);
        joined.extend_from_slice(held);
        joined.extend_from_slice(ch);
        ch.copy_from_slice(&joined[..n]);
        held.copy_from_slice(&joined[n..]);
    }
}

/// Zeroes the chunk's frames that lie outside the song (song frame = stream frame − lag):
/// before its start (a linear-phase filter's pre-ringing) and past its end (tails), as a
/// whole-song buffer holds neither.
fn silence_outside_song(buf: &mut Planar, start: usize, lag: usize, frames: usize) {
    let (head, tail) = outside_song(start, lag, frames);
    for ch in buf.iter_mut() {
        let n = ch.len();
        ch[..head.min(n)].fill(0.0);
        if tail < n {
            ch[tail..].fill(0.0);
        }
    }
}

/// For the chunk starting at stream frame `start` of a buffer lagging the song by `lag`:
/// the chunk frames before the song start (`..head`) and the first frame past its end
/// (`tail..`).
pub(crate) fn outside_song(start: usize, lag: usize, frames: usize) -> (usize, usize) {
    (
        lag.saturating_sub(start),
        (frames + lag).saturating_sub(start),
    )
}

/// Appends the chunk's frames that are song frames `0..frames` to `out`.
pub(crate) fn keep_song_frames(
    out: &mut Planar,
    buf: &Planar,
    start: usize,
    lag: usize,
    frames: usize,
) {
    for (o, ch) in out.iter_mut().zip(buf) {
        let from = lag.saturating_sub(start).min(ch.len());
        let to = (frames + lag).saturating_sub(start).min(ch.len());
        if from < to {
            o.extend_from_slice(&ch[from..to]);
        }
    }
}

/// Mutable `a`, shared `b` from one slice (`a != b`).
fn two_mut(bufs: &mut [Planar], a: usize, b: usize) -> (&mut Planar, &Planar) {
    if a < b {
        let (lo, hi) = bufs.split_at_mut(b);
        (&mut lo[a], &hi[0])
    } else {
        let (lo, hi) = bufs.split_at_mut(a);
        (&mut hi[0], &lo[b])
    }
}
