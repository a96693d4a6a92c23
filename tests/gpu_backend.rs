//! The GPU backend end to end: `--backend gpu` renders the same files as the CPU path
//! (within GUIDE §4's tolerance), `mixfarm verify` passes and reports per-stage figures,
//! `--backend auto` never picks a software adapter, and a batch mixing good and bad songs
//! renders the good ones. Short clips: llvmpipe is slow.

mod common;

use common::*;
use mixfarm::render::{render_batch, Backend, RenderOptions};

const RATE: u32 = 48_000;

fn scene(d: &std::path::Path, name: &str, seconds: f64, seed: u64) -> std::path::PathBuf {
    let n = (seconds * f64::from(RATE)) as usize;
    write_f32(
        &d.join(format!("{name}-a.wav")),
        &[music_like(n, RATE, seed)],
        RATE,
    );
    write_f32(
        &d.join(format!("{name}-b.wav")),
        &[
            music_like(n / 2, RATE, seed + 1),
            music_like(n / 2, RATE, seed + 2),
        ],
        RATE,
    );
    write_f32(
        &d.join(format!("{name}-c.wav")),
        &[music_like(n, 44_100, seed + 3)],
        44_100,
    );
    write_text(
        d,
        &format!("{name}.toml"),
        &format!(
            r#"sample_rate = 48000
fade_in_s = 0.1
fade_out_s = 0.5
[output]
file = "{name}.wav"
format = "wav32f"
[master]
target_lufs = -16.0
ceiling_dbtp = -1.0
chain = [ {{ type = "trim", gain_db = -1.5 }} ]
[[track]]
name = "a"
file = "{name}-a.wav"
pan = -0.5
gain_db = -3.0
sends = [ {{ bus = "fx", level_db = -9.0 }} ]
automation.gain_db = [[0.2, 0.0], [0.8, -8.0]]
[[track]]
name = "b"
file = "{name}-b.wav"
output = "grp"
automation.pan = [[0.0, -1.0], [1.0, 1.0]]
[[track]]
name = "c"
file = "{name}-c.wav"
fade_out_s = 0.3
sends = [ {{ bus = "fx", level_db = -6.0, pre_fader = true }} ]
[[bus]]
name = "fx"
output = "grp"
chain = [ {{ type = "trim", gain_db = -2.0 }} ]
[[bus]]
name = "grp"
gain_db = -1.0
"#
        ),
    )
}

/// A scene of one stereo stem with a master chain, toward a target under a ceiling.
fn one_stem_scene(d: &std::path::Path, name: &str, seconds: f64, seed: u64) -> std::path::PathBuf {
    let n = (seconds * f64::from(RATE)) as usize;
    write_f32(
        &d.join(format!("{name}-a.wav")),
        &[music_like(n, RATE, seed), music_like(n, RATE, seed + 1)],
        RATE,
    );
    write_text(
        d,
        &format!("{name}.toml"),
        &format!(
            r#"sample_rate = 48000
fade_out_s = 0.4
[output]
file = "{name}.wav"
format = "wav32f"
[master]
target_lufs = -14.0
ceiling_dbtp = -1.0
chain = [ {{ type = "compressor", threshold_db = -20.0, ratio = 3.0, attack_ms = 10.0, release_ms = 120.0 }} ]
[[track]]
name = "a"
file = "{name}-a.wav"
gain_db = -2.0
automation.pan = [[0.0, -0.5], [1.0, 0.5]]
"#
        ),
    )
}

