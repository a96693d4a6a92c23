//! GPU twin of `ops::convolve::cpu`: uniformly partitioned overlap-save, batched over many
//! channels (of many songs) per dispatch: all input spectra X_j in one `fft.wgsl` forward
//! dispatch, every Y_k in one `convolve.wgsl` multiply-accumulate dispatch, every output block
//! in one inverse dispatch. Same arithmetic as the spec in [`super`]; the kernels' spectra
//! are uploaded unchanged.
//!
//! This is the whole-signal form (benches, parity tests); the executor streams songs
//! through the same pipelines chunk by chunk (`gpu::conv_stream`).
//!
//! Long inputs are cut into segments of output blocks so that the spectra scratch fits the
//! adapter's binding limit; segments are grouped into scratch batches.

use super::{Kernel, BINS, BLOCK_FRAMES, FFT_SIZE};
use crate::error::Error;
use crate::gpu::fft::{Fft, FrameJob};
use crate::gpu::{dispatch, Gpu, Profiler};

/// Shader source of the multiply-accumulate.
pub const SHADER: &str = crate::gpu::kernels::source("convolve");

/// Uniform parameters of `convolve.wgsl` (binding 0).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct MacParams {
    /// output blocks in the dispatch
    pub n_jobs: u32,
    /// padding to 16 bytes
    pub _pad: [u32; 3],
}

/// One output block of one channel (binding 3 of `convolve.wgsl`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct MacJob {
    /// first bin of Y_k in the Y scratch
    pub y_offset: u32,
    /// first bin of the channel's ring of input spectra in the X scratch
    pub x_base: u32,
    /// slot of X_k in the ring (X_{k−p} in slot `(x_slot − p) mod ring`)
    pub x_slot: u32,
    /// spectra in the ring (more than `terms − 1`)
    pub ring: u32,
    /// first bin of H_0 in the kernel buffer
    pub h_offset: u32,
    /// partitions summed, min(P, k + 1)
    pub terms: u32,
    /// padding to 32 bytes
    pub _pad: [u32; 2],
}

/// Ring size given to a whole signal's spectra (never wraps).
pub const NO_WRAP: u32 = 1 << 30;

/// One channel to convolve: `output[0 .. output_frames] = y[window_offset ..]` where y is the
/// full convolution of `input[0 .. input_frames]` with kernel `kernel` (offsets in f32
/// elements of the buffers given to [`ConvolveGpu::encode`]). Output frames past the end of
/// y become 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConvolveJob {
    /// element offset of the input channel
    pub input_offset: u32,
    /// input length M
    pub input_frames: u32,
    /// index into the [`KernelSet`]
    pub kernel: usize,
    /// first frame of the full convolution written out (latency compensation: d)
    pub window_offset: u32,
    /// element offset of the output channel
    pub output_offset: u32,
    /// frames written
    pub output_frames: u32,
}

/// Kernels uploaded once, shared by many jobs.
pub struct KernelSet {
    /// every kernel's spectra, back to back
    pub(crate) buffer: wgpu::Buffer,
    /// first bin of each kernel's H_0 in `buffer`
    pub(crate) offsets: Vec<u32>,
    /// each kernel's P
    pub(crate) partitions: Vec<usize>,
    lens: Vec<usize>,
}

/// Compiled pipelines of the engine.
pub struct ConvolveGpu {
    pub(crate) fft: Fft,
    pub(crate) mac: wgpu::ComputePipeline,
    /// caps each spectra scratch buffer below the binding limit (tests force segmentation
    /// with it; a memory budget can too)
    pub scratch_limit_bytes: Option<u64>,
}

/// Output blocks `ka .. kb` of one job.
#[derive(Clone, Copy)]
struct Segment {
    job: usize,
    ka: usize,
    kb: usize,
    j0: usize,
}

