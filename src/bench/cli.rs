//! The `mixfarm bench` subcommand: clap arguments and the command body (options → run →
//! table or JSON → exit code). Mirrors no shader.
//!
//! Exit codes: 0 measured (parity within 2^-20 where both backends ran); 1 parity over the
//! bound, or a render error; 2 bad options, `--backend gpu` with no acceptable adapter
//! (nothing to measure), or a song too large for the GPU's bindings; 75 a retryable GPU
//! failure (device lost, out of memory).

use std::process::ExitCode;

use super::{run, table, BenchOptions};
use crate::error::Error;

/// Which engines `mixfarm bench` times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchBackend {
    /// the CPU reference path only
    Cpu,
    /// the GPU only
    Gpu,
    /// both, with speed-up and parity
    Both,
}

/// Arguments of `mixfarm bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// songs in the generated catalog
    #[arg(long, default_value_t = 8)]
    pub songs: usize,
    /// stems per song
    #[arg(long, default_value_t = 8)]
    pub stems: usize,
    /// song length, seconds
    #[arg(long, default_value_t = 30.0)]
    pub seconds: f64,
    /// sample rate, Hz
    #[arg(long, default_value_t = 48_000)]
    pub rate: u32,
    /// catalog seed
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// stereo IR length of the convolution figure, seconds (0 skips it)
    #[arg(long, default_value_t = 2.5)]
    pub ir_seconds: f64,
    /// engines to time
    #[arg(long, value_enum, default_value_t = BenchBackend::Both)]
    pub backend: BenchBackend,
    /// accept a software Vulkan adapter (llvmpipe): its figures are NOT GPU figures
    #[arg(long)]
    pub allow_software: bool,
    /// print the report as JSON instead of the table
    #[arg(long)]
    pub json: bool,
}

impl BenchArgs {
    /// The library options these arguments ask for.
    pub fn options(&self) -> BenchOptions {
        BenchOptions {
            songs: self.songs,
            stems: self.stems,
            seconds: self.seconds,
            sample_rate: self.rate,
            seed: self.seed,
            cpu: self.backend != BenchBackend::Gpu,
            gpu: self.backend != BenchBackend::Cpu,
            allow_software_gpu: self.allow_software,
            ir_seconds: self.ir_seconds,
        }
    }
}

/// Runs `mixfarm bench` and prints one table (or JSON with `--json`) on stdout.
pub fn bench_cmd(args: BenchArgs) -> ExitCode {
    let opts = args.options();
    let catalog_gb =
        (opts.songs * opts.stems) as f64 * 1.5 * opts.seconds * f64::from(opts.sample_rate) * 4e-9;
    if catalog_gb > 4.0 {
        eprintln!(
            "note: the catalog alone holds about {catalog_gb:.1} GB of f32 audio; the CPU path \
             needs about as much again per song in flight"
        );
    }
    let report = match run(&opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(match e {
                Error::Gpu {
                    retryable: true, ..
                } => 75,
                Error::Scene { .. } | Error::Gpu { .. } => 2,
                _ => 1,
            });
        }
    };
    if let Some(why) = &report.gpu_skipped {
        if opts.gpu {
            eprintln!("GPU part skipped: {why}");
        }
    }
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("error: cannot write the report as JSON: {e}");
                return ExitCode::from(1);
            }
        }
    } else {
        print!("{}", table::render(&report));
    }
    let parity_ok = [
        report.mix.parity,
        report.convolution.as_ref().and_then(|c| c.parity),
    ]
    .iter()
    .flatten()
    .all(|p| p.within_bound);
    if !parity_ok {
        eprintln!("error: GPU ⇄ CPU parity over the 2^-20 bound");
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
