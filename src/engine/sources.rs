//! A job's sources as the executors see them: read one chunk at a time, in order
//! ([`Sources::read`]). Scenes stream their stems from disk ([`SourceStream`]: decoded and
//! resampled as the chunks are needed); `master`, benches and tests lend audio already in memory;
//! a master kept on the GPU by an earlier run ([`crate::gpu::Resident`]) is read there, on
//! the device, by the GPU executor.

use std::sync::Mutex;

use rayon::prelude::*;

use crate::audio::stream::SourceStream;
use crate::core::Planar;
use crate::error::{Error, Result};
use crate::gpu::Resident;

/// The sources of one job (index = `Stage::Load::source`).
pub struct Sources<'a> {
    feeds: Vec<Feed<'a>>,
}

enum Feed<'a> {
    Borrowed(&'a Planar),
    Stream(Box<Mutex<Streamed>>),
    Resident(Resident),
}

/// A stream and the chunk [`Sources::prefetch`] read ahead from it: its first frame and
/// what the read gave.
struct Streamed {
    stream: SourceStream,
    ahead: Option<(usize, Result<Planar>)>,
}

impl<'a> Sources<'a> {
    /// Sources already in memory, borrowed.
    pub fn borrowed(s: &'a [Planar]) -> Sources<'a> {
        Sources {
            feeds: s.iter().map(Feed::Borrowed).collect(),
        }
    }

    /// Sources read from disk as they are needed.
    pub fn streams(s: Vec<SourceStream>) -> Sources<'static> {
        Sources {
            feeds: s
                .into_iter()
                .map(|stream| {
                    Feed::Stream(Box::new(Mutex::new(Streamed {
                        stream,
                        ahead: None,
                    })))
                })
                .collect(),
        }
    }

    /// One source: a master kept on the GPU (stereo), read on the device by the GPU
    /// executor; the host cannot read it ([`Sources::read`] fails, retryable).
    pub fn resident(r: Resident) -> Sources<'static> {
        Sources {
            feeds: vec![Feed::Resident(r)],
        }
    }

    /// Source `k` when it is a master kept on the GPU.
    pub(crate) fn resident_of(&self, k: usize) -> Option<&Resident> {
        match &self.feeds[k] {
            Feed::Resident(r) => Some(r),
            _ => None,
        }
    }

    /// Number of sources.
    pub fn len(&self) -> usize {
        self.feeds.len()
    }

    /// No sources at all.
    pub fn is_empty(&self) -> bool {
        self.feeds.is_empty()
    }

    /// Channels of source `k`.
    pub fn channels(&self, k: usize) -> usize {
        match &self.feeds[k] {
            Feed::Borrowed(p) => p.len(),
            Feed::Stream(s) => lock(s).stream.channels(),
            Feed::Resident(_) => crate::plan::PLAN_CHANNELS,
        }
    }

    /// Length of source `k` in frames.
    pub fn frames(&self, k: usize) -> usize {
        match &self.feeds[k] {
            Feed::Borrowed(p) => frames(p),
            Feed::Stream(s) => lock(s).stream.frames(),
            Feed::Resident(r) => r.frames(),
        }
    }

    /// Fills `out` (one `Vec` per channel of source `k`, each one chunk long) with frames
    /// `start..` of source `k`, zeros past its end. Read in order; an earlier `start` than
    /// the last read reopens a streamed file. A file found bad here (truncated, NaN) fails
    /// with its path and the reason. A master kept on the GPU is not read here: only the
    /// GPU executor reads it, on the device.
    pub fn read(&self, k: usize, start: usize, out: &mut [Vec<f32>]) -> Result<()> {
        match &self.feeds[k] {
            Feed::Borrowed(p) => copy_from(p, start, out),
            Feed::Resident(_) => {
                return Err(Error::Gpu {
                    reason: "the master was kept on the GPU, which no longer runs this work".into(),
                    retryable: true,
                })
            }
            Feed::Stream(s) => {
                let mut s = lock(s);
                return match s.ahead.take() {
                    // read ahead: its samples, or the reason the read failed
                    Some((at, Err(e))) if at == start => Err(e),
                    Some((at, Ok(got))) if at == start && fits(&got, out) => {
                        for (o, g) in out.iter_mut().zip(got) {
                            *o = g;
                        }
                        Ok(())
                    }
                    _ => s.stream.read(start, out),
                };
            }
        }
        Ok(())
    }

    /// Reads the chunk of frames `start .. start + frames` of every streamed source ahead,
    /// the sources side by side (decoding is the costly part of reading a stem), for the
    /// [`Sources::read`] that asks for it next; with fewer than two streams it does nothing.
    pub fn prefetch(&self, start: usize, frames: usize) {
        let streams: Vec<&Mutex<Streamed>> = self
            .feeds
            .iter()
            .filter_map(|f| match f {
                Feed::Stream(s) => Some(&**s),
                Feed::Borrowed(_) | Feed::Resident(_) => None,
            })
            .collect();
        if streams.len() < 2 {
            return;
        }
        streams.par_iter().for_each(|s| {
            let mut s = lock(s);
            let mut chunk = vec![vec![0.0f32; frames]; s.stream.channels()];
            let got = s.stream.read(start, &mut chunk).map(|()| chunk);
            s.ahead = Some((start, got));
        });
    }
}

/// A chunk read ahead has the shape a read asks for.
fn fits(got: &Planar, out: &[Vec<f32>]) -> bool {
    got.len() >= out.len() && out.iter().zip(got).all(|(o, g)| o.len() == g.len())
}

fn lock<T>(s: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    s.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn frames(p: &Planar) -> usize {
    p.first().map_or(0, Vec::len)
}

fn copy_from(p: &Planar, start: usize, out: &mut [Vec<f32>]) {
    for (dst, src) in out.iter_mut().zip(p) {
        let k = src.len().saturating_sub(start).min(dst.len());
        if k > 0 {
            dst[..k].copy_from_slice(&src[start..start + k]);
        }
        dst[k..].fill(0.0);
    }
}
