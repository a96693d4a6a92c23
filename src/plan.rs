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

/// Output file format: container and sample format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// WAV, 16-bit PCM with TPDF dither
    Wav16,
    /// WAV, 24-bit PCM with TPDF dither
    Wav24,
    /// WAV, 32-bit float, no dither
    Wav32f,
    /// FLAC, 16-bit with TPDF dither (verified lossless by decoding it back)
    Flac16,
    /// FLAC, 24-bit with TPDF dither (verified lossless by decoding it back)
    Flac24,
}

impl OutputFormat {
    /// Every format, in the order the CLI lists them.
    pub const ALL: [OutputFormat; 5] = [
        OutputFormat::Wav16,
        OutputFormat::Wav24,
        OutputFormat::Wav32f,
        OutputFormat::Flac16,
        OutputFormat::Flac24,
    ];

    /// The name used in scene files and on the command line (`"wav24"`, `"flac16"`…).
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Wav16 => "wav16",
            OutputFormat::Wav24 => "wav24",
            OutputFormat::Wav32f => "wav32f",
            OutputFormat::Flac16 => "flac16",
            OutputFormat::Flac24 => "flac24",
        }
    }

    /// File extension without the dot: `"wav"` or `"flac"`.
    pub fn extension(self) -> &'static str {
        if self.is_flac() {
            "flac"
        } else {
            "wav"
        }
    }

    /// Bits per sample (16, 24 or 32).
    pub fn bits(self) -> u32 {
        match self {
            OutputFormat::Wav16 | OutputFormat::Flac16 => 16,
            OutputFormat::Wav24 | OutputFormat::Flac24 => 24,
            OutputFormat::Wav32f => 32,
        }
    }

    /// Whether samples are written as 32-bit float (no quantisation, no dither).
    pub fn is_float(self) -> bool {
        self == OutputFormat::Wav32f
    }

    /// Whether the container is FLAC.
    pub fn is_flac(self) -> bool {
        matches!(self, OutputFormat::Flac16 | OutputFormat::Flac24)
    }
}

impl std::fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for OutputFormat {
    type Err = String;

    /// Parses a format name; `"wav"` means wav24 and `"flac"` means flac24.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        match lower.as_str() {
            "wav" => return Ok(OutputFormat::Wav24),
            "flac" => return Ok(OutputFormat::Flac24),
            _ => {}
        }
        OutputFormat::ALL
            .into_iter()
            .find(|f| f.name() == lower)
            .ok_or_else(|| {
                let names: Vec<&str> = OutputFormat::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "unknown output format '{s}' (choose one of {}; 'wav' = wav24, 'flac' = flac24)",
                    names.join(", ")
                )
            })
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
