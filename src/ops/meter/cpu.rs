//! CPU twin of the meter's signal stage ([`super`]): per channel, the K-weighting sections
//! ([`crate::ops::eq::cpu::run_sections_state`]) and the sum of squares of every sub-block,
//! in f32, in time order (`acc = y·y + acc`, [`madd`]), carried from one time chunk to the
//! next in a [`Lane`].

use crate::core::arith::madd;
use crate::ops::eq::cpu::run_sections_state;
use crate::ops::eq::Svf;

/// Frames filtered at a time (a buffer that stays in the L1 cache).
const SCRATCH: usize = 1024;

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

/// Runs `x` (the next frames of one channel) through the meter, appending the energy (sum
/// of squares of the K-weighted samples) of every sub-block of `sub` frames it completes to
/// `out`. A sub-block left unfinished at the end of `x` continues in the next call.
pub fn run(k: &[Svf; 2], sub: usize, lane: &mut Lane, x: &[f32], out: &mut Vec<f32>) {
    let mut buf = [0.0f32; SCRATCH];
    for piece in x.chunks(SCRATCH) {
        let y = &mut buf[..piece.len()];
        y.copy_from_slice(piece);
        run_sections_state(y, k, &mut lane.sections);
        let (mut acc, mut filled) = (lane.acc, lane.filled as usize);
        for &v in y.iter() {
            acc = madd(v, v, acc);
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
/// reached, where the song starts in its input, and the energies read so far.
#[derive(Debug, Clone)]
pub struct Stream {
    lanes: Vec<Lane>,
    pos: usize,
    lag: usize,
    /// per channel, the energies of the sub-blocks completed so far
    pub energies: Vec<Vec<f32>>,
}

impl Stream {
    /// A fresh stream for `channels` channels whose input lags the song by `lag` frames.
    pub fn new(channels: usize, lag: usize) -> Stream {
        Stream {
            lanes: vec![Lane::default(); channels],
            pos: 0,
            lag,
            energies: vec![Vec::new(); channels],
        }
    }
}

/// Meters the next chunk `x` (left as it is): its frames that are song frames
/// `0..m.frames`.
pub fn process_chunk(m: &super::Meter, st: &mut Stream, x: &[Vec<f32>]) {
    let len = x.first().map_or(0, Vec::len);
    let from = st.lag.saturating_sub(st.pos).min(len);
    let to = (st.lag + m.frames).saturating_sub(st.pos).min(len);
    if from < to {
        for ((ch, lane), out) in x.iter().zip(&mut st.lanes).zip(&mut st.energies) {
            run(&m.k, m.sub, lane, &ch[from..to], out);
        }
    }
    st.pos += len;
}
