//! Loudness measurement (ITU-R BS.1770 / EBU R128): one K-weighting pass per channel
//! ([`crate::ops::meter`]: sub-block energies of about 1 ms), from which integrated
//! loudness, loudness range and the momentary and short-term maxima are formed on the host
//! ([`gating`]); true peak from mixfarm's one interpolator ([`crate::ops::oversample`], the
//! limiter's detector) and sample peak. [`measure_with_curves`] keeps the same meters over
//! time for the reports ([`curves`]: per hop, from the same passes) and adds the long-term
//! spectrum. How a song is brought to a target is [`crate::engine::closing`]. Conformance:
//! tests/ebu_loudness.rs (EBU Tech 3341 and 3342), and the ebur128 crate as an independent
//! meter in the tests.
//!
//! **Channels** ([`weights`]): mono, stereo (L R), 3.0 (L R C), 4.0 (L R Ls Rs), 5.0
//! (L R C Ls Rs) and 5.1 (L R C LFE Ls Rs) with the BS.1770 weights (surrounds 1.41, LFE
//! excluded). **Mono is measured as dual-mono** (counted twice, +3.01 dB over counting it
//! once): mixfarm plays a mono song as centred stereo (the same signal on both channels),
//! and that stereo file measures exactly what its mono source measured, so `analyze`,
//! `master`'s input figures and the output agree. ffmpeg's `ebur128` filter counts mono
//! once by default (3.01 LU lower); `ebur128=dualmono=true` reads as mixfarm does.

pub mod curves;
pub mod gating;
pub mod metering;

pub use curves::{Bands, Curves};
pub use gating::{Blocks, Gating};

use crate::error::{Error, Result};

/// Loudness figures of a signal. `None` where the measure is undefined (−∞: silence, or too
/// short for a 400 ms gating block).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Loudness {
    /// integrated loudness, LUFS
    pub integrated_lufs: Option<f64>,
    /// loudness range, LU
    pub loudness_range_lu: Option<f64>,
    /// maximum momentary loudness (400 ms windows ending on every ~1 ms sub-block), LUFS
    pub momentary_max_lufs: Option<f64>,
    /// maximum short-term loudness (3 s windows ending on every ~1 ms sub-block), LUFS
    pub short_term_max_lufs: Option<f64>,
    /// true peak over all channels (16× reconstruction, [`crate::ops::oversample`]), dBTP
    /// (−∞ for silence, JSON `null`)
    #[serde(deserialize_with = "null_as_silence")]
    pub true_peak_dbtp: f64,
    /// sample peak over all channels, dBFS (−∞ for silence, JSON `null`)
    #[serde(deserialize_with = "null_as_silence")]
    pub sample_peak_dbfs: f64,
}

impl Loudness {
    /// Figures not measured yet (undefined loudness, NaN levels): a placeholder until a
    /// Plan's meters read them.
    pub fn unmeasured() -> Loudness {
        Loudness {
            integrated_lufs: None,
            loudness_range_lu: None,
            momentary_max_lufs: None,
            short_term_max_lufs: None,
            true_peak_dbtp: f64::NAN,
            sample_peak_dbfs: f64::NAN,
        }
    }
}

/// Reads a level written by serde_json, which writes −∞ (silence) as `null`.
fn null_as_silence<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    let v: Option<f64> = serde::Deserialize::deserialize(d)?;
    Ok(v.unwrap_or(f64::NEG_INFINITY))
}

/// The BS.1770 weight of each of `channels` channels, in the file's order: mono (counted
/// twice: dual-mono), stereo (L R), 3.0 (L R C), 4.0 (L R Ls Rs), 5.0 (L R C Ls Rs), 5.1
/// (L R C LFE Ls Rs): surrounds 1.41, LFE 0, the others 1. An error for layouts without a
/// BS.1770 map (more than six channels).
pub fn weights(channels: usize) -> Result<Vec<f64>> {
    const S: f64 = 1.41;
    Ok(match channels {
        1 => vec![2.0],
        2 => vec![1.0, 1.0],
        3 => vec![1.0, 1.0, 1.0],
        4 => vec![1.0, 1.0, S, S],
        5 => vec![1.0, 1.0, 1.0, S, S],
        6 => vec![1.0, 1.0, 1.0, 0.0, S, S],
        n => {
            return Err(Error::Render {
                song: String::new(),
                reason: format!(
                "loudness of {n} channels is not defined here (mono, stereo, 3.0, 4.0, 5.0, 5.1)"
            ),
            })
        }
    })
}

