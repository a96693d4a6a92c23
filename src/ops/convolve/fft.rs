//! CPU twin of `shaders/fft.wgsl`: the same real FFT, operation for operation, so that the
//! CPU convolution engine rounds exactly like the GPU one.
//!
//! Forward (n real points → n/2 + 1 bins) and unnormalised inverse, both as in the shader:
//! the n real samples are packed as n/2 complex points `z[i] = (x[2i], x[2i+1])`, a
//! radix-2 Stockham FFT of n/2 points runs with the same stage order, the same index
//! arithmetic and the same butterfly expressions (`lo = a + c`, `hi = (a − c)·w` with
//! `cmul(a, b) = (a.x·b.x − a.y·b.y, a.x·b.y + a.y·b.x)`, no fused multiply-add), then the
//! real-signal split (forward) or its inverse merge (inverse, before the Stockham). The
//! twiddles are the shader's table, [`twiddles`] (`exp(−2πi j/n)`, `j < n/2`, computed in
//! f64 and rounded to f32; `gpu::fft` uploads this very table).
//!
//! Speed: [`LANES`] independent transforms run together, data laid out `[point][lane]`, so
//! every butterfly is one vector operation across lanes (no shuffles); the loops are compiled
//! for AVX-512F or AVX when the CPU has them (no FMA: the same bits as the baseline build).
//! Frames and spectra move in and out of that layout in 8×8 blocks (`convolve::transpose`:
//! transposed in AVX registers on the AVX build). Two Stockham stages run as one pass over
//! memory where they can (the same butterflies, the stage between them held in registers).
//! [`Scratch`] holds all buffers: no allocation per transform.

use super::transpose;
use crate::core::arith::madd;
use crate::error::Error;

/// Transforms processed together (one AVX register of f32 per butterfly operand: a tile of
/// this many 4096-point transforms keeps its buffers within the core's L2 cache).
pub const LANES: usize = transpose::N;

/// Smallest supported size (the layout moves take four points, eight values, a block).
pub const MIN_SIZE: usize = transpose::N;

type Lanes = [f32; LANES];

/// `exp(-2πi j / n)` for `j < n/2`, computed in f64, rounded to f32: the twiddle table of
/// `shaders/fft.wgsl` (uploaded unchanged by `gpu::fft`).
pub fn twiddles(n: usize) -> Vec<[f32; 2]> {
    (0..n / 2)
        .map(|j| {
            let a = -2.0 * std::f64::consts::PI * j as f64 / n as f64;
            [a.cos() as f32, a.sin() as f32]
        })
        .collect()
}

/// A planned real FFT of `n` points (power of two >= [`MIN_SIZE`]).
#[derive(Clone, Debug)]
pub struct RealFft {
    n: usize,
    tw: Vec<[f32; 2]>,
}

/// Working memory of [`RealFft`]: two ping-pong buffers of n/2 complex points × [`LANES`]
/// transforms, split into real and imaginary planes, in one allocation: re₀, im₀, re₁, im₁,
/// [`PLANE_GAP`] lane vectors apart.
pub struct Scratch {
    buf: Vec<Lanes>,
    h: usize,
}

/// Lane vectors between two planes of [`Scratch`] (288 bytes): planes of a power-of-two
/// size would otherwise start at the same address modulo 4 KiB, and a Stockham pass's loads
/// then wait on its stores to unrelated addresses (the CPU matches them by their low 12
/// bits: "4K aliasing"); measured on the development VM, 4096 points: 20 % of a transform.
const PLANE_GAP: usize = 9;

impl Scratch {
    fn new(h: usize) -> Scratch {
        Scratch {
            buf: vec![[0.0; LANES]; 4 * h + 3 * PLANE_GAP],
            h,
        }
    }

    /// The four planes: re₀, im₀, re₁, im₁.
    fn planes(&mut self) -> [&mut [Lanes]; 4] {
        let (h, g) = (self.h, PLANE_GAP);
        let (a, rest) = self.buf.split_at_mut(h + g);
        let (b, rest) = rest.split_at_mut(h + g);
        let (c, d) = rest.split_at_mut(h + g);
        [&mut a[..h], &mut b[..h], &mut c[..h], &mut d[..h]]
    }

