//! `mixfarm master --backend gpu` writes the same bytes as `--backend cpu` (issue 10): a small
//! catalog of two albums mastered with every built-in preset (two deliveries per run), album
//! and track mode, FLAC and WAV, the album files with their CUE sheets (`--sequence`), and the
//! reference match EQ (a 32767-tap convolution: on the GPU backend it runs in the GPU
//! convolution engine). Skipped without a GPU adapter unless `MIXFARM_REQUIRE_GPU=1`.

mod common;

use std::path::Path;
use std::process::Command;

use common::{music_like, tempdir, tree_files, write_f32, write_text};

const RATE: u32 = 48_000;

fn song(dir: &Path, name: &str, seconds: f64, level: f32, seed: u64) {
    let n = (seconds * f64::from(RATE)) as usize;
    let ch = |s: u64| -> Vec<f32> { music_like(n, RATE, s).iter().map(|x| x * level).collect() };
    write_f32(&dir.join(name), &[ch(seed), ch(seed + 1)], RATE);
}

fn master(backend: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mixfarm"))
        .arg("master")
        .args(["--backend", backend])
        .args(args)
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .expect("runs mixfarm");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    eprintln!("--backend {backend}:\n{err}");
    (out.status.code().unwrap_or(-1), err)
}

/// Every audio file and CUE sheet below `dir` (reports hold timings, so they differ).
fn deliverables(dir: &Path) -> Vec<std::path::PathBuf> {
    tree_files(dir)
        .into_iter()
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "wav" || e == "flac" || e == "cue")
        })
        .collect()
}

#[test]
fn master_on_the_gpu_writes_the_same_bytes_as_on_the_cpu() {
    let Some(_) = mixfarm::gpu::Gpu::for_tests("master_on_the_gpu_writes_the_same_bytes") else {
        return;
    };
    let t = tempdir();
    let d = t.path();
    song(d, "a1.wav", 1.2, 0.3, 1);
    song(d, "a2.wav", 0.9, 0.15, 3);
    song(d, "b1.wav", 1.0, 0.4, 5);
    song(d, "ref.wav", 1.0, 0.5, 7);
    let m = write_text(
        d,
        "catalog.csv",
        "file,title,artist,album,track,isrc\n\
         a1.wav,One,Art,Alpha,1,QZMF52600001\n\
         a2.wav,Two,Art,Alpha,2,QZMF52600002\n\
         b1.wav,Three,Art,Beta,1,QZMF52600003\n",
    );
    // at the songs' own rate (48 kHz: broadcast, streaming, apple) every closing pass runs
    // the chain on the GPU first (nothing comes back between); a delivery at another rate
    // (cd, 44.1 kHz) has the chains run ahead of the closing and kept on the GPU, converted
    // there for cd, loaded by every closing pass (nothing comes back either)
    let runs: [(&str, Vec<&str>); 4] = [
        (
            "album",
            vec![
                "--deliver",
                "streaming,apple",
                "--album-mode",
                "album",
                "--format",
                "flac24,wav16",
                "--sequence",
                "--gap",
                "0.5",
                "--fade-out",
                "0.3",
                "--reference",
                "REF",
            ],
        ),
        (
            "track",
            vec![
                "--deliver",
                "broadcast,cd",
                "--album-mode",
                "track",
                "--format",
                "wav24,flac16",
                "--sequence",
            ],
        ),
        (
            "album, chains in the closing",
            vec![
                "--deliver",
                "streaming,apple",
                "--album-mode",
                "album",
                "--format",
                "flac24,wav16",
                "--fade-out",
                "0.3",
                "--reference",
                "REF",
            ],
        ),
        (
            "track, chains in the closing",
            vec![
                "--deliver",
                "broadcast,streaming",
                "--album-mode",
                "track",
                "--format",
                "wav24,flac16",
                "--fade-in",
                "0.2",
            ],
        ),
    ];
    let reference = d.join("ref.wav");
    let (m, reference) = (&m, &reference);
    // the four runs side by side (llvmpipe runs most of a GPU run on one core)
    std::thread::scope(|scope| {
        for (name, extra) in runs {
            scope.spawn(move || each_run(d, m, reference, name, &extra));
        }
    });
}

