//! Buffer reuse by liveness (`engine::liveness::reuse_buffers`): a Plan renumbered to fewer
//! buffers renders the same bits as the Plan it came from, on the CPU executor and on the
//! GPU executor, with tracks of different lengths (a reused buffer must hold nothing of its
//! last track), a mono track, a linear-phase EQ (latency compensation), a sidechain key and
//! a bus. Skips the GPU half without an adapter unless `MIXFARM_REQUIRE_GPU=1`.

mod common;
mod gpu_common;

use common::{music_like, prepare};
use mixfarm::engine::liveness::reuse_buffers;
use mixfarm::engine::Sources;
use mixfarm::gpu::render::Renderer;
use mixfarm::plan::{Plan, Planar, Source, Stage};

const RATE: u32 = 48_000;

fn song() -> (Plan, Vec<Planar>) {
    let lens = [150_000usize, 40_000, 90_000, 7_000, 130_000];
    let sources: Vec<Planar> = lens
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let ch = if i == 1 { 1 } else { 2 };
            (0..ch)
                .map(|c| music_like(n, RATE, (10 * i + c) as u64))
                .collect()
        })
        .collect();
    // buffers: 0 master, 1 bus, 2.. one per track
    let bus = 1;
    let mut stages = Vec::new();
    for (t, _) in lens.iter().enumerate() {
        let b = 2 + t;
        stages.push(Stage::Load { dst: b, source: t });
        if t == 2 {
            stages.push(Stage::Process {
                buf: b,
                sidechain: None,
                processor: Box::new(prepare(
                    "{ type = \"eq\", mode = \"linear_phase\", bands = [{ kind = \"high_pass\", freq_hz = 150 }, { kind = \"peak\", freq_hz = 2500, gain_db = -1.5, q = 1.2 }] }",
                    RATE,
                )),
            });
        }
        if t == 3 {
            // keyed by track 2's buffer, still live here
            stages.push(Stage::Process {
                buf: b,
                sidechain: Some(4),
                processor: Box::new(prepare(
                    "{ type = \"compressor\", threshold_db = -30, ratio = 4, attack_ms = 5, release_ms = 80 }",
                    RATE,
                )),
            });
        }
        stages.push(Stage::Gain {
            buf: b,
            gain: [0.5 + 0.1 * t as f32, 0.6],
        });
        stages.push(Stage::Mix {
            dst: if t % 2 == 0 { bus } else { 0 },
            src: b,
            gain: [0.7, 0.8],
        });
    }
    stages.push(Stage::Mix {
        dst: 0,
        src: bus,
        gain: [1.0, 1.0],
    });
    let plan = Plan {
        name: "liveness".into(),
        sample_rate: RATE,
        frames: 160_000,
        n_buffers: 2 + lens.len(),
        sources: (0..lens.len())
            .map(|i| Source {
                path: format!("t{i}.wav").into(),
            })
            .collect(),
        stages,
        master: 0,
    };
    (plan, sources)
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

#[test]
fn reused_buffers_render_the_same_bits() {
    let (plan, sources) = song();
    let mut reused = plan.clone();
    reuse_buffers(&mut reused);
    println!("buffers: {} → {}", plan.n_buffers, reused.n_buffers);
    // master, bus, and tracks 2 and 3 (the key keeps track 2 alive while 3 runs)
    assert_eq!(
        reused.n_buffers, 4,
        "five sequential tracks share two buffers"
    );
    let want = mixfarm::engine::cpu::run_plan(&plan, &sources).unwrap();
    let got = mixfarm::engine::cpu::run_plan(&reused, &sources).unwrap();
    same_bits(&got, &want, "CPU, reused vs original");
    let Some(g) = gpu_common::gpu("liveness") else {
        return;
    };
    let src = Sources::borrowed(&sources);
    let r = Renderer::new(g).unwrap();
    let out = r.run(g, &[(&reused, &src)], None).unwrap();
    let gpu = out.into_iter().next().unwrap().unwrap();
    same_bits(&gpu, &want, "GPU reused vs CPU original");
}
