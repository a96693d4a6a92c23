//! The recursive kernels (stage kind `recursive`, [`crate::ops::kind::Recursive`]): one
//! thread per lane of every song's stage, serial in time through the chunk, the processor's
//! state carried in a GPU buffer from one chunk to the next. Every kernel takes one binding
//! layout (`shaders/recursion.wgsl`): 0 [`RecParams`], 1 the jobs ([`RecJob`]), 2 the
//! stages' parameter words, 3 the state, 4 the audio. A kernel's module is
//! `recursion.wgsl`, its includes and its own file ([`source`]); the CPU twins are the CPU
//! executor's processor streams (`ops::<name>::cpu`), which do the same arithmetic in the
//! same order.

use crate::error::Error;
use crate::gpu::kernels::source as file;
use crate::gpu::{dispatch, Gpu, Profiler};

/// Threads per workgroup (`REC_THREADS` in `shaders/recursion.wgsl`).
pub const THREADS: u32 = 64;

/// A recursive kernel: its one name (file stem and entry point of its serial pass), the
/// files it includes after `recursion.wgsl`, and the passes it runs per chunk.
#[derive(Debug, Clone, Copy)]
pub struct RecursiveOp {
    /// the stage's kernel name (`ops::kind::Recursive::op`)
    pub name: &'static str,
    /// its file in `shaders/` (the processor's one name)
    pub file: &'static str,
    /// helper files it includes, in order
    pub includes: &'static [&'static str],
    /// its passes per chunk, in order (most kernels: one serial pass named after it)
    pub passes: &'static [Pass],
}

/// One dispatch of a recursive kernel.
#[derive(Debug, Clone, Copy)]
pub struct Pass {
    /// entry point
    pub entry: &'static str,
    /// one thread per job and frame (a parallel pass), else one per job (serial in time)
    pub per_frame: bool,
}

const fn serial(entry: &'static str) -> Pass {
    Pass {
        entry,
        per_frame: false,
    }
}

const fn per_frame(entry: &'static str) -> Pass {
    Pass {
        entry,
        per_frame: true,
    }
}

/// Every recursive kernel.
pub const RECURSIVE: &[RecursiveOp] = &[
    RecursiveOp {
        name: "eq",
        file: "eq",
        includes: &["sections"],
        passes: &[serial("eq")],
    },
    RecursiveOp {
        name: "width",
        file: "width",
        includes: &["sections"],
        passes: &[serial("width")],
    },
    RecursiveOp {
        name: "compressor",
        file: "compressor",
        includes: &["loglin", "dynamics"],
        passes: &[serial("compressor")],
    },
    RecursiveOp {
        name: "multiband",
        file: "multiband",
        includes: &["sections", "loglin", "dynamics"],
        passes: &[serial("multiband")],
    },
    RecursiveOp {
        name: "delay",
        file: "delay",
        includes: &["loglin"],
        passes: &[serial("delay")],
    },
    RecursiveOp {
        name: "multiband_bands",
        file: "multiband",
        includes: &["sections", "loglin", "dynamics"],
        passes: &[serial("multiband_bands")],
    },
    RecursiveOp {
        name: "limiter",
        file: "limiter",
        includes: &["loglin"],
        passes: &[
            per_frame("limiter_feed"),
            per_frame("limiter_half"),
            per_frame("limiter_detect"),
            serial("limiter"),
        ],
    },
    RecursiveOp {
        name: "chorus",
        file: "chorus",
        includes: &[],
        passes: &[serial("chorus")],
    },
    RecursiveOp {
        name: "meter",
        file: "meter",
        includes: &["sections"],
        passes: &[serial("meter")],
    },
];

/// The files every recursive kernel is built from besides its own: the binding layout and
/// the helpers, each after those it may use.
pub const SHARED: &[&str] = &["recursion", "sections", "loglin", "dynamics"];

/// Dispatch parameters (binding 0).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct RecParams {
    /// jobs in the dispatch
    pub n_jobs: u32,
    /// frames of every job (the chunk)
    pub frames: u32,
    /// first frame a serial pass runs
    pub first: u32,
    /// frames a serial pass runs
    pub count: u32,
}

/// One lane of one song's stage (binding 1; the WGSL struct `RecJob`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct RecJob {
    /// element offset of the stage buffer's channel 0
    pub ch0: u32,
    /// element offset of its channel 1
    pub ch1: u32,
    /// element offset of the key's channel 0 (the buffer's own without a sidechain)
    pub key0: u32,
    /// element offset of the key's channel 1
    pub key1: u32,
    /// frames to run
    pub frames: u32,
    /// first parameter word of the stage
    pub coef: u32,
    /// first state word of the stage
    pub state: u32,
    /// the lane this thread runs
    pub lane: u32,
}

/// The module source of kernel `op`: `recursion.wgsl`, its includes, its file.
pub fn source(op: &RecursiveOp) -> String {
    let mut s = String::from(file("recursion"));
    for inc in op.includes {
        s.push_str(&registered(inc));
    }
    s.push_str(&registered(op.file));
    s
}

