//! Throughput of the limiter's CPU path on one core, in the test profile (opt-level 2):
//! `cargo test --test limiter_throughput -- --ignored --nocapture`. Prints the realtime
//! factor (best of 5) on the `ops_dyn` bench's programme: 10 s of stereo noise at 48 kHz
//! with a 2 Hz level swing, ceiling −1 dBTP, 5 ms lookahead. A measurement, not a check
//! (no wall-clock thresholds in tests).

use mixfarm::ops::limiter::Limiter;

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
    let env: Vec<f32> = (0..FRAMES)
        .map(|n| {
            0.03 + 0.97 * (0.5 + 0.5 * (n as f32 * 2.0 * std::f32::consts::TAU / FS as f32).sin())
        })
        .collect();
    (0..2)
        .map(|_| env.iter().map(|e| e * next()).collect())
        .collect()
}

#[test]
#[ignore = "a measurement: run with --ignored --nocapture"]
fn limiter_realtime_factor() {
    let x = program();
    let lim = Limiter::new(-1.0, 100.0, 240, FS);
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let mut y = x.clone();
        let t = std::time::Instant::now();
        let gr = lim.process_cpu(&mut y);
        best = best.min(t.elapsed().as_secs_f64());
        assert!(gr > 0.0);
    }
    println!(
        "limiter/cpu: {:.1} ms per 10 s stereo → {:.0}× realtime (one core, best of 5)",
        best * 1e3,
        10.0 / best
    );
}
