//! Sharding a catalog across the workers of a cluster scheduler's array job. The shard
//! comes from `--shard I/N`, else from the scheduler's variables: Slurm
//! (`SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN`, `SLURM_ARRAY_TASK_COUNT`), Kubernetes
//! Indexed Jobs (`JOB_COMPLETION_INDEX`), AWS Batch (`AWS_BATCH_JOB_ARRAY_INDEX`); the
//! count from `--shards N` or `MIXFARM_SHARDS` where the scheduler exports none.
//!
//! Albums stay whole (album gain and sequences need every song). Assignment is
//! deterministic from the sorted catalog: albums are taken longest first (ties by title)
//! and each goes to the shard with the least audio so far (ties: the lowest index).
//! CPU only; no shader mirrored.

use std::fmt::Write as _;

use rayon::prelude::*;
use serde::Serialize;

use super::manifest::Catalog;

/// This worker's shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based index
    pub index: usize,
    /// number of shards
    pub count: usize,
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

fn parse_usize(name: &str, v: &str) -> Result<usize, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("{name}='{v}' is not a whole number"))
}

/// Parses `I/N` (0-based I < N).
pub fn parse_shard(s: &str) -> Result<Shard, String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("--shard '{s}': expected INDEX/COUNT, e.g. 0/4"))?;
    check(
        parse_usize("--shard index", i)?,
        parse_usize("--shard count", n)?,
    )
}

fn check(index: usize, count: usize) -> Result<Shard, String> {
    if count == 0 {
        return Err("the shard count must be at least 1".into());
    }
    if index >= count {
        return Err(format!(
            "shard index {index} is out of range for {count} shards (indices 0..{})",
            count - 1
        ));
    }
    Ok(Shard { index, count })
}

/// Resolves the shard from the flag, then the scheduler variables read through `env`.
/// `Ok(None)`: not sharded (no flag, no scheduler variable).
pub fn resolve(
    flag: Option<&str>,
    shards: Option<usize>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Shard>, String> {
    if let Some(f) = flag {
        return parse_shard(f).map(Some);
    }
    let count_env = || -> Result<Option<usize>, String> {
        match (shards, env("MIXFARM_SHARDS")) {
            (Some(n), _) => Ok(Some(n)),
            (None, Some(v)) => parse_usize("MIXFARM_SHARDS", &v).map(Some),
            (None, None) => Ok(None),
        }
    };
    let need_count = |var: &str| -> Result<usize, String> {
        count_env()?.ok_or_else(|| {
            format!("{var} is set but the shard count is unknown: pass --shards N or set MIXFARM_SHARDS")
        })
    };
    if let Some(id) = env("SLURM_ARRAY_TASK_ID") {
        let id = parse_usize("SLURM_ARRAY_TASK_ID", &id)?;
        let min = match env("SLURM_ARRAY_TASK_MIN") {
            Some(m) => parse_usize("SLURM_ARRAY_TASK_MIN", &m)?,
            None => 0,
        };
        let count = match (shards, env("SLURM_ARRAY_TASK_COUNT")) {
            (Some(n), _) => n,
            (None, Some(c)) => parse_usize("SLURM_ARRAY_TASK_COUNT", &c)?,
            (None, None) => need_count("SLURM_ARRAY_TASK_ID")?,
        };
        let index = id.checked_sub(min).ok_or_else(|| {
            format!("SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}")
        })?;
        return check(index, count).map(Some);
    }
    for var in ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"] {
        if let Some(v) = env(var) {
            let index = parse_usize(var, &v)?;
            return check(index, need_count(var)?).map(Some);
        }
    }
    match shards {
        Some(_) => Err(
            "--shards N needs a shard index: --shard I/N or a scheduler's array index variable"
                .into(),
        ),
        None => Ok(None),
    }
}

/// Audio seconds of each album (from file headers; unreadable files count 0).
pub fn album_seconds(cat: &Catalog) -> Vec<f64> {
    cat.albums
        .par_iter()
        .map(|a| {
            a.tracks
                .iter()
                .filter_map(|t| crate::audio::decode::probe_seconds(&t.file))
                .sum()
        })
        .collect()
}

