//! The true-peak detector on the CPU, screened: bit for bit the values of the twin that
//! computes every point of the 16× grid ([`super::cpu::peak_block`], the kernel's twin),
//! computing those points only where they can matter. The host's true-peak meters
//! ([`true_peak_per_hop`], [`true_peak`]) and the limiter's twin
//! ([`crate::ops::limiter::cpu`]) run it through [`Screen::block`]:
//!
//! 1. **Estimate** every half point `x̂(t + ½)` of a block with FFT convolutions (rustfft,
//!    f32, overlap-save, [`FFT_N`] points, [`HALF_POINTS`] per frame, two frames per complex
//!    transform), and bound each estimate's distance to the twin's f32 sum:
//!    `E = 2·10⁻⁴·‖frame‖₂ + 1.3·10⁻⁴·max|frame|` over the transform's whole input (both
//!    frames) (the FFT's normwise error, ≈ 1.5·10⁻⁵·‖frame‖₂ in
//!    theory, ×13 to spare, measured ≈ 5·10³ times under it; the folded f32 sum's worst case,
//!    `γ₅₁₄·Σ|h|·max|x|`, doubled).
//! 2. **Bound** each group of [`GROUP`] frames: every 8× point is `Σ g_j·u_j` over 16 values
//!    of the 2× sequence `u` (samples and half points); written as the linear interpolation
//!    of its two middle values plus the rest in second differences `Δ²u`,
//!    `|Σ g u| ≤ max|u|·(1 + |A| + 2|B|) + K·max|Δ²u|` ([`Bounds`]: `A`, `B`, `K` from the
//!    taps, in f64), evaluated on the estimates over every value the group's points read,
//!    plus `C·E` for their error (`C = Σ|g|`) and the sums' rounding.
//! 3. **Bound again** a group whose first bound does not clear the caller's threshold (the
//!    limiter's: the level under which it asks no gain) or the largest exact peak so far of
//!    a hop it counts in: its 16 points per frame computed from the estimates by the 8×
//!    stage, each within `C·E` (and both sums' rounding) of the exact one.
//! 4. **Compute exactly** ([`super::cpu::peak_block`]) first, in each hop, the group of the
//!    largest `|u|`, then every group whose second bound does not clear; the others hold 0.
//!    No group left out can change a gain or raise a hop's largest value. A block holding a
//!    non-finite sample (or one beyond 10³⁰) is computed everywhere.
//!
//! On programme most groups are skipped by the first bound; full-band noise needs the second
//! one (a third of the twin's cost where it runs).
//! `tests/true_peak_screen.rs` checks the identity with the twin.

use std::sync::Arc;

use rayon::prelude::*;
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

use super::cpu::{peak_block, BLOCK_FRAMES};
use super::{FINE_PHASES, FINE_TAPS, HALF_TAPS, REACH, SPAN};

/// FFT size of the half-point estimate.
pub const FFT_N: usize = 4096;
/// Half points per transform (`FFT_N − HALF_TAPS`, a multiple of [`GROUP`]).
pub const HALF_POINTS: usize = FFT_N - HALF_TAPS;
/// Frames per bounded group: the unit computed exactly. A per-hop meter computes at least
/// one group a hop, and on loud programme a few near each hop's peak, so the share computed
/// shrinks with the group (measured on a loud master at 0.2 s hops: 6.5 % of the frames
/// at 256, 1.4 % at 64); below the AVX2 interpolator's 64 points at a time its blocks
/// cost more than they save.
pub const GROUP: usize = 64;
/// Frames a group's points read beyond it on either side (`u` values 2 per frame).
const MARGIN: usize = FINE_TAPS / 4;
/// Frames of a meter's block (its scratch; does not change any value).
const METER_BLOCK: usize = 1 << 16;

/// The constants of step 2, from the 8× taps (f32, as the twin uses them), in f64.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// largest `|A| + 2|B|` over the phases: `A = Σ d_j`, `B = Σ d_j·(j − 7)`, `d = g − l`,
    /// `l` the linear interpolation between taps 7 and 8
    pub ab: f64,
    /// largest `Σ_k |D_k|` over the phases, `D_k` the weight of `Δ²u_k` in `Σ d_j u_j`
    pub k: f64,
    /// largest `Σ |g_j|` over the phases (1 for the samples themselves)
    pub c: f64,
}

