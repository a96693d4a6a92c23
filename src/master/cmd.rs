//! `mixfarm master` and `mixfarm plan` as commands: shard selection, the signal watch, the
//! progress bar, the album loop on the engine's executor, and the summary.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Mutex;

use super::{
    job, load_catalog, manifest, run_album, shard, Album, Catalog, Ctl, MasterArgs, SongReport,
    Status, Summary, AUDIO_EXTENSIONS,
};

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

/// Exit code of a run: 75 interrupted or a retryable failure (GPU lost), 1 some songs
/// failed, 0 all done.
pub fn exit_code(s: &Summary) -> u8 {
    crate::engine::exit_code(
        false,
        s.interrupted || s.songs.iter().any(|r| r.retryable),
        s.failed > 0 || !s.failures.is_empty(),
    )
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
    for n in &cat.notes {
        eprintln!("note: {n}");
    }
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let shard = match shard::resolve(args.shard.as_deref(), args.shards, &env) {
        Ok(s) => s,
        Err(m) => return usage(m),
    };
    let mut job = match job(&args, &cat) {
        Ok(j) => j,
        Err(m) => return usage(m),
    };
    // every setting checked: the folder is created only now, and must be writable
    if let Err(m) = crate::engine::output::check_writable(&args.out) {
        return usage(m);
    }
    job.shard = shard.map(|s| s.to_string());
    if let Some(b) = args.memory_budget {
        crate::engine::budget::set(b);
    }
    let executor = match crate::engine::Executor::open(args.backend) {
        Ok(x) => Mutex::new(x),
        Err(m) => return usage(m),
    };
    crate::engine::stop::stop_on_signals();
    let stop: &std::sync::atomic::AtomicBool = crate::engine::stop::flag();
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
    let bar = crate::engine::progress::Progress::new(Some(total));
    let on_song = |r: &SongReport| {
        let line = match (&r.status, &r.error) {
            (Status::Failed, e) => {
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
            (Status::Warning, _) => format!(
                "WARNING {}/{}/{}: {} ({})",
                r.delivery,
                r.album,
                r.title,
                r.warnings.join("; "),
                r.reason
            ),
        };
        bar.song(&line, r.status == Status::Failed);
    };
    let ctl = Ctl {
        stop,
        on_song: &on_song,
        executor: &executor,
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
                summary.album_files_failed += 1;
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
    bar.finish();
    let executor = executor.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(note) = &executor.note {
        eprintln!("note: {note}");
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
        "{} song deliveries: {} mastered, {} with warnings, {} up to date, {} failed{}{}; {} backend{}; report {}",
        summary.total,
        summary.ok,
        summary.warned,
        summary.skipped,
        summary.failed,
        match summary.album_files_failed {
            0 => String::new(),
            n => format!(", {n} album file{} failed", if n == 1 { "" } else { "s" }),
        },
        if summary.interrupted {
            "; STOPPED by a signal (exit 75: run again to resume)"
        } else {
            ""
        },
        format!("{:?}", executor.backend()).to_lowercase(),
        executor
            .adapter()
            .map_or(String::new(), |a| format!(" on {a}")),
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
        _ => super::catalog_from_inputs(inputs, &AUDIO_EXTENSIONS),
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
