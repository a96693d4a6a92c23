//! CPU twin of `shaders/limiter.wgsl` (the limiter),
//! in streaming form. [`process_chunk`] runs the steps of [`super`] causally on the next
//! frames of a song, the state carried in a [`Stream`]; its output lags the input by
//! [`latency_frames`] = `L + SPAN/2` (lookahead of the gain pipeline plus that of
//! the detector's FIR). [`process`] (the whole song, time-aligned) is one chunk plus the
//! flush, with the lag dropped. The detector runs over the whole chunk first (the input
//! history and the chunk as one window), screened
//! ([`crate::ops::oversample::screen`]: the kernel's points exactly wherever they can change
//! a gain or the traced peaks, 0 elsewhere; [`Stream::every_point`] computes them all);
//! then per block of up to [`BLOCK_FRAMES`] frames one sequential pass for hold / window
//! sum / release / gain, then the gain pass. [`process_traced`] also keeps the largest gain
//! reduction of every hop (for the reports' plot over time).

use crate::core::arith::madd;
use std::collections::VecDeque;

use super::{Limiter, LimiterParams, MAX_REDUCTION_L2, Q_PER_L2};
use crate::ops::loglin::{exp2_approx, floor_i32, flush_denormal, log2_approx, DB_PER_L2};
use crate::ops::oversample::cpu::{peak_block, BLOCK_FRAMES};
use crate::ops::oversample::screen::with_screen;
use crate::ops::oversample::SPAN;

/// What a limiter run did, for reports.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LimiterReport {
    /// largest gain reduction applied, dB (≥ 0)
    pub max_gain_reduction_db: f64,
}

/// Oversampled stereo-linked peak per frame, `e[t]` (see [`super`] step 1), for the `frames`
/// frames of the next chunk `x`, screened ([`crate::ops::oversample::screen`]): the exact
/// value wherever it can matter, 0 where it cannot — under the level that asks for no gain
/// (`2^T·(1 − 2⁻¹⁰)`, under which `log2_approx` reads below `T`: the required gain is 0
/// either way, and the pair maximum of a neighbour above that level is that neighbour) and,
/// when the stream traces, under its hop's largest peak. With `every_point`, every frame
/// exact (the twin as written, for tests).
/// Returns the peaks and the frames computed.
fn detect_chunk(lim: &Limiter, st: &Stream, x: &[Vec<f32>], frames: usize) -> (Vec<f32>, usize) {
    let k = SPAN;
    // per channel: the K − 1 input frames before the chunk (the end of the line), then it
    let bufs: Vec<Vec<f32>> = st
        .line
        .iter()
        .zip(x)
        .map(|(line, ch)| {
            let mut b = Vec::with_capacity(frames + k - 1);
            b.extend_from_slice(&line[st.fill + 1 - k..st.fill]);
            if st.end.is_some() {
                b.resize(frames + k - 1, 0.0);
            } else {
                b.extend_from_slice(&ch[..frames]);
            }
            b
        })
        .collect();
    let mut e = vec![0.0f32; frames];
    if st.every_point {
        for (i, out) in e.chunks_mut(BLOCK_FRAMES).enumerate() {
            let a = i * BLOCK_FRAMES;
            for b in &bufs {
                peak_block(&lim.taps, &b[a..a + out.len() + k - 1], out);
            }
        }
        return (e, frames);
    }
    let windows: Vec<&[f32]> = bufs.iter().map(Vec::as_slice).collect();
    let quiet = (2f64.powf(f64::from(lim.params.target_l2)) * (1.0 - 1.0 / 1024.0)) as f32;
    let n = with_screen(&lim.taps, |screen| {
        match st.trace.as_ref().filter(|t| !t.peak.is_empty()) {
            Some(tr) => {
                // the hop of chunk frame i, as the trace counts it (see `process_chunk`)
                let (fed, last, end) = (st.fed, tr.peak.len() - 1, st.end);
                let hop_of = |i: usize| {
                    let fi = fed + i;
                    if fi < tr.lag || end.is_some_and(|end| fi >= end + k) {
                        return None;
                    }
                    let sf = fi - tr.lag;
                    Some(if sf < k / 2 {
                        0
                    } else {
                        ((sf - k / 2) / tr.hop).min(last)
                    })
                };
                let mut maxima = tr.peak.clone();
                screen.block(&windows, &mut e, quiet, &hop_of, &mut maxima)
            }
            None => screen.block(&windows, &mut e, quiet, &|_| None, &mut []),
        }
    });
    (e, n)
}

