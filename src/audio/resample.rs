//! Sample-rate conversion of sources as they are read for a render: rubato's synchronous
//! FFT resampler (band-limited, fixed ratio, Blackman-Harris² window), in f64, fed as the
//! audio arrives ([`StreamResampler`], 1024-frame chunks cut in ~256-frame FFT blocks). The
//! output is what rubato's `process_all` gives for the whole clip (same chunks, the
//! resampler's delay trimmed), `round(frames · to / from)` frames long.
//!
//! The conversion of a finished master to its delivery rate ([`resample_delivery`]) is
//! mixfarm's own polyphase converter ([`crate::ops::resample`]), whose GPU twin converts a
//! master kept on the GPU. Measured by `tests/delivery_rate.rs` (48 kHz ⇄ 44.1 kHz, sines
//! through the converter against their exact values): see the README's catalog section for
//! the passband and stopband figures.

use std::path::{Path, PathBuf};

use rubato::audioadapter_buffers::direct::SequentialSliceOfVecs;
use rubato::{Fft, FixedSync, Indexing, Resampler};

use crate::error::{Error, Result};
use crate::plan::Planar;

/// Chunk size of the FFT resampler, in input frames.
const CHUNK_FRAMES: usize = 1024;

/// Converts planar audio from `from_hz` to `to_hz` with the delivery converter
/// ([`crate::ops::resample`], the CPU twin of the GPU's: a master kept on the GPU is
/// converted there with the same bits); `path` names the song in errors.
pub fn resample_delivery(
    path: &Path,
    channels: &[Vec<f32>],
    from_hz: u32,
    to_hz: u32,
) -> Result<Planar> {
    if from_hz == to_hz || channels.is_empty() {
        return Ok(channels.to_vec());
    }
    let filter = crate::ops::resample::Filter::new(from_hz, to_hz)
        .map_err(|reason| Error::input(path, format!("cannot convert the rate: {reason}")))?;
    let frames = channels.iter().map(Vec::len).max().unwrap_or(0);
    let n = crate::ops::resample::output_frames(frames, from_hz, to_hz);
    Ok(channels
        .iter()
        .map(|x| crate::ops::resample::cpu::resample(&filter, x, n))
        .collect())
}

/// Resamples planar audio from `from_hz` to `to_hz`; `path` names the file in errors.
pub fn resample(path: &Path, channels: &[Vec<f32>], from_hz: u32, to_hz: u32) -> Result<Planar> {
    if from_hz == to_hz || channels.is_empty() {
        return Ok(channels.to_vec());
    }
    let mut out = vec![Vec::new(); channels.len()];
    let mut r = StreamResampler::new(path, channels.len(), from_hz, to_hz)?;
    r.push(channels, &mut out)?;
    r.finish(&mut out)?;
    Ok(out)
}

/// Output frames for `frames` input frames: `round(frames · to / from)`, so lengths do not
/// drift by one.
pub fn output_frames(frames: u64, from_hz: u32, to_hz: u32) -> u64 {
    if from_hz == to_hz {
        return frames;
    }
    ((u128::from(frames) * u128::from(to_hz) + u128::from(from_hz) / 2) / u128::from(from_hz))
        as u64
}

/// A resampler fed chunk by chunk; output frames are appended to the caller's buffer as they
/// are ready.
pub struct StreamResampler {
    path: PathBuf,
    from_hz: u32,
    to_hz: u32,
    chunk_frames: usize,
    r: Fft<f64>,
    /// input not yet processed
    input: Vec<Vec<f64>>,
    /// one call's output
    scratch: Vec<Vec<f64>>,
    /// output frames still to drop (the resampler's delay)
    to_trim: usize,
    frames_in: u64,
    frames_out: u64,
}

impl StreamResampler {
    /// A resampler for `channels` channels from `from_hz` to `to_hz`.
    pub fn new(path: &Path, channels: usize, from_hz: u32, to_hz: u32) -> Result<StreamResampler> {
        let sub_chunks = (CHUNK_FRAMES / 256).max(1);
        Self::with_blocks(path, channels, from_hz, to_hz, CHUNK_FRAMES, sub_chunks)
    }