/// The sub-block energies of planar audio (layouts: see [`weights`]).
pub fn blocks(channels: &[Vec<f32>], sample_rate: u32) -> Result<Blocks> {
    Ok(Blocks::measure(
        channels,
        sample_rate,
        &weights(channels.len())?,
    ))
}

/// The gating blocks of planar audio, for integrated loudness alone; several songs'
/// can be pooled with [`Gating::integrated_multiple`] (album loudness).
pub fn gating(channels: &[Vec<f32>], sample_rate: u32) -> Result<Gating> {
    Ok(blocks(channels, sample_rate)?.gating())
}

/// Integrated loudness alone, LUFS; `None` when undefined (silence, < 400 ms).
pub fn integrated(channels: &[Vec<f32>], sample_rate: u32) -> Result<Option<f64>> {
    Ok(gating(channels, sample_rate)?.integrated())
}

/// True peak of planar audio, dBTP (−∞ for silence): the oversampler the limiter detects
/// with ([`crate::ops::oversample`]).
pub fn true_peak_dbtp(channels: &[Vec<f32>]) -> f64 {
    20.0 * f64::from(crate::ops::oversample::shared().true_peak(channels)).log10()
}

/// Measures planar audio (layouts: see [`weights`]).
pub fn measure(channels: &[Vec<f32>], sample_rate: u32) -> Result<Loudness> {
    let w = weights(channels.len())?;
    let (b, true_peak_dbtp) = rayon::join(
        || Blocks::measure(channels, sample_rate, &w),
        || true_peak_dbtp(channels),
    );
    Ok(figures(&b, true_peak_dbtp, channels))
}

/// [`measure`] of audio whose block energies were metered already (a Plan's meter stage),
/// and its true peak per hop when that was too (any hop: a Plan's true-peak meter, else it
/// is measured here).
pub fn measure_blocks(channels: &[Vec<f32>], blocks: &Blocks, peaks: Option<&[f32]>) -> Loudness {
    let tp = match peaks {
        Some(p) => 20.0 * f64::from(p.iter().fold(0.0f32, |a, &v| a.max(v))).log10(),
        None => true_peak_dbtp(channels),
    };
    figures(blocks, tp, channels)
}

/// [`measure_blocks`] without the true peak (NaN: not taken), for a caller that does not
/// read it.
pub fn measure_blocks_without_true_peak(channels: &[Vec<f32>], blocks: &Blocks) -> Loudness {
    figures(blocks, f64::NAN, channels)
}

/// The figures of audio a Plan metered without bringing it back: its meter's sub-block
/// energies and sample peak, and its true peak, both linear.
pub fn measure_read(blocks: &Blocks, true_peak: f32, sample_peak: f32) -> Loudness {
    from_blocks(
        blocks,
        20.0 * f64::from(true_peak).log10(),
        20.0 * f64::from(sample_peak).log10(),
    )
}

fn figures(b: &Blocks, true_peak_dbtp: f64, channels: &[Vec<f32>]) -> Loudness {
    from_blocks(b, true_peak_dbtp, sample_peak_dbfs(channels))
}

/// The figures from the gating blocks and the two peaks.
fn from_blocks(b: &Blocks, true_peak_dbtp: f64, sample_peak_dbfs: f64) -> Loudness {
    let win = b.windows(None);
    Loudness {
        integrated_lufs: b.gating().integrated(),
        loudness_range_lu: b.loudness_range(),
        momentary_max_lufs: win.momentary_max_lufs,
        short_term_max_lufs: win.short_term_max_lufs,
        true_peak_dbtp,
        sample_peak_dbfs,
    }
}

/// A full measurement: the figures, the same meters over time, and the integrated-loudness
/// meter itself (for album loudness with `EbuR128::loudness_global_multiple`).
pub struct Measured {
    /// the figures
    pub loudness: Loudness,
    /// the meters over time and the long-term spectrum
    pub curves: Curves,
    /// the long-term spectrum at full precision (the curves keep it rounded)
    pub spectrum: crate::ops::match_eq::Spectrum,
    /// the gating blocks that gave the integrated loudness (album loudness pools them)
    pub gating: Gating,
}

/// [`measure`] and, from the same passes, the meters over time ([`curves`]); the long-term
/// spectrum runs beside them on the audio in memory.
pub fn measure_with_curves(channels: &[Vec<f32>], sample_rate: u32) -> Result<Measured> {
    let weights = weights(channels.len())?;
    // the meter, the true peak and the spectrum side by side (each its own pass)
    let (b, (tp, spectrum)) = rayon::join(
        || Blocks::measure(channels, sample_rate, &weights),
        || peaks_and_spectrum(channels, sample_rate, None, None),
    );
    Ok(assemble(channels, sample_rate, &b, tp, spectrum))
}

