//! Leaf types every layer uses and that depend on nothing else in the crate: planar audio,
//! output formats, SHA-256 hashes, the seeded PRNG (dither, synthesis, benches), ISRC and file-name rules.

pub mod arith;
pub mod format;
pub mod hash;
pub mod names;
pub mod rng;

pub use format::OutputFormat;
pub use names::{safe_file_name, validate_isrc};
pub use rng::SplitMix64;

/// Planar audio: one `Vec<f32>` per channel, all the same length.
pub type Planar = Vec<Vec<f32>>;
