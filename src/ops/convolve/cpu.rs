//! CPU twin of `shaders/convolve.wgsl`: uniformly partitioned overlap-save with rayon,
//! arithmetic exactly as in the spec of the parent module. The forward and inverse FFTs are
//! [`super::fft`], the CPU twin of `shaders/fft.wgsl` (same twiddle table, stages and
//! butterflies), so on an adapter that does not fuse multiply-adds the CPU and GPU engines
//! give the same bits.
//!
//! One engine, [`Stream`]: the signal is fed in chunks of whole blocks ([`process_chunk`]);
//! the stream carries the frequency-domain delay line (the last P − 1 input spectra) and
//! the previous half-frame of input. Per chunk, every new input spectrum X_j is computed
//! once, in parallel batches of [`fft::LANES`] transforms, straight into the delay line,
//! which is laid out chunk-major for the multiply-accumulate: bins in chunks of [`LANES`],
//! one record `[re × LANES, im × LANES]` per (bin chunk, spectrum), so that for one bin
//! chunk consecutive spectra are contiguous (the live ones move to the front when the
//! line is full). Then tiles of up to [`TILE_BLOCKS`] output blocks are accumulated
//! ([`super::mac`]) and inverse transformed in parallel. The whole-song functions
//! ([`convolve`], [`convolve_window`], [`convolve_window_into`]) run a stream over the
//! signal in chunks of [`SEGMENT_BLOCKS`] blocks (memory bounded by the chunk, not the
//! song), computing only the blocks their window needs; [`run_streamed`] runs the streaming
//! form of any operator over a whole song the same way.

use std::sync::{Arc, OnceLock};

use rayon::prelude::*;

use super::fft::{self, RealFft};
use super::mac::{self, Record, CHUNKS, REC};
use super::{full_len, Kernel, BINS, BLOCK_FRAMES, FFT_SIZE};

pub use super::mac::LANES;

/// Blocks per chunk of the whole-song functions (~22 s at 48 kHz): the input spectra of
/// one chunk are held in memory at once.
pub const SEGMENT_BLOCKS: usize = 512;

/// Most output blocks accumulated and inverse transformed together by one task (one batch
/// of the FFT).
pub const TILE_BLOCKS: usize = fft::LANES;

/// The engine's FFT plan (size [`FFT_SIZE`]).
fn plan() -> &'static RealFft {
    static PLAN: OnceLock<RealFft> = OnceLock::new();
    // FFT_SIZE is a power of two >= 4: planning cannot fail.
    PLAN.get_or_init(|| RealFft::new(FFT_SIZE).expect("FFT_SIZE is a supported size"))
}

/// What the convolution of one channel carries from one chunk to the next: the
/// frequency-domain delay line (input spectra X_j, chunk-major; the last P − 1 of them are
/// live between chunks), the previous half-frame (B frames) of input and the index of the
/// next output block; plus the kernel's spectra in the same layout (shared between
/// clones).
#[derive(Debug, Clone)]
pub struct Stream {
    /// kernel spectra, chunk-major: record (bin chunk c, partition p) at `c·P + p`
    h: Arc<Vec<Record>>,
    /// P
    parts: usize,
    /// index of the next block to produce (blocks fed so far)
    next_block: usize,
    /// the last B input frames fed (zeros before the start)
    prev: Vec<f32>,
    /// delay line capacity in spectra per bin chunk
    cap: usize,
    /// index j of the spectrum at position 0 of the delay line
    first: usize,
    /// delay line: bin chunk c holds `cap` records, X_j at `c·cap + j − first`
    fdl: Vec<Record>,
}

impl Stream {
    /// A stream at the start of a signal (silence before it) for `kernel`.
    pub fn new(kernel: &Kernel) -> Stream {
        let parts = kernel.partitions;
        let mut h = Vec::new();
        h.resize(CHUNKS * parts, [0.0; REC]);
        h.par_chunks_mut(parts).enumerate().for_each(|(c, recs)| {
            for (p, rec) in recs.iter_mut().enumerate() {
                *rec = mac::record(kernel.partition(p), c);
            }
        });
        Stream {
            h: Arc::new(h),
            parts,
            next_block: 0,
            prev: vec![0.0; BLOCK_FRAMES],
            cap: 0,
            first: 0,
            fdl: Vec::new(),
        }
    }

    /// Index of the oldest stored spectrum that the next block can read: X_{next − P + 1}
    /// (or the first one stored).
    fn live_from(&self) -> usize {
        self.next_block
            .saturating_sub(self.parts - 1)
            .max(self.first)
    }

