//! Benches for the dynamics and time-based inserts (CPU reference path, one core):
//! ids `compressor/cpu`, `limiter/cpu`, `delay/cpu`, `multiband/cpu`, `chorus/cpu`, and
//! `strip/cpu` (high-pass + 3 EQ bands + compressor, the chain pedalboard is measured on).
//! Shape: 10 s of stereo noise program at 48 kHz per iteration; throughput is reported in
//! frames, so the realtime factor is `frames/s ÷ 48 000`.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mixfarm::ops::{InsertSpec, PrepareCtx, Processor};

const FS: u32 = 48_000;
const FRAMES: usize = 10 * FS as usize;

fn program() -> Vec<Vec<f32>> {
    let mut s = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    };
    // noise with a 2 Hz level swing between about −30 and 0 dBFS
    let env: Vec<f32> = (0..FRAMES)
        .map(|n| {
            0.03 + 0.97 * (0.5 + 0.5 * (n as f32 * 2.0 * std::f32::consts::TAU / FS as f32).sin())
        })
        .collect();
    (0..2)
        .map(|_| env.iter().map(|e| e * next()).collect())
        .collect()
}

fn no_audio(path: &Path, _rate: u32) -> Result<mixfarm::plan::Planar, mixfarm::Error> {
    Err(mixfarm::Error::input(path, "benches load no audio"))
}

fn prepare(inline: &str) -> Processor {
    #[derive(serde::Deserialize)]
    struct One {
        insert: InsertSpec,
    }
    let one: One = toml::from_str(&format!("insert = {inline}")).expect("bench insert parses");
    let ctx = PrepareCtx {
        sample_rate: FS,
        scene_dir: Path::new("."),
        tempo_bpm: Some(120.0),
        load_audio: &no_audio,
    };
    one.insert.prepare(&ctx).expect("bench insert prepares")
}

fn bench(c: &mut Criterion) {
    let input = program();
    let cases = [
        (
            "compressor/cpu",
            r#"{ type = "compressor", threshold_db = -18, ratio = 3, knee_db = 6, attack_ms = 10, release_ms = 120, makeup_db = 2 }"#,
        ),
        (
            "limiter/cpu",
            r#"{ type = "limiter", ceiling_dbtp = -1, release_ms = 100, lookahead_ms = 5 }"#,
        ),
        (
            "delay/cpu",
            r#"{ type = "delay", time_ms = 375, feedback = 0.35, high_cut_hz = 6000, mix = 0.2, ping_pong = true }"#,
        ),
        (
            "multiband/cpu",
            r#"{ type = "multiband", crossover_hz = [120, 1000, 6000], bands = [ { threshold_db = -24, ratio = 2, attack_ms = 30, release_ms = 200 }, { threshold_db = -22, ratio = 1.8, attack_ms = 20, release_ms = 150 }, { threshold_db = -22, ratio = 1.6, attack_ms = 10, release_ms = 120 }, { threshold_db = -26, ratio = 1.5, attack_ms = 5, release_ms = 80 } ] }"#,
        ),
        (
            "chorus/cpu",
            r#"{ type = "chorus", rate_hz = 0.8, depth_ms = 3, delay_ms = 12, voices = 3, mix = 0.35 }"#,
        ),
    ];
    let mut group = c.benchmark_group("ops_dyn");
    group.throughput(Throughput::Elements(FRAMES as u64));
    group.sample_size(10);
    for (id, spec) in cases {
        let proc = prepare(spec);
        group.bench_function(id, |b| {
            b.iter_batched_ref(
                || input.clone(),
                |buf| proc.process_cpu(black_box(buf), FS, None),
                criterion::BatchSize::LargeInput,
            )
        });
    }
    // the "channel strip" pedalboard is compared with: high-pass + 3 EQ bands + compressor
    let strip = [
        prepare(
            r#"{ type = "eq", bands = [ { kind = "high_pass", freq_hz = 80, slope_db_per_oct = 12 }, { kind = "low_shelf", freq_hz = 200, gain_db = -2 }, { kind = "peak", freq_hz = 2500, gain_db = 3, q = 1.2 }, { kind = "high_shelf", freq_hz = 9000, gain_db = 2 } ] }"#,
        ),
        prepare(
            r#"{ type = "compressor", threshold_db = -18, ratio = 3, knee_db = 6, attack_ms = 10, release_ms = 120, makeup_db = 2 }"#,
        ),
    ];
    group.bench_function("strip/cpu", |b| {
        b.iter_batched_ref(
            || input.clone(),
            |buf| {
                for p in &strip {
                    p.process_cpu(black_box(buf), FS, None);
                }
            },
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
