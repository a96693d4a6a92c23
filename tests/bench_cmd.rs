//! `mixfarm bench` on a tiny catalog: the report is consistent (song count, realtime factors
//! against the wall times, parity within the project bound when the GPU ran), the workload
//! Plans have the typical-mix shape, and the byte counts behind the bandwidth figures match
//! a brute-force count. The GPU part runs when an adapter exists (llvmpipe counts).
//! No wall-clock thresholds (GUIDE §6).

use clap::Parser;
use mixfarm::bench::{self, workload, BenchArgs, BenchBackend, BenchOptions, PARITY_BOUND_FS};
use mixfarm::ops::convolve::{Kernel, BINS, BLOCK_FRAMES, FFT_SIZE};
use mixfarm::plan::Stage;

/// Relative slack when re-deriving a rate from the wall time it was computed from
/// (both are f64 of the same numbers: only rounding separates them).
const REL_EPS: f64 = 1e-9;

fn tiny(gpu: bool) -> BenchOptions {
    BenchOptions {
        songs: 3,
        stems: 3,
        seconds: 0.75,
        sample_rate: 16_000,
        seed: 7,
        cpu: true,
        gpu,
        allow_software_gpu: true,
        ir_seconds: 0.1,
    }
}

fn check_timing(what: &str, t: &bench::Timing, songs: usize, audio_s: f64) {
    eprintln!(
        "{what}: wall {:.4} s, {:.1}× realtime, {:.2} songs/s",
        t.wall_s, t.realtime_factor, t.songs_per_s
    );
    assert!(t.wall_s > 0.0 && t.realtime_factor > 0.0 && t.songs_per_s > 0.0);
    assert!((t.realtime_factor * t.wall_s - audio_s).abs() <= REL_EPS * audio_s);
    assert!((t.songs_per_s * t.wall_s - songs as f64).abs() <= REL_EPS * songs as f64);
}

#[test]
fn cpu_only_report_is_consistent() {
    let opts = tiny(false);
    let r = bench::run(&opts).expect("bench");
    assert_eq!(r.songs, 3);
    let frames = (0.75f64 * 16_000.0).round();
    assert_eq!(r.audio_s, 3.0 * frames / 16_000.0);
    check_timing("mix/cpu", r.mix.cpu.as_ref().expect("cpu"), 3, r.audio_s);
    assert!(r.mix.gpu.is_none() && r.mix.parity.is_none() && r.mix.speedup.is_none());
    assert!(r.gpu.is_none() && r.gpu_skipped.is_some());
    let conv = r.convolution.as_ref().expect("convolution");
    check_timing(
        "convolve/cpu",
        conv.cpu.as_ref().expect("cpu"),
        3,
        r.audio_s,
    );
    let setup = r.convolution_setup.as_ref().expect("setup");
    assert_eq!(setup.ir_frames, 1600);
    assert_eq!(setup.partitions, 1600usize.div_ceil(BLOCK_FRAMES));
    assert_eq!(setup.channels, 6);
    assert!(r.cpu_threads >= 1);
    // the table names the shape and says the GPU was skipped
    let t = bench::table::render(&r);
    eprintln!("{t}");
    assert!(t.contains("3 songs × 3 stems × 0.75 s @ 16000 Hz"));
    assert!(t.contains("GPU: skipped"));
    // JSON round-trips through serde_json
    let v = serde_json::to_value(&r).expect("json");
    assert_eq!(v["songs"], 3);
}

#[test]
fn gpu_and_cpu_agree_on_tiny_catalog() {
    let Some(g) = mixfarm::gpu::Gpu::for_tests("gpu_and_cpu_agree_on_tiny_catalog") else {
        return;
    };
    let r = bench::run_with(&tiny(true), Ok(&g)).expect("bench");
    eprintln!("{}", bench::table::render(&r));
    assert_eq!(r.songs, 3);
    assert!(r.gpu.is_some() && r.gpu_skipped.is_none());
    for (what, s) in [
        ("mix", &r.mix),
        ("convolve", r.convolution.as_ref().expect("conv")),
    ] {
        check_timing(
            &format!("{what}/cpu"),
            s.cpu.as_ref().expect("cpu"),
            3,
            r.audio_s,
        );
        check_timing(
            &format!("{what}/gpu"),
            s.gpu.as_ref().expect("gpu"),
            3,
            r.audio_s,
        );
        let p = s.parity.expect("parity");
        eprintln!(
            "{what}: max |gpu - cpu| = {:.3e} FS = {:.1} dBFS = {:.4} LSB24",
            p.max_abs, p.dbfs, p.lsb24
        );
        assert!(
            p.max_abs <= PARITY_BOUND_FS,
            "{what} parity {:e}",
            p.max_abs
        );
        assert!(p.within_bound);
        let speedup = s.speedup.expect("speed-up");
        let want = s.cpu.expect("cpu").wall_s / s.gpu.expect("gpu").wall_s;
        assert!((speedup - want).abs() <= REL_EPS * want);
        if g.timestamps {
            assert!(!s.gpu_stages.is_empty(), "{what}: no stage timings");
            assert!(s.gpu_stages.iter().all(|st| st.bytes > 0));
            let sum: f64 = s.gpu_stages.iter().map(|st| st.per_song_ms).sum();
            let per_song = s.gpu_kernel_ms_per_song.expect("per song");
            assert!((sum - per_song).abs() <= 1e-9 * per_song.max(1.0));
        }
    }
    if g.timestamps {
        let names: Vec<&str> = r.mix.gpu_stages.iter().map(|s| s.stage.as_str()).collect();
        for want in ["load", "gain", "mix", "envelope"] {
            assert!(names.contains(&want), "mix stage {want} missing: {names:?}");
        }
        assert!(r.fft_gb_per_s.expect("fft GB/s") > 0.0);
        assert!(r.convolve_gb_per_s.expect("conv GB/s") > 0.0);
    }
}

