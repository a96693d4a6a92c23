//! A song's master kept in GPU memory between two runs of the executor: a run asked to keep
//! its masters on the GPU ([`Keep::Gpu`]) copies each master chunk into a whole-song buffer
//! on the device instead of reading it back, and a later Plan loads it as a source
//! ([`crate::engine::Sources::resident`]): each chunk is copied on the device into that run's
//! source chunks, so the audio never crosses to the host in between. `render` keeps a
//! stem mix this way between the mix and its closing's passes.
//!
//! The buffer holds the master planar, channel `c` at frames `c·frames ..`, at least 16
//! bytes. Buffer copies have no binding limit, so a kept master may be longer than one
//! storage binding holds.

use std::sync::Arc;

use crate::plan::PLAN_CHANNELS;

/// Where a run of the GPU executor leaves each song's master.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// nowhere: only the metering stages' readings come back
    Nothing,
    /// read back to the host, chunk by chunk
    Host,
    /// in a buffer on the GPU ([`Resident`]) while the run's budget allows, else read back
    Gpu,
}

/// A song's master in GPU memory (see the module docs). Cloning shares the buffer; it is
/// freed with its last clone.
#[derive(Debug, Clone)]
pub struct Resident {
    pub(crate) buffer: Arc<wgpu::Buffer>,
    frames: usize,
}

impl Resident {
    /// A master of `frames` frames in `buffer` (at least [`Resident::bytes_for`] bytes).
    pub(crate) fn new(buffer: wgpu::Buffer, frames: usize) -> Resident {
        Resident {
            buffer: Arc::new(buffer),
            frames,
        }
    }

    /// Bytes a kept master of `frames` frames takes.
    pub fn bytes_for(frames: usize) -> u64 {
        (PLAN_CHANNELS * frames * 4) as u64
    }

    /// Its length, frames.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Byte offset of frame `frame` of channel `c`.
    pub(crate) fn offset(&self, c: usize, frame: usize) -> u64 {
        ((c * self.frames + frame) * 4) as u64
    }
}

/// A song's master as a run kept it.
#[derive(Debug)]
pub enum Kept {
    /// on the host
    Host(crate::core::Planar),
    /// on the GPU
    Gpu(Resident),
}
