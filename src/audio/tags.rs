//! Song tags: what a source file carries (read with lofty from Vorbis comments, ID3v2, RIFF
//! INFO or MP4 atoms) and what an output gets (written with lofty into a finished file: FLAC
//! Vorbis comments with PICTURE blocks; for WAV a `LIST`/`INFO` chunk plus an `id3 ` chunk
//! holding ID3v2, the only place a WAV carries an ISRC, cover art and ReplayGain that common
//! readers know). Host-only, no shader twin.
//!
//! RIFF INFO has no ISRC field (its `ISRC` id means "source": who supplied the material), so
//! the code goes into ID3 only; lofty's RIFF INFO mapping leaves it out.

use std::path::Path;

use lofty::config::WriteOptions;
use lofty::id3::v2::Id3v2Tag;
use lofty::iff::wav::RiffInfoList;
use lofty::ogg::tag::VorbisComments;
use lofty::picture::{MimeType, Picture, PictureType};
use lofty::prelude::*;
use lofty::tag::{Tag, TagType};

use crate::scene::Metadata;

/// Vendor string of the Vorbis comment block and the encoder-software tags.
pub const VENDOR: &str = concat!("mixfarm ", env!("CARGO_PKG_VERSION"));

/// Cover art: the image bytes and their MIME type.
#[derive(Debug, Clone, PartialEq)]
pub struct Cover {
    /// `image/jpeg`, `image/png`…
    pub mime: String,
    /// the image file's bytes (shared: an album's songs usually carry the same picture)
    pub data: std::sync::Arc<Vec<u8>>,
}

/// Serialised (into settings hashes) as its MIME type and the SHA-256 of the bytes.
impl serde::Serialize for Cover {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let h = crate::core::hash::sha256_hex(&self.data);
        s.serialize_str(&format!(
            "{} {} bytes sha256 {h}",
            self.mime,
            self.data.len()
        ))
    }
}

/// ReplayGain 2.0 values of a written song (reference −18 LUFS).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ReplayGain {
    /// −18 LUFS minus the song's integrated loudness, dB
    pub track_gain_db: f64,
    /// the song's true peak, linear full scale
    pub track_peak: f64,
    /// −18 LUFS minus the album's integrated loudness, dB (album mode)
    pub album_gain_db: Option<f64>,
    /// the album's highest true peak, linear full scale (album mode)
    pub album_peak: Option<f64>,
}

/// The ReplayGain 2.0 reference loudness, LUFS.
pub const REPLAYGAIN_REFERENCE_LUFS: f64 = -18.0;

/// The tags of a song. All fields optional; no fields ⇒ no tags written.
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
    /// position on the album (or disc), from 1
    pub track_number: Option<u32>,
    /// number of tracks on the album (or disc)
    pub track_total: Option<u32>,
    /// disc number, from 1
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disc_number: Option<u32>,
    /// number of discs
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disc_total: Option<u32>,
    /// International Standard Recording Code, 12 upper-case characters, no hyphens
    pub isrc: Option<String>,
    /// release or recording date (`YYYY` or `YYYY-MM-DD`)
    pub date: Option<String>,
    /// genre
    #[serde(skip_serializing_if = "Option::is_none")]
    pub genre: Option<String>,
    /// front cover
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cover: Option<Cover>,
    /// ReplayGain 2.0 values (`--replaygain`)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay_gain: Option<ReplayGain>,
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
}

pub use crate::core::validate_isrc;

