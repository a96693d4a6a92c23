//! The GPU executor's chunk loop: the CPU executor's chunk schedule
//! ([`crate::engine::schedule`], [`crate::engine::cpu::CHUNK_FRAMES`]) for a batch of songs,
//! many songs × one chunk per step. The batch's buffers are `[song][buffer][channel][chunk]`
//! in one binding; each chunk of the sources is uploaded as it is needed; convolution lanes
//! and latency-compensation delay lines ([`super::conv_stream`]) and the recursive
//! processors' state ([`super::recursive`]) stay on the GPU between chunks; envelope curves
//! (uploaded per chunk) and the streams of stages the per-stage switch sends to the CPU stay
//! on the host. Each step is matched on its stage kind ([`crate::ops::kind`]). Only the
//! masters' chunks come back at the end of each chunk, or, for a master kept on the GPU
//! ([`super::resident`]), are copied on the device into its whole-song buffer; a source
//! kept on the GPU by an earlier run is copied on the device into the source chunks.

use crate::engine::cpu::{keep_song_frames, outside_song, State, CHUNK_FRAMES};
use crate::engine::schedule::{schedule, Schedule, Step};
use crate::engine::sources::Sources;
use crate::engine::Job;
use crate::error::Error;
use crate::gpu::conv_stream::{Lane, Out, RunKernels, NB};
use crate::gpu::elementwise_ops::{index_of, ElementwiseJob};
use crate::gpu::kernels::ELEMENTWISE;
use crate::gpu::load::LoadJob;
use crate::gpu::pools::{PoolPlan, Slot};
use crate::gpu::readback::{read_stereo, submit};
use crate::gpu::recursive::{self, RecJob, RECURSIVE};
use crate::gpu::render::Renderer;
use crate::gpu::resident::{Keep, Resident};
use crate::gpu::{Gpu, Profiler};
use crate::ops::convolve::BINS;
use crate::ops::envelope::gpu::push_job;
use crate::ops::envelope::Envelope;
use crate::ops::gain::gpu::GainJob;
use crate::ops::kind::{kind_of, Count, Init, Kind, Recursive, Then};
use crate::ops::mix::gpu::MixJob;
use crate::ops::multiband::gpu::BAND_AREA;
use crate::plan::{Plan, Planar, Readings, PLAN_CHANNELS};

const C: usize = CHUNK_FRAMES;

/// How one step of a song runs.
pub(super) enum Exec {
    /// its kind's kernel (load, gain, envelope, mix, an elementwise operator's)
    Kernel,
    /// streaming convolution lanes on the GPU, then for bands the finishing kernel (its
    /// parameter words and state)
    Conv(Vec<Lane>, Option<(u32, u32)>),
    /// latency compensation: a delay line per channel on the GPU
    Delay([Slot; PLAN_CHANNELS], u64),
    /// its recursive kernel, with the stage's parameter words and state at these offsets
    Recursive {
        /// first parameter word
        words: u32,
        /// first state word
        state: u32,
    },
    /// its CPU twin on the host, after a read-back
    Host,
}

/// The recursive stages' parameter words and state of a batch, placed song by song.
#[derive(Debug, Default)]
pub(super) struct RecAlloc {
    words: Vec<u32>,
    state_words: u64,
    /// state words that start other than zero: (word, value)
    init: Vec<(u64, u32)>,
}

impl RecAlloc {
    /// Places `r`'s parameter words and state (its start values for a stage whose input
    /// lags the song by `lag` frames, the song `frames` long); returns their offsets.
    fn place(&mut self, r: &Recursive, lag: usize, frames: usize) -> (u32, u32) {
        let at = (self.words.len() as u32, self.state_words as u32);
        self.words.extend_from_slice(&r.words);
        for &(w, init) in &r.init {
            let v = match init {
                Init::Lag { value, step } => value.wrapping_add((step as i64 * lag as i64) as u32),
                Init::SongEnd => (frames + lag) as u32,
            };
            self.init.push((self.state_words + w as u64, v));
        }
        self.state_words += r.state_words as u64;
        at
    }