/// What the limiter carries from one time chunk to the next: per channel the input history
/// (the last `max(latency, K − 1)` frames: the detector's FIR window and the frames waiting
/// for their gain), the previous detector value `e[t − 1]`, the gain pipeline (hold deque,
/// window-sum ring, release state), the frame count, the song's end once known
/// ([`Stream::end_input`]) and the running minimum gain (for the report).
#[derive(Debug, Clone)]
pub struct Stream {
    /// per channel: input frames `fed − fill .. fed` in `[..fill]`, room for more behind
    line: Vec<Vec<f32>>,
    fill: usize,
    /// frames of history kept when the line slides: `max(latency, K − 1)`
    hist: usize,
    /// input frames fed so far
    fed: usize,
    /// the song's length in frames, once [`Stream::end_input`] was called
    end: Option<usize>,
    prev_e: f32,
    pipe: Pipeline,
    min_g: f32,
    /// with [`Stream::trace_per_hop`]: per hop of the song, its smallest gain and its
    /// input's true peak
    trace: Option<Trace>,
    /// every detector point computed (no screen), [`Stream::every_point`]
    every_point: bool,
    /// frames whose detector points were computed so far ([`Stream::computed_share`])
    computed: usize,
}

/// What a tracing limiter keeps per hop of the song (twin of the report area of
/// `shaders/limiter.wgsl`).
#[derive(Debug, Clone)]
struct Trace {
    /// frames per hop
    hop: usize,
    /// frames by which the limiter's input lags the song
    lag: usize,
    /// per hop, the smallest gain (log2) of its output frames
    gain: Vec<f32>,
    /// per hop, the largest oversampled peak of its input frames, the reconstruction
    /// before the song counted in the first hop and after it in the last
    peak: Vec<f32>,
}

impl Stream {
    /// Fresh state (silence before the song) for `channels` channels.
    pub fn new(lim: &Limiter, channels: usize) -> Stream {
        let l = lim.params.lookahead_frames as usize;
        let hist = latency_frames(lim).max(SPAN - 1);
        let cap = hist + BLOCK_FRAMES.max(hist);
        Stream {
            line: vec![vec![0.0; cap]; channels],
            fill: hist,
            hist,
            fed: 0,
            end: None,
            prev_e: 0.0,
            pipe: Pipeline {
                hold: VecDeque::with_capacity(l + 2),
                ring: vec![0; l + 1],
                sum: 0,
                g: 0.0,
            },
            min_g: 0.0,
            trace: None,
            every_point: false,
            computed: 0,
        }
    }

    /// The share of the frames fed so far whose detector points were computed (1 with
    /// [`Stream::every_point`]; what the screen skipped is the rest).
    pub fn computed_share(&self) -> f64 {
        self.computed as f64 / self.fed.max(1) as f64
    }

    /// This stream with every point of the detector computed, as the kernel does (the
    /// screen skips those that cannot change the output or the report: the same values;
    /// for tests that show it).
    pub fn every_point(mut self) -> Stream {
        self.every_point = true;
        self
    }

    /// Also keeps, for each of the `hops` hops of `hop_frames` frames of the song (whose
    /// frames reach the limiter `lag` frames late), the largest gain reduction and the
    /// input's true peak (read with [`Stream::reduction_per_hop_db`], [`Stream::readings`]).
    pub fn trace_per_hop(&mut self, hop_frames: usize, hops: usize, lag: usize) {
        self.trace = Some(Trace {
            hop: hop_frames.max(1),
            lag,
            gain: vec![0.0; hops],
            peak: vec![0.0; hops],
        });
    }

