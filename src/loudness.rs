//! Loudness measurement (ITU-R BS.1770 / EBU R128): integrated loudness and range (the
//! ebur128 crate), momentary and short-term maxima at a one-frame hop ([`window`]), true
//! peak from mixfarm's one interpolator ([`crate::ops::oversample`], the limiter's detector)
//! and sample peak. [`measure_with_curves`] keeps the same meters over time for the reports
//! ([`curves`]: per hop, from the same passes) and adds the long-term spectrum. How a song is
//! brought to a target is [`crate::engine::closing`]. The measurement runs on the host for
//! both backends (one read-back of the master); it has no GPU twin yet.
//!
//! **Channels** ([`channel_map`]): mono, stereo (L R), 3.0 (L R C), 4.0 (L R Ls Rs), 5.0
//! (L R C Ls Rs) and 5.1 (L R C LFE Ls Rs) with the BS.1770 weights (surrounds 1.41, LFE
//! excluded). **Mono is measured as dual-mono** (counted twice, +3.01 dB over counting it
//! once): mixfarm plays a mono song as centred stereo (the same signal on both channels),
//! and that stereo file measures exactly what its mono source measured, so `analyze`,
//! `master`'s input figures and the output agree. ffmpeg's `ebur128` filter counts mono
//! once by default (3.01 LU lower); `ebur128=dualmono=true` reads as mixfarm does.

pub mod curves;
pub mod window;

pub use curves::{Bands, Curves};

use ebur128::{Channel, EbuR128, Mode};

use crate::error::{Error, Result};

/// Loudness figures of a signal. `None` where the measure is undefined (−∞: silence, or too
/// short for a 400 ms gating block).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Loudness {
    /// integrated loudness, LUFS
    pub integrated_lufs: Option<f64>,
    /// loudness range, LU
    pub loudness_range_lu: Option<f64>,
    /// maximum momentary loudness (400 ms windows at a one-frame hop), LUFS
    pub momentary_max_lufs: Option<f64>,
    /// maximum short-term loudness (3 s windows at a one-frame hop), LUFS
    pub short_term_max_lufs: Option<f64>,
    /// true peak over all channels (16× reconstruction, [`crate::ops::oversample`]), dBTP
    /// (−∞ for silence, JSON `null`)
    #[serde(deserialize_with = "null_as_silence")]
    pub true_peak_dbtp: f64,
    /// sample peak over all channels, dBFS (−∞ for silence, JSON `null`)
    #[serde(deserialize_with = "null_as_silence")]
    pub sample_peak_dbfs: f64,
}

/// Reads a level written by serde_json, which writes −∞ (silence) as `null`.
fn null_as_silence<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    let v: Option<f64> = serde::Deserialize::deserialize(d)?;
    Ok(v.unwrap_or(f64::NEG_INFINITY))
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// The BS.1770 channel map for `channels` channels (see the module docs); `None` for
/// layouts without one (more than six channels).
pub fn channel_map(channels: usize) -> Option<Vec<Channel>> {
    use Channel::*;
    Some(match channels {
        1 => vec![DualMono],
        2 => vec![Left, Right],
        3 => vec![Left, Right, Center],
        4 => vec![Left, Right, LeftSurround, RightSurround],
        5 => vec![Left, Right, Center, LeftSurround, RightSurround],
        6 => vec![Left, Right, Center, Unused, LeftSurround, RightSurround],
        _ => return None,
    })
}

/// BS.1770 weight of a channel (LFE / unused 0, surrounds 1.41, dual-mono 2).
fn weight(c: Channel) -> f64 {
    match c {
        Channel::Unused => 0.0,
        Channel::LeftSurround | Channel::RightSurround => 1.41,
        Channel::DualMono => 2.0,
        _ => 1.0,
    }
}

fn fail(e: ebur128::Error) -> Error {
    Error::Render {
        song: String::new(),
        reason: format!("loudness measurement failed: {e}"),
    }
}

