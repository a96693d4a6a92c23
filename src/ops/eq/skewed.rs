//! The section cascade of two channels ([`super::cpu::run_sections_two`] with `S` sections
//! each) as one vector of `L = 2·S` lanes, skewed in time: at step `n`, lane `2s + c` runs
//! section `s` of channel `c` on sample `n − 2s`, its input the output lane `2(s − 1) + c`
//! gave at step `n − 2`. Every section then advances by one vector operation per step
//! instead of one scalar chain per section, and each lane does
//! [`super::cpu::section_tick`]'s arithmetic in its order: the bits of the plain loop,
//! except that the new states' `2·d` is summed from the products with the coefficients
//! doubled (one multiply less on the loop-carried chain): the same value wherever those
//! products are normal numbers or zero, as doubling commutes with rounding there. A product
//! below 2⁻¹²⁶ (an input or state difference near f32's subnormal range, where WGSL also
//! lets a GPU flush values) may round one unit apart; the unit test's quiet channel
//! (1e-29 × noise, decaying to the state flush) gives the plain bits.
//! The first and last `2·(S − 1)` steps (the pipeline filling and draining) leave the lanes
//! that have no sample yet, or no more, as they were.

use super::cpu::FLUSH_BELOW;
use super::Svf;
use crate::core::arith::madd;

/// Per lane: the section coefficients and the states.
struct Lanes<const L: usize> {
    c1: [f32; L],
    a2: [f32; L],
    a3: [f32; L],
    m0: [f32; L],
    m1: [f32; L],
    m2: [f32; L],
    /// `2·c1`, `2·a2`, `2·a3` (exact): the new states' `2·d` from these products
    c1x2: [f32; L],
    a2x2: [f32; L],
    a3x2: [f32; L],
    ic1: [f32; L],
    ic2: [f32; L],
}

impl<const L: usize> Lanes<L> {
    /// One step on every lane: `v0` in, the sections' outputs out. With `active`, a lane
    /// set false keeps its state.
    #[inline(always)]
    fn step(&mut self, v0: &[f32; L], active: Option<&[bool; L]>) -> [f32; L] {
        let mut out = [0.0f32; L];
        for l in 0..L {
            let (ic1, ic2) = (self.ic1[l], self.ic2[l]);
            let v3 = v0[l] - ic2;
            let d1 = madd(self.a2[l], v3, -(self.c1[l] * ic1));
            let d2 = madd(self.a3[l], v3, self.a2[l] * ic1);
            let v1 = ic1 + d1;
            let v2 = ic2 + d2;
            // `2·d` as the products with the coefficients doubled (see the module doc)
            let n1 = ic1 + madd(self.a2x2[l], v3, -(self.c1x2[l] * ic1));
            let n2 = ic2 + madd(self.a3x2[l], v3, self.a2x2[l] * ic1);
            let n1 = if n1.abs() < FLUSH_BELOW { 0.0 } else { n1 };
            let n2 = if n2.abs() < FLUSH_BELOW { 0.0 } else { n2 };
            let keep = active.is_some_and(|a| !a[l]);
            self.ic1[l] = if keep { ic1 } else { n1 };
            self.ic2[l] = if keep { ic2 } else { n2 };
            out[l] = madd(self.m2[l], v2, madd(self.m0[l], v0[l], self.m1[l] * v1));
        }
        out
    }
}

/// Steps between a section and the next in the skewed vector: a section reads the output
/// the one before it made two steps earlier (not one), so that output's own arithmetic is
/// off the vector's loop-carried chain (which is then the sections' state recursion alone).
const D: usize = 2;