/// The shard of every album (same order as `seconds`): longest album first onto the
/// least-loaded shard.
pub fn assign(seconds: &[f64], titles: &[&str], count: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..seconds.len()).collect();
    order.sort_by(|&a, &b| {
        seconds[b]
            .total_cmp(&seconds[a])
            .then_with(|| titles[a].cmp(titles[b]))
    });
    let mut load = vec![0.0f64; count.max(1)];
    let mut out = vec![0usize; seconds.len()];
    for i in order {
        let s = (0..load.len())
            .min_by(|&a, &b| load[a].total_cmp(&load[b]).then(a.cmp(&b)))
            .unwrap_or(0);
        load[s] += seconds[i];
        out[i] = s;
    }
    out
}

/// One shard in `mixfarm plan`.
#[derive(Debug, Clone, Serialize)]
pub struct ShardPlan {
    /// shard index
    pub shard: usize,
    /// albums on it
    pub albums: Vec<String>,
    /// songs on it
    pub songs: usize,
    /// the songs' files, as the manifest names them
    pub files: Vec<String>,
    /// minutes of audio on it
    pub audio_minutes: f64,
}

/// How `cat` splits into `count` shards.
pub fn plan(cat: &Catalog, count: usize) -> Vec<ShardPlan> {
    let secs = album_seconds(cat);
    let titles: Vec<&str> = cat.albums.iter().map(|a| a.title.as_str()).collect();
    let of = assign(&secs, &titles, count);
    let mut out: Vec<ShardPlan> = (0..count)
        .map(|shard| ShardPlan {
            shard,
            albums: Vec::new(),
            songs: 0,
            files: Vec::new(),
            audio_minutes: 0.0,
        })
        .collect();
    for (i, a) in cat.albums.iter().enumerate() {
        let p = &mut out[of[i]];
        p.albums.push(a.title.clone());
        p.songs += a.tracks.len();
        p.files.extend(a.tracks.iter().map(|t| t.key.clone()));
        p.audio_minutes += secs[i] / 60.0;
    }
    out
}

/// `mixfarm plan` as a table.
pub fn plan_table(plans: &[ShardPlan], manifest_sha256: &str) -> String {
    let mut s = format!("manifest sha256 {manifest_sha256}\n");
    let _ = writeln!(
        s,
        "{:>5}  {:>6}  {:>5}  {:>9}  albums",
        "shard", "albums", "songs", "minutes"
    );
    for p in plans {
        let _ = writeln!(
            s,
            "{:>5}  {:>6}  {:>5}  {:>9.1}  {}",
            p.shard,
            p.albums.len(),
            p.songs,
            p.audio_minutes,
            p.albums.join(", ")
        );
    }
    let total: f64 = plans.iter().map(|p| p.audio_minutes).sum();
    let most = plans.iter().map(|p| p.audio_minutes).fold(0.0, f64::max);
    let _ =
        writeln!(
        s,
        "total {:.1} min of audio; the largest shard holds {:.1} min ({:.0} % of an even split)",
        total,
        most,
        if total > 0.0 { 100.0 * most * plans.len() as f64 / total } else { 100.0 }
    );
    s
}

/// Audio seconds of a scene file (song or album): per song, its longest stem (headers only).
pub fn scene_seconds(path: &std::path::Path) -> f64 {
    let Ok(songs) = crate::scene::load::load_file(path) else {
        return 0.0;
    };
    songs
        .iter()
        .flatten()
        .map(|s| {
            s.song
                .tracks
                .iter()
                .filter_map(|t| crate::audio::decode::probe_seconds(&s.dir.join(t.file.get_ref())))
                .fold(0.0, f64::max)
        })
        .sum()
}

/// The scene files of `shard` for `mixfarm render`: files sorted by path, each file (an album
/// file keeps its album whole) assigned like albums, by audio duration. Returns the files and
/// the SHA-256 of the sorted input list.
pub fn scenes_of_shard(
    scenes: &[std::path::PathBuf],
    shard: Option<Shard>,
) -> (Vec<std::path::PathBuf>, String) {
    let mut sorted = scenes.to_vec();
    sorted.sort();
    sorted.dedup();
    let list: Vec<String> = sorted.iter().map(|p| p.display().to_string()).collect();
    let hash = super::manifest::text_sha256(&list.join("\n"));
    let Some(s) = shard else {
        return (scenes.to_vec(), hash);
    };
    let secs: Vec<f64> = sorted.par_iter().map(|p| scene_seconds(p)).collect();
    let of = assign(
        &secs,
        &list.iter().map(String::as_str).collect::<Vec<_>>(),
        s.count,
    );
    let mine = sorted
        .into_iter()
        .zip(of)
        .filter(|(_, i)| *i == s.index)
        .map(|(p, _)| p)
        .collect();
    (mine, hash)
}