fn registered(name: &str) -> String {
    crate::gpu::kernels::KERNELS
        .iter()
        .find(|k| k.name == name)
        .map_or_else(String::new, |k| k.source.to_string())
}

/// A module that validates on its own for the file `stem` of the recursive kernels (a
/// kernel's module, or a helper after the shared files before it), or `None` when `stem`
/// is not one of them.
pub fn standalone(stem: &str) -> Option<String> {
    if let Some(op) = RECURSIVE.iter().find(|o| o.file == stem) {
        return Some(source(op));
    }
    // a helper after the helpers it may use
    let at = SHARED.iter().position(|s| *s == stem)?;
    Some(SHARED[..=at].iter().map(|s| registered(s)).collect())
}

/// Where the kernel `name` sits in [`RECURSIVE`].
pub fn index_of(name: &str) -> usize {
    RECURSIVE
        .iter()
        .position(|o| o.name == name)
        .expect("recursive stages name a registered kernel")
}

/// The compiled recursive kernels, in [`RECURSIVE`]'s order (one pipeline per pass).
pub struct RecursiveGpu {
    layout: wgpu::BindGroupLayout,
    pipelines: Vec<Vec<wgpu::ComputePipeline>>,
    /// frames per dispatch of a serial pass: the whole chunk, except on llvmpipe, which
    /// ends an invocation's loops after 65 535 iterations in all
    serial_frames: u32,
}

/// Frames per dispatch of a serial pass on llvmpipe: a multiband of five bands runs about
/// 30 loop iterations per frame.
pub const SOFTWARE_SERIAL_FRAMES: u32 = 1024;

/// The bind group layout of `shaders/recursion.wgsl`, stated (a pass need not use every
/// binding).
fn bind_layout(gpu: &Gpu) -> wgpu::BindGroupLayout {
    let entry = |binding: u32, ty: wgpu::BufferBindingType| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    };
    let read = wgpu::BufferBindingType::Storage { read_only: true };
    let write = wgpu::BufferBindingType::Storage { read_only: false };
    gpu.device
        .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("recursion"),
            entries: &[
                entry(0, wgpu::BufferBindingType::Uniform),
                entry(1, read),
                entry(2, read),
                entry(3, write),
                entry(4, write),
            ],
        })
}

impl RecursiveGpu {
    /// Compiles every recursive kernel.
    pub fn new(gpu: &Gpu) -> Result<RecursiveGpu, Error> {
        let layout = bind_layout(gpu);
        let pl = gpu
            .device
            .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some("recursion"),
                bind_group_layouts: &[Some(&layout)],
                immediate_size: 0,
            });
        let pipelines = RECURSIVE
            .iter()
            .map(|op| {
                let src = source(op);
                op.passes
                    .iter()
                    .map(|p| gpu.pipeline_in(p.entry, &src, p.entry, Some(&pl)))
                    .collect::<Result<Vec<_>, Error>>()
            })
            .collect::<Result<_, Error>>()?;
        let serial_frames = if gpu.name().to_lowercase().contains("llvmpipe") {
            SOFTWARE_SERIAL_FRAMES
        } else {
            u32::MAX
        };
        Ok(RecursiveGpu {
            layout,
            pipelines,
            serial_frames,
        })
    }

    /// Records `jobs[k]` (the jobs of kernel `k`), one dispatch per kernel with jobs.
    #[allow(clippy::too_many_arguments)]
    pub fn encode(
        &self,
        gpu: &Gpu,
        enc: &mut wgpu::CommandEncoder,
        mut prof: Option<&mut Profiler>,
        jobs: &[Vec<RecJob>],
        words: &wgpu::Buffer,
        state: &wgpu::Buffer,
        audio: &wgpu::Buffer,
    ) -> Result<(), Error> {
        for ((op, pipelines), jobs) in RECURSIVE.iter().zip(&self.pipelines).zip(jobs) {
            let Some(frames) = jobs.first().map(|j| j.frames) else {
                continue;
            };
            debug_assert!(jobs.iter().all(|j| j.frames == frames), "one chunk length");
            let j = gpu.upload(op.name, jobs)?;
            for (pass, pipeline) in op.passes.iter().zip(pipelines) {
                let step = if pass.per_frame {
                    frames
                } else {
                    self.serial_frames
                };
                let mut first = 0;
                while first < frames {
                    let count = step.min(frames - first);
                    let params = RecParams {
                        n_jobs: jobs.len() as u32,
                        frames,
                        first,
                        count,
                    };
                    let u = gpu.uniform(op.name, &params)?;
                    let bg = gpu.bind_in(&self.layout, &[&u, &j, words, state, audio]);
                    let threads =
                        jobs.len() as u64 * if pass.per_frame { frames as u64 } else { 1 };
                    let groups = threads.div_ceil(THREADS as u64);
                    dispatch(
                        gpu,
                        enc,
                        prof.as_deref_mut(),
                        pass.entry,
                        pipeline,
                        &bg,
                        groups,
                    )?;
                    first += count;
                }
            }
        }
        Ok(())
    }
}
