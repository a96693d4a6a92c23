//! `mixfarm master`: masters finished stereo (or mono) mixes to one or more deliveries (a
//! preset chain on the CPU, then the gain into the closing limiter that lands the target),
//! song by song (`track`) or with one gain per album (`album`). CPU only; no shader mirrored.
//!
//! Inputs: a manifest (CSV or TOML, [`manifest`]) or files and folders (a folder is an
//! album). Every song is decoded once and every distinct chain runs once per song;
//! deliveries sharing a chain share that work. Outputs
//! `DIR/<delivery>/<album>/<NN - title>.<ext>` (atomic, tagged) with a JSON sidecar beside
//! each, album files and CUE sheets with `--sequence`, and the catalog summary
//! (`DIR/summary.json` + `.csv`, or `DIR/reports/shard-I-of-N.*` for one shard).

mod album;
pub mod manifest;
pub mod merge;
mod report;
mod run;
pub mod sequence;
pub mod shard;
pub mod sidecar;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::ops::limiter::LimiterSpec;
use crate::ops::match_eq;
use crate::ops::InsertSpec;
use crate::plan::OutputFormat;
use crate::scene::preset;

pub use album::{album_lufs, master_album, master_track, AlbumMode, AlbumSong, MasteredSong};
pub use manifest::{Album, Catalog, Track};
pub use report::{SongReport, Status, Summary};
pub use run::{run_album, tags_for, AlbumResult, Ctl};

/// Audio file extensions a folder input contributes.
pub const AUDIO_EXTENSIONS: [&str; 7] = ["wav", "flac", "mp3", "ogg", "aif", "aiff", "m4a"];

/// Arguments of `mixfarm master`.
#[derive(Debug, Clone, clap::Args)]
pub struct MasterArgs {
    /// stereo/mono audio files and/or folders (a folder = one album)
    #[arg(required_unless_present = "manifest")]
    pub inputs: Vec<PathBuf>,
    /// catalog manifest (.csv or .toml): file, title, artist, album, track, isrc, preset,
    /// gain_offset_db, fade_in_s, fade_out_s, gap_s
    #[arg(long, short, conflicts_with = "inputs")]
    pub manifest: Option<PathBuf>,
    /// output folder
    #[arg(long, short)]
    pub out: PathBuf,
    /// preset (streaming, apple, broadcast, cd, or a preset file) used when no --deliver
    #[arg(long, default_value = "streaming")]
    pub preset: String,
    /// target integrated loudness, LUFS (overrides every delivery's preset)
    #[arg(long, allow_hyphen_values = true)]
    pub target: Option<f64>,
    /// true-peak ceiling, dBTP (overrides every delivery's preset)
    #[arg(long, allow_hyphen_values = true)]
    pub ceiling: Option<f64>,
    /// deliveries, comma-separated presets (e.g. streaming,broadcast)
    #[arg(long, value_delimiter = ',')]
    pub deliver: Vec<String>,
    /// one gain per song (`track`) or per album (`album`)
    #[arg(long, value_enum, default_value_t = AlbumMode::Track)]
    pub album_mode: AlbumMode,
    /// output formats, comma-separated: wav16, wav24, wav32f, flac16, flac24
    #[arg(long, value_delimiter = ',', default_value = "wav24", value_parser = parse_format)]
    pub format: Vec<OutputFormat>,
    /// also write each album as one continuous file with a CUE sheet
    #[arg(long)]
    pub sequence: bool,
    /// silence between tracks in the album file, seconds (rounded up to a CUE frame)
    #[arg(long, default_value_t = 2.0)]
    pub gap: f64,
    /// fade-in of every song, seconds (a manifest's fade_in_s wins)
    #[arg(long, default_value_t = 0.0)]
    pub fade_in: f64,
    /// fade-out of every song, seconds (a manifest's fade_out_s wins)
    #[arg(long, default_value_t = 0.0)]
    pub fade_out: f64,
    /// match each song's tonal balance and loudness to this reference track
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// how far to move toward the reference's spectrum, 0..1
    #[arg(long, default_value_t = 1.0)]
    pub match_strength: f64,
    /// skip songs whose sidecar records the same input, settings and mixfarm version
    #[arg(long, overrides_with = "force")]
    pub skip_existing: bool,
    /// redo every song, even when its sidecar says it is up to date
    #[arg(long, overrides_with = "skip_existing")]
    pub force: bool,
    /// this worker's shard, INDEX/COUNT (0-based); default: the scheduler's array index
    #[arg(long)]
    pub shard: Option<String>,
    /// shard count when the scheduler exports only an index (Kubernetes, AWS Batch)
    #[arg(long)]
    pub shards: Option<usize>,
}