/// Runs `S` sections (`ca` on `a`, `cb` on `b`, states `sa`, `sb`; `a` and `b` equally
/// long, at least `2·S` frames) as one skewed vector of `L = 2·S` lanes.
#[inline(always)]
pub(crate) fn run<const S: usize, const L: usize>(
    (a, ca, sa): (&mut [f32], &[Svf], &mut [[f32; 2]]),
    (b, cb, sb): (&mut [f32], &[Svf], &mut [[f32; 2]]),
) {
    debug_assert!(L == 2 * S && ca.len() == S && cb.len() == S && a.len() == b.len());
    let n = a.len();
    let coef = |f: fn(&Svf) -> f32| -> [f32; L] {
        std::array::from_fn(|l| f(if l % 2 == 0 { &ca[l / 2] } else { &cb[l / 2] }))
    };
    let state = |k: usize| -> [f32; L] {
        std::array::from_fn(|l| {
            if l % 2 == 0 {
                sa[l / 2][k]
            } else {
                sb[l / 2][k]
            }
        })
    };
    let mut lanes = Lanes::<L> {
        c1: coef(|c| c.c1),
        a2: coef(|c| c.a2),
        a3: coef(|c| c.a3),
        m0: coef(|c| c.m0),
        m1: coef(|c| c.m1),
        m2: coef(|c| c.m2),
        c1x2: coef(|c| 2.0 * c.c1),
        a2x2: coef(|c| 2.0 * c.a2),
        a3x2: coef(|c| 2.0 * c.a3),
        ic1: state(0),
        ic2: state(1),
    };
    // the last two steps' outputs: lane 2s + c reads lane 2(s − 1) + c's from step t − D
    let (mut prev, mut prev2) = ([0.0f32; L], [0.0f32; L]);
    // step t: lane 2s + c on sample t − D·s; its input the lane below's output D steps ago
    let input = |prev2: &[f32; L], xa: f32, xb: f32| -> [f32; L] {
        std::array::from_fn(|l| match l {
            0 => xa,
            1 => xb,
            _ => prev2[l - 2],
        })
    };
    let last = 2 * (S - 1);
    let lag = D * (S - 1);
    // filling: lanes of sections s with D·s <= t only (no output yet: t < lag <= n)
    for t in 0..lag {
        let active: [bool; L] = std::array::from_fn(|l| D * (l / 2) <= t);
        let out = lanes.step(&input(&prev2, a[t], b[t]), Some(&active));
        (prev2, prev) = (prev, out);
    }
    for t in lag..n {
        let out = lanes.step(&input(&prev2, a[t], b[t]), None);
        (prev2, prev) = (prev, out);
        // the last section's output: sample t − lag, already read as an input
        a[t - lag] = out[last];
        b[t - lag] = out[last + 1];
    }
    // draining: lanes of sections s with t − D·s < n only
    for t in n..n + lag {
        let active: [bool; L] = std::array::from_fn(|l| t - D * (l / 2) < n);
        let out = lanes.step(&input(&prev2, 0.0, 0.0), Some(&active));
        (prev2, prev) = (prev, out);
        a[t - lag] = out[last];
        b[t - lag] = out[last + 1];
    }
    for s in 0..S {
        sa[s] = [lanes.ic1[2 * s], lanes.ic2[2 * s]];
        sb[s] = [lanes.ic1[2 * s + 1], lanes.ic2[2 * s + 1]];
    }
}

#[cfg(test)]
mod tests {
    use super::super::cpu::{run_sections_state, run_sections_two};
    use super::super::Svf;

    /// The skewed vector gives the plain loop's bits (each channel alone through
    /// `run_sections_state`), for 1 to 9 sections, lengths around the pipeline's `2·S`,
    /// states carried over several calls, and signals that reach the state flush.
    #[test]
    fn skewed_cascade_gives_the_plain_bits() {
        let mut seed = 7u32;
        let mut rnd = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f64 / f64::from(1u32 << 24)
        };
        for s in 1..=9usize {
            let secs = |rnd: &mut dyn FnMut() -> f64| -> Vec<Svf> {
                (0..s)
                    .map(|_| {
                        let g = 0.0005 + 2.0 * rnd();
                        let k = 0.1 + 2.0 * rnd();
                        Svf::new(g, k, [rnd() - 0.5, 2.0 * rnd() - 1.0, 1.0 + rnd()])
                    })
                    .collect()
            };
            let (ca, cb) = (secs(&mut rnd), secs(&mut rnd));
            for pieces in [
                vec![1, 2, 5],
                vec![2 * s - 1, 2 * s, 2 * s + 1],
                vec![17, 1000, 3],
            ] {
                let total: usize = pieces.iter().sum();
                let sig = |rnd: &mut dyn FnMut() -> f64, scale: f32| -> Vec<f32> {
                    (0..total)
                        .map(|i| {
                            if i % 97 > 60 {
                                0.0
                            } else {
                                (rnd() as f32 - 0.5) * scale
                            }
                        })
                        .collect()
                };
                let (a0, b0) = (sig(&mut rnd, 1.0), sig(&mut rnd, 1e-29));
                let (mut a, mut b) = (a0.clone(), b0.clone());
                let (mut sa, mut sb) = (vec![[0.0f32; 2]; s], vec![[0.0f32; 2]; s]);
                let (mut wa, mut wb) = (a0, b0);
                let (mut ta, mut tb) = (vec![[0.0f32; 2]; s], vec![[0.0f32; 2]; s]);
                let mut at = 0;
                for n in pieces {
                    let r = at..at + n;
                    run_sections_two(
                        (&mut a[r.clone()], &ca, &mut sa),
                        (&mut b[r.clone()], &cb, &mut sb),
                    );
                    run_sections_state(&mut wa[r.clone()], &ca, &mut ta);
                    run_sections_state(&mut wb[r], &cb, &mut tb);
                    at += n;
                }
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&a), bits(&wa), "{s} sections: channel a");
                assert_eq!(bits(&b), bits(&wb), "{s} sections: channel b");
                assert_eq!(sa, ta, "{s} sections: states a");
                assert_eq!(sb, tb, "{s} sections: states b");
            }
        }
    }
}
