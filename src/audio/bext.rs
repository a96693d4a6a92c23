//! The Broadcast Wave Format `bext` chunk (EBU Tech 3285, version 2) with its loudness
//! fields (EBU R 128 values: integrated loudness, loudness range, maximum true peak, maximum
//! momentary and short-term loudness), and its insertion before a WAV file's `data` chunk.
//! Host-only, no shader twin.
//!
//! Layout (little-endian, 602 bytes before the coding history): Description 256,
//! Originator 32, OriginatorReference 32, OriginationDate 10, OriginationTime 8,
//! TimeReference 8 (low, high), Version 2, UMID 64, LoudnessValue, LoudnessRange,
//! MaxTruePeakLevel, MaxMomentaryLoudness, MaxShortTermLoudness (each a signed 16-bit value
//! × 100; 0x7FFF when unknown), Reserved 180, then the CodingHistory text. The origination
//! date is the song's date tag when that is a full `YYYY-MM-DD` date, else left empty
//! (renders stay byte-identical run to run); the time is left empty.

use std::path::Path;

use crate::loudness::Loudness;

/// Size of the fixed part of a version-2 `bext` body, bytes.
pub const BEXT_FIXED_BYTES: usize = 602;
/// Byte offset of LoudnessValue in the `bext` body.
pub const LOUDNESS_OFFSET: usize = 256 + 32 + 32 + 10 + 8 + 8 + 2 + 64;
/// The "not set" value of a loudness field.
pub const UNSET: i16 = 0x7fff;

/// What a `bext` chunk records.
#[derive(Debug, Clone, Default)]
pub struct Bext {
    /// Description (at most 256 ASCII bytes: longer text is cut)
    pub description: String,
    /// OriginationDate, `YYYY-MM-DD`, or empty
    pub origination_date: String,
    /// the output's loudness
    pub loudness: Option<Loudness>,
    /// CodingHistory, one line (CR LF added)
    pub coding_history: String,
}

/// A value × 100 as the field's signed 16-bit integer (`UNSET` when unknown or out of range).
fn centi(v: Option<f64>) -> i16 {
    match v {
        Some(x) if x.is_finite() && (x * 100.0).abs() < 32767.0 => (x * 100.0).round() as i16,
        _ => UNSET,
    }
}

fn put_text(out: &mut Vec<u8>, s: &str, len: usize) {
    let mut b: Vec<u8> = s.bytes().filter(u8::is_ascii).take(len).collect();
    b.resize(len, 0);
    out.extend(b);
}

impl Bext {
    /// The chunk's body (no chunk header).
    pub fn body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(BEXT_FIXED_BYTES + 64);
        put_text(&mut out, &self.description, 256);
        put_text(&mut out, crate::audio::tags::VENDOR, 32);
        put_text(&mut out, "", 32);
        let date = &self.origination_date;
        let full_date = date.len() == 10
            && date.bytes().enumerate().all(|(i, c)| {
                if i == 4 || i == 7 {
                    c == b'-'
                } else {
                    c.is_ascii_digit()
                }
            });
        put_text(&mut out, if full_date { date } else { "" }, 10);
        put_text(&mut out, "", 8);
        out.extend_from_slice(&[0; 8]); // TimeReference
        out.extend_from_slice(&2u16.to_le_bytes()); // Version
        out.extend_from_slice(&[0; 64]); // UMID
        let l = self.loudness.as_ref();
        for v in [
            l.and_then(|l| l.integrated_lufs),
            l.and_then(|l| l.loudness_range_lu),
            l.map(|l| l.true_peak_dbtp),
            l.and_then(|l| l.momentary_max_lufs),
            l.and_then(|l| l.short_term_max_lufs),
        ] {
            out.extend_from_slice(&centi(v).to_le_bytes());
        }
        out.extend_from_slice(&[0; 180]);
        if !self.coding_history.is_empty() {
            out.extend(self.coding_history.bytes().filter(u8::is_ascii));
            out.extend_from_slice(b"\r\n");
        }
        out
    }
}

/// Inserts a `bext` chunk with `body` before the `data` chunk of the WAV file at `path` and
/// fixes the RIFF size.
pub fn insert_before_data(path: &Path, body: &[u8]) -> Result<(), String> {
    let mut b = std::fs::read(path).map_err(|e| e.to_string())?;
    insert_before_data_in(&mut b, body)?;
    std::fs::write(path, &b).map_err(|e| e.to_string())
}

/// [`insert_before_data`] for a WAV file held in memory (`b`: the whole file).
pub fn insert_before_data_in(b: &mut Vec<u8>, body: &[u8]) -> Result<(), String> {
    if b.len() < 12 || &b[..4] != b"RIFF" || &b[8..12] != b"WAVE" {
        return Err("not a RIFF/WAVE file".into());
    }
    let mut at = 12;
    let data_at = loop {
        if at + 8 > b.len() {
            return Err("no data chunk".into());
        }
        if &b[at..at + 4] == b"data" {
            break at;
        }
        let size = u32::from_le_bytes([b[at + 4], b[at + 5], b[at + 6], b[at + 7]]) as usize;
        at += 8 + size + size % 2;
    };
    let mut chunk = b"bext".to_vec();
    chunk.extend_from_slice(&(body.len() as u32).to_le_bytes());
    chunk.extend_from_slice(body);
    if body.len() % 2 == 1 {
        chunk.push(0);
    }
    b.splice(data_at..data_at, chunk);
    let riff = u32::try_from(b.len() - 8).map_err(|_| "WAV file over 4 GiB".to_string())?;
    b[4..8].copy_from_slice(&riff.to_le_bytes());
    Ok(())
}