#[test]
fn gpu_render_matches_cpu_render() {
    if mixfarm::gpu::Gpu::for_tests("gpu_render_matches_cpu_render").is_none() {
        return;
    }
    let dir = tempdir();
    let d = dir.path();
    // s5 has one stereo stem: its mix runs inside its closing (the stems are no more than
    // the master); s1–s4 (three stems, four channels) are mixed once and kept on the GPU,
    // where every closing pass loads them; s4 delivers at 44.1 kHz: its kept mix is
    // converted there (the CPU path converts with the kernel's twin: the same bits)
    let s4 = scene(d, "s4", 1.0, 40);
    let text = std::fs::read_to_string(&s4).unwrap();
    std::fs::write(
        &s4,
        text.replace("[output]\n", "[output]\nsample_rate_hz = 44100\n"),
    )
    .unwrap();
    let scenes = vec![
        scene(d, "s1", 1.5, 10),
        scene(d, "s2", 1.0, 20),
        scene(d, "s3", 2.0, 30),
        s4,
        one_stem_scene(d, "s5", 1.5, 50),
    ];
    let opts = |o: &str, b| RenderOptions {
        out_dir: d.join(o),
        backend: b,
        on_song_done: None,
        skip_existing: false,
        max_reduction_db: mixfarm::engine::DEFAULT_MAX_REDUCTION_DB,
    };
    let cpu = render_batch(&scenes, &opts("cpu", Backend::Cpu));
    let gpu = render_batch(&scenes, &opts("gpu", Backend::Gpu));
    assert_eq!(cpu.exit_code(), 0);
    assert_eq!(
        gpu.exit_code(),
        0,
        "{:?} {:?}",
        gpu.note,
        gpu.songs.iter().map(|s| &s.error).collect::<Vec<_>>()
    );
    assert_eq!(gpu.backend, Backend::Gpu);
    // on the GPU a one-stem mix runs inside its closing's passes (nothing comes back
    // between them): its kept pass lists the mix's stages; every closing stage runs on the
    // GPU; the measurement of the mix and of the output equals the CPU path's, which closes
    // the rendered mix
    for (c, g) in cpu.songs.iter().zip(&gpu.songs) {
        let ops = |r: &mixfarm::render::SongReport| {
            r.closing_stages
                .iter()
                .map(|s| format!("{}:{}", s.op, s.backend))
                .collect::<Vec<_>>()
        };
        println!(
            "{}: cpu closing {:?}\n    gpu closing {:?}",
            g.title,
            ops(c),
            ops(g)
        );
        let inside = g.title == "s5";
        assert_eq!(c.mix_held_on, "host", "{}", c.title);
        assert_eq!(g.mix_held_on, "gpu", "{}", g.title);
        assert_eq!(
            g.closing_stages.iter().any(|s| s.op == "mix"),
            inside,
            "{}",
            g.title
        );
        assert!(
            g.closing_stages.iter().all(|s| s.backend == "gpu"),
            "{}",
            g.title
        );
        assert!(
            !c.closing_stages.iter().any(|s| s.op == "mix"),
            "{}",
            c.title
        );
        assert_eq!(c.mix_loudness, g.mix_loudness, "{}", g.title);
        assert_eq!(c.output_loudness, g.output_loudness, "{}", g.title);
        assert_eq!(
            c.normalisation.as_ref().map(|n| n.gain_db),
            g.normalisation.as_ref().map(|n| n.gain_db)
        );
    }
    for name in ["s1", "s2", "s3", "s4", "s5"] {
        let (a, _) = read_wav(&d.join(format!("cpu/{name}.wav")));
        let (b, _) = read_wav(&d.join(format!("gpu/{name}.wav")));
        let e = mixfarm::verify::diff(&a, &b);
        println!(
            "{name}: gpu vs cpu max |Δ| {:.3e} ({:.1} dBFS, {:.3} LSB@24)",
            e.max_abs, e.max_abs_dbfs, e.max_lsb_24
        );
        assert!(
            e.max_abs <= mixfarm::verify::MAX_ABS_TOLERANCE,
            "{name}: {}",
            e.max_abs
        );
    }
}

