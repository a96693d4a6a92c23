//! The convolution figure of `mixfarm bench`: a synthetic stereo reverb IR over every song's
//! master, full convolution (M + L − 1 frames per channel), left IR on the left channel and
//! right IR on the right. CPU: `ops::convolve::cpu::convolve` (songs × channels in parallel,
//! each parallel inside). GPU: `ConvolveGpu` (shaders/fft.wgsl + shaders/convolve.wgsl), all
//! channels of as many songs as fit one storage binding per submit.

use std::time::Instant;

use rayon::prelude::*;

use super::workload::{convolve_stage_bytes, reverb_ir};
use super::{
    finish_section, group_gb_per_s, stage_times, warn_dropped, BenchOptions, ConvolutionSetup,
    Parity, Section, Timing, PROFILER_PASSES,
};
use crate::error::{Error, Result};
use crate::gpu::{Gpu, Profiler};
use crate::ops::convolve::gpu::{ConvolveGpu, ConvolveJob};
use crate::ops::convolve::{convolve, full_len, Kernel};
use crate::plan::{Planar, PLAN_CHANNELS};

/// What [`measure`] found.
pub(super) struct Measured {
    pub setup: ConvolutionSetup,
    pub section: Section,
    pub fft_gb_per_s: Option<f64>,
    pub convolve_gb_per_s: Option<f64>,
}

/// Times the convolution of every master on the CPU (when `opts.cpu`) and on `gpu`.
pub(super) fn measure(
    opts: &BenchOptions,
    masters: &[Planar],
    song_s: f64,
    gpu: Option<&Gpu>,
) -> Result<Measured> {
    let ir = reverb_ir(opts.ir_seconds, opts.sample_rate, opts.seed);
    let kernels = [Kernel::new(&ir[0]), Kernel::new(&ir[1])];
    let frames = masters.first().map_or(0, |m| m[0].len());
    let songs = masters.len();
    let mut section = super::empty_section();

    let cpu_out = if opts.cpu {
        let t = Instant::now();
        let out: Vec<Planar> = masters
            .par_iter()
            .map(|m| {
                m.par_iter()
                    .zip(kernels.par_iter())
                    .map(|(x, k)| convolve(x, k))
                    .collect()
            })
            .collect();
        section.cpu = Some(Timing::new(t.elapsed().as_secs_f64(), songs, song_s));
        Some(out)
    } else {
        None
    };

    let mut gpu_out = None;
    if let Some(g) = gpu {
        let engine = ConvolveGpu::new(g)?;
        let mut prof = Profiler::new(g, PROFILER_PASSES)?;
        let t = Instant::now();
        let out = run_gpu(g, &engine, &kernels, masters, prof.as_mut())?;
        section.gpu = Some(Timing::new(t.elapsed().as_secs_f64(), songs, song_s));
        if let Some(p) = &prof {
            let bytes = convolve_stage_bytes(songs * PLAN_CHANNELS, frames, &kernels[0]);
            section.gpu_stages = stage_times(&p.totals_ns, &bytes, songs);
            warn_dropped(p);
        }
        gpu_out = Some(out);
    }
    finish_section(&mut section, songs);
    if let (Some(c), Some(g)) = (&cpu_out, &gpu_out) {
        section.parity = Some(Parity::of(super::max_abs_diff(c, g)));
    }
    let fft_gb_per_s = group_gb_per_s(&section.gpu_stages, &["fft/forward", "fft/inverse"]);
    let convolve_gb_per_s = group_gb_per_s(
        &section.gpu_stages,
        &["fft/forward", "convolve/mac", "fft/inverse"],
    );
    Ok(Measured {
        setup: ConvolutionSetup {
            ir_seconds: opts.ir_seconds,
            ir_frames: kernels[0].len_frames,
            partitions: kernels[0].partitions,
            channels: songs * PLAN_CHANNELS,
        },
        section,
        fft_gb_per_s,
        convolve_gb_per_s,
    })
}

/// Convolves every master on the GPU, as many songs per submit as fit one binding (input
/// and output each).
fn run_gpu(
    g: &Gpu,
    engine: &ConvolveGpu,
    kernels: &[Kernel; 2],
    masters: &[Planar],
    mut prof: Option<&mut Profiler>,
) -> Result<Vec<Planar>> {
    let set = engine.upload_kernels(g, &[&kernels[0], &kernels[1]])?;
    let frames = masters.first().map_or(0, |m| m[0].len());
    let out_frames = full_len(frames, &kernels[0]).max(full_len(frames, &kernels[1]));
    let song_bytes = (PLAN_CHANNELS * out_frames * 4) as u64;
    let per_submit = (g.max_binding_bytes() / song_bytes.max(1)) as usize;
    if per_submit == 0 {
        return Err(Error::Gpu {
            reason: format!(
                "one song's convolution output ({song_bytes} bytes) is over the binding limit"
            ),
            retryable: false,
        });
    }
    let mut result = Vec::with_capacity(masters.len());
    for group in masters.chunks(per_submit) {
        let input: Vec<f32> = group.iter().flatten().flatten().copied().collect();
        let in_buf = g.upload("bench convolve in", &input)?;
        drop(input);
        let total_out = group.len() * PLAN_CHANNELS * out_frames;
        let out_buf = g.storage("bench convolve out", total_out as u64 * 4)?;
        let mut jobs = Vec::new();
        for (s, _) in group.iter().enumerate() {
            for (c, k) in kernels.iter().enumerate() {
                let i = s * PLAN_CHANNELS + c;
                jobs.push(ConvolveJob {
                    input_offset: (i * frames) as u32,
                    input_frames: frames as u32,
                    kernel: c,
                    window_offset: 0,
                    output_offset: (i * out_frames) as u32,
                    output_frames: full_len(frames, k) as u32,
                });
            }
        }
        let mut enc = g.device.create_command_encoder(&Default::default());
        engine.encode(
            g,
            &mut enc,
            prof.as_deref_mut(),
            &set,
            &jobs,
            &in_buf,
            &out_buf,
        )?;
        if let Some(p) = prof.as_deref() {
            p.resolve(&mut enc);
        }
        g.queue.submit([enc.finish()]);
        g.wait()?;
        if let Some(p) = prof.as_deref_mut() {
            p.collect(g)?;
        }
        let flat: Vec<f32> = g.read(&out_buf, 0, total_out)?;
        for (s, _) in group.iter().enumerate() {
            result.push(
                jobs[s * PLAN_CHANNELS..(s + 1) * PLAN_CHANNELS]
                    .iter()
                    .map(|j| {
                        let o = j.output_offset as usize;
                        flat[o..o + j.output_frames as usize].to_vec()
                    })
                    .collect(),
            );
        }
    }
    Ok(result)
}
