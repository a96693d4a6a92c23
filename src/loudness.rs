//! Loudness measurement (ebur128: EBU R128 / ITU-R BS.1770) and normalisation of the master
//! to a target integrated loudness under a true-peak ceiling.
//!
//! Normalisation here is one gain: `target − measured` LU, clamped so the true peak after
//! the gain stays at or under the ceiling (the true-peak limiter is an insert of its own).
//! The measurement runs on the CPU for both backends (one read-back of the master).

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

/// Gain that brings `m` to `target_lufs`, clamped so the true peak stays ≤ `ceiling_dbtp`.
/// With no target (or an unmeasurable signal) the gain only enforces the ceiling.
pub fn normalisation(m: &Loudness, target_lufs: Option<f64>, ceiling_dbtp: f64) -> Normalisation {
    let want = match (target_lufs, m.integrated_lufs) {
        (Some(t), Some(i)) => t - i,
        _ => 0.0,
    };
    let headroom = ceiling_dbtp - m.true_peak_dbtp; // +inf for silence
    let gain_db = want.min(headroom);
    Normalisation {
        input_lufs: m.integrated_lufs,
        input_true_peak_dbtp: m.true_peak_dbtp,
        gain_db,
        limited_by_ceiling: gain_db < want,
        limiter_reduction_db: None,
    }
}

/// Multiplies every channel by `gain_db`.
pub fn apply_gain(channels: &mut [Vec<f32>], gain_db: f64) {
    let g = crate::ops::gain::db_to_linear(gain_db) as f32;
    for ch in channels {
        crate::ops::gain::cpu::apply(ch, g);
    }
}

/// Loudness error, LU, at which the gain-into-limiter search stops.
pub const LIMITER_SEARCH_TOLERANCE_LU: f64 = 0.01;
/// Most passes of the gain-into-limiter search (it converges in 2–4 on music).
pub const LIMITER_SEARCH_PASSES: usize = 8;

/// Next gain to try when searching the gain into a limiter that hits a loudness target.
/// The first step assumes 1 LU per dB; later steps use the secant through the last two
/// tries, because the limiter flattens the response (each extra dB in adds less than 1 LU
/// out once it works hard). The slope is kept within 0.05…1.5 LU/dB so a flat spot cannot
/// throw the gain far away.
#[derive(Debug, Clone, Copy, Default)]
pub struct GainSearch {
    prev: Option<(f64, f64)>,
}

impl GainSearch {
    /// Given the gain just tried and the loudness it gave, the gain to try next.
    pub fn next(&mut self, gain_db: f64, lufs: f64, target_lufs: f64) -> f64 {
        let slope = match self.prev {
            Some((g0, l0)) if (gain_db - g0).abs() > 1e-9 => {
                ((lufs - l0) / (gain_db - g0)).clamp(0.05, 1.5)
            }
            _ => 1.0,
        };
        self.prev = Some((gain_db, lufs));
        gain_db + (target_lufs - lufs) / slope
    }
}

/// Brings a rendered master to its delivery: with a mastering limiter, finds the gain into
/// the limiter at which the limited output measures `target_lufs` (a few passes: gain,
/// limit, measure, correct); without one, applies one gain clamped under the ceiling.
/// Returns the loudness before and after, and what was applied.
pub fn master_to_target(
    master: &mut crate::plan::Planar,
    sample_rate: u32,
    m: &crate::plan::Mastering,
) -> Result<(Loudness, Normalisation, Loudness)> {
    let before = measure(master, sample_rate)?;
    let mut norm = normalisation(&before, m.target_lufs, m.ceiling_dbtp);
    let (Some(lim), Some(target), Some(_)) = (&m.limiter, m.target_lufs, before.integrated_lufs)
    else {
        if let Some(lim) = &m.limiter {
            // no target (or silence): the limiter only guards the ceiling
            norm.gain_db = 0.0;
            norm.limited_by_ceiling = false;
            norm.limiter_reduction_db = Some(lim.process_cpu(master));
        } else {
            apply_gain(master, norm.gain_db);
        }
        let after = measure(master, sample_rate)?;
        return Ok((before, norm, after));
    };
    let mut gain_db = target - before.integrated_lufs.unwrap_or(target);
    // The search needs only the integrated loudness (gating blocks, no true-peak
    // oversampling); the full measurement runs once, on the pass kept.
    let mut best: Option<(f64, crate::plan::Planar, f64, f64)> = None;
    let mut search = GainSearch::default();
    for _ in 0..LIMITER_SEARCH_PASSES {
        let mut y = master.clone();
        apply_gain(&mut y, gain_db);
        let gr = lim.process_cpu(&mut y);
        let err = target - integrated(&y, sample_rate)?.unwrap_or(target);
        if best.as_ref().is_none_or(|b| err.abs() < b.3.abs()) {
            best = Some((gain_db, y, gr, err));
        }
        if err.abs() <= LIMITER_SEARCH_TOLERANCE_LU {
            break;
        }
        gain_db = search.next(gain_db, target - err, target);
    }
    let (gain_db, y, gr, _) = best.expect("at least one pass");
    let after = measure(&y, sample_rate)?;
    *master = y;
    norm.gain_db = gain_db;
    norm.limited_by_ceiling = false;
    norm.limiter_reduction_db = Some(gr);
    Ok((before, norm, after))
}
