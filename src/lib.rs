//! mixfarm: a render farm for music. Mixes and masters many songs at once, on the GPU
//! through wgpu compute shaders, with a CPU reference path that the GPU output must match
//! bit-close. See README.md and `../shared/GUIDE.md`.

pub mod error;
pub mod gpu;
pub mod ops;
pub mod plan;
pub mod scene;
pub mod synth;

pub use error::{Error, Result};

/// The mixfarm version (recorded in reports and sidecars).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub mod analyze;
pub mod audio;
pub mod bench;
pub mod cli;
pub mod core;
pub mod engine;
pub mod loudness;
pub mod master;
pub mod render;
pub mod report;
pub mod selftest;
pub mod verify;
