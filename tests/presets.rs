//! Mastering presets in `scenes/presets/*.toml`: loudness targets from the delivery specs,
//! chains that parse into `Vec<InsertSpec>`, a final limiter at the preset's ceiling.

mod common;

use std::path::PathBuf;

use mixfarm::ops::InsertSpec;

/// (file stem, target LUFS, ceiling dBTP): streaming services −14/−1, Apple Music −16/−1,
/// EBU R128 −23/−1 (Tech 3343), loud CD −9/−0.3.
const PRESETS: [(&str, f64, f64); 4] = [
    ("streaming", -14.0, -1.0),
    ("apple", -16.0, -1.0),
    ("broadcast", -23.0, -1.0),
    ("cd", -9.0, -0.3),
];

/// Insert types a preset may use (eq and width come from the `fft` branch).
const KNOWN_TYPES: [&str; 4] = ["eq", "multiband", "width", "limiter"];

fn path(stem: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scenes/presets")
        .join(format!("{stem}.toml"))
}

fn table(stem: &str) -> toml::Table {
    let text = std::fs::read_to_string(path(stem)).expect("preset readable");
    toml::from_str(&text).expect("preset is valid TOML")
}

#[test]
fn presets_have_their_targets_and_end_in_a_limiter_at_the_ceiling() {
    for (stem, lufs, dbtp) in PRESETS {
        let t = table(stem);
        assert_eq!(t["target_lufs"].as_float(), Some(lufs), "{stem}");
        assert_eq!(t["ceiling_dbtp"].as_float(), Some(dbtp), "{stem}");
        let chain = t["chain"].as_array().expect("chain is an array");
        for insert in chain {
            let ty = insert
                .get("type")
                .and_then(|v| v.as_str())
                .expect("insert has a type");
            assert!(
                KNOWN_TYPES.contains(&ty),
                "{stem}: unknown insert type {ty}"
            );
        }
        let last = chain.last().expect("non-empty chain").clone();
        let limiter: InsertSpec = last.try_into().expect("last insert parses");
        match &limiter {
            InsertSpec::Limiter(l) => assert_eq!(l.ceiling_dbtp, dbtp, "{stem}: limiter ceiling"),
            other => panic!("{stem}: chain must end in a limiter, got {other:?}"),
        }
        limiter
            .prepare(&common::ctx(48_000, None))
            .expect("limiter prepares");
        eprintln!("{stem}: {lufs} LUFS, {dbtp} dBTP, {} inserts", chain.len());
    }
}

/// A preset file as the renderer reads it.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Preset {
    target_lufs: f64,
    ceiling_dbtp: f64,
    /// delivery sample rate (`mixfarm master`)
    #[serde(default)]
    sample_rate_hz: Option<u32>,
    /// delivery bit depth (`mixfarm master`)
    #[serde(default)]
    bits: Option<u32>,
    /// Broadcast Wave `bext` chunk in WAV outputs
    #[serde(default)]
    #[allow(dead_code)]
    bwf: bool,
    chain: Vec<InsertSpec>,
}

#[test]
fn every_preset_parses_into_insert_specs() {
    for (stem, _, _) in PRESETS {
        let text = std::fs::read_to_string(path(stem)).expect("preset readable");
        let preset: Preset = toml::from_str(&text).unwrap_or_else(|e| panic!("{stem}: {e}"));
        assert!(preset.target_lufs < 0.0 && preset.ceiling_dbtp < 0.0);
        assert!(
            preset.bits.is_none_or(|b| [16, 24, 32].contains(&b)),
            "{stem}"
        );
        assert!(
            preset.sample_rate_hz.is_none_or(|r| r % 75 == 0),
            "{stem}: a CUE-able rate"
        );
        for insert in &preset.chain {
            insert
                .prepare(&common::ctx(48_000, None))
                .unwrap_or_else(|e| panic!("{stem}: {e}"));
        }
        eprintln!("{stem}: {} inserts parse and prepare", preset.chain.len());
    }
}