impl Bounds {
    /// The constants of `fine` (`FINE_PHASES` phases of `FINE_TAPS` taps).
    pub fn of(fine: &[f32]) -> Bounds {
        let mid = FINE_TAPS / 2 - 1;
        let mut b = Bounds {
            ab: 0.0,
            k: 0.0,
            c: 1.0,
        };
        for (q, g) in fine.chunks_exact(FINE_TAPS).enumerate() {
            let f = (q + 1) as f64 / (FINE_PHASES + 1) as f64;
            let d: Vec<f64> = g
                .iter()
                .enumerate()
                .map(|(j, &gj)| {
                    let l = match j {
                        _ if j == mid => 1.0 - f,
                        _ if j == mid + 1 => f,
                        _ => 0.0,
                    };
                    f64::from(gj) - l
                })
                .collect();
            let a: f64 = d.iter().sum();
            let bm: f64 = d
                .iter()
                .enumerate()
                .map(|(j, &dj)| dj * (j as f64 - mid as f64))
                .sum();
            // v_j − v_7 − (j − 7)(v_8 − v_7) = Σ_k w_jk·Δ²v_k: for j > 8, w = j − k over
            // k = 8 .. j − 1; for j < 7, w = k − j over k = j + 1 .. 7
            let mut dk = [0.0f64; FINE_TAPS];
            for (j, &dj) in d.iter().enumerate() {
                if j > mid + 1 {
                    for (k, w) in dk.iter_mut().enumerate().take(j).skip(mid + 1) {
                        *w += dj * (j - k) as f64;
                    }
                } else if j < mid {
                    for (k, w) in dk.iter_mut().enumerate().take(mid + 1).skip(j + 1) {
                        *w += dj * (k - j) as f64;
                    }
                }
            }
            b.ab = b.ab.max(a.abs() + 2.0 * bm.abs());
            b.k = b.k.max(dk.iter().map(|v| v.abs()).sum());
            b.c = b.c.max(g.iter().map(|&v| f64::from(v).abs()).sum());
        }
        b
    }
}

/// The half-point estimator: the 2× taps' spectrum and the transforms. Two frames go
/// through one complex transform (one as the real part, the next as the imaginary part: the
/// taps are real, so the real and imaginary parts of the result are the two convolutions).
struct Estimator {
    spectrum: Vec<Complex<f32>>,
    fwd: Arc<dyn Fft<f32>>,
    inv: Arc<dyn Fft<f32>>,
}

impl Estimator {
    fn new(half: &[f32]) -> Estimator {
        let mut h: Vec<Complex<f64>> = (0..FFT_N)
            .map(|i| Complex::new(half.get(i).map_or(0.0, |&t| f64::from(t)), 0.0))
            .collect();
        FftPlanner::<f64>::new()
            .plan_fft_forward(FFT_N)
            .process(&mut h);
        let scale = 1.0 / FFT_N as f64;
        let spectrum = h
            .iter()
            .map(|c| Complex::new((c.re * scale) as f32, (c.im * scale) as f32))
            .collect();
        let mut p = FftPlanner::<f32>::new();
        Estimator {
            spectrum,
            fwd: p.plan_fft_forward(FFT_N),
            inv: p.plan_fft_inverse(FFT_N),
        }
    }

    /// Working memory of [`Estimator::pair`] (reused across calls: no allocation per
    /// transform).
    fn scratch(&self) -> EstScratch {
        let n = self
            .fwd
            .get_inplace_scratch_len()
            .max(self.inv.get_inplace_scratch_len());
        EstScratch {
            z: vec![Complex::new(0.0, 0.0); FFT_N],
            scratch: vec![Complex::new(0.0, 0.0); n],
        }
    }

