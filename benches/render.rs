//! Criterion benches of the mixing operators and the convolution engine on both backends,
//! ids `<op>/cpu` and `<op>/gpu` (gain, mix, envelope; `convolve_batch`: many songs' channels at once,
//! distinct from `ops_fft`'s single-song `convolve/cpu`), plus whole Plans of a small
//! generated catalog (`render/cpu`, `render/gpu`). Throughput is in stereo frames
//! (`Throughput::Elements`). GPU ids exist only when an adapter exists; a software adapter
//! (llvmpipe) is used too, with the small sizes, and its figures are not GPU figures.
//! GPU iterations include job upload, dispatch and the wait, but no audio transfer (the audio
//! stays on the GPU, as in the batched executor), except `render/gpu` which is the whole
//! `Renderer::run` (upload, all stages, read-back).

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use mixfarm::bench::workload::{reverb_ir, song_plan};
use mixfarm::engine::{Job, Sources};
use mixfarm::gpu::render::Renderer;
use mixfarm::gpu::{Gpu, GpuOptions};
use mixfarm::ops::convolve::gpu::{ConvolveGpu, ConvolveJob};
use mixfarm::ops::convolve::{convolve, full_len, Kernel};
use mixfarm::ops::envelope::gpu::{EnvelopeGpu, EnvelopeJob};
use mixfarm::ops::envelope::{self, Envelope};
use mixfarm::ops::gain::gpu::{GainGpu, GainJob};
use mixfarm::ops::mix::gpu::{MixGpu, MixJob};
use mixfarm::ops::{gain, mix};
use rayon::prelude::*;

/// Workload sizes: stereo songs × frames per channel, for one backend comparison.
struct Sizes {
    /// stereo buffers of the element-wise benches
    songs: usize,
    /// frames per channel of the element-wise benches
    frames: usize,
    /// stereo inputs of the convolution bench
    conv_songs: usize,
    /// convolution input, frames per channel
    conv_frames: usize,
    /// convolution IR, seconds
    ir_s: f64,
    /// whole-plan catalog: songs, stems, seconds
    catalog: (usize, usize, f64),
}

/// Hardware GPU (or CPU only): 16 stereo buffers of 10 s; llvmpipe: 4 of 1 s.
fn sizes(software: bool) -> Sizes {
    if software {
        Sizes {
            songs: 4,
            frames: 48_000,
            conv_songs: 1,
            conv_frames: 48_000,
            ir_s: 0.5,
            catalog: (2, 4, 1.0),
        }
    } else {
        Sizes {
            songs: 16,
            frames: 480_000,
            conv_songs: 4,
            conv_frames: 480_000,
            ir_s: 2.5,
            catalog: (4, 8, 10.0),
        }
    }
}

/// A test signal in [-0.5, 0.5) (LCG): only its cost matters here.
fn signal(seed: u32, len: usize) -> Vec<f32> {
    let mut s = seed.wrapping_mul(747_796_405) | 1;
    (0..len)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        })
        .collect()
}

/// A 16-breakpoint curve of constant magnitude 1 (sign flip): the kernels do the full
/// per-frame work (segment search, `g0 + slope·i`) while repeated runs neither decay into
/// denormals nor grow.
fn unit_curve(frames: usize) -> Envelope {
    Envelope::new((0..16).map(|i| ((i * frames / 16) as u64, -1.0)).collect())
}

fn group<'a>(c: &'a mut Criterion, name: &str, frames: usize) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(frames as u64))
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g
}

/// Records `f`, submits and waits.
fn gpu_run(gpu: &Gpu, f: impl FnOnce(&mut wgpu::CommandEncoder)) {
    let mut enc = gpu.device.create_command_encoder(&Default::default());
    f(&mut enc);
    gpu.queue.submit([enc.finish()]);
    gpu.wait().expect("GPU wait");
}

fn elementwise(c: &mut Criterion, gpu: Option<&Gpu>, s: &Sizes) {
    let n = s.songs * 2;
    let f = s.frames;
    let mut bufs: Vec<Vec<f32>> = (0..n).map(|i| signal(i as u32, f)).collect();
    let srcs: Vec<Vec<f32>> = (0..n).map(|i| signal(100 + i as u32, f)).collect();
    let curve = unit_curve(f);
    let segs = curve.segments(f);
    let flat: Vec<f32> = bufs.iter().chain(&srcs).flatten().copied().collect();
    let audio = gpu.map(|g| g.upload("bench audio", &flat).expect("upload"));
    let chan = |i: usize| (i * f) as u32;

    let mut g = group(c, "gain", s.songs * f);
    g.bench_function("cpu", |b| {
        b.iter(|| {
            bufs.par_iter_mut()
                .for_each(|ch| gain::cpu::apply(ch, -1.0))
        })
    });
    if let (Some(gpu), Some(audio)) = (gpu, &audio) {
        let k = GainGpu::new(gpu).expect("gain kernel");
        let jobs: Vec<GainJob> = (0..n)
            .map(|i| GainJob {
                offset: chan(i),
                frames: f as u32,
                gain: -1.0,
                _pad: 0,
            })
            .collect();
        g.bench_function("gpu", |b| {
            b.iter(|| {
                gpu_run(gpu, |e| {
                    k.encode(gpu, e, None, &jobs, audio).expect("encode")
                })
            })
        });
    }
    g.finish();

    let mut g = group(c, "mix", s.songs * f);
    g.bench_function("cpu", |b| {
        b.iter(|| {
            bufs.par_iter_mut()
                .zip(&srcs)
                .for_each(|(d, s)| mix::cpu::apply(d, s, 0.25))
        })
    });
    if let (Some(gpu), Some(audio)) = (gpu, &audio) {
        let k = MixGpu::new(gpu).expect("mix kernel");
        let jobs: Vec<MixJob> = (0..n)
            .map(|i| MixJob {
                dst_offset: chan(i),
                src_offset: chan(n + i),
                frames: f as u32,
                gain: 0.25,
            })
            .collect();
        g.bench_function("gpu", |b| {
            b.iter(|| {
                gpu_run(gpu, |e| {
                    k.encode(gpu, e, None, &jobs, audio).expect("encode")
                })
            })
        });
    }
    g.finish();

    let mut g = group(c, "envelope", s.songs * f);
    g.bench_function("cpu", |b| {
        b.iter(|| {
            bufs.par_iter_mut()
                .for_each(|ch| envelope::cpu::apply(ch, &curve.segments(f)))
        })
    });
    if let (Some(gpu), Some(audio)) = (gpu, &audio) {
        let k = EnvelopeGpu::new(gpu).expect("envelope kernel");
        let jobs: Vec<EnvelopeJob> = (0..n)
            .map(|i| EnvelopeJob {
                offset: chan(i),
                frames: f as u32,
                seg_first: 0,
                seg_count: segs.len() as u32,
            })
            .collect();
        g.bench_function("gpu", |b| {
            b.iter(|| {
                gpu_run(gpu, |e| {
                    k.encode(gpu, e, None, &jobs, &segs, audio).expect("encode")
                })
            })
        });
    }
    g.finish();
    black_box(&bufs);
}

