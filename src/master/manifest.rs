//! Catalog manifests for `mixfarm master`: one row per track (CSV with a header row, or TOML
//! `[[track]]` tables) naming the file, title, artist, album, track number, ISRC and
//! optionally a per-track preset, gain offset, fades and the gap before the track. Paths are
//! relative to the manifest. Without a manifest, each input folder is one album ordered by
//! file name and loose files form the album "Singles" (see `folders`). CPU only; no shader
//! mirrored.
//!
//! The catalog is sorted (albums by title, tracks by track number) so every worker that
//! reads the same manifest sees the same order, whatever the row order in the file.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// One manifest row as written (CSV header names are matched case-insensitively, with
/// spaces and hyphens read as underscores: `Track Number` = `track_number`). Other columns
/// or keys are not fields here: they are passed through ([`Track::extra`]).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Row {
    /// the audio file, relative to the manifest
    pub file: String,
    /// song title (default: the file name)
    #[serde(default)]
    pub title: Option<String>,
    /// performing artist
    #[serde(default)]
    pub artist: Option<String>,
    /// album title (default: "Singles")
    #[serde(default)]
    pub album: Option<String>,
    /// album artist (default: the artist shared by the album's tracks, if one)
    #[serde(default)]
    pub album_artist: Option<String>,
    /// position on the album, from 1
    #[serde(default, alias = "track_number", alias = "tracknumber")]
    pub track: Option<u32>,
    /// International Standard Recording Code (12 characters, hyphens allowed)
    #[serde(default)]
    pub isrc: Option<String>,
    /// release date or year
    #[serde(default, alias = "year")]
    pub date: Option<String>,
    /// preset (name or file) replacing the delivery's chain for this track
    #[serde(default)]
    pub preset: Option<String>,
    /// level offset against the delivery target (track mode) or the album gain (album mode), dB
    #[serde(default, alias = "gain_db", alias = "gain_offset")]
    pub gain_offset_db: Option<f64>,
    /// fade-in length, seconds (default: `--fade-in`)
    #[serde(default, alias = "fade_in")]
    pub fade_in_s: Option<f64>,
    /// fade-out length, seconds (default: `--fade-out`)
    #[serde(default, alias = "fade_out")]
    pub fade_out_s: Option<f64>,
    /// silence before this track in the album sequence, seconds (default: `--gap`)
    #[serde(default, alias = "gap", alias = "pregap_s")]
    pub gap_s: Option<f64>,
}

/// A track of the catalog, resolved.
#[derive(Debug, Clone)]
pub struct Track {
    /// the audio file
    pub file: PathBuf,
    /// a stable identity (the path as written in the manifest, or the file name), used for
    /// dither seeds and reports so the same catalog gives the same bytes from any folder
    pub key: String,
    /// title (the manifest's, else the source's tag, else the file stem)
    pub title: String,
    /// whether the manifest gave the title (else a source tag may replace it)
    pub title_given: bool,
    /// the source file's own tags (filled by `source_tags` after the catalog is read)
    pub source: crate::audio::tags::Tags,
    /// performing artist
    pub artist: Option<String>,
    /// track number on the album
    pub track_number: Option<u32>,
    /// ISRC, normalised to 12 upper-case characters
    pub isrc: Option<String>,
    /// release date
    pub date: Option<String>,
    /// per-track preset
    pub preset: Option<String>,
    /// level offset, dB
    pub gain_offset_db: f64,
    /// fade-in, seconds (`None`: the command's default)
    pub fade_in_s: Option<f64>,
    /// fade-out, seconds
    pub fade_out_s: Option<f64>,
    /// gap before the track in the sequence, seconds
    pub gap_s: Option<f64>,
    /// output file name without extension (`01 - Title`; set again by `source_tags`)
    pub output_stem: String,
    /// manifest line, when from a manifest
    pub line: Option<usize>,
    /// the row's columns mixfarm does not read (UPC, notes…), passed through to the reports
    pub extra: Vec<(String, String)>,
}

