//! The kernel registry (`gpu::kernels`) and `shaders/` agree both ways, and every doc comment
//! that names a shader, a spec or another file of the repository names one that exists (a
//! header must say only what is true).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_shader_is_registered_and_every_registered_kernel_exists() {
    let on_disk: BTreeSet<String> = std::fs::read_dir(root().join("shaders"))
        .expect("shaders/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "wgsl"))
        .map(|p| format!("shaders/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    let registered: BTreeSet<String> = mixfarm::gpu::kernels::KERNELS
        .iter()
        .map(|k| k.path.to_string())
        .collect();
    for k in mixfarm::gpu::kernels::KERNELS {
        assert_eq!(
            k.path,
            format!("shaders/{}.wgsl", k.name),
            "one name per kernel"
        );
        let text = std::fs::read_to_string(root().join(k.path)).expect("registered file exists");
        assert_eq!(
            text, k.source,
            "{}: the registry holds the file's text",
            k.path
        );
    }
    assert_eq!(on_disk, registered, "shaders/ and the registry differ");
    println!("{} kernels registered, all in shaders/", registered.len());
}

#[test]
fn every_kind_with_a_kernel_is_served_and_every_twin_exists() {
    use mixfarm::gpu::kernels::{of_kind, KERNELS};
    use mixfarm::ops::kind::KIND_NAMES;
    for k in KERNELS {
        assert!(
            KIND_NAMES.contains(&k.kind),
            "{}: unknown stage kind '{}'",
            k.name,
            k.kind
        );
        assert!(
            root().join(k.cpu_twin).is_file(),
            "{}: CPU twin {} does not exist",
            k.name,
            k.cpu_twin
        );
    }
    for kind in KIND_NAMES {
        let n = of_kind(kind).count();
        if *kind == "elementwise" {
            // one kernel per registered operator, however many there are
        } else {
            assert!(n > 0, "stage kind '{kind}' has no kernel");
        }
        println!("{kind}: {n} kernels");
    }
}

#[test]
fn every_elementwise_operator_has_its_kernel_its_twin_and_its_name() {
    use mixfarm::gpu::kernels::{of_kind, ELEMENTWISE};
    let kernels: Vec<&str> = of_kind("elementwise").map(|k| k.name).collect();
    let ops: Vec<&str> = ELEMENTWISE.iter().map(|op| op.name).collect();
    assert_eq!(
        kernels, ops,
        "one kernel per elementwise operator, same names"
    );
    for k in of_kind("elementwise") {
        assert_eq!(k.cpu_twin, format!("src/ops/{}/cpu.rs", k.name));
        assert!(
            k.source.contains(&format!("fn {}(", k.name)),
            "{}: entry point named after the operator",
            k.path
        );
    }
    println!("elementwise operators: {ops:?}");
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Paths named in backticks in doc comments (a shader, a markdown spec, a Rust file).
fn named_paths(line: &str) -> Vec<String> {
    line.split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| {
            !w.contains(' ')
                && (w.ends_with(".wgsl") || w.ends_with(".md") || w.ends_with(".rs"))
                && !w.starts_with("../")
                && !w.contains(['<', '*'])
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn doc_comments_name_only_files_that_exist() {
    let mut files = Vec::new();
    for d in ["src", "tests", "benches"] {
        rust_files(&root().join(d), &mut files);
    }
    let mut missing = Vec::new();
    let mut checked = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let t = line.trim_start();
            if !(t.starts_with("//!") || t.starts_with("///")) {
                continue;
            }
            for p in named_paths(t) {
                // a bare shader name is in shaders/; another bare name is relative to the
                // file's own folder; a path is relative to the root
                let here = f.parent().unwrap().join(&p);
                let shader = p.ends_with(".wgsl") && root().join("shaders").join(&p).exists();
                let exists = shader || root().join(&p).exists() || here.exists() || {
                    // `ops/<name>/cpu.rs` style paths are relative to src/
                    root().join("src").join(&p).exists()
                };
                checked += 1;
                if !exists {
                    missing.push(format!(
                        "{}:{}: `{p}`",
                        f.strip_prefix(root()).unwrap().display(),
                        i + 1
                    ));
                }
            }
        }
    }
    println!("{checked} file names checked in doc comments");
    assert!(
        missing.is_empty(),
        "doc comments name missing files:\n{}",
        missing.join("\n")
    );
}
