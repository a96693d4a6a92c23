//! CPU twin of `shaders/convolve.wgsl`: uniformly partitioned overlap-save with rayon,
//! arithmetic exactly as in `notes/convolve-spec.md` (see the parent module). The forward and
//! inverse FFTs are [`super::fft`], the CPU twin of `shaders/fft.wgsl` (same twiddle table,
//! stages and butterflies), so on an adapter that does not fuse multiply-adds the CPU and GPU
//! engines give the same bits.
//!
//! Work is cut into segments of [`SEGMENT_BLOCKS`] output blocks (bounds memory on long
//! songs). Per segment, every input spectrum X_j it needs is computed once, in parallel.
//! Then tiles of [`TILE_BLOCKS`] output blocks are accumulated in parallel and inverse
//! transformed. For the multiply-accumulate the spectra are re-laid out chunk-major: bins
//! in chunks of [`LANES`], one record `[re × LANES, im × LANES]` per (chunk, spectrum), so
//! for one chunk all spectra are contiguous. The accumulators of four output blocks live in
//! registers while p runs 0 .. P-1 in ascending order (each H_p record is loaded once for
//! all four); the arithmetic per (k, bin, p) is exactly the spec's. On x86-64 the loop is
//! compiled for AVX-512F or AVX when the CPU has them (no FMA: results are bit-identical
//! to the SSE2 build).

use std::sync::OnceLock;

use rayon::prelude::*;

use super::fft::{self, RealFft};
use super::{full_len, Kernel, BINS, BLOCK_FRAMES, FFT_SIZE};

/// Output blocks per segment (~22 s at 48 kHz): the input spectra of one segment are held
/// in memory at once.
pub const SEGMENT_BLOCKS: usize = 1024;

/// Output blocks accumulated together by one task.
pub const TILE_BLOCKS: usize = 16;

/// Bins per chunk of the chunk-major layout (one AVX-512 register, two AVX registers).
pub const LANES: usize = 16;

/// Chunks per spectrum (the last one zero-padded past bin N/2).
const CHUNKS: usize = BINS.div_ceil(LANES);

/// Floats per record: `[re × LANES, im × LANES]`.
const REC: usize = 2 * LANES;

type Record = [f32; REC];

/// The engine's FFT plan (size [`FFT_SIZE`]).
fn plan() -> &'static RealFft {
    static PLAN: OnceLock<RealFft> = OnceLock::new();
    // FFT_SIZE is a power of two >= 4: planning cannot fail.
    PLAN.get_or_init(|| RealFft::new(FFT_SIZE).expect("FFT_SIZE is a supported size"))
}

/// Per-task working memory of [`output_tile`].
struct TileBufs {
    y: Vec<[f32; 2]>,
    time: Vec<f32>,
    fft: fft::Scratch,
}

/// Spectra in chunk-major layout: record `(chunk c, spectrum j)` at `c * n + j`.
struct Chunked {
    n: usize,
    recs: Vec<Record>,
}

impl Chunked {
    /// Re-lays out `n` spectra given as `spectrum(j)` (`BINS` bins each), chunks in parallel.
    fn build<'a>(
        n: usize,
        recs: &mut Vec<Record>,
        spectrum: impl Fn(usize) -> &'a [[f32; 2]] + Sync,
    ) {
        recs.clear();
        recs.resize(CHUNKS * n, [0.0; REC]);
        recs.par_chunks_mut(n.max(1))
            .enumerate()
            .for_each(|(c, chunk)| {
                for (j, rec) in chunk.iter_mut().enumerate() {
                    let s = spectrum(j);
                    for t in 0..LANES {
                        let v = s.get(c * LANES + t).copied().unwrap_or_default();
                        rec[t] = v[0];
                        rec[LANES + t] = v[1];
                    }
                }
            });
    }

    fn chunk(&self, c: usize) -> &[Record] {
        &self.recs[c * self.n..(c + 1) * self.n]
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
    let h_spectra = &kernel.spectra;
    let mut h = Chunked {
        n: parts,
        recs: Vec::new(),
    };
    Chunked::build(parts, &mut h.recs, |p| &h_spectra[p * BINS..(p + 1) * BINS]);
    let k_first = offset / BLOCK_FRAMES;
    let k_end = (end - 1) / BLOCK_FRAMES + 1;
    let mut xs = Chunked {
        n: 0,
        recs: Vec::new(),
    };
    let mut x_spectra = Vec::new();
    let mut out = &mut out[..end - offset];
    let mut seg = k_first;
    while seg < k_end {
        let seg_end = (seg + SEGMENT_BLOCKS).min(k_end);
        let j0 = (seg + 1).saturating_sub(parts);
        input_spectra(x, j0, seg_end, &mut x_spectra);
        xs.n = seg_end - j0;
        Chunked::build(xs.n, &mut xs.recs, |j| &x_spectra[j * BINS..(j + 1) * BINS]);
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
        tiles.into_par_iter().for_each_init(
            || TileBufs {
                y: Vec::new(),
                time: vec![0.0; fft::LANES * FFT_SIZE],
                fft: plan().make_scratch(),
            },
            |bufs, (ka, kb, tile)| output_tile(ka, kb, j0, offset, &xs, &h, tile, bufs),
        );
        seg = seg_end;
    }
}