/// One of the runs: `master` with `extra` on both backends; the files must be the same.
fn each_run(d: &Path, m: &Path, reference: &Path, name: &str, extra: &[&str]) {
    let mut files = Vec::new();
    for backend in ["cpu", "gpu"] {
        let out = d.join(format!("{}-{backend}", name.replace([' ', ','], "_")));
        let mut args = vec![
            "--manifest",
            m.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(extra.iter().map(|a| {
            if *a == "REF" {
                reference.to_str().unwrap()
            } else {
                a
            }
        }));
        let (code, err) = master(backend, &args);
        assert_eq!(code, 0, "{name} on {backend}: {err}");
        if backend == "gpu" {
            assert!(err.contains("gpu backend"), "{name}: not on the GPU: {err}");
            gpu_stages_only(&out, !extra.contains(&"broadcast,cd"));
        }
        files.push((out.clone(), deliverables(&out)));
    }
    let ((cpu_dir, cpu), (gpu_dir, gpu)) = (&files[0], &files[1]);
    assert_eq!(cpu, gpu, "{name}: the two backends wrote different files");
    // 3 songs × 2 deliveries × 2 formats, 2 albums × 2 deliveries × 2 formats × (audio + cue)
    let albums = if extra.contains(&"--sequence") { 16 } else { 0 };
    assert_eq!(cpu.len(), 12 + albums, "{name}: {cpu:?}");
    for f in cpu {
        let (a, b) = (
            std::fs::read(cpu_dir.join(f)).unwrap(),
            std::fs::read(gpu_dir.join(f)).unwrap(),
        );
        assert!(
            a == b,
            "{name}: {} differs between the backends",
            f.display()
        );
    }
    let metered = same_input_figures(cpu_dir, gpu_dir);
    println!(
        "{name}: {} files, byte-identical on both backends; {metered} songs' input figures \
             and curves (metered on the GPU) equal the CPU's",
        cpu.len()
    );
}

/// Every song's input figures and meters over time (on the GPU backend metered on the GPU,
/// in one batch per album) are the CPU backend's exactly; returns how many songs.
fn same_input_figures(cpu_dir: &Path, gpu_dir: &Path) -> usize {
    let mut songs = 0;
    for f in tree_files(cpu_dir) {
        let text = std::fs::read_to_string(cpu_dir.join(&f)).unwrap_or_default();
        if f.extension().is_none_or(|e| e != "json") || !text.contains("\"settings_hash\"") {
            continue;
        }
        let a: serde_json::Value = serde_json::from_str(&text).expect("sidecar JSON");
        let b: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(gpu_dir.join(&f)).expect("the GPU run's sidecar"),
        )
        .expect("sidecar JSON");
        if !a["input_loudness"].is_object() {
            continue; // an album file's sidecar
        }
        assert_eq!(a["input_loudness"], b["input_loudness"], "{}", f.display());
        assert_eq!(a["chain_held_on"], "host", "{}", f.display());
        assert_eq!(
            a["curves"]["input"],
            b["curves"]["input"],
            "{}",
            f.display()
        );
        songs += 1;
    }
    assert!(songs >= 6, "{}: {songs} sidecars", cpu_dir.display());
    songs
}

/// Every song's sidecar lists the stages of its chain and of its closing (gain, limiter,
/// loudness meter), each run on the GPU (issue 11); with `chain_in_closing`, the closing's
/// pass ran the chain itself (its stages lead the closing's).
fn gpu_stages_only(out: &Path, chain_in_closing: bool) {
    let mut songs = 0;
    for f in tree_files(out) {
        let text = std::fs::read_to_string(out.join(&f)).unwrap_or_default();
        if f.extension().is_none_or(|e| e != "json") || !text.contains("\"settings_hash\"") {
            continue;
        }
        let r: serde_json::Value = serde_json::from_str(&text).expect("sidecar JSON");
        let Some(stages) = r["stages"].as_array() else {
            continue;
        };
        songs += 1;
        let ops: Vec<&str> = stages.iter().filter_map(|s| s["op"].as_str()).collect();
        assert!(
            ops.contains(&"multiband") && ops.contains(&"eq"),
            "{}: {ops:?}",
            f.display()
        );
        for s in stages {
            assert_eq!(s["backend"], "gpu", "{}: {s} ran on the CPU", f.display());
        }
        let closing = r["closing_stages"].as_array().expect("closing stages");
        let ops: Vec<&str> = closing.iter().filter_map(|s| s["op"].as_str()).collect();
        assert!(
            ops.contains(&"limiter") && ops.contains(&"meter"),
            "{}: closing {ops:?}",
            f.display()
        );
        assert_eq!(
            ops.contains(&"multiband"),
            chain_in_closing,
            "{}: closing {ops:?}",
            f.display()
        );
        for s in closing {
            assert_eq!(
                s["backend"],
                "gpu",
                "{}: closing {s} ran on the CPU",
                f.display()
            );
        }
        assert_eq!(r["chain_held_on"], "gpu", "{}", f.display());
    }
    assert!(
        songs >= 6,
        "{}: {songs} sidecars with stages",
        out.display()
    );
}
