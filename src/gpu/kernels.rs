//! The registry of GPU kernels: every `shaders/*.wgsl` file under its one name, with the
//! stage kinds it serves. Operator and executor code takes its shader source from here
//! (`tests/registry.rs` checks the registry against `shaders/` and every `//!` header that
//! names a shader or a spec file).

/// One kernel file.
#[derive(Debug, Clone, Copy)]
pub struct KernelFile {
    /// the operator's one name (also the file stem)
    pub name: &'static str,
    /// path from the repository root
    pub path: &'static str,
    /// the WGSL source
    pub source: &'static str,
    /// the Plan stage kinds it runs
    pub serves: &'static str,
}

macro_rules! kernel {
    ($name:literal, $serves:literal) => {
        KernelFile {
            name: $name,
            path: concat!("shaders/", $name, ".wgsl"),
            source: include_str!(concat!("../../shaders/", $name, ".wgsl")),
            serves: $serves,
        }
    };
}

/// Every kernel, one line each.
pub const KERNELS: &[KernelFile] = &[
    kernel!("load", "Load: a decoded source into a song buffer"),
    kernel!("gain", "Gain and Trim: a constant gain per channel"),
    kernel!("envelope", "Envelope: a piecewise-linear gain curve per channel"),
    kernel!("mix", "Mix: dst += gain · src (sends, bus sums)"),
    kernel!("fft", "convolution: the batched Stockham real FFT, both directions"),
    kernel!("convolve", "convolution: the partitioned multiply-accumulate (reverb, linear-phase EQ and crossover, match EQ)"),
    kernel!("reverb_mix", "Process(reverb): the wet/dry sum after the convolution"),
];

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
