//! Stage kinds: what an executor runs, as data. Every Plan stage lowers to one [`Kind`]
//! ([`kind_of`]; processors through [`Processor::kind`], the one place that looks at a
//! processor's type), and the executors match on kinds, never on processor names. Each
//! kind's GPU kernels and CPU twins are listed in `gpu::kernels::KERNELS`; every processor
//! lowers to a kind with kernels (the per-stage CPU switch of the GPU executor runs a
//! stage's CPU stream instead, `ops::stream`).

use super::convolve::Kernel;
use super::elementwise::{ElementwiseOp, Params};
use super::envelope::Envelope;
use super::{chorus, compressor, delay, eq, limiter, meter, multiband, width, Processor};
use crate::ops::crossover::Crossover;
use crate::plan::{BufId, Stage, PLAN_CHANNELS};

/// The kind of one stage, with what its kernel needs.
#[derive(Debug, Clone)]
pub enum Kind<'a> {
    /// a decoded source into `dst` (mono to both channels), zeros past its end
    Load {
        /// destination buffer
        dst: BufId,
        /// source index
        source: usize,
    },
    /// `buf[c] *= gain[c]`
    Gain {
        /// buffer
        buf: BufId,
        /// linear gain per channel
        gain: [f32; 2],
    },
    /// `buf[c] *= curve[c](t)`
    Envelope {
        /// buffer
        buf: BufId,
        /// one curve per channel
        curves: &'a [Envelope; 2],
    },
    /// `dst[c] += gain[c] · src[c]`
    Mix {
        /// buffer summed into
        dst: BufId,
        /// buffer read
        src: BufId,
        /// linear gain per channel
        gain: [f32; 2],
    },
    /// streaming FFT convolution of `buf`'s channels ([`Convolve`])
    Convolve {
        /// buffer
        buf: BufId,
        /// what to convolve and what follows
        conv: Convolve<'a>,
    },
    /// `buf[c] = op(params, c, buf[c])`, sample by sample: a registered elementwise operator
    /// (`gpu::kernels::ELEMENTWISE`), stateless
    Elementwise {
        /// buffer
        buf: BufId,
        /// the operator (its kernel and CPU twin)
        op: &'static ElementwiseOp,
        /// its parameters
        params: Params,
    },
    /// a recursive processor: one thread per lane (a channel, or the pair when the
    /// processor links them) of every song, serial in time through the chunk, its state
    /// carried on the GPU between chunks (`gpu::recursive`)
    Recursive {
        /// buffer processed in place
        buf: BufId,
        /// the sidechain key's buffer, when the stage has one
        key: Option<BufId>,
        /// the kernel and its data
        rec: Recursive,
    },
}

/// A convolution stage: lane `l` of the stage convolves channel `l % PLAN_CHANNELS` with
/// `kernels[l]` (lanes band-major: `bands × PLAN_CHANNELS` of them).
#[derive(Debug, Clone)]
pub struct Convolve<'a> {
    /// one kernel per lane
    pub kernels: Vec<&'a Kernel>,
    /// what happens to the lanes' outputs
    pub then: Then,
    /// with [`Then::Bands`]: the kernel that finishes the bands, reading them from the
    /// start of its state's band area (`lane × chunk` words each)
    pub finish: Option<Recursive>,
}

/// A recursive stage's kernel and what it reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Recursive {
    /// the kernel (`gpu::recursive::RECURSIVE`): the processor's one name
    pub op: &'static str,
    /// its parameter words (f32 bits, or u32 fields), as the kernel reads them
    pub words: Vec<u32>,
    /// threads per song: one per channel, or 1 when the processor links the channels
    pub lanes: usize,
    /// state words per song (every lane's)
    pub state_words: usize,
    /// state words that do not start at zero
    pub init: Vec<(usize, Init)>,
    /// what the executor reads back from the state after the song (a meter's readings)
    pub readout: Option<Readout>,
}

/// Values a recursive stage leaves in its state for the host, read back once after the
/// song: per lane of the reading, a span of state words (f32 bits), relative to the
/// stage's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Readout {
    /// the spans, in the order of the reading's lanes
    pub lanes: Vec<Span>,
}

/// One span of a [`Readout`]: its first word and how many follow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    /// first value word
    pub first: usize,
    /// how many values
    pub count: Count,
}

/// How many values a [`Span`] holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Count {
    /// this many
    Fixed(usize),
    /// as many as the state word at this offset says (the stage counts what it wrote)
    Word(usize),
}
/// The start value of a state word, for a stage whose input lags the song by `lag` frames.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// `value + step·lag` (wrapping): a chorus's LFO clock, a multiband's lead-in
    Lag {
        /// value without a lag
        value: u32,
        /// per frame of lag
        step: i32,
    },
    /// the frame of the stage's input at which the song ends (`frames + lag`): a limiter
    SongEnd,
}

