//! The render Plan: what one song's render does, as data.
//!
//! A scene compiles into a [`Plan`]: a list of [`Stage`]s over numbered stereo buffers
//! (planar f32, `[channel][frame]`, all `frames` long). Both backends run the same Plan;
//! neither knows about scene files. Stage kinds map one-to-one onto operators in
//! [`crate::ops`] (CPU twins in `ops/<name>/cpu.rs`, GPU kernels in `shaders/<name>.wgsl`).

use std::path::PathBuf;

use crate::ops::envelope::Envelope;
use crate::ops::Processor;

/// Index of a stereo buffer inside a song's Plan.
pub type BufId = usize;

/// Planar audio: one `Vec<f32>` per channel, all the same length.
pub type Planar = Vec<Vec<f32>>;

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

/// An audio file a Plan reads, with how it must arrive.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// the file on disk
    pub path: PathBuf,
}

/// What happens to the master after the Plan's stages: loudness normalisation, the
/// final true-peak limiter (when the master chain ends with one), and the ceiling.
#[derive(Debug, Clone)]
pub struct Mastering {
    /// target integrated loudness; `None` leaves the level alone
    pub target_lufs: Option<f64>,
    /// true-peak ceiling in dBTP; the normalisation gain is clamped so the output stays under it
    pub ceiling_dbtp: f64,
    /// the master chain's closing limiter, run after the normalisation gain (its ceiling is
    /// the song's `ceiling_dbtp`); `None` = the gain alone, clamped under the ceiling
    pub limiter: Option<crate::ops::limiter::Limiter>,
}

/// Output sample format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// 16-bit PCM with TPDF dither
    Wav16,
    /// 24-bit PCM with TPDF dither
    Wav24,
    /// 32-bit float, no dither
    Wav32f,
}

impl OutputFormat {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        "wav"
    }

    /// The format's name as written on the command line and in scenes.
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Wav16 => "wav16",
            OutputFormat::Wav24 => "wav24",
            OutputFormat::Wav32f => "wav32f",
        }
    }
}

/// One song, ready to render.
#[derive(Debug, Clone)]
pub struct Plan {
    /// song title (for logs and reports)
    pub name: String,
    /// the scene file the song came from
    pub scene_path: PathBuf,
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
    /// loudness normalisation of the master
    pub mastering: Mastering,
    /// where the output goes
    pub output_path: PathBuf,
    /// output sample format
    pub output_format: OutputFormat,
    /// seed for the dither noise (derived from the song so renders are deterministic)
    pub dither_seed: u64,
    /// song metadata
    pub metadata: crate::scene::Metadata,
}