/// An album: title, folder name, tracks in order.
#[derive(Debug, Clone)]
pub struct Album {
    /// album title
    pub title: String,
    /// output folder name (the title made safe for file systems)
    pub dir: String,
    /// album artist
    pub artist: Option<String>,
    /// whether a manifest named the album (else the sources' album tag goes into outputs)
    pub title_given: bool,
    /// tracks in sequence order
    pub tracks: Vec<Track>,
    /// loose tracks gathered as "Singles" (no album named): each is mastered on its own,
    /// also under `--album-mode album`
    pub singles: bool,
}

/// The album of tracks that name none.
pub const SINGLES: &str = "Singles";

/// A catalog: albums in a deterministic order, plus where it came from.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// the albums, sorted by title
    pub albums: Vec<Album>,
    /// the manifest file, if one
    pub manifest: Option<PathBuf>,
    /// SHA-256 of the manifest bytes (or of the input list), hex
    pub hash: String,
    /// what the user should know about how the catalog was read (columns ignored)
    pub notes: Vec<String>,
}

/// The CSV columns a manifest row reads (names and their aliases, normalised); the others
/// (UPC, notes, anything a label's spreadsheet carries) are ignored with a note.
const CSV_COLUMNS: &[&str] = &[
    "file",
    "title",
    "artist",
    "album",
    "album_artist",
    "track",
    "track_number",
    "tracknumber",
    "isrc",
    "date",
    "year",
    "preset",
    "gain_offset_db",
    "gain_db",
    "gain_offset",
    "fade_in_s",
    "fade_in",
    "fade_out_s",
    "fade_out",
    "gap_s",
    "gap",
    "pregap_s",
];

pub use crate::core::safe_file_name;

pub(super) use crate::core::hash::sha256_hex;
pub use crate::core::hash::{file_sha256, text_sha256};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlManifest {
    track: Vec<toml::Spanned<Row>>,
}

/// The same TOML manifest, every key kept (for the keys [`Row`] does not read).
#[derive(Deserialize)]
struct RawTomlManifest {
    track: Vec<toml::Table>,
}

/// The rows of a manifest (line, row, the values of the columns or keys mixfarm does not
/// read), and the names of those columns or keys.
type ManifestRows = (Vec<(usize, Row, Vec<(String, String)>)>, Vec<String>);

fn read_csv(path: &Path, text: &str) -> Result<ManifestRows> {
    let err = |line: Option<usize>, m: String| Error::Scene {
        path: path.to_path_buf(),
        line,
        message: m,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let raw = rdr
        .headers()
        .map_err(|e| err(Some(1), format!("cannot read the header row: {e}")))?
        .clone();
    let headers = rdr
        .headers()
        .map_err(|e| err(Some(1), format!("cannot read the header row: {e}")))?
        .iter()
        .map(|h| h.to_lowercase().replace([' ', '-'], "_"))
        .collect::<csv::StringRecord>();
    if !headers.iter().any(|h| h == "file") {
        let hint = match headers.iter().next() {
            Some(h) if headers.len() == 1 && (h.contains(';') || h.contains('\t')) => {
                " (the columns look separated by ';' or tabs: a manifest is comma-separated)"
            }
            _ => "",
        };
        return Err(err(
            Some(1),
            format!("the header row has no 'file' column{hint}"),
        ));
    }
    rdr.set_headers(headers.clone());
    let all = raw;
    let keep: Vec<usize> = (0..headers.len())
        .filter(|&i| CSV_COLUMNS.contains(&&headers[i]))
        .collect();
    let ignored: Vec<String> = (0..headers.len())
        .filter(|i| !keep.contains(i))
        .map(|i| headers[i].to_string())
        .collect();
    let headers: csv::StringRecord = keep.iter().map(|&i| &headers[i]).collect();
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let full = rec.map_err(|e| {
            let line = e.position().map(|p| p.line() as usize);
            err(line, e.to_string())
        })?;
        let line = full.position().map_or(0, |p| p.line() as usize);
        if full.iter().all(str::is_empty) {
            continue;
        }
        let rec: csv::StringRecord = keep.iter().map(|&i| full.get(i).unwrap_or("")).collect();
        let row: Row = rec.deserialize(Some(&headers)).map_err(|e| {
            // name the column and the value, not "field 4"
            let msg = match e.kind() {
                csv::ErrorKind::Deserialize { err: d, .. } => {
                    let at = d.field().map(|i| i as usize).and_then(|i| {
                        Some(format!(
                            "column '{}' = '{}': ",
                            headers.get(i)?,
                            rec.get(i).unwrap_or("")
                        ))
                    });
                    let what = match d.kind() {
                        csv::DeserializeErrorKind::Message(m) => m.clone(),
                        k => k.to_string(),
                    };
                    format!("{}{what}", at.unwrap_or_default())
                }
                _ => e.to_string(),
            };
            err(Some(line), msg)
        })?;
        let extra = (0..full.len())
            .filter(|i| !keep.contains(i))
            .filter_map(|i| Some((all.get(i)?.to_string(), full.get(i)?.to_string())))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        rows.push((line, row, extra));
    }
    Ok((rows, ignored))
}

