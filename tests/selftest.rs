//! `mixfarm selftest` (issue 11): on the machine's adapter (llvmpipe in CI, with
//! `--allow-software`) it reports the adapter, runs every processor of its built-in catalog
//! on both backends and passes only within the parity bound; every stage runs its GPU
//! kernel. Skipped without an adapter unless `MIXFARM_REQUIRE_GPU=1`.

use std::process::Command;

fn mixfarm(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mixfarm"))
        .args(args)
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .expect("runs mixfarm");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn adapters() -> Vec<serde_json::Value> {
    let (code, out, _) = mixfarm(&["devices", "--json"]);
    assert_eq!(code, 0);
    serde_json::from_str(&out).expect("devices --json")
}

#[test]
fn selftest_checks_every_kernel_on_the_adapter() {
    let list = adapters();
    if list.is_empty() {
        assert!(
            std::env::var("MIXFARM_REQUIRE_GPU").as_deref() != Ok("1"),
            "no GPU adapter and MIXFARM_REQUIRE_GPU=1"
        );
        eprintln!("selftest: skipped: no GPU adapter");
        return;
    }
    let (code, out, err) = mixfarm(&["selftest", "--allow-software", "--json", "--seconds", "1.6"]);
    eprintln!("{err}");
    let r: serde_json::Value = serde_json::from_str(&out).expect("selftest --json");
    assert_eq!(code, 0, "selftest failed: {out}");
    assert_eq!(r["pass"], true);
    assert!(r["adapter"]["name"].as_str().is_some_and(|n| !n.is_empty()));
    assert!(r["adapter"]["max_storage_buffer_binding_size"].as_u64() > Some(0));
    let songs = r["songs"].as_array().expect("songs");
    // one song per processor of the catalog, plus the whole chain
    let ops: std::collections::BTreeSet<&str> = songs
        .iter()
        .flat_map(|s| s["stages"].as_array().unwrap())
        .map(|st| st["op"].as_str().unwrap())
        .collect();
    for op in [
        "load",
        "mix",
        "gain",
        "polarity",
        "eq",
        "compressor",
        "multiband",
        "reverb",
        "width",
        "delay",
        "chorus",
        "limiter",
    ] {
        assert!(ops.contains(op), "the catalog has no {op} stage: {ops:?}");
    }
    let bound = r["bound"].as_f64().unwrap();
    let llvmpipe = r["adapter"]["name"]
        .as_str()
        .is_some_and(|n| n.contains("llvmpipe"));
    for s in songs {
        let e = s["diff"]["max_abs"].as_f64().unwrap();
        eprintln!("{}: max |gpu − cpu| {e:e}", s["name"]);
        assert!(e <= bound, "{}: {e} over {bound}", s["name"]);
        if llvmpipe {
            // no fused multiply-add there: every twin bit-identical
            assert_eq!(e, 0.0, "{}: the twins differ on llvmpipe", s["name"]);
        }
        for st in s["stages"].as_array().unwrap() {
            assert_eq!(st["backend"], "gpu", "{}: {st} ran on the CPU", s["name"]);
        }
    }
    assert!(r["bench"]["gpu_ms"].as_f64() > Some(0.0));
    assert!(r["bench"]["cpu_realtime"].as_f64() > Some(0.0));
}

#[test]
fn selftest_without_a_hardware_adapter_says_so() {
    let list = adapters();
    if list.iter().any(|a| a["software"] == false) {
        eprintln!("a hardware adapter is present: nothing to check");
        return;
    }
    let (code, _, err) = mixfarm(&["selftest"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no hardware GPU adapter") && err.contains("--allow-software"),
        "{err}"
    );
}
