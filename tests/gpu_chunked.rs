//! Songs in time chunks (issue 10): a song whose whole-length buffers pass the storage
//! binding limit several times (the device opened with its limit lowered to [`CAP_MIB`] MiB,
//! `MIXFARM_MAX_BINDING_MIB`, so that a few seconds do what minutes do at llvmpipe's 128 MiB)
//! renders with `--backend gpu` and equals the CPU
//! render byte for byte (plain mixing; and with a reverb and a linear-phase EQ convolving on
//! the GPU); on a scene with every kind of latency (linear-phase EQ on a track, a limiter
//! inside a chain, a sidechain key with a different lag, a reverb send), the GPU executor
//! (kernels, and every stage switched to the CPU) and the CPU executor give the same bits. Skipped without a GPU adapter unless `MIXFARM_REQUIRE_GPU=1`.

mod common;

use std::path::Path;
use std::process::Command;

use common::{music_like, tempdir, write_int, write_text};
use mixfarm::gpu::render::{CpuStages, Renderer};

const RATE: u32 = 48_000;
/// The storage binding limit the songs here are sized against, MiB.
const CAP_MIB: u64 = 16;
const CAP: u64 = CAP_MIB << 20;

/// A GPU whose storage binding limit is [`CAP`] (checked: the device reports it).
fn capped_gpu(test: &str) -> Option<mixfarm::gpu::Gpu> {
    let g = mixfarm::gpu::Gpu::for_tests_with_binding_cap(test, Some(CAP))?;
    assert_eq!(g.max_binding_bytes(), CAP, "the binding limit was lowered");
    assert_eq!(g.report().max_storage_buffer_binding_size, CAP);
    Some(g)
}

#[test]
fn a_song_far_over_the_binding_limit_renders_on_the_gpu_as_on_the_cpu() {
    let Some(gpu) = capped_gpu("a_song_far_over_the_binding_limit") else {
        return;
    };
    let t = tempdir();
    let d = t.path();
    let (stems, seconds) = (10, 15);
    let n = seconds * RATE as usize;
    let mut scene = format!(
        "sample_rate = {RATE}\nfade_out_s = 2.0\n[output]\nfile = \"long.wav\"\nformat = \"wav24\"\n[master]\ntarget_lufs = -16.0\nceiling_dbtp = -1.0\n"
    );
    for s in 0..stems {
        write_int(
            &d.join(format!("stem{s}.wav")),
            &[music_like(n, RATE, 100 + s as u64)],
            RATE,
            16,
        );
        scene.push_str(&format!(
            "[[track]]\nname = \"t{s}\"\nfile = \"stem{s}.wav\"\npan = {:.2}\ngain_db = -{s}.0\noutput = \"{}\"\nautomation.gain_db = [[2.0, 0.0], [9.0, -6.0]]\n",
            -0.9 + 0.2 * s as f64,
            if s % 2 == 0 { "even" } else { "master" }
        ));
    }
    scene.push_str("[[bus]]\nname = \"even\"\ngain_db = -2.0\n");
    let scene = write_text(d, "long.toml", &scene);
    // the whole-song executor would need every buffer of the song in one binding
    let whole = (stems + 2) * 2 * n * 4;
    let limit = gpu.max_binding_bytes();
    println!(
        "whole-song buffers {whole} bytes = {:.1} × the binding limit {limit}",
        whole as f64 / limit as f64
    );
    assert!(
        whole as u64 > 3 * limit,
        "the song must pass the binding limit several times"
    );
    // the command line opens the GPU with the cap too (`mixfarm devices` reports the limits
    // it opens an adapter with)
    let o = Command::new(env!("CARGO_BIN_EXE_mixfarm"))
        .args(["devices", "--json"])
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .env(
            mixfarm::gpu::context::ENV_MAX_BINDING_MIB,
            CAP_MIB.to_string(),
        )
        .output()
        .expect("runs mixfarm devices");
    let devices: Vec<serde_json::Value> =
        serde_json::from_slice(&o.stdout).expect("devices --json");
    let opened = devices
        .iter()
        .find(|a| a["name"] == gpu.name())
        .expect("the test's adapter is listed");
    assert_eq!(opened["max_storage_buffer_binding_size"], CAP, "{opened}");
    let render = |backend: &str| {
        let out = d.join(backend);
        let o = Command::new(env!("CARGO_BIN_EXE_mixfarm"))
            .args([
                "render",
                scene.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--backend",
                backend,
            ])
            .env("XDG_RUNTIME_DIR", std::env::temp_dir())
            .env(
                mixfarm::gpu::context::ENV_MAX_BINDING_MIB,
                CAP_MIB.to_string(),
            )
            .output()
            .expect("runs mixfarm");
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        eprintln!("--backend {backend}: {err}");
        assert_eq!(o.status.code(), Some(0), "{err}");
        assert!(err.contains(&format!("{backend} backend")), "{err}");
        std::fs::read(out.join("long.wav")).expect("written")
    };
    let (c, g) = (render("cpu"), render("gpu"));
    assert!(c.len() > 2 * n * 3, "a whole stereo 24-bit file");
    assert!(c == g, "the GPU render differs from the CPU render");
    println!("{} bytes, identical on both backends", c.len());
}

