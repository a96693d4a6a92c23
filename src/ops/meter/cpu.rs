//! CPU twin of the meter's signal stage ([`super`]): per channel, the K-weighting sections
//! ([`crate::ops::eq::cpu::section_tick`], as the EQ runs them) and the sum of squares of
//! every sub-block, in f32, in time order (`acc = y·y + acc`, [`madd`]), carried from one
//! time chunk to the next in a [`Lane`]. A stereo pair runs together ([`run_pair`]: on
//! x86-64 its four sections as one SSE vector skewed in time, `skewed_pair`, as
//! [`crate::ops::eq::skewed`] runs the EQ's cascades; each output pair summed into the
//! squares as it comes out; each channel's arithmetic unchanged).

use crate::core::arith::madd;
use crate::ops::eq::cpu::section_tick;
use crate::ops::eq::Svf;

/// What one channel carries from one chunk to the next.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Lane {
    /// the two sections' `[ic1, ic2]`
    pub sections: [[f32; 2]; 2],
    /// sum of squares of the sub-block in progress
    pub acc: f32,
    /// frames in the sub-block in progress
    pub filled: u32,
}

/// One sample through the two K-weighting sections.
#[inline(always)]
fn k_weight(k: &[Svf; 2], st: &mut [[f32; 2]; 2], v: f32) -> f32 {
    let [s0, s1] = st;
    section_tick(&k[1], s1, section_tick(&k[0], s0, v))
}

/// Runs `x` (the next frames of one channel) through the meter, appending the energy (sum
/// of squares of the K-weighted samples) of every sub-block of `sub` frames it completes to
/// `out`. A sub-block left unfinished at the end of `x` continues in the next call.
pub fn run(k: &[Svf; 2], sub: usize, lane: &mut Lane, x: &[f32], out: &mut Vec<f32>) {
    let (mut acc, mut filled) = (lane.acc, lane.filled as usize);
    for &v in x {
        let y = k_weight(k, &mut lane.sections, v);
        acc = madd(y, y, acc);
        filled += 1;
        if filled == sub {
            out.push(acc);
            acc = 0.0;
            filled = 0;
        }
    }
    lane.acc = acc;
    lane.filled = filled as u32;
}

