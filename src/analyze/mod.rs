//! `mixfarm analyze`: loudness and level figures of audio files, and (from the same
//! meters) their curves over time for `--html`; the command itself is [`cmd`].

pub mod cmd;

use std::path::Path;

use serde::Serialize;

use crate::error::Result;
use crate::loudness;

/// What `mixfarm analyze` reports for one file. `None` = undefined (−∞ loudness of silence
/// or of audio shorter than a gating block; loudness range of audio under 3 s). Loudness
/// follows [`crate::loudness`]: BS.1770 channel weights up to 5.1 (LFE excluded), mono as
/// dual-mono (ffmpeg `ebur128=dualmono=true`; ffmpeg's default reads 3.01 LU lower).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// integrated loudness, LUFS
    pub integrated_lufs: Option<f64>,
    /// loudness range, LU
    pub loudness_range_lu: Option<f64>,
    /// sample peak, dBFS
    pub sample_peak_dbfs: f64,
    /// true peak (16× reconstruction, the limiter's interpolator), dBTP
    pub true_peak_dbtp: f64,
    /// RMS over all channels and the whole file, dBFS (a full-scale sine reads −3.01)
    pub rms_dbfs: f64,
    /// duration, seconds
    pub duration_s: f64,
    /// sample rate, Hz
    pub sample_rate: u32,
    /// channels
    pub channels: usize,
    /// maximum momentary loudness (400 ms windows, ~1 ms hop), LUFS
    pub momentary_max_lufs: Option<f64>,
    /// maximum short-term loudness (3 s windows, ~1 ms hop), LUFS
    pub short_term_max_lufs: Option<f64>,
    /// phase correlation between left and right (−1…1), stereo only
    pub correlation: Option<f64>,
}

/// Analyses planar audio (the path `mixfarm analyze` takes after decoding).
pub fn analyze_planar(channels: &[Vec<f32>], sample_rate: u32) -> Result<Analysis> {
    let l = loudness::measure(channels, sample_rate)?;
    Ok(figures(channels, sample_rate, &l))
}

/// The figures of planar audio from its loudness `l`.
fn figures(channels: &[Vec<f32>], sample_rate: u32, l: &loudness::Loudness) -> Analysis {
    let frames = channels.first().map_or(0, Vec::len);
    let (mut sum, mut n) = (0.0f64, 0usize);
    for ch in channels {
        sum += ch.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>();
        n += ch.len();
    }
    let correlation = (channels.len() == 2 && frames > 0)
        .then(|| crate::ops::width::correlation(&channels[0], &channels[1]));
    Analysis {
        integrated_lufs: l.integrated_lufs,
        loudness_range_lu: l.loudness_range_lu,
        sample_peak_dbfs: l.sample_peak_dbfs,
        true_peak_dbtp: l.true_peak_dbtp,
        rms_dbfs: 10.0 * (sum / n.max(1) as f64).log10(),
        duration_s: frames as f64 / f64::from(sample_rate),
        sample_rate,
        channels: channels.len(),
        momentary_max_lufs: l.momentary_max_lufs,
        short_term_max_lufs: l.short_term_max_lufs,
        correlation,
    }
}

/// A file's figures, its curves over time, and its gating blocks (for album loudness).
pub struct FileAnalysis {
    /// the figures
    pub analysis: Analysis,
    /// loudness, true peak and spectrum over time
    pub curves: loudness::Curves,
    /// the gating blocks of the integrated loudness (album loudness pools them)
    pub gating: loudness::Gating,
}

/// Decodes and analyses a file with the curves of [`loudness::measure_with_curves`].
pub fn analyze_file_with_curves(path: &Path) -> Result<FileAnalysis> {
    let d = crate::audio::decode::decode_up_to(path, SURROUND_CHANNELS)?;
    host_analysis(&d.channels, d.sample_rate)
}

/// Decodes `paths` and analyses them on `executor`: each mono or stereo file through the
/// loudness meter as a Plan ([`loudness::metering`]; the files of a call in one batch, so on
/// the GPU backend the meters run there), others (up to 5.1) on the host. The figures equal
/// [`analyze_file_with_curves`]'s bit for bit.
pub fn analyze_files_on(
    executor: &mut crate::engine::Executor,
    paths: &[&Path],
) -> Vec<Result<FileAnalysis>> {
    use rayon::prelude::*;
    let decoded: Vec<Result<crate::audio::decode::Decoded>> = paths
        .par_iter()
        .map(|p| crate::audio::decode::decode_up_to(p, SURROUND_CHANNELS))
        .collect();
    // the files metered as Plans: index, rate, the Plan's one source (channels moved in)
    let mut metered: Vec<(usize, u32, Vec<crate::plan::Planar>)> = Vec::new();
    let mut out: Vec<Option<Result<FileAnalysis>>> = decoded
        .into_iter()
        .enumerate()
        .map(|(i, d)| match d {
            Ok(d) if (1..=crate::plan::PLAN_CHANNELS).contains(&d.channels.len()) => {
                metered.push((i, d.sample_rate, vec![d.channels]));
                None
            }
            Ok(d) => Some(host_analysis(&d.channels, d.sample_rate)),
            Err(e) => Some(Err(e)),
        })
        .collect();
    let plans: Vec<crate::plan::Plan> = metered
        .iter()
        .map(|(i, rate, x)| {
            let frames = x[0].first().map_or(0, Vec::len);
            loudness::metering::plan(paths[*i], *rate, frames)
        })
        .collect();
    let feeds: Vec<crate::engine::Sources<'_>> = metered
        .iter()
        .map(|(_, _, x)| crate::engine::Sources::borrowed(x))
        .collect();
    let jobs: Vec<crate::engine::Job<'_>> = plans.iter().zip(&feeds).collect();
    let read = executor.run_read(&jobs, false);
    for ((i, rate, x), r) in metered.iter().zip(read) {
        let x = &x[0];
        out[*i] = Some(r.and_then(|r| {
            let m = loudness::metering::measured(x, *rate, &r, None)
                .map_err(|why| crate::Error::input(paths[*i], format!("metering: {why}")))?;
            Ok(FileAnalysis {
                analysis: figures(x, *rate, &m.loudness),
                curves: m.curves,
                gating: m.gating,
            })
        }));
    }
    out.into_iter()
        .zip(paths)
        .map(|(o, p)| {
            o.unwrap_or_else(|| Err(crate::Error::input(p, "the executor returned no reading")))
        })
        .collect()
}

/// [`analyze_file_with_curves`]'s figures of decoded audio, on the host.
fn host_analysis(x: &[Vec<f32>], rate: u32) -> Result<FileAnalysis> {
    let m = loudness::measure_with_curves(x, rate)?;
    Ok(FileAnalysis {
        analysis: figures(x, rate, &m.loudness),
        curves: m.curves,
        gating: m.gating,
    })
}

/// Most channels `analyze` reads (5.1; renders and masters take mono and stereo). Channels
/// come in the file's order, which BS.1770 measurement takes as L R C (LFE) Ls Rs
/// ([`crate::loudness::weights`]).
pub const SURROUND_CHANNELS: usize = 6;

/// Decodes (the render's decoder, up to 5.1) and analyses a file.
pub fn analyze_file(path: &Path) -> Result<Analysis> {
    let d = crate::audio::decode::decode_up_to(path, SURROUND_CHANNELS)?;
    analyze_planar(&d.channels, d.sample_rate)
}