impl ConvolveGpu {
    /// Compiles the FFT (size [`FFT_SIZE`]) and multiply-accumulate pipelines.
    pub fn new(gpu: &Gpu) -> Result<ConvolveGpu, Error> {
        Ok(ConvolveGpu {
            fft: Fft::new(gpu, FFT_SIZE)?,
            mac: gpu.pipeline("convolve mac", SHADER, "mac")?,
            scratch_limit_bytes: None,
        })
    }

    /// Uploads kernels (their spectra unchanged) into one buffer.
    pub fn upload_kernels(&self, gpu: &Gpu, kernels: &[&Kernel]) -> Result<KernelSet, Error> {
        let mut all = Vec::new();
        let mut offsets = Vec::new();
        for k in kernels {
            offsets.push(all.len() as u32);
            all.extend_from_slice(&k.spectra);
        }
        Ok(KernelSet {
            buffer: gpu.upload("convolve kernels", &all)?,
            offsets,
            partitions: kernels.iter().map(|k| k.partitions).collect(),
            lens: kernels.iter().map(|k| k.len_frames).collect(),
        })
    }

    /// Records the convolution of every job. `input` and `output` may be the same buffer with
    /// overlapping ranges (in place) only when [`ConvolveGpu::batches`] is 1: every forward
    /// transform of a batch runs before its inverse.
    #[allow(clippy::too_many_arguments)]
    pub fn encode(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        mut prof: Option<&mut Profiler>,
        kernels: &KernelSet,
        jobs: &[ConvolveJob],
        input: &wgpu::Buffer,
        output: &wgpu::Buffer,
    ) -> Result<(), Error> {
        let batches = self.plan(gpu, kernels, jobs)?;
        let bytes_per_spec = (BINS * 8) as u64;
        let max_spectra = batches
            .iter()
            .map(|b| b.iter().map(|s| 2 * (s.kb - s.j0)).sum::<usize>())
            .max()
            .unwrap_or(0);
        if max_spectra == 0 {
            return Ok(());
        }
        let max_x = batches
            .iter()
            .map(|b| b.iter().map(|s| s.kb - s.j0).sum::<usize>())
            .max()
            .unwrap_or(0);
        let max_y = batches
            .iter()
            .map(|b| b.iter().map(|s| s.kb - s.ka).sum::<usize>())
            .max()
            .unwrap_or(0);
        let xs = gpu.storage("convolve X", max_x as u64 * bytes_per_spec)?;
        let ys = gpu.storage("convolve Y", max_y as u64 * bytes_per_spec)?;
        let b = BLOCK_FRAMES as i64;
        for batch in &batches {
            let (mut fwd, mut inv, mut macs) = (Vec::new(), Vec::new(), Vec::new());
            for s in batch {
                let job = &jobs[s.job];
                let x0 = fwd.len();
                for j in s.j0..s.kb {
                    fwd.push(FrameJob {
                        signal_offset: job.input_offset,
                        signal_len: job.input_frames,
                        frame_start: ((j as i64 - 1) * b) as i32,
                        spectrum_offset: (fwd.len() * BINS) as u32,
                    });
                }
                let parts = kernels.partitions[job.kernel];
                for k in s.ka..s.kb {
                    let y_offset = (inv.len() * BINS) as u32;
                    macs.push(MacJob {
                        y_offset,
                        x_base: (x0 * BINS) as u32,
                        x_slot: (k - s.j0) as u32,
                        ring: NO_WRAP,
                        h_offset: kernels.offsets[job.kernel],
                        terms: parts.min(k + 1) as u32,
                        _pad: [0; 2],
                    });
                    inv.push(FrameJob {
                        signal_offset: job.output_offset,
                        signal_len: written_frames(job, kernels.lens[job.kernel]) as u32,
                        frame_start: (k as i64 * b - job.window_offset as i64) as i32,
                        spectrum_offset: y_offset,
                    });
                }
            }
            self.fft
                .encode_forward(gpu, enc, prof.as_deref_mut(), &fwd, input, &xs)?;
            let u = gpu.uniform(
                "mac params",
                &MacParams {
                    n_jobs: macs.len() as u32,
                    _pad: [0; 3],
                },
            )?;
            let jb = gpu.upload("mac jobs", &macs)?;
            let bg = gpu.bind(&self.mac, &[&u, &xs, &kernels.buffer, &jb, &ys]);
            let groups = (macs.len() * BINS).div_ceil(256) as u64;
            dispatch(
                gpu,
                enc,
                prof.as_deref_mut(),
                "convolve/mac",
                &self.mac,
                &bg,
                groups,
            )?;
            self.fft.encode_inverse(
                gpu,
                enc,
                prof.as_deref_mut(),
                &inv,
                BLOCK_FRAMES..FFT_SIZE,
                &ys,
                output,
            )?;
        }
        // after every forward transform: the output may alias the input
        for job in jobs {
            let w = written_frames(job, kernels.lens[job.kernel]) as u64;
            if w < job.output_frames as u64 {
                enc.clear_buffer(
                    output,
                    (job.output_offset as u64 + w) * 4,
                    Some((job.output_frames as u64 - w) * 4),
                );
            }
        }
        Ok(())
    }

