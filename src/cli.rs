//! Command-line interface (clap): `render`, `analyze`, and the helpers around them.
//! Exit codes: 0 all songs ok, 1 some songs failed, 2 usage or scene error, 75 retryable
//! (GPU lost, out of memory).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::render::{self, Backend, RenderOptions, SongReport};

/// mixfarm: mixes and masters many songs at once, on the GPU or the CPU.
#[derive(Debug, Parser)]
#[command(name = "mixfarm", version, about)]
pub struct Cli {
    /// choose the GPU adapter whose name contains this text (same as MIXFARM_ADAPTER)
    #[arg(long, global = true)]
    adapter: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Render every song of the given scene or album files.
    Render {
        /// song scene files and/or album files (TOML)
        #[arg(required = true)]
        scenes: Vec<PathBuf>,
        /// output folder
        #[arg(long, short)]
        out: PathBuf,
        /// engine
        #[arg(long, value_enum, default_value_t = Backend::Auto)]
        backend: Backend,
        /// songs rendered at once (default: one per core)
        #[arg(long, short)]
        jobs: Option<usize>,
        /// write the batch report as JSON to this file
        #[arg(long)]
        report: Option<PathBuf>,
        /// this worker's shard, INDEX/COUNT (0-based); default: the scheduler's array index
        /// (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX)
        #[arg(long)]
        shard: Option<String>,
        /// shard count when the scheduler exports only an index (Kubernetes, AWS Batch)
        #[arg(long)]
        shards: Option<usize>,
        /// memory one GPU batch may take (4G, 512M…; default: a quarter of the machine's
        /// memory, 512M to 8G)
        #[arg(long, value_parser = crate::engine::budget::parse)]
        memory_budget: Option<u64>,
        /// skip a song whose output is on disk with a sidecar (`<file>.json`) recording the
        /// same scene, stems and mixfarm version (resume a killed run)
        #[arg(long)]
        skip_existing: bool,
        /// most limiter gain reduction a song may need, dB; past it (or more than 0.1 LU off
        /// its target) the song is written but flagged with a warning
        #[arg(long, default_value_t = crate::engine::DEFAULT_MAX_REDUCTION_DB)]
        max_reduction: f64,
    },
    /// Measure loudness and levels of audio files (a folder: its audio files).
    Analyze {
        /// audio files and/or folders
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// print JSON instead of a table
        #[arg(long)]
        json: bool,
        /// also print each folder's loudness as one album (loose files: one more)
        #[arg(long)]
        album: bool,
        /// write one CSV row per file to this file
        #[arg(long)]
        csv: Option<PathBuf>,
        /// write each file's charts (loudness and true peak over time, spectrum) to this
        /// HTML page
        #[arg(long)]
        html: Option<PathBuf>,
        /// where the meters run: `cpu` on the host, file by file; `gpu` / `auto` as Plans on
        /// that executor, 8 files a batch (the same figures bit for bit)
        #[arg(long, value_enum, default_value_t = Backend::Cpu)]
        backend: Backend,
    },
    /// Build DIR/report.html (and the song and album pages) again from a master run's
    /// sidecars.
    Report {
        /// the output folder of `mixfarm master`
        dir: PathBuf,
    },
    /// List the GPU adapters wgpu sees, with their type, driver and limits.
    Devices {
        /// print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Render songs on both backends and report how far the GPU is from the CPU reference
    /// (per stage and end to end); exits 1 past the tolerance (2^-20 FS, 0.01 LU).
    Verify {
        /// song scene files and/or album files (TOML)
        #[arg(required = true)]
        scenes: Vec<PathBuf>,
        /// print JSON instead of tables
        #[arg(long)]
        json: bool,
        /// print only the end-to-end figures, not every stage
        #[arg(long)]
        brief: bool,
        /// run these stages (indices, as listed, or `all`) on the CPU inside the GPU
        /// executor, to bisect a divergence (same as MIXFARM_CPU_STAGES)
        #[arg(long, value_parser = crate::gpu::render::CpuStages::parse)]
        cpu_stages: Option<crate::gpu::render::CpuStages>,
    },
    /// Check a GPU node: the adapter and its limits, every kernel against its CPU twin on a
    /// built-in synthetic catalog, a short bench; exits 0 only when every parity bound holds.
    Selftest {
        /// print JSON instead of a table
        #[arg(long)]
        json: bool,
        /// accept a software adapter (llvmpipe): for testing the check itself
        #[arg(long)]
        allow_software: bool,
        /// seconds of audio per song of the catalog
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
    },
    /// Master finished stereo mixes to one or more deliveries (preset chain, loudness target).
    Master(crate::master::MasterArgs),
    /// Show how a catalog splits into shards (songs, albums, audio minutes per shard).
    Plan {
        /// the manifest (.csv/.toml), or audio files and folders
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// number of shards (array tasks)
        #[arg(long)]
        shards: usize,
        /// print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Join the shard reports in DIR/reports into DIR/summary.json and summary.csv.
    MergeReports {
        /// the output folder the shards wrote into
        dir: PathBuf,
    },
    /// Render a generated catalog on the CPU and the GPU and print one table of figures.
    Bench(crate::bench::BenchArgs),
    /// Regenerate the synthesised demo album (stems + scenes) into a folder.
    #[command(hide = true)]
    SynthDemo {
        /// destination folder
        dir: PathBuf,
    },
    /// Write a small mastering catalog (stereo WAVs + manifest.csv) into a folder.
    #[command(hide = true)]
    SynthCatalog {
        /// destination folder
        dir: PathBuf,
        /// albums
        #[arg(long, default_value_t = 2)]
        albums: usize,
        /// songs per album
        #[arg(long, default_value_t = 5)]
        songs_per_album: usize,
        /// seconds per song
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// drive every song into a soft clipper just under 0 dBFS (dense and loud, as
        /// finished masters are) instead of leaving each at its own level
        #[arg(long)]
        loud: bool,
    },
}

/// Parses the command line and runs it.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    if let Some(a) = &cli.adapter {
        std::env::set_var(crate::gpu::context::ENV_ADAPTER, a);
    }
    match cli.command {
        Command::Devices { json } => devices_cmd(json),
        Command::Selftest {
            json,
            allow_software,
            seconds,
        } => selftest_cmd(json, allow_software, seconds),
        Command::Verify {
            scenes,
            json,
            brief,
            cpu_stages,
        } => {
            if let Some(c) = cpu_stages {
                crate::verify::set_cpu_stages(c);
            }
            verify_cmd(&scenes, json, brief)
        }
        Command::Render {
            scenes,
            out,
            backend,
            jobs,
            report,
            shard,
            shards,
            memory_budget,
            skip_existing,
            max_reduction,
        } => {
            if let Some(b) = memory_budget {
                crate::engine::budget::set(b);
            }
            let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
            match crate::master::shard::resolve(shard.as_deref(), shards, &env) {
                Ok(s) => {
                    let (mine, hash) = crate::master::shard::scenes_of_shard(&scenes, s);
                    if let Some(s) = s {
                        eprintln!("shard {s}: {} of {} scene files", mine.len(), scenes.len());
                    }
                    let tag = s.map(|s| (s.to_string(), hash));
                    let flags = RenderFlags {
                        skip_existing,
                        max_reduction_db: max_reduction,
                    };
                    render_cmd(&mine, out, backend, jobs, report, tag, flags)
                }
                Err(m) => {
                    eprintln!("error: {m}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Analyze {
            files,
            json,
            album,
            csv,
            html,
            backend,
        } => {
            let opts = crate::analyze::cmd::Options {
                json,
                album,
                csv,
                html,
                backend,
            };
            crate::analyze::cmd::analyze_cmd(&files, &opts)
        }
        Command::Report { dir } => crate::report::report_cmd(&dir),
        Command::SynthDemo { dir } => synth_demo(&dir),
        Command::Bench(args) => crate::bench::bench_cmd(args),
        Command::Master(args) => crate::master::master_cmd(args),
        Command::Plan {
            inputs,
            shards,
            json,
        } => crate::master::plan_cmd(&inputs, shards, json),
        Command::MergeReports { dir } => crate::master::merge::merge_cmd(&dir),
        Command::SynthCatalog {
            dir,
            albums,
            songs_per_album,
            seconds,
            loud,
        } => {
            match crate::synth::catalog_files::write_catalog(
                &dir,
                albums,
                songs_per_album,
                seconds,
                loud,
            ) {
                Ok(m) => {
                    eprintln!("wrote the catalog; manifest {}", m.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(1)
                }
            }
        }
    }
}

fn synth_demo(dir: &std::path::Path) -> ExitCode {
    match crate::synth::write_demo(dir) {
        Ok(()) => {
            eprintln!("wrote the demo album to {}", dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// `render` options passed on to the batch as they are.
struct RenderFlags {
    skip_existing: bool,
    max_reduction_db: f64,
}

fn render_cmd(
    scenes: &[PathBuf],
    out: PathBuf,
    backend: Backend,
    jobs: Option<usize>,
    report_path: Option<PathBuf>,
    shard: Option<(String, String)>,
    flags: RenderFlags,
) -> ExitCode {
    let RenderFlags {
        skip_existing,
        max_reduction_db,
    } = flags;
    if !(max_reduction_db.is_finite() && max_reduction_db >= 0.0) {
        eprintln!("error: --max-reduction must be ≥ 0 dB, got {max_reduction_db}");
        return ExitCode::from(2);
    }
    if let Err(m) = crate::engine::output::check_writable(&out) {
        eprintln!("error: {m}");
        return ExitCode::from(2);
    }
    let pool = match rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(0))
        .build()
    {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot start worker threads: {e}");
            return ExitCode::from(2);
        }
    };
    let bar = crate::engine::progress::Progress::new(None);
    let on_done = |r: &SongReport| bar.song(&song_line(r), r.error.is_some());
    let opts = RenderOptions {
        out_dir: out,
        backend,
        on_song_done: Some(&on_done),
        skip_existing,
        max_reduction_db,
    };
    crate::engine::stop::stop_on_signals();
    let mut report = pool.install(|| render::render_batch(scenes, &opts));
    if let Some((s, h)) = shard {
        report.shard = Some(s);
        report.inputs_sha256 = Some(h);
    }
    bar.finish();
    if let Some(note) = &report.note {
        eprintln!("{}{note}", if report.fatal { "error: " } else { "note: " });
    }
    if report.fatal {
        return ExitCode::from(report.exit_code());
    }
    let audio_s: f64 = report
        .songs
        .iter()
        .map(|s| s.duration_s)
        .fold(0.0, |a, b| a + b);
    eprintln!(
        "{} songs: {} ok, {} with warnings, {} failed; {:.1} s of audio in {:.2} s ({:.1}× realtime, {} backend{})",
        report.songs.len(),
        report.ok() - report.warned(),
        report.warned(),
        report.failed(),
        audio_s,
        report.wall_s,
        report.realtime_factor(),
        format!("{:?}", report.backend).to_lowercase(),
        report
            .adapter
            .as_ref()
            .map_or(String::new(), |a| format!(" on {a}"))
    );
    if let Some(p) = report_path {
        let json = serde_json::to_string_pretty(&report).unwrap_or_default();
        if let Err(e) = crate::audio::encode::write_atomic(&p, |tmp| {
            std::fs::write(tmp, json).map_err(|e| crate::Error::io(tmp, e))
        }) {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    }
    ExitCode::from(report.exit_code())
}

fn song_line(r: &SongReport) -> String {
    match (&r.error, &r.output) {
        (Some(e), _) => format!("FAILED  {}: {e}", r.title),
        (None, Some(out)) if r.skipped => {
            format!("skipped {} → {} (up to date)", r.title, out.display())
        }
        (None, Some(out)) => {
            let lufs = r
                .output_loudness
                .and_then(|l| l.integrated_lufs)
                .map_or("-inf".into(), |v| format!("{v:.2}"));
            let tp = r
                .output_loudness
                .map_or(f64::NEG_INFINITY, |l| l.true_peak_dbtp);
            let gain = r.normalisation.map_or(0.0, |n| n.gain_db);
            let status = if r.warnings.is_empty() {
                "ok     ".to_string()
            } else {
                format!("WARNING {}:", r.warnings.join("; "))
            };
            format!(
                "{status} {} → {} ({:.1} s, {lufs} LUFS, {tp:.2} dBTP, gain {gain:+.2} dB, {:.2} s)",
                r.title,
                out.display(),
                r.duration_s,
                r.render_s
            )
        }
        (None, None) => format!("ok      {}", r.title),
    }
}

fn devices_cmd(json: bool) -> ExitCode {
    let adapters = crate::gpu::list_adapters();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&adapters).unwrap_or_default()
        );
    } else if adapters.is_empty() {
        println!("no GPU adapters found (install a Vulkan driver; for tests, Mesa's mesa-vulkan-drivers)");
    } else {
        for a in &adapters {
            println!(
                "{} ({}, {}{})",
                a.name,
                a.device_type,
                a.backend,
                if a.software {
                    ", software: tests only, not used by --backend auto"
                } else {
                    ""
                }
            );
            println!("  driver                {} {}", a.driver, a.driver_info);
            println!("  max buffer            {} MiB", a.max_buffer_size >> 20);
            println!(
                "  max storage binding   {} MiB",
                a.max_storage_buffer_binding_size >> 20
            );
            println!(
                "  workgroup memory      {} KiB",
                a.max_compute_workgroup_storage_size >> 10
            );
            println!(
                "  invocations/workgroup {}",
                a.max_compute_invocations_per_workgroup
            );
            println!(
                "  timestamp queries     {}",
                if a.timestamps { "yes" } else { "no" }
            );
        }
    }
    ExitCode::SUCCESS
}

fn selftest_cmd(json: bool, allow_software: bool, seconds: f64) -> ExitCode {
    if !(seconds > 0.0 && seconds <= 600.0) {
        eprintln!("error: --seconds must be in (0, 600], got {seconds}");
        return ExitCode::from(2);
    }
    let gpu = match crate::gpu::Gpu::new(crate::gpu::GpuOptions { allow_software }) {
        Ok(Some(g)) => g,
        Ok(None) => {
            eprintln!(
                "error: no {}GPU adapter found (`mixfarm devices` lists what wgpu sees{})",
                if allow_software { "" } else { "hardware " },
                if allow_software {
                    ""
                } else {
                    "; --allow-software tests a software adapter"
                }
            );
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(if e.is_retryable() { 75 } else { 1 });
        }
    };
    match crate::selftest::run(&gpu, seconds) {
        Ok(r) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&r).unwrap_or_default());
            } else {
                crate::selftest::print(&r);
            }
            ExitCode::from(if r.pass { 0 } else { 1 })
        }
        Err(e) => {
            eprintln!("error: selftest: {e}");
            ExitCode::from(if e.is_retryable() { 75 } else { 1 })
        }
    }
}

