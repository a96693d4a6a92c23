//! A song's meters over time, downsampled for the reports: momentary and short-term loudness
//! and true peak per hop (from the passes [`super::measure_with_curves`] makes anyway: the
//! window sums of [`super::window`] and the true-peak interpolator of
//! [`crate::ops::oversample`]) and the long-term spectrum (1/3-octave bands every 1/6 octave,
//! [`crate::ops::match_eq::long_term_spectrum`], an FFT pass over the audio in memory).
//! The hop grows with the song so a series holds at most [`MAX_POINTS`] values; values are
//! rounded to 0.01 dB. Stored in the sidecars, so `mixfarm report` redraws without the
//! audio. Host only; no shader.

use serde::{Deserialize, Serialize};

/// Most values a series holds (a 5-minute song: one per second).
pub const MAX_POINTS: usize = 300;
/// The hops a series may take, seconds, the shortest that keeps [`MAX_POINTS`] first.
pub const HOPS_S: [f64; 10] = [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0];

/// The hop of the series of a song of `frames` frames at `rate`, seconds.
pub fn hop_seconds(frames: usize, rate: u32) -> f64 {
    let seconds = frames as f64 / f64::from(rate.max(1));
    HOPS_S
        .iter()
        .copied()
        .find(|h| (seconds / h).ceil() as usize <= MAX_POINTS)
        .unwrap_or(HOPS_S[HOPS_S.len() - 1])
}

/// [`hop_seconds`] in frames (at least 1).
pub fn hop_frames(frames: usize, rate: u32) -> usize {
    ((hop_seconds(frames, rate) * f64::from(rate)).round() as usize).max(1)
}

/// A level rounded to 0.01 dB (`None` stays `None`: silence).
pub fn round_db(v: Option<f64>) -> Option<f32> {
    v.filter(|v| v.is_finite())
        .map(|v| ((v * 100.0).round() / 100.0) as f32)
}

/// Levels on a frequency grid (a spectrum, or a match curve).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bands {
    /// band centres, Hz, ascending
    pub hz: Vec<f32>,
    /// level (or gain) per band, dB
    pub db: Vec<f32>,
}

impl Bands {
    /// From centres and levels in f64 (levels rounded to 0.01 dB, centres to 0.1 Hz).
    pub fn new(hz: &[f64], db: &[f64]) -> Bands {
        Bands {
            hz: hz
                .iter()
                .map(|f| ((f * 10.0).round() / 10.0) as f32)
                .collect(),
            db: db
                .iter()
                .map(|&d| round_db(Some(d)).unwrap_or(0.0))
                .collect(),
        }
    }
}

/// One song's meters over time (see the module header). Element `k` of a series covers
/// `k·hop_s .. (k + 1)·hop_s`: the largest value of the windows ending (or the
/// interpolated points) in it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Curves {
    /// hop between values, seconds
    pub hop_s: f64,
    /// momentary loudness (400 ms windows), LUFS; `null`: silence
    pub momentary_lufs: Vec<Option<f32>>,
    /// short-term loudness (3 s windows), LUFS; `null`: silence
    pub short_term_lufs: Vec<Option<f32>>,
    /// true peak over all channels, dBTP; `null`: silence
    pub true_peak_dbtp: Vec<Option<f32>>,
    /// long-term spectrum (power per band, dB; 0 dB = a full-scale square's power)
    pub spectrum: Bands,
}
