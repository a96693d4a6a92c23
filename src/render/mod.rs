//! `mixfarm render`: scene files → songs → Plans → the engine ([`crate::engine`]) → the
//! closing (loudness, limiter, fades) → WAV/FLAC.
//!
//! Per-song failures never stop the batch: each song ends as a [`SongReport`] that is
//! either rendered or failed with the reason (naming the file). Songs go through in groups
//! (decoded and compiled in parallel, then run as one batch on the chosen backend, then closed
//! and written in parallel); decoding the next group overlaps running the current one.

mod report;
pub mod resume;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

pub use crate::engine::Backend;
pub use report::{BatchReport, SongReport};

use crate::audio::stream::SourceStream;
use crate::audio::tags::Tags;
use crate::core::Planar;
use crate::engine::{self, Executor, KeptMaster, Member, Sources};
use crate::error::{Error, Result};
use crate::gpu::Kept;
use crate::loudness::{self, Normalisation};
use crate::plan::Plan;
use crate::scene::compile::{self, SceneDelivery, SourceInfo};
use crate::scene::{self, LoadedSong};

/// Settings of a render.
#[derive(Clone)]
pub struct RenderOptions<'a> {
    /// output folder
    pub out_dir: PathBuf,
    /// engine
    pub backend: Backend,
    /// called after each song finishes (progress reporting)
    pub on_song_done: Option<&'a (dyn Fn(&SongReport) + Sync)>,
    /// skip a song whose output is on disk with a sidecar of the same inputs ([`resume`])
    pub skip_existing: bool,
    /// most limiter gain reduction before a song gets a warning, dB
    /// ([`engine::DEFAULT_MAX_REDUCTION_DB`] by default)
    pub max_reduction_db: f64,
}

/// A song decoded and compiled, ready for a backend.
pub struct Prepared {
    /// the song as loaded
    pub loaded: LoadedSong,
    /// its Plan
    pub plan: Plan,
    /// its closing and output file
    pub delivery: SceneDelivery,
    /// its sources, read at the render rate as the engine needs them
    pub sources: Sources<'static>,
    /// hash of its inputs, recorded in the output's sidecar ([`resume`])
    pub inputs_sha256: Option<String>,
}

/// Validates a song, decodes its sources and compiles its Plan.
pub fn prepare(loaded: LoadedSong) -> Result<Prepared> {
    let v = compile::validate(&loaded)?;
    let rate = loaded.song.sample_rate.unwrap_or(48_000);
    let streams: Vec<SourceStream> = v
        .files
        .par_iter()
        .map(|p| SourceStream::open(p, rate))
        .collect::<Result<_>>()?;
    let infos: Vec<SourceInfo> = streams
        .iter()
        .map(|s| SourceInfo {
            frames: s.frames(),
            channels: s.channels(),
        })
        .collect();
    let sources = Sources::streams(streams);
    let (plan, delivery) = compile::compile(&loaded, &v, &infos, &crate::audio::load_for_render)?;
    Ok(Prepared {
        loaded,
        plan,
        delivery,
        sources,
        inputs_sha256: None,
    })
}

/// A rendered master at its delivery rate, measured, ready for the closing.
pub struct Opened {
    /// the master at the delivery rate
    pub master: Planar,
    /// the delivery rate, Hz
    pub rate: u32,
    /// its loudness before the closing
    pub before: crate::loudness::Loudness,
    /// where the mix was held between the mix and the closing: `"gpu"` (mixed inside the
    /// closing, or kept in GPU memory) or `"host"`
    pub held_on: &'static str,
}

fn song_err(p: &Prepared, reason: String) -> Error {
    Error::Render {
        song: p.plan.name.clone(),
        reason,
    }
}

fn with_song(p: &Prepared, e: Error) -> Error {
    match e {
        Error::Render { reason, .. } => song_err(p, reason),
        e => e,
    }
}