    /// Largest gain reduction of each hop so far, dB (≥ 0; empty without
    /// [`Stream::trace_per_hop`]). Its largest element is [`Stream::max_gain_reduction_db`].
    pub fn reduction_per_hop_db(&self) -> Vec<f32> {
        self.trace.as_ref().map_or_else(Vec::new, |t| {
            t.gain
                .iter()
                .map(|&g| (-(g as f64) * DB_PER_L2) as f32)
                .collect()
        })
    }

    /// Marks the end of the song: call it once after the song's last frame, then feed
    /// [`latency_frames`] more frames to flush the tail. Frames fed from now on read as
    /// silence whatever they hold, and, as in [`process`], nothing after the song asks for
    /// gain reduction (without this call, the frames fed are taken as more of the song).
    pub fn end_input(&mut self) {
        self.end.get_or_insert(self.fed);
    }

    /// What the stage reports ([`super::Report`]) when it traces: the lowest gain of the
    /// song (log2), each hop's, and each hop's input true peak; `None` without
    /// [`Stream::trace_per_hop`].
    pub fn readings(&self) -> Option<Vec<Vec<f32>>> {
        self.trace
            .as_ref()
            .map(|t| vec![vec![self.min_g], t.gain.clone(), t.peak.clone()])
    }

    /// Largest gain reduction applied so far to the song's frames, dB (≥ 0).
    pub fn max_gain_reduction_db(&self) -> f64 {
        -(self.min_g as f64) * DB_PER_L2
    }
}

/// Frames by which the streamed output lags the input: `L + SPAN/2` (the gain of
/// frame `n` needs the required gain up to `n + L`, whose detector reads up to
/// `x[n + L + K/2]`).
pub fn latency_frames(lim: &Limiter) -> usize {
    lim.params.lookahead_frames as usize + SPAN / 2
}

/// Limits the next chunk in place: `x` holds the next frames of every channel (all the same
/// length, any length ≥ 0; only the shortest channel's length is processed) and receives
/// the output delayed by [`latency_frames`] (the first output frames are the silence before
/// the song).
pub fn process_chunk(lim: &Limiter, st: &mut Stream, x: &mut [Vec<f32>]) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2
        return unsafe { process_chunk_avx2(lim, st, x) };
    }
    chunk(lim, st, x, true);
}

/// [`chunk`] compiled for AVX2 (no FMA: the same bits).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn process_chunk_avx2(lim: &Limiter, st: &mut Stream, x: &mut [Vec<f32>]) {
    chunk(lim, st, x, true);
}

