//! The batched GPU executor (`gpu::render`) against the CPU reference executor
//! (`engine::cpu::run_plan`) on hand-built Plans, alone and batched with songs of other
//! lengths and buffer counts. Skips without an adapter unless `MIXFARM_REQUIRE_GPU=1`.

mod gpu_common;

use gpu_common::{gpu, max_abs_diff, noise, report};
use mixfarm::engine::{Job, Sources};
use mixfarm::gpu::render::{run_plans, Renderer};
use mixfarm::gpu::Profiler;
use mixfarm::ops::envelope::Envelope;
use mixfarm::ops::Processor;
use mixfarm::plan::{Plan, Planar, Source, Stage};

/// Whole-plan parity bound: the project's 2^-20 of full scale. Mixing stages are
/// bit-identical on llvmpipe; a GPU fusing `a*b+c` may drift by an ulp per stage.
const PLAN_TOL: f64 = 1.0 / (1u64 << 20) as f64;

fn plan(
    name: &str,
    frames: usize,
    n_buffers: usize,
    n_sources: usize,
    stages: Vec<Stage>,
    master: usize,
) -> Plan {
    Plan {
        name: name.into(),
        sample_rate: 48_000,
        frames,
        n_buffers,
        sources: (0..n_sources)
            .map(|i| Source {
                path: format!("{name}-{i}.wav").into(),
            })
            .collect(),
        stages,
        master,
    }
}

/// A small multitrack song: stems → gains/envelopes → bus → trim → master.
fn song(seed: u64, frames: usize, stems: usize) -> (Plan, Vec<Planar>) {
    let mut stages = Vec::new();
    let bus = stems;
    let master = stems + 1;
    for s in 0..stems {
        stages.push(Stage::Load { dst: s, source: s });
        stages.push(Stage::Gain {
            buf: s,
            gain: [0.7 + 0.05 * s as f32, 0.6],
        });
        let fade = Envelope::new(Envelope::sampled(0, frames as u64 / 2, 16, |t| t * t));
        let pan = Envelope::new(vec![(frames as u64 / 4, 1.0), (frames as u64 * 3 / 4, 0.2)]);
        stages.push(Stage::Envelope {
            buf: s,
            curves: Box::new([fade, pan]),
        });
        stages.push(Stage::Mix {
            dst: bus,
            src: s,
            gain: [0.5, 0.5],
        });
    }
    stages.push(Stage::Process {
        buf: bus,
        sidechain: None,
        processor: Box::new(Processor::Trim { gain: 0.8 }),
    });
    stages.push(Stage::Mix {
        dst: master,
        src: bus,
        gain: [1.0, 0.9],
    });
    stages.push(Stage::Gain {
        buf: master,
        gain: [1.1, 1.1],
    });
    let sources: Vec<Planar> = (0..stems)
        .map(|s| {
            let len = frames - 100 * s; // shorter sources are zero-padded
            if s % 2 == 0 {
                vec![noise(seed * 10 + s as u64, len, 0.5)] // mono
            } else {
                vec![
                    noise(seed * 10 + s as u64, len, 0.5),
                    noise(seed * 10 + 5 + s as u64, len, 0.5),
                ]
            }
        })
        .collect();
    (
        plan(
            &format!("song{seed}"),
            frames,
            stems + 2,
            stems,
            stages,
            master,
        ),
        sources,
    )
}

fn err(a: &Planar, b: &Planar) -> f64 {
    assert_eq!(a.len(), 2);
    assert_eq!(
        a.iter().map(Vec::len).collect::<Vec<_>>(),
        b.iter().map(Vec::len).collect::<Vec<_>>()
    );
    a.iter()
        .zip(b)
        .map(|(x, y)| max_abs_diff(x, y))
        .fold(0.0, f64::max)
}

#[test]
fn batch_matches_cpu_and_each_song_alone() {
    let Some(g) = gpu("render batch") else { return };
    let songs = [
        song(1, 4800, 3),
        song(2, 9000, 1),
        song(3, 3333, 5),
        song(4, 24_000, 2),
    ];
    let srcs: Vec<Sources<'_>> = songs.iter().map(|(_, s)| Sources::borrowed(s)).collect();
    let jobs: Vec<Job<'_>> = songs.iter().map(|(p, _)| p).zip(&srcs).collect();
    let cpu: Vec<Planar> = songs
        .iter()
        .map(|(p, s)| mixfarm::engine::cpu::run_plan(p, s).expect("cpu"))
        .collect();
    let mut renderer = Renderer::new(g).expect("renderer");
    let mut prof = Profiler::new(g, 512).expect("profiler");
    let batched = renderer.run(g, &jobs, prof.as_mut()).expect("gpu");
    if let Some(p) = &prof {
        eprintln!("GPU time per stage (ns): {:?}", p.totals_ns);
        assert!(
            p.totals_ns.contains_key("mix"),
            "profiler must see the mix stage"
        );
    }
    let mut worst = 0.0f64;
    for (i, r) in batched.iter().enumerate() {
        let m = r.as_ref().expect("song renders");
        let e = err(m, &cpu[i]);
        report(
            &format!(
                "render song {i} ({} frames) batched gpu vs cpu",
                songs[i].0.frames
            ),
            e,
        );
        worst = worst.max(e);
        let alone = run_plans(g, &jobs[i..i + 1])
            .expect("gpu alone")
            .remove(0)
            .expect("song alone");
        assert_eq!(
            &alone, m,
            "song {i}: batched render differs from rendering it alone"
        );
    }
    assert!(worst <= PLAN_TOL, "{worst:e}");
    // several batches (a small budget) and every stage on the CPU (the per-stage switch)
    renderer.memory_budget_bytes = Some(800_000);
    renderer.cpu_stages = mixfarm::gpu::render::CpuStages::All;
    let split = renderer.run(g, &jobs, None).expect("gpu split");
    for (i, r) in split.iter().enumerate() {
        let e = err(r.as_ref().expect("song renders"), &cpu[i]);
        report(
            &format!("render song {i} small batches + CPU processors vs cpu"),
            e,
        );
        assert!(e <= PLAN_TOL, "{e:e}");
    }
}

#[test]
fn bad_songs_fail_alone() {
    let Some(g) = gpu("render bad") else { return };
    let (good, gs) = song(7, 2000, 2);
    let bad = plan(
        "bad",
        1000,
        1,
        0,
        vec![Stage::Load { dst: 0, source: 3 }],
        0,
    );
    let no_src: Vec<Planar> = Vec::new();
    let (no_src, gs) = (Sources::borrowed(&no_src), Sources::borrowed(&gs));
    let out = run_plans(g, &[(&bad, &no_src), (&good, &gs)]).expect("gpu");
    assert!(out[0].is_err(), "a song with bad routing fails");
    let cpu = mixfarm::engine::cpu::run_job(&good, &gs).expect("cpu");
    assert!(err(out[1].as_ref().expect("good song renders"), &cpu) <= PLAN_TOL);
}