    /// Buffer `k`'s real and imaginary planes.
    fn buffer(&mut self, k: usize) -> (&mut [Lanes], &mut [Lanes]) {
        let [r0, i0, r1, i1] = self.planes();
        if k == 0 {
            (r0, i0)
        } else {
            (r1, i1)
        }
    }
}

impl RealFft {
    /// Plans size `n`; fails unless `n` is a power of two >= [`MIN_SIZE`].
    pub fn new(n: usize) -> Result<RealFft, Error> {
        if !n.is_power_of_two() || n < MIN_SIZE {
            return Err(Error::Gpu {
                reason: format!("FFT size {n} unsupported (power of two >= {MIN_SIZE})"),
                retryable: false,
            });
        }
        Ok(RealFft { n, tw: twiddles(n) })
    }

    /// Real points per transform.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Always false (a plan has at least [`MIN_SIZE`] points).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Complex bins per transform (`n/2 + 1`).
    pub fn bins(&self) -> usize {
        self.n / 2 + 1
    }

    /// Working memory for this size (reusable across calls).
    pub fn make_scratch(&self) -> Scratch {
        Scratch::new(self.n / 2)
    }

    /// Forward transforms of `count = time.len() / n` frames (`count <= LANES`): frame `t`
    /// is `time[t·n .. (t+1)·n]`, its bins go to `spectra[t·bins .. (t+1)·bins]`.
    pub fn forward(&self, time: &[f32], spectra: &mut [[f32; 2]], scratch: &mut Scratch) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU supports AVX-512F (checked just above).
                return unsafe { self.forward_avx512(time, spectra, scratch) };
            }
            if std::is_x86_feature_detected!("avx") {
                // SAFETY: the CPU supports AVX (checked just above).
                return unsafe { self.forward_avx(time, spectra, scratch) };
            }
        }
        self.forward_generic(time, spectra, scratch, false)
    }

    /// Unnormalised inverse transforms of `count = spectra.len() / bins` spectra
    /// (`count <= LANES`) into `time[t·n .. (t+1)·n]`. The imaginary parts of the DC and
    /// Nyquist bins are ignored (taken as 0), as in the shader.
    pub fn inverse(&self, spectra: &[[f32; 2]], time: &mut [f32], scratch: &mut Scratch) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU supports AVX-512F (checked just above).
                return unsafe { self.inverse_avx512(spectra, time, scratch) };
            }
            if std::is_x86_feature_detected!("avx") {
                // SAFETY: the CPU supports AVX (checked just above).
                return unsafe { self.inverse_avx(spectra, time, scratch) };
            }
        }
        self.inverse_generic(spectra, time, scratch, false)
    }

    /// Convenience (tests): forward transform of one frame of `n` samples.
    pub fn rfft(&self, frame: &[f32]) -> Vec<[f32; 2]> {
        let mut out = vec![[0.0; 2]; self.bins()];
        self.forward(&frame[..self.n], &mut out, &mut self.make_scratch());
        out
    }

    /// Convenience (tests): unnormalised inverse transform of one spectrum of `n/2 + 1` bins.
    pub fn irfft(&self, spectrum: &[[f32; 2]]) -> Vec<f32> {
        let mut out = vec![0.0; self.n];
        self.inverse(&spectrum[..self.bins()], &mut out, &mut self.make_scratch());
        out
    }

    /// [`Self::forward_generic`] compiled for AVX-512F (no FMA: identical results).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn forward_avx512(&self, time: &[f32], spectra: &mut [[f32; 2]], s: &mut Scratch) {
        self.forward_generic(time, spectra, s, true)
    }

    /// [`Self::forward_generic`] compiled for AVX (no FMA: identical results), its layout
    /// moves AVX transposes.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx")]
    fn forward_avx(&self, time: &[f32], spectra: &mut [[f32; 2]], s: &mut Scratch) {
        self.forward_generic(time, spectra, s, true)
    }

    /// [`Self::inverse_generic`] compiled for AVX-512F (no FMA: identical results).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn inverse_avx512(&self, spectra: &[[f32; 2]], time: &mut [f32], s: &mut Scratch) {
        self.inverse_generic(spectra, time, s, true)
    }

    /// [`Self::inverse_generic`] compiled for AVX (no FMA: identical results), its layout
    /// moves AVX transposes.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx")]
    fn inverse_avx(&self, spectra: &[[f32; 2]], time: &mut [f32], s: &mut Scratch) {
        self.inverse_generic(spectra, time, s, true)
    }

    /// The forward transforms; `avx`: the layout moves as AVX transposes (only where the
    /// CPU has AVX).
    #[inline(always)]
    fn forward_generic(&self, time: &[f32], spectra: &mut [[f32; 2]], s: &mut Scratch, avx: bool) {
        let (n, h, bins) = (self.n, self.n / 2, self.bins());
        let count = time.len() / n;
        assert!(
            count <= LANES && spectra.len() >= count * bins,
            "forward batch shape"
        );
        // z[i] = (x[2i], x[2i+1]); unused lanes are zero; four points (eight values of each
        // frame) a block
        let (re, im) = s.buffer(0);
        for i in (0..h).step_by(4) {
            let b = transpose::load(time, n, 2 * i, count, avx);
            for j in 0..4 {
                re[i + j] = b[2 * j];
                im[i + j] = b[2 * j + 1];
            }
        }
        let o = self.stockham(s, false);
        let (zr, zi) = s.buffer(o);
        let (zr, zi) = (&*zr, &*zi);
        let tw = &self.tw;
        for l in 0..count {
            let spec = &mut spectra[l * bins..(l + 1) * bins];
            let (z0r, z0i) = (zr[0][l], zi[0][l]);
            spec[0] = [z0r + z0i, 0.0];
            spec[h] = [z0r - z0i, 0.0];
        }
        // bins 1 .. h: four a block (stored transposed), then the last three one at a time
        let flat = spectra.as_flattened_mut();
        let mut k = 1;
        while k + 4 <= h {
            let mut b = [[0.0f32; LANES]; 8];
            for j in 0..4 {
                (b[2 * j], b[2 * j + 1]) = split_bin(zr, zi, k + j, h, tw[k + j]);
            }
            transpose::store(&b, flat, 2 * bins, 2 * k, count, avx);
            k += 4;
        }
        for k in k..h {
            let (xr, xi) = split_bin(zr, zi, k, h, tw[k]);
            for l in 0..count {
                spectra[l * bins + k] = [xr[l], xi[l]];
            }
        }
    }

    /// The inverse transforms; `avx` as in [`Self::forward_generic`].
    #[inline(always)]
    fn inverse_generic(&self, spectra: &[[f32; 2]], time: &mut [f32], s: &mut Scratch, avx: bool) {
        let (n, h, bins) = (self.n, self.n / 2, self.bins());
        let count = spectra.len() / bins;
        assert!(
            count <= LANES && time.len() >= count * n,
            "inverse batch shape"
        );
        let tw = &self.tw;
        // X[k .. k+4] and X[h−k−3 ..= h−k] of every transform, transposed
        let flat = spectra.as_flattened();
        let (re, im) = s.buffer(0);
        for k in (0..h).step_by(4) {
            let a = transpose::load(flat, 2 * bins, 2 * k, count, avx);
            let b = transpose::load(flat, 2 * bins, 2 * (h - k - 3), count, avx);
            for j in 0..4 {
                let (ar, ai) = (&a[2 * j], &a[2 * j + 1]);
                let (br, bi) = (&b[2 * (3 - j)], &b[2 * (3 - j) + 1]);
                (re[k + j], im[k + j]) = merge_bin((ar, ai), (br, bi), k + j == 0, tw[k + j]);
            }
        }
        let o = self.stockham(s, true);
        let (zr, zi) = s.buffer(o);
        let (zr, zi) = (&*zr, &*zi);
        for i in (0..h).step_by(4) {
            let mut b = [[0.0f32; LANES]; 8];
            for j in 0..4 {
                b[2 * j] = zr[i + j];
                b[2 * j + 1] = zi[i + j];
            }
            transpose::store(&b, time, n, 2 * i, count, avx);
        }
    }

    /// The shader's `stockham` over buffer 0 of `s`, ping-ponging between the two buffers
    /// (the shader's barrier between reads and writes); returns the buffer holding the
    /// result. Two consecutive stages run as one pass where they can ([`fused_stages`]:
    /// the same butterflies on the same values, the stage between them kept in registers).
    #[inline(always)]
    fn stockham(&self, s: &mut Scratch, inverse: bool) -> usize {
        self.stockham_passes(s, inverse, true)
    }

    /// [`Self::stockham`], with `fuse` false one stage per pass (the shader's loop as
    /// written; the tests compare the two).
    #[inline(always)]
    fn stockham_passes(&self, s: &mut Scratch, inverse: bool, fuse: bool) -> usize {
        let h = self.n / 2;
        // the passes in AVX registers (`fuse` only: the one-pass-per-stage loop stays the
        // plain reference the tests compare with)
        #[cfg(target_arch = "x86_64")]
        let avx = fuse && !cfg!(feature = "fma-twins") && std::is_x86_feature_detected!("avx");
        #[cfg(not(target_arch = "x86_64"))]
        let avx = false;
        let (mut n, mut st, mut src) = (h, 1usize, 0usize);
        let [re0, im0, re1, im1] = s.planes();
        while n > 1 {
            let m = n / 2;
            let (sr, si, dr, di) = if src == 0 {
                (&*re0, &*im0, &mut *re1, &mut *im1)
            } else {
                (&*re1, &*im1, &mut *re0, &mut *im0)
            };
            if fuse && m > 1 {
                if avx {
                    // SAFETY: `avx` is set only where the CPU supports AVX
                    #[cfg(target_arch = "x86_64")]
                    unsafe {
                        fused_stages_avx(&self.tw, inverse, m, st, (sr, si), (dr, di))
                    };
                } else {
                    fused_stages(&self.tw, inverse, m, st, (sr, si), (dr, di));
                }
                src ^= 1;
                n = m / 2;
                st *= 4;
                continue;
            }
            if avx {
                // SAFETY: `avx` is set only where the CPU supports AVX
                #[cfg(target_arch = "x86_64")]
                unsafe {
                    stage_avx(&self.tw, inverse, m, st, (sr, si), (dr, di))
                };
                src ^= 1;
                n = m;
                st *= 2;
                continue;
            }
            // butterfly b = p·st + q, p < m, q < st (m·st = h/2)
            for p in 0..m {
                let w = twiddle(&self.tw, 2 * p * st, inverse);
                for q in 0..st {
                    let (ia, ic) = (q + st * p, q + st * (p + m));
                    let (ol, oh) = (q + st * 2 * p, q + st * (2 * p + 1));
                    let [lr, li, hr, hi] = butterfly((&sr[ia], &si[ia]), (&sr[ic], &si[ic]), w);
                    dr[ol] = lr;
                    di[ol] = li;
                    dr[oh] = hr;
                    di[oh] = hi;
                }
            }
            src ^= 1;
            n = m;
            st *= 2;
        }
        src
    }
}

