//! The GPU executor in time chunks, for songs whose whole-length buffers pass one storage
//! binding: the same chunk schedule as the CPU executor ([`crate::engine::schedule`],
//! [`crate::engine::cpu::CHUNK_FRAMES`]), many songs × one chunk per step. The batch's
//! buffers are `[song][buffer][channel][chunk]` in one binding and each chunk of the sources
//! is uploaded as it is needed, so a song's GPU memory is bounded by the chunk, never by its
//! length. Load, gain, envelope and mix run on the GPU kernels; every other processor (and
//! the latency-compensation delay lines) runs its CPU stream on the chunk after one read-back,
//! its state carried on the host (the streaming GPU convolution does not exist yet). Only
//! the masters' chunks come back at the end of each chunk.

use crate::engine::cpu::{State, CHUNK_FRAMES};
use crate::engine::schedule::{schedule, Schedule, Step};
use crate::error::Error;
use crate::gpu::load::LoadJob;
use crate::gpu::readback::{read_stereo, submit};
use crate::gpu::render::Renderer;
use crate::gpu::Gpu;
use crate::ops::envelope::gpu::push_job;
use crate::ops::envelope::Envelope;
use crate::ops::gain::gpu::GainJob;
use crate::ops::mix::gpu::MixJob;
use crate::ops::Processor;
use crate::plan::{Plan, Planar, Stage, PLAN_CHANNELS};

use crate::engine::sources::Sources;
use crate::engine::Job;

/// A song's master, or why it failed (a source found bad while reading it).
type SongResult = Result<Planar, Error>;

/// One song of a chunked batch.
struct Song<'a> {
    job: usize,
    plan: &'a Plan,
    sources: &'a Sources<'a>,
    /// the first source that failed to read (the song fails with it)
    failed: Option<Error>,
    sched: Schedule<'a>,
    states: Vec<State>,
    master: Planar,
    /// element offset of its buffer 0 in the audio buffer; of its source 0 in the sources
    base: u64,
    src_base: u64,
}

impl Song<'_> {
    fn total(&self) -> usize {
        self.plan.frames + self.sched.master_delay
    }
    /// Element offset of channel `c` of buffer `b`.
    fn chan(&self, b: usize, c: usize) -> u32 {
        chan_of(self.base, b, c)
    }
}

/// Element offset of channel `c` of buffer `b` of the song whose buffer 0 is at `base`.
fn chan_of(base: u64, b: usize, c: usize) -> u32 {
    (base + ((b * PLAN_CHANNELS + c) * CHUNK_FRAMES) as u64) as u32
}

/// Bytes one time chunk of a song takes on the GPU: (its buffers, its sources).
pub fn chunk_bytes(plan: &Plan, sources: &Sources<'_>) -> (u64, u64) {
    let audio = (plan.n_buffers * PLAN_CHANNELS * CHUNK_FRAMES * 4) as u64;
    let src = (sources.len() * PLAN_CHANNELS * CHUNK_FRAMES * 4) as u64;
    (audio, src)
}

