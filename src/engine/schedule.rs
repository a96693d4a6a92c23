//! The chunk schedule of a Plan: its stages in order, plus the latency compensation that
//! chunked (causal) execution needs. A processor with lookahead (limiter, linear-phase EQ
//! and crossover, match EQ) runs causally and so delays its buffer by its latency; before two
//! buffers meet (a Mix, a sidechain key) the one that lags less is delayed to line up with
//! the other (an [`Step::Align`], a delay line: a DAW's plug-in delay compensation). Every
//! lag is kept a whole number of convolution blocks (2048 frames): a convolution then meets
//! its input on the song's block grid and computes the whole-song blocks exactly. The
//! executors walk `frames + master_delay` frames and drop the master's first `master_delay`
//! frames, so the output is the whole-song result, time-aligned, bit for bit.

use crate::ops::convolve::BLOCK_FRAMES;
use crate::plan::{BufId, Plan, Stage};

/// One step of a chunk.
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    /// a Plan stage; `delay` = frames its target buffer lags song time after the stage ran
    Stage {
        /// index into `plan.stages`
        index: usize,
        /// the stage
        stage: &'a Stage,
        /// frames the target buffer lags song time when the stage runs (before its own
        /// latency): envelopes read their curve that many frames earlier
        lag: usize,
        /// frames the target buffer lags song time after the stage
        lag_after: usize,
    },
    /// delays buffer `buf` by `frames` (latency compensation)
    Align {
        /// the buffer
        buf: BufId,
        /// frames of delay
        frames: usize,
    },
}

/// A Plan's steps and the lag of its master.
#[derive(Debug, Clone)]
pub struct Schedule<'a> {
    /// steps in order
    pub steps: Vec<Step<'a>>,
    /// frames the master lags song time at the end
    pub master_delay: usize,
}

/// Works out the schedule of `plan` (its routing must be valid: see `Plan::check`).
pub fn schedule(plan: &Plan) -> Schedule<'_> {
    let mut lag = vec![0usize; plan.n_buffers];
    let mut written = vec![false; plan.n_buffers];
    let mut steps = Vec::with_capacity(plan.stages.len());
    // lines up buffers `a` and `b`: the one lagging less is delayed
    let align = |a: BufId, b: BufId, lag: &mut [usize], steps: &mut Vec<Step<'_>>| {
        let (la, lb) = (lag[a], lag[b]);
        if la < lb {
            steps.push(Step::Align {
                buf: a,
                frames: lb - la,
            });
            lag[a] = lb;
        } else if lb < la {
            steps.push(Step::Align {
                buf: b,
                frames: la - lb,
            });
            lag[b] = la;
        }
    };
    for (index, stage) in plan.stages.iter().enumerate() {
        match stage {
            Stage::Load { dst, .. } => lag[*dst] = 0,
            Stage::Mix { dst, src, .. } => {
                if written[*dst] {
                    align(*dst, *src, &mut lag, &mut steps);
                } else {
                    // silence delayed is silence: the sum takes the source's lag
                    lag[*dst] = lag[*src];
                }
            }
            Stage::Process {
                buf,
                sidechain: Some(k),
                ..
            } => align(*buf, *k, &mut lag, &mut steps),
            _ => {}
        }
        let t = stage.target();
        let before = lag[t];
        if let Stage::Process { processor, .. } = stage {
            lag[t] += processor.latency_frames();
        }
        written[t] = true;
        steps.push(Step::Stage {
            index,
            stage,
            lag: before,
            lag_after: lag[t],
        });
        // every lag stays a whole number of convolution blocks, so a convolution meets its
        // input on the song's own block grid and computes exactly the whole-song blocks
        let pad = lag[t].next_multiple_of(BLOCK_FRAMES) - lag[t];
        if pad > 0 {
            steps.push(Step::Align {
                buf: t,
                frames: pad,
            });
            lag[t] += pad;
        }
    }
    Schedule {
        steps,
        master_delay: lag[plan.master],
    }
}
