//! Reading scene files: a song file, or an album (batch) file listing song files and/or
//! holding songs inline, with album defaults applied. Errors name the file, the line and
//! the field, and say what was expected.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::{AlbumFile, Defaults, Song};
use crate::error::{Error, Result};

/// A song read from a scene file, defaults applied, ready to validate and compile.
#[derive(Debug, Clone)]
pub struct LoadedSong {
    /// the file the song's text is in (the album file for inline songs)
    pub path: PathBuf,
    /// the file's text (for line numbers in later errors)
    pub text: String,
    /// folder that relative paths in the song resolve against
    pub dir: PathBuf,
    /// the song, album defaults applied
    pub song: Song,
    /// a name for logs when the song has no title (file stem, or `album#N` inline)
    pub label: String,
}

impl LoadedSong {
    /// The song's title, or its label.
    pub fn title(&self) -> String {
        self.song
            .metadata
            .title
            .clone()
            .unwrap_or_else(|| self.label.clone())
    }

    /// A scene error at a byte offset of this song's file.
    pub fn error_at(&self, offset: Option<usize>, message: impl Into<String>) -> Error {
        Error::Scene {
            path: self.path.clone(),
            line: offset.map(|o| line_of(&self.text, o)),
            message: message.into(),
        }
    }
}

/// 1-based line number of byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Parses TOML text into `T`, turning toml's error into a scene error with file and line.
pub fn parse_toml<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T> {
    toml::from_str(text).map_err(|e| Error::Scene {
        path: path.to_path_buf(),
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim().to_string(),
    })
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::Scene {
        path: path.to_path_buf(),
        line: None,
        message: format!("cannot read scene file: {e}"),
    })
}

/// True when a parsed TOML table looks like an album file rather than a song.
fn is_album(table: &toml::Table) -> bool {
    ["songs", "song", "album", "defaults"]
        .iter()
        .any(|k| table.contains_key(*k))
        && !table.contains_key("track")
}

/// Loads scene files (songs or albums) into songs. Each scene file that cannot be read
/// yields one `Err` (its songs cannot be known); the others still load.
pub fn load_batch(paths: &[PathBuf]) -> Vec<Result<LoadedSong>> {
    let mut out = Vec::new();
    for path in paths {
        match load_file(path) {
            Ok(songs) => out.extend(songs),
            Err(e) => out.push(Err(e)),
        }
    }
    out
}

/// Loads one scene file: a song file gives one song, an album file gives each of its songs
/// (a listed song file that fails gives an `Err` in its place).
pub fn load_file(path: &Path) -> Result<Vec<Result<LoadedSong>>> {
    let text = read(path)?;
    let table: toml::Table = parse_toml(path, &text)?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !is_album(&table) {
        let song: Song = parse_toml(path, &text)?;
        let s = LoadedSong {
            path: path.to_path_buf(),
            text,
            dir,
            song,
            label: stem,
        };
        return Ok(vec![super::preset::resolve(s, None)]);
    }
    let album: AlbumFile = parse_toml(path, &text)?;
    let mut songs = Vec::new();
    for (i, rel) in album.songs.iter().enumerate() {
        let song_path = dir.join(rel.get_ref());
        let loaded = (|| {
            if !song_path.is_file() {
                return Err(Error::Scene {
                    path: path.to_path_buf(),
                    line: Some(line_of(&text, rel.span().start)),
                    message: format!("songs[{i}]: song file '{}' not found", song_path.display()),
                });
            }
            let song_text = read(&song_path)?;
            let song: Song = parse_toml(&song_path, &song_text)?;
            let label = song_path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let song_dir = song_path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            Ok(LoadedSong {
                path: song_path.clone(),
                text: song_text,
                dir: song_dir,
                song,
                label,
            })
        })();
        songs.push(
            loaded
                .and_then(|s| super::preset::resolve(s, album.defaults.preset.as_deref()))
                .map(|s| apply_defaults(s, &album)),
        );
    }
    for (i, song) in album.inline_songs.iter().enumerate() {
        let s = LoadedSong {
            path: path.to_path_buf(),
            text: text.clone(),
            dir: dir.clone(),
            song: song.clone(),
            label: format!("{stem}#{}", i + 1),
        };
        songs.push(
            super::preset::resolve(s, album.defaults.preset.as_deref())
                .map(|s| apply_defaults(s, &album)),
        );
    }
    if songs.is_empty() {
        return Err(Error::scene(path, "album file lists no songs (expected `songs = [\"song.toml\", …]` or `[[song]]` tables)"));
    }
    Ok(songs)
}

fn apply_defaults(mut s: LoadedSong, album: &AlbumFile) -> LoadedSong {
    let d: &Defaults = &album.defaults;
    let song = &mut s.song;
    song.sample_rate = song.sample_rate.or(d.sample_rate);
    song.fade_in_s = song.fade_in_s.or(d.fade_in_s);
    song.fade_out_s = song.fade_out_s.or(d.fade_out_s);
    song.tail_s = song.tail_s.or(d.tail_s);
    song.output.format = song.output.format.or(d.format);
    song.master.target_lufs = song.master.target_lufs.or(d.target_lufs);
    song.master.ceiling_dbtp = song.master.ceiling_dbtp.or(d.ceiling_dbtp);
    if song.master.chain.is_none() {
        song.master.chain.clone_from(&d.master_chain);
    }
    let md = &mut song.metadata;
    if md.album.is_none() {
        md.album.clone_from(&album.album.title);
    }
    if md.artist.is_none() {
        md.artist.clone_from(&album.album.artist);
    }
    s
}