#[test]
fn verify_passes_and_reports_every_stage() {
    let Some(gpu) = mixfarm::gpu::Gpu::for_tests("verify_passes_and_reports_every_stage") else {
        return;
    };
    let dir = tempdir();
    let s = scene(dir.path(), "v", 1.0, 40);
    let results = mixfarm::verify::verify(&[s], &gpu);
    assert_eq!(results.len(), 1);
    let v = results.into_iter().next().unwrap().unwrap();
    for st in &v.stages {
        println!(
            "stage {:>2} {:<9} max |Δ| {:.3e}  identical {:.2}%",
            st.index,
            st.op,
            st.diff.max_abs,
            100.0 * st.diff.identical_24bit
        );
    }
    println!(
        "end to end {:.3e}, loudness Δ {:.4} LU",
        v.end_to_end.max_abs, v.loudness_diff_lu
    );
    assert!(v.stages.len() >= 15, "one figure per stage");
    assert!(v.stages.iter().any(|s| s.op == "envelope") && v.stages.iter().any(|s| s.op == "mix"));
    assert!(v.pass);
    assert!(v.loudness_diff_lu <= mixfarm::verify::LOUDNESS_TOLERANCE_LU);
}

#[test]
fn diff_catches_a_difference() {
    // the verifier's own yardstick must be able to fail
    let a = vec![vec![0.0f32, 0.5, -0.25]];
    let mut b = a.clone();
    b[0][1] += 4.0 / 8_388_608.0;
    let e = mixfarm::verify::diff(&a, &b);
    assert!((e.max_lsb_24 - 4.0).abs() < 1e-3, "{}", e.max_lsb_24);
    assert!((e.identical_24bit - 2.0 / 3.0).abs() < 1e-9);
}

#[test]
fn auto_never_uses_a_software_adapter() {
    let dir = tempdir();
    let s = scene(dir.path(), "auto", 0.5, 50);
    let r = render_batch(
        &[s],
        &RenderOptions {
            out_dir: dir.path().join("o"),
            backend: Backend::Auto,
            on_song_done: None,
            skip_existing: false,
            max_reduction_db: mixfarm::engine::DEFAULT_MAX_REDUCTION_DB,
        },
    );
    assert_eq!(r.exit_code(), 0);
    let hardware = mixfarm::gpu::list_adapters().iter().any(|a| !a.software);
    assert_eq!(
        r.backend,
        if hardware { Backend::Gpu } else { Backend::Cpu },
        "{:?}",
        r.note
    );
    if !hardware {
        assert!(
            r.note.as_deref().unwrap_or("").contains("no hardware GPU"),
            "{:?}",
            r.note
        );
    }
}

#[test]
fn a_bad_song_fails_alone_on_the_gpu_path() {
    if mixfarm::gpu::Gpu::for_tests("a_bad_song_fails_alone_on_the_gpu_path").is_none() {
        return;
    }
    let dir = tempdir();
    let d = dir.path();
    let good = scene(d, "good", 0.5, 60);
    std::fs::write(
        d.join("junk.wav"),
        b"RIFF junk that is not a wave file at all",
    )
    .unwrap();
    let bad = write_text(d, "bad.toml", "sample_rate = 48000\n[output]\nfile = \"bad.wav\"\n[[track]]\nname = \"x\"\nfile = \"junk.wav\"\n");
    let r = render_batch(
        &[bad, good],
        &RenderOptions {
            out_dir: d.join("o"),
            backend: Backend::Gpu,
            on_song_done: None,
            skip_existing: false,
            max_reduction_db: mixfarm::engine::DEFAULT_MAX_REDUCTION_DB,
        },
    );
    assert_eq!(r.backend, Backend::Gpu);
    assert_eq!((r.ok(), r.failed(), r.exit_code()), (1, 1, 1));
    assert!(r
        .songs
        .iter()
        .any(|s| s.error.as_deref().is_some_and(|e| e.contains("junk.wav"))));
    assert!(d.join("o/good.wav").is_file());
}

#[test]
fn no_mesa_runtime_dir_warning_without_xdg_runtime_dir() {
    // headless nodes often have no XDG_RUNTIME_DIR; Mesa's drivers then print an error line
    // on every start unless mixfarm points the variable somewhere first
    if mixfarm::gpu::Gpu::for_tests("no_mesa_runtime_dir_warning").is_none() {
        return;
    }
    let dir = tempdir();
    let s = scene(dir.path(), "x", 0.5, 41);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mixfarm"))
        .arg("render")
        .arg(&s)
        .arg("--out")
        .arg(dir.path().join("o"))
        .args(["--backend", "gpu"])
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("XDG_RUNTIME_DIR"), "{err}");
}