    /// Grows the delay line to hold the P − 1 past spectra plus `blocks` new ones (twice
    /// that with `slack`, so that the live spectra move to the front only every few
    /// chunks), keeping the past spectra still needed.
    fn reserve(&mut self, blocks: usize, slack: bool) {
        let need = self.parts - 1 + blocks;
        if need <= self.cap {
            return;
        }
        let cap = if slack { 2 * need } else { need };
        let mut fdl = Vec::new();
        fdl.resize(CHUNKS * cap, [0.0; REC]);
        let keep = self.live_from();
        let (from, n) = (keep - self.first, self.next_block - keep);
        if n > 0 {
            let (old, old_cap) = (&self.fdl, self.cap);
            fdl.par_chunks_mut(cap).enumerate().for_each(|(c, ring)| {
                ring[..n].copy_from_slice(&old[c * old_cap + from..c * old_cap + from + n]);
            });
        }
        self.fdl = fdl;
        self.cap = cap;
        self.first = keep;
    }

    /// Makes room for `blocks` new spectra after the live ones (capacity reserved),
    /// moving the live spectra to the front when the end is reached.
    fn make_room(&mut self, blocks: usize) {
        if self.next_block + blocks - self.first <= self.cap {
            return;
        }
        let keep = self.live_from();
        let (from, n, cap) = (keep - self.first, self.next_block - keep, self.cap);
        self.fdl
            .par_chunks_mut(cap)
            .for_each(|ring| ring.copy_within(from..from + n, 0));
        self.first = keep;
    }
}

/// Frames by which the streamed output lags the input: 0 (the engine is causal).
pub fn latency_frames(_kernel: &Kernel) -> usize {
    0
}

/// Processes the next chunk of one channel: `x` (a multiple of [`BLOCK_FRAMES`] frames)
/// in, the causal convolution `y[n] = Σ h[k]·x[n−k]` for the same frames out (`out`, as
/// long as `x`). `kernel` is the one the stream was made for. Concatenated over the chunks,
/// the outputs are bit for bit the whole-song [`convolve`] (feed zeros to flush the tail).
pub fn process_chunk(kernel: &Kernel, st: &mut Stream, x: &[f32], out: &mut [f32]) {
    assert_eq!(
        kernel.partitions, st.parts,
        "stream made for another kernel"
    );
    assert_eq!(x.len(), out.len(), "chunk input and output lengths differ");
    assert!(
        x.len().is_multiple_of(BLOCK_FRAMES),
        "chunk of {} frames is not a multiple of {BLOCK_FRAMES}",
        x.len()
    );
    let nb = x.len() / BLOCK_FRAMES;
    st.reserve(nb, true);
    feed(st, x, 0, nb, out, 0);
}

