//! The engine's complex multiply-accumulate Y_k = Σ_p X_{k−p} · H_p on the CPU, in the
//! chunk-major record layout of [`super::cpu`]: bins in chunks of [`LANES`], one record
//! `[re × LANES, im × LANES]` per (chunk, spectrum). The accumulators of a group of output
//! blocks (eight with AVX-512, two with AVX: as many as the registers hold) stay in
//! registers while p runs 0 .. P-1 in ascending order (each H_p record is loaded once for
//! the group); the arithmetic per (k, bin, p) is exactly the
//! spec's (see the parent module). On x86-64 the loop is compiled for AVX-512F or AVX when the CPU has them
//! (no FMA: results are bit-identical to the SSE2 build).

use super::BINS;
use crate::core::arith::madd;

/// Bins per chunk of the chunk-major layout (one AVX-512 register, two AVX registers).
pub const LANES: usize = 16;

/// Chunks per spectrum (the last one zero-padded past bin N/2).
pub(super) const CHUNKS: usize = BINS.div_ceil(LANES);

/// Floats per record: `[re × LANES, im × LANES]`.
pub(super) const REC: usize = 2 * LANES;

/// One chunk of one spectrum: `[re × LANES, im × LANES]`.
pub(super) type Record = [f32; REC];

/// Chunk `c` of `spectrum` (`BINS` bins) as a record, zero past bin N/2.
#[inline(always)]
pub(super) fn record(spectrum: &[[f32; 2]], c: usize) -> Record {
    let mut rec = [0.0; REC];
    if let Some(s) = spectrum.get(c * LANES..(c + 1) * LANES) {
        // a whole chunk: a fixed-size deinterleave (no per-bin checks; it vectorises)
        let s: &[[f32; 2]; LANES] = s.try_into().expect("LANES bins");
        for t in 0..LANES {
            rec[t] = s[t][0];
            rec[LANES + t] = s[t][1];
        }
        return rec;
    }
    for t in 0..LANES {
        let v = spectrum.get(c * LANES + t).copied().unwrap_or_default();
        rec[t] = v[0];
        rec[LANES + t] = v[1];
    }
    rec
}

/// Writes record `rec` of chunk `c` back into `spectrum` (bins past N/2 dropped).
#[inline(always)]
pub(super) fn unrecord(rec: &Record, spectrum: &mut [[f32; 2]], c: usize) {
    if (c + 1) * LANES <= BINS.min(spectrum.len()) {
        // a whole chunk: a fixed-size interleave (no per-bin checks)
        let s: &mut [[f32; 2]; LANES] = (&mut spectrum[c * LANES..(c + 1) * LANES])
            .try_into()
            .expect("LANES bins");
        for t in 0..LANES {
            s[t] = [rec[t], rec[LANES + t]];
        }
        return;
    }
    for t in 0..LANES.min(BINS - c * LANES) {
        spectrum[c * LANES + t] = [rec[t], rec[LANES + t]];
    }
}

/// For one chunk of bins: `y[i]` = Y_{ka+i} = Σ_{p ascending, ka+i−p >= 0} X_{ka+i−p} · H_p,
/// for output blocks `ka .. ka + y.len()`, where `xs[j − j0]` is the record of X_j and
/// `hs[p]` that of H_p (`hs.len()` = P). Dispatched to the widest vector unit available.
pub(super) fn mac_tile(ka: usize, j0: usize, xs: &[Record], hs: &[Record], y: &mut [Record]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F (checked just above).
            return unsafe { mac_tile_avx512(ka, j0, xs, hs, y) };
        }
        if std::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU supports AVX (checked just above).
            return unsafe { mac_tile_avx(ka, j0, xs, hs, y) };
        }
    }
    mac_tile_generic(ka, j0, xs, hs, y);
}

/// [`mac_tile_generic`] compiled for AVX-512F (no FMA: identical results).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn mac_tile_avx512(ka: usize, j0: usize, xs: &[Record], hs: &[Record], y: &mut [Record]) {
    mac_tile_generic(ka, j0, xs, hs, y);
}

