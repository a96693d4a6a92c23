//! The loudness meter as a Plan stage (`Processor::Meter`, `shaders/meter.wgsl`, kind
//! `recursive` with a readout) on the GPU executor against its CPU twin on the CPU executor
//! (`meter::cpu::process_chunk`): impulse, sweep, noise, silence, a full-scale square and
//! +6 dBFS float noise, 70 000 frames (two executor chunks: the state and a sub-block cross
//! the chunk boundary), metering the song as loaded and after a limiter (whose latency
//! makes the meter's input lag the song). Bit-identical on llvmpipe (no fused multiply-add;
//! the readings are compared bit for bit), and equal to the whole-song meter
//! (`meter::cpu::energies`) of what the stage sees. Skips without an adapter unless
//! `MIXFARM_REQUIRE_GPU=1`.

mod gpu_common;

use gpu_common::{gpu, noise};
use mixfarm::engine::Sources;
use mixfarm::gpu::render::Renderer;
use mixfarm::ops::limiter::Limiter;
use mixfarm::ops::meter::{self, Meter};
use mixfarm::ops::Processor;
use mixfarm::plan::{Plan, Planar, Source, Stage};

const RATE: u32 = 48_000;
const FRAMES: usize = 70_000;

fn signals() -> Vec<(&'static str, Planar)> {
    let n = FRAMES;
    let mut impulse = vec![vec![0.0f32; n]; 2];
    impulse[0][100] = 1.0;
    impulse[0][65_600] = 1.0;
    impulse[1][3_000] = 1.0;
    let sweep = |phase: f64| gpu_common::sweep(n, RATE, phase);
    let square = |p: usize| {
        (0..n)
            .map(|i| if (i / p).is_multiple_of(2) { 1.0 } else { -1.0 })
            .collect()
    };
    vec![
        ("impulse", impulse),
        ("sweep", vec![sweep(0.0), sweep(1.0)]),
        ("noise", vec![noise(1, n, 0.5), noise(2, n, 0.5)]),
        ("silence", vec![vec![0.0; n]; 2]),
        ("full-scale square", vec![square(55), square(70)]),
        (
            "+6 dBFS float noise",
            vec![noise(3, n, 2.0), noise(4, n, 1.995)],
        ),
    ]
}

fn plan(name: &str, chain: Vec<Processor>) -> Plan {
    let mut stages = vec![Stage::Load { dst: 0, source: 0 }];
    stages.extend(chain.into_iter().map(|p| Stage::Process {
        buf: 0,
        sidechain: None,
        processor: Box::new(p),
    }));
    Plan {
        name: name.into(),
        sample_rate: RATE,
        frames: FRAMES,
        n_buffers: 1,
        sources: vec![Source {
            path: format!("{name}.wav").into(),
        }],
        stages,
        master: 0,
    }
}