/// Reads the tags of the audio file at `path` (every tag it holds, the primary one first:
/// the first that has a field gives it). An ISRC that is not a valid code is left out and
/// named in the second value. A file without tags gives empty tags.
pub fn read_tags(path: &Path) -> Result<(Tags, Option<String>), String> {
    let file = lofty::read_from_path(path).map_err(|e| format!("cannot read its tags: {e}"))?;
    let mut all: Vec<&Tag> = file.primary_tag().into_iter().collect();
    all.extend(
        file.tags()
            .iter()
            .filter(|t| Some(t.tag_type()) != file.primary_tag().map(Tag::tag_type)),
    );
    let text = |k: ItemKey| {
        all.iter()
            .find_map(|t| t.get_string(k))
            .map(|s| s.trim().trim_end_matches('\0').to_string())
            .filter(|s| !s.is_empty())
    };
    let num = |f: &dyn Fn(&Tag) -> Option<u32>| all.iter().find_map(|t| f(t)).filter(|&n| n > 0);
    let (isrc, bad_isrc) = match text(ItemKey::Isrc) {
        Some(i) => match validate_isrc(&i) {
            Ok(v) => (Some(v), None),
            Err(e) => (None, Some(e)),
        },
        None => (None, None),
    };
    let cover = all.iter().find_map(|t| {
        t.get_picture_type(PictureType::CoverFront)
            .or_else(|| t.pictures().first())
    });
    let tags = Tags {
        title: text(ItemKey::TrackTitle),
        artist: text(ItemKey::TrackArtist),
        album: text(ItemKey::AlbumTitle),
        album_artist: text(ItemKey::AlbumArtist),
        track_number: num(&|t| t.track()),
        track_total: num(&|t| t.track_total()),
        disc_number: num(&|t| t.disk()),
        disc_total: num(&|t| t.disk_total()),
        isrc,
        date: text(ItemKey::RecordingDate)
            .or_else(|| text(ItemKey::ReleaseDate))
            .or_else(|| text(ItemKey::Year)),
        genre: text(ItemKey::Genre),
        cover: cover.map(|p| Cover {
            mime: p
                .mime_type()
                .map_or("image/jpeg", MimeType::as_str)
                .to_string(),
            data: std::sync::Arc::new(p.data().to_vec()),
        }),
        replay_gain: None,
    };
    Ok((tags, bad_isrc))
}

/// The tags as (key, text) items in a fixed order.
fn items(t: &Tags) -> Vec<(ItemKey, String)> {
    let num = |n: Option<u32>| n.map(|n| n.to_string());
    let mut items = vec![
        (ItemKey::TrackTitle, t.title.clone()),
        (ItemKey::TrackArtist, t.artist.clone()),
        (ItemKey::AlbumTitle, t.album.clone()),
        (ItemKey::AlbumArtist, t.album_artist.clone()),
        (ItemKey::TrackNumber, num(t.track_number)),
        (ItemKey::TrackTotal, num(t.track_total)),
        (ItemKey::DiscNumber, num(t.disc_number)),
        (ItemKey::DiscTotal, num(t.disc_total)),
        (ItemKey::Isrc, t.isrc.clone()),
        (ItemKey::RecordingDate, t.date.clone()),
        (ItemKey::Genre, t.genre.clone()),
        (ItemKey::EncoderSoftware, Some(VENDOR.to_string())),
    ];
    if let Some(rg) = &t.replay_gain {
        let gain = |g: f64| format!("{g:+.2} dB");
        let peak = |p: f64| format!("{p:.6}");
        items.push((ItemKey::ReplayGainTrackGain, Some(gain(rg.track_gain_db))));
        items.push((ItemKey::ReplayGainTrackPeak, Some(peak(rg.track_peak))));
        items.push((ItemKey::ReplayGainAlbumGain, rg.album_gain_db.map(gain)));
        items.push((ItemKey::ReplayGainAlbumPeak, rg.album_peak.map(peak)));
    }
    items
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v.replace('\0', ""))))
        .collect()
}

fn cover_picture(c: &Cover) -> Picture {
    Picture::unchecked(c.data.to_vec())
        .pic_type(PictureType::CoverFront)
        .mime_type(MimeType::from_str(&c.mime))
        .build()
}

/// The tags as a lofty tag of `tag_type` (fields the type cannot hold are dropped by lofty).
fn to_lofty(t: &Tags, tag_type: TagType) -> Tag {
    let mut tag = Tag::new(tag_type);
    for (k, v) in items(t) {
        tag.insert_text(k, v);
    }
    if let Some(c) = &t.cover {
        tag.push_picture(cover_picture(c));
    }
    tag
}