fn parse_format(s: &str) -> std::result::Result<OutputFormat, String> {
    s.parse()
}

/// A processing chain and its closing limiter.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Chain {
    /// the chain before the closing limiter
    pub chain: Vec<InsertSpec>,
    /// the closing limiter (its ceiling is replaced by the delivery's)
    pub limiter: Option<LimiterSpec>,
}

impl Chain {
    /// Splits a preset's chain into the chain and its closing limiter.
    pub fn from_preset(mut chain: Vec<InsertSpec>) -> Chain {
        let limiter = match chain.last() {
            Some(InsertSpec::Limiter(l)) => {
                let l = l.clone();
                chain.pop();
                Some(l)
            }
            _ => None,
        };
        Chain { chain, limiter }
    }
}

/// One delivery: a name (the output sub-folder), its target, ceiling and chain.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// output sub-folder name
    pub name: String,
    /// integrated loudness target, LUFS
    pub target_lufs: f64,
    /// true-peak ceiling, dBTP
    pub ceiling_dbtp: f64,
    /// the chain and closing limiter
    pub chain: Chain,
    /// where the target came from (preset, --target, reference)
    pub target_from: String,
}

/// Default target when a preset names none, LUFS.
pub const DEFAULT_TARGET_LUFS: f64 = -14.0;
/// Default ceiling when a preset names none, dBTP.
pub const DEFAULT_CEILING_DBTP: f64 = -1.0;

/// Resolves the deliveries of `args` (usage errors as a message).
pub fn deliveries(args: &MasterArgs) -> std::result::Result<Vec<Delivery>, String> {
    let names = if args.deliver.is_empty() {
        vec![args.preset.clone()]
    } else {
        args.deliver.clone()
    };
    let cwd = PathBuf::from(".");
    let mut out: Vec<Delivery> = Vec::new();
    for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let p = preset::load(name, &cwd, None)?;
        let stem = Path::new(name)
            .file_stem()
            .map_or_else(|| name.to_string(), |s| s.to_string_lossy().into_owned());
        if out.iter().any(|d| d.name == stem) {
            return Err(format!("delivery '{stem}' named twice"));
        }
        let (target_lufs, target_from) = match (args.target, p.target_lufs) {
            (Some(t), _) => (t, "--target".to_string()),
            (None, Some(t)) => (t, format!("preset '{name}'")),
            (None, None) => (DEFAULT_TARGET_LUFS, "the default".to_string()),
        };
        out.push(Delivery {
            name: stem,
            target_lufs,
            ceiling_dbtp: args
                .ceiling
                .or(p.ceiling_dbtp)
                .unwrap_or(DEFAULT_CEILING_DBTP),
            chain: Chain::from_preset(p.chain),
            target_from,
        });
    }
    if out.is_empty() {
        return Err("no delivery named".into());
    }
    Ok(out)
}

/// Reference matching: the reference's long-term spectrum and loudness. Each song goes
/// through a match EQ (linear phase, limited in dB, scaled by the strength) before its chain;
/// the reference's integrated loudness becomes the target unless `--target` is given.
#[derive(Debug, Clone)]
pub struct Reference {
    /// the reference file
    pub path: PathBuf,
    /// SHA-256 of it (part of every song's settings hash)
    pub sha256: String,
    /// 0..1
    pub strength: f64,
    /// its integrated loudness, LUFS
    pub lufs: f64,
    /// its long-term spectrum
    pub spectrum: match_eq::Spectrum,
}