/// [`run`] on two channels at once (the same frames of each; both lanes at the same point
/// of their sub-block), each channel's arithmetic as [`run`]'s.
pub fn run_pair(
    k: &[Svf; 2],
    sub: usize,
    lanes: &mut [Lane],
    x: [&[f32]; 2],
    out: &mut [Vec<f32>],
) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2
        return unsafe { pair_avx2(k, sub, lanes, x, out) };
    }
    pair(k, sub, lanes, x, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn pair_avx2(
    k: &[Svf; 2],
    sub: usize,
    lanes: &mut [Lane],
    x: [&[f32]; 2],
    out: &mut [Vec<f32>],
) {
    pair(k, sub, lanes, x, out);
}

#[inline(always)]
fn pair(k: &[Svf; 2], sub: usize, lanes: &mut [Lane], x: [&[f32]; 2], out: &mut [Vec<f32>]) {
    let ([a, b], [oa, ob]) = (lanes, out) else {
        panic!("run_pair: two lanes and two outputs");
    };
    let n = x[0].len().min(x[1].len());
    let (mut acc_a, mut acc_b, mut filled) = (a.acc, b.acc, a.filled as usize);
    // each K-weighted pair of samples, in time order, into the squares
    let mut squares = |ya: f32, yb: f32| {
        acc_a = madd(ya, ya, acc_a);
        acc_b = madd(yb, yb, acc_b);
        filled += 1;
        if filled == sub {
            oa.push(acc_a);
            ob.push(acc_b);
            (acc_a, acc_b, filled) = (0.0, 0.0, 0);
        }
    };
    let st = [&mut a.sections, &mut b.sections];
    k_weight_pair(k, st, &x[0][..n], &x[1][..n], &mut squares);
    (a.acc, b.acc) = (acc_a, acc_b);
    (a.filled, b.filled) = (filled as u32, filled as u32);
}

/// Both channels of a pair through the two K-weighting sections, each output pair handed
/// to `sink` in time order: on x86-64 (unless the FMA twins are built) as one SSE vector
/// skewed in time ([`skewed_pair`]), else sample by sample; the same arithmetic either way.
#[inline(always)]
fn k_weight_pair(
    k: &[Svf; 2],
    st: [&mut [[f32; 2]; 2]; 2],
    xa: &[f32],
    xb: &[f32],
    sink: &mut impl FnMut(f32, f32),
) {
    #[cfg(target_arch = "x86_64")]
    if !cfg!(feature = "fma-twins") && xa.len() >= 2 && xa.len() == xb.len() {
        // SAFETY: SSE is part of x86-64
        return unsafe { skewed_pair(k, st, xa, xb, sink) };
    }
    let [sa, sb] = st;
    for (&va, &vb) in xa.iter().zip(xb) {
        let ya = k_weight(k, sa, va);
        sink(ya, k_weight(k, sb, vb));
    }
}

/// [`k_weight_pair`] as one vector of four lanes, skewed in time: lanes `[a₀, b₀, a₁, b₁]`
/// (section 0 and 1 of channels a and b); at step `t` section 0 runs on sample `t` and
/// section 1 on sample `t − 2`, its input section 0's output from step `t − 2` (two steps,
/// so the output's arithmetic stays off the loop-carried chain: that is the sections' state
/// recursion alone). Each lane does [`section_tick`]'s operations in its order (no FMA),
/// except that the new states' `2·d` is summed from the products with the coefficients
/// doubled (one add less on the loop-carried chain): the same value wherever those products
/// are normal numbers or zero, as doubling commutes with rounding there. A product below
/// 2⁻¹²⁶ (an input or state difference near f32's subnormal range, where WGSL also lets a
/// GPU flush values) may round one unit apart. The unit test's near-silent channel
/// (1e-31 × noise) gives the plain bits. The first and last two steps leave the lanes with no
/// sample as they were. Each step hands its output pair (samples `t − 2`) to `sink`, whose
/// work overlaps the next steps' recursion.
#[cfg(target_arch = "x86_64")]
#[inline(always)] // in its caller's encoding: VEX (three operands, no copies) under AVX2
unsafe fn skewed_pair(
    k: &[Svf; 2],
    st: [&mut [[f32; 2]; 2]; 2],
    xa: &[f32],
    xb: &[f32],
    sink: &mut impl FnMut(f32, f32),
) {
    use std::arch::x86_64::*;
    let [sa, sb] = st;
    let n = xa.len();
    let lanes = |f: fn(&Svf) -> f32| _mm_setr_ps(f(&k[0]), f(&k[0]), f(&k[1]), f(&k[1]));
    let (c1, a2, a3) = (lanes(|c| c.c1), lanes(|c| c.a2), lanes(|c| c.a3));
    // the coefficients doubled (exact): `2·d` straight from the products, see below
    let (c1x2, a2x2, a3x2) = (
        lanes(|c| 2.0 * c.c1),
        lanes(|c| 2.0 * c.a2),
        lanes(|c| 2.0 * c.a3),
    );
    let (m0, m1, m2) = (lanes(|c| c.m0), lanes(|c| c.m1), lanes(|c| c.m2));
    let mut ic1 = _mm_setr_ps(sa[0][0], sb[0][0], sa[1][0], sb[1][0]);
    let mut ic2 = _mm_setr_ps(sa[0][1], sb[0][1], sa[1][1], sb[1][1]);
    let sign = _mm_set1_ps(-0.0);
    let flush = _mm_set1_ps(super::super::eq::cpu::FLUSH_BELOW);
    // one step on the input `v0`: the four outputs; the new states (`$keep`: where set, a
    // lane keeps its state)
    macro_rules! step {
        ($v0:expr $(, $keep:expr)?) => {{
            let v0 = $v0;
            let v3 = _mm_sub_ps(v0, ic2);
            let d1 = _mm_add_ps(_mm_mul_ps(a2, v3), _mm_xor_ps(_mm_mul_ps(c1, ic1), sign));
            let d2 = _mm_add_ps(_mm_mul_ps(a3, v3), _mm_mul_ps(a2, ic1));
            let v1 = _mm_add_ps(ic1, d1);
            let v2 = _mm_add_ps(ic2, d2);
            // n = ic + 2·d with 2·d as (2a)·v3 + (2b)·ic: one add shorter on the
            // loop-carried chain; the same value as doubling d wherever the products are
            // normal numbers or zero (see the doc above)
            let t1 = _mm_add_ps(_mm_mul_ps(a2x2, v3), _mm_xor_ps(_mm_mul_ps(c1x2, ic1), sign));
            let t2 = _mm_add_ps(_mm_mul_ps(a3x2, v3), _mm_mul_ps(a2x2, ic1));
            let n1 = _mm_add_ps(ic1, t1);
            let n2 = _mm_add_ps(ic2, t2);
            let n1 = _mm_andnot_ps(_mm_cmplt_ps(_mm_andnot_ps(sign, n1), flush), n1);
            let n2 = _mm_andnot_ps(_mm_cmplt_ps(_mm_andnot_ps(sign, n2), flush), n2);
            $(
                let n1 = _mm_or_ps(_mm_and_ps($keep, ic1), _mm_andnot_ps($keep, n1));
                let n2 = _mm_or_ps(_mm_and_ps($keep, ic2), _mm_andnot_ps($keep, n2));
            )?
            (ic1, ic2) = (n1, n2);
            _mm_add_ps(
                _mm_mul_ps(m2, v2),
                _mm_add_ps(_mm_mul_ps(m0, v0), _mm_mul_ps(m1, v1)),
            )
        }};
    }
    // the input: samples t of a and b in the low lanes, section 0's outputs of step t − 2
    // in the high ones
    let x = |y: &[f32], z: &[f32], t: usize| _mm_setr_ps(y[t], z[t], 0.0, 0.0);
    let (low, high) = (
        _mm_castsi128_ps(_mm_setr_epi32(-1, -1, 0, 0)),
        _mm_castsi128_ps(_mm_setr_epi32(0, 0, -1, -1)),
    );
    let high_lanes = |v: __m128| {
        let mut o = [0.0f32; 4];
        _mm_storeu_ps(o.as_mut_ptr(), v);
        (o[2], o[3])
    };
    // section 1 idle on the first two steps
    let o0 = step!(x(xa, xb, 0), high);
    let o1 = step!(x(xa, xb, 1), high);
    let (mut prev2, mut prev) = (o0, o1);
    for t in 2..n {
        let out = step!(_mm_movelh_ps(x(xa, xb, t), prev2));
        (prev2, prev) = (prev, out);
        let (ya, yb) = high_lanes(out);
        sink(ya, yb);
    }
    // section 0 idle on the last two
    for _ in 0..2 {
        let out = step!(_mm_movelh_ps(_mm_setzero_ps(), prev2), low);
        (prev2, prev) = (prev, out);
        let (ya, yb) = high_lanes(out);
        sink(ya, yb);
    }
    let (mut s1, mut s2) = ([0.0f32; 4], [0.0f32; 4]);
    _mm_storeu_ps(s1.as_mut_ptr(), ic1);
    _mm_storeu_ps(s2.as_mut_ptr(), ic2);
    *sa = [[s1[0], s2[0]], [s1[2], s2[2]]];
    *sb = [[s1[1], s2[1]], [s1[3], s2[3]]];
}

/// The sub-block energies of a whole stereo pair at `sample_rate` ([`run_pair`]; an
/// unfinished last sub-block is left out).
pub fn energies_pair(l: &[f32], r: &[f32], sample_rate: u32) -> [Vec<f32>; 2] {
    let k = super::k_weighting(sample_rate);
    let sub = super::sub_block_frames(sample_rate);
    let mut out = [
        Vec::with_capacity(l.len() / sub + 1),
        Vec::with_capacity(r.len() / sub + 1),
    ];
    run_pair(&k, sub, &mut [Lane::default(); 2], [l, r], &mut out);
    out
}

/// The sub-block energies of a whole channel at `sample_rate` (an unfinished last
/// sub-block is left out).
pub fn energies(x: &[f32], sample_rate: u32) -> Vec<f32> {
    let k = super::k_weighting(sample_rate);
    let sub = super::sub_block_frames(sample_rate);
    let mut out = Vec::with_capacity(x.len() / sub + 1);
    run(&k, sub, &mut Lane::default(), x, &mut out);
    out
}

/// The meter's state as a Plan stage: one [`Lane`] per channel, the stream frame it has
/// reached, where the song starts in its input, and what it read so far: the energies and
/// the sample peak.
#[derive(Debug, Clone)]
pub struct Stream {
    lanes: Vec<Lane>,
    pos: usize,
    lag: usize,
    /// per channel, the energies of the sub-blocks completed so far
    pub energies: Vec<Vec<f32>>,
    /// per channel, the largest |sample| of the song so far (before the K-weighting)
    pub peaks: Vec<f32>,
}

impl Stream {
    /// A fresh stream for `channels` channels whose input lags the song by `lag` frames.
    pub fn new(channels: usize, lag: usize) -> Stream {
        Stream {
            lanes: vec![Lane::default(); channels],
            pos: 0,
            lag,
            energies: vec![Vec::new(); channels],
            peaks: vec![0.0; channels],
        }
    }
}

/// Meters the next chunk `x` (left as it is): its frames that are song frames
/// `0..m.frames` (their energies, and their largest |sample| per channel).
pub fn process_chunk(m: &super::Meter, st: &mut Stream, x: &[Vec<f32>]) {
    let len = x.first().map_or(0, Vec::len);
    let from = st.lag.saturating_sub(st.pos).min(len);
    let to = (st.lag + m.frames).saturating_sub(st.pos).min(len);
    if from < to {
        for (ch, peak) in x.iter().zip(&mut st.peaks) {
            *peak = ch[from..to].iter().fold(*peak, |m, &v| m.max(v.abs()));
        }
        if let [l, r] = x {
            run_pair(
                &m.k,
                m.sub,
                &mut st.lanes,
                [&l[from..to], &r[from..to]],
                &mut st.energies,
            );
        } else {
            for ((ch, lane), out) in x.iter().zip(&mut st.lanes).zip(&mut st.energies) {
                run(&m.k, m.sub, lane, &ch[from..to], out);
            }
        }
    }
    st.pos += len;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pair (skewed vector on x86-64) gives each channel's plain sample-by-sample bits,
    /// states and energies, over pieces around the pipeline's length, long pieces (sub-blocks
    /// across piece ends), and signals that reach the state flush.
    #[test]
    fn pair_gives_each_channels_plain_bits() {
        let mut seed = 11u32;
        let mut rnd = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        for rate in [44_100, 96_000] {
            let k = crate::ops::meter::k_weighting(rate);
            let sub = 100;
            let pieces = [1, 2, 3, 5, 2051, 700, 2];
            let total: usize = pieces.iter().sum();
            let a: Vec<f32> = (0..total).map(|_| rnd()).collect();
            let b: Vec<f32> = (0..total)
                .map(|i| if i % 300 < 200 { 1e-31 * rnd() } else { rnd() })
                .collect();
            let (mut lanes, mut out) = ([Lane::default(); 2], [Vec::new(), Vec::new()]);
            let (mut la, mut lb, mut oa, mut ob) =
                (Lane::default(), Lane::default(), Vec::new(), Vec::new());
            let mut at = 0;
            for n in pieces {
                let r = at..at + n;
                run_pair(
                    &k,
                    sub,
                    &mut lanes,
                    [&a[r.clone()], &b[r.clone()]],
                    &mut out,
                );
                run(&k, sub, &mut la, &a[r.clone()], &mut oa);
                run(&k, sub, &mut lb, &b[r], &mut ob);
                assert_eq!(lanes, [la, lb], "states after {at} + {n} frames");
                at += n;
            }
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&out[0]), bits(&oa), "channel a");
            assert_eq!(bits(&out[1]), bits(&ob), "channel b");
            assert!(oa.len() > 20);
        }
    }
}
