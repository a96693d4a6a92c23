//! Batched real FFT on the GPU (`shaders/fft.wgsl`): many transforms of `n` real points per
//! dispatch, forward real → complex (`n/2 + 1` bins) and unnormalised inverse, each framing a
//! window of a larger signal buffer (zero padding outside it), which is what overlap-save
//! convolution needs. Twiddles are computed in f64 on the host and uploaded as f32. The CPU
//! twin is `ops::convolve::fft` (same algorithm, same twiddle table).

use crate::error::Error;
use crate::gpu::{dispatch, Gpu, Profiler};

/// Shader source as shipped (FFT_N = 4096, the convolution's size).
pub const SHADER: &str = crate::gpu::kernels::source("fft");
/// FFT size the shader file is written for.
pub const DEFAULT_SIZE: usize = 4096;
/// Smallest and largest supported sizes (workgroup of 256 threads, workgroup memory n/2·8 bytes; n >= 1024 keeps every thread busy).
pub const SIZE_RANGE: std::ops::RangeInclusive<usize> = 1024..=8192;

/// Uniform parameters of `fft.wgsl` (binding 0).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct FftParams {
    /// transforms in the dispatch (= jobs)
    pub n_transforms: u32,
    /// inverse: first frame sample written out
    pub keep_from: u32,
    /// inverse: frame samples written out
    pub keep_len: u32,
    /// padding to 16 bytes
    pub _pad: u32,
}

/// One transform's framing (binding 2 of `fft.wgsl`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct FrameJob {
    /// element offset of the signal's sample 0 in the signal buffer
    pub signal_offset: u32,
    /// valid samples of the signal (reads outside are 0, writes outside are dropped)
    pub signal_len: u32,
    /// signal index of the frame's first sample (forward) or of sample `keep_from` (inverse)
    pub frame_start: i32,
    /// offset, in complex bins, of this transform's spectrum
    pub spectrum_offset: u32,
}

/// The twiddle table uploaded to `fft.wgsl`, shared with its CPU twin.
pub use crate::ops::convolve::fft::twiddles;

/// `fft.wgsl` rewritten for size `n`.
pub fn shader_source(n: usize) -> Result<String, Error> {
    if !n.is_power_of_two() || !SIZE_RANGE.contains(&n) {
        return Err(Error::Gpu {
            reason: format!("FFT size {n} unsupported (power of two in {SIZE_RANGE:?})"),
            retryable: false,
        });
    }
    let line = format!("const FFT_N: u32 = {DEFAULT_SIZE}u;");
    Ok(SHADER.replace(&line, &format!("const FFT_N: u32 = {n}u;")))
}

/// Compiled FFT pipelines for one size, with the twiddle table on the device.
pub struct Fft {
    /// real points per transform
    pub n: usize,
    forward: wgpu::ComputePipeline,
    inverse: wgpu::ComputePipeline,
    twiddles: wgpu::Buffer,
}

impl Fft {
    /// Compiles `fft.wgsl` for size `n` and uploads its twiddles.
    pub fn new(gpu: &Gpu, n: usize) -> Result<Fft, Error> {
        let src = shader_source(n)?;
        let need = (n / 2 * 8) as u32;
        if need > gpu.limits.max_compute_workgroup_storage_size {
            return Err(Error::Gpu {
                reason: format!("FFT size {n} needs {need} bytes of workgroup memory"),
                retryable: false,
            });
        }
        Ok(Fft {
            n,
            forward: gpu.pipeline("fft forward", &src, "forward")?,
            inverse: gpu.pipeline("fft inverse", &src, "inverse")?,
            twiddles: gpu.upload("fft twiddles", &twiddles(n))?,
        })
    }

    /// Complex bins per transform (`n/2 + 1`).
    pub fn bins(&self) -> usize {
        self.n / 2 + 1
    }

    #[allow(clippy::too_many_arguments)]
    fn encode(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        prof: Option<&mut Profiler>,
        inverse: bool,
        params: FftParams,
        jobs: &[FrameJob],
        signal: &wgpu::Buffer,
        spectra: &wgpu::Buffer,
    ) -> Result<(), Error> {
        if jobs.is_empty() {
            return Ok(());
        }
        let u = gpu.uniform("fft params", &params)?;
        let j = gpu.upload("fft jobs", jobs)?;
        let (pipe, name) = if inverse {
            (&self.inverse, "fft/inverse")
        } else {
            (&self.forward, "fft/forward")
        };
        let bg = gpu.bind(pipe, &[&u, &self.twiddles, &j, signal, spectra]);
        dispatch(gpu, enc, prof, name, pipe, &bg, jobs.len() as u64)
    }