#[test]
fn workload_plan_is_the_typical_mix() {
    let stems = mixfarm::synth::catalog(1, 4, 0.5, 16_000, 3);
    let plan = workload::song_plan(0, &stems[0], 16_000, 3);
    let count = |name: &str| plan.stages.iter().filter(|s| s.op_name() == name).count();
    // per stem: load, fader+pan, send, sum; verb: trim (a gain), fader, sum; master fade
    assert_eq!(count("load"), 4);
    assert_eq!(count("gain"), 4 + 2);
    assert_eq!(count("mix"), 4 * 2 + 1);
    assert_eq!(count("envelope"), 1);
    assert_eq!(plan.n_buffers, 6);
    assert_eq!(plan.master, 5);
    // the sends go to the verb bus (buffer 4), after the stem's fader
    for s in 0..4 {
        let pos = |f: &dyn Fn(&Stage) -> bool| plan.stages.iter().position(f).expect("stage");
        let fader = pos(&|st| matches!(st, Stage::Gain { buf, .. } if *buf == s));
        let send = pos(&|st| matches!(st, Stage::Mix { dst: 4, src, .. } if *src == s));
        assert!(fader < send, "send of stem {s} is not post-fader");
    }
    // deterministic
    let again = workload::song_plan(0, &stems[0], 16_000, 3);
    assert_eq!(format!("{:?}", plan.stages), format!("{:?}", again.stages));
}

#[test]
fn convolve_byte_count_matches_brute_force() {
    for (m, l) in [(5000usize, 2500usize), (1000, 9000), (1, 1)] {
        let k = Kernel::new(&vec![0.1; l]);
        let blocks = (m + l - 1).div_ceil(BLOCK_FRAMES);
        let terms: usize = (0..blocks).map(|b| k.partitions.min(b + 1)).sum();
        let spec = BINS * 8;
        let bytes = workload::convolve_stage_bytes(3, m, &k);
        assert_eq!(
            bytes["fft/forward"],
            (3 * blocks * (FFT_SIZE * 4 + spec)) as u64
        );
        assert_eq!(
            bytes["convolve/mac"],
            (3 * (2 * terms + blocks) * spec) as u64
        );
        assert_eq!(
            bytes["fft/inverse"],
            (3 * blocks * (spec + BLOCK_FRAMES * 4)) as u64
        );
    }
}

#[derive(Parser)]
struct Wrap {
    #[command(flatten)]
    args: BenchArgs,
}

#[test]
fn cli_defaults_and_backend_flag() {
    let d = Wrap::try_parse_from(["bench"]).expect("parse").args;
    let o = d.options();
    assert_eq!(
        (o.songs, o.stems, o.seconds, o.sample_rate),
        (8, 8, 30.0, 48_000)
    );
    assert!(o.cpu && o.gpu && !o.allow_software_gpu);
    assert_eq!(d.backend, BenchBackend::Both);
    let c = Wrap::try_parse_from([
        "bench",
        "--backend",
        "cpu",
        "--songs",
        "2",
        "--ir-seconds",
        "0",
    ])
    .expect("parse")
    .args
    .options();
    assert!(c.cpu && !c.gpu);
    assert_eq!((c.songs, c.ir_seconds), (2, 0.0));
    let bad = BenchOptions {
        songs: 0,
        ..BenchOptions::default()
    };
    assert!(bench::run(&bad).is_err(), "0 songs must be refused");
    // GPU only, and no GPU: an error before any work, not an empty table
    let gpu_only = BenchOptions {
        cpu: false,
        ..tiny(true)
    };
    match bench::run_with(&gpu_only, Err("no adapter here".into())) {
        Err(mixfarm::Error::Gpu { reason, retryable }) => {
            eprintln!("gpu-only without GPU: {reason}");
            assert!(reason.contains("no adapter here") && !retryable);
        }
        other => panic!("expected a GPU error, got {:?}", other.map(|r| r.songs)),
    }
}
