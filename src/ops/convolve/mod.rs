//! The convolution engine: uniformly partitioned overlap-save (UPOLS).
//!
//! One algorithm, two twins: [`cpu`] (rayon, with [`fft`], the CPU twin of the Stockham FFT
//! `shaders/fft.wgsl`, streamed in chunks of whole blocks with the delay line carried
//! between them) and `shaders/convolve.wgsl` (that FFT in workgroup memory). Both follow
//! this specification exactly:
//!
//! - hop [`BLOCK_FRAMES`] B = 2048, real FFT size [`FFT_SIZE`] N = 2B, [`BINS`] = N/2 + 1;
//! - the filter h (length L >= 1) is cut into P = ceil(L / B) partitions of B taps, each
//!   zero-padded to N and transformed on the host in f64, scaled by 1/N, rounded to f32
//!   ([`Kernel`], partition-major `[p][bin]`, `[re, im]` pairs);
//! - block k = 0 .. K-1, K = ceil((M + L - 1) / B), reads the input frame
//!   x[(k-1)B .. (k+1)B] (zeros outside the signal), X_k = RFFT_N(frame) in f32;
//! - Y_k = sum over p = 0 .. P-1, in that order, skipping k - p < 0, of X_{k-p} · H_p
//!   (complex multiply-accumulate in f32, `re = (re + a.re*b.re) - a.im*b.im`,
//!   `im = (im + a.re*b.im) + a.im*b.re`, a = X, b = H, no fused multiply-add; the
//!   accumulator-first order is what llvmpipe compiled the spec's `re += a.re*b.re - a.im*b.im`
//!   to, spelled out in both twins so that no compiler has anything to reassociate);
//! - y_k = unnormalised IRFFT_N(Y_k); its second half y_k[B .. 2B] is output y[kB .. kB+B].
//!
//! Block k needs only the input up to frame (k+1)B and the spectra X_{k−P+1} .. X_k, so the
//! engine streams: [`cpu::Stream`] carries the last P − 1 spectra (the frequency-domain
//! delay line) and the last B input frames from one chunk to the next, and the chunks'
//! outputs are the blocks of the whole-song convolution, bit for bit.
//!
//! Used by the linear-phase EQ, the linear-phase crossover and the convolution reverb.

pub mod cpu;
pub mod fft;
pub mod gpu;
mod mac;
mod transpose;

use realfft::num_complex::Complex;
use realfft::RealFftPlanner;

pub use cpu::{convolve, convolve_window, convolve_window_into};

/// Hop size B of the overlap-save engine, in frames (also the partition length).
pub const BLOCK_FRAMES: usize = 2048;

/// Real FFT size N = 2B.
pub const FFT_SIZE: usize = 2 * BLOCK_FRAMES;

/// Number of complex bins of a real FFT of [`FFT_SIZE`] points (N/2 + 1).
pub const BINS: usize = FFT_SIZE / 2 + 1;

/// A filter ready for the engine: the spectra of its partitions, shared as-is by the CPU
/// and the GPU (uploaded unchanged).
#[derive(Clone, Debug)]
pub struct Kernel {
    /// filter length L in frames (taps), >= 1
    pub len_frames: usize,
    /// number of partitions P = ceil(L / B)
    pub partitions: usize,
    /// partition spectra, partition-major `[p][bin]`, `[re, im]`, pre-scaled by 1/N
    /// (`partitions * BINS` entries)
    pub spectra: Vec<[f32; 2]>,
}

impl Kernel {
    /// Designs the kernel of the FIR `ir` (f64 taps): each B-tap partition is zero-padded
    /// to N, transformed in f64, scaled by 1/N and rounded to f32.
    /// An empty `ir` is treated as the single tap `[0.0]` (the filter that outputs silence).
    pub fn new(ir: &[f64]) -> Kernel {
        const ZERO: [f64; 1] = [0.0];
        let ir = if ir.is_empty() { &ZERO[..] } else { ir };
        let partitions = ir.len().div_ceil(BLOCK_FRAMES);
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(FFT_SIZE);
        let mut time = vec![0.0f64; FFT_SIZE];
        let mut freq = vec![Complex::new(0.0f64, 0.0); BINS];
        let mut scratch = fft.make_scratch_vec();
        let mut spectra = Vec::with_capacity(partitions * BINS);
        let scale = 1.0 / FFT_SIZE as f64;
        for part in ir.chunks(BLOCK_FRAMES) {
            time.fill(0.0);
            time[..part.len()].copy_from_slice(part);
            // Lengths match the plan by construction: the call cannot fail.
            fft.process_with_scratch(&mut time, &mut freq, &mut scratch)
                .expect("f64 FFT buffer sizes");
            spectra.extend(
                freq.iter()
                    .map(|c| [(c.re * scale) as f32, (c.im * scale) as f32]),
            );
        }
        Kernel {
            len_frames: ir.len(),
            partitions,
            spectra,
        }
    }

    /// The spectrum of partition `p` (`BINS` entries).
    pub fn partition(&self, p: usize) -> &[[f32; 2]] {
        &self.spectra[p * BINS..(p + 1) * BINS]
    }
}

/// Length of the full convolution of `input_frames` frames with `kernel`: M + L - 1, or 0
/// for an empty input (the convolution of nothing is nothing).
pub fn full_len(input_frames: usize, kernel: &Kernel) -> usize {
    if input_frames == 0 {
        0
    } else {
        input_frames + kernel.len_frames - 1
    }
}

/// Number of blocks K = ceil((M + L - 1) / B) the engine runs for the full convolution.
pub fn block_count(input_frames: usize, kernel: &Kernel) -> usize {
    full_len(input_frames, kernel).div_ceil(BLOCK_FRAMES)
}
