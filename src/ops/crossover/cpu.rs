//! CPU twin of the crossovers: the EQ's section recursion (`shaders/eq.wgsl`) for
//! Linkwitz-Riley, the convolution engine (`shaders/convolve.wgsl`) for linear phase.

use rayon::prelude::*;

use super::Crossover;
use crate::ops::convolve;
use crate::ops::eq::cpu::run_sections;
use crate::plan::Planar;

/// Splits one channel into the crossover's bands (low to high), each as long as `x`.
///
/// Linkwitz-Riley order: `rest = x`; for crossover i: band i = all-passes of crossovers
/// i+1.. applied to (low-pass i of rest); rest = high-pass i of rest; the last band is rest.
pub fn split_channel(xo: &Crossover, x: &[f32]) -> Vec<Vec<f32>> {
    match xo {
        Crossover::LinkwitzRiley {
            low,
            high,
            all_pass,
        } => {
            let mut bands = Vec::with_capacity(low.len() + 1);
            let mut rest = x.to_vec();
            for i in 0..low.len() {
                let mut band = rest.clone();
                run_sections(&mut band, &low[i]);
                run_sections(&mut rest, &high[i]);
                run_sections(&mut band, &all_pass[i + 1..]);
                bands.push(band);
            }
            bands.push(rest);
            bands
        }
        Crossover::LinearPhase {
            kernels,
            latency_frames,
            ..
        } => kernels
            .iter()
            .map(|k| convolve::convolve_window(x, k, *latency_frames, x.len()))
            .collect(),
    }
}

/// Splits planar `channels` into bands: `result[band][channel][frame]` (channels in
/// parallel).
pub fn split(xo: &Crossover, channels: &[Vec<f32>]) -> Vec<Planar> {
    let per_channel: Vec<Vec<Vec<f32>>> = channels
        .par_iter()
        .map(|ch| split_channel(xo, ch))
        .collect();
    let mut bands: Vec<Planar> = (0..xo.bands())
        .map(|_| Vec::with_capacity(channels.len()))
        .collect();
    for ch in per_channel {
        for (b, band) in ch.into_iter().enumerate() {
            bands[b].push(band);
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
