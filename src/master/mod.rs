//! `mixfarm master`: masters finished stereo (or mono) mixes to one or more deliveries
//! (a preset chain on the CPU, then the gain into the closing limiter that lands the target),
//! song by song (`track`) or with one gain per album (`album`). CPU only; no shader mirrored.
//!
//! Inputs: files (one album, "singles") and folders (one album each, audio files in file-name
//! order). Every song is decoded once and every distinct preset chain runs once per song;
//! deliveries sharing a chain share that work. Outputs `DIR/<delivery>/<album>/<stem>.wav`
//! (atomic), a `<stem>.json` report beside each, and `DIR/summary.json` + `summary.csv`.

mod album;
mod report;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::error::{Error, Result};
use crate::ops::InsertSpec;
use crate::plan::OutputFormat;
use crate::scene::preset;

pub use album::{album_lufs, master_album, master_album_to, AlbumMode, MasteredSong};
pub use report::{SongReport, Summary};

/// Audio file extensions a folder input contributes.
pub const AUDIO_EXTENSIONS: [&str; 7] = ["wav", "flac", "mp3", "ogg", "aif", "aiff", "m4a"];

/// Arguments of `mixfarm master`.
#[derive(Debug, Clone, clap::Args)]
pub struct MasterArgs {
    /// stereo/mono audio files and/or folders (a folder = one album)
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
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
    /// output format: wav16, wav24, wav32f, flac16, flac24
    #[arg(long, default_value = "wav24", value_parser = parse_format)]
    pub format: OutputFormat,
}

fn parse_format(s: &str) -> std::result::Result<OutputFormat, String> {
    s.parse()
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
    /// the chain before the closing limiter
    pub chain: Vec<InsertSpec>,
    /// the closing limiter (its ceiling is replaced by `ceiling_dbtp`)
    pub limiter: Option<crate::ops::limiter::LimiterSpec>,
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
        let mut chain = p.chain;
        let limiter = match chain.last() {
            Some(InsertSpec::Limiter(l)) => {
                let l = l.clone();
                chain.pop();
                Some(l)
            }
            _ => None,
        };
        let stem = Path::new(name)
            .file_stem()
            .map_or_else(|| name.to_string(), |s| s.to_string_lossy().into_owned());
        if out.iter().any(|d| d.name == stem) {
            return Err(format!("delivery '{stem}' named twice"));
        }
        out.push(Delivery {
            name: stem,
            target_lufs: args.target.or(p.target_lufs).unwrap_or(DEFAULT_TARGET_LUFS),
            ceiling_dbtp: args
                .ceiling
                .or(p.ceiling_dbtp)
                .unwrap_or(DEFAULT_CEILING_DBTP),
            chain,
            limiter,
        });
    }
    if out.is_empty() {
        return Err("no delivery named".into());
    }
    Ok(out)
}

/// An album: its name and its songs, in order.
#[derive(Debug, Clone)]
pub struct Album {
    /// album name (the output sub-folder)
    pub name: String,
    /// the songs' files
    pub songs: Vec<PathBuf>,
}

/// Groups inputs into albums: each folder is one, loose files form "singles".
pub fn albums(inputs: &[PathBuf]) -> Result<Vec<Album>> {
    let mut singles = Vec::new();
    let mut out = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let rd = std::fs::read_dir(p).map_err(|e| Error::io(p, e))?;
            let mut songs: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file())
                .filter(|f| {
                    f.extension().is_some_and(|x| {
                        AUDIO_EXTENSIONS.contains(&x.to_string_lossy().to_lowercase().as_str())
                    })
                })
                .collect();
            songs.sort();
            let name = p
                .file_name()
                .map_or_else(|| "album".into(), |n| n.to_string_lossy().into_owned());
            out.push(Album { name, songs });
        } else {
            singles.push(p.clone());
        }
    }
    if !singles.is_empty() {
        out.push(Album {
            name: "singles".into(),
            songs: singles,
        });
    }
    Ok(out)
}

/// Runs `mixfarm master`: exit 0 all ok, 1 some songs failed, 2 usage error.
pub fn master_cmd(args: MasterArgs) -> ExitCode {
    let dels = match deliveries(&args) {
        Ok(d) => d,
        Err(m) => {
            eprintln!("error: {m}");
            return ExitCode::from(2);
        }
    };
    let albums = match albums(&args.inputs) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut summary = Summary::default();
    for a in &albums {
        let reports = master_album_to(a, &dels, args.album_mode, &args.out, args.format);
        for r in &reports {
            match &r.error {
                Some(e) => eprintln!("FAILED  {}/{}: {e}", r.delivery, r.input.display()),
                None => eprintln!(
                    "ok      {}/{} -> {} ({})",
                    r.delivery,
                    r.input.display(),
                    r.output.display(),
                    r.reason
                ),
            }
        }
        summary.add(reports);
    }
    if let Err(e) = summary.write(&args.out) {
        eprintln!("error: {e}");
        return ExitCode::from(1);
    }
    eprintln!(
        "{} song deliveries, {} ok, {} failed",
        summary.total, summary.ok, summary.failed
    );
    ExitCode::from(if summary.failed > 0 { 1 } else { 0 })
}
