//! The GPU path of a batch: songs are decoded and compiled on the CPU (rayon) in chunks,
//! each chunk's Plans run batched on the GPU ([`crate::gpu::render::Renderer`]), and the
//! masters are normalised and written on the CPU. Decoding the next chunk overlaps the GPU
//! work on the current one (`rayon::join`).
//!
//! A retryable GPU failure (device lost, out of memory) ends the GPU work: with
//! `--backend auto` the remaining songs fall back to the CPU; with `--backend gpu` they fail
//! as retryable (exit code 75). Songs already written stay written.

use std::time::Instant;

use rayon::prelude::*;

use super::{
    done, finish, prepare, render_one_cpu, scene_name, scene_path, Backend, Prepared,
    RenderOptions, SongReport,
};
use crate::error::{Error, Result};
use crate::gpu::render::Renderer;
use crate::gpu::Gpu;
use crate::scene::LoadedSong;

/// Songs decoded per chunk: enough to fill the GPU, few enough to bound host memory.
fn chunk_songs() -> usize {
    (2 * rayon::current_num_threads()).max(8)
}

/// A chunk entry: the song's report so far, its prepared work (or why it cannot render:
/// an unreadable scene, a bad stem), and when it started.
type Entry = (SongReport, Result<Prepared>, Instant);

fn prepare_chunk(chunk: Vec<Result<LoadedSong>>) -> Vec<Entry> {
    chunk
        .into_par_iter()
        .map(|entry| {
            let t0 = Instant::now();
            match entry {
                Err(e) => (SongReport::new(scene_name(&e), scene_path(&e)), Err(e), t0),
                Ok(s) => {
                    let rep = SongReport::new(s.title(), s.path.clone());
                    (rep, prepare(s), t0)
                }
            }
        })
        .collect()
}

/// Renders every entry, GPU first; see the module docs for failures.
pub fn render_all(
    gpu: &Gpu,
    entries: Vec<Result<LoadedSong>>,
    opts: &RenderOptions<'_>,
    note: &mut Option<String>,
) -> Vec<SongReport> {
    let renderer = match Renderer::new(gpu) {
        Ok(r) => r,
        Err(e) => return gpu_failed(e, entries, opts, note),
    };
    let mut chunks: Vec<Vec<Result<LoadedSong>>> = Vec::new();
    let mut it = entries.into_iter().peekable();
    while it.peek().is_some() {
        chunks.push(it.by_ref().take(chunk_songs()).collect());
    }
    let mut reports = Vec::new();
    let mut chunks = chunks.into_iter();
    let mut current = chunks.next().map(prepare_chunk);
    while let Some(entries) = current.take() {
        if super::stop_requested() {
            // Stopped: nothing more starts; the songs left are retryable (exit 75).
            let rest = entries
                .into_iter()
                .map(|(rep, _, _)| (rep.title, rep.scene))
                .chain(chunks.flatten().map(|e| match e {
                    Ok(s) => (s.title(), s.path),
                    Err(e) => (super::scene_name(&e), super::scene_path(&e)),
                }));
            for (title, scene) in rest {
                reports.push(super::done(SongReport::interrupted(title, scene), opts));
            }
            return reports;
        }
        let next_chunk = chunks.next();
        let (gpu_out, next) = rayon::join(
            || run_chunk(gpu, &renderer, &entries),
            || next_chunk.map(prepare_chunk),
        );
        match gpu_out {
            Ok(masters) => reports.extend(finish_chunk(entries, masters, opts)),
            Err(e) => {
                // songs that failed before the GPU keep their own error; the others (this
                // chunk, the next, and the rest) go to the fallback
                let mut rest: Vec<Result<LoadedSong>> = Vec::new();
                for (rep, p, t0) in entries.into_iter().chain(next.into_iter().flatten()) {
                    match p {
                        Ok(p) => rest.push(Ok(p.loaded)),
                        Err(pe) => {
                            reports.extend(finish_chunk(vec![(rep, Err(pe), t0)], vec![None], opts))
                        }
                    }
                }
                rest.extend(chunks.flatten());
                reports.extend(gpu_failed(e, rest, opts, note));
                return reports;
            }
        }
        current = next;
    }
    reports
}

/// Runs one chunk's Plans on the GPU: per song its master or its own error.
fn run_chunk(
    gpu: &Gpu,
    renderer: &Renderer,
    entries: &[Entry],
) -> Result<Vec<Option<Result<crate::plan::Planar>>>> {
    let jobs: Vec<(usize, (&crate::plan::Plan, &[crate::plan::Planar]))> = entries
        .iter()
        .enumerate()
        .filter_map(|(i, (_, p, _))| {
            p.as_ref()
                .ok()
                .map(|p| (i, (&p.plan, p.sources.as_slice())))
        })
        .collect();
    let results = renderer.run(gpu, &jobs.iter().map(|(_, j)| *j).collect::<Vec<_>>(), None)?;
    let mut out: Vec<Option<Result<crate::plan::Planar>>> =
        (0..entries.len()).map(|_| None).collect();
    for ((i, _), r) in jobs.into_iter().zip(results) {
        out[i] = Some(r);
    }
    Ok(out)
}

fn finish_chunk(
    entries: Vec<Entry>,
    masters: Vec<Option<Result<crate::plan::Planar>>>,
    opts: &RenderOptions<'_>,
) -> Vec<SongReport> {
    entries
        .into_par_iter()
        .zip(masters)
        .map(|((mut rep, prepared, t0), master)| {
            let outcome = match (prepared, master) {
                (Err(e), _) => Err(e),
                (Ok(p), Some(Ok(m))) => finish(&p.plan, m, &opts.out_dir, &mut rep),
                (Ok(_), Some(Err(e))) => Err(e),
                (Ok(_), None) => Err(Error::Gpu {
                    reason: "song was not rendered".into(),
                    retryable: false,
                }),
            };
            let rep = match outcome {
                Ok(()) => rep,
                Err(e) => SongReport::failed(rep.title.clone(), rep.scene.clone(), &e),
            };
            done(
                SongReport {
                    render_s: t0.elapsed().as_secs_f64(),
                    ..rep
                },
                opts,
            )
        })
        .collect()
}

/// The GPU failed: fall back to the CPU (`auto`) or fail the remaining songs.
fn gpu_failed(
    e: Error,
    rest: Vec<Result<LoadedSong>>,
    opts: &RenderOptions<'_>,
    note: &mut Option<String>,
) -> Vec<SongReport> {
    if opts.backend == Backend::Auto {
        *note = Some(format!(
            "{e}; the remaining {} songs rendered on the CPU",
            rest.len()
        ));
        return rest
            .into_par_iter()
            .map(|s| render_one_cpu(s, opts))
            .collect();
    }
    *note = Some(format!("{e}; {} songs not rendered", rest.len()));
    let retry = Error::Gpu {
        reason: e.to_string(),
        retryable: true,
    };
    rest.into_iter()
        .map(|s| match s {
            Ok(s) => done(SongReport::failed(s.title(), s.path.clone(), &retry), opts),
            Err(se) => done(
                SongReport::failed(scene_name(&se), scene_path(&se), &se),
                opts,
            ),
        })
        .collect()
}
