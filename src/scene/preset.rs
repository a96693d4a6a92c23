//! Mastering presets: a master chain plus a loudness target and ceiling, as a TOML file.
//! Four ship inside the binary (`streaming`, `apple`, `broadcast`, `cd`, the files in
//! `scenes/presets/`); any other name is a preset file's path, relative to the scene. An
//! impulse response named in a preset file is relative to that file.
//!
//! A song's own `[master]` fields win over the preset's (`target_lufs`, `ceiling_dbtp`,
//! a whole `chain`), and `[master.overrides.<type>]` changes fields of the preset chain's
//! first insert of that type. `mixfarm render` delivers at the preset's `sample_rate_hz`,
//! `bits` and `bwf` too, unless the song's `[output]` sets `sample_rate_hz` or `format`.

use serde::Deserialize;

use super::load::{line_of, LoadedSong};
use crate::error::{Error, Result};
use crate::ops::InsertSpec;

/// The built-in presets, by name.
pub const BUILT_IN: [(&str, &str); 4] = [
    (
        "streaming",
        include_str!("../../scenes/presets/streaming.toml"),
    ),
    ("apple", include_str!("../../scenes/presets/apple.toml")),
    (
        "broadcast",
        include_str!("../../scenes/presets/broadcast.toml"),
    ),
    ("cd", include_str!("../../scenes/presets/cd.toml")),
];

/// A preset file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// integrated loudness target, LUFS
    pub target_lufs: Option<f64>,
    /// true-peak ceiling, dBTP
    pub ceiling_dbtp: Option<f64>,
    /// delivery sample rate, Hz (`mixfarm master`; none: each song's own rate)
    #[serde(default)]
    pub sample_rate_hz: Option<u32>,
    /// delivery bit depth: 16, 24 (PCM) or 32 (float) (`mixfarm master`; none: 24)
    #[serde(default)]
    pub bits: Option<u32>,
    /// write a Broadcast Wave `bext` chunk with the EBU loudness fields into WAV outputs
    #[serde(default)]
    pub bwf: bool,
    /// the master chain
    #[serde(default)]
    pub chain: Vec<InsertSpec>,
}

/// Reads a preset by built-in name or path (relative to `dir`), applying `overrides`.
pub fn load(
    name: &str,
    dir: &std::path::Path,
    overrides: Option<&toml::Table>,
) -> std::result::Result<Preset, String> {
    let mut file_dir = None;
    let (text, origin) = match BUILT_IN.iter().find(|(n, _)| *n == name) {
        Some((_, t)) => (t.to_string(), format!("built-in preset '{name}'")),
        None => {
            let path = dir.join(name);
            let t = std::fs::read_to_string(&path).map_err(|e| {
                let names: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
                format!(
                    "preset '{name}' is neither built in ({}) nor a readable file ({}: {e})",
                    names.join(", "),
                    path.display()
                )
            })?;
            file_dir = path
                .parent()
                .map(|d| std::path::absolute(d).unwrap_or(d.to_path_buf()));
            (t, format!("preset file {}", path.display()))
        }
    };
    let mut table: toml::Table =
        toml::from_str(&text).map_err(|e| format!("{origin}: {}", e.message()))?;
    if let Some(ov) = overrides {
        let chain = table.get_mut("chain").and_then(|c| c.as_array_mut());
        let chain = chain.ok_or_else(|| format!("{origin} has no chain to override"))?;
        for (kind, fields) in ov {
            let fields = fields
                .as_table()
                .ok_or_else(|| format!("overrides.{kind} must be a table of fields"))?;
            let insert = chain
                .iter_mut()
                .filter_map(|i| i.as_table_mut())
                .find(|i| i.get("type").and_then(|t| t.as_str()) == Some(kind.as_str()))
                .ok_or_else(|| format!("overrides.{kind}: {origin} has no '{kind}' insert"))?;
            for (k, v) in fields {
                insert.insert(k.clone(), v.clone());
            }
        }
    }
    let mut preset = Preset::deserialize(toml::Value::Table(table))
        .map_err(|e| format!("{origin}: {}", e.message()))?;
    if let Some(d) = file_dir {
        // relative paths in a preset file resolve against the preset file's folder, not
        // the folder of the song that uses it
        for insert in &mut preset.chain {
            if let InsertSpec::Reverb(r) = insert {
                if r.ir.is_relative() {
                    r.ir = d.join(&r.ir);
                }
            }
        }
    }
    Ok(preset)
}

/// Fills a song's master from its preset (or the album's default preset).
pub fn resolve(mut s: LoadedSong, album_default: Option<&str>) -> Result<LoadedSong> {
    let (name, at) = match (&s.song.master.preset, album_default) {
        (Some(p), _) => (p.get_ref().clone(), Some(p.span().start)),
        (None, Some(d)) => (d.to_string(), None),
        (None, None) => {
            if s.song.master.overrides.is_some() {
                return Err(s.error_at(None, "master.overrides needs a master.preset to override"));
            }
            return Ok(s);
        }
    };
    let p = load(&name, &s.dir, s.song.master.overrides.as_ref()).map_err(|m| Error::Scene {
        path: s.path.clone(),
        line: at.map(|o| line_of(&s.text, o)),
        message: format!("master.preset: {m}"),
    })?;
    let m = &mut s.song.master;
    m.target_lufs = m.target_lufs.or(p.target_lufs);
    m.ceiling_dbtp = m.ceiling_dbtp.or(p.ceiling_dbtp);
    if m.chain.is_none() {
        m.chain = Some(p.chain);
    }
    m.preset_delivery = super::PresetDelivery {
        sample_rate_hz: p.sample_rate_hz,
        bits: p.bits,
        bwf: p.bwf,
    };
    Ok(s)
}