    /// The parameter words (one word when there are none: a binding is never empty).
    fn words_or_one(&self) -> Vec<u32> {
        if self.words.is_empty() {
            vec![0]
        } else {
            self.words.clone()
        }
    }

    /// GPU bytes the batch's parameter words and state take.
    fn bytes(&self) -> (u64, u64) {
        (self.words.len() as u64 * 4, self.state_words * 4)
    }
}

/// A song's master, or why it failed (a source found bad while reading it).
pub(super) type SongResult = Result<Planar, Error>;

/// One song of a batch, done: its job index, its master (or why it failed), the buffers
/// each stage wrote (when tapped), what its metering stages read, and its master when it
/// was kept on the GPU.
pub(super) type Done = (usize, SongResult, Vec<Planar>, Readings, Option<Resident>);

/// One song of a batch.
pub(super) struct Song<'a> {
    pub(super) job: usize,
    pub(super) plan: &'a Plan,
    pub(super) sources: &'a Sources<'a>,
    /// the first source that failed to read (the song fails with it)
    failed: Option<Error>,
    pub(super) sched: Schedule<'a>,
    pub(super) execs: Vec<Exec>,
    pub(super) states: Vec<State>,
    master: Planar,
    /// the whole-song buffer its master is kept in on the GPU, instead of `master`
    resident: Option<wgpu::Buffer>,
    taps: Vec<Planar>,
    /// element offset of its buffer 0 in the audio buffer; of its source 0 in the sources
    pub(super) base: u64,
    pub(super) src_base: u64,
}

impl Song<'_> {
    fn total(&self) -> usize {
        self.plan.frames + self.sched.master_delay
    }

    /// The song's metering stages whose values stay in the recursive state on the GPU:
    /// (stage index, its first state word, its readout, its state words).
    fn readouts(&self) -> Vec<(usize, u32, crate::ops::kind::Readout, usize)> {
        let mut out = Vec::new();
        for (step, exec) in self.sched.steps.iter().zip(&self.execs) {
            let (Step::Stage { index, stage, .. }, Exec::Recursive { state, .. }) = (*step, exec)
            else {
                continue;
            };
            if let Kind::Recursive { rec, .. } = kind_of(stage) {
                if let Some(r) = rec.readout {
                    out.push((index, *state, r, rec.state_words));
                }
            }
        }
        out
    }

    /// What the song's metering stages run on the host read (their streams).
    fn host_readings(&self) -> Readings {
        let mut out = Readings::new();
        for ((step, exec), st) in self.sched.steps.iter().zip(&self.execs).zip(&self.states) {
            if let (Step::Stage { index, .. }, Exec::Host, State::Process(ps)) = (*step, exec, st) {
                if let Some(r) = ps.readings() {
                    out.push((index, r));
                }
            }
        }
        out
    }
    /// Element offset of channel `c` of buffer `b`.
    pub(super) fn chan(&self, b: usize, c: usize) -> u64 {
        self.base + ((b * PLAN_CHANNELS + c) * C) as u64
    }
}

/// Bytes of one song's chunk buffers and source chunks.
fn chunk_bytes(plan: &Plan, sources: &Sources<'_>) -> (u64, u64) {
    let audio = (plan.n_buffers * PLAN_CHANNELS * C * 4) as u64;
    let src = (sources.len() * PLAN_CHANNELS * C * 4) as u64;
    (audio, src)
}

