//! CPU twin of the meter's signal stage ([`super`]): per channel, the K-weighting sections
//! ([`crate::ops::eq::cpu::section_tick`], as the EQ runs them) and the sum of squares of
//! every sub-block, in f32, in time order (`acc = y·y + acc`, [`madd`]), carried from one
//! time chunk to the next in a [`Lane`]. A stereo pair runs in one loop ([`run_pair`]: two
//! independent recursions side by side, each channel's arithmetic unchanged).

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
    for (&va, &vb) in x[0][..n].iter().zip(&x[1][..n]) {
        let ya = k_weight(k, &mut a.sections, va);
        let yb = k_weight(k, &mut b.sections, vb);
        acc_a = madd(ya, ya, acc_a);
        acc_b = madd(yb, yb, acc_b);
        filled += 1;
        if filled == sub {
            oa.push(acc_a);
            ob.push(acc_b);
            (acc_a, acc_b, filled) = (0.0, 0.0, 0);
        }
    }
    (a.acc, b.acc) = (acc_a, acc_b);
    (a.filled, b.filled) = (filled as u32, filled as u32);
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
