//! What one `mixfarm master` run does to every album ([`Job`]), built from the command line
//! and the catalog. CPU only; no shader mirrored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::reference::{reference, Reference};
use super::AUDIO_EXTENSIONS;
use super::{deliveries, manifest, AlbumMode, Catalog, Chain, Delivery, MasterArgs, Track};
use crate::scene::preset;

/// Everything one `mixfarm master` run does to every album.
#[derive(Debug, Clone)]
pub struct Job {
    /// deliveries
    pub deliveries: Vec<Delivery>,
    /// write ReplayGain 2.0 tags
    pub replaygain: bool,
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
    /// most limiter gain reduction before a song's status is `warning`, dB
    pub max_reduction_db: f64,
    /// the manifest, when the catalog comes from one (errors name its lines)
    pub manifest: Option<PathBuf>,
    /// input SHA-256s already computed (by the check of `--out` before the run)
    pub input_hashes: BTreeMap<PathBuf, String>,
}

impl Job {
    /// The loudness mode of `album`: the run's, except that loose singles are each mastered
    /// on their own (they share no album gain).
    pub fn mode_for(&self, album: &super::Album) -> AlbumMode {
        if album.singles {
            AlbumMode::Track
        } else {
            self.mode
        }
    }

    /// The chain track `t` goes through in delivery `d`: its own preset's, or the delivery's.
    pub fn chain_for<'a>(&'a self, d: &'a Delivery, t: &Track) -> &'a Chain {
        t.preset
            .as_ref()
            .and_then(|p| self.presets.get(p))
            .unwrap_or(&d.chain)
    }
}

/// Loads the catalog of `args` (a manifest or the inputs) and merges each source file's own
/// tags into it ([`super::source_tags`]).
pub fn load_catalog(args: &MasterArgs) -> crate::Result<Catalog> {
    let mut cat = read_catalog(args)?;
    super::source_tags::merge_source_tags(&mut cat)?;
    Ok(cat)
}

fn read_catalog(args: &MasterArgs) -> crate::Result<Catalog> {
    let is_manifest = |p: &std::path::Path| {
        p.is_file()
            && p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv") || e.eq_ignore_ascii_case("toml"))
    };
    match (&args.manifest, &args.inputs[..]) {
        (Some(m), _) => manifest::read_manifest(m),
        // `mixfarm master catalog.csv`: a manifest given as the input
        (None, [m]) if is_manifest(m) => manifest::read_manifest(m),
        (None, inputs) => super::catalog_from_inputs(inputs, &AUDIO_EXTENSIONS),
    }
}

/// Builds the job of `args` for `cat` (usage errors as a message).
pub fn job(args: &MasterArgs, cat: &Catalog) -> std::result::Result<Job, String> {
    let mut dels = deliveries(args)?;
    for d in &dels {
        crate::engine::check_delivery(
            &format!("delivery '{}'", d.name),
            d.target_lufs,
            d.ceiling_dbtp,
            d.formats.iter().all(|f| f.is_float()),
        )?;
    }
    if !(args.max_reduction.is_finite() && args.max_reduction >= 0.0) {
        return Err(format!(
            "--max-reduction must be ≥ 0 dB, got {}",
            args.max_reduction
        ));
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
                let loaded =
                    preset::load(p, &base, None).map_err(|e| match (&cat.manifest, t.line) {
                        (Some(m), Some(l)) => format!("{}:{l}: {e}", m.display()),
                        _ => e,
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
        replaygain: args.replaygain,
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
        max_reduction_db: args.max_reduction,
        manifest: cat.manifest.clone(),
        input_hashes: BTreeMap::new(),
    })
}
