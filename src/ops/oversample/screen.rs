//! The true-peak meter on the CPU, screened: bit for bit the values of
//! [`super::cpu::true_peak_per_hop`] (every point of the 16× grid, the twin of the kernel),
//! computing those points only where they can change a hop's largest value.
//!
//! 1. **Estimate** every half point `x̂(t + ½)` with one FFT convolution (realfft, f32,
//!    overlap-save, [`FFT_N`] points, [`HALF_POINTS`] per transform), and bound the estimate's
//!    distance to the twin's f32 sum: `E = 2·10⁻⁴·‖frame‖₂ + 1.3·10⁻⁴·max|frame|` over the
//!    transform's input frame (the FFT's normwise error, ≈ 1.5·10⁻⁵·‖frame‖₂ in theory, with
//!    ×13 to spare; the folded f32 sum's worst case, `γ₅₁₄·Σ|h|·max|x|`, doubled).
//! 2. **Bound** each group of [`GROUP`] frames: every 8× point is `Σ g_j·u_j` over 16 values
//!    of the 2× sequence `u` (samples and half points); written as the linear interpolation
//!    of its two middle values plus the rest in second differences `Δ²u`,
//!    `|Σ g u| ≤ max|u|·(1 + |A| + 2|B|) + K·max|Δ²u|` ([`Bounds`]: `A`, `B`, `K` from the
//!    taps, in f64), evaluated on the estimates, plus `C·E` for their error
//!    (`C = Σ|g|`) and the sums' rounding, over the group and its neighbours.
//! 3. **Compute exactly** ([`super::cpu::peak_block`]) first the group of each hop with the
//!    highest bound, then every group whose bound exceeds the smallest exact peak of the hops
//!    it touches; the others cannot raise any hop's largest value, which is therefore the
//!    one every point gives. A channel holding a non-finite sample (or one beyond 10³⁰) is
//!    computed everywhere.
//!
//! On programme material most groups are skipped, where the bound sits under the peak; a
//! signal of white noise at full band bounds loosely and is computed nearly everywhere
//! (no slower than the twin). `tests/true_peak_screen.rs` checks the identity with the twin.

use std::sync::Arc;

use rayon::prelude::*;
use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use super::cpu::{peak_block, BLOCK_FRAMES};
use super::{FINE_PHASES, FINE_TAPS, HALF_TAPS, REACH, SPAN};

/// FFT size of the half-point estimate.
pub const FFT_N: usize = 4096;
/// Half points per transform (`FFT_N − HALF_TAPS`, a multiple of [`GROUP`]).
pub const HALF_POINTS: usize = FFT_N - HALF_TAPS;
/// Frames per bounded group.
pub const GROUP: usize = 256;
/// Frames a group's points read beyond it on either side (in frames of `u`'s pairs).
const MARGIN: usize = FINE_TAPS / 4;

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

/// The half-point estimator: the 2× taps' spectrum and the transforms.
struct Estimator {
    spectrum: Vec<Complex<f32>>,
    fwd: Arc<dyn RealToComplex<f32>>,
    inv: Arc<dyn ComplexToReal<f32>>,
}

impl Estimator {
    fn new(half: &[f32]) -> Estimator {
        let mut p64 = RealFftPlanner::<f64>::new();
        let f64fwd = p64.plan_fft_forward(FFT_N);
        let mut h = vec![0.0f64; FFT_N];
        for (v, &t) in h.iter_mut().zip(half) {
            *v = f64::from(t);
        }
        let mut hs = f64fwd.make_output_vec();
        f64fwd
            .process(&mut h, &mut hs)
            .expect("f64 FFT buffer sizes");
        let scale = 1.0 / FFT_N as f64;
        let spectrum = hs
            .iter()
            .map(|c| Complex::new((c.re * scale) as f32, (c.im * scale) as f32))
            .collect();
        let mut p = RealFftPlanner::<f32>::new();
        Estimator {
            spectrum,
            fwd: p.plan_fft_forward(FFT_N),
            inv: p.plan_fft_inverse(FFT_N),
        }
    }

