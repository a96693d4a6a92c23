//! The render Plan: what one song's render does, as data.
//!
//! A scene (or a master's song and chain) compiles into a [`Plan`]: a list of [`Stage`]s over
//! numbered stereo buffers (planar f32, `[channel][frame]`, all `frames` long). Both executors
//! run the same Plan (`engine::cpu`, `gpu::render`), in time chunks where needed
//! (`engine::schedule`); neither knows about scene files, outputs or loudness targets. Insert
//! processors are [`Processor`]s with CPU twins in `ops/<name>/cpu.rs`; the GPU kernels are
//! listed in `gpu::kernels`.

use std::path::PathBuf;

use crate::ops::envelope::Envelope;
use crate::ops::Processor;

/// Index of a stereo buffer inside a song's Plan.
pub type BufId = usize;

pub use crate::core::{OutputFormat, Planar};

/// Number of channels every Plan buffer has (mono sources are placed by the pan law).
pub const PLAN_CHANNELS: usize = 2;

/// One step of a song's render.
#[derive(Debug, Clone)]
pub enum Stage {
    /// Copy decoded source `source` into `dst` (mono → both channels), zero-padding to the
    /// song length.
    Load {
        /// destination buffer
        dst: BufId,
        /// index into [`Plan::sources`]
        source: usize,
    },
    /// Multiply each channel by a constant linear gain (track gain, constant pan).
    Gain {
        /// buffer processed in place
        buf: BufId,
        /// linear gain per channel
        gain: [f32; 2],
    },
    /// Multiply each channel by a piecewise-linear gain curve (automation, pan automation,
    /// fades).
    Envelope {
        /// buffer processed in place
        buf: BufId,
        /// one curve per channel
        curves: Box<[Envelope; 2]>,
    },
    /// `dst[c] += gain[c] * src[c]`: sends and bus sums.
    Mix {
        /// buffer summed into
        dst: BufId,
        /// buffer read
        src: BufId,
        /// linear gain per channel
        gain: [f32; 2],
    },
    /// Run an insert processor (EQ, compressor, reverb…) on `buf` in place.
    Process {
        /// buffer processed in place
        buf: BufId,
        /// optional key input (sidechain), read only
        sidechain: Option<BufId>,
        /// the prepared processor
        processor: Box<Processor>,
    },
}

impl Stage {
    /// The buffer this stage writes.
    pub fn target(&self) -> BufId {
        match self {
            Stage::Load { dst, .. } | Stage::Mix { dst, .. } => *dst,
            Stage::Gain { buf, .. } | Stage::Envelope { buf, .. } | Stage::Process { buf, .. } => {
                *buf
            }
        }
    }

    /// Short operator name used in reports, benches and `verify` ("gain", "mix", "eq"…).
    pub fn op_name(&self) -> &'static str {
        match self {
            Stage::Load { .. } => "load",
            Stage::Gain { .. } => "gain",
            Stage::Envelope { .. } => "envelope",
            Stage::Mix { .. } => "mix",
            Stage::Process { processor, .. } => processor.op_name(),
        }
    }
}

/// What a Plan's metering stages read over the song (`Processor::Meter`): per such stage,
/// its index in [`Plan::stages`] and, per channel, the values it read (sub-block energies).
pub type Readings = Vec<(usize, Vec<Vec<f32>>)>;

/// A rendered song: its master (empty when the caller asked for the readings alone) and
/// what its metering stages read.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    /// the master buffer (stereo, `plan.frames` long), or no channels
    pub master: Planar,
    /// the metering stages' readings
    pub readings: Readings,
}

/// An audio file a Plan reads, with how it must arrive.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// the file on disk
    pub path: PathBuf,
}

/// One song's render, ready for an executor. It knows nothing of files to write, tags,
/// loudness targets or dither (those belong to the front end's job).
#[derive(Debug, Clone)]
pub struct Plan {
    /// song title (for logs and errors)
    pub name: String,
    /// render sample rate
    pub sample_rate: u32,
    /// song length in frames (every buffer has this length): the longest source plus the
    /// song's tail
    pub frames: usize,
    /// number of stereo buffers
    pub n_buffers: usize,
    /// audio files read by `Load` stages
    pub sources: Vec<Source>,
    /// the stages, in order
    pub stages: Vec<Stage>,
    /// buffer holding the finished mix
    pub master: BufId,
}

impl Plan {
    /// Checks the routing against the decoded `sources`: every buffer and source index in
    /// range, no buffer mixed into itself, every source with at least one channel.
    pub fn check(&self, sources: &crate::engine::sources::Sources<'_>) -> Result<(), crate::Error> {
        let nb = self.n_buffers;
        let ids_ok = self.stages.iter().all(|s| match s {
            Stage::Load { dst, source } => *dst < nb && *source < sources.len(),
            Stage::Gain { buf, .. } | Stage::Envelope { buf, .. } => *buf < nb,
            Stage::Mix { dst, src, .. } => *dst < nb && *src < nb && dst != src,
            Stage::Process { buf, sidechain, .. } => {
                *buf < nb && sidechain.is_none_or(|k| k < nb && k != *buf)
            }
        });
        let fail = |reason: &str| crate::Error::Render {
            song: self.name.clone(),
            reason: reason.into(),
        };
        if !ids_ok || self.master >= nb {
            return Err(fail(
                "bad buffer routing (buffer/source index out of range or a buffer mixed into itself)",
            ));
        }
        if (0..sources.len()).any(|k| sources.channels(k) == 0) {
            return Err(fail("a source has no channels"));
        }
        Ok(())
    }
}
