//! Deliveries of `mixfarm master`: each a preset's chain and closing limiter with its
//! loudness target and true-peak ceiling (`--target` / `--ceiling` override the preset).

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
}

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
        out.push(Delivery {
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
