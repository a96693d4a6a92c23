//! The `polarity` insert (an elementwise operator): scene parsing and its errors; Plans
//! through the CPU executor equal the f64 oracle (negation of the chosen channels); the GPU
//! executor (its kernel, and the stage switched to the CPU) equals the CPU bit for bit on
//! impulses, noise, full-scale and +6 dBFS float signals, several songs in one batch.
//! GPU parts are skipped without an adapter unless `MIXFARM_REQUIRE_GPU=1`.

mod common;

use common::{parse, prepare, tempdir, write_text};
use mixfarm::engine::cpu::{run_plan, CHUNK_FRAMES};
use mixfarm::engine::{Job, Sources};
use mixfarm::gpu::render::{CpuStages, Renderer};
use mixfarm::ops::InsertSpec;
use mixfarm::plan::{Plan, Planar, Source, Stage};

const RATE: u32 = 48_000;

fn parse_err(inline: &str) -> String {
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct One {
        insert: InsertSpec,
    }
    toml::from_str::<One>(&format!("insert = {inline}"))
        .expect_err("must not parse")
        .to_string()
}

#[test]
fn inserts_parse_with_both_channels_by_default() {
    for (inline, flips) in [
        ("{ type = \"polarity\" }", [true, true]),
        (
            "{ type = \"polarity\", left = true, right = false }",
            [true, false],
        ),
        ("{ type = \"polarity\", left = false }", [false, true]),
        (
            "{ type = \"polarity\", left = false, right = false }",
            [false, false],
        ),
    ] {
        let p = prepare(inline, RATE);
        assert_eq!(p.op_name(), "polarity");
        assert_eq!(p.latency_frames(), 0);
        let mut x = vec![vec![0.5f32, -1.0], vec![0.25, 2.0]];
        p.process_cpu(&mut x, RATE, None);
        for (c, ch) in x.iter().enumerate() {
            let s = if flips[c] { -1.0 } else { 1.0 };
            let want = [[0.5f32, -1.0], [0.25, 2.0]][c].map(|v| v * s);
            assert_eq!(ch.as_slice(), want, "{inline}: channel {c}");
        }
    }
    // the spec keeps what was written (settings hashes serialize it)
    let spec = parse("{ type = \"polarity\", right = false }");
    let json = serde_json::to_string(&spec).unwrap();
    assert!(
        json.contains("\"type\":\"polarity\"") && json.contains("\"right\":false"),
        "{json}"
    );
}

#[test]
fn parse_errors_are_named() {
    let e = parse_err("{ type = \"polarity\", invert = true }");
    println!("{e}");
    assert!(
        e.contains("polarity") && e.contains("unknown field `invert`"),
        "{e}"
    );
    assert!(
        e.contains("left") && e.contains("right"),
        "lists the fields: {e}"
    );
    let e = parse_err("{ type = \"polarity\", left = \"yes\" }");
    println!("{e}");
    assert!(e.contains("polarity") && e.contains("bool"), "{e}");
    let e = parse_err("{ type = \"phase\" }");
    println!("{e}");
    assert!(e.contains("`phase`"), "{e}");
    for known in ["`trim`", "`compressor`", "`width`", "`polarity`"] {
        assert!(e.contains(known), "lists {known}: {e}");
    }
}

#[test]
fn a_scene_error_names_the_file_and_line() {
    let d = tempdir();
    let p = write_text(
        d.path(),
        "s.toml",
        "sample_rate = 48000\n[[track]]\nname = \"x\"\nfile = \"x.wav\"\ngain_db = -3.0\nchain = [{ type = \"polarity\", rigth = false }]\n",
    );
    let e = match mixfarm::scene::load::load_file(&p) {
        Err(e) => e.to_string(),
        Ok(songs) => songs
            .into_iter()
            .next()
            .expect("a song")
            .expect_err("must fail")
            .to_string(),
    };
    println!("{e}");
    assert!(e.contains("s.toml:6"), "{e}");
    assert!(e.contains("polarity insert"), "{e}");
    assert!(e.contains("unknown field `rigth`"), "{e}");
}