/// The tags as ID3v2 frames in a fixed order. lofty's conversion of a whole tag gathers
/// frames in a hash map (their order changes run to run), so each frame is converted on its
/// own (track and disc number with their totals, as one `n/total` frame) and appended:
/// the same tags give the same bytes.
fn to_id3v2(t: &Tags) -> Id3v2Tag {
    let mut out = Id3v2Tag::default();
    let all = items(t);
    let mut i = 0;
    while i < all.len() {
        let mut mini = Tag::new(TagType::Id3v2);
        let pair = matches!(
            (&all[i].0, all.get(i + 1).map(|x| &x.0)),
            (ItemKey::TrackNumber, Some(ItemKey::TrackTotal))
                | (ItemKey::DiscNumber, Some(ItemKey::DiscTotal))
        );
        for (k, v) in &all[i..i + 1 + usize::from(pair)] {
            mini.insert_text(*k, v.clone());
        }
        i += 1 + usize::from(pair);
        for frame in Id3v2Tag::from(mini) {
            out.insert(frame);
        }
    }
    if let Some(c) = &t.cover {
        out.insert_picture(cover_picture(c));
    }
    out
}

/// Writes `tags` into the finished FLAC or WAV file at `path` (its audio untouched): FLAC
/// gets a VORBIS_COMMENT block and a PICTURE block for the cover (lofty keeps the vendor
/// string of the comment block libFLAC wrote, which names libFLAC; an `ENCODER` comment
/// names mixfarm); WAV a
/// `LIST`/`INFO` chunk and an `id3 ` chunk (ID3v2.4). Nothing is written when `tags` is empty.
pub fn write_tags(path: &Path, flac: bool, tags: &Tags) -> Result<(), String> {
    if tags.is_empty() {
        return Ok(());
    }
    let opts = WriteOptions::default();
    let e = |what: &str, e: lofty::error::FileEncodingError| format!("writing {what}: {e}");
    if flac {
        let mut vc = VorbisComments::from(to_lofty(tags, TagType::VorbisComments));
        vc.set_vendor(VENDOR.to_string());
        // lofty turns the encoder item into the vendor string, and then keeps the vendor of
        // the block libFLAC wrote: name mixfarm in an ENCODER comment as well
        vc.push("ENCODER".into(), VENDOR.to_string());
        return vc
            .save_to_path(path, opts)
            .map_err(|x| e("Vorbis comments", x));
    }
    RiffInfoList::from(to_lofty(tags, TagType::RiffInfo))
        .save_to_path(path, opts)
        .map_err(|x| e("RIFF INFO", x))?;
    to_id3v2(tags)
        .save_to_path(path, opts)
        .map_err(|x| e("ID3v2", x))
}

/// [`write_tags`] for a WAV file held in memory (`bytes`: the whole file, untagged, its
/// `data` chunk last), so a tagged WAV is written to disk once: the same chunks lofty writes
/// into a file. lofty appends them to the end of the RIFF whatever the samples are, and
/// reads and rewrites the whole file to do it: here it tags a copy of the file's header
/// with an empty `data` chunk, and what it appended there is appended to `bytes` (RIFF size
/// updated), so the samples are never copied.
pub fn write_wav_tags_in(bytes: &mut Vec<u8>, tags: &Tags) -> Result<(), String> {
    if tags.is_empty() {
        return Ok(());
    }
    match appended_tags(bytes, tags) {
        Some(tail) => {
            bytes.extend_from_slice(&tail);
            riff_size(bytes)
        }
        // not a file of that shape (or lofty wrote more than chunks at the end): lofty on
        // the whole file, which also says what is wrong with it
        None => write_wav_tags_whole(bytes, tags),
    }
}

/// The chunks lofty appends to the untagged WAV `bytes` (`data` its last chunk) when it
/// tags it, taken from its header alone; `None` unless that is all lofty did there.
fn appended_tags(bytes: &[u8], tags: &Tags) -> Option<Vec<u8>> {
    let data = last_chunk(bytes, b"data")?;
    tags_after(&bytes[..data + 8], tags)
}

/// The chunks to write after the `data` chunk (and its pad byte) of the WAV file whose
/// chunks up to the `data` chunk's header are `head`, so that it holds `tags` as lofty
/// tags it (nothing for no tags); `None` when lofty would change more than the file's end
/// (then tag the whole file, [`write_wav_tags_in`]).
pub fn wav_tag_chunks(head: &[u8], tags: &Tags) -> Option<Vec<u8>> {
    if tags.is_empty() {
        return Some(Vec::new());
    }
    tags_after(head, tags)
}