/// Checks a rendered master, converts it to the delivery rate and measures it.
pub fn open(p: &Prepared, master: Planar) -> Result<Opened> {
    let (plan, d) = (&p.plan, &p.delivery);
    if let Some((c, i)) = master
        .iter()
        .enumerate()
        .find_map(|(c, ch)| ch.iter().position(|x| !x.is_finite()).map(|i| (c, i)))
    {
        return Err(song_err(
            p,
            format!(
                "the mix produced a non-finite sample (channel {}, frame {i})",
                c + 1
            ),
        ));
    }
    // the delivery rate (the [output]'s, else the preset's): converted before the closing
    // limiter, so the ceiling holds at the rate delivered
    let rate = d.delivery_rate_hz;
    let master =
        crate::audio::resample::resample_delivery(&d.scene_path, &master, plan.sample_rate, rate)?;
    let before = loudness::measure(&master, rate).map_err(|e| with_song(p, e))?;
    Ok(Opened {
        master,
        rate,
        before,
        held_on: "host",
    })
}

/// The song's closing group: itself alone, toward its delivery's target.
pub fn group<'a>(p: &'a Prepared, o: &'a Opened) -> engine::Group<'a> {
    let d = &p.delivery;
    engine::Group {
        members: vec![Member {
            audio: &o.master,
            chain: None,
            rate: o.rate,
            limiter: d.limiter.as_ref(),
            offset_db: 0.0,
            fades: d.fades,
            measured: Some(&o.before),
            curves: false,
        }],
        target_lufs: d.target_lufs,
        ceiling_dbtp: d.ceiling_dbtp,
    }
}

/// Writes a closed song (`out`: its group's outcome) and fills the report.
pub fn write(
    p: &Prepared,
    o: &Opened,
    out: Result<engine::Outcome>,
    out_dir: &Path,
    report: &mut SongReport,
) -> Result<()> {
    let (plan, d) = (&p.plan, &p.delivery);
    let (rate, before) = (o.rate, o.before);
    let song_err = |reason: String| song_err(p, reason);
    let mut out = out.map_err(|e| with_song(p, e))?;
    let song = out
        .songs
        .pop()
        .ok_or_else(|| song_err("nothing closed".into()))?;
    let dest = out_dir.join(&d.output_path);
    let tags = Tags::from_metadata(&d.metadata).map_err(song_err)?;
    let bext = d.bwf.then(|| {
        crate::audio::bext::Bext {
            description: plan.name.clone(),
            origination_date: String::new(),
            loudness: Some(song.output),
            coding_history: format!(
                "A=PCM,F={rate},W={},T={}",
                d.output_format.bits(),
                crate::audio::tags::VENDOR
            ),
        }
        .body()
    });
    engine::output::write_outputs(
        &song.audio,
        rate,
        d.dither_seed,
        &tags,
        bext.as_deref(),
        &[(dest.clone(), d.output_format)],
    )?;
    if let Some(h) = &p.inputs_sha256 {
        resume::write(&dest, h)?;
    }
    report.output = Some(dest);
    report.duration_s = plan.frames as f64 / f64::from(plan.sample_rate);
    report.mix_loudness = Some(before);
    report.normalisation = Some(Normalisation {
        input_lufs: before.integrated_lufs,
        input_true_peak_dbtp: before.true_peak_dbtp,
        gain_db: song.gain_db,
        limited_by_ceiling: out.limited_by_ceiling,
        limiter_reduction_db: song.limiter_reduction_db,
    });
    report.output_loudness = Some(song.output);
    report.closing_stages = song.stages;
    report.mix_held_on = o.held_on.to_string();
    report.target_lufs = d.target_lufs;
    Ok(())
}

/// Songs per group: enough to fill the GPU, few enough to bound host memory.
fn group_songs() -> usize {
    (2 * rayon::current_num_threads()).max(8)
}

/// A group entry: the song's report so far, its prepared work (`None`: skipped, its output
/// is up to date; `Err`: why it cannot render: an unreadable scene, a bad stem), and when it
/// started.
type Entry = (SongReport, Result<Option<Prepared>>, Instant);