impl Reference {
    /// The match EQ settings used.
    pub fn settings(&self) -> match_eq::MatchSettings {
        match_eq::MatchSettings {
            strength: self.strength,
            ..match_eq::MatchSettings::default()
        }
    }

    /// Applies the match EQ to `x`; returns a sentence for the report.
    pub fn apply(&self, x: &mut crate::plan::Planar, rate: u32) -> String {
        let song = match_eq::long_term_spectrum(x, rate);
        let curve = match_eq::match_curve(&song, &self.spectrum, &self.settings());
        let name = self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        if curve.is_flat() {
            return format!(
                "match EQ toward {name}: flat (strength {:.2})",
                self.strength
            );
        }
        curve.apply_cpu(x, rate);
        let boost = curve.gain_db.iter().copied().fold(0.0, f64::max);
        let cut = curve.gain_db.iter().copied().fold(0.0, f64::min);
        format!(
            "match EQ toward {name} at strength {:.2}: {boost:+.1} dB most boost, {cut:+.1} dB most cut",
            self.strength
        )
    }
}

/// Everything one `mixfarm master` run does to every album.
#[derive(Debug, Clone)]
pub struct Job {
    /// deliveries
    pub deliveries: Vec<Delivery>,
    /// output formats (each delivery writes each)
    pub formats: Vec<OutputFormat>,
    /// track or album loudness
    pub mode: AlbumMode,
    /// write album files and CUE sheets
    pub sequence: bool,
    /// default gap before each track in an album file, seconds
    pub gap_s: f64,
    /// default fade-in, seconds
    pub fade_in_s: f64,
    /// default fade-out, seconds
    pub fade_out_s: f64,
    /// reference matching
    pub reference: Option<Reference>,
    /// output folder
    pub out: PathBuf,
    /// skip up-to-date songs
    pub skip_existing: bool,
    /// this worker's shard (`I/N`)
    pub shard: Option<String>,
    /// SHA-256 of the manifest or input list
    pub manifest_sha256: String,
    /// per-track presets by name
    pub presets: BTreeMap<String, Chain>,
}

impl Job {
    /// The chain track `t` goes through in delivery `d`: its own preset's, or the delivery's.
    pub fn chain_for<'a>(&'a self, d: &'a Delivery, t: &Track) -> &'a Chain {
        t.preset
            .as_ref()
            .and_then(|p| self.presets.get(p))
            .unwrap_or(&d.chain)
    }
}

/// Loads the catalog of `args` (a manifest or the inputs).
pub fn load_catalog(args: &MasterArgs) -> crate::Result<Catalog> {
    match &args.manifest {
        Some(m) => manifest::read_manifest(m),
        None => manifest::catalog_from_inputs(&args.inputs, &AUDIO_EXTENSIONS),
    }
}

