//! The GPU executor's host steps: a stage the per-stage switch sends to the CPU (or one
//! whose convolution kernels could not be uploaded) runs its CPU twin on the chunk after a
//! read-back, its state carried on the host, and the result is written back. Matched on
//! stage kinds ([`crate::ops::kind`]); the CPU twins are the CPU executor's.

use crate::engine::cpu::{song_end, State, CHUNK_FRAMES};
use crate::engine::schedule::Step;
use crate::error::Error;
use crate::gpu::chunked::Song;
use crate::gpu::readback::read_stereo;
use crate::gpu::Gpu;
use crate::ops::kind::{kind_of, Kind};
use crate::ops::{envelope, gain, mix};
use crate::plan::{Stage, PLAN_CHANNELS};

const C: usize = CHUNK_FRAMES;

/// Runs step `i` of song `s` on the host for the chunk of stream frames `start ..`; `flat`
/// holds the batch's source chunks.
pub(super) fn run_step(
    gpu: &Gpu,
    audio: &wgpu::Buffer,
    s: &mut Song<'_>,
    flat: &[f32],
    i: usize,
    start: usize,
) -> Result<(), Error> {
    let Step::Stage { stage, lag, .. } = s.sched.steps[i] else {
        return Ok(());
    };
    let read = |b: usize| read_stereo(gpu, audio, s.chan(b, 0) as u32, C);
    let (target, x) = match kind_of(stage) {
        Kind::Load { dst, source } => {
            let x = (0..PLAN_CHANNELS)
                .map(|c| {
                    let o = s.src_base as usize + (source * PLAN_CHANNELS + c) * C;
                    flat[o..o + C].to_vec()
                })
                .collect();
            (dst, x)
        }
        Kind::Gain { buf, gain: g } => {
            let mut x = read(buf)?;
            for (ch, g) in x.iter_mut().zip(g) {
                gain::cpu::apply(ch, g);
            }
            (buf, x)
        }
        Kind::Envelope { buf, .. } => {
            let mut x = read(buf)?;
            if let State::Envelope(segs) = &s.states[i] {
                let first = start as i64 - lag as i64;
                for (ch, sg) in x.iter_mut().zip(segs) {
                    envelope::cpu::apply_at(ch, sg, first);
                }
            }
            (buf, x)
        }
        Kind::Elementwise { buf, op, params } => {
            let mut x = read(buf)?;
            for (c, ch) in x.iter_mut().enumerate() {
                (op.cpu)(&params, c, ch);
            }
            (buf, x)
        }
        Kind::Mix { dst, src, gain: g } => {
            let (mut x, y) = (read(dst)?, read(src)?);
            for ((d, v), g) in x.iter_mut().zip(&y).zip(g) {
                mix::cpu::apply(d, v, g);
            }
            (dst, x)
        }
        Kind::Convolve { buf, .. } | Kind::Recursive { buf, .. } => {
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
