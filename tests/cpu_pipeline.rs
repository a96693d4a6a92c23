//! The CPU executor's two-part pipeline (`engine::cpu`: with a second thread, the steps cut
//! in two parts that run on consecutive chunks side by side) gives the bits of the plain
//! walk, chunk after chunk on one thread: a mastering chain (EQ, compressor, a lookahead
//! limiter whose latency adds alignment steps, a loudness meter whose readings come back)
//! and a mix whose sources are loaded all along the Plan (the cut must come after the last
//! load), each over several chunks, in pools of one, two and three threads; and the walk
//! that keeps every stage's output (`verify`'s, never pipelined) ends on the same master.

mod common;

use common::{music_like, prepare};
use mixfarm::engine::cpu::{run_job_read, run_plan_tapped, CHUNK_FRAMES};
use mixfarm::engine::Sources;
use mixfarm::ops::meter::Meter;
use mixfarm::ops::Processor;
use mixfarm::plan::{Plan, Planar, Rendered, Source, Stage};

const RATE: u32 = 48_000;

fn stereo(frames: usize, seed: u64) -> Planar {
    (0..2).map(|c| music_like(frames, RATE, seed + c)).collect()
}

fn process(buf: usize, sidechain: Option<usize>, p: Processor) -> Stage {
    Stage::Process {
        buf,
        sidechain,
        processor: Box::new(p),
    }
}

/// A song's master through a mastering chain, metered: 7.3 chunks long.
fn chain() -> (Plan, Vec<Planar>) {
    let frames = 7 * CHUNK_FRAMES + 20_011;
    let stages = vec![
        Stage::Load { dst: 0, source: 0 },
        process(0, None, prepare("{ type = \"eq\", bands = [{ kind = \"high_pass\", freq_hz = 30 }, { kind = \"peak\", freq_hz = 400, gain_db = -3, q = 1 }] }", RATE)),
        process(0, None, prepare("{ type = \"compressor\", threshold_db = -18, ratio = 3, attack_ms = 10, release_ms = 100 }", RATE)),
        Stage::Gain { buf: 0, gain: [2.0, 2.0] },
        process(0, None, prepare("{ type = \"limiter\", ceiling_dbtp = -1, lookahead_ms = 5, release_ms = 100 }", RATE)),
        process(0, None, Processor::Meter(Meter::new(RATE, frames))),
    ];
    let plan = Plan {
        name: "chain".into(),
        sample_rate: RATE,
        frames,
        n_buffers: 1,
        sources: vec![Source {
            path: "song.wav".into(),
        }],
        stages,
        master: 0,
    };
    (plan, vec![stereo(frames, 1)])
}

/// Four stems of different lengths loaded one after another between other stages, a
/// linear-phase EQ on one (latency), a compressor keyed by another, all summed.
fn mix() -> (Plan, Vec<Planar>) {
    let lens = [
        5 * CHUNK_FRAMES + 77,
        2 * CHUNK_FRAMES,
        4 * CHUNK_FRAMES + 900,
        300_000,
    ];
    let mut stages = Vec::new();
    for (t, _) in lens.iter().enumerate() {
        let b = 1 + t;
        stages.push(Stage::Load { dst: b, source: t });
        if t == 1 {
            stages.push(process(b, None, prepare("{ type = \"eq\", mode = \"linear_phase\", bands = [{ kind = \"high_pass\", freq_hz = 150 }] }", RATE)));
        }
        if t == 2 {
            stages.push(process(b, Some(2), prepare("{ type = \"compressor\", threshold_db = -30, ratio = 4, attack_ms = 5, release_ms = 80 }", RATE)));
        }
        stages.push(Stage::Mix {
            dst: 0,
            src: b,
            gain: [0.7, 0.6],
        });
    }
    let plan = Plan {
        name: "mix".into(),
        sample_rate: RATE,
        frames: 5 * CHUNK_FRAMES + 77,
        n_buffers: 1 + lens.len(),
        sources: (0..lens.len())
            .map(|i| Source {
                path: format!("t{i}.wav").into(),
            })
            .collect(),
        stages,
        master: 0,
    };
    let sources = lens
        .iter()
        .enumerate()
        .map(|(i, &n)| stereo(n, 10 * i as u64))
        .collect();
    (plan, sources)
}

fn render_with(threads: usize, plan: &Plan, sources: &[Planar]) -> Rendered {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| run_job_read(plan, &Sources::borrowed(sources), true).unwrap())
}

fn same_bits(a: &Planar, b: &Planar, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: channels");
    for (c, (x, y)) in a.iter().zip(b).enumerate() {
        assert_eq!(x.len(), y.len(), "{what}: length of channel {c}");
        if let Some(i) = (0..x.len()).find(|&i| x[i].to_bits() != y[i].to_bits()) {
            panic!("{what}: channel {c} frame {i}: {} vs {}", x[i], y[i]);
        }
    }
}

fn check(name: &str, (plan, sources): (Plan, Vec<Planar>)) {
    let one = render_with(1, &plan, &sources);
    assert_eq!(one.master[0].len(), plan.frames, "{name}: master length");
    assert!(
        one.master[0].iter().any(|&v| v != 0.0),
        "{name}: silent master"
    );
    for threads in [2, 3] {
        let got = render_with(threads, &plan, &sources);
        same_bits(
            &one.master,
            &got.master,
            &format!("{name}, {threads} threads"),
        );
        assert_eq!(one.readings.len(), got.readings.len(), "{name}: readings");
        for ((k, a), (l, b)) in one.readings.iter().zip(&got.readings) {
            assert_eq!(k, l, "{name}: reading stages");
            for (x, y) in a.iter().zip(b) {
                same_bits(
                    &vec![x.clone()],
                    &vec![y.clone()],
                    &format!("{name}: stage {k} readings"),
                );
            }
        }
        println!(
            "{name}: {threads} threads, {} frames: the same bits",
            plan.frames
        );
    }
    let (tapped, _) = run_plan_tapped(&plan, &Sources::borrowed(&sources)).unwrap();
    same_bits(&one.master, &tapped, &format!("{name}: tapped walk"));
}

#[test]
fn pipelined_chain_gives_the_bits_of_one_thread() {
    let (plan, sources) = chain();
    let r = render_with(1, &plan, &sources);
    assert!(!r.readings.is_empty(), "the meter reads");
    check("chain", (plan, sources));
}

#[test]
fn pipelined_mix_gives_the_bits_of_one_thread() {
    check("mix", mix());
}
