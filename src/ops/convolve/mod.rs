//! PLACEHOLDER until branch `fft` (the CPU twin, which owns this file) is merged: only the
//! shared [`Kernel`] and the engine constants from `notes/convolve-spec.md`, so the GPU twin
//! ([`gpu`], `shaders/convolve.wgsl`) builds and is tested against an f64 oracle. On merge
//! take `fft`'s version of this file and add `pub mod gpu;`.

pub mod gpu;

use realfft::num_complex::Complex;
use realfft::RealFftPlanner;

/// Hop size B of the overlap-save engine, in frames (also the partition length).
pub const BLOCK_FRAMES: usize = 1024;
/// Real FFT size N = 2B.
pub const FFT_SIZE: usize = 2 * BLOCK_FRAMES;
/// Complex bins of a real FFT of [`FFT_SIZE`] points (N/2 + 1).
pub const BINS: usize = FFT_SIZE / 2 + 1;

/// A filter ready for the engine: its partition spectra, shared as-is by both backends.
#[derive(Clone, Debug)]
pub struct Kernel {
    /// filter length L in frames, >= 1
    pub len_frames: usize,
    /// partitions P = ceil(L / B)
    pub partitions: usize,
    /// partition spectra `[p][bin]`, `[re, im]`, pre-scaled by 1/N
    pub spectra: Vec<[f32; 2]>,
}

impl Kernel {
    /// Partition spectra of `ir` in f64 (realfft), scaled by 1/N, rounded to f32.
    pub fn new(ir: &[f64]) -> Kernel {
        let ir = if ir.is_empty() { &[0.0][..] } else { ir };
        let partitions = ir.len().div_ceil(BLOCK_FRAMES);
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(FFT_SIZE);
        let mut time = vec![0.0f64; FFT_SIZE];
        let mut freq = vec![Complex::new(0.0f64, 0.0); BINS];
        let mut spectra = Vec::with_capacity(partitions * BINS);
        for part in ir.chunks(BLOCK_FRAMES) {
            time.fill(0.0);
            time[..part.len()].copy_from_slice(part);
            fft.process(&mut time, &mut freq)
                .expect("f64 FFT buffer sizes");
            let s = 1.0 / FFT_SIZE as f64;
            spectra.extend(freq.iter().map(|c| [(c.re * s) as f32, (c.im * s) as f32]));
        }
        Kernel {
            len_frames: ir.len(),
            partitions,
            spectra,
        }
    }
}

/// Length of the full convolution (M + L - 1; 0 for an empty input).
pub fn full_len(input_frames: usize, kernel: &Kernel) -> usize {
    if input_frames == 0 {
        0
    } else {
        input_frames + kernel.len_frames - 1
    }
}