fn verify_cmd(scenes: &[PathBuf], json: bool, brief: bool) -> ExitCode {
    let gpu = match crate::gpu::Gpu::new(crate::gpu::GpuOptions {
        allow_software: true,
    }) {
        Ok(Some(g)) => g,
        Ok(None) => {
            eprintln!("error: verify needs a GPU adapter and found none (`mixfarm devices`)");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(if e.is_retryable() { 75 } else { 1 });
        }
    };
    let results = crate::verify::verify(scenes, &gpu);
    let mut code = 0u8;
    let mut out = Vec::new();
    if !json {
        println!("adapter: {}", gpu.name());
        println!(
            "tolerance: max |gpu − cpu| ≤ 2^-20 FS ({:.1} dBFS), loudness ≤ {} LU",
            20.0 * crate::verify::MAX_ABS_TOLERANCE.log10(),
            crate::verify::LOUDNESS_TOLERANCE_LU
        );
    }
    for r in results {
        match r {
            Err(e) => {
                code = code.max(if e.is_retryable() { 75 } else { 1 });
                eprintln!("error: {e}");
                out.push(serde_json::json!({ "error": e.to_string() }));
            }
            Ok(v) => {
                if !v.pass {
                    code = code.max(1);
                }
                if !json {
                    println!("\n{} — {}", v.title, if v.pass { "PASS" } else { "FAIL" });
                    if !brief {
                        println!(
                            "  {:>4}  {:<12} {:<7} {:>12} {:>10} {:>10}",
                            "#", "stage", "backend", "max |Δ| dBFS", "LSB@24", "identical"
                        );
                        for st in &v.stages {
                            println!(
                                "  {:>4}  {:<12} {:<7} {:>12.1} {:>10.3} {:>9.3}%",
                                st.index,
                                st.op,
                                st.backend,
                                st.diff.max_abs_dbfs,
                                st.diff.max_lsb_24,
                                100.0 * st.diff.identical_24bit
                            );
                        }
                    }
                    let e = v.end_to_end;
                    println!("  end to end: max |Δ| {:.3e} ({:.1} dBFS, {:.3} LSB@24), {:.3}% identical at 24 bits", e.max_abs, e.max_abs_dbfs, e.max_lsb_24, 100.0 * e.identical_24bit);
                    let f = |x: Option<f64>| x.map_or("-inf".to_string(), |v| format!("{v:.3}"));
                    println!(
                        "  loudness: cpu {} LUFS, gpu {} LUFS, Δ {:.4} LU",
                        f(v.loudness_lufs[0]),
                        f(v.loudness_lufs[1]),
                        v.loudness_diff_lu
                    );
                }
                out.push(serde_json::to_value(&v).unwrap_or_default());
            }
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    }
    ExitCode::from(code)
}
