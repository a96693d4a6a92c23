//! The figures `mixfarm bench` reports (serde: `--json` prints a [`BenchReport`]). Data
//! only; mirrors no shader.

use serde::Serialize;

use super::{BenchOptions, PARITY_BOUND_FS};

/// Wall-clock figures of one backend on one workload.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Timing {
    /// wall time, seconds
    pub wall_s: f64,
    /// seconds of audio (songs × song length; a stereo song counts once) per wall second
    pub realtime_factor: f64,
    /// songs per wall second
    pub songs_per_s: f64,
}

impl Timing {
    pub(super) fn new(wall_s: f64, songs: usize, song_s: f64) -> Timing {
        let w = wall_s.max(1e-9);
        Timing {
            wall_s,
            realtime_factor: songs as f64 * song_s / w,
            songs_per_s: songs as f64 / w,
        }
    }
}

/// GPU time of one stage kind (timestamp queries), and the bytes it moved.
#[derive(Debug, Clone, Serialize)]
pub struct StageTime {
    /// profiler stage name ("load", "gain", "mix", "envelope", "fft/forward", …)
    pub stage: String,
    /// summed GPU time, milliseconds
    pub total_ms: f64,
    /// `total_ms` / songs
    pub per_song_ms: f64,
    /// bytes read + written as issued by the kernel (see `workload::*_stage_bytes`)
    pub bytes: u64,
    /// `bytes / total time`, GB/s (10^9 bytes per second)
    pub gb_per_s: f64,
}

/// `max |gpu − cpu|` in full-scale units, dBFS and 24-bit LSBs.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Parity {
    /// largest absolute difference, full scale = 1.0
    pub max_abs: f64,
    /// the same in dBFS (−inf, written as null, when bit-identical)
    pub dbfs: f64,
    /// the same in 24-bit LSBs (2^-23)
    pub lsb24: f64,
    /// `max_abs <= PARITY_BOUND_FS`
    pub within_bound: bool,
}

impl Parity {
    /// Parity figures of an error.
    pub fn of(max_abs: f64) -> Parity {
        Parity {
            max_abs,
            dbfs: 20.0 * max_abs.log10(),
            lsb24: max_abs * (1u64 << 23) as f64,
            within_bound: max_abs <= PARITY_BOUND_FS,
        }
    }
}

/// One workload (the mix, or the convolution) on both backends.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// CPU figures (None when not run)
    pub cpu: Option<Timing>,
    /// GPU figures (None when not run or skipped)
    pub gpu: Option<Timing>,
    /// CPU wall / GPU wall
    pub speedup: Option<f64>,
    /// GPU kernel time of every stage summed, per song, milliseconds
    pub gpu_kernel_ms_per_song: Option<f64>,
    /// per-stage GPU time (empty without timestamp queries)
    pub gpu_stages: Vec<StageTime>,
    /// max |gpu − cpu| over every output sample
    pub parity: Option<Parity>,
}

/// The GPU that ran, if any.
#[derive(Debug, Clone, Serialize)]
pub struct GpuInfo {
    /// adapter name
    pub adapter: String,
    /// wgpu backend (vulkan, metal…)
    pub backend: String,
    /// a software (CPU) adapter such as llvmpipe: its figures are not GPU figures
    pub software: bool,
    /// per-stage timing available
    pub timestamps: bool,
}

/// The convolution figure's setup.
#[derive(Debug, Clone, Serialize)]
pub struct ConvolutionSetup {
    /// IR length, seconds
    pub ir_seconds: f64,
    /// IR length, frames (taps)
    pub ir_frames: usize,
    /// partitions of B = 2048 taps
    pub partitions: usize,
    /// channels convolved (songs × 2)
    pub channels: usize,
}

/// Everything `mixfarm bench` measured.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// the options (shape, seed, backends)
    pub options: BenchOptions,
    /// songs rendered (catalog size)
    pub songs: usize,
    /// seconds of audio in the catalog (songs × song length)
    pub audio_s: f64,
    /// rayon worker threads of the CPU path
    pub cpu_threads: usize,
    /// wall time of the catalog generation, seconds (not part of any figure)
    pub catalog_s: f64,
    /// the GPU used
    pub gpu: Option<GpuInfo>,
    /// why the GPU part was skipped, if it was
    pub gpu_skipped: Option<String>,
    /// the mix (Plans)
    pub mix: Section,
    /// the convolution setup (None when `ir_seconds` is 0)
    pub convolution_setup: Option<ConvolutionSetup>,
    /// the convolution engine
    pub convolution: Option<Section>,
    /// FFT stages (forward + inverse) effective bandwidth, GB/s
    pub fft_gb_per_s: Option<f64>,
    /// the whole convolution (forward + MAC + inverse) effective bandwidth, GB/s
    pub convolve_gb_per_s: Option<f64>,
}