    /// Estimates `half[m]` for `m = m0 .. m0 + out.len()` (`out.len() ≤ 2·HALF_POINTS`,
    /// two frames' worth) of `x` (silence outside it; `half[m]` reads
    /// `x[m − 511 ..= m + 512]`) and returns the bound `E` of the error of either frame's
    /// estimates (from both frames' norms: the transform's error is relative to its whole
    /// input).
    fn pair(&self, x: &[f32], m0: isize, out: &mut [f32], s: &mut EstScratch) -> f32 {
        let z = &mut s.z;
        let (mut sq, mut mx) = (0.0f64, 0.0f32);
        // frame 0 in the real parts (clearing the imaginary ones), frame 1 (if any) in the
        // imaginary parts
        for part in 0..out.len().div_ceil(HALF_POINTS).max(1) {
            let set = |z: &mut [Complex<f32>], k: usize, v: f32| {
                if part == 0 {
                    z[k] = Complex::new(v, 0.0);
                } else {
                    z[k].im = v;
                }
            };
            // half[m] = Σ_j h_j·x[m + j − 511]: the causal convolution y = h * x at m + 512;
            // y[n0 + k − 1023] is the circular result's k-th point for k ≥ 1023
            let mp = m0 + (part * HALF_POINTS) as isize;
            let first = mp + HALF_TAPS as isize / 2 - (HALF_TAPS as isize - 1);
            // frame[k] = x[first + k] for k < FFT_N − 1 where that is inside x
            let lo = (-first).clamp(0, FFT_N as isize - 1) as usize;
            let hi = (x.len() as isize - first).clamp(lo as isize, FFT_N as isize - 1) as usize;
            for k in (0..lo).chain(hi..FFT_N) {
                set(z, k, 0.0);
            }
            if lo < hi {
                let from = (first + lo as isize) as usize;
                let seg = &x[from..from + hi - lo];
                for (k, &v) in (lo..hi).zip(seg) {
                    set(z, k, v);
                }
                let (q, m) = frame_norms(seg);
                (sq, mx) = (sq + q, mx.max(m));
            }
        }
        self.fwd.process_with_scratch(z, &mut s.scratch);
        for (v, h) in z.iter_mut().zip(&self.spectrum) {
            *v *= *h;
        }
        self.inv.process_with_scratch(z, &mut s.scratch);
        let (a, b) = out.split_at_mut(out.len().min(HALF_POINTS));
        let kept = &z[HALF_TAPS - 1..];
        for (o, v) in a.iter_mut().zip(kept) {
            *o = v.re;
        }
        for (o, v) in b.iter_mut().zip(kept) {
            *o = v.im;
        }
        (2e-4 * sq.sqrt() + 1.3e-4 * f64::from(mx)) as f32
    }
}

/// [`Estimator::pair`]'s buffers: the frames as one complex signal, the transforms' scratch.
struct EstScratch {
    z: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
}

/// Lanes of the maxima below (one AVX-512 register; the compiler vectorises the loops).
const LANES: usize = 16;

/// The largest `|v|` of `v` (finite values), 0 for none.
#[inline(always)]
fn max_abs(v: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let mut chunks = v.chunks_exact(LANES);
    for c in &mut chunks {
        let c: &[f32; LANES] = c.try_into().expect("chunks of LANES");
        for (a, &x) in acc.iter_mut().zip(c) {
            let y = x.abs();
            *a = if y > *a { y } else { *a };
        }
    }
    let tail = chunks
        .remainder()
        .iter()
        .fold(0.0f32, |m, x| m.max(x.abs()));
    acc.iter().fold(tail, |m, &x| m.max(x))
}

/// `Σ v²` in f64 (the estimate's error bound reads its square root) and the largest `|v|`.
#[inline(always)]
fn norms(v: &[f32]) -> (f64, f32) {
    let mut acc = [0.0f64; 8];
    let mut chunks = v.chunks_exact(8);
    for c in &mut chunks {
        let c: &[f32; 8] = c.try_into().expect("chunks of 8");
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += f64::from(x) * f64::from(x);
        }
    }
    let tail: f64 = chunks
        .remainder()
        .iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum();
    (acc.iter().sum::<f64>() + tail, max_abs(v))
}

