//! Deliveries of `mixfarm master`: each a preset's chain and closing limiter with its
//! loudness target, true-peak ceiling, sample rate and bit depth (`--target`, `--ceiling`,
//! `--rate`, `--bits` override the preset) and the formats it writes.

use std::path::{Path, PathBuf};

use super::MasterArgs;
use crate::ops::limiter::LimiterSpec;
use crate::ops::InsertSpec;
use crate::scene::preset;

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
    /// delivery sample rate, Hz (`None`: each song's own rate; an album file takes the
    /// album's highest)
    pub sample_rate_hz: Option<u32>,
    /// delivery bit depth: 16, 24 or 32 (float)
    pub bits: u32,
    /// the formats written (`--format` resolved at this delivery's depth)
    pub formats: Vec<crate::core::OutputFormat>,
    /// WAV outputs carry a Broadcast Wave `bext` chunk with the EBU loudness fields
    pub bwf: bool,
}

/// Bit depth of a delivery whose preset names none.
pub const DEFAULT_BITS: u32 = 24;

/// Lowest and highest delivery sample rates accepted, Hz.
pub const RATE_RANGE_HZ: std::ops::RangeInclusive<u32> = 8_000..=384_000;

/// Default target when a preset names none, LUFS.
pub const DEFAULT_TARGET_LUFS: f64 = -14.0;

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
        let sample_rate_hz = args.rate.or(p.sample_rate_hz);
        if let Some(r) = sample_rate_hz.filter(|r| !RATE_RANGE_HZ.contains(r)) {
            return Err(format!(
                "delivery '{stem}': sample rate {r} Hz is outside {}..{} Hz",
                RATE_RANGE_HZ.start(),
                RATE_RANGE_HZ.end()
            ));
        }
        if let Some(r) = sample_rate_hz.filter(|_| args.sequence) {
            super::sequence::frames_per_cue_frame(r)
                .map_err(|e| format!("delivery '{stem}' with --sequence: {e}"))?;
        }
        let bits = args.bits.or(p.bits).unwrap_or(DEFAULT_BITS);
        let formats = super::formats::resolve_all(&args.format, bits)
            .map_err(|e| format!("delivery '{stem}': {e}"))?;
        out.push(Delivery {
            sample_rate_hz,
            bits,
            formats,
            bwf: p.bwf,
            name: stem,
            target_lufs,
            ceiling_dbtp: args
                .ceiling
                .or(p.ceiling_dbtp)
                .unwrap_or(crate::engine::DEFAULT_CEILING_DBTP),
            chain: Chain::from_preset(p.chain),
            target_from,
        });
    }
    if out.is_empty() {
        return Err("no delivery named".into());
    }
    Ok(out)
}
