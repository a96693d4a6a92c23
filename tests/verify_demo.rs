//! `mixfarm verify --json scenes/demo/album.toml` (issue 11): every stage of every demo song
//! runs on the GPU (`"backend": "gpu"`), and on llvmpipe (no fused multiply-add) every stage
//! and every master is bit-identical to the CPU reference. Skipped without an adapter unless
//! `MIXFARM_REQUIRE_GPU=1`. Slow on llvmpipe (about a minute and a half).

use std::path::Path;
use std::process::Command;

#[test]
fn verify_demo_album_runs_every_stage_on_the_gpu() {
    let Some(gpu) = mixfarm::gpu::Gpu::for_tests("verify demo album") else {
        return;
    };
    let llvmpipe = gpu.name().contains("llvmpipe");
    drop(gpu);
    let album = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes/demo/album.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_mixfarm"))
        .args(["verify", "--json"])
        .arg(&album)
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .expect("runs mixfarm");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let songs: Vec<serde_json::Value> = serde_json::from_str(&stdout).expect("verify --json");
    assert_eq!(songs.len(), 3, "the demo album has three songs");
    for s in &songs {
        let stages = s["stages"].as_array().expect("stages");
        assert!(stages.len() > 10, "{}: {} stages", s["title"], stages.len());
        for st in stages {
            assert_eq!(st["backend"], "gpu", "{}: {st}", s["title"]);
            if llvmpipe {
                assert_eq!(st["diff"]["max_abs"], 0.0, "{}: {st}", s["title"]);
            }
        }
        let e = s["end_to_end"]["max_abs"].as_f64().unwrap();
        eprintln!(
            "{}: {} stages on the gpu, end to end {e:e}",
            s["title"],
            stages.len()
        );
        assert_eq!(s["pass"], true);
        if llvmpipe {
            assert_eq!(e, 0.0, "{}", s["title"]);
            assert_eq!(s["loudness_diff_lu"], 0.0, "{}", s["title"]);
        }
    }
}
