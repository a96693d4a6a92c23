//! The CPU reference backend: runs a [`Plan`]'s stages in order, channel-parallel (rayon),
//! with each operator's `cpu.rs`.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::ops::{envelope, gain, mix};
use crate::plan::{Plan, Planar, Stage, PLAN_CHANNELS};

/// Renders one song's Plan; `sources[k]` is the decoded (and resampled) source `k`.
/// Returns the master buffer (stereo, `plan.frames` long).
pub fn run_plan(plan: &Plan, sources: &[Planar]) -> Result<Planar> {
    let mut bufs: Vec<Planar> =
        vec![vec![vec![0.0f32; plan.frames]; PLAN_CHANNELS]; plan.n_buffers];
    for stage in &plan.stages {
        run_stage(plan, stage, &mut bufs, sources)?;
    }
    Ok(std::mem::take(&mut bufs[plan.master]))
}

/// Runs one stage on the song's buffers.
pub fn run_stage(
    plan: &Plan,
    stage: &Stage,
    bufs: &mut [Planar],
    sources: &[Planar],
) -> Result<()> {
    match stage {
        Stage::Load { dst, source } => {
            let src = sources.get(*source).ok_or_else(|| Error::Render {
                song: plan.name.clone(),
                reason: format!("source {source} missing"),
            })?;
            for (c, ch) in bufs[*dst].iter_mut().enumerate() {
                let s = &src[c.min(src.len() - 1)];
                let n = s.len().min(ch.len());
                ch[..n].copy_from_slice(&s[..n]);
                ch[n..].fill(0.0);
            }
        }
        Stage::Gain { buf, gain: g } => {
            bufs[*buf]
                .par_iter_mut()
                .zip(g.par_iter())
                .for_each(|(ch, g)| gain::cpu::apply(ch, *g));
        }
        Stage::Envelope { buf, curves } => {
            let frames = plan.frames;
            bufs[*buf]
                .par_iter_mut()
                .zip(curves.par_iter())
                .for_each(|(ch, env)| envelope::cpu::apply(ch, &env.segments(frames)));
        }
        Stage::Mix { dst, src, gain: g } => {
            if dst == src {
                return Err(Error::Render {
                    song: plan.name.clone(),
                    reason: "a buffer cannot be mixed into itself".into(),
                });
            }
            let (d, s) = two_mut(bufs, *dst, *src);
            d.par_iter_mut()
                .zip(s.par_iter())
                .zip(g.par_iter())
                .for_each(|((d, s), g)| mix::cpu::apply(d, s, *g));
        }
        Stage::Process {
            buf,
            sidechain,
            processor,
        } => {
            let key = sidechain.map(|k| bufs[k].clone());
            processor.process_cpu(&mut bufs[*buf], plan.sample_rate, key.as_deref());
        }
    }
    Ok(())
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