/// The multiply-accumulate in AVX registers (no FMA: identical results), four output blocks
/// at a time, each record as two halves of eight bins: a half's eight accumulators (re, im
/// of four blocks) and H_p's half stay in registers while p runs, X read from memory; a
/// whole record per block (sixteen accumulators for two blocks) spilled one to the stack
/// on every p. With the FMA twins the generic loop runs (its `madd` fuses).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
fn mac_tile_avx(ka: usize, j0: usize, xs: &[Record], hs: &[Record], y: &mut [Record]) {
    if cfg!(feature = "fma-twins") {
        return mac_tile_generic(ka, j0, xs, hs, y);
    }
    let mut i = 0;
    while i + 4 <= y.len() {
        for half in 0..2 {
            // SAFETY: AVX is enabled on this function; the records hold REC floats
            unsafe { mac_half_avx::<4>(ka + i, j0, xs, hs, &mut y[i..i + 4], half) };
        }
        i += 4;
    }
    while i < y.len() {
        for half in 0..2 {
            // SAFETY: as above
            unsafe { mac_half_avx::<1>(ka + i, j0, xs, hs, &mut y[i..i + 1], half) };
        }
        i += 1;
    }
}

/// [`mac_blocks`] on bins `8·half .. 8·half + 8` of every record, in AVX registers: for
/// each block, `re = (re + x.re·h.re) − x.im·h.im`, `im = (im + x.re·h.im) + x.im·h.re`
/// over p ascending (the same operations as [`cmac`], the same order).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn mac_half_avx<const G: usize>(
    k: usize,
    j0: usize,
    xs: &[Record],
    hs: &[Record],
    y: &mut [Record],
    half: usize,
) {
    use std::arch::x86_64::*;
    const W: usize = LANES / 2;
    let (ro, io) = (half * W, LANES + half * W);
    let parts = hs.len();
    let mut re = [_mm256_setzero_ps(); G];
    let mut im = [_mm256_setzero_ps(); G];
    #[inline(always)]
    unsafe fn step(
        re: &mut __m256,
        im: &mut __m256,
        x: &Record,
        hr: __m256,
        hi: __m256,
        ro: usize,
        io: usize,
    ) {
        let xr = _mm256_loadu_ps(x.as_ptr().add(ro));
        let xi = _mm256_loadu_ps(x.as_ptr().add(io));
        *re = _mm256_sub_ps(
            _mm256_add_ps(*re, _mm256_mul_ps(xr, hr)),
            _mm256_mul_ps(xi, hi),
        );
        *im = _mm256_add_ps(
            _mm256_add_ps(*im, _mm256_mul_ps(xr, hi)),
            _mm256_mul_ps(xi, hr),
        );
    }
    // p = 0 .. min(P-1, k): all G blocks
    for (p, hp) in hs.iter().enumerate().take(k.min(parts - 1) + 1) {
        let (hr, hi) = (
            _mm256_loadu_ps(hp.as_ptr().add(ro)),
            _mm256_loadu_ps(hp.as_ptr().add(io)),
        );
        // X_{k−p} .. X_{k−p+G−1}: one bounds check per p
        let xw: &[Record; G] = xs[k - p - j0..][..G].try_into().expect("G records");
        for g in 0..G {
            step(&mut re[g], &mut im[g], &xw[g], hr, hi, ro, io);
        }
    }
    // p = k + 1 .. k + G - 1 (only while p < P): blocks g >= p - k
    for p in k + 1..(k + G).min(parts) {
        let hp = &hs[p];
        let (hr, hi) = (
            _mm256_loadu_ps(hp.as_ptr().add(ro)),
            _mm256_loadu_ps(hp.as_ptr().add(io)),
        );
        for g in p - k..G {
            step(&mut re[g], &mut im[g], &xs[k + g - p - j0], hr, hi, ro, io);
        }
    }
    for g in 0..G {
        _mm256_storeu_ps(y[g].as_mut_ptr().add(ro), re[g]);
        _mm256_storeu_ps(y[g].as_mut_ptr().add(io), im[g]);
    }
}

#[inline(always)]
fn mac_tile_generic(ka: usize, j0: usize, xs: &[Record], hs: &[Record], y: &mut [Record]) {
    let mut i = 0;
    while i + 8 <= y.len() {
        mac_blocks::<8>(ka + i, j0, xs, hs, &mut y[i..i + 8]);
        i += 8;
    }
    while i + 4 <= y.len() {
        mac_blocks::<4>(ka + i, j0, xs, hs, &mut y[i..i + 4]);
        i += 4;
    }
    while i < y.len() {
        mac_blocks::<1>(ka + i, j0, xs, hs, &mut y[i..i + 1]);
        i += 1;
    }
}

