//! WAV output past 4 GiB: a RIFF/WAVE file states its sizes in 32 bits, so a master whose
//! audio would not fit is written as RF64 (EBU Tech 3306: `RF64` marker, the 64-bit RIFF and
//! `data` sizes in a `ds64` chunk, the 32-bit ones set to 0xFFFFFFFF), as mixfarm's own
//! reader ([`super::wav_chunks`]) reads it (tested with a forced small threshold; no 4 GiB
//! file is written in the tests). CPU only; no shader mirrored.

use std::io::{BufWriter, Write};
use std::path::Path;

use super::pcm::Pcm;

/// Audio bytes above which a WAV is written as RF64: what a RIFF file can hold, less room
/// for the header and the tag chunks.
pub const RIFF_MAX_DATA_BYTES: u64 = u32::MAX as u64 - (1 << 20);

/// Bytes of audio `pcm` takes in a WAV file.
pub fn data_bytes(pcm: &Pcm) -> u64 {
    pcm.len_samples() as u64 * u64::from(pcm.bits() / 8)
}

/// Writes `pcm` at `sample_rate` to `path` as an RF64 file, followed by the RIFF chunks
/// `chunks` (tags, already laid out, see [`super::tags::wav_tag_chunks`]).
pub fn write_rf64(path: &Path, pcm: &Pcm, sample_rate: u32, chunks: &[u8]) -> std::io::Result<()> {
    let channels = pcm.channels() as u16;
    let bits = pcm.bits() as u16;
    let block_align = channels * (bits / 8);
    let data_len = data_bytes(pcm);
    let pad = data_len % 2;
    // RF64 marker and form, ds64 (8 + 28), fmt (8 + 16), data header (8)
    let header_len: u64 = 12 + 36 + 24 + 8;
    let riff_len = header_len + data_len + pad + chunks.len() as u64 - 8;
    let mut w = BufWriter::new(std::fs::File::create(path)?);
    w.write_all(b"RF64")?;
    w.write_all(&u32::MAX.to_le_bytes())?;
    w.write_all(b"WAVE")?;
    w.write_all(b"ds64")?;
    w.write_all(&28u32.to_le_bytes())?;
    w.write_all(&riff_len.to_le_bytes())?;
    w.write_all(&data_len.to_le_bytes())?;
    w.write_all(&(pcm.frames() as u64).to_le_bytes())?;
    w.write_all(&0u32.to_le_bytes())?; // no table of other 64-bit chunk sizes
    w.write_all(b"fmt ")?;
    w.write_all(&16u32.to_le_bytes())?;
    let tag: u16 = if matches!(pcm, Pcm::Float { .. }) {
        3
    } else {
        1
    };
    w.write_all(&tag.to_le_bytes())?;
    w.write_all(&channels.to_le_bytes())?;
    w.write_all(&sample_rate.to_le_bytes())?;
    w.write_all(&(sample_rate * u32::from(block_align)).to_le_bytes())?;
    w.write_all(&block_align.to_le_bytes())?;
    w.write_all(&bits.to_le_bytes())?;
    w.write_all(b"data")?;
    w.write_all(&u32::MAX.to_le_bytes())?;
    match pcm {
        Pcm::Float { samples, .. } => {
            for x in samples {
                w.write_all(&x.to_le_bytes())?;
            }
        }
        Pcm::Int { samples, bits, .. } => {
            let n = (*bits / 8) as usize;
            for x in samples {
                w.write_all(&x.to_le_bytes()[..n])?;
            }
        }
    }
    if pad == 1 {
        w.write_all(&[0])?;
    }
    w.write_all(chunks)?;
    w.flush()
}

/// A `LIST`/`INFO` chunk (with its pad byte) for the text tags of an RF64 file, which lofty
/// does not write: title `INAM`, artist `IART`, album `IPRD`, date `ICRD`, genre `IGNR`,
/// track `ITRK` (ISRC, cover and the rest need ID3, which RF64 readers rarely take).
pub fn info_chunk(tags: &crate::audio::tags::Tags) -> Vec<u8> {
    let track = tags.track_number.map(|n| n.to_string());
    let fields = [
        (b"INAM", tags.title.as_deref()),
        (b"IART", tags.artist.as_deref()),
        (b"IPRD", tags.album.as_deref()),
        (b"ICRD", tags.date.as_deref()),
        (b"IGNR", tags.genre.as_deref()),
        (b"ITRK", track.as_deref()),
    ];
    let mut body = b"INFO".to_vec();
    for (id, v) in fields {
        let Some(v) = v.filter(|v| !v.is_empty()) else {
            continue;
        };
        let mut text = v.as_bytes().to_vec();
        text.push(0);
        body.extend_from_slice(id);
        body.extend_from_slice(&(text.len() as u32).to_le_bytes());
        body.extend_from_slice(&text);
        if text.len() % 2 == 1 {
            body.push(0);
        }
    }
    if body.len() == 4 {
        return Vec::new();
    }
    let mut out = b"LIST".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}