/// [`wav_tag_chunks`] for some tags: lofty run on `head` with an empty `data` chunk.
fn tags_after(head: &[u8], tags: &Tags) -> Option<Vec<u8>> {
    let data = head.len().checked_sub(8).filter(|&d| d >= 12)?;
    if &head[data..data + 4] != b"data" {
        return None;
    }
    let mut head = head.to_vec();
    head[data + 4..data + 8].copy_from_slice(&0u32.to_le_bytes());
    riff_size(&mut head).ok()?;
    let untagged = head.clone();
    write_wav_tags_whole(&mut head, tags).ok()?;
    // lofty appended its chunks and changed nothing before them but the RIFF size
    (head.len() > untagged.len() && head[8..untagged.len()] == untagged[8..])
        .then(|| head[untagged.len()..].to_vec())
}

/// Sets the RIFF size word of the file `b` (its length less 8).
fn riff_size(b: &mut [u8]) -> Result<(), String> {
    let size = u32::try_from(b.len() - 8).map_err(|_| "writing tags: the file passes 4 GiB")?;
    b[4..8].copy_from_slice(&size.to_le_bytes());
    Ok(())
}

/// Where the chunk `id` starts (its 8-byte header) when it is the last chunk of the RIFF
/// file `b` (its size word, plus a pad byte when odd, reaching the end).
fn last_chunk(b: &[u8], id: &[u8; 4]) -> Option<usize> {
    let mut at = 12;
    while at + 8 <= b.len() {
        let size = u32::from_le_bytes(b[at + 4..at + 8].try_into().ok()?) as usize;
        let end = at + 8 + size;
        if &b[at..at + 4] == id {
            return (end == b.len() || (size % 2 == 1 && end + 1 == b.len())).then_some(at);
        }
        at = end + size % 2;
    }
    None
}

/// [`write_wav_tags_in`] through lofty on the whole file in memory.
fn write_wav_tags_whole(bytes: &mut Vec<u8>, tags: &Tags) -> Result<(), String> {
    use std::io::{Cursor, Seek};
    let opts = WriteOptions::default();
    let e = |what: &str, e: lofty::error::FileEncodingError| format!("writing {what}: {e}");
    let mut file = Cursor::new(std::mem::take(bytes));
    let done = RiffInfoList::from(to_lofty(tags, TagType::RiffInfo))
        .save_to(&mut file, opts)
        .map_err(|x| e("RIFF INFO", x))
        .and_then(|()| file.rewind().map_err(|x| x.to_string()))
        .and_then(|()| {
            to_id3v2(tags)
                .save_to(&mut file, opts)
                .map_err(|x| e("ID3v2", x))
        });
    *bytes = file.into_inner();
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plain 16-bit stereo WAV of `frames` frames, its data chunk padded when odd.
    fn wav(frames: u32, channels: u16) -> Vec<u8> {
        let data = frames * u32::from(channels) * 2;
        let mut b = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&44_100u32.to_le_bytes());
        b.extend_from_slice(&(44_100 * u32::from(channels) * 2).to_le_bytes());
        b.extend_from_slice(&(channels * 2).to_le_bytes());
        b.extend_from_slice(&16u16.to_le_bytes());
        b.extend_from_slice(b"data");
        b.extend_from_slice(&data.to_le_bytes());
        b.extend((0..data).map(|i| (i * 7) as u8));
        if data % 2 == 1 {
            b.push(0);
        }
        riff_size(&mut b).unwrap();
        b
    }

    /// The tags are taken from the header alone (no whole-file pass) and give the bytes
    /// lofty writes into the whole file, with and without a pad byte after the data.
    #[test]
    fn tags_from_the_header_are_lofty_s_whole_file_bytes() {
        let tags = Tags {
            title: Some("Straße".into()),
            isrc: Some("QZMF52600003".into()),
            ..Tags::default()
        };
        for (frames, channels) in [(1001, 1), (64, 2)] {
            let b = wav(frames, channels);
            assert!(
                appended_tags(&b, &tags).is_some(),
                "{frames} frames: no fast path"
            );
            let (mut fast, mut whole) = (b.clone(), b);
            write_wav_tags_in(&mut fast, &tags).unwrap();
            write_wav_tags_whole(&mut whole, &tags).unwrap();
            assert!(fast == whole, "{frames} frames: bytes differ");
        }
    }
}
