//! Each source file's own tags merged into the catalog, field by field: what a manifest
//! gives wins, the source's tags fill what it leaves out (title, artist, track number, ISRC,
//! date; album artist, disc, genre and cover art travel in `Track::source`). In folder mode
//! an album whose files all carry distinct track numbers is ordered and numbered by them
//! (disc first), else by file name. A title from no tag is the file stem less a leading
//! track number. Output names are `NN - Title` (`D-NN - Title` on multi-disc albums) in
//! every mode. Cover art is shared between the songs that carry the
//! same picture. CPU only; no shader mirrored.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::manifest::{safe_file_name, Album, Catalog, Track};
use crate::audio::tags::read_tags;
use crate::error::{Error, Result};

/// Reads every track's source tags into `cat` (see the module docs). A file whose tags
/// cannot be read keeps the manifest's or folder's values; an ISRC that is not a valid code
/// is left out. Both are told in `cat.notes`.
pub fn merge_source_tags(cat: &mut Catalog) -> Result<()> {
    let mut covers: HashMap<String, Arc<Vec<u8>>> = HashMap::new();
    let from_manifest = cat.manifest.is_some();
    for album in &mut cat.albums {
        for t in &mut album.tracks {
            if !t.file.is_file() {
                continue; // missing or unreadable: listed before any work, fails alone
            }
            let (mut src, bad_isrc) = match read_tags(&t.file) {
                Ok(x) => x,
                Err(e) => {
                    cat.notes
                        .push(format!("{}: {e}; no source tags kept", t.file.display()));
                    (Default::default(), None)
                }
            };
            if let Some(e) = bad_isrc {
                cat.notes.push(format!(
                    "{}: its ISRC tag is left out: {e}",
                    t.file.display()
                ));
            }
            if let Some(c) = &mut src.cover {
                let h = crate::core::hash::sha256_hex(&c.data);
                let shared = covers.entry(h).or_insert_with(|| c.data.clone());
                c.data = shared.clone();
            }
            fill(t, &src, from_manifest);
            t.source = src;
        }
        if !from_manifest && !album.singles {
            number_folder_album(album);
        } else if from_manifest {
            // numbers a source gave join the manifest's order: numbered first, by number
            album
                .tracks
                .sort_by_key(|t| (t.track_number.is_none(), t.track_number, t.line));
        }
        if album.artist.is_none() {
            album.artist = common(album, |t| t.source.album_artist.clone());
        }
        name_outputs(album)?;
    }
    Ok(())
}

/// A title from a file stem: a leading track number and its separators (`01 loud`,
/// `01 - loud`, `01. loud`, `01_loud`) are dropped, since the output name numbers the track.
fn title_from_stem(stem: &str) -> String {
    let digits = stem.chars().take_while(char::is_ascii_digit).count();
    let rest = &stem[digits..];
    let body = rest.trim_start_matches([' ', '-', '.', '_']);
    if (1..=3).contains(&digits) && body.len() < rest.len() && !body.is_empty() {
        body.to_string()
    } else {
        stem.to_string()
    }
}

/// Fills the fields the manifest (or folder) left empty from the source's tags; a title
/// from neither is the file stem less a leading track number.
fn fill(t: &mut Track, src: &crate::audio::tags::Tags, from_manifest: bool) {
    if !t.title_given {
        t.title = match &src.title {
            Some(title) => title.clone(),
            None => title_from_stem(&t.title),
        };
    }
    t.artist = t.artist.take().or_else(|| src.artist.clone());
    t.isrc = t.isrc.take().or_else(|| src.isrc.clone());
    t.date = t.date.take().or_else(|| src.date.clone());
    if from_manifest {
        // a manifest row without a track number takes the source's; folder albums are
        // numbered as a whole (`number_folder_album`)
        t.track_number = t.track_number.or(src.track_number);
    }
}

/// The value `f` gives every track of `album`, if they agree and one has it.
fn common(album: &Album, f: impl Fn(&Track) -> Option<String>) -> Option<String> {
    let first = f(album.tracks.first()?)?;
    album
        .tracks
        .iter()
        .all(|t| f(t).as_deref() == Some(&first))
        .then_some(first)
}

/// A folder album: ordered and numbered by its files' (disc, track) tags when every file
/// has a track number and no two share one, else kept in file-name order numbered from 1.
fn number_folder_album(album: &mut Album) {
    let key = |t: &Track| Some((t.source.disc_number.unwrap_or(1), t.source.track_number?));
    let keys: Option<Vec<(u32, u32)>> = album.tracks.iter().map(key).collect();
    let distinct = keys
        .as_ref()
        .is_some_and(|k| k.iter().collect::<HashSet<_>>().len() == k.len());
    if distinct {
        album.tracks.sort_by_key(|t| key(t).unwrap_or_default());
        for t in &mut album.tracks {
            t.track_number = t.source.track_number;
        }
    }
}

/// `NN - Title` (`D-NN - Title` when the album spans discs), or the title alone for a track
/// without a number; two tracks of one album may not get the same name.
fn name_outputs(album: &mut Album) -> Result<()> {
    let discs: HashSet<u32> = album
        .tracks
        .iter()
        .map(|t| t.source.disc_number.unwrap_or(1))
        .collect();
    let mut seen = HashSet::new();
    for t in &mut album.tracks {
        t.output_stem = match (t.track_number, discs.len() > 1) {
            (Some(n), true) => safe_file_name(&format!(
                "{}-{n:02} - {}",
                t.source.disc_number.unwrap_or(1),
                t.title
            )),
            (Some(n), false) => safe_file_name(&format!("{n:02} - {}", t.title)),
            (None, _) => safe_file_name(&t.title),
        };
        if !seen.insert(t.output_stem.to_lowercase()) {
            return Err(Error::input(
                &t.file,
                format!(
                    "two tracks of '{}' would both be written as '{}'",
                    album.title, t.output_stem
                ),
            ));
        }
    }
    Ok(())
}
