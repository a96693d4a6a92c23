//! Stage kinds: what an executor runs, as data. Every Plan stage lowers to one [`Kind`]
//! ([`kind_of`]; processors through [`Processor::kind`], the one place that looks at a
//! processor's type), and the executors match on kinds, never on processor names. Each
//! kind's GPU kernels and CPU twins are listed in `gpu::kernels::KERNELS` (the `host` kind
//! has none: its processor's CPU stream runs on the host, `ops::stream`).

use super::convolve::Kernel;
use super::elementwise::{ElementwiseOp, Params};
use super::envelope::Envelope;
use super::{eq, multiband, Processor};
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
    /// a processor with no kernel yet: its CPU stream runs on the host
    Host {
        /// buffer processed in place
        buf: BufId,
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
    /// the lanes are bands that the processor finishes on the host
    /// ([`Processor::finish_bands`]: linear-phase multiband compressors)
    HostBands,
}

/// Every kind's name, in [`Kind::name`]'s order.
pub const KIND_NAMES: &[&str] = &[
    "load",
    "gain",
    "envelope",
    "mix",
    "convolve",
    "elementwise",
    "host",
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
            Kind::Host { .. } => "host",
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
        Stage::Process { buf, processor, .. } => processor.kind(*buf),
    }
}

impl Processor {
    /// The kind this processor lowers to, on buffer `buf`.
    pub fn kind(&self, buf: BufId) -> Kind<'_> {
        fn conv(buf: BufId, kernels: Vec<&Kernel>, then: Then) -> Kind<'_> {
            Kind::Convolve {
                buf,
                conv: Convolve { kernels, then },
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
            Processor::Multiband(multiband::Multiband {
                crossover: Crossover::LinearPhase { kernels, .. },
                ..
            }) => conv(
                buf,
                kernels
                    .iter()
                    .flat_map(|k| std::iter::repeat_n(k, PLAN_CHANNELS))
                    .collect(),
                Then::HostBands,
            ),
            Processor::Elementwise(e) => Kind::Elementwise {
                buf,
                op: e.op,
                params: e.params,
            },
            _ => Kind::Host { buf },
        }
    }
}
