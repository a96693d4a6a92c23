//! Drum parts: per-feel 16-step patterns (kick, snare, clap, closed and open hats, a crash
//! where the drums come in), with fills, timing humanisation and velocity variation.

use super::dsp::Rng;
use super::instruments as ins;
use super::parts::{Ctx, Feel};

/// Hits per 16th step: `x` accent, `o` normal, `g` ghost, anything else none.
fn step_vel(pattern: &str, step: usize) -> Option<f64> {
    match pattern.as_bytes().get(step) {
        Some(b'x') => Some(1.0),
        Some(b'o') => Some(0.72),
        Some(b'g') => Some(0.38),
        _ => None,
    }
}

pub(super) fn drums(ctx: &Ctx, (b0, b1): (usize, usize), rng: &mut Rng) -> Vec<(Vec<f64>, f64)> {
    // kick, snare, clap, closed hat, open hat per feel (16 steps per bar)
    let (kick, snare, clap, hat, open) = match ctx.feel {
        Feel::SynthPop => (
            "x...x...x...x...",
            "....x.......x...",
            "",
            "x...x...x...x..g",
            "..o...o...o...o.",
        ),
        Feel::LaidBack => (
            "x.....gx.x....o.",
            "....x..g....x..g",
            "",
            "xgogxgogxgogxgog",
            "",
        ),
        Feel::Driving => (
            "x...x...x...x.o.",
            "....x.......x...",
            "....o.......o...",
            "o.xgo.xgo.xgo.xg",
            "..o...o...o...o.",
        ),
    };
    let sr = ctx.sample_rate;
    let mut k = vec![vec![0.0; ctx.frames]; 5];
    let (tune_hz, lazy_s) = match ctx.feel {
        Feel::SynthPop => (52.0, 0.0),
        Feel::LaidBack => (47.0, 0.012),
        Feel::Driving => (55.0, 0.0),
    };
    for bar in b0..b1 {
        let fill = (bar + 1 - b0) % 8 == 0 && bar + 1 < b1;
        if bar == b0 {
            ins::crash(&mut k[4], ctx.frame(bar as f64 * 4.0, 0.0), sr, 0.8, rng);
        }
        for step in 0..16 {
            let beat = bar as f64 * 4.0 + step as f64 / 4.0;
            let human = |rng: &mut Rng, spread_s: f64| rng.bipolar() * spread_s;
            let jitter = 1.0 + 0.08 * rng.bipolar();
            if let Some(v) = step_vel(kick, step) {
                ins::kick(
                    &mut k[0],
                    ctx.frame(beat, human(rng, 0.002)),
                    sr,
                    v * jitter,
                    tune_hz,
                    rng,
                );
            }
            let snare_v = if fill && step >= 12 {
                Some(0.45 + 0.15 * (step - 12) as f64)
            } else {
                step_vel(snare, step)
            };
            if let Some(v) = snare_v {
                ins::snare(
                    &mut k[1],
                    ctx.frame(beat, lazy_s + human(rng, 0.003)),
                    sr,
                    v * jitter,
                    rng,
                );
            }
            if let Some(v) = step_vel(clap, step) {
                ins::clap(
                    &mut k[2],
                    ctx.frame(beat, human(rng, 0.004)),
                    sr,
                    v * jitter,
                    rng,
                );
            }
            let open_v = step_vel(open, step).filter(|_| !(fill && step >= 12));
            if let Some(v) = open_v {
                ins::hat(
                    &mut k[3],
                    ctx.frame(beat, human(rng, 0.003)),
                    sr,
                    v * jitter,
                    true,
                    rng,
                );
            } else if let Some(v) = step_vel(hat, step) {
                ins::hat(
                    &mut k[3],
                    ctx.frame(beat, human(rng, 0.004)),
                    sr,
                    v * jitter,
                    false,
                    rng,
                );
            }
        }
    }
    let pans = [0.0, 0.05, -0.2, 0.35, -0.3];
    k.into_iter().zip(pans).collect()
}
