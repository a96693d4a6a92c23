//! A job's sources as the executors see them: read one chunk at a time, in order
//! ([`Sources::read`]). Scenes stream their stems from disk ([`SourceStream`]: decoded and
//! resampled as the chunks are needed); `master`, benches and tests lend audio already in memory.

use std::sync::Mutex;

use crate::audio::stream::SourceStream;
use crate::core::Planar;
use crate::error::Result;

/// The sources of one job (index = `Stage::Load::source`).
pub struct Sources<'a> {
    feeds: Vec<Feed<'a>>,
}

enum Feed<'a> {
    Borrowed(&'a Planar),
    Stream(Box<Mutex<SourceStream>>),
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
                .map(|s| Feed::Stream(Box::new(Mutex::new(s))))
                .collect(),
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
            Feed::Stream(s) => lock(s).channels(),
        }
    }

    /// Length of source `k` in frames.
    pub fn frames(&self, k: usize) -> usize {
        match &self.feeds[k] {
            Feed::Borrowed(p) => frames(p),
            Feed::Stream(s) => lock(s).frames(),
        }
    }

    /// Fills `out` (one `Vec` per channel of source `k`, each one chunk long) with frames
    /// `start..` of source `k`, zeros past its end. Read in order; an earlier `start` than
    /// the last read reopens a streamed file. A file found bad here (truncated, NaN) fails
    /// with its path and the reason.
    pub fn read(&self, k: usize, start: usize, out: &mut [Vec<f32>]) -> Result<()> {
        match &self.feeds[k] {
            Feed::Borrowed(p) => copy_from(p, start, out),
            Feed::Stream(s) => return lock(s).read(start, out),
        }
        Ok(())
    }
}

fn lock(s: &Mutex<SourceStream>) -> std::sync::MutexGuard<'_, SourceStream> {
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