/// Builds the job of `args` for `cat` (usage errors as a message).
pub fn job(args: &MasterArgs, cat: &Catalog) -> std::result::Result<Job, String> {
    let mut dels = deliveries(args)?;
    let mut seen = std::collections::HashSet::new();
    for f in &args.format {
        if !seen.insert(f.extension()) {
            return Err(format!(
                "two formats write .{} files: pick one per container",
                f.extension()
            ));
        }
    }
    for (what, v) in [
        ("--gap", args.gap),
        ("--fade-in", args.fade_in),
        ("--fade-out", args.fade_out),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(format!("{what} must be ≥ 0 seconds, got {v}"));
        }
    }
    if !(0.0..=1.0).contains(&args.match_strength) {
        return Err(format!(
            "--match-strength must be within 0..1, got {}",
            args.match_strength
        ));
    }
    let base = cat
        .manifest
        .as_ref()
        .and_then(|m| m.parent())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let mut presets = BTreeMap::new();
    for t in cat.albums.iter().flat_map(|a| &a.tracks) {
        if let Some(p) = &t.preset {
            if !presets.contains_key(p) {
                let loaded = preset::load(p, &base, None).map_err(|e| {
                    match (&cat.manifest, t.line) {
                        (Some(m), Some(l)) => format!("{}:{l}: {e}", m.display()),
                        _ => e,
                    }
                })?;
                presets.insert(p.clone(), Chain::from_preset(loaded.chain));
            }
        }
    }
    let reference = match &args.reference {
        Some(path) => {
            let r = reference(path, args.match_strength).map_err(|e| e.to_string())?;
            if args.target.is_none() {
                for d in &mut dels {
                    d.target_lufs = r.lufs;
                    d.target_from = format!("reference {}", path.display());
                }
            }
            Some(r)
        }
        None => None,
    };
    Ok(Job {
        deliveries: dels,
        formats: args.format.clone(),
        mode: args.album_mode,
        sequence: args.sequence,
        gap_s: args.gap,
        fade_in_s: args.fade_in,
        fade_out_s: args.fade_out,
        reference,
        out: args.out.clone(),
        skip_existing: args.skip_existing && !args.force,
        shard: None,
        manifest_sha256: cat.hash.clone(),
        presets,
    })
}

fn reference(path: &Path, strength: f64) -> crate::Result<Reference> {
    let d = crate::audio::decode::decode_file(path)?;
    crate::audio::decode::check_finite(path, &d.channels)?;
    let mut x = d.channels;
    if x.len() == 1 {
        x.push(x[0].clone());
    }
    let l = crate::loudness::measure(&x, d.sample_rate)?;
    let lufs = l.integrated_lufs.ok_or_else(|| {
        crate::Error::input(
            path,
            "the reference's loudness is unmeasurable (silent or shorter than 400 ms)",
        )
    })?;
    Ok(Reference {
        path: path.to_path_buf(),
        sha256: manifest::file_sha256(path)?,
        strength,
        lufs,
        spectrum: match_eq::long_term_spectrum(&x, d.sample_rate),
    })
}

/// The albums of `cat` on `shard` (all of them when not sharded).
pub fn albums_of_shard(cat: &Catalog, shard: Option<shard::Shard>) -> Vec<Album> {
    let Some(s) = shard else {
        return cat.albums.clone();
    };
    let secs = shard::album_seconds(cat);
    let titles: Vec<&str> = cat.albums.iter().map(|a| a.title.as_str()).collect();
    let of = shard::assign(&secs, &titles, s.count);
    cat.albums
        .iter()
        .zip(of)
        .filter(|(_, i)| *i == s.index)
        .map(|(a, _)| a.clone())
        .collect()
}

/// Exit code of a run: 75 interrupted (retry), 1 some songs failed, 0 all done.
pub fn exit_code(s: &Summary) -> u8 {
    if s.interrupted {
        75
    } else if s.failed > 0 || !s.failures.is_empty() {
        1
    } else {
        0
    }
}

fn progress(total: usize) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new(total as u64);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "[{elapsed_precise}] {wide_bar} {pos}/{len} songs  {msg}  ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(pb)
}