/// [`process_chunk`]; `rest_path`: a block whose gain pipeline is at rest and asked for no
/// reduction skips its steps (the same gains: [`Pipeline::rest_through`]); false steps
/// every frame (the tests compare the two). Returns the frames whose steps were skipped.
#[inline(always)]
fn chunk(lim: &Limiter, st: &mut Stream, x: &mut [Vec<f32>], rest_path: bool) -> usize {
    let frames = x.iter().map(|c| c.len()).min().unwrap_or(0);
    if frames == 0 {
        return 0;
    }
    let mut rested = 0;
    assert_eq!(x.len(), st.line.len(), "limiter stream: channel count");
    let p = &lim.params;
    let k = SPAN;
    let lat = latency_frames(lim);
    let q_scale = Q_PER_L2 as f32;
    let floor_l2 = -(MAX_REDUCTION_L2 as f32);
    let (e_chunk, computed) = detect_chunk(lim, st, x, frames);
    st.computed += computed;
    let mut e = [0.0f32; BLOCK_FRAMES];
    let mut q = [0i32; BLOCK_FRAMES];
    let mut gains = [0.0f32; BLOCK_FRAMES];
    let mut start = 0;
    while start < frames {
        let len = BLOCK_FRAMES.min(frames - start);
        if st.fill + len > st.line[0].len() {
            let keep = st.fill - st.hist..st.fill;
            for line in st.line.iter_mut() {
                line.copy_within(keep.clone(), 0);
            }
            st.fill = st.hist;
        }
        let fill = st.fill;
        for (line, ch) in st.line.iter_mut().zip(x.iter()) {
            let dst = &mut line[fill..fill + len];
            if st.end.is_some() {
                dst.fill(0.0);
            } else {
                dst.copy_from_slice(&ch[start..start + len]);
            }
        }
        // steps 1–2 for frames t = fed + i − K/2: e[t] reads x[t − K/2 + 1 ..= t + K/2]
        e[..len].copy_from_slice(&e_chunk[start..start + len]);
        if let Some(tr) = st.trace.as_mut().filter(|t| !t.peak.is_empty()) {
            // the input's peak of song frame s = fed + i − K/2 − lag, from −K/2 to the
            // song's end + K/2 (clamped into the first and the last hop), a hop at a time
            let last = tr.peak.len() - 1;
            let lo = tr.lag.saturating_sub(st.fed).min(len);
            let hi = st
                .end
                .map_or(len, |end| (end + k).saturating_sub(st.fed).min(len));
            let mut i = lo;
            while i < hi {
                let sf = st.fed + i - tr.lag;
                let (b, run) = if sf < k / 2 {
                    (0, (k / 2 - sf).min(hi - i))
                } else {
                    let s = sf - k / 2;
                    let b = (s / tr.hop).min(last);
                    let run = if b == last {
                        hi - i
                    } else {
                        ((b + 1) * tr.hop - s).min(hi - i)
                    };
                    (b, run)
                };
                tr.peak[b] = e[i..i + run].iter().fold(tr.peak[b], |a, &v| a.max(v));
                i += run;
            }
        }
        // block index i ↔ frame t = fed + i − K/2 ↔ output frame n = t − L; bounds of the
        // frames t ≥ 0, t in the song (t < end), n ≥ 0, n in the song (`song_bound(s)`: the
        // first i whose frame fed + i − s is past the song)
        let fed = st.fed;
        let song_bound = |shift: usize| match st.end {
            Some(end) => (end + shift).saturating_sub(fed).min(len),
            None => len,
        };
        let t_first = (k / 2).saturating_sub(fed).min(len);
        let t_end = song_bound(k / 2).max(t_first);
        let n_first = lat.saturating_sub(fed).min(len);
        let n_end = song_bound(lat).max(n_first);
        // step 2: quantised required gain q[t]; e[−1] (the reconstruction between the
        // silence before the song and its first frame) seeds the pair max of frame 0
        let mut prev_e = st.prev_e;
        if let Some(i) = (k / 2 - 1).checked_sub(fed).filter(|&i| i < len) {
            prev_e = e[i];
        }
        // each frame's pair max with the frame before (a slice one behind: it vectorises)
        let required = |peak: f32| {
            floor_i32((p.target_l2 - log2_approx(peak)).min(0.0).max(floor_l2) * q_scale)
        };
        if t_first < t_end {
            q[t_first] = required(prev_e.max(e[t_first]));
            let (cur, before) = (&e[t_first + 1..t_end], &e[t_first..t_end - 1]);
            for ((qt, &en), &ep) in q[t_first + 1..t_end].iter_mut().zip(cur).zip(before) {
                *qt = required(ep.max(en));
            }
            prev_e = e[t_end - 1];
        }
        st.prev_e = prev_e;
        // steps 3–5 in shifted time t = n + L: the pipeline starts at n = −L (the input
        // before the start is silence, q = 0) so the attack ramp is complete by a peak on
        // frame 0; frames t past the song's end ask for nothing
        if rest_path
            && t_first < len
            && t_end == len
            && st.pipe.at_rest()
            && q[t_first..len].iter().all(|&v| v == 0)
        {
            // at rest and asked for nothing: every step gives the same gain
            let t_last = fed + len - 1 - k / 2;
            gains[t_first..len].fill(st.pipe.rest_through(p, t_last));
            rested += len - t_first;
        } else {
            for (i, g) in gains.iter_mut().enumerate().take(len).skip(t_first) {
                let qt = (i < t_end).then(|| q[i]);
                *g = st.pipe.step(p, qt, fed + i - k / 2);
            }
        }
        // step 6: the gain (1 for the silence before the song), largest reduction in the song
        gains[..n_first].fill(1.0);
        for &g in &gains[n_first..n_end] {
            st.min_g = st.min_g.min(g);
        }
        if let Some(tr) = st.trace.as_mut().filter(|t| !t.gain.is_empty()) {
            // output frame n = fed + i − latency is song frame n − lag; a hop at a time
            let last = tr.gain.len() - 1;
            let mut i = n_first.max((lat + tr.lag).saturating_sub(fed)).min(n_end);
            while i < n_end {
                let n = fed + i - lat - tr.lag;
                let b = (n / tr.hop).min(last);
                let run = if b == last {
                    n_end - i
                } else {
                    ((b + 1) * tr.hop - n).min(n_end - i)
                };
                tr.gain[b] = gains[i..i + run].iter().fold(tr.gain[b], |a, &g| a.min(g));
                i += run;
            }
        }
        for g in &mut gains[n_first..len] {
            *g = exp2_approx(*g);
        }
        // output: y[n] = x[n]·2^g[n], n = fed + i − latency
        for (line, ch) in st.line.iter().zip(x.iter_mut()) {
            let src = &line[fill - lat..fill - lat + len];
            for ((y, &v), &gn) in ch[start..start + len]
                .iter_mut()
                .zip(src)
                .zip(&gains[..len])
            {
                *y = v * gn;
            }
        }
        st.fill += len;
        st.fed += len;
        start += len;
    }
    rested
}