/// The largest `|a_i − 2·b_i + c_i|` (finite values, over the shortest length), 0 for none.
#[inline(always)]
fn max_abs_d2(a: &[f32], b: &[f32], c: &[f32]) -> f32 {
    let n = a.len().min(b.len()).min(c.len());
    let (a, b, c) = (&a[..n], &b[..n], &c[..n]);
    let mut acc = [0.0f32; LANES];
    let (ca, cb, cc) = (
        a.chunks_exact(LANES),
        b.chunks_exact(LANES),
        c.chunks_exact(LANES),
    );
    let full = n - n % LANES;
    for ((x, y), z) in ca.zip(cb).zip(cc) {
        let x: &[f32; LANES] = x.try_into().expect("chunks of LANES");
        let y: &[f32; LANES] = y.try_into().expect("chunks of LANES");
        let z: &[f32; LANES] = z.try_into().expect("chunks of LANES");
        for j in 0..LANES {
            let v = (x[j] - 2.0 * y[j] + z[j]).abs();
            acc[j] = if v > acc[j] { v } else { acc[j] };
        }
    }
    let tail = (full..n).fold(0.0f32, |m, i| m.max((a[i] - 2.0 * b[i] + c[i]).abs()));
    acc.iter().fold(tail, |m, &x| m.max(x))
}

/// What the first bound reads of one group (frames `a .. z` of a block, `m` = [`MARGIN`]):
/// the largest `|u|` of its own frames, the largest `|u|` its points read and the largest
/// second difference among those (see [`Screen::bounds`]); compiled for AVX2 where the CPU
/// has it (maxima: the same values in any order).
fn group_figures(xs: &[f32], hs: &[f32], a: usize, z: usize) -> (f32, f32, f32) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2
        return unsafe { group_figures_avx2(xs, hs, a, z) };
    }
    group_figures_in(xs, hs, a, z)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn group_figures_avx2(xs: &[f32], hs: &[f32], a: usize, z: usize) -> (f32, f32, f32) {
    group_figures_in(xs, hs, a, z)
}

#[inline(always)]
fn group_figures_in(xs: &[f32], hs: &[f32], a: usize, z: usize) -> (f32, f32, f32) {
    let m = MARGIN;
    // its own frames a .. z are i = a + m .. z + m
    let own = max_abs(&xs[a + m..z + m]).max(max_abs(&hs[a + m..z + m]));
    // every value its points read: x[a − 4 ..= z + 4], x̂[a − 4 ..= z + 3];
    // second differences centred on them, inside the 16 values: odd
    // positions x[t] − 2x̂[t] + x[t + 1] for t = a − 4 ..= z + 3, even ones
    // x̂[t − 1] − 2x[t] + x̂[t] for t = a − 3 ..= z + 3
    let mu = max_abs(&xs[a..z + 2 * m + 1]).max(max_abs(&hs[a..z + 2 * m]));
    let n = z + 2 * m - a;
    let odd = max_abs_d2(&xs[a..a + n], &hs[a..a + n], &xs[a + 1..a + 1 + n]);
    let even = max_abs_d2(&hs[a..a + n - 1], &xs[a + 1..a + n], &hs[a + 1..a + n]);
    (own, mu, odd.max(even))
}

/// [`norms`] of an estimator frame, compiled for AVX2 where the CPU has it.
fn frame_norms(v: &[f32]) -> (f64, f32) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2
        return unsafe { frame_norms_avx2(v) };
    }
    norms(v)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn frame_norms_avx2(v: &[f32]) -> (f64, f32) {
    norms(v)
}

/// What [`Screen::bounds`] finds in a block.
struct Bounded {
    /// per group, the largest `|u|` of its own frames
    own: Vec<f32>,
    /// per group, the largest `|u|` its points read
    mu: Vec<f32>,
    /// per group, the first bound of its points
    bound: Vec<f32>,
    /// per channel, the half points' estimates (frames `−MARGIN ..`) and the error bound
    /// of each transform's
    est: Vec<(Vec<f32>, Vec<f32>)>,
}

/// The screened detector: the taps, the estimator and the bound's constants.
pub struct Screen<'a> {
    taps: &'a [f32],
    est: Estimator,
    bounds: Bounds,
}