/// Runs `mixfarm master`: exit 0 all ok, 1 some songs failed, 2 usage error, 75 stopped by
/// SIGTERM (retry).
pub fn master_cmd(args: MasterArgs) -> ExitCode {
    let usage = |m: String| {
        eprintln!("error: {m}");
        ExitCode::from(2)
    };
    let cat = match load_catalog(&args) {
        Ok(c) => c,
        Err(e) => return usage(e.to_string()),
    };
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let shard = match shard::resolve(args.shard.as_deref(), args.shards, &env) {
        Ok(s) => s,
        Err(m) => return usage(m),
    };
    let mut job = match job(&args, &cat) {
        Ok(j) => j,
        Err(m) => return usage(m),
    };
    job.shard = shard.map(|s| s.to_string());
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        if let Err(e) = signal_hook::flag::register(sig, Arc::clone(&stop)) {
            eprintln!("warning: cannot watch for signal {sig}: {e}");
        }
    }
    let albums = albums_of_shard(&cat, shard);
    let total: usize = albums.iter().map(|a| a.tracks.len()).sum::<usize>() * job.deliveries.len();
    if let Some(s) = shard {
        eprintln!(
            "shard {s}: {} albums, {} songs of {} albums in the catalog",
            albums.len(),
            albums.iter().map(|a| a.tracks.len()).sum::<usize>(),
            cat.albums.len()
        );
    }
    let bar = progress(total);
    let failed = std::sync::atomic::AtomicUsize::new(0);
    let log = Mutex::new(());
    let on_song = |r: &SongReport| {
        let line = match (&r.status, &r.error) {
            (Status::Failed, e) => {
                failed.fetch_add(1, Ordering::SeqCst);
                format!("FAILED  {}: {}", r.delivery, e.as_deref().unwrap_or(""))
            }
            (Status::Skipped, _) => format!(
                "skipped {}/{}/{} (up to date)",
                r.delivery, r.album, r.title
            ),
            (Status::Ok, _) => format!(
                "ok      {}/{}/{} ({})",
                r.delivery, r.album, r.title, r.reason
            ),
        };
        let _g = log.lock();
        match &bar {
            Some(pb) => {
                pb.inc(1);
                pb.set_message(format!("{} failed", failed.load(Ordering::SeqCst)));
                pb.println(line);
            }
            None => eprintln!("{line}"),
        }
    };
    let ctl = Ctl {
        stop: &stop,
        on_song: &on_song,
    };
    let mut summary = Summary {
        mixfarm_version: crate::VERSION.into(),
        manifest_sha256: cat.hash.clone(),
        shard: job.shard.clone(),
        albums: albums.len(),
        ..Summary::default()
    };
    let mut sequences = Vec::new();
    for a in &albums {
        if stop.load(Ordering::SeqCst) {
            summary.interrupted = true;
            break;
        }
        let r = run_album(a, &job, &ctl);
        summary.add(r.songs);
        for s in &r.sequences {
            if let Some(e) = &s.error {
                eprintln!("FAILED  {e}");
                summary
                    .failures
                    .push((PathBuf::from(&s.album), s.delivery.clone(), e.clone()));
            }
        }
        sequences.extend(r.sequences);
        if r.interrupted {
            summary.interrupted = true;
            break;
        }
    }
    summary.sequences = sequences;
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    let (dir, stem) = match shard {
        Some(s) => (
            args.out.join("reports"),
            format!("shard-{}-of-{}", s.index, s.count),
        ),
        None => (args.out.clone(), "summary".to_string()),
    };
    if let Err(e) = summary.write(&dir, &stem) {
        eprintln!("error: {e}");
        return ExitCode::from(1);
    }
    eprintln!(
        "{} song deliveries: {} mastered, {} up to date, {} failed{}; report {}",
        summary.total,
        summary.ok,
        summary.skipped,
        summary.failed,
        if summary.interrupted {
            "; STOPPED by a signal (exit 75: run again to resume)"
        } else {
            ""
        },
        dir.join(format!("{stem}.json")).display()
    );
    ExitCode::from(exit_code(&summary))
}

/// `mixfarm plan MANIFEST --shards N`: how the catalog splits.
pub fn plan_cmd(inputs: &[PathBuf], shards: usize, json: bool) -> ExitCode {
    if shards == 0 {
        eprintln!("error: --shards must be at least 1");
        return ExitCode::from(2);
    }
    let cat = match inputs {
        [m] if m.is_file() && m.extension().is_some_and(|e| e == "csv" || e == "toml") => {
            manifest::read_manifest(m)
        }
        _ => manifest::catalog_from_inputs(inputs, &AUDIO_EXTENSIONS),
    };
    let cat = match cat {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let plans = shard::plan(&cat, shards);
    if json {
        let v = serde_json::json!({ "manifest_sha256": cat.hash, "shards": plans });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        print!("{}", shard::plan_table(&plans, &cat.hash));
    }
    ExitCode::SUCCESS
}
