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

/// Runs `f` a few times and prints the realtime factor for `audio_s` seconds of audio.
fn report_realtime(id: &str, shape: &str, audio_s: f64, mut f: impl FnMut()) {
    f();
    let runs = 3;
    let t = Instant::now();
    for _ in 0..runs {
        f();
    }
    let wall_s = t.elapsed().as_secs_f64() / runs as f64;
    let threads = rayon::current_num_threads();
    let rt = audio_s / wall_s;
    println!(
        "{id}: {shape}: {rt:.0}x realtime on {threads} threads = {:.0}x per core",
        rt / threads as f64
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
    let input_s = 30.0;
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
        "stereo, 2.5 s IR, 30 s at 48 kHz",
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
    let input_s = 30.0;
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
            format!("{mode:?}, HPF 24 dB/oct + 3 peaks + shelf (6 biquads), stereo 30 s at 48 kHz");
        report_realtime(&format!("eq/{id}"), &shape, input_s, || {
            std::hint::black_box(run());
        });
        g.bench_function(id, |b| b.iter(|| std::hint::black_box(run())));
    }
    g.finish();
}

criterion_group!(benches, bench_convolve, bench_eq);
criterion_main!(benches);