    /// Number of scratch batches `encode` will record for these jobs.
    pub fn batches(
        &self,
        gpu: &Gpu,
        kernels: &KernelSet,
        jobs: &[ConvolveJob],
    ) -> Result<usize, Error> {
        Ok(self.plan(gpu, kernels, jobs)?.len())
    }

    /// Cuts jobs into segments whose X and Y scratch each fit one binding, grouped in batches.
    fn plan(
        &self,
        gpu: &Gpu,
        kernels: &KernelSet,
        jobs: &[ConvolveJob],
    ) -> Result<Vec<Vec<Segment>>, Error> {
        let limit = gpu
            .max_binding_bytes()
            .min(self.scratch_limit_bytes.unwrap_or(u64::MAX));
        let cap = (limit / (BINS as u64 * 8)) as usize;
        let mut batches: Vec<Vec<Segment>> = vec![Vec::new()];
        let (mut used_x, mut used_y) = (0usize, 0usize);
        for (i, job) in jobs.iter().enumerate() {
            let parts = kernels.partitions[job.kernel];
            let end = job.window_offset as usize + written_frames(job, kernels.lens[job.kernel]);
            if job.window_offset as usize >= end {
                continue;
            }
            if cap < parts + 1 {
                return Err(Error::Gpu {
                    reason: format!("kernel of {parts} partitions does not fit one binding"),
                    retryable: false,
                });
            }
            let seg_blocks = (cap - parts + 1).min(cap).max(1);
            let (k_first, k_end) = (
                job.window_offset as usize / BLOCK_FRAMES,
                (end - 1) / BLOCK_FRAMES + 1,
            );
            let mut ka = k_first;
            while ka < k_end {
                let kb = (ka + seg_blocks).min(k_end);
                let j0 = (ka + 1).saturating_sub(parts);
                let (nx, ny) = (kb - j0, kb - ka);
                if used_x + nx > cap || used_y + ny > cap {
                    batches.push(Vec::new());
                    used_x = 0;
                    used_y = 0;
                }
                used_x += nx;
                used_y += ny;
                batches
                    .last_mut()
                    .expect("non-empty")
                    .push(Segment { job: i, ka, kb, j0 });
                ka = kb;
            }
        }
        batches.retain(|b| !b.is_empty());
        Ok(batches)
    }
}

/// Frames of the job's window that hold convolution output (the rest is cleared to 0, as
/// the CPU twin does).
fn written_frames(job: &ConvolveJob, kernel_len: usize) -> usize {
    let full = if job.input_frames == 0 {
        0
    } else {
        job.input_frames as usize + kernel_len - 1
    };
    full.saturating_sub(job.window_offset as usize)
        .min(job.output_frames as usize)
}
