//! CPU path of the multiband compressor, whole songs ([`super::Multiband::process_cpu`]) or
//! time chunks ([`Stream`], [`process_chunk`]): split ([`crossover::cpu`]), compress each
//! band in place with the compressor's CPU twin (detector as in
//! `compressor::cpu::process`, then [`compressor::cpu::gains_block`], state carried in a
//! [`compressor::cpu::State`] per band), then sum the bands into the output in band order
//! (`out = ((b0 + b1) + b2) + …`). Twin of `shaders/multiband.wgsl`: its `multiband` entry
//! with a Linkwitz-Riley crossover; with a linear-phase one the GPU splits with the
//! convolution engine and its `multiband_bands` entry is [`finish_chunk`]'s twin.

use super::{CompressorParams, Multiband};
use crate::core::arith::madd;
use crate::ops::compressor::{self, cpu::State};
use crate::ops::crossover;
use crate::plan::Planar;

/// What the multiband compressor carries from one time chunk to the next: the crossover's
/// stream, each band's compressor state (stereo-linked: one per band) and how many of the
/// crossover's latency frames are still to come.
#[derive(Debug, Clone)]
pub struct Stream {
    crossover: crossover::cpu::Stream,
    compressors: Vec<State>,
    /// band frames still to pass uncompressed: the crossover's first `latency_frames`
    /// output frames come before the song's first frame
    lead_in: usize,
    /// scratch: the chunk's bands, `[band][channel][frame]`
    bands: Vec<Planar>,
}

impl Stream {
    /// The state of `mb` at the start of a signal of `channels` channels.
    pub fn new(mb: &Multiband, channels: usize) -> Stream {
        Stream {
            crossover: crossover::cpu::Stream::new(&mb.crossover, channels),
            compressors: vec![State::default(); mb.bands.len()],
            lead_in: latency_frames(mb),
            bands: vec![Vec::new(); mb.crossover.bands()],
        }
    }
}

impl Stream {
    /// The stream of a multiband whose input lags the song by `lag` frames (latency
    /// compensation upstream): the compressors start that much later too, on the band frame
    /// that lines up with the song's first frame.
    pub fn lagging(mut self, lag: usize) -> Stream {
        self.lead_in += lag;
        self
    }
}

/// Frames by which the streamed output lags the input: the crossover's latency.
pub fn latency_frames(mb: &Multiband) -> usize {
    crossover::cpu::latency_frames(&mb.crossover)
}

/// Processes the next chunk in place: split, compress each band (state carried), sum.
/// A linear-phase crossover needs channels a multiple of
/// [`crate::ops::convolve::BLOCK_FRAMES`] frames; Linkwitz-Riley takes any length.
///
/// The compressors start on the band frame that lines up with the song's first frame: the
/// first [`latency_frames`] frames of a linear-phase split (the FIRs' pre-ringing of the
/// first input frames, which the whole-song split removes) pass uncompressed, so the
/// streamed output is the whole-song output delayed by [`latency_frames`], bit for bit.
pub fn process_chunk(mb: &Multiband, st: &mut Stream, x: &mut [Vec<f32>]) {
    let mut bands = std::mem::take(&mut st.bands);
    crossover::cpu::split_chunk(&mb.crossover, &mut st.crossover, x, &mut bands);
    finish_chunk(mb, st, &mut bands, x);
    st.bands = bands;
}

/// The part of [`process_chunk`] after the split: compresses the chunk's `bands`
/// (`[band][channel][frame]`, as `crossover::cpu::split_chunk` leaves them) with the
/// stream's compressor states and writes their sum into `x` (twin of the `multiband_bands`
/// entry of `shaders/multiband.wgsl`).
fn finish_chunk(mb: &Multiband, st: &mut Stream, bands: &mut [Planar], x: &mut [Vec<f32>]) {
    let frames = x.iter().map(Vec::len).min().unwrap_or(0);
    let skip = st.lead_in.min(frames);
    st.lead_in -= skip;
    for ((p, state), band) in mb
        .bands
        .iter()
        .zip(&mut st.compressors)
        .zip(bands.iter_mut())
    {
        compress_frames(p, state, band, skip);
    }
    sum_bands(bands, x);
}

/// Compresses frames `first ..` of `band` in place, keyed by itself, continuing from
/// `state`: per frame the stereo-linked detector input (peak `max_c |x_c|`, or mean square
/// `(Σ_c x_c²)·(1/C)`, channels in index order), then [`compressor::cpu::gains_block`] and
/// the gain applied, in blocks of [`compressor::cpu::BLOCK_FRAMES`] — the arithmetic of
/// [`compressor::cpu::process`] with no sidechain (which starts from `State::default()`).
pub fn compress_frames(
    p: &CompressorParams,
    state: &mut State,
    band: &mut [Vec<f32>],
    first: usize,
) {
    const B: usize = compressor::cpu::BLOCK_FRAMES;
    let frames = band.iter().map(Vec::len).min().unwrap_or(0);
    let (mut level, mut gain) = ([0.0f32; B], [0.0f32; B]);
    let mut start = first;
    while start < frames {
        let len = B.min(frames - start);
        let (level, gain) = (&mut level[..len], &mut gain[..len]);
        level.fill(0.0);
        if p.detector == 0 {
            for ch in band.iter() {
                for (o, &k) in level.iter_mut().zip(&ch[start..start + len]) {
                    *o = o.max(k.abs());
                }
            }
        } else {
            let inv_c = 1.0 / band.len() as f32;
            for ch in band.iter() {
                for (o, &k) in level.iter_mut().zip(&ch[start..start + len]) {
                    *o = madd(k, k, *o);
                }
            }
            level.iter_mut().for_each(|o| *o *= inv_c);
        }
        compressor::cpu::gains_block(p, state, level, gain);
        for ch in band.iter_mut() {
            for (x, &g) in ch[start..start + len].iter_mut().zip(gain.iter()) {
                *x *= g;
            }
        }
        start += len;
    }
}

/// `out[c][i] = Σ_b bands[b][c][i]`, bands in order, f32 (each output channel as long as
/// the bands).
fn sum_bands(bands: &[Planar], out: &mut [Vec<f32>]) {
    for (c, out_ch) in out.iter_mut().enumerate() {
        out_ch.fill(0.0);
        for band in bands {
            for (o, &v) in out_ch.iter_mut().zip(&band[c]) {
                *o += v;
            }
        }
    }
}

/// Compresses `bands[b]` of a whole song with `params[b]` (each keyed by itself, from rest)
/// and writes their sum into `out` (same channel count and length as every band).
pub fn compress_and_sum(params: &[CompressorParams], bands: &mut [Planar], out: &mut [Vec<f32>]) {
    for (p, band) in params.iter().zip(bands.iter_mut()) {
        compress_frames(p, &mut State::default(), band, 0);
    }
    sum_bands(bands, out);
}
