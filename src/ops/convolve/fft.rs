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
//! [`Scratch`] holds all buffers: no allocation per transform.

use crate::core::arith::madd;
use crate::error::Error;

/// Transforms processed together (one AVX-512 register of f32 per butterfly operand).
pub const LANES: usize = 16;

/// Smallest supported size (the Stockham needs at least one butterfly per stage).
pub const MIN_SIZE: usize = 4;

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
/// transforms, split into real and imaginary planes.
pub struct Scratch {
    re: [Vec<Lanes>; 2],
    im: [Vec<Lanes>; 2],
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
        let h = self.n / 2;
        Scratch {
            re: [vec![[0.0; LANES]; h], vec![[0.0; LANES]; h]],
            im: [vec![[0.0; LANES]; h], vec![[0.0; LANES]; h]],
        }
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
        self.forward_generic(time, spectra, scratch)
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
        self.inverse_generic(spectra, time, scratch)
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
        self.forward_generic(time, spectra, s)
    }

    /// [`Self::forward_generic`] compiled for AVX (no FMA: identical results).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx")]
    fn forward_avx(&self, time: &[f32], spectra: &mut [[f32; 2]], s: &mut Scratch) {
        self.forward_generic(time, spectra, s)
    }

    /// [`Self::inverse_generic`] compiled for AVX-512F (no FMA: identical results).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn inverse_avx512(&self, spectra: &[[f32; 2]], time: &mut [f32], s: &mut Scratch) {
        self.inverse_generic(spectra, time, s)
    }

    /// [`Self::inverse_generic`] compiled for AVX (no FMA: identical results).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx")]
    fn inverse_avx(&self, spectra: &[[f32; 2]], time: &mut [f32], s: &mut Scratch) {
        self.inverse_generic(spectra, time, s)
    }

    #[inline(always)]
    fn forward_generic(&self, time: &[f32], spectra: &mut [[f32; 2]], s: &mut Scratch) {
        let (n, h, bins) = (self.n, self.n / 2, self.bins());
        let count = time.len() / n;
        assert!(
            count <= LANES && spectra.len() >= count * bins,
            "forward batch shape"
        );
        // z[i] = (x[2i], x[2i+1]); unused lanes are zero
        for i in 0..h {
            let (zr, zi) = (&mut s.re[0][i], &mut s.im[0][i]);
            for l in 0..LANES {
                let (r, m) = if l < count {
                    (time[l * n + 2 * i], time[l * n + 2 * i + 1])
                } else {
                    (0.0, 0.0)
                };
                zr[l] = r;
                zi[l] = m;
            }
        }
        let o = self.stockham(s, false);
        let (zr, zi) = (&s.re[o], &s.im[o]);
        let tw = &self.tw;
        for l in 0..count {
            let spec = &mut spectra[l * bins..(l + 1) * bins];
            let (z0r, z0i) = (zr[0][l], zi[0][l]);
            spec[0] = [z0r + z0i, 0.0];
            spec[h] = [z0r - z0i, 0.0];
        }
        for k in 1..h {
            let w = tw[k];
            for l in 0..count {
                // a = z[k], b = conj(z[h - k]), e = (a + b)·0.5, d = (a − b)·0.5,
                // o = d / i = (d.y, −d.x), x = e + cmul(w, o)
                let (ar, ai) = (zr[k][l], zi[k][l]);
                let (br, bi) = (zr[h - k][l], -zi[h - k][l]);
                let (er, ei) = ((ar + br) * 0.5, (ai + bi) * 0.5);
                let (dr, di) = ((ar - br) * 0.5, (ai - bi) * 0.5);
                let (or, oi) = (di, -dr);
                let (cr, ci) = (madd(w[0], or, -(w[1] * oi)), madd(w[0], oi, w[1] * or));
                spectra[l * bins + k] = [er + cr, ei + ci];
            }
        }
    }

    #[inline(always)]
    fn inverse_generic(&self, spectra: &[[f32; 2]], time: &mut [f32], s: &mut Scratch) {
        let (n, h, bins) = (self.n, self.n / 2, self.bins());
        let count = spectra.len() / bins;
        assert!(
            count <= LANES && time.len() >= count * n,
            "inverse batch shape"
        );
        let tw = &self.tw;
        for k in 0..h {
            // conj(twiddles[k])
            let (wr, wi) = (tw[k][0], -tw[k][1]);
            let (zr, zi) = (&mut s.re[0][k], &mut s.im[0][k]);
            for l in 0..LANES {
                if l >= count {
                    zr[l] = 0.0;
                    zi[l] = 0.0;
                    continue;
                }
                // a = X[k], b = conj(X[h - k]) (imaginary parts zeroed at k = 0),
                // x = a − b, z[k] = (a + b) + i·cmul(x, conj(w)), in the shader's order:
                // z.x = s.x + −(x.x·w.y + x.y·w.x), z.y = (s.y + x.x·w.x) − x.y·w.y
                let a = spectra[l * bins + k];
                let b = spectra[l * bins + h - k];
                let (ar, mut ai) = (a[0], a[1]);
                let (br, mut bi) = (b[0], -b[1]);
                if k == 0 {
                    ai = 0.0;
                    bi = 0.0;
                }
                let (xr, xi) = (ar - br, ai - bi);
                let (sr, si) = (ar + br, ai + bi);
                zr[l] = sr + -madd(xr, wi, xi * wr);
                zi[l] = madd(-xi, wi, madd(xr, wr, si));
            }
        }
        let o = self.stockham(s, true);
        let (zr, zi) = (&s.re[o], &s.im[o]);
        for l in 0..count {
            let out = &mut time[l * n..(l + 1) * n];
            for i in 0..h {
                out[2 * i] = zr[i][l];
                out[2 * i + 1] = zi[i][l];
            }
        }
    }

    /// The shader's `stockham` over buffer 0 of `s`, ping-ponging between the two buffers
    /// (the shader's barrier between reads and writes); returns the buffer holding the
    /// result.
    #[inline(always)]
    fn stockham(&self, s: &mut Scratch, inverse: bool) -> usize {
        let h = self.n / 2;
        let (mut n, mut st, mut src) = (h, 1usize, 0usize);
        let [re0, re1] = &mut s.re;
        let [im0, im1] = &mut s.im;
        while n > 1 {
            let m = n / 2;
            let (sr, si, dr, di) = if src == 0 {
                (&*re0, &*im0, &mut *re1, &mut *im1)
            } else {
                (&*re1, &*im1, &mut *re0, &mut *im0)
            };
            // butterfly b = p·st + q, p < m, q < st (m·st = h/2)
            for p in 0..m {
                let w = self.tw[2 * p * st];
                let (wr, wi) = if inverse { (w[0], -w[1]) } else { (w[0], w[1]) };
                for q in 0..st {
                    let (ia, ic) = (q + st * p, q + st * (p + m));
                    let (ol, oh) = (q + st * 2 * p, q + st * (2 * p + 1));
                    let (ar, ai, cr, ci) = (&sr[ia], &si[ia], &sr[ic], &si[ic]);
                    let (mut lr, mut li, mut hr, mut hi) =
                        ([0.0; LANES], [0.0; LANES], [0.0; LANES], [0.0; LANES]);
                    for l in 0..LANES {
                        lr[l] = ar[l] + cr[l];
                        li[l] = ai[l] + ci[l];
                        let (xr, xi) = (ar[l] - cr[l], ai[l] - ci[l]);
                        hr[l] = madd(xr, wr, -(xi * wi));
                        hi[l] = madd(xr, wi, xi * wr);
                    }
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