/// Forward real-signal split of bin `k` (`0 < k < h`) on every lane: `a = z[k]`,
/// `b = conj(z[h − k])`, `e = (a + b)·0.5`, `d = (a − b)·0.5`, `o = d / i = (d.y, −d.x)`,
/// `x = e + cmul(w, o)`.
#[inline(always)]
fn split_bin(zr: &[Lanes], zi: &[Lanes], k: usize, h: usize, w: [f32; 2]) -> (Lanes, Lanes) {
    let (mut xr, mut xi) = ([0.0f32; LANES], [0.0f32; LANES]);
    for l in 0..LANES {
        let (ar, ai) = (zr[k][l], zi[k][l]);
        let (br, bi) = (zr[h - k][l], -zi[h - k][l]);
        let (er, ei) = ((ar + br) * 0.5, (ai + bi) * 0.5);
        let (dr, di) = ((ar - br) * 0.5, (ai - bi) * 0.5);
        let (or, oi) = (di, -dr);
        let (cr, ci) = (madd(w[0], or, -(w[1] * oi)), madd(w[0], oi, w[1] * or));
        xr[l] = er + cr;
        xi[l] = ei + ci;
    }
    (xr, xi)
}

/// Inverse merge of bin `k` on every lane, from `a = X[k]` and `X[h − k]` (`b` its
/// conjugate; both imaginary parts zeroed at `dc`, k = 0) and the twiddle `w` of `k`:
/// `x = a − b`, `z[k] = (a + b) + i·cmul(x, conj(w))` in the shader's order,
/// `z.x = s.x + −(x.x·w̄.y + x.y·w̄.x)`, `z.y = (s.y + x.x·w̄.x) − x.y·w̄.y`.
#[inline(always)]
fn merge_bin(
    (ar, ai): (&Lanes, &Lanes),
    (br, bi): (&Lanes, &Lanes),
    dc: bool,
    w: [f32; 2],
) -> (Lanes, Lanes) {
    // conj(twiddles[k])
    let (wr, wi) = (w[0], -w[1]);
    let (mut zr, mut zi) = ([0.0f32; LANES], [0.0f32; LANES]);
    for l in 0..LANES {
        let (ar, br) = (ar[l], br[l]);
        let (ai, bi) = if dc { (0.0, 0.0) } else { (ai[l], -bi[l]) };
        let (xr, xi) = (ar - br, ai - bi);
        let (sr, si) = (ar + br, ai + bi);
        zr[l] = sr + -madd(xr, wi, xi * wr);
        zi[l] = madd(-xi, wi, madd(xr, wr, si));
    }
    (zr, zi)
}