impl Renderer {
    /// How every step of `plan` runs, with its lanes and delay lines placed in `pools`
    /// (`base`: element offset of the song's buffer 0).
    fn execs(
        &self,
        sched: &Schedule<'_>,
        kernels: &RunKernels,
        pools: &mut PoolPlan,
        rec: &mut RecAlloc,
        frames: usize,
        base: u64,
    ) -> Result<Vec<Exec>, Error> {
        let chan = |b: usize, c: usize| base + ((b * PLAN_CHANNELS + c) * C) as u64;
        let mut out = Vec::with_capacity(sched.steps.len());
        for step in &sched.steps {
            out.push(match *step {
                Step::Align { frames, .. } => {
                    let mut place = || pools.place(0, 0, frames as u64 + C as u64);
                    let slots = [place()?, place()?];
                    Exec::Delay(slots, frames as u64)
                }
                Step::Stage { index, .. } if self.cpu_stages.contains(index) => Exec::Host,
                Step::Stage { stage, lag, .. } => match kind_of(stage) {
                    Kind::Load { .. }
                    | Kind::Gain { .. }
                    | Kind::Envelope { .. }
                    | Kind::Mix { .. }
                    | Kind::Elementwise { .. } => Exec::Kernel,
                    Kind::Recursive { rec: r, .. } => {
                        let (words, state) = rec.place(&r, lag, frames);
                        Exec::Recursive { words, state }
                    }
                    Kind::Convolve { buf, conv } => {
                        let ids: Option<Vec<usize>> =
                            conv.kernels.iter().map(|k| kernels.id(k)).collect();
                        match ids {
                            None => Exec::Host,
                            Some(ids) => {
                                let out = match conv.then {
                                    Then::Replace => Out::Replace,
                                    Then::WetDry {
                                        dry,
                                        wet,
                                        pre_delay_frames,
                                    } => Out::WetDry {
                                        delay: pre_delay_frames as u64,
                                        dry,
                                        wet,
                                    },
                                    Then::Bands => Out::Tail,
                                };
                                let lanes = ids
                                    .iter()
                                    .enumerate()
                                    .map(|(l, &id)| {
                                        let input = chan(buf, l % PLAN_CHANNELS);
                                        Lane::place(pools, id, kernels.partitions(id), input, out)
                                    })
                                    .collect::<Result<_, Error>>()?;
                                let finish =
                                    conv.finish.as_ref().map(|f| rec.place(f, lag, frames));
                                Exec::Conv(lanes, finish)
                            }
                        }
                    }
                },
            });
        }
        Ok(out)
    }