    /// Records forward transforms: frame of each job (from `signal`) → its spectrum.
    pub fn encode_forward(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        prof: Option<&mut Profiler>,
        jobs: &[FrameJob],
        signal: &wgpu::Buffer,
        spectra: &wgpu::Buffer,
    ) -> Result<(), Error> {
        let p = FftParams {
            n_transforms: jobs.len() as u32,
            keep_from: 0,
            keep_len: 0,
            _pad: 0,
        };
        self.encode(gpu, enc, prof, false, p, jobs, signal, spectra)
    }

    /// Records inverse transforms writing frame samples `keep` of each job into `signal`.
    #[allow(clippy::too_many_arguments)]
    pub fn encode_inverse(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        prof: Option<&mut Profiler>,
        jobs: &[FrameJob],
        keep: std::ops::Range<usize>,
        spectra: &wgpu::Buffer,
        signal: &wgpu::Buffer,
    ) -> Result<(), Error> {
        let p = FftParams {
            n_transforms: jobs.len() as u32,
            keep_from: keep.start as u32,
            keep_len: keep.len() as u32,
            _pad: 0,
        };
        self.encode(gpu, enc, prof, true, p, jobs, signal, spectra)
    }

    /// Convenience (tests, verify): forward transforms of `frames` (each `n` long).
    pub fn rfft(&self, gpu: &Gpu, frames: &[Vec<f32>]) -> Result<Vec<Vec<[f32; 2]>>, Error> {
        let n = self.n;
        let flat: Vec<f32> = frames
            .iter()
            .flat_map(|f| f.iter().copied().chain(std::iter::repeat(0.0)).take(n))
            .collect();
        let signal = gpu.upload("fft in", &flat)?;
        let spectra = gpu.storage("fft out", (frames.len() * self.bins() * 8) as u64)?;
        let jobs: Vec<FrameJob> = (0..frames.len())
            .map(|t| FrameJob {
                signal_offset: (t * n) as u32,
                signal_len: n as u32,
                frame_start: 0,
                spectrum_offset: (t * self.bins()) as u32,
            })
            .collect();
        let mut enc = gpu.device.create_command_encoder(&Default::default());
        self.encode_forward(gpu, &mut enc, None, &jobs, &signal, &spectra)?;
        gpu.queue.submit([enc.finish()]);
        let out: Vec<[f32; 2]> = gpu.read(&spectra, 0, frames.len() * self.bins())?;
        Ok(out.chunks(self.bins()).map(|c| c.to_vec()).collect())
    }

    /// Convenience (tests, verify): unnormalised inverse transforms of `spectra`.
    pub fn irfft(&self, gpu: &Gpu, spectra: &[Vec<[f32; 2]>]) -> Result<Vec<Vec<f32>>, Error> {
        let (n, b) = (self.n, self.bins());
        let flat: Vec<[f32; 2]> = spectra
            .iter()
            .flat_map(|s| s.iter().copied().chain(std::iter::repeat([0.0; 2])).take(b))
            .collect();
        let spec = gpu.upload("ifft in", &flat)?;
        let signal = gpu.storage("ifft out", (spectra.len() * n * 4) as u64)?;
        let jobs: Vec<FrameJob> = (0..spectra.len())
            .map(|t| FrameJob {
                signal_offset: (t * n) as u32,
                signal_len: n as u32,
                frame_start: 0,
                spectrum_offset: (t * b) as u32,
            })
            .collect();
        let mut enc = gpu.device.create_command_encoder(&Default::default());
        self.encode_inverse(gpu, &mut enc, None, &jobs, 0..n, &spec, &signal)?;
        gpu.queue.submit([enc.finish()]);
        let out: Vec<f32> = gpu.read(&signal, 0, spectra.len() * n)?;
        Ok(out.chunks(n).map(|c| c.to_vec()).collect())
    }
}