/// Feeds the chunk of `nb` blocks whose frames are `x[start ..]` (zeros past the end of
/// `x`): computes its input spectra into the delay line, then the output blocks of which
/// some frame is wanted — chunk frame t goes to `out[t + shift]` when that index is in
/// `out` — in parallel tiles of blocks. The delay line must have room for the chunk
/// ([`Stream::reserve`]).
fn feed(st: &mut Stream, x: &[f32], start: usize, nb: usize, out: &mut [f32], shift: isize) {
    if nb == 0 {
        return;
    }
    st.make_room(nb);
    let (m, parts, cap) = (st.next_block, st.parts, st.cap);
    let base = m - st.first;
    input_spectra(st, x, start, base, nb);
    // The chunk frames wanted, f_lo .. f_hi, and the blocks holding them.
    let chunk_frames = (nb * BLOCK_FRAMES) as isize;
    let f_lo = (-shift).clamp(0, chunk_frames) as usize;
    let f_hi = (out.len() as isize - shift).clamp(0, chunk_frames) as usize;
    if f_lo < f_hi {
        // Tiles of those blocks (multiples of 4 up to TILE_BLOCKS, smaller for short
        // chunks so that every thread gets work), each with the part of `out` it writes.
        let (b_lo, b_hi) = (f_lo / BLOCK_FRAMES, f_hi.div_ceil(BLOCK_FRAMES));
        let threads = rayon::current_num_threads();
        let tile = (b_hi - b_lo)
            .div_ceil(2 * threads)
            .next_multiple_of(4)
            .clamp(4, TILE_BLOCKS);
        let mut rest = &mut out[(f_lo as isize + shift) as usize..(f_hi as isize + shift) as usize];
        let mut tiles = Vec::with_capacity((b_hi - b_lo).div_ceil(tile));
        for a in (b_lo..b_hi).step_by(tile) {
            let b = (a + tile).min(b_hi);
            let lo = f_lo.max(a * BLOCK_FRAMES);
            let n = f_hi.min(b * BLOCK_FRAMES) - lo;
            let (piece, tail) = std::mem::take(&mut rest).split_at_mut(n);
            rest = tail;
            tiles.push((a, b, lo - a * BLOCK_FRAMES, piece));
        }
        let j0 = st.live_from();
        let (fdl, h, window) = (&st.fdl, &st.h, j0 - st.first..base + nb);
        tiles.into_par_iter().for_each(|(a, b, skip, piece)| {
            TILE_BUFS.with_borrow_mut(|bufs| {
                let bufs = bufs.get_or_insert_with(TileBufs::new);
                let n = b - a;
                for c in 0..CHUNKS {
                    let xs = &fdl[c * cap + window.start..c * cap + window.end];
                    let recs = &mut bufs.recs[..n];
                    mac::mac_tile(m + a, j0, xs, &h[c * parts..(c + 1) * parts], recs);
                    for (rec, y) in recs.iter().zip(bufs.y.chunks_mut(BINS)) {
                        mac::unrecord(rec, y, c);
                    }
                }
                let time = &mut bufs.time[..n * FFT_SIZE];
                plan().inverse(&bufs.y[..n * BINS], time, &mut bufs.fft);
                // the second half of each block's frame, from tile frame `skip` on
                let (mut w, mut t) = (0, skip);
                while w < piece.len() {
                    let (blk, off) = (t / BLOCK_FRAMES, t % BLOCK_FRAMES);
                    let take = (BLOCK_FRAMES - off).min(piece.len() - w);
                    let src = blk * FFT_SIZE + BLOCK_FRAMES + off;
                    piece[w..w + take].copy_from_slice(&time[src..src + take]);
                    w += take;
                    t += take;
                }
            })
        });
    }
    frames_into(
        x,
        (start + nb * BLOCK_FRAMES - BLOCK_FRAMES) as isize,
        &mut st.prev,
    );
    st.next_block += nb;
}

/// Per-task working memory of the output tiles (each thread keeps its own: every value is
/// written before it is read, so nothing carries from one tile to the next).
struct TileBufs {
    recs: [Record; TILE_BLOCKS],
    y: Vec<[f32; 2]>,
    time: Vec<f32>,
    fft: fft::Scratch,
}

impl TileBufs {
    fn new() -> TileBufs {
        TileBufs {
            recs: [[0.0; REC]; TILE_BLOCKS],
            y: vec![[0.0; 2]; TILE_BLOCKS * BINS],
            time: vec![0.0; TILE_BLOCKS * FFT_SIZE],
            fft: plan().make_scratch(),
        }
    }
}

/// Per-task working memory of the input transforms (each thread keeps its own, as
/// [`TileBufs`]): frames, spectra, FFT scratch.
struct InputBufs {
    time: Vec<f32>,
    freq: Vec<[f32; 2]>,
    fft: fft::Scratch,
}

thread_local! {
    static TILE_BUFS: std::cell::RefCell<Option<TileBufs>> = const { std::cell::RefCell::new(None) };
    static INPUT_BUFS: std::cell::RefCell<Option<InputBufs>> = const { std::cell::RefCell::new(None) };
}