fn convolution(c: &mut Criterion, gpu: Option<&Gpu>, s: &Sizes) {
    let ir = reverb_ir(s.ir_s, 48_000, 1);
    let kernels = [Kernel::new(&ir[0]), Kernel::new(&ir[1])];
    let f = s.conv_frames;
    let inputs: Vec<Vec<f32>> = (0..s.conv_songs * 2).map(|i| signal(i as u32, f)).collect();
    let mut g = group(c, "convolve_batch", s.conv_songs * f);
    g.bench_function("cpu", |b| {
        b.iter(|| {
            inputs
                .par_iter()
                .enumerate()
                .map(|(i, x)| convolve(x, &kernels[i % 2]))
                .collect::<Vec<_>>()
        })
    });
    if let Some(gpu) = gpu {
        let engine = ConvolveGpu::new(gpu).expect("convolve kernels");
        let set = engine
            .upload_kernels(gpu, &[&kernels[0], &kernels[1]])
            .expect("kernels");
        let flat: Vec<f32> = inputs.concat();
        let input = gpu.upload("conv in", &flat).expect("upload");
        let out_frames = full_len(f, &kernels[0]).max(full_len(f, &kernels[1]));
        let output = gpu
            .storage("conv out", (inputs.len() * out_frames * 4) as u64)
            .expect("out");
        let jobs: Vec<ConvolveJob> = (0..inputs.len())
            .map(|i| ConvolveJob {
                input_offset: (i * f) as u32,
                input_frames: f as u32,
                kernel: i % 2,
                window_offset: 0,
                output_offset: (i * out_frames) as u32,
                output_frames: full_len(f, &kernels[i % 2]) as u32,
            })
            .collect();
        g.bench_function("gpu", |b| {
            b.iter(|| {
                gpu_run(gpu, |e| {
                    engine
                        .encode(gpu, e, None, &set, &jobs, &input, &output)
                        .expect("encode")
                })
            })
        });
    }
    g.finish();
}

fn whole_plans(c: &mut Criterion, gpu: Option<&Gpu>, s: &Sizes) {
    let (songs, stems, seconds) = s.catalog;
    let catalog = mixfarm::synth::catalog(songs, stems, seconds, 48_000, 1);
    let plans: Vec<_> = catalog
        .iter()
        .enumerate()
        .map(|(i, st)| song_plan(i, st, 48_000, 1))
        .collect();
    let sources: Vec<Sources<'_>> = catalog.iter().map(|s| Sources::borrowed(s)).collect();
    let jobs: Vec<Job<'_>> = plans.iter().zip(&sources).collect();
    let frames: usize = plans.iter().map(|p| p.frames).sum();
    let mut g = group(c, "render", frames);
    g.bench_function("cpu", |b| {
        b.iter(|| {
            jobs.par_iter()
                .map(|(p, s)| mixfarm::engine::cpu::run_job(p, s).expect("render"))
                .collect::<Vec<_>>()
        })
    });
    if let Some(gpu) = gpu {
        let r = Renderer::new(gpu).expect("renderer");
        g.bench_function("gpu", |b| {
            b.iter(|| r.run(gpu, &jobs, None).expect("render"))
        });
    }
    g.finish();
}

fn benches(c: &mut Criterion) {
    let gpu = match Gpu::new(GpuOptions {
        allow_software: true,
    }) {
        Ok(Some(g)) => Some(g),
        Ok(None) => {
            eprintln!("no GPU adapter: only the <op>/cpu benches run");
            None
        }
        Err(e) => {
            eprintln!("GPU unusable ({e}): only the <op>/cpu benches run");
            None
        }
    };
    let software = gpu
        .as_ref()
        .is_some_and(|g| g.info.device_type == wgpu::DeviceType::Cpu);
    if let Some(g) = &gpu {
        eprintln!(
            "GPU: {}{}",
            g.name(),
            if software {
                " (software: NOT GPU figures; small sizes)"
            } else {
                ""
            }
        );
    }
    let s = sizes(software);
    elementwise(c, gpu.as_ref(), &s);
    convolution(c, gpu.as_ref(), &s);
    whole_plans(c, gpu.as_ref(), &s);
}

criterion_group!(render, benches);
criterion_main!(render);