impl Renderer {
    /// Renders the songs `batch` of `jobs` chunk by chunk; returns each song's master.
    pub(crate) fn run_chunked(
        &self,
        gpu: &Gpu,
        jobs: &[Job<'_>],
        batch: &[usize],
    ) -> Result<Vec<(usize, SongResult)>, Error> {
        let c = CHUNK_FRAMES;
        let (mut audio_len, mut src_len) = (0u64, 0u64);
        let mut songs: Vec<Song<'_>> = Vec::with_capacity(batch.len());
        for &j in batch {
            let (plan, sources) = jobs[j];
            let sched = schedule(plan);
            let states = sched
                .steps
                .iter()
                .map(|s| State::new(s, plan.frames))
                .collect();
            songs.push(Song {
                job: j,
                plan,
                sources,
                failed: None,
                sched,
                states,
                master: (0..PLAN_CHANNELS)
                    .map(|_| Vec::with_capacity(plan.frames))
                    .collect(),
                base: audio_len,
                src_base: src_len,
            });
            audio_len += (plan.n_buffers * PLAN_CHANNELS * c) as u64;
            src_len += (sources.len() * PLAN_CHANNELS * c) as u64;
        }
        let audio = gpu.storage("chunk buffers", audio_len * 4)?;
        let sources_buf = gpu.storage("chunk sources", src_len.max(1) * 4)?;
        let total = songs.iter().map(Song::total).max().unwrap_or(0);
        let mut start = 0;
        while start < total {
            // this chunk of every source, zero-padded
            let mut flat = vec![0.0f32; src_len as usize];
            let mut chunk: Planar = Vec::new();
            for s in songs.iter_mut() {
                for k in 0..s.sources.len() {
                    let n_ch = s.sources.channels(k);
                    chunk.resize(n_ch, Vec::new());
                    chunk.iter_mut().for_each(|ch| ch.resize(c, 0.0));
                    if s.failed.is_none() {
                        if let Err(e) = s.sources.read(k, start, &mut chunk) {
                            s.failed = Some(e);
                        }
                    }
                    let n = s.plan.frames.saturating_sub(start).min(c);
                    for ch in 0..PLAN_CHANNELS {
                        let x = &chunk[ch.min(n_ch - 1)];
                        let o = (s.src_base as usize) + (k * PLAN_CHANNELS + ch) * c;
                        flat[o..o + n].copy_from_slice(&x[..n]);
                    }
                }
            }
            gpu.write(&sources_buf, 0, &flat);
            drop(flat);
            let mut enc = gpu.device.create_command_encoder(&Default::default());
            enc.clear_buffer(&audio, 0, None);
            let steps = songs.iter().map(|s| s.sched.steps.len()).max().unwrap_or(0);
            for i in 0..steps {
                let (mut loads, mut gains, mut envs, mut segs, mut mixes) =
                    (vec![], vec![], vec![], vec![], vec![]);
                let mut host: Vec<usize> = Vec::new();
                for (si, s) in songs.iter().enumerate() {
                    let Some(step) = s.sched.steps.get(i).copied() else {
                        continue;
                    };
                    let Step::Stage { stage, lag, .. } = step else {
                        host.push(si);
                        continue;
                    };
                    match stage {
                        Stage::Load { dst, source } => {
                            for ch in 0..PLAN_CHANNELS {
                                let so = s.src_base + ((*source * PLAN_CHANNELS + ch) * c) as u64;
                                loads.push(LoadJob {
                                    dst_offset: s.chan(*dst, ch),
                                    src_offset: so as u32,
                                    src_frames: c as u32,
                                    dst_frames: c as u32,
                                });
                            }
                        }
                        Stage::Gain { buf, gain } => {
                            for (ch, g) in gain.iter().enumerate() {
                                gains.push(gain_job(s.chan(*buf, ch), *g));
                            }
                        }
                        Stage::Process { buf, processor, .. }
                            if matches!(**processor, Processor::Trim { .. }) =>
                        {
                            let Processor::Trim { gain } = **processor else {
                                unreachable!()
                            };
                            for ch in 0..PLAN_CHANNELS {
                                gains.push(gain_job(s.chan(*buf, ch), gain));
                            }
                        }
                        Stage::Envelope { buf, .. } => {
                            if let State::Envelope(curves) = &s.states[i] {
                                let first = start as i64 - lag as i64;
                                for (ch, curve) in curves.iter().enumerate() {
                                    let w = Envelope::window(curve, first, c);
                                    push_job(&mut envs, &mut segs, s.chan(*buf, ch), c as u32, w);
                                }
                            }
                        }
                        Stage::Mix { dst, src, gain } => {
                            for (ch, g) in gain.iter().enumerate() {
                                mixes.push(MixJob {
                                    dst_offset: s.chan(*dst, ch),
                                    src_offset: s.chan(*src, ch),
                                    frames: c as u32,
                                    gain: *g,
                                });
                            }
                        }
                        Stage::Process { .. } => host.push(si),
                    }
                }
                self.load
                    .encode(gpu, &mut enc, None, &loads, &sources_buf, &audio)?;
                self.gain.encode(gpu, &mut enc, None, &gains, &audio)?;
                self.envelope
                    .encode(gpu, &mut enc, None, &envs, &segs, &audio)?;
                self.mix.encode(gpu, &mut enc, None, &mixes, &audio)?;
                if !host.is_empty() {
                    let full = std::mem::replace(
                        &mut enc,
                        gpu.device.create_command_encoder(&Default::default()),
                    );
                    submit(gpu, full, None)?;
                    for &si in &host {
                        run_on_host(gpu, &audio, &mut songs[si], i, start)?;
                    }
                }
                // outside the song every buffer is silent, as a whole-song buffer
                for s in &songs {
                    if let Some(Step::Stage {
                        stage, lag_after, ..
                    }) = s.sched.steps.get(i)
                    {
                        let (head, tail) =
                            crate::engine::cpu::outside_song(start, *lag_after, s.plan.frames);
                        for ch in 0..PLAN_CHANNELS {
                            let o = s.chan(stage.target(), ch) as u64;
                            if head > 0 {
                                enc.clear_buffer(&audio, o * 4, Some((head.min(c) * 4) as u64));
                            }
                            if tail < c {
                                enc.clear_buffer(
                                    &audio,
                                    (o + tail as u64) * 4,
                                    Some(((c - tail) * 4) as u64),
                                );
                            }
                        }
                    }
                }
            }
            submit(gpu, enc, None)?;
            for s in songs.iter_mut() {
                if start >= s.total() {
                    continue;
                }
                let m = read_stereo(gpu, &audio, s.chan(s.plan.master, 0), c)?;
                crate::engine::cpu::keep_song_frames(
                    &mut s.master,
                    &m,
                    start,
                    s.sched.master_delay,
                    s.plan.frames,
                );
            }
            start += c;
        }
        Ok(songs
            .into_iter()
            .map(|s| (s.job, s.failed.map_or(Ok(s.master), Err)))
            .collect())
    }
}

fn gain_job(offset: u32, gain: f32) -> GainJob {
    GainJob {
        offset,
        frames: CHUNK_FRAMES as u32,
        gain,
        _pad: 0,
    }
}

/// Runs step `i` of song `s` on the host: read back, process the chunk, write back.
fn run_on_host(
    gpu: &Gpu,
    audio: &wgpu::Buffer,
    s: &mut Song<'_>,
    i: usize,
    start: usize,
) -> Result<(), Error> {
    let c = CHUNK_FRAMES;
    let base = s.base;
    let chan = |b: usize, ch: usize| chan_of(base, b, ch);
    let write = |buf: usize, x: &Planar| {
        for (ch, v) in x.iter().enumerate() {
            gpu.write(audio, chan(buf, ch) as u64 * 4, &v[..c]);
        }
    };
    let frames = s.plan.frames;
    match (s.sched.steps[i], &mut s.states[i]) {
        (Step::Align { buf, .. }, State::Align(line)) => {
            let mut x = read_stereo(gpu, audio, chan(buf, 0), c)?;
            crate::engine::cpu::delay_line(&mut x, line);
            write(buf, &x);
        }
        (
            Step::Stage {
                stage:
                    Stage::Process {
                        buf,
                        sidechain,
                        processor,
                    },
                lag,
                ..
            },
            State::Process(ps),
        ) => {
            let mut x = read_stereo(gpu, audio, chan(*buf, 0), c)?;
            let key = match sidechain {
                Some(k) => Some(read_stereo(gpu, audio, chan(*k, 0), c)?),
                None => None,
            };
            let end = crate::engine::cpu::song_end(frames + lag, start);
            processor.process_chunk(ps, &mut x, key.as_deref(), end);
            write(*buf, &x);
        }
        _ => {}
    }
    Ok(())
}
