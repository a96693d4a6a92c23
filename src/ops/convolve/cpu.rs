//! CPU twin of `shaders/convolve.wgsl`: uniformly partitioned overlap-save with realfft
//! (f32) and rayon, arithmetic exactly as in `notes/convolve-spec.md` (see the parent
//! module).
//!
//! Work is cut into segments of [`SEGMENT_BLOCKS`] output blocks (bounds memory on long
//! songs). Per segment, every input spectrum X_j it needs is computed once, in parallel;
//! then tiles of [`TILE_BLOCKS`] output blocks are accumulated in parallel. Inside a tile the
//! loop runs partition-outer (`for p { for k in tile { Y_k += X_{k-p} · H_p } }`) so each
//! H_p is read once per tile; for every (k, bin) the sum still runs over p in ascending
//! order, as the spec says. Spectra are kept split (re and im arrays) so the
//! multiply-accumulate vectorises; on x86-64 with AVX the same loop is compiled for 8 lanes
//! (no FMA: results are bit-identical to the SSE2 build).

use std::sync::{Arc, OnceLock};

use rayon::prelude::*;
use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use super::{full_len, Kernel, BINS, BLOCK_FRAMES, FFT_SIZE};

/// Output blocks per segment (~44 s at 48 kHz): the input spectra of one segment are held
/// in memory at once.
pub const SEGMENT_BLOCKS: usize = 2048;

/// Output blocks accumulated together by one task (their Y spectra stay in L2 cache).
pub const TILE_BLOCKS: usize = 16;

struct Plans {
    forward: Arc<dyn RealToComplex<f32>>,
    inverse: Arc<dyn ComplexToReal<f32>>,
}

fn plans() -> &'static Plans {
    static PLANS: OnceLock<Plans> = OnceLock::new();
    PLANS.get_or_init(|| {
        let mut planner = RealFftPlanner::<f32>::new();
        Plans {
            forward: planner.plan_fft_forward(FFT_SIZE),
            inverse: planner.plan_fft_inverse(FFT_SIZE),
        }
    })
}

/// Spectra in split layout: `re[i * BINS + bin]`, `im[i * BINS + bin]`.
struct Split {
    re: Vec<f32>,
    im: Vec<f32>,
}

impl Split {
    fn zeros(spectra: usize) -> Split {
        Split {
            re: vec![0.0; spectra * BINS],
            im: vec![0.0; spectra * BINS],
        }
    }
}

/// Full convolution of `x` with `kernel`: `M + L - 1` frames (empty for an empty input).
pub fn convolve(x: &[f32], kernel: &Kernel) -> Vec<f32> {
    convolve_window(x, kernel, 0, full_len(x.len(), kernel))
}

/// The window `y[offset .. offset + len]` of the full convolution `y` of `x` with `kernel`
/// (frames past the end of `y` are zero). A latency-compensated FIR of delay d uses
/// `convolve_window(x, k, d, x.len())`.
pub fn convolve_window(x: &[f32], kernel: &Kernel, offset: usize, len: usize) -> Vec<f32> {
    let mut out = vec![0.0; len];
    convolve_window_into(x, kernel, offset, &mut out);
    out
}

/// Like [`convolve_window`], writing the window `y[offset .. offset + out.len()]` into `out`
/// (every frame of `out` is overwritten).
pub fn convolve_window_into(x: &[f32], kernel: &Kernel, offset: usize, out: &mut [f32]) {
    out.fill(0.0);
    let end = (offset + out.len()).min(full_len(x.len(), kernel));
    if offset >= end {
        return;
    }
    let parts = kernel.partitions;
    let mut h = Split::zeros(parts);
    for (i, c) in kernel.spectra.iter().enumerate() {
        h.re[i] = c[0];
        h.im[i] = c[1];
    }
    let k_first = offset / BLOCK_FRAMES;
    let k_end = (end - 1) / BLOCK_FRAMES + 1;
    let mut xs = Split::zeros(0);
    let mut out = &mut out[..end - offset];
    let mut seg = k_first;
    while seg < k_end {
        let seg_end = (seg + SEGMENT_BLOCKS).min(k_end);
        let j0 = (seg + 1).saturating_sub(parts);
        input_spectra(x, j0, seg_end, &mut xs);
        // Split this segment's output into per-tile slices.
        let seg_out_len = (seg_end * BLOCK_FRAMES).min(end) - (seg * BLOCK_FRAMES).max(offset);
        let (mut seg_out, rest) = std::mem::take(&mut out).split_at_mut(seg_out_len);
        out = rest;
        let mut tiles = Vec::with_capacity((seg_end - seg).div_ceil(TILE_BLOCKS));
        let mut ka = seg;
        while ka < seg_end {
            let kb = (ka + TILE_BLOCKS).min(seg_end);
            let n = (kb * BLOCK_FRAMES).min(end) - (ka * BLOCK_FRAMES).max(offset);
            let (tile, rest) = std::mem::take(&mut seg_out).split_at_mut(n);
            seg_out = rest;
            tiles.push((ka, kb, tile));
            ka = kb;
        }
        tiles.into_par_iter().for_each(|(ka, kb, tile)| {
            output_tile(ka, kb, j0, offset, &xs, &h, parts, tile);
        });
        seg = seg_end;
    }
}

