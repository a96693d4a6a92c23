//! Benches for the FFT/filter operators' CPU paths: `convolve/cpu` (2.5 s stereo IR) and
//! `eq/cpu`. Each prints its realtime factor (seconds of audio per wall second), overall and
//! per core (rayon threads).

use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mixfarm::ops::convolve::{self, Kernel};

const RATE_HZ: usize = 48_000;

fn noise(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect()
}

/// CPU time (user + system) of this process so far, in seconds, from /proc/self/stat
/// (Linux; clock ticks of 10 ms). `None` elsewhere.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Prints the realtime factor of `f` (which processes `audio_s` seconds of audio): per
/// wall second with all rayon threads (mean of 5 runs), per CPU second (user + system time
/// over those runs), and per core measured directly: the fastest of 15 runs in a
/// one-thread pool (the minimum is robust on a shared, busy machine).
fn report_realtime(id: &str, shape: &str, audio_s: f64, f: impl Fn() + Sync) {
    f();
    let runs = 5;
    let cpu0 = cpu_seconds();
    let t = Instant::now();
    for _ in 0..runs {
        f();
    }
    let wall_s = t.elapsed().as_secs_f64() / runs as f64;
    let threads = rayon::current_num_threads();
    let per_cpu = match (cpu0, cpu_seconds()) {
        (Some(a), Some(b)) if b > a => format!("{:.0}x", audio_s * runs as f64 / (b - a)),
        _ => "n/a".into(),
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("thread pool");
    let best_s = pool.install(|| {
        (0..15)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    });
    println!(
        "{id}: {shape}: {:.0}x realtime (wall, {threads} threads), {per_cpu} per CPU second, \
         {:.0}x on one core (best of 15)",
        audio_s / wall_s,
        audio_s / best_s
    );
}

fn bench_convolve(c: &mut Criterion) {
    let ir_frames = RATE_HZ * 5 / 2;
    let kernels: Vec<Kernel> = (0..2)
        .map(|ch| {
            let ir: Vec<f64> = noise(ir_frames, 10 + ch)
                .iter()
                .enumerate()
                .map(|(i, v)| v * (-(i as f64) / (0.4 * RATE_HZ as f64)).exp() * 0.05)
                .collect();
            Kernel::new(&ir)
        })
        .collect();
    let input_s = 10.0;
    let frames = (input_s * RATE_HZ as f64) as usize;
    let x: Vec<Vec<f32>> = (0..2)
        .map(|ch| {
            noise(frames, 20 + ch)
                .iter()
                .map(|&v| v as f32 * 0.5)
                .collect()
        })
        .collect();
    let run = || {
        x.iter()
            .zip(&kernels)
            .map(|(x, k)| convolve::convolve_window(x, k, 0, x.len()))
            .collect::<Vec<_>>()
    };
    report_realtime(
        "convolve/cpu",
        "stereo, 2.5 s IR, 10 s at 48 kHz",
        input_s,
        || {
            std::hint::black_box(run());
        },
    );
    let mut g = c.benchmark_group("convolve");
    g.sample_size(10);
    g.throughput(Throughput::Elements(frames as u64));
    g.bench_function("cpu", |b| b.iter(|| std::hint::black_box(run())));
    g.finish();
}

fn bench_eq(c: &mut Criterion) {
    use mixfarm::ops::eq::{cpu, BandKind, BandSpec, EqMode, EqSpec};
    let band = |kind, freq_hz, gain_db, q, slope_db_per_oct| BandSpec {
        kind,
        freq_hz,
        gain_db,
        q,
        slope_db_per_oct,
    };
    let bands = vec![
        band(BandKind::HighPass, 40.0, 0.0, None, Some(24)),
        band(BandKind::Peak, 250.0, -2.0, Some(1.0), None),
        band(BandKind::Peak, 3000.0, 2.5, Some(1.2), None),
        band(BandKind::Peak, 6000.0, -1.5, Some(2.0), None),
        band(BandKind::HighShelf, 10_000.0, 1.5, None, None),
    ];
    let input_s = 10.0;
    let frames = (input_s * RATE_HZ as f64) as usize;
    let x: Vec<Vec<f32>> = (0..2)
        .map(|ch| {
            noise(frames, 30 + ch)
                .iter()
                .map(|&v| v as f32 * 0.5)
                .collect()
        })
        .collect();
    let mut g = c.benchmark_group("eq");
    g.sample_size(10);
    g.throughput(Throughput::Elements(frames as u64));
    for (id, mode) in [
        ("cpu", EqMode::MinimumPhase),
        ("cpu_linear_phase", EqMode::LinearPhase),
    ] {
        let eq = EqSpec {
            mode,
            bands: bands.clone(),
        }
        .prepare(RATE_HZ as f64)
        .expect("valid EQ");
        let run = || {
            let mut y = x.clone();
            cpu::process(&eq, &mut y);
            y
        };
        let shape =
            format!("{mode:?}, HPF 24 dB/oct + 3 peaks + shelf (6 biquads), stereo 10 s at 48 kHz");
        report_realtime(&format!("eq/{id}"), &shape, input_s, || {
            std::hint::black_box(run());
        });
        g.bench_function(id, |b| b.iter(|| std::hint::black_box(run())));
    }
    g.finish();
}

criterion_group!(benches, bench_convolve, bench_eq);
criterion_main!(benches);