/// Computes X_j for j in `j0 .. j1` into `spectra` (`BINS` per block, resized), in parallel
/// batches of [`fft::LANES`] transforms.
fn input_spectra(x: &[f32], j0: usize, j1: usize, spectra: &mut Vec<[f32; 2]>) {
    spectra.resize((j1 - j0) * BINS, [0.0; 2]);
    let fft = plan();
    spectra
        .par_chunks_mut(BINS * fft::LANES)
        .enumerate()
        .for_each_init(
            || (vec![0.0f32; FFT_SIZE * fft::LANES], fft.make_scratch()),
            |(time, scratch), (g, freq)| {
                let count = freq.len() / BINS;
                for (t, frame) in time.chunks_mut(FFT_SIZE).take(count).enumerate() {
                    // frame = x[(j-1)B .. (j+1)B], zeros outside 0 .. M
                    let j = j0 + g * fft::LANES + t;
                    let start = j as isize * BLOCK_FRAMES as isize - BLOCK_FRAMES as isize;
                    frame.fill(0.0);
                    let lo = start.max(0) as usize;
                    let hi = ((start + FFT_SIZE as isize).max(0) as usize).min(x.len());
                    if lo < hi {
                        let t0 = (lo as isize - start) as usize;
                        frame[t0..t0 + hi - lo].copy_from_slice(&x[lo..hi]);
                    }
                }
                fft.forward(&time[..count * FFT_SIZE], freq, scratch);
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
    xs: &Chunked,
    h: &Chunked,
    tile: &mut [f32],
    bufs: &mut TileBufs,
) {
    bufs.y.clear();
    bufs.y.resize((kb - ka) * BINS, [0.0; 2]);
    mac_tile(ka, kb, j0, xs, h, &mut bufs.y);
    let fft = plan();
    let mut written = 0;
    for (g, spectra) in bufs.y.chunks(BINS * fft::LANES).enumerate() {
        let count = spectra.len() / BINS;
        fft.inverse(spectra, &mut bufs.time[..count * FFT_SIZE], &mut bufs.fft);
        for (t, time) in bufs.time.chunks(FFT_SIZE).take(count).enumerate() {
            let k = ka + g * fft::LANES + t;
            let skip = offset.saturating_sub(k * BLOCK_FRAMES);
            let take = (BLOCK_FRAMES - skip).min(tile.len() - written);
            tile[written..written + take]
                .copy_from_slice(&time[BLOCK_FRAMES + skip..BLOCK_FRAMES + skip + take]);
            written += take;
        }
    }
}

/// Y_k = Σ_{p ascending, k-p >= 0} X_{k-p} · H_p for k in `ka .. kb`, into `y` (`BINS` per
/// block), dispatched to the widest vector unit available.
fn mac_tile(ka: usize, kb: usize, j0: usize, xs: &Chunked, h: &Chunked, y: &mut [[f32; 2]]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F (checked just above).
            return unsafe { mac_tile_avx512(ka, kb, j0, xs, h, y) };
        }
        if std::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU supports AVX (checked just above).
            return unsafe { mac_tile_avx(ka, kb, j0, xs, h, y) };
        }
    }
    mac_tile_generic(ka, kb, j0, xs, h, y);
}

/// [`mac_tile_generic`] compiled for AVX-512F (no FMA: identical results).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn mac_tile_avx512(ka: usize, kb: usize, j0: usize, xs: &Chunked, h: &Chunked, y: &mut [[f32; 2]]) {
    mac_tile_generic(ka, kb, j0, xs, h, y);
}

/// [`mac_tile_generic`] compiled for AVX (no FMA: identical results).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn mac_tile_avx(ka: usize, kb: usize, j0: usize, xs: &Chunked, h: &Chunked, y: &mut [[f32; 2]]) {
    mac_tile_generic(ka, kb, j0, xs, h, y);
}

#[inline(always)]
fn mac_tile_generic(
    ka: usize,
    kb: usize,
    j0: usize,
    xs: &Chunked,
    h: &Chunked,
    y: &mut [[f32; 2]],
) {
    for c in 0..CHUNKS {
        let mut k = ka;
        while k + 4 <= kb {
            mac_blocks::<4>(k, ka, j0, xs, h, y, c);
            k += 4;
        }
        while k < kb {
            mac_blocks::<1>(k, ka, j0, xs, h, y, c);
            k += 1;
        }
    }
}