/// What follows a convolution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Then {
    /// the output replaces the channel (linear-phase EQ, match EQ)
    Replace,
    /// `x = dry · x + wet · w`, `w` the output `pre_delay_frames` late (reverb)
    WetDry {
        /// linear dry gain
        dry: f32,
        /// linear wet gain
        wet: f32,
        /// frames of pre-delay
        pre_delay_frames: usize,
    },
    /// the lanes are bands that a recursive kernel finishes ([`Convolve::finish`]: the
    /// linear-phase multiband's band compressors and sum)
    Bands,
}

/// Every kind's name, in [`Kind::name`]'s order, then `resample`: not a stage, the
/// conversion of a master kept on the GPU to its delivery rate between two runs
/// ([`crate::ops::resample`]).
pub const KIND_NAMES: &[&str] = &[
    "load",
    "gain",
    "envelope",
    "mix",
    "convolve",
    "elementwise",
    "recursive",
    "resample",
];

impl Kind<'_> {
    /// The kind's name (the registry's key, `gpu::kernels::KERNELS`).
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Load { .. } => "load",
            Kind::Gain { .. } => "gain",
            Kind::Envelope { .. } => "envelope",
            Kind::Mix { .. } => "mix",
            Kind::Convolve { .. } => "convolve",
            Kind::Elementwise { .. } => "elementwise",
            Kind::Recursive { .. } => "recursive",
        }
    }
}

impl Convolve<'_> {
    /// Number of lanes.
    pub fn lanes(&self) -> usize {
        self.kernels.len()
    }
}

/// The kind of `stage`.
pub fn kind_of(stage: &Stage) -> Kind<'_> {
    match stage {
        Stage::Load { dst, source } => Kind::Load {
            dst: *dst,
            source: *source,
        },
        Stage::Gain { buf, gain } => Kind::Gain {
            buf: *buf,
            gain: *gain,
        },
        Stage::Envelope { buf, curves } => Kind::Envelope { buf: *buf, curves },
        Stage::Mix { dst, src, gain } => Kind::Mix {
            dst: *dst,
            src: *src,
            gain: *gain,
        },
        Stage::Process {
            buf,
            processor,
            sidechain,
        } => processor.kind(*buf, *sidechain),
    }
}

impl Processor {
    /// The kind this processor lowers to, on buffer `buf` (keyed by `key`, its sidechain).
    pub fn kind(&self, buf: BufId, key: Option<BufId>) -> Kind<'_> {
        let rec = |rec| Kind::Recursive { buf, key, rec };
        fn conv(buf: BufId, kernels: Vec<&Kernel>, then: Then) -> Kind<'_> {
            Kind::Convolve {
                buf,
                conv: Convolve {
                    kernels,
                    then,
                    finish: None,
                },
            }
        }
        match self {
            Processor::Trim { gain } => Kind::Gain {
                buf,
                gain: [*gain; PLAN_CHANNELS],
            },
            Processor::Reverb(rv) => conv(
                buf,
                (0..PLAN_CHANNELS).map(|c| rv.kernel(c)).collect(),
                Then::WetDry {
                    dry: rv.dry,
                    wet: rv.wet,
                    pre_delay_frames: rv.pre_delay_frames,
                },
            ),
            Processor::Eq(eq::Eq::LinearPhase { kernel, .. }) => {
                conv(buf, vec![kernel; PLAN_CHANNELS], Then::Replace)
            }
            Processor::Multiband(
                m @ multiband::Multiband {
                    crossover: Crossover::LinearPhase { kernels, .. },
                    ..
                },
            ) => Kind::Convolve {
                buf,
                conv: Convolve {
                    kernels: kernels
                        .iter()
                        .flat_map(|k| std::iter::repeat_n(k, PLAN_CHANNELS))
                        .collect(),
                    then: Then::Bands,
                    finish: Some(multiband::gpu::band_finish(m)),
                },
            },
            Processor::Elementwise(e) => Kind::Elementwise {
                buf,
                op: e.op,
                params: e.params,
            },
            Processor::Eq(eq::Eq::MinimumPhase { sections }) => rec(eq::gpu::recursive(sections)),
            Processor::Compressor(c) => rec(compressor::gpu::recursive(&c.params)),
            Processor::Width(w) => rec(width::gpu::recursive(w)),
            Processor::Delay(d) => rec(delay::gpu::recursive(&d.params)),
            Processor::Chorus(c) => rec(chorus::gpu::recursive(c)),
            Processor::Limiter(l) => rec(limiter::gpu::recursive(l)),
            Processor::Meter(m) => rec(meter::gpu::recursive(m)),
            Processor::Multiband(
                m @ multiband::Multiband {
                    crossover:
                        Crossover::LinkwitzRiley {
                            low,
                            high,
                            all_pass,
                        },
                    ..
                },
            ) => rec(multiband::gpu::recursive(m, low, high, all_pass)),
        }
    }
}