    /// Estimates `half[m]` for `m = m0 .. m0 + out.len()` (`out.len() ≤ HALF_POINTS`) of
    /// channel `x` (silence outside it) and returns the bound `E` of its error.
    fn block(&self, x: &[f32], m0: isize, out: &mut [f32]) -> f32 {
        // half[m] = Σ_j h_j·x[m + j − 511]: the causal convolution y = h * x at m + 512;
        // y[n0 + k − 1023] is the circular result's k-th point for k ≥ 1023
        let first = m0 + HALF_TAPS as isize / 2 - (HALF_TAPS as isize - 1);
        let mut frame = vec![0.0f32; FFT_N];
        let (mut sq, mut mx) = (0.0f64, 0.0f32);
        for (k, v) in frame.iter_mut().take(FFT_N - 1).enumerate() {
            let i = first + k as isize;
            if i >= 0 && (i as usize) < x.len() {
                *v = x[i as usize];
                sq += f64::from(*v) * f64::from(*v);
                mx = mx.max(v.abs());
            }
        }
        let mut spec = self.fwd.make_output_vec();
        self.fwd
            .process(&mut frame, &mut spec)
            .expect("FFT buffer sizes");
        for (s, h) in spec.iter_mut().zip(&self.spectrum) {
            *s *= *h;
        }
        spec[0].im = 0.0;
        spec[FFT_N / 2].im = 0.0;
        self.inv
            .process(&mut spec, &mut frame)
            .expect("FFT buffer sizes");
        out.copy_from_slice(&frame[HALF_TAPS - 1..HALF_TAPS - 1 + out.len()]);
        (2e-4 * sq.sqrt() + 1.3e-4 * f64::from(mx)) as f32
    }
}

/// The largest `|u|` and `|Δ²u|` of some frames of a group.
#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    /// over the group's frames
    all: (f32, f32),
    /// over its first [`MARGIN`] frames
    head: (f32, f32),
    /// over its last [`MARGIN`] frames
    tail: (f32, f32),
    /// the error bound of the estimates it and its neighbours' edges read
    e: f32,
}

trait Max2 {
    fn max2(self, mu: f32, md: f32) -> Self;
}