fn meter(channels: &[Vec<f32>], sample_rate: u32, mode: Mode) -> Result<EbuR128> {
    let map = channel_map(channels.len()).ok_or_else(|| Error::Render {
        song: String::new(),
        reason: format!(
            "loudness of {} channels is not defined here (mono, stereo, 3.0, 4.0, 5.0, 5.1)",
            channels.len()
        ),
    })?;
    let mut m = EbuR128::new(channels.len() as u32, sample_rate, mode).map_err(fail)?;
    m.set_channel_map(&map).map_err(fail)?;
    let planes: Vec<&[f32]> = channels.iter().map(Vec::as_slice).collect();
    m.add_frames_planar_f32(&planes).map_err(fail)?;
    Ok(m)
}

/// A meter holding `channels` for integrated loudness only (BS.1770 gating, no true peak);
/// several can be combined with `EbuR128::loudness_global_multiple` (album loudness).
pub fn integrated_meter(channels: &[Vec<f32>], sample_rate: u32) -> Result<EbuR128> {
    meter(channels, sample_rate, Mode::I)
}

/// Integrated loudness alone, LUFS; `None` when undefined (silence, < 400 ms).
pub fn integrated(channels: &[Vec<f32>], sample_rate: u32) -> Result<Option<f64>> {
    let m = integrated_meter(channels, sample_rate)?;
    Ok(m.loudness_global().ok().and_then(finite))
}

/// True peak of planar audio, dBTP (−∞ for silence): the oversampler the limiter detects
/// with ([`crate::ops::oversample`]).
pub fn true_peak_dbtp(channels: &[Vec<f32>]) -> f64 {
    20.0 * f64::from(crate::ops::oversample::shared().true_peak(channels)).log10()
}

/// Measures planar audio (layouts: see [`channel_map`]).
pub fn measure(channels: &[Vec<f32>], sample_rate: u32) -> Result<Loudness> {
    let m = meter(channels, sample_rate, Mode::I | Mode::LRA)?;
    let frames = channels.first().map_or(0, |c| c.len());
    let weights: Vec<f64> = m.channel_map().iter().map(|&c| weight(c)).collect();
    let ((momentary_max_lufs, short_term_max_lufs), true_peak_dbtp) = rayon::join(
        || window::maxima(channels, sample_rate, &weights),
        || true_peak_dbtp(channels),
    );
    Ok(Loudness {
        integrated_lufs: finite(m.loudness_global().map_err(fail)?),
        loudness_range_lu: range(&m, frames, sample_rate),
        momentary_max_lufs,
        short_term_max_lufs,
        true_peak_dbtp,
        sample_peak_dbfs: sample_peak_dbfs(channels),
    })
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
    /// the BS.1770 meter that measured the integrated loudness
    pub meter: EbuR128,
}

/// [`measure`] and, from the same passes, the meters over time ([`curves`]); the long-term
/// spectrum runs beside them on the audio in memory.
pub fn measure_with_curves(channels: &[Vec<f32>], sample_rate: u32) -> Result<Measured> {
    let m = meter(channels, sample_rate, Mode::I | Mode::LRA)?;
    let frames = channels.first().map_or(0, |c| c.len());
    let weights: Vec<f64> = m.channel_map().iter().map(|&c| weight(c)).collect();
    let hop = curves::hop_frames(frames, sample_rate);
    let (w, (tp, spectrum)) = rayon::join(
        || window::maxima_per_hop(channels, sample_rate, &weights, hop),
        || {
            rayon::join(
                || crate::ops::oversample::shared().true_peak_per_hop(channels, hop),
                || crate::ops::match_eq::long_term_spectrum(channels, sample_rate),
            )
        },
    );
    let db = |v: f32| 20.0 * f64::from(v).log10();
    let loudness = Loudness {
        integrated_lufs: finite(m.loudness_global().map_err(fail)?),
        loudness_range_lu: range(&m, frames, sample_rate),
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
    Ok(Measured {
        loudness,
        curves,
        spectrum,
        meter: m,
    })
}

fn range(m: &EbuR128, frames: usize, sample_rate: u32) -> Option<f64> {
    m.loudness_range()
        .ok()
        .filter(|_| frames as f64 >= 3.0 * f64::from(sample_rate))
        .and_then(finite)
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

/// Multiplies every channel by `gain_db`.
pub fn apply_gain(channels: &mut [Vec<f32>], gain_db: f64) {
    if gain_db == 0.0 {
        return; // × 1.0 changes no sample
    }
    let g = crate::ops::gain::db_to_linear(gain_db) as f32;
    for ch in channels {
        crate::ops::gain::cpu::apply(ch, g);
    }
}
