//! CPU twin of `shaders/limiter.wgsl`: detector pass (block-wise, vectorisable), then one
//! sequential pass for hold / window sum / release / gain, as described in [`super`].

use std::collections::VecDeque;

use super::{Limiter, MAX_REDUCTION_L2, Q_PER_L2, TAPS_PER_PHASE};
use crate::ops::loglin::{exp2_approx, floor_i32, flush_denormal, log2_approx, DB_PER_L2};

/// Frames per detector block (scratch size; does not change the result).
const BLOCK_FRAMES: usize = 1024;

/// What a limiter run did, for reports.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LimiterReport {
    /// largest gain reduction applied, dB (≥ 0)
    pub max_gain_reduction_db: f64,
}

/// Oversampled stereo-linked peak per frame, `e[n]` (see [`super`] step 1), for frames
/// `start..start + out.len()`. Taps are summed in index order; outside the signal reads 0.
fn detect_block(
    taps: &[f32],
    channels: &[Vec<f32>],
    start: usize,
    out: &mut [f32],
    window: &mut Vec<f32>,
) {
    let k = TAPS_PER_PHASE;
    let len = out.len();
    out.fill(0.0);
    for ch in channels {
        // window[i] = x[start + i − K/2 + 1], zero outside the signal
        window.clear();
        let first = start as isize - (k / 2) as isize + 1;
        window.extend((0..len + k - 1).map(|i| {
            let idx = first + i as isize;
            if idx >= 0 && (idx as usize) < ch.len() {
                ch[idx as usize]
            } else {
                0.0
            }
        }));
        for (o, &x) in out.iter_mut().zip(&ch[start..start + len]) {
            *o = o.max(x.abs());
        }
        for phase in taps.chunks_exact(k) {
            let mut acc = [0.0f32; BLOCK_FRAMES];
            let acc = &mut acc[..len];
            for (j, &h) in phase.iter().enumerate() {
                for (a, &x) in acc.iter_mut().zip(&window[j..j + len]) {
                    *a += h * x;
                }
            }
            for (o, &a) in out.iter_mut().zip(acc.iter()) {
                *o = o.max(a.abs());
            }
        }
    }
}

/// Limits `channels` (all the same length) in place.
pub fn process(lim: &Limiter, channels: &mut [Vec<f32>]) -> LimiterReport {
    let p = &lim.params;
    let frames = channels.iter().map(|c| c.len()).min().unwrap_or(0);
    if frames == 0 {
        return LimiterReport::default();
    }
    // steps 1–2: quantised required gain per frame
    let mut q = vec![0i32; frames];
    let mut e = [0.0f32; BLOCK_FRAMES];
    let mut window = Vec::with_capacity(BLOCK_FRAMES + TAPS_PER_PHASE);
    let mut prev_e = 0.0f32;
    let q_scale = Q_PER_L2 as f32;
    let floor_l2 = -(MAX_REDUCTION_L2 as f32);
    let mut start = 0;
    while start < frames {
        let len = BLOCK_FRAMES.min(frames - start);
        detect_block(&lim.taps, channels, start, &mut e[..len], &mut window);
        for (qn, &en) in q[start..start + len].iter_mut().zip(&e[..len]) {
            let peak = prev_e.max(en);
            prev_e = en;
            let r = (p.target_l2 - log2_approx(peak)).min(0.0).max(floor_l2);
            *qn = floor_i32(r * q_scale);
        }
        start += len;
    }
    // steps 3–6, in shifted time t = n + L: the pipeline starts at n = −L (the input before
    // the start is silence, q = 0) so the attack ramp is complete by a peak on frame 0
    let l = p.lookahead_frames as usize;
    let mut pipe = Pipeline {
        hold: VecDeque::with_capacity(l + 2),
        ring: vec![0i32; l + 1],
        sum: 0,
        g: 0.0,
    };
    for t in 0..l {
        pipe.step(p, &q, t);
    }
    let mut min_g = 0.0f32;
    let mut gains = [0.0f32; BLOCK_FRAMES];
    let mut start = 0;
    while start < frames {
        let len = BLOCK_FRAMES.min(frames - start);
        for (i, gain) in gains[..len].iter_mut().enumerate() {
            let g = pipe.step(p, &q, start + i + l);
            min_g = min_g.min(g);
            *gain = exp2_approx(g);
        }
        for ch in channels.iter_mut() {
            for (x, &gn) in ch[start..start + len].iter_mut().zip(&gains[..len]) {
                *x *= gn;
            }
        }
        start += len;
    }
    LimiterReport {
        max_gain_reduction_db: -(min_g as f64) * DB_PER_L2,
    }
}

/// Hold (monotonic deque of `(frame, q)`), window sum (ring of held values, exact i32)
/// and release state.
struct Pipeline {
    hold: VecDeque<(usize, i32)>,
    ring: Vec<i32>,
    sum: i32,
    g: f32,
}

impl Pipeline {
    /// Advances to shifted time `t = n + L` and returns `g[n]` (log2 units).
    fn step(&mut self, p: &super::LimiterParams, q: &[i32], t: usize) -> f32 {
        let l = p.lookahead_frames as usize;
        if let Some(&qt) = q.get(t) {
            while self.hold.back().is_some_and(|&(_, v)| v >= qt) {
                self.hold.pop_back();
            }
            self.hold.push_back((t, qt));
        }
        // window [n, n + L] = [t − L, t]
        while self.hold.front().is_some_and(|&(idx, _)| idx + l < t) {
            self.hold.pop_front();
        }
        let m = self.hold.front().map_or(0, |&(_, v)| v);
        let slot = &mut self.ring[t % (l + 1)];
        self.sum += m - *slot;
        *slot = m;
        let a = self.sum as f32 * p.sum_scale;
        self.g = if a <= self.g {
            a
        } else {
            flush_denormal(a + p.release_coef * (self.g - a))
        };
        self.g
    }
}