/// Blocks `k .. k + G`, chunk `c`: for p ascending, every block with k + g - p >= 0 adds
/// X_{k+g-p} · H_p (H_p loaded once for all G accumulators).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn mac_blocks<const G: usize>(
    k: usize,
    ka: usize,
    j0: usize,
    xs: &Chunked,
    h: &Chunked,
    y: &mut [[f32; 2]],
    c: usize,
) {
    let (xc, hc) = (xs.chunk(c), h.chunk(c));
    let parts = h.n;
    let mut acc = [[0.0f32; REC]; G];
    // p = 0 .. min(P-1, k): all G blocks
    for p in 0..=(parts - 1).min(k) {
        let hp = &hc[p];
        for (g, a) in acc.iter_mut().enumerate() {
            cmac(a, &xc[k + g - p - j0], hp);
        }
    }
    // p = k + 1 .. k + G - 1 (only while p < P): blocks g >= p - k (then j0 = 0)
    for p in k + 1..(k + G).min(parts) {
        for (g, a) in acc.iter_mut().enumerate().skip(p - k) {
            cmac(a, &xc[k + g - p], &hc[p]);
        }
    }
    for (g, a) in acc.iter().enumerate() {
        store(a, &mut y[(k + g - ka) * BINS..], c);
    }
}

/// `acc += x · h` on one record, in `convolve.wgsl`'s exact operation order:
/// `re = (re + x.re·h.re) − x.im·h.im`, `im = (im + x.re·h.im) + x.im·h.re` (accumulator
/// first: the order llvmpipe's compiler gave the spec's `re += x.re·h.re − x.im·h.im`).
#[inline(always)]
fn cmac(acc: &mut Record, x: &Record, h: &Record) {
    for t in 0..LANES {
        acc[t] = (acc[t] + x[t] * h[t]) - x[LANES + t] * h[LANES + t];
        acc[LANES + t] = (acc[LANES + t] + x[t] * h[LANES + t]) + x[LANES + t] * h[t];
    }
}

/// Writes chunk `c` of an accumulator into a block's spectrum (bins past N/2 dropped).
#[inline(always)]
fn store(acc: &Record, spectrum: &mut [[f32; 2]], c: usize) {
    for t in 0..LANES.min(BINS - c * LANES) {
        spectrum[c * LANES + t] = [acc[t], acc[LANES + t]];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AVX-512, AVX and baseline builds of the multiply-accumulate give the same bits.
    #[test]
    fn vector_paths_are_bit_identical() {
        let mut s = 1u32;
        let mut rnd = || {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        let (parts, n, ka, kb) = (7, 20, 3, 16);
        let xs = Chunked {
            n,
            recs: (0..CHUNKS * n)
                .map(|_| std::array::from_fn(|_| rnd()))
                .collect(),
        };
        let h = Chunked {
            n: parts,
            recs: (0..CHUNKS * parts)
                .map(|_| std::array::from_fn(|_| rnd()))
                .collect(),
        };
        let run = |f: &dyn Fn(&mut [[f32; 2]])| {
            let mut y = vec![[0.0f32; 2]; (kb - ka) * BINS];
            f(&mut y);
            y
        };
        let base = run(&|y| mac_tile_generic(ka, kb, 0, &xs, &h, y));
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx") {
                // SAFETY: AVX checked.
                let v = run(&|y| unsafe { mac_tile_avx(ka, kb, 0, &xs, &h, y) });
                assert!(v
                    .iter()
                    .zip(&base)
                    .all(|(a, b)| a[0].to_bits() == b[0].to_bits()
                        && a[1].to_bits() == b[1].to_bits()));
            }
            if std::is_x86_feature_detected!("avx512f") {
                // SAFETY: AVX-512F checked.
                let v = run(&|y| unsafe { mac_tile_avx512(ka, kb, 0, &xs, &h, y) });
                assert!(v
                    .iter()
                    .zip(&base)
                    .all(|(a, b)| a[0].to_bits() == b[0].to_bits()
                        && a[1].to_bits() == b[1].to_bits()));
            }
        }
        // and the baseline equals the spec's plain loop: Y_k = Σ_p X_{k-p} H_p, p ascending
        for k in ka..kb {
            for bin in 0..BINS {
                let (c, t) = (bin / LANES, bin % LANES);
                let (mut re, mut im) = (0.0f32, 0.0f32);
                for p in 0..parts.min(k + 1) {
                    let (x, hp) = (&xs.recs[c * n + k - p], &h.recs[c * parts + p]);
                    re = (re + x[t] * hp[t]) - x[LANES + t] * hp[LANES + t];
                    im = (im + x[t] * hp[LANES + t]) + x[LANES + t] * hp[t];
                }
                let got = base[(k - ka) * BINS + bin];
                assert_eq!(
                    (got[0].to_bits(), got[1].to_bits()),
                    (re.to_bits(), im.to_bits()),
                    "k {k} bin {bin}"
                );
            }
        }
    }
}
