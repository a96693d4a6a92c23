//! The benchmark workload: one typical-mix [`Plan`] per catalog song, a synthetic stereo
//! reverb impulse response, and the bytes each GPU stage moves (for effective bandwidth).
//! Host-side only; it mirrors no shader.
//!
//! The typical mix (what `scene::compile` would produce for a plain multitrack scene):
//! every stem is a track with fader gain and pan (one `Gain` stage), a post-fader send to a
//! `verb` bus (`Mix`), and is summed into the master (`Mix`); the `verb` bus has a return
//! trim (a `Process` stage running [`Processor::Trim`], where a reverb insert will go) and
//! a fader, and is summed into the master; the master gets an equal-power fade-out over its
//! last 10 % (at most 10 s). Mix parameters are drawn from the seed, so Plans are
//! deterministic.

use std::collections::BTreeMap;

use crate::ops::convolve::{block_count, Kernel, BINS, BLOCK_FRAMES, FFT_SIZE};
use crate::ops::gain::{db_to_linear, pan_balance, pan_mono};
use crate::ops::Processor;
use crate::plan::{Plan, Planar, Source, Stage, PLAN_CHANNELS};
use crate::scene::compile::fades;

/// Longest master fade-out, seconds.
pub const MAX_FADE_OUT_S: f64 = 10.0;

/// Deterministic draws for mix parameters and the IR.
struct Mix64(crate::core::SplitMix64);

impl Mix64 {
    /// Uniform in `[lo, hi)`.
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.0.next_f64()
    }
}

/// The typical-mix Plan of song `song` whose decoded stems are `stems` (each mono or
/// stereo, all at `sample_rate`). Buffers: one per stem, then `verb`, then the master.
pub fn song_plan(song: usize, stems: &[Planar], sample_rate: u32, seed: u64) -> Plan {
    let mut rng = Mix64(crate::core::SplitMix64::new(
        seed ^ (song as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03),
    ));
    let frames = stems
        .iter()
        .map(|s| s.first().map_or(0, Vec::len))
        .max()
        .unwrap_or(0);
    let (verb, master) = (stems.len(), stems.len() + 1);
    let mut stages = Vec::with_capacity(stems.len() * 4 + 5);
    for (i, stem) in stems.iter().enumerate() {
        let fader = db_to_linear(rng.range(-12.0, -3.0));
        let pan = rng.range(-0.7, 0.7);
        let law = if stem.len() == 1 {
            pan_mono(pan)
        } else {
            pan_balance(pan)
        };
        let send = db_to_linear(rng.range(-18.0, -10.0)) as f32;
        stages.push(Stage::Load { dst: i, source: i });
        stages.push(Stage::Gain {
            buf: i,
            gain: [(fader * law[0]) as f32, (fader * law[1]) as f32],
        });
        stages.push(Stage::Mix {
            dst: verb,
            src: i,
            gain: [send; 2],
        });
        stages.push(Stage::Mix {
            dst: master,
            src: i,
            gain: [1.0; 2],
        });
    }
    stages.push(Stage::Process {
        buf: verb,
        sidechain: None,
        processor: Box::new(Processor::Trim {
            gain: db_to_linear(-2.0) as f32,
        }),
    });
    let verb_fader = db_to_linear(-6.0) as f32;
    stages.push(Stage::Gain {
        buf: verb,
        gain: [verb_fader; 2],
    });
    stages.push(Stage::Mix {
        dst: master,
        src: verb,
        gain: [1.0; 2],
    });
    let fade_out = ((frames as f64 * 0.1).min(MAX_FADE_OUT_S * f64::from(sample_rate))) as u64;
    if let Some(env) = fades(frames as u64, 0, fade_out) {
        stages.push(Stage::Envelope {
            buf: master,
            curves: Box::new([env.clone(), env]),
        });
    }
    let name = format!("bench-{song:03}");
    Plan {
        name: name.clone(),
        sample_rate,
        frames,
        n_buffers: stems.len() + 2,
        sources: (0..stems.len())
            .map(|i| Source {
                path: format!("{name}/stem-{i:02}.wav").into(),
            })
            .collect(),
        stages,
        master,
    }
}

/// A synthetic stereo reverb IR of `seconds` (at least one tap): independent noise per
/// channel under an exponential decay reaching −60 dB at the end, each channel scaled to
/// unit energy (Σ h² = 1) so the wet signal has about the level of the dry one.
pub fn reverb_ir(seconds: f64, sample_rate: u32, seed: u64) -> [Vec<f64>; 2] {
    let taps = ((seconds * f64::from(sample_rate)).round() as usize).max(1);
    let make = |ch: u64| {
        let mut rng = Mix64(crate::core::SplitMix64::new(seed ^ 0x5EED_0F1A ^ ch));
        let h: Vec<f64> = (0..taps)
            .map(|n| rng.range(-1.0, 1.0) * 10f64.powf(-3.0 * n as f64 / taps as f64))
            .collect();
        let norm = h.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-300);
        h.into_iter().map(|v| v / norm).collect::<Vec<f64>>()
    };
    [make(1), make(2)]
}

/// Bytes each mixing stage kind moves over all `plans`, as issued by the element-wise
/// kernels: load reads and writes 4 B per frame and channel, gain and envelope 8 B
/// (read-modify-write; envelope segment reads are not counted), mix 12 B (dst read + write,
/// src read). Keys are the profiler's stage names.
pub fn mix_stage_bytes(plans: &[Plan]) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for p in plans {
        let per_chan = (PLAN_CHANNELS * p.frames) as u64;
        for s in &p.stages {
            let b = match s {
                Stage::Load { .. } | Stage::Gain { .. } | Stage::Envelope { .. } => 8,
                Stage::Mix { .. } => 12,
                Stage::Process { .. } => 8,
            };
            *out.entry(s.op_name().to_string()).or_insert(0) += b * per_chan;
        }
    }
    out
}

/// Bytes moved by the convolution engine's three GPU stages for `channels` channels of
/// `input_frames` each through `kernel` (full convolution, one segment per channel), counted
/// as issued by the kernels, every access once (no credit for cache reuse):
/// - `fft/forward`: per block, the N-sample input frame read (4N B) + the spectrum written
///   (8·BINS B); frames overlap by half, so input samples are read twice;
/// - `convolve/mac`: per output block, `terms` X spectra + `terms` H spectra read and one Y
///   written, 8·BINS B each (the H and recent X spectra are re-read by neighbouring blocks,
///   so DRAM traffic is lower: this overstates what memory must deliver);
/// - `fft/inverse`: per block, the spectrum read (8·BINS B) + B output samples written (4B B).
///
/// Twiddle table and job-descriptor reads are not counted.
pub fn convolve_stage_bytes(
    channels: usize,
    input_frames: usize,
    kernel: &Kernel,
) -> BTreeMap<String, u64> {
    let k = block_count(input_frames, kernel) as u64;
    let p = kernel.partitions as u64;
    let spec = (BINS * 8) as u64;
    // Σ_{k'=0}^{K-1} min(P, k'+1)
    let terms: u64 = if k <= p {
        k * (k + 1) / 2
    } else {
        p * (p + 1) / 2 + (k - p) * p
    };
    let c = channels as u64;
    BTreeMap::from([
        (
            "fft/forward".to_string(),
            c * k * (FFT_SIZE as u64 * 4 + spec),
        ),
        ("convolve/mac".to_string(), c * (2 * terms + k) * spec),
        (
            "fft/inverse".to_string(),
            c * k * (spec + BLOCK_FRAMES as u64 * 4),
        ),
    ])
}
