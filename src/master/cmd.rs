//! `mixfarm master` and `mixfarm plan` as commands: the checks before any work (inputs,
//! what `--out` holds: [`super::guard`]), `--dry-run`, shard selection, the signal watch,
//! the progress bar, the album loop ([`super::albums`], `--jobs` threads), and the
//! summary (`--quiet`, `--verbose`, `--json`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;

use super::{
    guard, job, load_catalog, manifest, precheck, shard, Album, Catalog, Ctl, MasterArgs,
    SongReport, Status, Summary, AUDIO_EXTENSIONS,
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

/// Runs `mixfarm master`: exit 0 all ok, 1 some songs failed (missing or unsupported inputs
/// among them, listed before any work), 2 usage error or refused up front (outputs made
/// otherwise without `--overwrite`), 75 stopped by SIGTERM (retry).
pub fn master_cmd(args: MasterArgs) -> ExitCode {
    let usage = |m: String| {
        eprintln!("error: {m}");
        ExitCode::from(2)
    };
    let say = |m: String| {
        if !args.quiet {
            eprintln!("{m}");
        }
    };
    // the worker threads first, so that the global pool is the one of `--jobs`
    let workers = match super::albums::Workers::new(args.jobs) {
        Ok(w) => w,
        Err(m) => return usage(m),
    };
    let cat = match load_catalog(&args) {
        Ok(c) => c,
        Err(e) => return usage(e.to_string()),
    };
    for n in &cat.notes {
        say(format!("note: {n}"));
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
    job.shard = shard.map(|s| s.to_string());
    let albums = albums_of_shard(&cat, shard);
    let found = precheck::check_inputs(&albums, cat.manifest.as_deref());
    for m in &found.missing {
        eprintln!("missing: {m} (this song fails; the rest is mastered)");
    }
    for u in &found.unsupported {
        eprintln!("unsupported: {u} (this song fails; the rest is mastered)");
    }
    // what the run would do to the files in --out, before any work
    let plan = guard::plan(&albums, &job, args.force);
    if !plan.escapes.is_empty() {
        return usage(plan.escapes.join("\n"));
    }
    if args.dry_run {
        for l in plan.lines() {
            println!("{l}");
        }
        let refused = plan.refused().len();
        if refused > 0 {
            eprintln!("error: {refused} output(s) were made otherwise: --overwrite replaces them");
            return ExitCode::from(2);
        }
        return ExitCode::SUCCESS;
    }
    let refused = plan.refused();
    if !refused.is_empty() {
        let list: Vec<String> = refused
            .iter()
            .map(|(p, why)| format!("{}: {why}", p.display()))
            .collect();
        return usage(format!(
            "{} output(s) in {} would be replaced but were made otherwise; nothing was mastered. \
             --overwrite replaces them, --dry-run shows the whole plan:\n  {}",
            list.len(),
            args.out.display(),
            list.join("\n  ")
        ));
    }
    if args.verbose {
        for l in plan.lines() {
            eprintln!("{l}");
        }
    } else {
        for p in &plan.stale {
            say(format!(
                "stale: {} (an earlier run's output this run does not write; left in place)",
                p.display()
            ));
        }
    }
    job.input_hashes = plan.hashes.clone();
    // every setting checked: the folder is created only now, and must be writable
    if let Err(m) = crate::engine::output::check_writable(&args.out) {
        return usage(m);
    }
    if let Some(b) = args.memory_budget {
        crate::engine::budget::set(b);
    }
    let executor = match crate::engine::Executor::open(args.backend) {
        Ok(x) => Mutex::new(x),
        Err(m) => return usage(m),
    };
    crate::engine::stop::stop_on_signals();
    let stop: &std::sync::atomic::AtomicBool = crate::engine::stop::flag();
    let total: usize = albums.iter().map(|a| a.tracks.len()).sum::<usize>() * job.deliveries.len();
    if let Some(s) = shard {
        say(format!(
            "shard {s}: {} albums, {} songs of {} albums in the catalog",
            albums.len(),
            albums.iter().map(|a| a.tracks.len()).sum::<usize>(),
            cat.albums.len()
        ));
    }
    let bar = (!args.quiet).then(|| crate::engine::progress::Progress::new(Some(total)));
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
        match &bar {
            Some(bar) => bar.song(&line, r.status == Status::Failed),
            None if r.status == Status::Failed => eprintln!("{line}"),
            None => {}
        }
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
        stale: plan.stale.clone(),
        ..Summary::default()
    };
    let mut sequences = Vec::new();
    let all = super::albums::run_albums(&albums, &job, &ctl, &workers, |r| {
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
        }
        !r.interrupted
    });
    summary.interrupted |= !all;
    summary.sequences = sequences;
    if let Some(bar) = &bar {
        bar.finish();
    }
    let executor = executor.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(note) = &executor.note {
        say(format!("note: {note}"));
    }
    let (dir, stem) = match shard {
        Some(s) => (
            args.out.join("reports"),
            format!("shard-{}-of-{}", s.index, s.count),
        ),
        None => (args.out.clone(), "summary".to_string()),
    };
    summary.keep_earlier(&dir.join(format!("{stem}.json")));
    if let Err(e) = summary.write(&dir, &stem) {
        eprintln!("error: {e}");
        return ExitCode::from(1);
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).unwrap_or_default()
        );
    }
    if args.report_html {
        match crate::report::write_report(&args.out) {
            Ok(w) => eprintln!("report {}", w.overview.display()),
            Err(e) => {
                eprintln!("error: the HTML report: {e}");
                return ExitCode::from(1);
            }
        }
    }
    say(format!(
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
    ));
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
