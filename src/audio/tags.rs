//! Song tags and their byte layouts: the FLAC VORBIS_COMMENT block, and for WAV a
//! `LIST`/`INFO` chunk plus an `id3 ` chunk holding an ID3v2.4 tag (the only place a WAV
//! can carry an ISRC that common readers know: the `TSRC` frame). Host-only, no shader twin.
//!
//! RIFF INFO has no ISRC field: its `ISRC` id means "source" (who supplied the material), so
//! the code goes into ID3 only.

use crate::scene::Metadata;

/// Vendor string of the Vorbis comment block.
pub const VENDOR: &str = concat!("mixfarm ", env!("CARGO_PKG_VERSION"));

/// The tags written into an output file. All fields optional; no fields ⇒ no tag chunks.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Tags {
    /// song title
    pub title: Option<String>,
    /// performing artist
    pub artist: Option<String>,
    /// album title
    pub album: Option<String>,
    /// album artist
    pub album_artist: Option<String>,
    /// position on the album, from 1
    pub track_number: Option<u32>,
    /// number of tracks on the album
    pub track_total: Option<u32>,
    /// International Standard Recording Code, 12 upper-case characters, no hyphens
    pub isrc: Option<String>,
    /// release or recording date (`YYYY` or `YYYY-MM-DD`)
    pub date: Option<String>,
}

impl Tags {
    /// Tags from a scene's `[metadata]`; the ISRC is validated and normalised.
    pub fn from_metadata(md: &Metadata) -> Result<Tags, String> {
        Ok(Tags {
            title: md.title.clone(),
            artist: md.artist.clone(),
            album: md.album.clone(),
            track_number: md.track_number,
            isrc: md.isrc.as_deref().map(validate_isrc).transpose()?,
            ..Tags::default()
        })
    }

    /// Whether no field is set (then no tag block or chunk is written).
    pub fn is_empty(&self) -> bool {
        self == &Tags::default()
    }

    /// `"n"` or `"n/total"` for the ID3 TRCK frame.
    fn trck(&self) -> Option<String> {
        match (self.track_number, self.track_total) {
            (Some(n), Some(t)) => Some(format!("{n}/{t}")),
            (Some(n), None) => Some(n.to_string()),
            _ => None,
        }
    }
}

pub use crate::core::validate_isrc;

/// The fields as (Vorbis comment name, value) pairs, in a fixed order.
fn vorbis_fields(t: &Tags) -> Vec<(&'static str, String)> {
    let num = |n: Option<u32>| n.map(|n| n.to_string());
    [
        ("TITLE", t.title.clone()),
        ("ARTIST", t.artist.clone()),
        ("ALBUM", t.album.clone()),
        ("ALBUMARTIST", t.album_artist.clone()),
        ("TRACKNUMBER", num(t.track_number)),
        ("TRACKTOTAL", num(t.track_total)),
        ("ISRC", t.isrc.clone()),
        ("DATE", t.date.clone()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect()
}

/// The body of a FLAC VORBIS_COMMENT metadata block (block type 4; the 4-byte block header
/// is the caller's): vendor string, then `NAME=value` comments, lengths little-endian.
pub fn vorbis_comment_body(t: &Tags) -> Vec<u8> {
    let fields = vorbis_fields(t);
    let mut out = Vec::new();
    let put = |out: &mut Vec<u8>, s: &[u8]| {
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s);
    };
    put(&mut out, VENDOR.as_bytes());
    out.extend_from_slice(&(fields.len() as u32).to_le_bytes());
    for (k, v) in fields {
        put(&mut out, format!("{k}={v}").as_bytes());
    }
    out
}

/// A RIFF chunk: 4-character id, little-endian size, body, and a pad byte if the size is odd.
pub fn riff_chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 9);
    out.extend_from_slice(id);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    if body.len() % 2 == 1 {
        out.push(0);
    }
    out
}

/// The `LIST`/`INFO` chunk (INAM title, IART artist, IPRD album, IPRT track number, IFRM
/// track total, ICRD date, ISFT software), or `None` when no such field is set. Values are
/// UTF-8, NUL-terminated, each sub-chunk padded to an even size.
pub fn riff_info_chunk(t: &Tags) -> Option<Vec<u8>> {
    let num = |n: Option<u32>| n.map(|n| n.to_string());
    let fields: Vec<(&[u8; 4], String)> = [
        (b"INAM", t.title.clone()),
        (b"IART", t.artist.clone()),
        (b"IPRD", t.album.clone()),
        (b"IPRT", num(t.track_number)),
        (b"IFRM", num(t.track_total)),
        (b"ICRD", t.date.clone()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    if fields.is_empty() {
        return None;
    }
    let mut body = b"INFO".to_vec();
    for (id, v) in fields
        .into_iter()
        .chain(std::iter::once((b"ISFT", VENDOR.to_string())))
    {
        let mut text = v.replace('\0', "").into_bytes();
        text.push(0);
        body.extend(riff_chunk(id, &text));
    }
    Some(riff_chunk(b"LIST", &body))
}

/// A 28-bit number as ID3v2 "synchsafe" bytes (7 bits per byte).
fn synchsafe(n: usize) -> [u8; 4] {
    let n = n as u32;
    [
        ((n >> 21) & 0x7f) as u8,
        ((n >> 14) & 0x7f) as u8,
        ((n >> 7) & 0x7f) as u8,
        (n & 0x7f) as u8,
    ]
}

/// An ID3v2.4 tag with UTF-8 text frames TIT2, TPE1, TALB, TPE2, TRCK ("n/total"), TSRC,
/// TDRC, TSSE, or `None` when no tag field is set.
pub fn id3v2_tag(t: &Tags) -> Option<Vec<u8>> {
    let frames: Vec<(&[u8; 4], String)> = [
        (b"TIT2", t.title.clone()),
        (b"TPE1", t.artist.clone()),
        (b"TALB", t.album.clone()),
        (b"TPE2", t.album_artist.clone()),
        (b"TRCK", t.trck()),
        (b"TSRC", t.isrc.clone()),
        (b"TDRC", t.date.clone()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    if frames.is_empty() {
        return None;
    }
    let mut body = Vec::new();
    for (id, v) in frames
        .into_iter()
        .chain(std::iter::once((b"TSSE", VENDOR.to_string())))
    {
        let text = v.replace('\0', "");
        body.extend_from_slice(id);
        body.extend_from_slice(&synchsafe(text.len() + 1));
        body.extend_from_slice(&[0, 0]); // frame flags
        body.push(3); // text encoding: UTF-8
        body.extend_from_slice(text.as_bytes());
    }
    let mut tag = b"ID3".to_vec();
    tag.extend_from_slice(&[4, 0, 0]); // version 2.4.0, no flags
    tag.extend_from_slice(&synchsafe(body.len()));
    tag.extend(body);
    Some(tag)
}

/// The chunks appended after a WAV file's `data` chunk: `LIST`/`INFO`, then `id3 `.
/// Empty when `t` has no field set.
pub fn wav_tag_chunks(t: &Tags) -> Vec<u8> {
    let mut out = riff_info_chunk(t).unwrap_or_default();
    if let Some(id3) = id3v2_tag(t) {
        out.extend(riff_chunk(b"id3 ", &id3));
    }
    out
}