    /// Packs `jobs` into batches within the binding limits and the memory budget; returns
    /// the batches and the songs refused (bad routing, or more chunk buffers than one
    /// binding holds).
    pub(super) fn batches(
        &self,
        gpu: &Gpu,
        jobs: &[Job<'_>],
        kernels: &RunKernels,
    ) -> (Vec<Vec<usize>>, Vec<(usize, Error)>) {
        let limit = gpu.max_binding_bytes();
        let budget = self.budget(gpu);
        let (mut batches, mut refused): (Vec<Vec<usize>>, _) = (Vec::new(), Vec::new());
        let mut used = [0u64; 5];
        for (i, (plan, sources)) in jobs.iter().enumerate() {
            if let Err(e) = plan.check(sources) {
                refused.push((i, e));
                continue;
            }
            let (a, s) = chunk_bytes(plan, sources);
            let mut pools = PoolPlan::new(limit);
            let mut rec = RecAlloc::default();
            let conv = match self.execs(
                &schedule(plan),
                kernels,
                &mut pools,
                &mut rec,
                plan.frames,
                0,
            ) {
                Ok(_) => pools.bytes(),
                Err(e) => {
                    refused.push((i, e));
                    continue;
                }
            };
            let (w, st) = rec.bytes();
            if a > limit || s > limit || w > limit || st > limit {
                refused.push((
                    i,
                    Error::Gpu {
                        reason: format!(
                            "song '{}' needs {a} + {s} bytes per time chunk, over the GPU binding limit {limit}",
                            plan.name
                        ),
                        retryable: false,
                    },
                ));
                continue;
            }
            let t = a + s + conv + w + st;
            let full = used[0] + a > limit
                || used[1] + s > limit
                || used[2] + t > budget
                || used[3] + w > limit
                || used[4] + st > limit;
            if batches.is_empty() || full {
                batches.push(Vec::new());
                used = [0; 5];
            }
            used = [
                used[0] + a,
                used[1] + s,
                used[2] + t,
                used[3] + w,
                used[4] + st,
            ];
            batches.last_mut().expect("a batch").push(i);
        }
        batches.retain(|b| !b.is_empty());
        (batches, refused)
    }

    /// Renders the songs `batch` of `jobs` chunk by chunk; returns each song's master
    /// where `keep[job]` says (back on the host, in a buffer on the GPU, or nowhere: then
    /// no audio comes back), what its metering stages read, and with `tap` the buffer each
    /// stage wrote over the whole song.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn run_chunked(
        &self,
        gpu: &Gpu,
        jobs: &[Job<'_>],
        batch: &[usize],
        kernels: &RunKernels,
        mut prof: Option<&mut Profiler>,
        tap: bool,
        keep: &[Keep],
    ) -> Result<Vec<Done>, Error> {
        let limit = gpu.max_binding_bytes();
        let mut pools = PoolPlan::new(limit);
        let mut rec = RecAlloc::default();
        let (mut audio_len, mut src_len) = (0u64, 0u64);
        let mut songs: Vec<Song<'_>> = Vec::with_capacity(batch.len());
        let mut max_lanes = 0;
        for &j in batch {
            let (plan, sources) = jobs[j];
            let sched = schedule(plan);
            let execs = self.execs(
                &sched,
                kernels,
                &mut pools,
                &mut rec,
                plan.frames,
                audio_len,
            )?;
            for e in &execs {
                if let Exec::Conv(l, _) = e {
                    max_lanes = max_lanes.max(l.len());
                }
            }
            let states = sched
                .steps
                .iter()
                .zip(&execs)
                .map(|(s, e)| match (e, s) {
                    (Exec::Conv(..) | Exec::Recursive { .. }, _) => State::None,
                    _ => State::new(s, plan.frames),
                })
                .collect();
            let stages = if tap { plan.stages.len() } else { 0 };
            let resident = match keep[j] {
                Keep::Gpu => Some(gpu.buffer(
                    "kept master",
                    Resident::bytes_for(plan.frames),
                    wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC,
                )?),
                Keep::Host | Keep::Nothing => None,
            };
            songs.push(Song {
                job: j,
                plan,
                sources,
                failed: None,
                sched,
                execs,
                states,
                master: (0..PLAN_CHANNELS)
                    .map(|_| match keep[j] {
                        Keep::Host => Vec::with_capacity(plan.frames),
                        Keep::Gpu | Keep::Nothing => Vec::new(),
                    })
                    .collect(),
                resident,
                taps: vec![vec![Vec::new(); PLAN_CHANNELS]; stages],
                base: audio_len,
                src_base: src_len,
            });
            let (a, s) = chunk_bytes(plan, sources);
            audio_len += a / 4;
            src_len += s / 4;
        }
        let audio = gpu.storage("chunk buffers", audio_len * 4)?;
        let sources_buf = gpu.storage("chunk sources", src_len.max(1) * 4)?;
        let pools = pools.create(gpu)?;
        // fresh buffers read as zeros: every recursive state starts at rest
        let rec_words = gpu.upload("recursive parameters", &rec.words_or_one())?;
        let rec_state = gpu.storage("recursive state", rec.state_words.max(1) * 4)?;
        for &(w, v) in &rec.init {
            gpu.write(&rec_state, w * 4, &[v]);
        }
        let y_lane = (NB * BINS * 8) as u64;
        let y = gpu.storage(
            "convolution Y",
            (max_lanes as u64 * y_lane).clamp(y_lane, limit),
        )?;
        let total = songs.iter().map(Song::total).max().unwrap_or(0);
        let steps = songs.iter().map(|s| s.sched.steps.len()).max().unwrap_or(0);
        let (mut start, mut t) = (0, 0);
        while start < total {
            let flat = source_chunks(&mut songs, src_len as usize, start);
            gpu.write(&sources_buf, 0, &flat);
            let mut enc = gpu.device.create_command_encoder(&Default::default());
            enc.clear_buffer(&audio, 0, None);
            copy_resident_sources(&mut enc, &songs, &sources_buf, start);
            for i in 0..steps {
                let (mut loads, mut gains, mut envs, mut segs, mut mixes) =
                    (vec![], vec![], vec![], vec![], vec![]);
                let (mut lanes, mut host) = (Vec::new(), Vec::new());
                let mut ops: Vec<Vec<ElementwiseJob>> = vec![Vec::new(); ELEMENTWISE.len()];
                let mut recs: Vec<Vec<RecJob>> = vec![Vec::new(); RECURSIVE.len()];
                let mut bands: Vec<(usize, (u32, u32))> = Vec::new();
                for (si, s) in songs.iter().enumerate() {
                    let Some(step) = s.sched.steps.get(i) else {
                        continue;
                    };
                    match (&s.execs[i], *step) {
                        (Exec::Delay(slots, d), Step::Align { buf, .. }) => {
                            for (c, slot) in slots.iter().enumerate() {
                                pools.encode_delay(&mut enc, slot, *d, s.chan(buf, c), &audio, t);
                            }
                        }
                        (Exec::Conv(l, finish), _) => {
                            lanes.extend_from_slice(l);
                            if let Some(f) = finish {
                                bands.push((si, *f));
                            }
                        }
                        (Exec::Host, _) => host.push(si),
                        (Exec::Recursive { words, state }, Step::Stage { stage, .. }) => {
                            if let Kind::Recursive { buf, key, rec } = kind_of(stage) {
                                let key = key.unwrap_or(buf);
                                for lane in 0..rec.lanes {
                                    recs[recursive::index_of(rec.op)].push(RecJob {
                                        ch0: s.chan(buf, 0) as u32,
                                        ch1: s.chan(buf, 1) as u32,
                                        key0: s.chan(key, 0) as u32,
                                        key1: s.chan(key, 1) as u32,
                                        frames: C as u32,
                                        coef: *words,
                                        state: *state,
                                        lane: lane as u32,
                                    });
                                }
                            }
                        }
                        (Exec::Kernel, Step::Stage { stage, lag, .. }) => match kind_of(stage) {
                            Kind::Load { dst, source } => {
                                for c in 0..PLAN_CHANNELS {
                                    let so = s.src_base + ((source * PLAN_CHANNELS + c) * C) as u64;
                                    loads.push(LoadJob {
                                        dst_offset: s.chan(dst, c) as u32,
                                        src_offset: so as u32,
                                        src_frames: C as u32,
                                        dst_frames: C as u32,
                                    });
                                }
                            }
                            Kind::Gain { buf, gain } => {
                                for (c, g) in gain.iter().enumerate() {
                                    gains.push(GainJob {
                                        offset: s.chan(buf, c) as u32,
                                        frames: C as u32,
                                        gain: *g,
                                        _pad: 0,
                                    });
                                }
                            }
                            Kind::Envelope { buf, .. } => {
                                if let State::Envelope(curves) = &s.states[i] {
                                    let first = start as i64 - lag as i64;
                                    for (c, curve) in curves.iter().enumerate() {
                                        let w = Envelope::window(curve, first, C);
                                        let o = s.chan(buf, c) as u32;
                                        push_job(&mut envs, &mut segs, o, C as u32, w);
                                    }
                                }
                            }
                            Kind::Mix { dst, src, gain } => {
                                for (c, g) in gain.iter().enumerate() {
                                    mixes.push(MixJob {
                                        dst_offset: s.chan(dst, c) as u32,
                                        src_offset: s.chan(src, c) as u32,
                                        frames: C as u32,
                                        gain: *g,
                                    });
                                }
                            }
                            Kind::Elementwise { buf, op, params } => {
                                for c in 0..PLAN_CHANNELS {
                                    ops[index_of(op)].push(ElementwiseJob {
                                        offset: s.chan(buf, c) as u32,
                                        frames: C as u32,
                                        channel: c as u32,
                                        _pad: 0,
                                        params,
                                    });
                                }
                            }
                            Kind::Convolve { .. } | Kind::Recursive { .. } => host.push(si),
                        },
                        _ => {}
                    }
                }
                let p = prof.as_deref_mut();
                self.load
                    .encode(gpu, &mut enc, p, &loads, &sources_buf, &audio)?;
                self.gain
                    .encode(gpu, &mut enc, prof.as_deref_mut(), &gains, &audio)?;
                self.envelope
                    .encode(gpu, &mut enc, prof.as_deref_mut(), &envs, &segs, &audio)?;
                self.mix
                    .encode(gpu, &mut enc, prof.as_deref_mut(), &mixes, &audio)?;
                self.elementwise
                    .encode(gpu, &mut enc, prof.as_deref_mut(), &ops, &audio)?;
                self.recursive.encode(
                    gpu,
                    &mut enc,
                    prof.as_deref_mut(),
                    &recs,
                    &rec_words,
                    &rec_state,
                    &audio,
                )?;
                self.conv.encode_chunk(
                    gpu,
                    &mut enc,
                    prof.as_deref_mut(),
                    kernels,
                    &pools,
                    &lanes,
                    &audio,
                    &y,
                    t,
                )?;
                if !bands.is_empty() {
                    let mut finish: Vec<Vec<RecJob>> = vec![Vec::new(); RECURSIVE.len()];
                    for &(si, (words, state)) in &bands {
                        let s = &songs[si];
                        let (Exec::Conv(l, _), Some(Step::Stage { stage, .. })) =
                            (&s.execs[i], s.sched.steps.get(i))
                        else {
                            continue;
                        };
                        let Kind::Convolve { buf, conv } = kind_of(stage) else {
                            continue;
                        };
                        let Some(f) = conv.finish else { continue };
                        let area = state as u64 + BAND_AREA as u64;
                        for (k, lane) in l.iter().enumerate() {
                            let to = (area + (k * C) as u64) * 4;
                            pools.copy_tail(&mut enc, lane, t, &rec_state, to);
                        }
                        finish[recursive::index_of(f.op)].push(RecJob {
                            ch0: s.chan(buf, 0) as u32,
                            ch1: s.chan(buf, 1) as u32,
                            key0: s.chan(buf, 0) as u32,
                            key1: s.chan(buf, 1) as u32,
                            frames: C as u32,
                            coef: words,
                            state,
                            lane: 0,
                        });
                    }
                    self.recursive.encode(
                        gpu,
                        &mut enc,
                        prof.as_deref_mut(),
                        &finish,
                        &rec_words,
                        &rec_state,
                        &audio,
                    )?;
                }
                if !host.is_empty() || tap {
                    let full = std::mem::replace(
                        &mut enc,
                        gpu.device.create_command_encoder(&Default::default()),
                    );
                    submit(gpu, full, prof.as_deref_mut())?;
                }
                for &si in &host {
                    super::host::run_step(gpu, &audio, &mut songs[si], &flat, i, start)?;
                }
                // outside the song every buffer is silent, as a whole-song buffer
                for s in &songs {
                    if let Some(Step::Stage {
                        stage, lag_after, ..
                    }) = s.sched.steps.get(i)
                    {
                        let (head, tail) = outside_song(start, *lag_after, s.plan.frames);
                        for c in 0..PLAN_CHANNELS {
                            let o = s.chan(stage.target(), c) * 4;
                            if head > 0 {
                                enc.clear_buffer(&audio, o, Some((head.min(C) * 4) as u64));
                            }
                            if tail < C {
                                let n = ((C - tail) * 4) as u64;
                                enc.clear_buffer(&audio, o + tail as u64 * 4, Some(n));
                            }
                        }
                    }
                }
                if tap {
                    tap_step(gpu, &audio, &mut songs, &mut enc, i, start)?;
                }
            }
            keep_resident_masters(&mut enc, &audio, &songs, start);
            submit(gpu, enc, prof.as_deref_mut())?;
            // every song's master chunk in one read-back
            let due: Vec<usize> = (0..songs.len())
                .filter(|&k| keep[songs[k].job] == Keep::Host && start < songs[k].total())
                .collect();
            let spans: Vec<(u64, usize)> = due
                .iter()
                .map(|&k| {
                    (
                        songs[k].chan(songs[k].plan.master, 0) * 4,
                        PLAN_CHANNELS * C,
                    )
                })
                .collect();
            for (&k, v) in due.iter().zip(gpu.read_many::<f32>(&audio, &spans)?) {
                let s = &mut songs[k];
                let m: Planar = v.chunks(C).map(<[f32]>::to_vec).collect();
                keep_song_frames(
                    &mut s.master,
                    &m,
                    start,
                    s.sched.master_delay,
                    s.plan.frames,
                );
            }
            start += C;
            t += 1;
        }
        let readings = read_readouts(gpu, &rec_state, &songs)?;
        Ok(songs
            .into_iter()
            .zip(readings)
            .map(|(s, r)| {
                let kept = s.resident.map(|b| Resident::new(b, s.plan.frames));
                (s.job, s.failed.map_or(Ok(s.master), Err), s.taps, r, kept)
            })
            .collect())
    }
}

/// What every song's metering stages read: the readouts kept in the recursive state on
/// the GPU in two read-backs for the whole batch (the counts, then the values), then those
/// of the stages run on the host.
fn read_readouts(
    gpu: &Gpu,
    rec_state: &wgpu::Buffer,
    songs: &[Song<'_>],
) -> Result<Vec<Readings>, Error> {
    let outs: Vec<_> = songs.iter().map(Song::readouts).collect();
    let word = |state: u32, w: usize| (state as u64 + w as u64) * 4;
    // the counts the stages wrote
    let mut count_spans = Vec::new();
    for (_, state, r, _) in outs.iter().flatten() {
        for span in &r.lanes {
            if let Count::Word(w) = span.count {
                count_spans.push((word(*state, w), 1));
            }
        }
    }
    let mut counts = gpu
        .read_many::<u32>(rec_state, &count_spans)?
        .into_iter()
        .map(|v| v.first().copied().unwrap_or(0) as usize);
    let mut value_spans = Vec::new();
    for (_, state, r, words) in outs.iter().flatten() {
        for span in &r.lanes {
            let n = match span.count {
                Count::Fixed(n) => n,
                Count::Word(_) => counts.next().unwrap_or(0),
            };
            let n = n.min(words.saturating_sub(span.first));
            value_spans.push((word(*state, span.first), n));
        }
    }
    let mut values = gpu.read_many::<f32>(rec_state, &value_spans)?.into_iter();
    Ok(outs
        .iter()
        .zip(songs)
        .map(|(o, s)| {
            let mut r: Readings = o
                .iter()
                .map(|(index, _, ro, _)| {
                    let lanes = ro.lanes.iter().map(|_| values.next().unwrap_or_default());
                    (*index, lanes.collect())
                })
                .collect();
            r.extend(s.host_readings());
            r.sort_by_key(|(i, _)| *i);
            r
        })
        .collect())
}

/// This chunk of every song's sources, `[song][source][channel][C]` (mono on both
/// channels), zeros past each source's end.
/// A song whose source fails to read keeps rendering silence there and fails at the end.
/// Sources kept on the GPU are left out: [`copy_resident_sources`] copies them on the
/// device.
fn source_chunks(songs: &mut [Song<'_>], len: usize, start: usize) -> Vec<f32> {
    let mut flat = vec![0.0f32; len];
    let mut chunk: Planar = Vec::new();
    for s in songs.iter_mut() {
        for k in 0..s.sources.len() {
            if s.sources.resident_of(k).is_some() {
                continue;
            }
            let n_ch = s.sources.channels(k);
            chunk.resize(n_ch, Vec::new());
            chunk.iter_mut().for_each(|ch| ch.resize(C, 0.0));
            if s.failed.is_none() {
                if let Err(e) = s.sources.read(k, start, &mut chunk) {
                    s.failed = Some(e);
                }
            }
            if s.failed.is_some() {
                continue;
            }
            let n = s.plan.frames.saturating_sub(start).min(C);
            for ch in 0..PLAN_CHANNELS {
                let x = &chunk[ch.min(n_ch - 1)];
                let o = (s.src_base as usize) + (k * PLAN_CHANNELS + ch) * C;
                flat[o..o + n].copy_from_slice(&x[..n]);
            }
        }
    }
    flat
}

/// Copies this chunk of every source kept on the GPU into the source chunks, on the
/// device, where [`source_chunks`] would have written it (zeros past the song: the
/// chunks start cleared).
fn copy_resident_sources(
    enc: &mut wgpu::CommandEncoder,
    songs: &[Song<'_>],
    sources_buf: &wgpu::Buffer,
    start: usize,
) {
    for s in songs.iter().filter(|s| s.failed.is_none()) {
        for k in 0..s.sources.len() {
            let Some(r) = s.sources.resident_of(k) else {
                continue;
            };
            let n = r.frames().min(s.plan.frames).saturating_sub(start).min(C);
            if n == 0 {
                continue;
            }
            for ch in 0..PLAN_CHANNELS {
                let o = (s.src_base as usize + (k * PLAN_CHANNELS + ch) * C) as u64 * 4;
                enc.copy_buffer_to_buffer(
                    &r.buffer,
                    r.offset(ch, start),
                    sources_buf,
                    o,
                    n as u64 * 4,
                );
            }
        }
    }
}

/// Copies the song frames of this chunk of every master kept on the GPU into its
/// whole-song buffer (the frames `keep_song_frames` keeps on the host).
fn keep_resident_masters(
    enc: &mut wgpu::CommandEncoder,
    audio: &wgpu::Buffer,
    songs: &[Song<'_>],
    start: usize,
) {
    for s in songs {
        let Some(buf) = &s.resident else { continue };
        let (lag, frames) = (s.sched.master_delay, s.plan.frames);
        let from = lag.saturating_sub(start).min(C);
        let to = (frames + lag).saturating_sub(start).min(C);
        if from >= to {
            continue;
        }
        let first = start + from - lag;
        for c in 0..PLAN_CHANNELS {
            let src = (s.chan(s.plan.master, c) + from as u64) * 4;
            let dst = ((c * frames + first) * 4) as u64;
            enc.copy_buffer_to_buffer(audio, src, buf, dst, ((to - from) * 4) as u64);
        }
    }
}

/// Reads back the buffer step `i` of the (single) song wrote and keeps its song frames.
fn tap_step(
    gpu: &Gpu,
    audio: &wgpu::Buffer,
    songs: &mut [Song<'_>],
    enc: &mut wgpu::CommandEncoder,
    i: usize,
    start: usize,
) -> Result<(), Error> {
    let full = std::mem::replace(enc, gpu.device.create_command_encoder(&Default::default()));
    submit(gpu, full, None)?;
    for s in songs.iter_mut() {
        if let Some(Step::Stage {
            index,
            stage,
            lag_after,
            ..
        }) = s.sched.steps.get(i).copied()
        {
            let x = read_stereo(gpu, audio, s.chan(stage.target(), 0) as u32, C)?;
            keep_song_frames(&mut s.taps[index], &x, start, lag_after, s.plan.frames);
        }
    }
    Ok(())
}