/// Limits `channels` (all the same length) in place, time-aligned: one chunk of a fresh
/// [`Stream`], [`Stream::end_input`], [`latency_frames`] frames of flush, and the first
/// `latency_frames` output frames (the silence before the song) dropped.
pub fn process(lim: &Limiter, channels: &mut [Vec<f32>]) -> LimiterReport {
    process_traced(lim, channels, None).0
}

/// [`process`], and with `hop_frames` the largest gain reduction of every hop of that many
/// frames, dB (the same gains: its largest element is the report's).
pub fn process_traced(
    lim: &Limiter,
    channels: &mut [Vec<f32>],
    hop_frames: Option<usize>,
) -> (LimiterReport, Vec<f32>) {
    let frames = channels.iter().map(|c| c.len()).min().unwrap_or(0);
    if frames == 0 {
        return (LimiterReport::default(), Vec::new());
    }
    let lat = latency_frames(lim);
    let mut st = Stream::new(lim, channels.len());
    if let Some(h) = hop_frames {
        st.trace_per_hop(h, frames.div_ceil(h.max(1)), 0);
    }
    process_chunk(lim, &mut st, channels);
    st.end_input();
    let mut tail = vec![vec![0.0f32; lat]; channels.len()];
    process_chunk(lim, &mut st, &mut tail);
    for (ch, t) in channels.iter_mut().zip(&tail) {
        if frames >= lat {
            ch.copy_within(lat..frames, 0);
            ch[frames - lat..frames].copy_from_slice(t);
        } else {
            ch[..frames].copy_from_slice(&t[lat - frames..]);
        }
    }
    let report = LimiterReport {
        max_gain_reduction_db: st.max_gain_reduction_db(),
    };
    (report, st.reduction_per_hop_db())
}

/// Hold (monotonic deque of `(frame, q)`), window sum (ring of held values, exact i32)
/// and release state.
#[derive(Debug, Clone)]
struct Pipeline {
    hold: VecDeque<(usize, i32)>,
    ring: Vec<i32>,
    sum: i32,
    g: f32,
}

impl Pipeline {
    /// At rest: no reduction held (every held `q` is 0, so is the window sum, so is the
    /// release state `g`): a step that takes `q = 0` leaves it so.
    fn at_rest(&self) -> bool {
        self.sum == 0 && self.g == 0.0 && self.hold.iter().all(|&(_, v)| v == 0)
    }

