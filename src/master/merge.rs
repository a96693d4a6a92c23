//! `mixfarm merge-reports DIR`: joins the shard reports (`DIR/reports/shard-I-of-N.json`)
//! into one catalog report (`DIR/summary.json` + `.csv`), and lists the shards that are
//! missing, the songs that failed, and any song reported by two shards. CPU only; no shader
//! mirrored.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;

use super::report::{Status, Summary};
use crate::error::{Error, Result};

/// Parses `shard-I-of-N.json`.
fn shard_of(name: &str) -> Option<(usize, usize)> {
    let rest = name.strip_prefix("shard-")?.strip_suffix(".json")?;
    let (i, n) = rest.split_once("-of-")?;
    Some((i.parse().ok()?, n.parse().ok()?))
}

/// The merged report and the problems found (missing shards, songs done twice, mixed
/// manifests), as messages.
pub fn merge(dir: &Path) -> Result<(Summary, Vec<String>)> {
    let reports = dir.join("reports");
    let rd = std::fs::read_dir(&reports).map_err(|e| Error::io(&reports, e))?;
    let mut found: BTreeMap<(usize, usize), Summary> = BTreeMap::new();
    for e in rd.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(key) = shard_of(&name) else { continue };
        let text = std::fs::read_to_string(e.path()).map_err(|err| Error::io(e.path(), err))?;
        let s: Summary = serde_json::from_str(&text).map_err(|err| Error::Output {
            path: e.path(),
            reason: format!("not a shard report: {err}"),
        })?;
        found.insert(key, s);
    }
    if found.is_empty() {
        return Err(Error::scene(
            &reports,
            "no shard reports (shard-I-of-N.json) here",
        ));
    }
    let mut problems = Vec::new();
    let counts: BTreeSet<usize> = found.keys().map(|k| k.1).collect();
    let n = *counts.iter().max().unwrap_or(&1);
    if counts.len() > 1 {
        problems.push(format!(
            "reports from runs with different shard counts {counts:?}; merging the {n}-shard run"
        ));
        found.retain(|k, _| k.1 == n);
    }
    let hashes: BTreeSet<String> = found.values().map(|s| s.manifest_sha256.clone()).collect();
    if hashes.len() > 1 {
        problems.push(format!(
            "shard reports come from {} different manifests",
            hashes.len()
        ));
    }
    let mut out = Summary {
        mixfarm_version: crate::VERSION.into(),
        manifest_sha256: hashes.into_iter().next().unwrap_or_default(),
        ..Summary::default()
    };
    for i in 0..n {
        match found.remove(&(i, n)) {
            Some(s) => {
                out.shards_merged.push(format!("{i}/{n}"));
                if s.interrupted {
                    problems.push(format!("shard {i}/{n} was interrupted: run it again"));
                    out.interrupted = true;
                }
                out.albums += s.albums;
                out.album_files_failed += s.album_files_failed;
                for f in &s.failures {
                    if !s.songs.iter().any(|r| r.input == f.0 && r.delivery == f.1) {
                        out.failures.push(f.clone());
                    }
                }
                out.add(s.songs);
                out.sequences.extend(s.sequences);
            }
            None => out.shards_missing.push(format!("{i}/{n}")),
        }
    }
    for m in &out.shards_missing {
        problems.push(format!("shard {m} has no report: it did not finish"));
    }
    let mut seen = BTreeMap::new();
    for r in out.songs.iter().filter(|r| r.status != Status::Failed) {
        let k = (r.delivery.clone(), r.album.clone(), r.key.clone());
        if let Some(first) = seen.insert(k, r.shard.clone()) {
            problems.push(format!(
                "{} / {} / {} reported by shards {:?} and {:?}",
                r.delivery, r.album, r.title, first, r.shard
            ));
        }
    }
    Ok((out, problems))
}

/// Runs `mixfarm merge-reports DIR`: exit 0 when every shard reported and nothing failed,
/// 1 otherwise, 2 when there is nothing to merge.
pub fn merge_cmd(dir: &Path) -> ExitCode {
    let (s, problems) = match merge(dir) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = s.write(dir, "summary") {
        eprintln!("error: {e}");
        return ExitCode::from(1);
    }
    for (input, delivery, e) in &s.failures {
        eprintln!("FAILED  {delivery}: {} — {e}", input.display());
    }
    for p in &problems {
        eprintln!("problem: {p}");
    }
    eprintln!(
        "{} shards merged, {} missing; {} song deliveries: {} mastered, {} with warnings, {} up \
         to date, {} failed; wrote {}",
        s.shards_merged.len(),
        s.shards_missing.len(),
        s.total,
        s.ok,
        s.warned,
        s.skipped,
        s.failed,
        dir.join("summary.json").display()
    );
    let bad = !problems.is_empty() || s.failed > 0 || !s.failures.is_empty();
    ExitCode::from(u8::from(bad))
}
