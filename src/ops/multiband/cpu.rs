//! CPU twin of `shaders/multiband.wgsl`: compress each band in place, then sum the bands
//! into the output in band order (`out = ((b0 + b1) + b2) + …`, the kernel's order).

use super::CompressorParams;
use crate::ops::compressor;
use crate::plan::Planar;

/// Compresses `bands[b]` with `params[b]` (each keyed by itself) and writes their sum into
/// `out` (same channel count and length as every band).
pub fn compress_and_sum(params: &[CompressorParams], bands: &mut [Planar], out: &mut [Vec<f32>]) {
    for (p, band) in params.iter().zip(bands.iter_mut()) {
        compressor::cpu::process(p, band, None);
    }
    for (c, out_ch) in out.iter_mut().enumerate() {
        out_ch.fill(0.0);
        for band in bands.iter() {
            for (o, &v) in out_ch.iter_mut().zip(&band[c]) {
                *o += v;
            }
        }
    }
}
