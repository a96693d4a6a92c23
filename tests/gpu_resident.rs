//! A master kept on the GPU between two runs (`gpu::resident`): a mix whose master lags its
//! chunks (a lookahead limiter after it: latency the schedule compensates), 2.2 chunks
//! long, kept on the GPU, then loaded by a Plan that only loads it, comes back bit for bit
//! as the same mix read back in one run; a Plan that gains what it loads gains exactly that;
//! past the memory budget a master comes back to the host; the CPU executor cannot read a
//! kept master and says so (retryable). On llvmpipe.

mod common;

use common::{music_like, prepare};
use mixfarm::engine::cpu::CHUNK_FRAMES;
use mixfarm::engine::Sources;
use mixfarm::gpu::render::Renderer;
use mixfarm::gpu::{Kept, Resident};
use mixfarm::plan::{Plan, Planar, Source, Stage};

const RATE: u32 = 48_000;

fn process(buf: usize, p: mixfarm::ops::Processor) -> Stage {
    Stage::Process {
        buf,
        sidechain: None,
        processor: Box::new(p),
    }
}

/// Two stereo stems mixed, a compressor on one, then a lookahead limiter on the sum.
fn mix(frames: usize) -> (Plan, Vec<Planar>) {
    let stages = vec![
        Stage::Load { dst: 1, source: 0 },
        process(1, prepare("{ type = \"compressor\", threshold_db = -24, ratio = 3, attack_ms = 5, release_ms = 80 }", RATE)),
        Stage::Mix {
            dst: 0,
            src: 1,
            gain: [0.8, 0.7],
        },
        Stage::Load { dst: 1, source: 1 },
        Stage::Mix {
            dst: 0,
            src: 1,
            gain: [0.6, 0.9],
        },
        process(0, prepare("{ type = \"limiter\", ceiling_dbtp = -1, lookahead_ms = 5, release_ms = 100 }", RATE)),
    ];
    let plan = Plan {
        name: "mix".into(),
        sample_rate: RATE,
        frames,
        n_buffers: 2,
        sources: vec![
            Source {
                path: "a.wav".into(),
            },
            Source {
                path: "b.wav".into(),
            },
        ],
        stages,
        master: 0,
    };
    let stem = |seed: u64| -> Planar {
        (0..2)
            .map(|c| {
                music_like(frames, RATE, seed + c)
                    .iter()
                    .map(|v| 2.0 * v)
                    .collect()
            })
            .collect()
    };
    (plan, vec![stem(1), stem(7)])
}

/// A Plan that loads its one source and gains it by `gain`.
fn load(frames: usize, gain: f32) -> Plan {
    let mut stages = vec![Stage::Load { dst: 0, source: 0 }];
    if gain != 1.0 {
        stages.push(Stage::Gain {
            buf: 0,
            gain: [gain; 2],
        });
    }
    Plan {
        name: "kept".into(),
        sample_rate: RATE,
        frames,
        n_buffers: 1,
        sources: vec![Source {
            path: "the kept mix".into(),
        }],
        stages,
        master: 0,
    }
}

#[test]
fn a_kept_master_loads_bit_for_bit() {
    let Some(gpu) = mixfarm::gpu::Gpu::for_tests("a_kept_master_loads_bit_for_bit") else {
        return;
    };
    let frames = 2 * CHUNK_FRAMES + 12_345;
    let (plan, stems) = mix(frames);
    let src = Sources::borrowed(&stems);
    let mut renderer = Renderer::new(&gpu).expect("renderer");
    // room for one kept master: the second comes back to the host
    renderer.memory_budget_bytes = Some(Resident::bytes_for(frames) + 4096);
    let read_back = renderer
        .run(&gpu, &[(&plan, &src)], None)
        .expect("gpu run")
        .pop()
        .unwrap()
        .expect("mix");
    assert!(read_back[0].iter().any(|&v| v != 0.0));
    let kept = renderer
        .run_kept(&gpu, &[(&plan, &src), (&plan, &src)], &[true, true])
        .expect("gpu run");
    let mut kept = kept.into_iter().map(|r| r.expect("mix").0);
    let Some(Kept::Gpu(resident)) = kept.next() else {
        panic!("the first master is kept on the GPU");
    };
    assert_eq!(resident.frames(), frames);
    match kept.next() {
        Some(Kept::Host(m)) => assert!(m == read_back, "past the budget: the master read back"),
        _ => panic!("the second master passes the budget: it comes back to the host"),
    }
    let from_gpu = Sources::resident(resident.clone());
    for gain in [1.0f32, 0.5] {
        let p = load(frames, gain);
        let got = renderer
            .run(&gpu, &[(&p, &from_gpu)], None)
            .expect("gpu run")
            .pop()
            .unwrap()
            .expect("loaded");
        let want: Planar = read_back
            .iter()
            .map(|ch| ch.iter().map(|v| v * gain).collect())
            .collect();
        let differ = got
            .iter()
            .zip(&want)
            .map(|(a, b)| {
                a.iter()
                    .zip(b)
                    .filter(|(x, y)| x.to_bits() != y.to_bits())
                    .count()
            })
            .sum::<usize>();
        println!(
            "kept master loaded with gain {gain}: {differ} samples differ of {}",
            2 * frames
        );
        assert_eq!(got[0].len(), frames);
        assert_eq!(differ, 0, "gain {gain}");
    }
    // the CPU executor cannot read it, and says the work must run again
    match mixfarm::engine::cpu::run_job(&load(frames, 1.0), &from_gpu) {
        Err(mixfarm::Error::Gpu { retryable, reason }) => {
            println!("on the CPU: {reason}");
            assert!(retryable);
        }
        other => panic!(
            "expected a retryable GPU error, got {:?}",
            other.map(|m| m.len())
        ),
    }
}