#[test]
fn meter_stage_is_bit_identical_on_both_executors() {
    let Some(g) = gpu("meter stage parity") else {
        return;
    };
    let limiter = Limiter::new(-1.0, 50.0, 240, RATE);
    let chains: Vec<(&str, Vec<Processor>)> = vec![
        ("meter", vec![Processor::Meter(Meter::new(RATE, FRAMES))]),
        (
            "limiter, meter",
            vec![
                Processor::Limiter(limiter.clone()),
                Processor::Meter(Meter::new(RATE, FRAMES)),
            ],
        ),
    ];
    let sigs = signals();
    let mut plans = Vec::new();
    for (c, chain) in &chains {
        for (s, _) in &sigs {
            plans.push(plan(&format!("{c} / {s}"), chain.clone()));
        }
    }
    let sources: Vec<Sources<'_>> = chains
        .iter()
        .flat_map(|_| {
            sigs.iter()
                .map(|(_, x)| Sources::borrowed(std::slice::from_ref(x)))
        })
        .collect();
    let jobs: Vec<(&Plan, &Sources<'_>)> = plans.iter().zip(&sources).collect();
    let renderer = Renderer::new(g).expect("renderer");
    let on_gpu = renderer.run_read(g, &jobs, None, true).expect("gpu run");
    let sub = meter::sub_block_frames(RATE);
    for ((p, src), got) in jobs.iter().zip(on_gpu) {
        let got = got.expect("song");
        let cpu = mixfarm::engine::cpu::run_job_read(p, src, true).expect("cpu run");
        assert_eq!(
            got.master, cpu.master,
            "{}: the meter changed the audio",
            p.name
        );
        let meter_stage = p.stages.len() - 1;
        assert_eq!(got.readings.len(), 1, "{}", p.name);
        assert_eq!(got.readings[0].0, meter_stage);
        let (g_all, c_all) = (&got.readings[0].1, &cpu.readings[0].1);
        // the readings: each channel's energies, then each channel's sample peak
        assert_eq!((g_all.len(), c_all.len()), (4, 4), "{}", p.name);
        let (g_lanes, c_lanes) = (&g_all[..2], &c_all[..2]);
        for (l, (a, b)) in g_all[2..].iter().zip(&c_all[2..]).enumerate() {
            let want = cpu.master[l].iter().fold(0.0f32, |m, &v| m.max(v.abs()));
            println!("{} lane {l}: sample peak gpu {a:?} cpu {b:?}", p.name);
            assert_eq!(a[0].to_bits(), b[0].to_bits(), "{} lane {l}: peak", p.name);
            assert_eq!(b[0], want, "{} lane {l}: peak vs the audio's", p.name);
        }
        for (l, (a, b)) in g_lanes.iter().zip(c_lanes).enumerate() {
            assert_eq!(a.len(), FRAMES / sub, "{} lane {l}", p.name);
            let same = a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
            let worst = a
                .iter()
                .zip(b)
                .map(|(x, y)| ((x - y) / y.abs().max(1e-30)).abs())
                .fold(0.0f32, f32::max);
            println!(
                "{} lane {l}: {} energies, max relative |gpu − cpu| {worst:e}",
                p.name,
                a.len()
            );
            if g.name().contains("llvmpipe") {
                assert!(same, "{} lane {l}: not bit-identical", p.name);
            } else {
                assert!(worst < 1e-5, "{} lane {l}: {worst}", p.name);
            }
            // what the stage saw, metered whole: the song's output (the meter is last)
            let whole = meter::cpu::energies(&cpu.master[l], RATE);
            assert_eq!(&whole, b, "{} lane {l}: stage vs whole-song meter", p.name);
        }
    }
}

#[test]
fn without_masters_only_the_readings_come_back() {
    let Some(g) = gpu("meter readings alone") else {
        return;
    };
    let p = plan("noise", vec![Processor::Meter(Meter::new(RATE, FRAMES))]);
    let x = vec![noise(9, FRAMES, 0.3), noise(10, FRAMES, 0.3)];
    let src = Sources::borrowed(std::slice::from_ref(&x));
    let r = Renderer::new(g)
        .expect("renderer")
        .run_read(g, &[(&p, &src)], None, false)
        .expect("gpu run")
        .pop()
        .unwrap()
        .expect("song");
    assert!(r.master.iter().all(Vec::is_empty), "no audio read back");
    assert_eq!(r.readings[0].1[0], meter::cpu::energies(&x[0], RATE));
}

#[test]
fn limiter_report_is_bit_identical_and_matches_the_whole_song_trace() {
    let Some(g) = gpu("limiter report parity") else {
        return;
    };
    let hop = 4_800;
    let lim = Limiter::new(-1.0, 50.0, 240, RATE).reporting(hop, FRAMES);
    let sigs: Vec<(&str, Planar)> = signals()
        .into_iter()
        .filter(|(n, _)| matches!(*n, "sweep" | "+6 dBFS float noise" | "silence"))
        .collect();
    let plans: Vec<Plan> = sigs
        .iter()
        .map(|(n, _)| plan(n, vec![Processor::Limiter(lim.clone())]))
        .collect();
    let sources: Vec<Sources<'_>> = sigs
        .iter()
        .map(|(_, x)| Sources::borrowed(std::slice::from_ref(x)))
        .collect();
    let jobs: Vec<(&Plan, &Sources<'_>)> = plans.iter().zip(&sources).collect();
    let on_gpu = Renderer::new(g)
        .expect("renderer")
        .run_read(g, &jobs, None, false)
        .expect("gpu run");
    for (((p, src), got), (name, x)) in jobs.iter().zip(on_gpu).zip(&sigs) {
        let got = got.expect("song").readings;
        let cpu = mixfarm::engine::cpu::run_job_read(p, src, false)
            .expect("cpu run")
            .readings;
        assert_eq!(got.len(), 1, "{name}: one reporting stage");
        let (a, b) = (&got[0].1, &cpu[0].1);
        assert_eq!(
            a[1].len(),
            FRAMES.div_ceil(hop),
            "{name}: one value per hop"
        );
        let bits = |v: &Vec<Vec<f32>>| -> Vec<Vec<u32>> {
            v.iter()
                .map(|l| l.iter().map(|x| x.to_bits()).collect())
                .collect()
        };
        if g.name().contains("llvmpipe") {
            assert_eq!(bits(a), bits(b), "{name}: not bit-identical");
        }
        // the whole-song limiter's report
        let mut y = x.clone();
        let (max_db, per_hop) = lim.process_cpu_traced(&mut y, hop);
        let got_db = mixfarm::ops::limiter::reduction_db(b[0][0]);
        println!("{name}: largest reduction {got_db:.4} dB (whole song {max_db:.4})");
        assert_eq!(got_db, max_db, "{name}");
        let hops: Vec<f32> = b[1]
            .iter()
            .map(|&v| mixfarm::ops::limiter::reduction_db(v) as f32)
            .collect();
        assert_eq!(hops, per_hop, "{name}: per hop");
        // its input's true peak per hop: the meters' (`oversample`) bit for bit
        let tp = mixfarm::ops::oversample::shared().true_peak_per_hop(x, hop);
        assert_eq!(b[2], tp, "{name}: true peak per hop");
    }
}

#[test]
fn true_peak_meter_passes_the_audio_and_reads_what_the_meters_read() {
    let Some(g) = gpu("true-peak meter stage") else {
        return;
    };
    let hop = 4_800;
    let tp = Limiter::true_peak_meter(RATE).reporting(hop, FRAMES);
    let lim = Limiter::new(-1.0, 50.0, 240, RATE);
    let sigs = signals();
    // after a limiter: the meter's input lags the song by the limiter's latency
    let plans: Vec<Plan> = sigs
        .iter()
        .flat_map(|(n, _)| {
            [
                plan(n, vec![Processor::Limiter(tp.clone())]),
                plan(
                    n,
                    vec![
                        Processor::Limiter(lim.clone()),
                        Processor::Limiter(tp.clone()),
                    ],
                ),
            ]
        })
        .collect();
    let sources: Vec<Sources<'_>> = sigs
        .iter()
        .flat_map(|(_, x)| [0, 1].map(|_| Sources::borrowed(std::slice::from_ref(x))))
        .collect();
    let jobs: Vec<(&Plan, &Sources<'_>)> = plans.iter().zip(&sources).collect();
    let on_gpu = Renderer::new(g)
        .expect("renderer")
        .run_read(g, &jobs, None, true)
        .expect("gpu run");
    for (((p, src), got), k) in jobs.iter().zip(on_gpu).zip(0..) {
        let (name, x) = &sigs[k / 2];
        let got = got.expect("song");
        let cpu = mixfarm::engine::cpu::run_job_read(p, src, true).expect("cpu run");
        let before: Planar = if k % 2 == 0 {
            x.clone()
        } else {
            let mut y = x.clone();
            lim.process_cpu(&mut y);
            y
        };
        assert_eq!(
            cpu.master, before,
            "{name} #{k}: the meter changed the audio"
        );
        assert_eq!(got.master, cpu.master, "{name} #{k}: gpu audio");
        let peaks = &cpu.readings.last().expect("readings").1[2];
        let want = mixfarm::ops::oversample::shared().true_peak_per_hop(&before, hop);
        let db = |v: f32| 20.0 * f64::from(v).log10();
        println!(
            "{name} #{k}: true peak {:.3} dBTP (meters {:.3})",
            db(peaks.iter().fold(0.0, |a: f32, &v| a.max(v))),
            db(want.iter().fold(0.0, |a: f32, &v| a.max(v)))
        );
        assert_eq!(peaks, &want, "{name} #{k}: per hop vs the meters");
        if g.name().contains("llvmpipe") {
            assert_eq!(
                &got.readings.last().unwrap().1[2],
                peaks,
                "{name} #{k}: gpu peaks"
            );
        }
    }
}
