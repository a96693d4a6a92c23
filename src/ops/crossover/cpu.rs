//! CPU path of the crossovers, whole songs ([`split`]) or time chunks ([`Stream`],
//! [`split_chunk`]): the EQ's section recursion ([`run_sections_state`]) for
//! Linkwitz-Riley, the convolution engine ([`convolve::cpu`], twin of
//! `shaders/convolve.wgsl`) for linear phase.

use rayon::prelude::*;

use super::Crossover;
use crate::ops::convolve;
use crate::ops::eq::cpu::{run_sections_state, run_sections_two};
use crate::plan::Planar;

/// What the crossover carries from one time chunk to the next, per channel: the states of
/// every Linkwitz-Riley section (low, high and all-pass sections of each band), or one
/// convolution stream per band (linear phase).
#[derive(Debug, Clone)]
pub struct Stream {
    channels: Vec<ChannelState>,
}

#[derive(Debug, Clone)]
enum ChannelState {
    LinkwitzRiley {
        /// crossover i: states of `low[i]`
        low: Vec<[[f32; 2]; 2]>,
        /// crossover i: states of `high[i]`
        high: Vec<[[f32; 2]; 2]>,
        /// band i < top: states of `all_pass[i + 1 ..]`
        all_pass: Vec<Vec<[f32; 2]>>,
    },
    /// one stream per band
    Fir(Vec<convolve::cpu::Stream>),
}

impl Stream {
    /// The state of `xo` at the start of a signal of `channels` channels.
    pub fn new(xo: &Crossover, channels: usize) -> Stream {
        let one = match xo {
            Crossover::LinkwitzRiley { low, all_pass, .. } => ChannelState::LinkwitzRiley {
                low: vec![[[0.0; 2]; 2]; low.len()],
                high: vec![[[0.0; 2]; 2]; low.len()],
                all_pass: (0..low.len())
                    .map(|i| vec![[0.0; 2]; all_pass.len() - i - 1])
                    .collect(),
            },
            Crossover::LinearPhase { kernels, .. } => {
                ChannelState::Fir(kernels.iter().map(convolve::cpu::Stream::new).collect())
            }
        };
        Stream {
            channels: vec![one; channels],
        }
    }
}

/// Frames by which the streamed bands lag the input: 0 (Linkwitz-Riley) or the FIRs'
/// `latency_frames` (linear phase; the whole-song [`split`] removes it).
pub fn latency_frames(xo: &Crossover) -> usize {
    match xo {
        Crossover::LinkwitzRiley { .. } => 0,
        Crossover::LinearPhase { latency_frames, .. } => *latency_frames,
    }
}

/// Splits the next chunk of planar `x` into `bands_out[band][channel]` (resized to the
/// crossover's bands, `x`'s channels and each channel's length), channels in parallel.
///
/// Linkwitz-Riley order: `rest = x`; for crossover i: band i = all-passes of crossovers
/// i+1.. applied to (low-pass i of rest); rest = high-pass i of rest; the last band is rest
/// (any chunk length). Linear phase: band b = the causal convolution with FIR b (channels
/// a multiple of [`convolve::BLOCK_FRAMES`] frames), lagging by [`latency_frames`].
pub fn split_chunk(xo: &Crossover, st: &mut Stream, x: &[Vec<f32>], bands_out: &mut [Planar]) {
    assert_eq!(
        x.len(),
        st.channels.len(),
        "stream made for another channel count"
    );
    assert_eq!(bands_out.len(), xo.bands(), "one output per band");
    // per channel, its band buffers (low to high)
    let mut per_channel: Vec<Vec<&mut Vec<f32>>> = x.iter().map(|_| Vec::new()).collect();
    for band in bands_out.iter_mut() {
        band.resize_with(x.len(), Vec::new);
        for (c, ch) in band.iter_mut().enumerate() {
            ch.resize(x[c].len(), 0.0);
            per_channel[c].push(ch);
        }
    }
    per_channel
        .into_par_iter()
        .zip(st.channels.par_iter_mut())
        .zip(x.par_iter())
        .for_each(|((mut bands, state), x)| split_channel_chunk(xo, state, x, &mut bands));
}

fn split_channel_chunk(
    xo: &Crossover,
    st: &mut ChannelState,
    x: &[f32],
    bands: &mut [&mut Vec<f32>],
) {
    match (xo, st) {
        (
            Crossover::LinkwitzRiley {
                low,
                high,
                all_pass,
            },
            ChannelState::LinkwitzRiley {
                low: low_st,
                high: high_st,
                all_pass: ap_st,
            },
        ) => {
            let (below, top) = bands.split_at_mut(low.len());
            let rest = &mut top[0];
            rest.copy_from_slice(x);
            for (i, band) in below.iter_mut().enumerate() {
                band.copy_from_slice(rest);
                // the band's low-pass and the rest's high-pass: independent, side by side
                run_sections_two(
                    (band, &low[i], &mut low_st[i]),
                    (rest, &high[i], &mut high_st[i]),
                );
                run_sections_state(band, &all_pass[i + 1..], &mut ap_st[i]);
            }
        }
        (Crossover::LinearPhase { kernels, .. }, ChannelState::Fir(streams)) => {
            for ((k, s), band) in kernels.iter().zip(streams).zip(bands.iter_mut()) {
                convolve::cpu::process_chunk(k, s, x, band);
            }
        }
        _ => panic!("stream made for another kind of crossover"),
    }
}

/// Splits one channel of a whole song into the crossover's bands (low to high), each as
/// long as `x`, latency removed (see [`split`]).
pub fn split_channel(xo: &Crossover, x: &[f32]) -> Vec<Vec<f32>> {
    split(xo, &[x.to_vec()])
        .into_iter()
        .map(|mut band| band.pop().unwrap_or_default())
        .collect()
}

/// Splits planar `channels` of a whole song into bands: `result[band][channel][frame]`,
/// each channel as long as the input, latency removed. Linkwitz-Riley: one [`split_chunk`]
/// over the whole song; linear phase: per band and channel the window
/// `y[latency .. latency + M]` of the convolution ([`convolve::convolve_window`], itself a
/// stream), channels in parallel.
pub fn split(xo: &Crossover, channels: &[Vec<f32>]) -> Vec<Planar> {
    let mut bands: Vec<Planar> = vec![Vec::new(); xo.bands()];
    match xo {
        Crossover::LinkwitzRiley { .. } => {
            split_chunk(
                xo,
                &mut Stream::new(xo, channels.len()),
                channels,
                &mut bands,
            );
        }
        Crossover::LinearPhase {
            kernels,
            latency_frames,
            ..
        } => {
            let per_channel: Vec<Vec<Vec<f32>>> = channels
                .par_iter()
                .map(|x| {
                    kernels
                        .iter()
                        .map(|k| convolve::convolve_window(x, k, *latency_frames, x.len()))
                        .collect()
                })
                .collect();
            for ch in per_channel {
                for (b, band) in ch.into_iter().enumerate() {
                    bands[b].push(band);
                }
            }
        }
    }
    bands
}

/// Sums bands back into `out` (`out[c][i] = Σ_b bands[b][c][i]`, bands in order, f32).
pub fn sum_bands(bands: &[Planar], out: &mut [Vec<f32>]) {
    for (c, ch) in out.iter_mut().enumerate() {
        ch.fill(0.0);
        for band in bands {
            ch.iter_mut().zip(&band[c]).for_each(|(o, v)| *o += v);
        }
    }
}