/// X_j for the chunk's `nb` blocks into delay-line positions `base ..`: block i reads the
/// frame `prev ++ x[start .. start + B]` (i = 0) or `x[start + (i−1)B .. start + (i+1)B]`
/// (zeros past the end of `x`); batches of [`fft::LANES`] transforms in parallel, each
/// writing its records into every bin chunk's part of the line.
fn input_spectra(st: &mut Stream, x: &[f32], start: usize, base: usize, nb: usize) {
    // per batch g, its slice of the line in every bin chunk
    let mut batches: Vec<Vec<&mut [Record]>> = (0..nb.div_ceil(fft::LANES))
        .map(|_| Vec::with_capacity(CHUNKS))
        .collect();
    for ring in st.fdl.chunks_mut(st.cap) {
        for (g, part) in ring[base..base + nb].chunks_mut(fft::LANES).enumerate() {
            batches[g].push(part);
        }
    }
    let (fft, prev) = (plan(), &st.prev);
    batches
        .into_par_iter()
        .enumerate()
        .for_each(|(g, mut parts)| {
            INPUT_BUFS.with_borrow_mut(|bufs| {
                let InputBufs {
                    time,
                    freq,
                    fft: scratch,
                } = bufs.get_or_insert_with(|| InputBufs {
                    time: vec![0.0f32; FFT_SIZE * fft::LANES],
                    freq: vec![[0.0f32; 2]; BINS * fft::LANES],
                    fft: fft.make_scratch(),
                });
                let count = parts[0].len();
                for (t, frame) in time.chunks_mut(FFT_SIZE).take(count).enumerate() {
                    let i = g * fft::LANES + t;
                    let at = (start + i * BLOCK_FRAMES) as isize;
                    if i == 0 {
                        frame[..BLOCK_FRAMES].copy_from_slice(prev);
                        frames_into(x, at, &mut frame[BLOCK_FRAMES..]);
                    } else {
                        frames_into(x, at - BLOCK_FRAMES as isize, frame);
                    }
                }
                let freq = &mut freq[..count * BINS];
                fft.forward(&time[..count * FFT_SIZE], freq, scratch);
                for (c, part) in parts.iter_mut().enumerate() {
                    for (rec, s) in part.iter_mut().zip(freq.chunks(BINS)) {
                        *rec = mac::record(s, c);
                    }
                }
            })
        });
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
/// (every frame of `out` is overwritten). Runs a [`Stream`] over `x` in chunks of at most
/// [`SEGMENT_BLOCKS`] blocks, from the first block whose spectrum the window needs.
pub fn convolve_window_into(x: &[f32], kernel: &Kernel, offset: usize, out: &mut [f32]) {
    out.fill(0.0);
    let end = (offset + out.len()).min(full_len(x.len(), kernel));
    if offset >= end {
        return;
    }
    let out = &mut out[..end - offset];
    let k_end = end.div_ceil(BLOCK_FRAMES);
    // Blocks before the window's first one feed it only through their last P − 1 spectra.
    let k_skip = (offset / BLOCK_FRAMES).saturating_sub(kernel.partitions - 1);
    let mut st = Stream::new(kernel);
    st.next_block = k_skip;
    st.first = k_skip;
    let at = k_skip as isize * BLOCK_FRAMES as isize - BLOCK_FRAMES as isize;
    frames_into(x, at, &mut st.prev);
    st.reserve(SEGMENT_BLOCKS.min(k_end - k_skip), false);
    for k in (k_skip..k_end).step_by(SEGMENT_BLOCKS) {
        let nb = SEGMENT_BLOCKS.min(k_end - k);
        let start = k * BLOCK_FRAMES;
        feed(&mut st, x, start, nb, out, start as isize - offset as isize);
    }
}

/// `dst[i] = x[start + i]`, zero outside `x`.
fn frames_into(x: &[f32], start: isize, dst: &mut [f32]) {
    dst.fill(0.0);
    let lo = start.max(0) as usize;
    let hi = ((start + dst.len() as isize).max(0) as usize).min(x.len());
    if lo < hi {
        let t0 = (lo as isize - start) as usize;
        dst[t0..t0 + hi - lo].copy_from_slice(&x[lo..hi]);
    }
}

/// Runs a whole song through a streaming processor in place: feeds `channels` (each padded
/// with zeros) to `chunk` in chunks of whole blocks, at most [`SEGMENT_BLOCKS`] blocks, and
/// writes back the output frames `latency_frames .. latency_frames + M` of each channel
/// (M its length): the whole-song result of an operator whose stream lags by
/// `latency_frames`. The chunk buffers are the only allocation.
pub fn run_streamed(
    channels: &mut [Vec<f32>],
    latency_frames: usize,
    mut chunk: impl FnMut(&mut [Vec<f32>]),
) {
    let frames = channels.iter().map(Vec::len).max().unwrap_or(0);
    if frames == 0 {
        return;
    }
    let total = (frames + latency_frames).div_ceil(BLOCK_FRAMES) * BLOCK_FRAMES;
    let mut buf: Vec<Vec<f32>> = vec![Vec::new(); channels.len()];
    let mut start = 0;
    while start < total {
        let len = (total - start).min(SEGMENT_BLOCKS * BLOCK_FRAMES);
        for (b, ch) in buf.iter_mut().zip(channels.iter()) {
            b.resize(len, 0.0);
            frames_into(ch, start as isize, b);
        }
        chunk(&mut buf);
        // Output frame start + i is result frame start + i − latency: always before the
        // next chunk's input, so writing it in place overwrites nothing still to be read.
        for (b, ch) in buf.iter().zip(channels.iter_mut()) {
            let lo = start.max(latency_frames);
            let hi = (start + len).min(latency_frames + ch.len());
            if lo < hi {
                ch[lo - latency_frames..hi - latency_frames]
                    .copy_from_slice(&b[lo - start..hi - start]);
            }
        }
        start += len;
    }
}
