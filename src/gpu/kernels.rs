//! The registry of GPU kernels: every `shaders/*.wgsl` file under its one name, with the
//! stage kind it serves (`ops::kind::Kind::name`) and the CPU twin that does the same
//! arithmetic, and the registry of elementwise operators ([`ELEMENTWISE`]: one line each in
//! [`elementwise_ops`], which also declares their `ops::<name>` modules). Operator and
//! executor code takes its shader source from here (`tests/registry.rs` checks the registry
//! against `shaders/`, that every kind with a kernel is served and every twin exists, and
//! every `//!` header that names a shader or a spec file).

use crate::ops::elementwise::ElementwiseOp;

/// One kernel file.
#[derive(Debug, Clone, Copy)]
pub struct KernelFile {
    /// the operator's one name (also the file stem)
    pub name: &'static str,
    /// path from the repository root
    pub path: &'static str,
    /// the WGSL source
    pub source: &'static str,
    /// the stage kind it runs (`Kind::name`)
    pub kind: &'static str,
    /// its CPU twin (path from the repository root)
    pub cpu_twin: &'static str,
    /// what it computes
    pub serves: &'static str,
}

macro_rules! kernel {
    ($name:expr, $kind:expr, $twin:expr, $serves:literal) => {
        KernelFile {
            name: $name,
            path: concat!("shaders/", $name, ".wgsl"),
            source: include_str!(concat!("../../shaders/", $name, ".wgsl")),
            kind: $kind,
            cpu_twin: $twin,
            serves: $serves,
        }
    };
}

/// The elementwise operators, one line each: `name: "what it computes";`. Each is the
/// module `ops::<name>` (folder `src/ops/<name>/`, whose `mod.rs` holds its `OP`), the kernel
/// `shaders/<name>.wgsl` and the CPU twin `src/ops/<name>/cpu.rs`. Calls `$then!` with the list.
macro_rules! elementwise_ops {
    ($then:path) => {
        $then! {
            polarity: "a polarity (phase) invert of the chosen channels";
        }
    };
}
pub(crate) use elementwise_ops;

macro_rules! registry {
    ($($op:ident: $serves:literal;)*) => {
        /// Every kernel, one line each (the elementwise operators' last, from
        /// [`elementwise_ops`]).
        pub const KERNELS: &[KernelFile] = &[
            kernel!(
                "load",
                "load",
                "src/gpu/host.rs",
                "a source chunk into a song buffer"
            ),
            kernel!(
                "gain",
                "gain",
                "src/ops/gain/cpu.rs",
                "a constant gain per channel (gain, trim)"
            ),
            kernel!(
                "envelope",
                "envelope",
                "src/ops/envelope/cpu.rs",
                "a piecewise-linear gain curve per channel"
            ),
            kernel!(
                "mix",
                "mix",
                "src/ops/mix/cpu.rs",
                "dst += gain · src (sends, bus sums)"
            ),
            kernel!(
                "fft",
                "convolve",
                "src/ops/convolve/fft.rs",
                "the batched Stockham real FFT, both directions"
            ),
            kernel!(
                "convolve",
                "convolve",
                "src/ops/convolve/mac.rs",
                "the partitioned multiply-accumulate over the delay line"
            ),
            kernel!(
                "reverb_mix",
                "convolve",
                "src/ops/reverb/cpu.rs",
                "the wet/dry sum after a reverb's convolution"
            ),
            kernel!(
                "recursion",
                "recursive",
                "src/gpu/recursive.rs",
                "the binding layout every recursive kernel starts with"
            ),
            kernel!(
                "sections",
                "recursive",
                "src/ops/eq/cpu.rs",
                "one state-variable filter section step (included by eq, width)"
            ),
            kernel!(
                "loglin",
                "recursive",
                "src/ops/loglin/mod.rs",
                "log2/exp2 from + and * and bits (included by the dynamics kernels)"
            ),
            kernel!(
                "dynamics",
                "recursive",
                "src/ops/compressor/cpu.rs",
                "the compressor's per-frame gain (included by compressor, multiband)"
            ),
            kernel!(
                "eq",
                "recursive",
                "src/ops/eq/cpu.rs",
                "the minimum-phase EQ's section cascade, one thread per channel"
            ),
            kernel!(
                "width",
                "recursive",
                "src/ops/width/cpu.rs",
                "width and bass mono of a stereo pair"
            ),
            kernel!(
                "compressor",
                "recursive",
                "src/ops/compressor/cpu.rs",
                "the stereo-linked compressor (peak/RMS, soft knee, sidechain key)"
            ),
            kernel!(
                "delay",
                "recursive",
                "src/ops/delay/cpu.rs",
                "the feedback delay (loop low-pass, ping-pong)"
            ),
            kernel!(
                "multiband",
                "recursive",
                "src/ops/multiband/cpu.rs",
                "the Linkwitz-Riley multiband compressor (split, band compressors, sum)"
            ),
            kernel!(
                "limiter",
                "recursive",
                "src/ops/limiter/cpu.rs",
                "the true-peak limiter (feed, 2× half points, oversampled detector, gain pipeline)"
            ),
            kernel!(
                "chorus",
                "recursive",
                "src/ops/chorus/cpu.rs",
                "the chorus (table LFO, fractional delay per voice)"
            ),
            kernel!(
                "resample",
                "resample",
                "src/ops/resample/cpu.rs",
                "a kept master converted to the delivery rate (polyphase windowed sinc)"
            ),
            kernel!(
                "meter",
                "recursive",
                "src/ops/meter/cpu.rs",
                "the loudness meter (K-weighting, sub-block energies kept for the host)"
            ),
            $(kernel!(
                stringify!($op),
                "elementwise",
                concat!("src/ops/", stringify!($op), "/cpu.rs"),
                $serves
            ),)*
        ];

        /// Every elementwise operator, in [`elementwise_ops`]'s order.
        pub const ELEMENTWISE: &[&ElementwiseOp] = &[$(&crate::ops::$op::OP),*];
    };
}

elementwise_ops!(registry);

/// The kernels of the stage kind named `kind`.
pub fn of_kind(kind: &str) -> impl Iterator<Item = &'static KernelFile> + '_ {
    KERNELS.iter().filter(move |k| k.kind == kind)
}

/// The source of the kernel named `name` (a compile-time error in a `const` when no kernel
/// has that name).
pub const fn source(name: &str) -> &'static str {
    let mut i = 0;
    while i < KERNELS.len() {
        if same(KERNELS[i].name.as_bytes(), name.as_bytes()) {
            return KERNELS[i].source;
        }
        i += 1;
    }
    panic!("no kernel of that name in the registry")
}

const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