impl Max2 for (f32, f32) {
    fn max2(self, mu: f32, md: f32) -> Self {
        (self.0.max(mu), self.1.max(md))
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
    let est = Estimator::new(&taps[..HALF_TAPS]);
    let bounds = Bounds::of(&taps[HALF_TAPS..]);
    let (computed, total, peaks) = channels
        .par_iter()
        .map(|ch| {
            let (n, peaks) = channel(taps, &est, &bounds, ch, hop, hops);
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
/// the song in hop 0, after it in the last), and how many frames it computed.
fn channel(
    taps: &[f32],
    est: &Estimator,
    b: &Bounds,
    ch: &[f32],
    hop: usize,
    hops: usize,
) -> (usize, Vec<f32>) {
    let mut out = vec![0.0f32; hops];
    let span = ch.len() + 2 * REACH; // frames t = i − REACH, i < span
    if ch.is_empty() {
        return (0, out);
    }
    let groups = span.div_ceil(GROUP);
    let hop_of = |t: isize| ((t.max(0) as usize) / hop).min(hops - 1);
    let mut done = vec![false; groups];
    // (so huge that a second difference could overflow: the same)
    if !ch.iter().all(|v| v.abs() < 1e30) {
        let all: Vec<usize> = (0..groups).collect();
        let n = exact_groups(taps, ch, span, &all, &mut done, &mut out, hop_of);
        return (n, out);
    }
    // step 1: estimates of half[t] for t = −REACH − MARGIN .. (i = t + REACH + MARGIN)
    let n_est = span + 2 * MARGIN;
    let mut half = vec![0.0f32; n_est];
    let errs: Vec<f32> = half
        .par_chunks_mut(HALF_POINTS)
        .enumerate()
        .map(|(k, out)| {
            let m0 = (k * HALF_POINTS) as isize - (REACH + MARGIN) as isize;
            est.block(ch, m0, out)
        })
        .collect();
    let x_at = |t: isize| -> f32 {
        if t >= 0 && (t as usize) < ch.len() {
            ch[t as usize]
        } else {
            0.0
        }
    };
    let h_at = |t: isize| -> f32 {
        let i = t + (REACH + MARGIN) as isize;
        if i >= 0 && (i as usize) < n_est {
            half[i as usize]
        } else {
            0.0
        }
    };
    // step 2: per group, the largest |u| and |Δ²u| of its frames, and its error bound
    let stats: Vec<Stats> = (0..groups)
        .into_par_iter()
        .map(|g| {
            let a = (g * GROUP) as isize - REACH as isize;
            let end = (a + GROUP as isize).min(span as isize - REACH as isize);
            let mut st = Stats::default();
            let mut prev_h = h_at(a - 1);
            for t in a..end {
                let (xt, ht, xn) = (x_at(t), h_at(t), x_at(t + 1));
                let mu = xt.abs().max(ht.abs());
                let md = (prev_h - 2.0 * xt + ht)
                    .abs()
                    .max((xt - 2.0 * ht + xn).abs());
                st.all = st.all.max2(mu, md);
                if t - a < MARGIN as isize {
                    st.head = st.head.max2(mu, md);
                }
                if end - t <= MARGIN as isize {
                    st.tail = st.tail.max2(mu, md);
                }
                prev_h = ht;
            }
            let blk = |t: isize| {
                let i = (t + (REACH + MARGIN) as isize).clamp(0, n_est as isize - 1) as usize;
                errs[i / HALF_POINTS]
            };
            st.e = blk(a - MARGIN as isize).max(blk(end + MARGIN as isize));
            st
        })
        .collect();
    // a group's points read MARGIN frames into its neighbours: their edges count
    let bound: Vec<f32> = (0..groups)
        .map(|g| {
            let mut m = stats[g].all;
            if g > 0 {
                m = m.max2(stats[g - 1].tail.0, stats[g - 1].tail.1);
            }
            if g + 1 < groups {
                m = m.max2(stats[g + 1].head.0, stats[g + 1].head.1);
            }
            let (mu, md, e) = (f64::from(m.0), f64::from(m.1), f64::from(stats[g].e));
            let v = mu * (1.0 + b.ab) + b.k * md + b.c * e + 1e-5 * (mu + e);
            (v * (1.0 + 1e-4)) as f32
        })
        .collect();
    // step 3
    let group_hops = |g: usize| {
        let a = (g * GROUP) as isize - REACH as isize;
        let last = (a + GROUP as isize).min(span as isize - REACH as isize) - 1;
        hop_of(a)..=hop_of(last)
    };
    let mut best: Vec<Option<usize>> = vec![None; hops];
    // the likeliest holder of each hop's peak: the group of the largest |u|
    for (g, st) in stats.iter().enumerate() {
        let v = st.all.0;
        for h in group_hops(g) {
            if best[h].is_none_or(|o| stats[o].all.0 < v) {
                best[h] = Some(g);
            }
        }
    }
    let mut first: Vec<usize> = best.into_iter().flatten().collect();
    first.sort_unstable();
    first.dedup();
    let n = exact_groups(taps, ch, span, &first, &mut done, &mut out, hop_of);
    let needed: Vec<usize> = (0..groups)
        .filter(|&g| !done[g])
        .filter(|&g| {
            let thr = group_hops(g).map(|h| out[h]).fold(f32::INFINITY, f32::min);
            bound[g] > thr
        })
        .collect();
    let m = exact_groups(taps, ch, span, &needed, &mut done, &mut out, hop_of);
    (n + m, out)
}

/// Computes the groups `list` (ascending) exactly, runs of neighbouring groups together,
/// and raises each hop's largest value with their points; returns the frames computed.
fn exact_groups(
    taps: &[f32],
    ch: &[f32],
    span: usize,
    list: &[usize],
    done: &mut [bool],
    out: &mut [f32],
    hop_of: impl Fn(isize) -> usize + Sync,
) -> usize {
    // runs of consecutive groups, at most a detector block of frames each
    let per_run = BLOCK_FRAMES / GROUP;
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &g in list {
        done[g] = true;
        match runs.last_mut() {
            Some((s, e)) if *e == g && g - *s < per_run => *e = g + 1,
            _ => runs.push((g, g + 1)),
        }
    }
    let results: Vec<(isize, Vec<f32>)> = runs
        .par_iter()
        .map(|&(s, e)| {
            let a = (s * GROUP) as isize - REACH as isize;
            let end = ((e * GROUP).min(span)) as isize - REACH as isize;
            let len = (end - a) as usize;
            // frame t reads x[t − REACH + 1 ..= t + REACH]
            let lo = a + 1 - REACH as isize;
            let mut window = vec![0.0f32; len + SPAN - 1];
            for (k, v) in window.iter_mut().enumerate() {
                let i = lo + k as isize;
                if i >= 0 && (i as usize) < ch.len() {
                    *v = ch[i as usize];
                }
            }
            let mut e = vec![0.0f32; len];
            peak_block(taps, &window, &mut e);
            (a, e)
        })
        .collect();
    let mut n = 0;
    for (a, e) in results {
        n += e.len();
        for (i, &v) in e.iter().enumerate() {
            let h = hop_of(a + i as isize);
            out[h] = out[h].max(v);
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The estimate's error against the half points summed in f64, far inside the bound's
    /// FFT share (`2·10⁻⁴·‖frame‖₂`): at most a tenth of it on full-scale noise and on a
    /// loud burst beside near-silence.
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
            for k in 0..x.len() / HALF_POINTS {
                let m0 = (k * HALF_POINTS) as isize - 700;
                let mut out = vec![0.0f32; HALF_POINTS];
                let e = est.block(&x, m0, &mut out);
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