/// Blocks `k .. k + G`: for p ascending, every block with k + g − p >= 0 adds
/// X_{k+g−p} · H_p (H_p loaded once for all G accumulators).
#[inline(always)]
fn mac_blocks<const G: usize>(k: usize, j0: usize, xs: &[Record], hs: &[Record], y: &mut [Record]) {
    let parts = hs.len();
    let mut acc = [[0.0f32; REC]; G];
    // p = 0 .. min(P-1, k): all G blocks
    for (p, hp) in hs.iter().enumerate().take(k.min(parts - 1) + 1) {
        for (g, a) in acc.iter_mut().enumerate() {
            cmac(a, &xs[k + g - p - j0], hp);
        }
    }
    // p = k + 1 .. k + G - 1 (only while p < P): blocks g >= p - k (then k < P - 1, j0 = 0)
    for p in k + 1..(k + G).min(parts) {
        for (g, a) in acc.iter_mut().enumerate().skip(p - k) {
            cmac(a, &xs[k + g - p - j0], &hs[p]);
        }
    }
    y.copy_from_slice(&acc);
}

/// `acc += x · h` on one record, in `convolve.wgsl`'s exact operation order:
/// `re = (re + x.re·h.re) − x.im·h.im`, `im = (im + x.re·h.im) + x.im·h.re` (accumulator
/// first: the order llvmpipe's compiler gave the spec's `re += x.re·h.re − x.im·h.im`).
#[inline(always)]
fn cmac(acc: &mut Record, x: &Record, h: &Record) {
    for t in 0..LANES {
        acc[t] = madd(-x[LANES + t], h[LANES + t], madd(x[t], h[t], acc[t]));
        acc[LANES + t] = madd(x[LANES + t], h[t], madd(x[t], h[LANES + t], acc[LANES + t]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AVX-512, AVX and baseline builds of the multiply-accumulate give the same bits,
    /// and the baseline equals the spec's plain loop.
    #[test]
    fn vector_paths_are_bit_identical() {
        let mut s = 1u32;
        let mut rnd = || {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        let (parts, n, ka, kb) = (7, 20, 3, 16);
        let xs: Vec<Record> = (0..n).map(|_| std::array::from_fn(|_| rnd())).collect();
        let hs: Vec<Record> = (0..parts).map(|_| std::array::from_fn(|_| rnd())).collect();
        let run = |f: &dyn Fn(&mut [Record])| {
            let mut y = vec![[0.0f32; REC]; kb - ka];
            f(&mut y);
            y
        };
        let bits = |y: &[Record]| -> Vec<u32> { y.iter().flatten().map(|v| v.to_bits()).collect() };
        let base = run(&|y| mac_tile_generic(ka, 0, &xs, &hs, y));
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx") {
                // SAFETY: AVX checked.
                let v = run(&|y| unsafe { mac_tile_avx(ka, 0, &xs, &hs, y) });
                assert_eq!(bits(&v), bits(&base));
            }
            if std::is_x86_feature_detected!("avx512f") {
                // SAFETY: AVX-512F checked.
                let v = run(&|y| unsafe { mac_tile_avx512(ka, 0, &xs, &hs, y) });
                assert_eq!(bits(&v), bits(&base));
            }
        }
        // a window of the spectra (j0 > 0; blocks from k = j0 + P - 1 on) gives the same bits
        let j0 = 2;
        let kw = j0 + parts - 1;
        let mut shifted = vec![[0.0f32; REC]; kb - kw];
        mac_tile_generic(kw, j0, &xs[j0..], &hs, &mut shifted);
        assert_eq!(bits(&shifted), bits(&base[kw - ka..]));
        for k in ka..kb {
            for t in 0..LANES {
                let (mut re, mut im) = (0.0f32, 0.0f32);
                for p in 0..parts.min(k + 1) {
                    let (x, hp) = (&xs[k - p], &hs[p]);
                    re = madd(-x[LANES + t], hp[LANES + t], madd(x[t], hp[t], re));
                    im = madd(x[LANES + t], hp[t], madd(x[t], hp[LANES + t], im));
                }
                let got = base[k - ka];
                assert_eq!(
                    (got[t].to_bits(), got[LANES + t].to_bits()),
                    (re.to_bits(), im.to_bits()),
                    "k {k} lane {t}"
                );
            }
        }
    }
}
