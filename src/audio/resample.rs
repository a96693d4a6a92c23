//! Sample-rate conversion with rubato's synchronous FFT resampler (band-limited, high
//! quality, fixed ratio), in f64. The whole clip goes through `process_all`, which trims the
//! resampler's delay so the output lines up with the input.

use std::path::Path;

use rubato::audioadapter::Adapter;
use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Resampler};

use crate::error::{Error, Result};
use crate::plan::Planar;

/// Chunk size of the FFT resampler, in input frames.
const CHUNK_FRAMES: usize = 1024;

/// Resamples planar audio from `from_hz` to `to_hz`; `path` names the file in errors.
pub fn resample(path: &Path, channels: &[Vec<f32>], from_hz: u32, to_hz: u32) -> Result<Planar> {
    if from_hz == to_hz || channels.is_empty() {
        return Ok(channels.to_vec());
    }
    let frames = channels[0].len();
    if frames == 0 {
        return Ok(vec![Vec::new(); channels.len()]);
    }
    let fail = |what: String| {
        Error::input(
            path,
            format!("cannot resample {from_hz} Hz → {to_hz} Hz: {what}"),
        )
    };
    let input: Vec<Vec<f64>> = channels
        .iter()
        .map(|c| c.iter().map(|&x| f64::from(x)).collect())
        .collect();
    let mut resampler = Fft::<f64>::new(
        from_hz as usize,
        to_hz as usize,
        CHUNK_FRAMES,
        input.len(),
        FixedSync::Input,
    )
    .map_err(|e| fail(e.to_string()))?;
    let adapter =
        SequentialSliceOfVecs::new(&input, input.len(), frames).map_err(|e| fail(e.to_string()))?;
    let out = resampler
        .process_all(&adapter, frames, None)
        .map_err(|e| fail(e.to_string()))?;
    // exactly round(frames · to / from) frames, so lengths do not drift by one
    let n = ((frames as u128 * u128::from(to_hz) + u128::from(from_hz) / 2) / u128::from(from_hz))
        as usize;
    Ok((0..out.channels())
        .map(|c| {
            (0..n)
                .map(|f| {
                    if f < out.frames() {
                        out.read_sample(c, f).unwrap_or(0.0) as f32
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect())
}
