//! The GPU executor's host steps: a stage without a kernel (or one the per-stage switch
//! sends to the CPU) runs its CPU twin on the chunk after a read-back, its state carried on
//! the host, and the result is written back; a linear-phase multiband's bands, split on the
//! GPU, are read back and finished by its band compressors. Matched on stage kinds
//! ([`crate::ops::kind`]); the CPU twins are the CPU executor's.

use crate::engine::cpu::{song_end, State, CHUNK_FRAMES};
use crate::engine::schedule::Step;
use crate::error::Error;
use crate::gpu::chunked::{Exec, Song};
use crate::gpu::pools::Pools;
use crate::gpu::readback::read_stereo;
use crate::gpu::Gpu;
use crate::ops::kind::{kind_of, Kind};
use crate::ops::{envelope, gain, mix};
use crate::plan::{Planar, Stage, PLAN_CHANNELS};

const C: usize = CHUNK_FRAMES;

/// Runs step `i` of song `s` on the host for chunk `t` (stream frames `start ..`); `flat`
/// holds the batch's source chunks.
#[allow(clippy::too_many_arguments)]
pub(super) fn run_step(
    gpu: &Gpu,
    audio: &wgpu::Buffer,
    pools: &Pools,
    s: &mut Song<'_>,
    flat: &[f32],
    i: usize,
    start: usize,
    t: usize,
) -> Result<(), Error> {
    let Step::Stage { stage, lag, .. } = s.sched.steps[i] else {
        return Ok(());
    };
    let read = |b: usize| read_stereo(gpu, audio, s.chan(b, 0) as u32, C);
    let (target, x) = match (&s.execs[i], kind_of(stage)) {
        (Exec::Conv(lanes, _), Kind::Convolve { buf, .. }) => {
            // bands split on the GPU, finished here
            let Stage::Process { processor, .. } = stage else {
                return Ok(());
            };
            let mut bands: Vec<Planar> = Vec::with_capacity(lanes.len() / PLAN_CHANNELS);
            for pair in lanes.chunks(PLAN_CHANNELS) {
                bands.push(
                    pair.iter()
                        .map(|l| pools.read_tail(gpu, l, t))
                        .collect::<Result<_, Error>>()?,
                );
            }
            let mut x = vec![vec![0.0f32; C]; PLAN_CHANNELS];
            if let State::Process(ps) = &mut s.states[i] {
                processor.finish_bands(ps, &mut bands, &mut x);
            }
            (buf, x)
        }
        (_, Kind::Load { dst, source }) => {
            let x = (0..PLAN_CHANNELS)
                .map(|c| {
                    let o = s.src_base as usize + (source * PLAN_CHANNELS + c) * C;
                    flat[o..o + C].to_vec()
                })
                .collect();
            (dst, x)
        }
        (_, Kind::Gain { buf, gain: g }) => {
            let mut x = read(buf)?;
            for (ch, g) in x.iter_mut().zip(g) {
                gain::cpu::apply(ch, g);
            }
            (buf, x)
        }
        (_, Kind::Envelope { buf, .. }) => {
            let mut x = read(buf)?;
            if let State::Envelope(segs) = &s.states[i] {
                let first = start as i64 - lag as i64;
                for (ch, sg) in x.iter_mut().zip(segs) {
                    envelope::cpu::apply_at(ch, sg, first);
                }
            }
            (buf, x)
        }
        (_, Kind::Elementwise { buf, op, params }) => {
            let mut x = read(buf)?;
            for (c, ch) in x.iter_mut().enumerate() {
                (op.cpu)(&params, c, ch);
            }
            (buf, x)
        }
        (_, Kind::Mix { dst, src, gain: g }) => {
            let (mut x, y) = (read(dst)?, read(src)?);
            for ((d, v), g) in x.iter_mut().zip(&y).zip(g) {
                mix::cpu::apply(d, v, g);
            }
            (dst, x)
        }
        (_, Kind::Convolve { buf, .. } | Kind::Recursive { buf, .. } | Kind::Host { buf }) => {
            let Stage::Process {
                sidechain,
                processor,
                ..
            } = stage
            else {
                return Ok(());
            };
            let mut x = read(buf)?;
            let key = sidechain.map(read).transpose()?;
            let end = song_end(s.plan.frames + lag, start);
            if let State::Process(ps) = &mut s.states[i] {
                processor.process_chunk(ps, &mut x, key.as_deref(), end);
            }
            (buf, x)
        }
    };
    for (c, v) in x.iter().enumerate() {
        gpu.write(audio, s.chan(target, c) * 4, &v[..C]);
    }
    Ok(())
}