fn prepare_group(group: Vec<Result<LoadedSong>>, opts: &RenderOptions<'_>) -> Vec<Entry> {
    group
        .into_par_iter()
        .map(|entry| {
            let t0 = Instant::now();
            match entry {
                Err(e) => (SongReport::new(scene_name(&e), scene_path(&e)), Err(e), t0),
                Ok(s) => {
                    let mut rep = SongReport::new(s.title(), s.path.clone());
                    // a stem that cannot be read fails in `prepare`, with its reason
                    let hash = resume::inputs_hash(&s).ok();
                    let fresh = hash
                        .as_deref()
                        .filter(|_| opts.skip_existing)
                        .and_then(|h| resume::up_to_date(&s, &opts.out_dir, h));
                    if let Some(out) = fresh {
                        rep.output = Some(out);
                        rep.skipped = true;
                        return (rep, Ok(None), t0);
                    }
                    let p = prepare(s).map(|mut p| {
                        p.inputs_sha256 = hash;
                        Some(p)
                    });
                    (rep, p, t0)
                }
            }
        })
        .collect()
}

/// Renders every song of the given scene files on the chosen backend.
pub fn render_batch(scene_paths: &[PathBuf], opts: &RenderOptions<'_>) -> BatchReport {
    let start = Instant::now();
    let entries = claim_outputs(scene::load_batch(scene_paths), &opts.out_dir);
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
    let mut executor = match Executor::open(opts.backend) {
        Ok(x) => x,
        Err(m) => {
            report.fatal = true;
            report.note = Some(m);
            report.wall_s = start.elapsed().as_secs_f64();
            return report;
        }
    };
    report.adapter = executor.adapter();
    let mut groups: Vec<Vec<Result<LoadedSong>>> = Vec::new();
    let mut it = entries.into_iter().peekable();
    while it.peek().is_some() {
        groups.push(it.by_ref().take(group_songs()).collect());
    }
    let mut groups = groups.into_iter();
    let mut current = groups.next().map(|g| prepare_group(g, opts));
    while let Some(entries) = current.take() {
        if engine::stop::stop_requested() {
            // Stopped: nothing more starts; the songs left are retryable (exit 75).
            let rest = entries
                .into_iter()
                .map(|(rep, _, _)| (rep.title, rep.scene))
                .chain(groups.by_ref().flatten().map(|e| match e {
                    Ok(s) => (s.title(), s.path),
                    Err(e) => (scene_name(&e), scene_path(&e)),
                }));
            for (title, scene) in rest {
                report
                    .songs
                    .push(done(SongReport::interrupted(title, scene), opts));
            }
            break;
        }
        let next_group = groups.next();
        if executor.backend() == engine::Backend::Cpu {
            // on the CPU every song runs through on its own (mix, closing, writing), the
            // songs side by side: no song waits for the others between the steps
            let (songs, next) = rayon::join(
                || run_songs_cpu(entries, opts),
                || next_group.map(|g| prepare_group(g, opts)),
            );
            report.songs.extend(songs);
            current = next;
            continue;
        }
        let (masters, next) = rayon::join(
            || run_group(&mut executor, &entries),
            || next_group.map(|g| prepare_group(g, opts)),
        );
        report
            .songs
            .extend(finish_group(entries, masters, opts, &mut executor));
        current = next;
    }
    report.backend = executor.backend();
    report.note = executor.note.take();
    report.wall_s = start.elapsed().as_secs_f64();
    report
}

/// The CPU path of a group: each song mixed, closed and written as soon as it can (songs in
/// parallel), so a stop leaves the songs not yet written for the retry.
fn run_songs_cpu(entries: Vec<Entry>, opts: &RenderOptions<'_>) -> Vec<SongReport> {
    entries
        .into_par_iter()
        .map(|e| {
            let master = match &e.1 {
                Ok(Some(p)) if !engine::stop::stop_requested() => {
                    Some(engine::cpu::run_job(&p.plan, &p.sources))
                }
                Ok(Some(_)) => Some(Err(Error::Interrupted)),
                _ => None,
            };
            let o = open_entry(&e, master);
            let out = match (&e.1, &o) {
                (Ok(Some(p)), Some(Ok(o))) => Some(engine::close_group(group(p, o))),
                _ => None,
            };
            write_entry(e, o, out, opts)
        })
        .collect()
}

