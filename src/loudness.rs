//! Loudness measurement (ebur128: EBU R128 / ITU-R BS.1770): integrated loudness, range,
//! momentary and short-term maxima, true and sample peak. How a song is brought to a target
//! is [`crate::engine::closing`]. The measurement runs on the host for both backends (one
//! read-back of the master); it has no GPU twin yet.

use ebur128::{EbuR128, Mode};

use crate::error::{Error, Result};

/// Loudness figures of a signal. `None` where the measure is undefined (−∞: silence, or too
/// short for a 400 ms gating block).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Loudness {
    /// integrated loudness, LUFS
    pub integrated_lufs: Option<f64>,
    /// loudness range, LU
    pub loudness_range_lu: Option<f64>,
    /// maximum momentary loudness (400 ms), LUFS
    pub momentary_max_lufs: Option<f64>,
    /// maximum short-term loudness (3 s), LUFS
    pub short_term_max_lufs: Option<f64>,
    /// true peak over all channels, dBTP (−∞ for silence, JSON `null`)
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

/// A meter holding `channels` for integrated loudness only (BS.1770 gating, no true peak);
/// several can be combined with `EbuR128::loudness_global_multiple` (album loudness).
pub fn integrated_meter(channels: &[Vec<f32>], sample_rate: u32) -> Result<EbuR128> {
    let fail = |e: ebur128::Error| Error::Render {
        song: String::new(),
        reason: format!("loudness measurement failed: {e}"),
    };
    let mut m = EbuR128::new(channels.len() as u32, sample_rate, Mode::I).map_err(fail)?;
    let planes: Vec<&[f32]> = channels.iter().map(Vec::as_slice).collect();
    m.add_frames_planar_f32(&planes).map_err(fail)?;
    Ok(m)
}

/// Integrated loudness alone, LUFS; `None` when undefined (silence, < 400 ms).
pub fn integrated(channels: &[Vec<f32>], sample_rate: u32) -> Result<Option<f64>> {
    let m = integrated_meter(channels, sample_rate)?;
    Ok(m.loudness_global().ok().and_then(finite))
}

/// Measures planar audio.
pub fn measure(channels: &[Vec<f32>], sample_rate: u32) -> Result<Loudness> {
    let fail = |e: ebur128::Error| Error::Render {
        song: String::new(),
        reason: format!("loudness measurement failed: {e}"),
    };
    let n_ch = channels.len() as u32;
    let mode = Mode::I | Mode::LRA | Mode::M | Mode::S | Mode::TRUE_PEAK | Mode::SAMPLE_PEAK;
    let mut m = EbuR128::new(n_ch, sample_rate, mode).map_err(fail)?;
    if n_ch == 2 {
        // BS.1770 weights L and R equally; nothing to set. Mono is measured as one channel
        // (the caller places mono on both channels when it means a centred mono signal).
    }
    let slices: Vec<&[f32]> = channels.iter().map(Vec::as_slice).collect();
    let frames = slices.first().map_or(0, |c| c.len());
    // feed in chunks so the momentary/short-term maxima are tracked as the audio plays
    let chunk = (sample_rate as usize / 10).max(1);
    let (mut mmax, mut smax) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    let mut pos = 0;
    while pos < frames {
        let end = (pos + chunk).min(frames);
        let part: Vec<&[f32]> = slices.iter().map(|c| &c[pos..end]).collect();
        m.add_frames_planar_f32(&part).map_err(fail)?;
        if let Ok(v) = m.loudness_momentary() {
            mmax = mmax.max(v);
        }
        if let Ok(v) = m.loudness_shortterm() {
            smax = smax.max(v);
        }
        pos = end;
    }
    let mut tp = 0.0f64;
    let mut sp = 0.0f64;
    for c in 0..n_ch {
        tp = tp.max(m.true_peak(c).map_err(fail)?);
        sp = sp.max(m.sample_peak(c).map_err(fail)?);
    }
    Ok(Loudness {
        integrated_lufs: finite(m.loudness_global().map_err(fail)?),
        loudness_range_lu: m
            .loudness_range()
            .ok()
            .filter(|_| frames as f64 >= 3.0 * f64::from(sample_rate))
            .and_then(finite),
        momentary_max_lufs: finite(mmax),
        short_term_max_lufs: finite(smax),
        true_peak_dbtp: 20.0 * tp.log10(),
        sample_peak_dbfs: 20.0 * sp.log10(),
    })
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
    let g = crate::ops::gain::db_to_linear(gain_db) as f32;
    for ch in channels {
        crate::ops::gain::cpu::apply(ch, g);
    }
}
