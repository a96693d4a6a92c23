//! Reference matching for `mixfarm master --reference`: the reference's long-term spectrum
//! (for the match EQ) and its integrated loudness (the target). The match EQ itself is the
//! `match_eq` operator: a linear-phase EQ stage at the head of the song's Plan (the
//! convolution engine on either backend).

use std::path::{Path, PathBuf};

use super::manifest;
use crate::ops::{eq, match_eq};

/// Reference matching: the reference's long-term spectrum and loudness. Each song goes
/// through a match EQ (linear phase, limited in dB, scaled by the strength) before its chain;
/// the reference's integrated loudness becomes the target unless `--target` is given.
#[derive(Debug, Clone)]
pub struct Reference {
    /// the reference file
    pub path: PathBuf,
    /// SHA-256 of it (part of every song's settings hash)
    pub sha256: String,
    /// 0..1
    pub strength: f64,
    /// its integrated loudness, LUFS
    pub lufs: f64,
    /// its long-term spectrum
    pub spectrum: match_eq::Spectrum,
}

impl Reference {
    /// The match EQ settings used.
    pub fn settings(&self) -> match_eq::MatchSettings {
        match_eq::MatchSettings {
            strength: self.strength,
            ..match_eq::MatchSettings::default()
        }
    }

    /// The match EQ for a song whose long-term spectrum is `song` (at `rate`): the
    /// linear-phase EQ to put before the chain (`None` when the curve is flat), a sentence
    /// for the report, and the curve itself (for the report's plot).
    pub fn match_eq(
        &self,
        song: &match_eq::Spectrum,
        rate: u32,
    ) -> (Option<eq::Eq>, String, match_eq::MatchCurve) {
        let curve = match_eq::match_curve(song, &self.spectrum, &self.settings());
        let name = self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        if curve.is_flat() {
            let note = format!(
                "match EQ toward {name}: flat (strength {:.2})",
                self.strength
            );
            return (None, note, curve);
        }
        let boost = curve.gain_db.iter().copied().fold(0.0, f64::max);
        let cut = curve.gain_db.iter().copied().fold(0.0, f64::min);
        let note = format!(
            "match EQ toward {name} at strength {:.2}: {boost:+.1} dB most boost, {cut:+.1} dB most cut",
            self.strength
        );
        (Some(curve.prepare(rate)), note, curve)
    }
}

/// Reads the reference at `path`: its long-term spectrum and integrated loudness.
pub fn reference(path: &Path, strength: f64) -> crate::Result<Reference> {
    let d = crate::audio::decode::decode_file(path)?;
    let mut x = d.channels;
    if x.len() == 1 {
        x.push(x[0].clone());
    }
    let l = crate::loudness::measure(&x, d.sample_rate)?;
    let lufs = l.integrated_lufs.ok_or_else(|| {
        crate::Error::input(
            path,
            "the reference's loudness is unmeasurable (silent or shorter than 400 ms)",
        )
    })?;
    Ok(Reference {
        path: path.to_path_buf(),
        sha256: manifest::file_sha256(path)?,
        strength,
        lufs,
        spectrum: match_eq::long_term_spectrum(&x, d.sample_rate),
    })
}