/// Where a frame of a block counts: the hop whose largest peak it may raise (`None`: none);
/// non-decreasing over the frames that count, which form one run.
pub type HopOf<'a> = &'a (dyn Fn(usize) -> Option<usize> + Sync);

impl<'a> Screen<'a> {
    /// The screen of `taps` ([`super::design`]'s layout in f32).
    pub fn new(taps: &'a [f32]) -> Screen<'a> {
        Screen {
            taps,
            est: Estimator::new(&taps[..HALF_TAPS]),
            bounds: Bounds::of(&taps[HALF_TAPS..]),
        }
    }

    /// The detector's peaks of a block of `out.len()` frames, the largest over the channels:
    /// `windows[c]` holds `x_c[t₀ − REACH + 1 .. t₀ + len + REACH]` (`len + SPAN − 1`
    /// samples, `t₀` the block's first frame), as [`super::cpu::peak_block`] reads it.
    /// `out[i]` receives that function's value for every frame of the groups computed (see
    /// the module), 0 for the others: a group is left out when its bound is at most
    /// `threshold` and at most `maxima[h]` for every hop `h = hop_of(i)` of its frames.
    /// `maxima` is raised with the values computed. Returns the frames computed.
    pub fn block(
        &self,
        windows: &[&[f32]],
        out: &mut [f32],
        threshold: f32,
        hop_of: HopOf<'_>,
        maxima: &mut [f32],
    ) -> usize {
        let len = out.len();
        out.fill(0.0);
        let groups = len.div_ceil(GROUP);
        let range = |g: usize| g * GROUP..((g + 1) * GROUP).min(len);
        let all: Vec<usize> = (0..groups).collect();
        if !windows.iter().all(|w| w.iter().all(|v| v.abs() < 1e30)) {
            return self.exact(windows, &all, out, hop_of, maxima);
        }
        let bd = self.bounds(windows, len);
        let (own, bound) = (&bd.own, &bd.bound);
        // each group's hops (a hop index grows with the frame)
        let hops: Vec<Option<(usize, usize)>> = all
            .par_iter()
            .map(|&g| {
                // a hop grows with the frame and frames count in one run: the ends tell,
                // unless an end does not count
                let r = range(g);
                match (hop_of(r.start), hop_of(r.end - 1)) {
                    (Some(lo), Some(hi)) => Some((lo, hi)),
                    _ => r.filter_map(hop_of).fold(None, |a, h| match a {
                        None => Some((h, h)),
                        Some((lo, hi)) => Some((lo.min(h), hi.max(h))),
                    }),
                }
            })
            .collect();
        // the likeliest holder of each hop's peak first
        let mut best: Vec<(usize, usize)> = Vec::new(); // (hop, group)
        for (g, hr) in hops.iter().enumerate() {
            let Some((lo, hi)) = *hr else { continue };
            for h in lo..=hi {
                match best.last_mut() {
                    Some((bh, bg)) if *bh == h => {
                        if own[*bg] < own[g] {
                            *bg = g;
                        }
                    }
                    _ => best.push((h, g)),
                }
            }
        }
        let mut first: Vec<usize> = best.into_iter().map(|(_, g)| g).collect();
        first.sort_unstable();
        first.dedup();
        let mut done = vec![false; groups];
        for &g in &first {
            done[g] = true;
        }
        let mut n = self.exact(windows, &first, out, hop_of, maxima);
        let limit = |g: usize| {
            let low = hops[g].map_or(f32::INFINITY, |(lo, hi)| {
                maxima[lo..=hi].iter().fold(f32::INFINITY, |m, &v| m.min(v))
            });
            threshold.min(low)
        };
        let needed: Vec<usize> = all
            .into_par_iter()
            .filter(|&g| !done[g] && bound[g] > limit(g))
            .filter(|&g| self.refined(windows, &bd, g, len) > limit(g))
            .collect();
        n += self.exact(windows, &needed, out, hop_of, maxima);
        n
    }

    /// Per group of a block: the largest `|u|` of its own frames and of all it reads, and the
    /// bound of its points; per channel, the estimates and their error bounds.
    fn bounds(&self, windows: &[&[f32]], len: usize) -> Bounded {
        let b = &self.bounds;
        let groups = len.div_ceil(GROUP);
        let mut r = Bounded {
            own: vec![0.0; groups],
            mu: vec![0.0; groups],
            bound: vec![0.0; groups],
            est: Vec::with_capacity(windows.len()),
        };
        for w in windows {
            // frame t of the block (0-based) is window sample t + REACH − 1; half points of
            // frames −MARGIN .. len + MARGIN (each reads window samples t − 4 .. t + 1027)
            let n_half = len + 2 * MARGIN;
            let mut half = vec![0.0f32; n_half];
            // in window samples
            let m0 = -(MARGIN as isize) + REACH as isize - 1;
            // the transforms' error bounds, one per HALF_POINTS half points (two frames
            // share one transform and its bound)
            let errs: Vec<f32> = half
                .par_chunks_mut(2 * HALF_POINTS)
                .enumerate()
                .map_init(
                    || self.est.scratch(),
                    |s, (k, out)| {
                        let e = self
                            .est
                            .pair(w, m0 + (2 * k * HALF_POINTS) as isize, out, s);
                        [e, e]
                    },
                )
                .flatten_iter()
                .collect();
            // frames −MARGIN ..= len + MARGIN: xs[i] = x[i − MARGIN], hs[i] = x̂[i − MARGIN]
            let xs = &w[REACH - 1 - MARGIN..REACH + len + MARGIN];
            let hs = &half[..];
            let e_at = |t: usize| errs[t / HALF_POINTS];
            let per: Vec<(f32, f32, f32)> = (0..groups)
                .into_par_iter()
                .map(|g| {
                    let (a, z) = (g * GROUP, ((g + 1) * GROUP).min(len));
                    let m = MARGIN;
                    let (own, mu, md) = group_figures(xs, hs, a, z);
                    let e = e_at(a).max(e_at(z + 2 * m - 1));
                    let (mu32, mu, md, e) = (mu, f64::from(mu), f64::from(md), f64::from(e));
                    let v = mu * (1.0 + b.ab) + b.k * md + b.c * e + 1e-5 * (mu + e);
                    (own, mu32, (v * (1.0 + 1e-4)) as f32)
                })
                .collect();
            for (g, (o, mu, v)) in per.into_iter().enumerate() {
                r.own[g] = r.own[g].max(o);
                r.mu[g] = r.mu[g].max(mu);
                r.bound[g] = r.bound[g].max(v);
            }
            r.est.push((half, errs));
        }
        r
    }

    /// The second bound of group `g` (frames `a .. z`), for a group whose first bound does
    /// not clear it: its 16 points per frame computed from the estimates by the 8× stage
    /// ([`super::cpu::fine_block`]), each within `C·E` of the exact point (the 8× taps'
    /// absolute sum times the estimates' error), plus both sums' rounding
    /// (`γ₁₆·C·max|u|` each, within `10⁻⁵·(max|u| + E)`); the largest over the channels.
    fn refined(&self, windows: &[&[f32]], r: &Bounded, g: usize, len: usize) -> f32 {
        let (a, z) = (g * GROUP, ((g + 1) * GROUP).min(len));
        let b = &self.bounds;
        let mut worst = 0.0f32;
        for (w, (half, errs)) in windows.iter().zip(&r.est) {
            // the 2× sequence from frame a − MARGIN to z + MARGIN: xs[i] = x[i − MARGIN]
            let xs = &w[REACH - 1 - MARGIN..REACH + len + MARGIN];
            let mut u = [0.0f32; 2 * (GROUP + 2 * MARGIN)];
            let u = &mut u[..2 * (z - a + 2 * MARGIN)];
            for (i, pair) in u.chunks_exact_mut(2).enumerate() {
                pair[0] = xs[a + i];
                pair[1] = half[a + i];
            }
            let mut approx = [0.0f32; GROUP];
            let approx = &mut approx[..z - a];
            super::cpu::fine_block(self.taps, u, approx);
            let m = f64::from(approx.iter().fold(0.0f32, |m, &v| m.max(v)));
            let e = f64::from(errs[a / HALF_POINTS].max(errs[(z + 2 * MARGIN - 1) / HALF_POINTS]));
            let v = m + b.c * e + 1e-5 * (f64::from(r.mu[g]) + e);
            worst = worst.max((v * (1.0 + 1e-4)) as f32);
        }
        worst
    }

    /// Computes the groups `list` (ascending) of a block exactly, runs of neighbouring
    /// groups together, into `out` (the largest over the channels), raising `maxima`;
    /// returns the frames computed.
    fn exact(
        &self,
        windows: &[&[f32]],
        list: &[usize],
        out: &mut [f32],
        hop_of: HopOf<'_>,
        maxima: &mut [f32],
    ) -> usize {
        let len = out.len();
        let per_run = BLOCK_FRAMES / GROUP;
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for &g in list {
            match runs.last_mut() {
                Some((s, e)) if *e == g && g - *s < per_run => *e = g + 1,
                _ => runs.push((g, g + 1)),
            }
        }
        let results: Vec<(usize, Vec<f32>)> = runs
            .par_iter()
            .map(|&(s, e)| {
                let (a, z) = (s * GROUP, (e * GROUP).min(len));
                let mut v = vec![0.0f32; z - a];
                for w in windows {
                    peak_block(self.taps, &w[a..z + SPAN - 1], &mut v);
                }
                (a, v)
            })
            .collect();
        let mut n = 0;
        for (a, v) in results {
            n += v.len();
            out[a..a + v.len()].copy_from_slice(&v);
            // a group whose ends count in one hop lies in it (hops grow with the frame)
            for (g, vg) in v.chunks(GROUP).enumerate() {
                let a = a + g * GROUP;
                match (hop_of(a), hop_of(a + vg.len() - 1)) {
                    (Some(h), Some(e)) if h == e => {
                        maxima[h] = vg.iter().fold(maxima[h], |m, &p| m.max(p));
                    }
                    _ => {
                        for (i, &p) in vg.iter().enumerate() {
                            if let Some(h) = hop_of(a + i) {
                                maxima[h] = maxima[h].max(p);
                            }
                        }
                    }
                }
            }
        }
        n
    }
}

/// Runs `f` with the screen of `taps`: the one made once per process for the shared
/// interpolator ([`super::shared`]), else one made here.
pub fn with_screen<R>(taps: &[f32], f: impl FnOnce(&Screen<'_>) -> R) -> R {
    static SHARED: std::sync::OnceLock<Screen<'static>> = std::sync::OnceLock::new();
    let shared = &super::shared().taps;
    if taps == shared.as_slice() {
        f(SHARED.get_or_init(|| Screen::new(shared)))
    } else {
        f(&Screen::new(taps))
    }
}

/// [`super::cpu::true_peak_per_hop`], the same values, screened (see the module).
pub fn true_peak_per_hop(taps: &[f32], channels: &[Vec<f32>], hop_frames: usize) -> Vec<f32> {
    true_peak_per_hop_counted(taps, channels, hop_frames).1
}

/// [`true_peak_per_hop`], and the share of the frames whose points it computed.
pub fn true_peak_per_hop_counted(
    taps: &[f32],
    channels: &[Vec<f32>],
    hop_frames: usize,
) -> (f64, Vec<f32>) {
    let frames = channels.iter().map(Vec::len).max().unwrap_or(0);
    let hop = hop_frames.max(1);
    let hops = frames.div_ceil(hop);
    if hops == 0 {
        return (0.0, Vec::new());
    }
    with_screen(taps, |screen| per_hop(screen, channels, hop, hops))
}

fn per_hop(screen: &Screen<'_>, channels: &[Vec<f32>], hop: usize, hops: usize) -> (f64, Vec<f32>) {
    let (computed, total, peaks) = channels
        .par_iter()
        .map(|ch| {
            let (n, peaks) = channel(screen, ch, hop, hops);
            (n, ch.len() + 2 * REACH, peaks)
        })
        .reduce(
            || (0, 0, vec![0.0f32; hops]),
            |mut a, b| {
                for (x, y) in a.2.iter_mut().zip(b.2) {
                    *x = x.max(y);
                }
                (a.0 + b.0, a.1 + b.1, a.2)
            },
        );
    (computed as f64 / total.max(1) as f64, peaks)
}

/// [`super::cpu::true_peak`], the same value, screened.
pub fn true_peak(taps: &[f32], channels: &[Vec<f32>]) -> f32 {
    let frames = channels.iter().map(Vec::len).max().unwrap_or(0);
    true_peak_per_hop(taps, channels, frames.max(1))
        .into_iter()
        .fold(0.0, f32::max)
}

/// One channel's largest point per hop (frames from `−REACH` to `len + REACH`, those before
/// the song in hop 0, after it in the last), block by block, and the frames computed.
fn channel(screen: &Screen<'_>, ch: &[f32], hop: usize, hops: usize) -> (usize, Vec<f32>) {
    let mut maxima = vec![0.0f32; hops];
    let span = ch.len() + 2 * REACH;
    let (mut n, mut start) = (0, 0);
    let mut window = Vec::new();
    let mut out = Vec::new();
    while start < span {
        let len = METER_BLOCK.min(span - start);
        // block frame i is frame t = start + i − REACH; it reads x[t − REACH + 1 ..]
        let lo = start as isize - 2 * REACH as isize + 1;
        window.clear();
        window.resize(len + SPAN - 1, 0.0);
        let (from, to) = (
            lo.max(0) as usize,
            ((lo + window.len() as isize).max(0) as usize).min(ch.len()),
        );
        if from < to {
            let at = (from as isize - lo) as usize;
            window[at..at + to - from].copy_from_slice(&ch[from..to]);
        }
        out.resize(len, 0.0);
        let hop_of = |i: usize| {
            let t = (start + i) as isize - REACH as isize;
            Some(((t.max(0) as usize) / hop).min(hops - 1))
        };
        n += screen.block(&[&window], &mut out, f32::INFINITY, &hop_of, &mut maxima);
        start += len;
    }
    (n, maxima)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The estimate's error against the half points summed in f64, far inside the bound's
    /// FFT share (`2·10⁻⁴·‖frames‖₂`): at most a tenth of it on full-scale noise and on a
    /// loud burst beside near-silence, for two frames in one transform and for one alone.
    #[test]
    fn estimate_error_is_far_inside_its_bound() {
        let taps = &crate::ops::oversample::shared().taps;
        let est = Estimator::new(&taps[..HALF_TAPS]);
        let mut s = 7u64;
        let mut rnd = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        };
        let noise: Vec<f32> = (0..20_000).map(|_| rnd()).collect();
        let burst: Vec<f32> = (0..20_000)
            .map(|i| {
                if (9_000..9_100).contains(&i) {
                    rnd()
                } else {
                    1e-6 * rnd()
                }
            })
            .collect();
        for x in [noise, burst] {
            let mut worst = 0.0f64;
            for (k, len) in [(0, 2 * HALF_POINTS), (1, 2 * HALF_POINTS), (2, 700)] {
                let m0 = (k * 2 * HALF_POINTS) as isize - 700;
                let mut out = vec![0.0f32; len];
                let e = est.pair(&x, m0, &mut out, &mut est.scratch());
                // E = 2e-4·norm + 1.3e-4·max: the FFT's share is at least E·2/3.3
                let fft_share = f64::from(e) * 2.0 / 3.3;
                for (r, &v) in out.iter().enumerate() {
                    let m = m0 + r as isize;
                    let exact: f64 = (0..HALF_TAPS)
                        .map(|j| {
                            let i = m + j as isize - (HALF_TAPS / 2 - 1) as isize;
                            let xv = if i >= 0 && (i as usize) < x.len() {
                                x[i as usize]
                            } else {
                                0.0
                            };
                            f64::from(taps[j]) * f64::from(xv)
                        })
                        .sum();
                    worst = worst.max((f64::from(v) - exact).abs() / fft_share);
                }
            }
            eprintln!("worst estimate error: {worst:.2e} of the bound's FFT share");
            assert!(worst < 0.1, "{worst}");
        }
    }
}