/// Whether a prepared song's mix runs inside its closing's passes on the GPU: then nothing
/// comes back between the mix and the closing. Every pass (the mix's measurement, the gain
/// search's, the kept one) then decodes and uploads the stems again, so it does when that
/// costs no more than the master it spares: the delivery keeps the mix's rate and the
/// stems hold no more channels than the master (one stereo stem, or two mono). Any other
/// mix is rendered once and kept on the GPU for its closing ([`run_group`]).
fn mix_in_closing(p: &Prepared) -> bool {
    let channels: usize = (0..p.sources.len()).map(|k| p.sources.channels(k)).sum();
    p.delivery.delivery_rate_hz == p.plan.sample_rate && channels <= crate::plan::PLAN_CHANNELS
}

/// Runs a group's Plans as one batch: per entry its master, or `None` when it failed before
/// or its mix runs inside its closing ([`mix_in_closing`]). On the GPU each mix is kept
/// there for its closing (within the memory budget; past it, it comes back to the host).
fn run_group(executor: &mut Executor, entries: &[Entry]) -> Vec<Option<Result<Kept>>> {
    let jobs: Vec<(usize, engine::Job<'_>)> = entries
        .iter()
        .enumerate()
        .filter_map(|(i, (_, p, _))| {
            p.as_ref()
                .ok()
                .and_then(Option::as_ref)
                .filter(|p| !mix_in_closing(p))
                .map(|p| (i, (&p.plan, &p.sources)))
        })
        .collect();
    let on_gpu = vec![true; jobs.len()];
    let results = executor
        .run_kept(&jobs.iter().map(|(_, j)| *j).collect::<Vec<_>>(), &on_gpu)
        .into_iter()
        .map(|r| r.map(|(k, _)| k));
    let mut out: Vec<Option<Result<Kept>>> = (0..entries.len()).map(|_| None).collect();
    for ((i, _), r) in jobs.into_iter().zip(results) {
        out[i] = Some(r);
    }
    out
}

/// A GPU song going into the closing: rendered ahead and opened, kept on the GPU, or mixed
/// inside it.
enum Ready {
    /// rendered, at its delivery rate, measured (or why not)
    Opened(Result<Opened>),
    /// its mix runs inside the closing's passes
    Inside,
    /// its mix was kept on the GPU: every closing pass loads it there
    Kept(KeptMaster),
    /// nothing to close: skipped, failed before, or the run is stopping
    Nothing,
}

/// No audio: the master of a song mixed inside its closing.
static NO_AUDIO: Planar = Vec::new();

/// The closing group of a song mixed inside its closing's passes (its Plan over its stems,
/// streamed again from the start in every pass), or whose mix every pass loads from the
/// GPU (`held`).
fn group_inside<'a>(p: &'a Prepared, held: Option<&'a KeptMaster>) -> engine::Group<'a> {
    let d = &p.delivery;
    let chain = held.map_or(
        engine::ChainSource {
            plan: &p.plan,
            sources: engine::ChainFeed::Streams(&p.sources),
        },
        KeptMaster::chain,
    );
    engine::Group {
        members: vec![Member {
            audio: &NO_AUDIO,
            chain: Some(chain),
            rate: chain.plan.sample_rate,
            limiter: d.limiter.as_ref(),
            offset_db: 0.0,
            fades: d.fades,
            measured: None,
            curves: false,
        }],
        target_lufs: d.target_lufs,
        ceiling_dbtp: d.ceiling_dbtp,
    }
}

/// Closes and writes a group's songs on the GPU: the closings of all its songs run as one
/// batch per pass on the run's executor, the mix of a song at its delivery rate inside its
/// closing's passes (the CPU path is [`run_songs_cpu`]).
fn finish_group(
    entries: Vec<Entry>,
    masters: Vec<Option<Result<Kept>>>,
    opts: &RenderOptions<'_>,
    executor: &mut Executor,
) -> Vec<SongReport> {
    // a mix kept on the GPU, converted there to its delivery's rate
    let masters: Vec<Option<Result<Kept>>> = entries
        .iter()
        .zip(masters)
        .map(|(e, m)| match (&e.1, m) {
            (Ok(Some(p)), Some(Ok(k @ Kept::Gpu(_))))
                if p.delivery.delivery_rate_hz != p.plan.sample_rate =>
            {
                let (from, to) = (p.plan.sample_rate, p.delivery.delivery_rate_hz);
                Some(executor.resample_kept(k, &p.delivery.scene_path, from, to))
            }
            (_, m) => m,
        })
        .collect();
    // each song rendered ahead at its delivery rate, measured; kept on the GPU; or mixed
    // inside the closing
    let ready: Vec<(Entry, Ready)> = entries
        .into_par_iter()
        .zip(masters)
        .map(|(e, master)| {
            let r = match (&e.1, master) {
                (Ok(Some(p)), None) if mix_in_closing(p) && !engine::stop::stop_requested() => {
                    Ready::Inside
                }
                (Ok(Some(p)), Some(Ok(Kept::Gpu(r)))) if !engine::stop::stop_requested() => {
                    Ready::Kept(KeptMaster::new(
                        &p.plan.name,
                        p.delivery.delivery_rate_hz,
                        r,
                    ))
                }
                (_, master) => match open_entry(&e, master.map(|m| m.and_then(host_master))) {
                    Some(o) => Ready::Opened(o),
                    None => Ready::Nothing,
                },
            };
            (e, r)
        })
        .collect();
    // the closings of every song, as one batch per pass on the run's executor
    let mut at = Vec::with_capacity(ready.len());
    let mut groups = Vec::new();
    for ((_, p, _), r) in &ready {
        at.push(match (p, r) {
            (Ok(Some(p)), Ready::Opened(Ok(o))) => {
                groups.push(group(p, o));
                Some(groups.len() - 1)
            }
            (Ok(Some(p)), Ready::Inside) => {
                groups.push(group_inside(p, None));
                Some(groups.len() - 1)
            }
            (Ok(Some(p)), Ready::Kept(h)) => {
                groups.push(group_inside(p, Some(h)));
                Some(groups.len() - 1)
            }
            _ => None,
        });
    }
    let mut closed: Vec<Option<Result<engine::Outcome>>> = engine::close_all(&groups, executor)
        .into_iter()
        .map(Some)
        .collect();
    drop(groups);
    let closed: Vec<Option<Result<engine::Outcome>>> = at
        .into_iter()
        .map(|g| g.and_then(|g| closed[g].take()))
        .collect();
    ready
        .into_par_iter()
        .zip(closed)
        .map(|((e, r), out)| match (r, out) {
            (Ready::Opened(o), out) => write_entry(e, Some(o), out, opts),
            (Ready::Nothing, out) => write_entry(e, None, out, opts),
            // a song mixed inside (or kept for) a closing that failed: the closing's error
            (Ready::Inside | Ready::Kept(_), Some(Err(err))) => {
                let o = match &e.1 {
                    Ok(Some(p)) => Some(Err(with_song(p, err))),
                    _ => None,
                };
                write_entry(e, o, None, opts)
            }
            // measured in the closing's first pass
            (Ready::Inside | Ready::Kept(_), out) => {
                let o = opened_inside(&e, out.as_ref());
                write_entry(e, o, out, opts)
            }
        })
        .collect()
}

/// A master that came back to the host (one kept on the GPU is not read back here).
fn host_master(k: Kept) -> Result<Planar> {
    match k {
        Kept::Host(m) => Ok(m),
        Kept::Gpu(_) => Err(Error::Render {
            song: String::new(),
            reason: "the mix was kept on the GPU for a closing that did not run".into(),
        }),
    }
}

/// What [`open`] gives for a song mixed inside its closing: no audio, its mix's rate, and
/// its mix's loudness as the closing measured it.
fn opened_inside(e: &Entry, out: Option<&Result<engine::Outcome>>) -> Option<Result<Opened>> {
    let Ok(Some(p)) = &e.1 else {
        return None;
    };
    let before = match out {
        Some(Ok(o)) => o.songs.first().and_then(|s| s.input),
        Some(Err(_)) | None => None,
    };
    Some(match before {
        Some(before) => Ok(Opened {
            master: Vec::new(),
            rate: p.delivery.delivery_rate_hz,
            before,
            held_on: "gpu",
        }),
        None => Err(song_err(p, "the closing did not measure the mix".into())),
    })
}

/// A rendered song at its delivery rate, measured (`None`: nothing to close: skipped, failed
/// before, or the run is stopping).
fn open_entry(e: &Entry, master: Option<Result<Planar>>) -> Option<Result<Opened>> {
    if engine::stop::stop_requested() {
        return None;
    }
    match (&e.1, master) {
        (Ok(Some(p)), Some(Ok(m))) => Some(open(p, m)),
        (Ok(Some(_)), Some(Err(err))) => Some(Err(err)),
        (Ok(Some(p)), None) => Some(Err(song_err(p, "the song was not rendered".into()))),
        _ => None,
    }
}

/// Writes a closed song (or records why it failed) and reports it; a song not yet written
/// when a stop is requested is left for the retry (exit 75).
fn write_entry(
    (mut rep, prepared, t0): Entry,
    o: Option<Result<Opened>>,
    out: Option<Result<engine::Outcome>>,
    opts: &RenderOptions<'_>,
) -> SongReport {
    if engine::stop::stop_requested() && matches!(prepared, Ok(Some(_))) {
        return done(SongReport::interrupted(rep.title, rep.scene), opts);
    }
    let outcome = match (prepared, o, out) {
        (Err(e), _, _) => Err(e),
        (Ok(None), _, _) => Ok(()),
        (Ok(Some(_)), Some(Err(e)), _) => Err(e),
        (Ok(Some(p)), Some(Ok(o)), Some(out)) => write(&p, &o, out, &opts.out_dir, &mut rep),
        (Ok(Some(_)), _, _) => Err(Error::Render {
            song: rep.title.clone(),
            reason: "the song was not rendered".into(),
        }),
    };
    let rep = match outcome {
        Ok(()) => rep.checked(opts.max_reduction_db),
        Err(e) => SongReport::failed(rep.title.clone(), rep.scene.clone(), &e),
    };
    done(
        SongReport {
            render_s: t0.elapsed().as_secs_f64(),
            ..rep
        },
        opts,
    )
}

/// An output path claimed twice is an error for the later song; so is one that leads out
/// of `out` (absolute, `..`, a symbolic link on the way: [`engine::output::check_inside`]).
fn claim_outputs(loaded: Vec<Result<LoadedSong>>, out: &Path) -> Vec<Result<LoadedSong>> {
    let mut claimed: HashMap<PathBuf, String> = HashMap::new();
    loaded
        .into_iter()
        .map(|l| {
            l.and_then(|s| {
                let name = PathBuf::from(s.song.output.file.clone().unwrap_or_else(|| s.title()));
                let file = PathBuf::from(compile::output_file(&s));
                if let Err(m) = engine::output::check_inside(out, &file) {
                    // the line of `file = "…"` when the scene names one
                    let at = s.song.output.file.as_ref().and_then(|f| {
                        s.text
                            .find(&format!("\"{f}\""))
                            .or_else(|| s.text.find(&format!("'{f}'")))
                    });
                    return Err(s.error_at(at, format!("[output] file: {m}")));
                }
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