    /// Steps at rest through shifted times up to `t_last`, each taking `q = 0`, and returns
    /// the gain every one of them gives: the state [`Self::step`] leaves (the hold only
    /// `(t_last, 0)`, the ring and the sum 0, `g` the window's `0·sum_scale`).
    fn rest_through(&mut self, p: &LimiterParams, t_last: usize) -> f32 {
        self.hold.clear();
        self.hold.push_back((t_last, 0));
        self.g = 0.0 * p.sum_scale;
        self.g
    }

    /// Advances to shifted time `t = n + L`, taking `q[t]` (`None` past the song's end), and
    /// returns `g[n]` (log2 units).
    fn step(&mut self, p: &LimiterParams, qt: Option<i32>, t: usize) -> f32 {
        let l = p.lookahead_frames as usize;
        if let Some(qt) = qt {
            while self.hold.back().is_some_and(|&(_, v)| v >= qt) {
                self.hold.pop_back();
            }
            self.hold.push_back((t, qt));
        }
        // window [n, n + L] = [t − L, t]
        while self.hold.front().is_some_and(|&(idx, _)| idx + l < t) {
            self.hold.pop_front();
        }
        let m = self.hold.front().map_or(0, |&(_, v)| v);
        let slot = &mut self.ring[t % (l + 1)];
        self.sum += m - *slot;
        *slot = m;
        let a = self.sum as f32 * p.sum_scale;
        self.g = if a <= self.g {
            a
        } else {
            flush_denormal(madd(p.release_step, a - self.g, self.g))
        };
        self.g
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Quiet stretches between bursts over the ceiling, fed in chunks of several sizes: the
    /// blocks that skip their steps at rest (the quiet start: after a reduction the release
    /// state needs seconds to reach 0) give every output bit, the traced reductions and the
    /// state of the stream that steps every frame.
    #[test]
    fn rest_path_gives_the_stepwise_bits() {
        let rate = 48_000.0;
        let lim = Limiter::new(-1.0, 50.0, 240, rate as u32);
        let frames: usize = 40_000;
        let x: Vec<Vec<f32>> = (0..2)
            .map(|c| {
                (0..frames)
                    .map(|i| {
                        let t = i as f64 / rate;
                        let burst = (i / 6000) % 3 == 1;
                        let amp = if burst { 1.6 } else { 0.05 };
                        (amp * (2.0 * std::f64::consts::PI * (997.0 + 13.0 * c as f64) * t).sin())
                            as f32
                    })
                    .collect()
            })
            .collect();
        for piece in [1000, 4096, 65536] {
            let run = |rest_path: bool| {
                let mut st = Stream::new(&lim, 2);
                st.trace_per_hop(4800, frames.div_ceil(4800), 0);
                let mut out: Vec<Vec<f32>> = vec![Vec::new(); 2];
                let mut rested = 0;
                for a in (0..frames).step_by(piece) {
                    let mut c: Vec<Vec<f32>> = x
                        .iter()
                        .map(|ch| ch[a..(a + piece).min(frames)].to_vec())
                        .collect();
                    rested += chunk(&lim, &mut st, &mut c, rest_path);
                    for (o, c) in out.iter_mut().zip(c) {
                        o.extend(c);
                    }
                }
                (
                    out,
                    st.readings(),
                    st.pipe.g,
                    st.pipe.sum,
                    st.pipe.hold.clone(),
                    rested,
                )
            };
            let (fast, slow) = (run(true), run(false));
            let bits =
                |v: &[Vec<f32>]| -> Vec<u32> { v.iter().flatten().map(|x| x.to_bits()).collect() };
            assert_eq!(bits(&fast.0), bits(&slow.0), "output, pieces of {piece}");
            assert_eq!(
                bits(&fast.1.unwrap()),
                bits(&slow.1.unwrap()),
                "readings, pieces of {piece}"
            );
            assert_eq!(fast.2.to_bits(), slow.2.to_bits());
            assert_eq!((fast.3, fast.4), (slow.3, slow.4));
            // the quiet start (6000 frames less the lookahead) skipped in whole blocks
            assert!(
                fast.5 >= 4000 && slow.5 == 0,
                "frames at rest: {} / {}",
                fast.5,
                slow.5
            );
        }
    }
}