/// Computes X_j for j in `j0 .. j1` into `xs` (resized), in parallel.
fn input_spectra(x: &[f32], j0: usize, j1: usize, xs: &mut Split) {
    let n = j1 - j0;
    xs.re.resize(n * BINS, 0.0);
    xs.im.resize(n * BINS, 0.0);
    let fft = &plans().forward;
    xs.re
        .par_chunks_mut(BINS)
        .zip(xs.im.par_chunks_mut(BINS))
        .enumerate()
        .for_each_init(
            || {
                (
                    vec![0.0f32; FFT_SIZE],
                    vec![Complex::new(0.0f32, 0.0); BINS],
                    fft.make_scratch_vec(),
                )
            },
            |(time, freq, scratch), (i, (re, im))| {
                let j = j0 + i;
                // frame = x[(j-1)B .. (j+1)B], zeros outside 0 .. M
                let start = j as isize * BLOCK_FRAMES as isize - BLOCK_FRAMES as isize;
                time.fill(0.0);
                let lo = start.max(0) as usize;
                let hi = ((start + FFT_SIZE as isize).max(0) as usize).min(x.len());
                if lo < hi {
                    let t0 = (lo as isize - start) as usize;
                    time[t0..t0 + hi - lo].copy_from_slice(&x[lo..hi]);
                }
                // Sizes match the plan by construction.
                fft.process_with_scratch(time, freq, scratch)
                    .expect("forward FFT buffer sizes");
                for ((r, m), c) in re.iter_mut().zip(im.iter_mut()).zip(freq.iter()) {
                    *r = c.re;
                    *m = c.im;
                }
            },
        );
}

/// Accumulates and inverse-transforms output blocks `ka .. kb`, writing the part of
/// y[ka·B .. kb·B] that falls in the window (starting at `offset`) into `tile`.
#[allow(clippy::too_many_arguments)]
fn output_tile(
    ka: usize,
    kb: usize,
    j0: usize,
    offset: usize,
    xs: &Split,
    h: &Split,
    parts: usize,
    tile: &mut [f32],
) {
    let nk = kb - ka;
    let mut y = Split::zeros(nk);
    mac_tile(ka, kb, j0, xs, h, parts, &mut y);
    let inverse = &plans().inverse;
    let mut freq = vec![Complex::new(0.0f32, 0.0); BINS];
    let mut time = vec![0.0f32; FFT_SIZE];
    let mut scratch = inverse.make_scratch_vec();
    let mut written = 0;
    for (i, k) in (ka..kb).enumerate() {
        for ((c, r), m) in freq
            .iter_mut()
            .zip(&y.re[i * BINS..])
            .zip(&y.im[i * BINS..])
        {
            *c = Complex::new(*r, *m);
        }
        // DC and Nyquist imaginary parts are exactly zero (products of zeros), so the
        // inverse cannot reject its input; sizes match the plan.
        inverse
            .process_with_scratch(&mut freq, &mut time, &mut scratch)
            .expect("inverse FFT input");
        let block_start = k * BLOCK_FRAMES;
        let skip = offset.saturating_sub(block_start);
        let take = (BLOCK_FRAMES - skip).min(tile.len() - written);
        tile[written..written + take]
            .copy_from_slice(&time[BLOCK_FRAMES + skip..BLOCK_FRAMES + skip + take]);
        written += take;
    }
}

/// Y_k += X_{k-p} · H_p for p = 0 .. P-1 (ascending), k in `ka .. kb`, skipping k - p < 0.
fn mac_tile(ka: usize, kb: usize, j0: usize, xs: &Split, h: &Split, parts: usize, y: &mut Split) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU supports AVX (checked just above).
        unsafe { mac_tile_avx(ka, kb, j0, xs, h, parts, y) };
        return;
    }
    mac_tile_generic(ka, kb, j0, xs, h, parts, y);
}

/// [`mac_tile_generic`] compiled for AVX (8 lanes; no FMA, so identical results).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn mac_tile_avx(
    ka: usize,
    kb: usize,
    j0: usize,
    xs: &Split,
    h: &Split,
    parts: usize,
    y: &mut Split,
) {
    mac_tile_generic(ka, kb, j0, xs, h, parts, y);
}

#[inline(always)]
fn mac_tile_generic(
    ka: usize,
    kb: usize,
    j0: usize,
    xs: &Split,
    h: &Split,
    parts: usize,
    y: &mut Split,
) {
    for p in 0..parts {
        let hr = &h.re[p * BINS..(p + 1) * BINS];
        let hi = &h.im[p * BINS..(p + 1) * BINS];
        for k in ka.max(p)..kb {
            let j = k - p - j0;
            let xr = &xs.re[j * BINS..(j + 1) * BINS];
            let xi = &xs.im[j * BINS..(j + 1) * BINS];
            let i = k - ka;
            let yr = &mut y.re[i * BINS..(i + 1) * BINS];
            let yi = &mut y.im[i * BINS..(i + 1) * BINS];
            mac(yr, yi, xr, xi, hr, hi);
        }
    }
}

/// `y += a · b` over one spectrum, in the spec's exact operation order.
#[inline(always)]
fn mac(yr: &mut [f32], yi: &mut [f32], ar: &[f32], ai: &[f32], br: &[f32], bi: &[f32]) {
    let n = yr.len();
    let (yi, ar, ai, br, bi) = (&mut yi[..n], &ar[..n], &ai[..n], &br[..n], &bi[..n]);
    for t in 0..n {
        yr[t] += ar[t] * br[t] - ai[t] * bi[t];
        yi[t] += ar[t] * bi[t] + ai[t] * br[t];
    }
}
