//! Rendering a batch of songs: scene → decode → Plan → backend → loudness → WAV.
//!
//! Per-song failures never stop the batch: each song ends as a [`SongReport`] that is
//! either rendered or failed with the reason (naming the file). Songs render in parallel
//! on the CPU path (rayon); the GPU backend takes them in batches.

pub mod cpu;
mod gpu_path;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::audio::pcm::Pcm;
use crate::audio::tags::Tags;
use crate::error::{Error, Result};
use crate::gpu::{Gpu, GpuOptions};
use crate::loudness::{self, Loudness, Normalisation};
use crate::plan::{Plan, Planar};
use crate::scene::compile::{self, SourceInfo};
use crate::scene::{self, LoadedSong};

/// Which engine mixes the Plans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// the CPU reference path (never touches wgpu)
    Cpu,
    /// the GPU (wgpu compute); fails if no adapter exists
    Gpu,
    /// a hardware GPU when there is one, else the CPU
    Auto,
}

/// Settings of a render.
#[derive(Clone)]
pub struct RenderOptions<'a> {
    /// output folder
    pub out_dir: PathBuf,
    /// engine
    pub backend: Backend,
    /// called after each song finishes (progress reporting)
    pub on_song_done: Option<&'a (dyn Fn(&SongReport) + Sync)>,
}

/// Outcome of one song.
#[derive(Debug, Clone, Serialize)]
pub struct SongReport {
    /// song title (or scene file name)
    pub title: String,
    /// the scene file
    pub scene: PathBuf,
    /// the written file (when rendered)
    pub output: Option<PathBuf>,
    /// `None` when rendered; the reason when failed
    pub error: Option<String>,
    /// true when the failure is in the scene itself (exit code 2)
    pub scene_error: bool,
    /// true when the failure is worth retrying elsewhere (GPU lost, out of memory: exit 75)
    pub retryable: bool,
    /// length of the render, seconds
    pub duration_s: f64,
    /// loudness of the mix before normalisation
    pub mix_loudness: Option<Loudness>,
    /// normalisation applied
    pub normalisation: Option<Normalisation>,
    /// loudness of the written output (measured on the float signal before quantisation)
    pub output_loudness: Option<Loudness>,
    /// wall time spent on this song, seconds
    pub render_s: f64,
}

impl SongReport {
    fn new(title: String, scene: PathBuf) -> Self {
        SongReport {
            title,
            scene,
            output: None,
            error: None,
            scene_error: false,
            retryable: false,
            duration_s: 0.0,
            mix_loudness: None,
            normalisation: None,
            output_loudness: None,
            render_s: 0.0,
        }
    }

    /// A song not rendered because the worker was told to stop (retryable: exit 75).
    fn interrupted(title: String, scene: PathBuf) -> Self {
        SongReport {
            error: Some("not rendered: the worker was stopped (SIGTERM); run again".into()),
            retryable: true,
            ..Self::new(title, scene)
        }
    }

    fn failed(title: String, scene: PathBuf, e: &Error) -> Self {
        SongReport {
            error: Some(e.to_string()),
            scene_error: matches!(e, Error::Scene { .. }),
            ..Self::new(title, scene)
        }
    }
}

/// Outcome of a batch.
#[derive(Debug, Clone, Serialize)]
pub struct BatchReport {
    /// one entry per song (and per scene file that could not be read)
    pub songs: Vec<SongReport>,
    /// which backend rendered (`cpu` or `gpu`; `auto` resolves to one of them)
    pub backend: Backend,
    /// the GPU adapter used, if any
    pub adapter: Option<String>,
    /// what made the batch fall back to the CPU, or stop, if anything did
    pub note: Option<String>,
    /// true when the batch could not run at all (`--backend gpu` without an adapter)
    pub fatal: bool,
    /// wall time of the whole batch, seconds
    pub wall_s: f64,
    /// the shard (`I/N`) this batch was, when sharded
    pub shard: Option<String>,
    /// SHA-256 of the sorted list of scene files the shards were cut from
    pub inputs_sha256: Option<String>,
}