fn latency_scene(d: &Path) -> std::path::PathBuf {
    let n = 3 * RATE as usize + 12_345;
    for (k, name) in ["a", "b", "c"].iter().enumerate() {
        let chans: Vec<Vec<f32>> = (0..2)
            .map(|c| music_like(n - 7_000 * k, RATE, 10 * k as u64 + c))
            .collect();
        common::write_f32(&d.join(format!("{name}.wav")), &chans, RATE);
    }
    let ir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes/irs/room.wav");
    write_text(
        d,
        "lat.toml",
        &format!(
            r#"sample_rate = 48000
fade_in_s = 0.2
fade_out_s = 0.7
[output]
file = "lat.wav"
format = "wav32f"
[master]
chain = [
  {{ type = "eq", mode = "linear_phase", bands = [ {{ kind = "low_shelf", freq_hz = 120, gain_db = 2.0 }} ] }},
  {{ type = "limiter", ceiling_dbtp = -3.0, release_ms = 50, lookahead_ms = 3 }},
  {{ type = "trim", gain_db = -1.0 }},
]
[[track]]
name = "a"
file = "a.wav"
chain = [ {{ type = "eq", mode = "linear_phase", bands = [ {{ kind = "peak", freq_hz = 2000, gain_db = 4.0, q = 1.0 }} ] }} ]
output = "grp"
sends = [ {{ bus = "verb", level_db = -12.0 }} ]
automation.gain_db = [[0.5, 0.0], [2.5, -9.0]]
[[track]]
name = "b"
file = "b.wav"
output = "grp"
chain = [ {{ type = "compressor", threshold_db = -30, ratio = 4, attack_ms = 5, release_ms = 80, sidechain = "a" }} ]
[[track]]
name = "c"
file = "c.wav"
chain = [ {{ type = "limiter", ceiling_dbtp = -6.0, release_ms = 30, lookahead_ms = 2 }}, {{ type = "delay", time_ms = 120, feedback = 0.3, mix = 0.3 }} ]
[[bus]]
name = "verb"
chain = [ {{ type = "reverb", ir = "{}", pre_delay_ms = 10, mix = 1.0 }} ]
[[bus]]
name = "grp"
chain = [ {{ type = "chorus", rate_hz = 0.8, depth_ms = 2, delay_ms = 8, mix = 0.3 }} ]
"#,
            ir.display()
        ),
    )
}

#[test]
fn gpu_and_cpu_agree_through_every_kind_of_latency() {
    let Some(gpu) = mixfarm::gpu::Gpu::for_tests("gpu_and_cpu_agree_through_every_kind_of_latency")
    else {
        return;
    };
    let gpu = &gpu;
    let t = tempdir();
    let scene = latency_scene(t.path());
    let loaded = mixfarm::scene::load_batch(&[scene]).pop().unwrap().unwrap();
    let p = mixfarm::render::prepare(loaded).expect("prepares");
    let lat = mixfarm::engine::schedule::schedule(&p.plan).master_delay;
    println!(
        "{} frames, master latency {lat} frames, {} stages",
        p.plan.frames,
        p.plan.stages.len()
    );
    assert!(lat > 0, "the scene has latency to compensate");
    let cpu = mixfarm::engine::cpu::run_job(&p.plan, &p.sources).unwrap();
    let mut r = Renderer::new(gpu).unwrap();
    let mut prof = mixfarm::gpu::Profiler::new(gpu, 4096).unwrap();
    let on_gpu = r
        .run(gpu, &[(&p.plan, &p.sources)], prof.as_mut())
        .unwrap()
        .pop()
        .unwrap()
        .unwrap();
    if let Some(prof) = &prof {
        assert!(
            prof.totals_ns.contains_key("convolve/mac"),
            "the convolutions ran on the GPU: {:?}",
            prof.totals_ns.keys()
        );
    }
    // the per-stage switch: every stage on the CPU through the GPU executor's host path
    r.cpu_stages = CpuStages::All;
    let host = r
        .run(gpu, &[(&p.plan, &p.sources)], None)
        .unwrap()
        .pop()
        .unwrap()
        .unwrap();
    for (name, x) in [("GPU", &on_gpu), ("GPU executor, stages on the CPU", &host)] {
        let e = mixfarm::verify::diff(&cpu, x);
        println!(
            "{name} vs CPU: max |Δ| {:.3e}, {:.3}% identical at 24 bits",
            e.max_abs,
            100.0 * e.identical_24bit
        );
        assert_eq!(x[0].len(), p.plan.frames);
        for c in 0..2 {
            assert!(
                cpu[c]
                    .iter()
                    .zip(&x[c])
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "{name} differs from the CPU executor (channel {c})"
            );
        }
    }
}