/// Test signals, `n` frames each: an impulse, noise, full scale, +6 dBFS float.
fn signals(n: usize) -> Vec<Vec<f32>> {
    let mut imp = vec![0.0f32; n];
    imp[n / 3] = 1.0;
    let noise: Vec<f32> = common::noise(n, 7).iter().map(|v| *v as f32).collect();
    let full: Vec<f32> = (0..n)
        .map(|i| if i % 3 == 0 { -1.0 } else { 1.0 })
        .collect();
    let hot: Vec<f32> = common::noise(n, 9)
        .iter()
        .map(|v| (2.0 * v) as f32)
        .collect();
    vec![imp, noise, full, hot]
}

/// One song: source (stereo) → buffer 0 → polarity insert → master (buffer 0).
fn song(name: &str, inline: &str, l: &[f32], r: &[f32]) -> (Plan, Vec<Planar>) {
    let plan = Plan {
        name: name.into(),
        sample_rate: RATE,
        frames: l.len(),
        n_buffers: 1,
        sources: vec![Source {
            path: format!("{name}.wav").into(),
        }],
        stages: vec![
            Stage::Load { dst: 0, source: 0 },
            Stage::Process {
                buf: 0,
                sidechain: None,
                processor: Box::new(prepare(inline, RATE)),
            },
        ],
        master: 0,
    };
    (plan, vec![vec![l.to_vec(), r.to_vec()]])
}

/// The f64 oracle: channel `c` negated when `flips[c]`.
fn oracle(l: &[f32], r: &[f32], flips: [bool; 2]) -> Vec<Vec<f64>> {
    [l, r]
        .iter()
        .zip(flips)
        .map(|(x, f)| {
            x.iter()
                .map(|v| if f { -(*v as f64) } else { *v as f64 })
                .collect()
        })
        .collect()
}

fn bits(x: &Planar) -> Vec<Vec<u32>> {
    x.iter()
        .map(|ch| ch.iter().map(|v| v.to_bits()).collect())
        .collect()
}

#[test]
fn plans_match_the_oracle_on_the_cpu_and_the_cpu_bit_for_bit_on_the_gpu() {
    let n = CHUNK_FRAMES + 4_321; // two chunks
    let sig = signals(n);
    let cases = [
        ("{ type = \"polarity\" }", [true, true]),
        (
            "{ type = \"polarity\", left = true, right = false }",
            [true, false],
        ),
        (
            "{ type = \"polarity\", left = false, right = true }",
            [false, true],
        ),
    ];
    let mut songs = Vec::new();
    let mut want = Vec::new();
    for (k, (inline, flips)) in cases.iter().enumerate() {
        for (s, x) in sig.iter().enumerate() {
            let y = &sig[(s + 1 + k) % sig.len()];
            songs.push(song(&format!("s{k}{s}"), inline, x, y));
            want.push(oracle(x, y, *flips));
        }
    }
    let cpu: Vec<Planar> = songs
        .iter()
        .map(|(p, s)| run_plan(p, s).expect("cpu"))
        .collect();
    for ((c, w), (p, _)) in cpu.iter().zip(&want).zip(&songs) {
        assert_eq!(
            common::to_f64(c),
            *w,
            "{}: CPU differs from the oracle",
            p.name
        );
    }
    println!("{} songs: CPU == f64 oracle exactly", songs.len());
    let Some(ref g) = mixfarm::gpu::Gpu::for_tests("polarity on the GPU") else {
        return;
    };
    let srcs: Vec<Sources<'_>> = songs.iter().map(|(_, s)| Sources::borrowed(s)).collect();
    let jobs: Vec<Job<'_>> = songs.iter().map(|(p, _)| p).zip(&srcs).collect();
    for stages in [CpuStages::None, CpuStages::All] {
        let mut r = Renderer::new(g).expect("renderer");
        r.cpu_stages = stages.clone();
        let out = r.run(g, &jobs, None).expect("gpu");
        for ((o, c), (p, _)) in out.iter().zip(&cpu).zip(&songs) {
            let o = o.as_ref().expect("song renders");
            assert!(
                bits(o) == bits(c),
                "{} ({stages:?}): GPU differs from CPU",
                p.name
            );
        }
        println!(
            "{} songs in one batch ({stages:?}): GPU == CPU bit for bit",
            songs.len()
        );
    }
}