    /// A resampler fed `chunk_frames` input frames at a time, each cut in `sub_chunks` FFT
    /// blocks (fewer, longer blocks: a longer filter, a cutoff nearer Nyquist).
    fn with_blocks(
        path: &Path,
        channels: usize,
        from_hz: u32,
        to_hz: u32,
        chunk_frames: usize,
        sub_chunks: usize,
    ) -> Result<StreamResampler> {
        let r = Fft::<f64>::new_custom(
            from_hz as usize,
            to_hz as usize,
            chunk_frames,
            sub_chunks,
            channels,
            rubato::WindowFunction::BlackmanHarris2,
            FixedSync::Input,
        )
        .map_err(|e| fail(path, from_hz, to_hz, e.to_string()))?;
        Ok(StreamResampler {
            path: path.to_path_buf(),
            from_hz,
            to_hz,
            chunk_frames,
            to_trim: r.output_delay(),
            scratch: vec![vec![0.0; r.output_frames_max()]; channels],
            input: vec![Vec::new(); channels],
            r,
            frames_in: 0,
            frames_out: 0,
        })
    }

    /// Feeds `x` (planar, this resampler's channel count); appends what is ready to `out`.
    pub fn push(&mut self, x: &[Vec<f32>], out: &mut Planar) -> Result<()> {
        for (i, c) in self.input.iter_mut().zip(x) {
            i.extend(c.iter().map(|&v| f64::from(v)));
        }
        self.frames_in += x.first().map_or(0, |c| c.len() as u64);
        // like `process_all`, a last chunk of exactly `chunk_frames` is left for `finish`
        while self.input[0].len() > self.chunk_frames {
            let n_in = self.step(None, out)?;
            for c in &mut self.input {
                c.drain(..n_in);
            }
        }
        Ok(())
    }

    /// Ends the input: processes what is left and appends the rest of the output to `out`.
    pub fn finish(&mut self, out: &mut Planar) -> Result<()> {
        let total = output_frames(self.frames_in, self.from_hz, self.to_hz);
        let left = self.input[0].len();
        if left > 0 {
            self.step(Some(left), out)?;
            for c in &mut self.input {
                c.clear();
            }
        }
        while self.frames_out < total {
            self.step(Some(0), out)?;
        }
        // drop what the last call gave past the clip's end
        let extra = (self.frames_out - total) as usize;
        for c in out.iter_mut() {
            c.truncate(c.len() - extra.min(c.len()));
        }
        self.frames_out = total;
        Ok(())
    }

    /// One resampler call on the head of the input (`partial`: frames of it that are real,
    /// the rest zeros). Returns input frames used.
    fn step(&mut self, partial: Option<usize>, out: &mut Planar) -> Result<usize> {
        let ch = self.input.len();
        let frames = self.input[0].len().min(self.r.input_frames_next());
        let (path, from, to) = (&self.path, self.from_hz, self.to_hz);
        let adapter_in = SequentialSliceOfVecs::new(&self.input, ch, frames)
            .map_err(|e| fail(path, from, to, e.to_string()))?;
        let max = self.scratch[0].len();
        let mut adapter_out = SequentialSliceOfVecs::new_mut(&mut self.scratch, ch, max)
            .map_err(|e| fail(path, from, to, e.to_string()))?;
        let indexing = Indexing {
            input_offset: 0,
            output_offset: 0,
            active_channels_mask: None,
            partial_len: partial,
        };
        let (n_in, n_out) = self
            .r
            .process_into_buffer(&adapter_in, &mut adapter_out, Some(&indexing))
            .map_err(|e| fail(path, from, to, e.to_string()))?;
        let skip = self.to_trim.min(n_out);
        self.to_trim -= skip;
        for (o, s) in out.iter_mut().zip(&self.scratch) {
            o.extend(s[skip..n_out].iter().map(|&v| v as f32));
        }
        self.frames_out += (n_out - skip) as u64;
        Ok(n_in.min(self.input[0].len()))
    }
}

fn fail(path: &Path, from_hz: u32, to_hz: u32, what: String) -> Error {
    Error::input(
        path,
        format!("cannot resample {from_hz} Hz → {to_hz} Hz: {what}"),
    )
}