impl BatchReport {
    /// Songs rendered.
    pub fn ok(&self) -> usize {
        self.songs.iter().filter(|s| s.error.is_none()).count()
    }
    /// Songs failed.
    pub fn failed(&self) -> usize {
        self.songs.len() - self.ok()
    }
    /// Seconds of audio rendered per wall second.
    pub fn realtime_factor(&self) -> f64 {
        let audio: f64 = self
            .songs
            .iter()
            .map(|s| s.duration_s)
            .fold(0.0, |a, b| a + b);
        audio / self.wall_s.max(1e-9)
    }
    /// Process exit code: 0 all ok, 1 some songs failed, 2 a scene error (or no GPU for
    /// `--backend gpu`), 75 a retryable GPU failure (device lost, out of memory).
    pub fn exit_code(&self) -> u8 {
        if self.fatal || self.songs.iter().any(|s| s.scene_error) {
            2
        } else if self.songs.iter().any(|s| s.retryable) {
            75
        } else if self.failed() > 0 {
            1
        } else {
            0
        }
    }
}

/// A song decoded and compiled, ready for a backend.
pub struct Prepared {
    /// the song as loaded
    pub loaded: LoadedSong,
    /// its Plan
    pub plan: Plan,
    /// its decoded sources, at the render rate
    pub sources: Vec<Planar>,
}

/// Validates a song, decodes its sources and compiles its Plan.
pub fn prepare(loaded: LoadedSong) -> Result<Prepared> {
    let v = compile::validate(&loaded)?;
    let rate = loaded.song.sample_rate.unwrap_or(48_000);
    let sources: Vec<Planar> = v
        .files
        .par_iter()
        .map(|p| crate::audio::load_for_render(p, rate))
        .collect::<Result<_>>()?;
    let infos: Vec<SourceInfo> = sources
        .iter()
        .map(|s| SourceInfo {
            frames: s[0].len(),
            channels: s.len(),
        })
        .collect();
    let plan = compile::compile(&loaded, &v, &infos, &crate::audio::load_for_render)?;
    Ok(Prepared {
        loaded,
        plan,
        sources,
    })
}

/// Normalises a rendered master and writes it; fills the report.
pub fn finish(
    plan: &Plan,
    mut master: Planar,
    out_dir: &Path,
    report: &mut SongReport,
) -> Result<()> {
    let with_song = |e: Error| match e {
        Error::Render { reason, .. } => Error::Render {
            song: plan.name.clone(),
            reason,
        },
        e => e,
    };
    if let Some((c, i)) = master
        .iter()
        .enumerate()
        .find_map(|(c, ch)| ch.iter().position(|x| !x.is_finite()).map(|i| (c, i)))
    {
        return Err(Error::Render {
            song: plan.name.clone(),
            reason: format!(
                "the mix produced a non-finite sample (channel {}, frame {i})",
                c + 1
            ),
        });
    }
    let (before, norm, after) =
        loudness::master_to_target(&mut master, plan.sample_rate, &plan.mastering)
            .map_err(with_song)?;
    let dest = out_dir.join(&plan.output_path);
    let tags = Tags::from_metadata(&plan.metadata).map_err(|reason| Error::Render {
        song: plan.name.clone(),
        reason,
    })?;
    let pcm = Pcm::from_planar(&master, plan.output_format, plan.dither_seed);
    crate::audio::encode::write_audio(&dest, &pcm, plan.sample_rate, plan.output_format, &tags)?;
    report.output = Some(dest);
    report.duration_s = plan.frames as f64 / f64::from(plan.sample_rate);
    report.mix_loudness = Some(before);
    report.normalisation = Some(norm);
    report.output_loudness = Some(after);
    Ok(())
}