fn read_toml(path: &Path, text: &str) -> Result<ManifestRows> {
    let line_of = |off: usize| text[..off.min(text.len())].lines().count().max(1);
    let m: TomlManifest = toml::from_str(text).map_err(|e| Error::Scene {
        path: path.to_path_buf(),
        line: e.span().map(|s| line_of(s.start)),
        message: e.message().to_string(),
    })?;
    let raw: RawTomlManifest = toml::from_str(text).map_err(|e| Error::scene(path, e.message()))?;
    let mut ignored: Vec<String> = Vec::new();
    let rows = m
        .track
        .into_iter()
        .zip(raw.track)
        .map(|(s, table)| {
            let extra: Vec<(String, String)> = table
                .into_iter()
                .filter(|(k, _)| !CSV_COLUMNS.contains(&k.as_str()))
                .map(|(k, v)| match v {
                    toml::Value::String(v) => (k, v),
                    v => (k, v.to_string()),
                })
                .collect();
            for (k, _) in &extra {
                if !ignored.contains(k) {
                    ignored.push(k.clone());
                }
            }
            (line_of(s.span().start) + 1, s.into_inner(), extra)
        })
        .collect();
    Ok((rows, ignored))
}

fn check_len(path: &Path, line: usize, what: &str, s: Option<f64>) -> Result<()> {
    match s {
        Some(v) if !(v.is_finite() && v >= 0.0) => Err(Error::Scene {
            path: path.to_path_buf(),
            line: Some(line),
            message: format!("{what} must be a length in seconds ≥ 0, got {v}"),
        }),
        _ => Ok(()),
    }
}

