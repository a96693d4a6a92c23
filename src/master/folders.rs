//! Catalogs without a manifest: each input folder is one album (its audio files in file-name
//! order, numbered from 1, until `source_tags` orders them by their own track tags), loose
//! files form "Singles", each mastered on its own; two inputs with one stem get distinct
//! output names. CPU only; no shader
//! mirrored.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::manifest::{safe_file_name, sha256_hex, Album, Catalog, Track, SINGLES};
use crate::error::{Error, Result};

fn plain_track(file: &Path, number: Option<u32>) -> Track {
    let name = file
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let stem = file
        .file_stem()
        .map_or_else(|| name.clone(), |s| s.to_string_lossy().into_owned());
    Track {
        file: file.to_path_buf(),
        key: name,
        title: stem.clone(),
        title_given: false,
        source: Default::default(),
        artist: None,
        track_number: number,
        isrc: None,
        date: None,
        preset: None,
        gain_offset_db: 0.0,
        fade_in_s: None,
        fade_out_s: None,
        gap_s: None,
        output_stem: safe_file_name(&stem),
        line: None,
        extra: Vec::new(),
    }
}

/// Two inputs of one album with the same stem (`song.wav`, `song.flac`) each get their own
/// output name: the extension joins the name (`song (wav)`, `song (flac)`), then a number if
/// that still clashes.
fn distinct_output_names(tracks: &mut [Track]) {
    let lower = |t: &Track| t.output_stem.to_lowercase();
    let clash: HashSet<String> = tracks
        .iter()
        .enumerate()
        .filter(|(i, t)| tracks.iter().skip(i + 1).any(|u| lower(u) == lower(t)))
        .map(|(_, t)| lower(t))
        .collect();
    let mut taken: HashSet<String> = tracks
        .iter()
        .filter(|t| !clash.contains(&lower(t)))
        .map(lower)
        .collect();
    for t in tracks.iter_mut().filter(|t| clash.contains(&lower(t))) {
        let ext = t
            .file
            .extension()
            .map_or_else(String::new, |e| e.to_string_lossy().to_lowercase());
        let base = safe_file_name(&format!("{} ({ext})", t.output_stem));
        let mut name = base.clone();
        let mut n = 2;
        while !taken.insert(name.to_lowercase()) {
            name = format!("{base} {n}");
            n += 1;
        }
        t.output_stem = name;
    }
}

/// Builds a catalog from files and folders: each folder is one album (its audio files in
/// file-name order, numbered from 1), loose files form the album "Singles".
pub fn catalog_from_inputs(inputs: &[PathBuf], extensions: &[&str]) -> Result<Catalog> {
    let mut singles = Vec::new();
    let mut out: Vec<Album> = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let rd = std::fs::read_dir(p).map_err(|e| Error::io(p, e))?;
            let mut files: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file())
                .filter(|f| {
                    f.extension().is_some_and(|x| {
                        extensions.contains(&x.to_string_lossy().to_lowercase().as_str())
                    })
                })
                .collect();
            files.sort();
            let title = p
                .canonicalize()
                .ok()
                .and_then(|c| c.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "Album".into());
            let tracks = files
                .iter()
                .enumerate()
                .map(|(i, f)| plain_track(f, Some(i as u32 + 1)))
                .collect();
            out.push(Album {
                dir: safe_file_name(&title),
                title,
                artist: None,
                title_given: false,
                tracks,
                singles: false,
            });
        } else {
            singles.push(plain_track(p, None));
        }
    }
    if !singles.is_empty() {
        out.push(Album {
            title: SINGLES.into(),
            dir: SINGLES.into(),
            artist: None,
            title_given: false,
            tracks: singles,
            singles: true,
        });
    }
    out.sort_by(|a, b| a.title.cmp(&b.title));
    let mut dirs = HashSet::new();
    for a in &out {
        if !dirs.insert(a.dir.to_lowercase()) {
            return Err(Error::scene(
                PathBuf::from(&a.dir),
                "two input folders share this name: give a manifest to tell the albums apart",
            ));
        }
    }
    for a in &mut out {
        distinct_output_names(&mut a.tracks);
    }
    let list: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    Ok(Catalog {
        albums: out,
        manifest: None,
        hash: sha256_hex(list.join("\n").as_bytes()),
        notes: Vec::new(),
    })
}
