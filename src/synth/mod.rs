//! A small deterministic music synthesiser: demo stems and benchmark catalogs that sound like
//! music (drums with groove, a bass line, chords and pads, a melody, arpeggios) rather than
//! test tones. Pure f64 math with its own PRNG: the same seed gives the same samples.
//! CPU only; it mirrors no shader (it only makes input audio for scenes, tests and benches).
//!
//! - [`dsp`]: PRNG, PolyBLEP oscillators, state-variable filter, envelopes.
//! - [`instruments`]: kick, snare, hats, clap, crash, subtractive synth voice, supersaw, FM keys.
//! - [`patches`]: bass, lead and pluck presets.
//! - `drums`: drum patterns, fills, groove.
//! - [`parts`]: patterns and sequencing over a chord progression.
//! - [`song`]: the three demo songs ([`demo_songs`]) and stem rendering.
//! - [`demo`]: FLAC stems and scene files ([`write_demo`]).
//! - [`catalog`](mod@catalog): the benchmark catalog ([`catalog()`]).

pub mod catalog;
pub mod catalog_files;
pub mod demo;
mod drums;
pub mod dsp;
pub mod instruments;
pub mod parts;
pub mod patches;
pub mod song;

pub use catalog::catalog;
pub use demo::write_demo;
pub use song::{demo_songs, SongSketch, StemSketch};