/// The true peak per hop of [`curves::hop_frames`] (`peaks` when a Plan metered it) and the
/// long-term spectrum (`spectrum` when taken already), the two side by side.
fn peaks_and_spectrum(
    channels: &[Vec<f32>],
    sample_rate: u32,
    peaks: Option<&[f32]>,
    spectrum: Option<crate::ops::match_eq::Spectrum>,
) -> (Vec<f32>, crate::ops::match_eq::Spectrum) {
    let frames = channels.first().map_or(0, |c| c.len());
    let hop = curves::hop_frames(frames, sample_rate);
    rayon::join(
        || match peaks {
            Some(p) => p.to_vec(),
            None => crate::ops::oversample::shared().true_peak_per_hop(channels, hop),
        },
        || {
            spectrum
                .unwrap_or_else(|| crate::ops::match_eq::long_term_spectrum(channels, sample_rate))
        },
    )
}

/// [`measure_with_curves`] of audio whose block energies were metered already, and its
/// true peak per hop of [`curves::hop_frames`] when that was too (a Plan's true-peak meter;
/// else it is measured here).
pub fn measure_blocks_with_curves(
    channels: &[Vec<f32>],
    sample_rate: u32,
    b: &Blocks,
    peaks: Option<&[f32]>,
) -> Measured {
    measure_blocks_with_curves_and_spectrum(channels, sample_rate, b, peaks, None)
}

/// [`measure_blocks_with_curves`], with the long-term spectrum when it was taken already.
pub fn measure_blocks_with_curves_and_spectrum(
    channels: &[Vec<f32>],
    sample_rate: u32,
    b: &Blocks,
    peaks: Option<&[f32]>,
    spectrum: Option<crate::ops::match_eq::Spectrum>,
) -> Measured {
    let (tp, spectrum) = peaks_and_spectrum(channels, sample_rate, peaks, spectrum);
    assemble(channels, sample_rate, b, tp, spectrum)
}

/// The figures and curves from the block energies `b`, the true peak per hop `tp` and the
/// spectrum.
fn assemble(
    channels: &[Vec<f32>],
    sample_rate: u32,
    b: &Blocks,
    tp: Vec<f32>,
    spectrum: crate::ops::match_eq::Spectrum,
) -> Measured {
    let frames = channels.first().map_or(0, |c| c.len());
    let hop = curves::hop_frames(frames, sample_rate);
    let db = |v: f32| 20.0 * f64::from(v).log10();
    let w = b.windows(Some(hop));
    let gating = b.gating();
    let loudness = Loudness {
        integrated_lufs: gating.integrated(),
        loudness_range_lu: b.loudness_range(),
        momentary_max_lufs: w.momentary_max_lufs,
        short_term_max_lufs: w.short_term_max_lufs,
        true_peak_dbtp: db(tp.iter().fold(0.0f32, |a, &v| a.max(v))),
        sample_peak_dbfs: sample_peak_dbfs(channels),
    };
    let round = |v: &[Option<f64>]| v.iter().map(|&x| curves::round_db(x)).collect();
    let curves = Curves {
        hop_s: hop as f64 / f64::from(sample_rate),
        momentary_lufs: round(&w.momentary_lufs),
        short_term_lufs: round(&w.short_term_lufs),
        true_peak_dbtp: tp.iter().map(|&v| curves::round_db(Some(db(v)))).collect(),
        spectrum: Bands::new(&spectrum.band_hz, &spectrum.level_db),
    };
    Measured {
        loudness,
        curves,
        spectrum,
        gating,
    }
}

fn sample_peak_dbfs(channels: &[Vec<f32>]) -> f64 {
    let sp = channels
        .iter()
        .flatten()
        .fold(0.0f32, |p, &v| p.max(v.abs()));
    20.0 * f64::from(sp).log10()
}

/// The normalisation decided for a master.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Normalisation {
    /// loudness before, LUFS (`None`: silent or too short)
    pub input_lufs: Option<f64>,
    /// true peak before, dBTP
    pub input_true_peak_dbtp: f64,
    /// gain applied, dB
    pub gain_db: f64,
    /// true when the ceiling, not the target, set the gain
    pub limited_by_ceiling: bool,
    /// largest gain reduction of the mastering limiter, dB (`None`: no limiter)
    pub limiter_reduction_db: Option<f64>,
}