/// A song whose buffers pass the binding limit several times, with a convolution reverb on
/// a bus and a linear-phase EQ on the master: both convolve on the GPU, streaming chunk by
/// chunk (the delay line kept on the GPU), and the render equals the CPU's bit for bit.
#[test]
fn an_oversize_song_convolves_on_the_gpu_as_on_the_cpu() {
    let Some(gpu) = capped_gpu("an_oversize_song_convolves_on_the_gpu") else {
        return;
    };
    let gpu = &gpu;
    let t = tempdir();
    let d = t.path();
    let (stems, seconds) = (30, 6);
    let n = seconds * RATE as usize;
    let ir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes/irs/room.wav");
    let mut scene = format!(
        r#"sample_rate = {RATE}
[output]
file = "conv.wav"
format = "wav32f"
[master]
chain = [ {{ type = "eq", mode = "linear_phase", bands = [ {{ kind = "peak", freq_hz = 900, gain_db = 3.0, q = 0.7 }} ] }} ]
[[bus]]
name = "verb"
chain = [ {{ type = "reverb", ir = "{}", pre_delay_ms = 12, mix = 1.0 }} ]
"#,
        ir.display()
    );
    for s in 0..stems {
        write_int(
            &d.join(format!("s{s}.wav")),
            &[music_like(n - 3_000 * s, RATE, 500 + s as u64)],
            RATE,
            16,
        );
        scene.push_str(&format!(
            "[[track]]\nname = \"t{s}\"\nfile = \"s{s}.wav\"\npan = {:.2}\ngain_db = -12.0\nsends = [ {{ bus = \"verb\", level_db = -15.0 }} ]\n",
            -0.8 + 0.05 * s as f64
        ));
    }
    let scene = write_text(d, "conv.toml", &scene);
    let loaded = mixfarm::scene::load_batch(&[scene]).pop().unwrap().unwrap();
    let p = mixfarm::render::prepare(loaded).expect("prepares");
    // a buffer per track, the bus and the master, for the whole song
    let whole = ((stems + 2) * 2 * p.plan.frames * 4) as u64;
    let limit = gpu.max_binding_bytes();
    println!(
        "{} frames: whole-song buffers {whole} bytes = {:.1} × the binding limit {limit}",
        p.plan.frames,
        whole as f64 / limit as f64
    );
    assert!(
        whole > 3 * limit,
        "the song must pass the binding limit several times"
    );
    let cpu = mixfarm::engine::cpu::run_job(&p.plan, &p.sources).unwrap();
    let r = Renderer::new(gpu).unwrap();
    let mut prof = mixfarm::gpu::Profiler::new(gpu, 1 << 14).unwrap();
    let x = r
        .run(gpu, &[(&p.plan, &p.sources)], prof.as_mut())
        .unwrap()
        .pop()
        .unwrap()
        .unwrap();
    if let Some(prof) = &prof {
        println!("GPU time per stage (ns): {:?}", prof.totals_ns);
        assert!(
            prof.totals_ns.contains_key("convolve/mac"),
            "convolved on the GPU"
        );
        assert!(
            prof.totals_ns.contains_key("reverb/mix"),
            "reverb summed on the GPU"
        );
    }
    assert_eq!(x[0].len(), p.plan.frames);
    for c in 0..2 {
        assert!(
            cpu[c]
                .iter()
                .zip(&x[c])
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "the GPU render differs from the CPU render (channel {c})"
        );
    }
    println!("{} frames, identical on both backends", x[0].len());
}