/// Renders every song of the given scene files on the chosen backend.
pub fn render_batch(scene_paths: &[PathBuf], opts: &RenderOptions<'_>) -> BatchReport {
    let start = Instant::now();
    let entries = claim_outputs(scene::load_batch(scene_paths));
    let mut report = BatchReport {
        songs: Vec::new(),
        backend: Backend::Cpu,
        adapter: None,
        note: None,
        fatal: false,
        wall_s: 0.0,
        shard: None,
        inputs_sha256: None,
    };
    let gpu = match opts.backend {
        Backend::Cpu => None,
        b => match Gpu::new(GpuOptions {
            allow_software: b == Backend::Gpu,
        }) {
            Ok(Some(g)) => Some(g),
            Ok(None) if b == Backend::Auto => {
                report.note = Some("no hardware GPU adapter: rendered on the CPU".into());
                None
            }
            Ok(None) => {
                report.fatal = true;
                report.note = Some("--backend gpu: no GPU adapter found (is a Vulkan driver installed? `mixfarm devices` lists what wgpu sees)".into());
                report.wall_s = start.elapsed().as_secs_f64();
                return report;
            }
            Err(e) if b == Backend::Auto => {
                report.note = Some(format!("GPU unavailable ({e}): rendered on the CPU"));
                None
            }
            Err(e) => {
                report.fatal = true;
                report.note = Some(e.to_string());
                report.wall_s = start.elapsed().as_secs_f64();
                return report;
            }
        },
    };
    report.songs = match &gpu {
        None => entries
            .into_par_iter()
            .map(|e| render_one_cpu(e, opts))
            .collect(),
        Some(g) => {
            report.backend = Backend::Gpu;
            report.adapter = Some(g.name().to_string());
            gpu_path::render_all(g, entries, opts, &mut report.note)
        }
    };
    report.wall_s = start.elapsed().as_secs_f64();
    report
}

/// An output path claimed twice is an error for the later song.
fn claim_outputs(loaded: Vec<Result<LoadedSong>>) -> Vec<Result<LoadedSong>> {
    let mut claimed: HashMap<PathBuf, String> = HashMap::new();
    loaded
        .into_iter()
        .map(|l| {
            l.and_then(|s| {
                let name = PathBuf::from(s.song.output.file.clone().unwrap_or_else(|| s.title()));
                match claimed.get(&name) {
                    Some(other) => Err(s.error_at(
                        None,
                        format!(
                            "output file '{}' is already written by song '{other}'",
                            name.display()
                        ),
                    )),
                    None => {
                        claimed.insert(name, s.title());
                        Ok(s)
                    }
                }
            })
        })
        .collect()
}

static STOP: std::sync::OnceLock<std::sync::Arc<std::sync::atomic::AtomicBool>> =
    std::sync::OnceLock::new();

/// Makes SIGTERM and SIGINT stop the batch cleanly: songs already running finish and are
/// written (atomically), songs not started are reported as retryable (exit 75).
pub fn stop_on_signals() {
    let flag = STOP.get_or_init(Default::default);
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        if let Err(e) = signal_hook::flag::register(sig, std::sync::Arc::clone(flag)) {
            eprintln!("warning: cannot watch for signal {sig}: {e}");
        }
    }
}

/// True once a watched signal arrived.
pub fn stop_requested() -> bool {
    STOP.get()
        .is_some_and(|f| f.load(std::sync::atomic::Ordering::SeqCst))
}

/// One song, start to finish, on the CPU path.
fn render_one_cpu(entry: Result<LoadedSong>, opts: &RenderOptions<'_>) -> SongReport {
    let t0 = Instant::now();
    if stop_requested() {
        let r = match &entry {
            Ok(s) => SongReport::interrupted(s.title(), s.path.clone()),
            Err(e) => SongReport::interrupted(scene_name(e), scene_path(e)),
        };
        return done(r, opts);
    }
    let report = match entry {
        Err(e) => SongReport::failed(scene_name(&e), scene_path(&e), &e),
        Ok(s) => {
            let (title, path) = (s.title(), s.path.clone());
            let mut rep = SongReport::new(title.clone(), path.clone());
            match prepare(s).and_then(|p| {
                let master = cpu::run_plan(&p.plan, &p.sources)?;
                finish(&p.plan, master, &opts.out_dir, &mut rep)
            }) {
                Ok(()) => rep,
                Err(e) => SongReport::failed(title, path, &e),
            }
        }
    };
    done(
        SongReport {
            render_s: t0.elapsed().as_secs_f64(),
            ..report
        },
        opts,
    )
}

/// Reports a finished song to the progress callback.
fn done(report: SongReport, opts: &RenderOptions<'_>) -> SongReport {
    if let Some(cb) = opts.on_song_done {
        cb(&report);
    }
    report
}

pub(crate) fn scene_path(e: &Error) -> PathBuf {
    match e {
        Error::Scene { path, .. }
        | Error::Input { path, .. }
        | Error::Io { path, .. }
        | Error::Output { path, .. } => path.clone(),
        _ => PathBuf::new(),
    }
}

pub(crate) fn scene_name(e: &Error) -> String {
    scene_path(e)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}