/// Reads a manifest (`.csv` or `.toml`) into a sorted catalog. Errors name the file and line.
pub fn read_manifest(path: &Path) -> Result<Catalog> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = String::from_utf8(bytes.clone())
        .map_err(|_| Error::scene(path, "the manifest is not UTF-8 text"))?;
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let (rows, ignored) = match ext.as_str() {
        "csv" => read_csv(path, &text)?,
        "toml" => read_toml(path, &text)?,
        _ => {
            return Err(Error::scene(
                path,
                "a manifest is a .csv or .toml file (one row per track)",
            ))
        }
    };
    if rows.is_empty() {
        return Err(Error::scene(path, "the manifest lists no tracks"));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let mut albums: BTreeMap<String, Vec<(Track, Option<String>)>> = BTreeMap::new();
    let mut isrcs = HashSet::new();
    let mut files = HashSet::new();
    for (line, r, extra) in rows {
        let err = |m: String| Error::Scene {
            path: path.to_path_buf(),
            line: Some(line),
            message: m,
        };
        if r.file.is_empty() {
            return Err(err("'file' is empty".into()));
        }
        if !files.insert(r.file.clone()) {
            return Err(err(format!("'{}' is listed twice", r.file)));
        }
        let isrc = r
            .isrc
            .as_deref()
            .map(crate::core::validate_isrc)
            .transpose()
            .map_err(err)?;
        if let Some(i) = &isrc {
            if !isrcs.insert(i.clone()) {
                return Err(err(format!("ISRC {i} is given to two tracks")));
            }
        }
        if r.track == Some(0) {
            return Err(err("track numbers start at 1".into()));
        }
        if r.gain_offset_db.is_some_and(|g| !g.is_finite()) {
            return Err(err("gain_offset_db must be a finite number of dB".into()));
        }
        check_len(path, line, "fade_in_s", r.fade_in_s)?;
        check_len(path, line, "fade_out_s", r.fade_out_s)?;
        check_len(path, line, "gap_s", r.gap_s)?;
        let file = base.join(&r.file);
        let stem = file
            .file_stem()
            .map_or_else(|| r.file.clone(), |s| s.to_string_lossy().into_owned());
        let title_given = r.title.as_ref().is_some_and(|t| !t.is_empty());
        let title = r.title.clone().filter(|t| !t.is_empty()).unwrap_or(stem);
        let album = r.album.clone().filter(|a| !a.is_empty());
        let t = Track {
            file,
            key: r.file.clone(),
            output_stem: String::new(),
            title,
            title_given,
            source: Default::default(),
            artist: r.artist.clone(),
            track_number: r.track,
            isrc,
            date: r.date.clone(),
            preset: r.preset.clone().filter(|p| !p.is_empty()),
            gain_offset_db: r.gain_offset_db.unwrap_or(0.0),
            fade_in_s: r.fade_in_s,
            fade_out_s: r.fade_out_s,
            gap_s: r.gap_s,
            line: Some(line),
            extra,
        };
        albums
            .entry(album.unwrap_or_else(|| SINGLES.into()))
            .or_default()
            .push((t, r.album_artist.clone()));
    }
    let mut out = Vec::new();
    let mut dirs = HashSet::new();
    for (title, mut rows) in albums {
        // Numbered tracks first in number order, then unnumbered ones in manifest order.
        rows.sort_by_key(|(t, _)| (t.track_number.is_none(), t.track_number, t.line));
        for w in rows.windows(2) {
            if w[0].0.track_number.is_some() && w[0].0.track_number == w[1].0.track_number {
                return Err(Error::Scene {
                    path: path.to_path_buf(),
                    line: w[1].0.line,
                    message: format!(
                        "album '{title}' has two tracks numbered {}",
                        w[1].0.track_number.unwrap_or(0)
                    ),
                });
            }
        }
        let album_artist = rows.iter().find_map(|(_, a)| a.clone()).or_else(|| {
            let first = rows[0].0.artist.clone();
            rows.iter()
                .all(|(t, _)| t.artist == first)
                .then_some(first)?
        });
        let dir = safe_file_name(&title);
        if !dirs.insert(dir.to_lowercase()) {
            return Err(Error::scene(
                path,
                format!("two albums share the folder name '{dir}'"),
            ));
        }
        let tracks = name_outputs(rows.into_iter().map(|(t, _)| t).collect(), path)?;
        out.push(Album {
            title_given: title != SINGLES,
            singles: title == SINGLES,
            title,
            dir,
            artist: album_artist,
            tracks,
        });
    }
    Ok(Catalog {
        albums: out,
        manifest: Some(path.to_path_buf()),
        hash: sha256_hex(&bytes),
        notes: if ignored.is_empty() {
            Vec::new()
        } else {
            vec![format!(
                "{}: columns not read by mixfarm, passed through to the reports: {}",
                path.display(),
                ignored.join(", ")
            )]
        },
    })
}

/// Output names: `NN - Title` for numbered tracks, the title otherwise; must be unique.
fn name_outputs(mut tracks: Vec<Track>, origin: &Path) -> Result<Vec<Track>> {
    let mut seen = HashSet::new();
    for t in &mut tracks {
        t.output_stem = match t.track_number {
            Some(n) => safe_file_name(&format!("{n:02} - {}", t.title)),
            None => safe_file_name(&t.title),
        };
        if !seen.insert(t.output_stem.to_lowercase()) {
            return Err(Error::Scene {
                path: origin.to_path_buf(),
                line: t.line,
                message: format!("two tracks would both be written as '{}'", t.output_stem),
            });
        }
    }
    Ok(tracks)
}
