//! The GPU backend: a headless wgpu context ([`context`]), the batched FFT ([`fft`]) and the
//! batched Plan executor ([`render`]). Operator kernels live in `shaders/<name>.wgsl` with
//! their dispatch code in `ops/<name>/gpu.rs`.

pub mod context;

pub use context::{list_adapters, AdapterReport, Gpu, GpuOptions};