/// A pair of radix-2 butterflies' twiddle `w` (conjugated for the inverse).
#[inline(always)]
fn twiddle(tw: &[[f32; 2]], j: usize, inverse: bool) -> (f32, f32) {
    let w = tw[j];
    if inverse {
        (w[0], -w[1])
    } else {
        (w[0], w[1])
    }
}

/// The shader's butterfly on lanes: `lo = a + c`, `hi = (a − c)·w`.
#[inline(always)]
fn butterfly(
    (ar, ai): (&Lanes, &Lanes),
    (cr, ci): (&Lanes, &Lanes),
    (wr, wi): (f32, f32),
) -> [Lanes; 4] {
    let (mut lr, mut li, mut hr, mut hi) = ([0.0; LANES], [0.0; LANES], [0.0; LANES], [0.0; LANES]);
    for l in 0..LANES {
        lr[l] = ar[l] + cr[l];
        li[l] = ai[l] + ci[l];
        let (xr, xi) = (ar[l] - cr[l], ai[l] - ci[l]);
        hr[l] = madd(xr, wr, -(xi * wi));
        hi[l] = madd(xr, wi, xi * wr);
    }
    [lr, li, hr, hi]
}

/// Two consecutive Stockham stages in one pass: the stage of `m` butterfly rows and stride
/// `st` (`m` even), then the stage of `m/2` rows and stride `2·st`. Butterfly `(p, q)` of
/// the first stage writes points `q + st·2p` and `q + st·(2p + 1)`; the second stage's
/// butterfly `(p', q + st·b)` reads points `q + st·(2p' + b)` and `q + st·(2p' + m + b)`,
/// which the first stage's butterflies `(p', q)` and `(p' + m/2, q)` wrote. So for each
/// `p' < m/2`, `q < st` those two first-stage butterflies and the two second-stage ones
/// that read them run together, with the same operands and twiddles as the two stages
/// one after the other: the same bits, with half the passes over memory.
#[inline(always)]
fn fused_stages(
    tw: &[[f32; 2]],
    inverse: bool,
    m: usize,
    st: usize,
    (sr, si): (&[Lanes], &[Lanes]),
    (dr, di): (&mut [Lanes], &mut [Lanes]),
) {
    let half = m / 2;
    let st2 = 2 * st;
    for p in 0..half {
        // first stage: rows p and p + m/2 (twiddles 2·p·st and 2·(p + m/2)·st);
        // second stage: row p (twiddle 2·p·st2)
        let w0 = twiddle(tw, 2 * p * st, inverse);
        let w1 = twiddle(tw, 2 * (p + half) * st, inverse);
        let w2 = twiddle(tw, 2 * p * st2, inverse);
        for q in 0..st {
            let at = |i: usize| (&sr[i], &si[i]);
            let [y0r, y0i, y1r, y1i] = butterfly(at(q + st * p), at(q + st * (p + m)), w0);
            let [y2r, y2i, y3r, y3i] =
                butterfly(at(q + st * (p + half)), at(q + st * (p + half + m)), w1);
            // second stage, b = 0: a = y0, c = y2; b = 1: a = y1, c = y3
            for (b, (a, c)) in [((&y0r, &y0i), (&y2r, &y2i)), ((&y1r, &y1i), (&y3r, &y3i))]
                .into_iter()
                .enumerate()
            {
                let q2 = q + st * b;
                let [lr, li, hr, hi] = butterfly(a, c, w2);
                let (ol, oh) = (q2 + st2 * 2 * p, q2 + st2 * (2 * p + 1));
                dr[ol] = lr;
                di[ol] = li;
                dr[oh] = hr;
                di[oh] = hi;
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
/// The shader's butterfly on AVX registers: lo = a + c, hi = (a − c)·w (`madd(x.r, w.r, −(x.i·w.i))`,
/// `madd(x.r, w.i, x.i·w.r)`, unfused)
macro_rules! bf {
    ($ar:expr, $ai:expr, $cr:expr, $ci:expr, $wr:expr, $wi:expr) => {{
        let (xr, xi) = (_mm256_sub_ps($ar, $cr), _mm256_sub_ps($ai, $ci));
        (
            _mm256_add_ps($ar, $cr),
            _mm256_add_ps($ai, $ci),
            _mm256_sub_ps(_mm256_mul_ps(xr, $wr), _mm256_mul_ps(xi, $wi)),
            _mm256_add_ps(_mm256_mul_ps(xr, $wi), _mm256_mul_ps(xi, $wr)),
        )
    }};
}

/// [`fused_stages`] in AVX registers (a lane vector is one register): the same butterflies
/// on the same operands in the same order, written out so the four intermediate points stay
/// in registers (the generic loop's arrays went through the stack).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn fused_stages_avx(
    tw: &[[f32; 2]],
    inverse: bool,
    m: usize,
    st: usize,
    (sr, si): (&[Lanes], &[Lanes]),
    (dr, di): (&mut [Lanes], &mut [Lanes]),
) {
    use std::arch::x86_64::*;
    let half = m / 2;
    let st2 = 2 * st;
    let len = sr.len();
    assert!(si.len() == len && dr.len() == len && di.len() == len && 2 * m * st <= len);
    let (sr, si) = (sr.as_ptr().cast::<f32>(), si.as_ptr().cast::<f32>());
    let (dr, di) = (dr.as_mut_ptr().cast::<f32>(), di.as_mut_ptr().cast::<f32>());
    let w = |j: usize| {
        let (r, i) = twiddle(tw, j, inverse);
        (_mm256_set1_ps(r), _mm256_set1_ps(i))
    };
    for p in 0..half {
        let (w0r, w0i) = w(2 * p * st);
        let (w1r, w1i) = w(2 * (p + half) * st);
        let (w2r, w2i) = w(2 * p * st2);
        let (a0, c0) = (st * p, st * (p + m));
        let (a1, c1) = (st * (p + half), st * (p + half + m));
        let (o0, o1) = (st2 * 2 * p, st2 * (2 * p + 1));
        for q in 0..st {
            // SAFETY: every index is below 2·m·st <= len (asserted), each a whole lane vector
            let ld = |b: *const f32, i: usize| _mm256_loadu_ps(b.add(LANES * (q + i)));
            let (y0r, y0i, y1r, y1i) =
                bf!(ld(sr, a0), ld(si, a0), ld(sr, c0), ld(si, c0), w0r, w0i);
            let (y2r, y2i, y3r, y3i) =
                bf!(ld(sr, a1), ld(si, a1), ld(sr, c1), ld(si, c1), w1r, w1i);
            let st_ = |b: *mut f32, i: usize, v: __m256| _mm256_storeu_ps(b.add(LANES * i), v);
            // second stage, b = 0: a = y0, c = y2 (points q); b = 1: a = y1, c = y3 (q + st)
            let (lr, li, hr, hi) = bf!(y0r, y0i, y2r, y2i, w2r, w2i);
            st_(dr, q + o0, lr);
            st_(di, q + o0, li);
            st_(dr, q + o1, hr);
            st_(di, q + o1, hi);
            let (lr, li, hr, hi) = bf!(y1r, y1i, y3r, y3i, w2r, w2i);
            st_(dr, q + st + o0, lr);
            st_(di, q + st + o0, li);
            st_(dr, q + st + o1, hr);
            st_(di, q + st + o1, hi);
        }
    }
}

/// One Stockham stage (`m` rows, stride `st`) in AVX registers: the generic loop's
/// butterflies, the same operations in the same order.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn stage_avx(
    tw: &[[f32; 2]],
    inverse: bool,
    m: usize,
    st: usize,
    (sr, si): (&[Lanes], &[Lanes]),
    (dr, di): (&mut [Lanes], &mut [Lanes]),
) {
    use std::arch::x86_64::*;
    let len = sr.len();
    assert!(si.len() == len && dr.len() == len && di.len() == len && 2 * m * st <= len);
    let (sr, si) = (sr.as_ptr().cast::<f32>(), si.as_ptr().cast::<f32>());
    let (dr, di) = (dr.as_mut_ptr().cast::<f32>(), di.as_mut_ptr().cast::<f32>());
    for p in 0..m {
        let (r, i) = twiddle(tw, 2 * p * st, inverse);
        let (wr, wi) = (_mm256_set1_ps(r), _mm256_set1_ps(i));
        for q in 0..st {
            // SAFETY: every index is below 2·m·st <= len (asserted), each a whole lane vector
            let ld = |b: *const f32, i: usize| _mm256_loadu_ps(b.add(LANES * i));
            let (ia, ic) = (q + st * p, q + st * (p + m));
            let (lr, li, hr, hi) = bf!(ld(sr, ia), ld(si, ia), ld(sr, ic), ld(si, ic), wr, wi);
            let (ol, oh) = (q + st * 2 * p, q + st * (2 * p + 1));
            _mm256_storeu_ps(dr.add(LANES * ol), lr);
            _mm256_storeu_ps(di.add(LANES * ol), li);
            _mm256_storeu_ps(dr.add(LANES * oh), hr);
            _mm256_storeu_ps(di.add(LANES * oh), hi);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two stages fused in one pass give the bits of the stages one per pass, forward and
    /// inverse, for every size from MIN_SIZE to 8192 points (odd and even stage counts).
    #[test]
    fn fused_stages_give_the_bits_of_one_stage_per_pass() {
        let mut seed = 3u32;
        let mut rnd = || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        for log in MIN_SIZE.ilog2()..=13 {
            let f = RealFft::new(1 << log).unwrap();
            for inverse in [false, true] {
                let mut a = f.make_scratch();
                let (re, im) = a.buffer(0);
                for v in re.iter_mut().chain(im.iter_mut()) {
                    *v = std::array::from_fn(|_| rnd());
                }
                let (re, im) = (re.to_vec(), im.to_vec());
                let mut b = f.make_scratch();
                let (bre, bim) = b.buffer(0);
                bre.copy_from_slice(&re);
                bim.copy_from_slice(&im);
                let (oa, ob) = (
                    f.stockham_passes(&mut a, inverse, true),
                    f.stockham_passes(&mut b, inverse, false),
                );
                let bits =
                    |v: &[Lanes]| v.iter().flatten().map(|x| x.to_bits()).collect::<Vec<_>>();
                let ((ar, ai), (br, bi)) = (a.buffer(oa), b.buffer(ob));
                assert_eq!(bits(ar), bits(br), "n = {}, inverse {inverse}: re", f.len());
                assert_eq!(bits(ai), bits(bi), "n = {}, inverse {inverse}: im", f.len());
            }
        }
    }
}
