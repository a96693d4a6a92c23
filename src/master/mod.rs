//! `mixfarm master`: masters finished stereo (or mono) mixes to one or more deliveries (a
//! preset chain compiled into a Plan and run by the engine on `--backend cpu|gpu|auto`, then
//! the engine's closing: the gain into the closing limiter that lands the target), song by
//! song (`track`) or with one gain per album (`album`).
//!
//! Inputs: a manifest (CSV or TOML, [`manifest`]) or files and folders (a folder is an
//! album). Every song is decoded once and every distinct chain runs once per song;
//! deliveries sharing a chain share that work. Outputs
//! `DIR/<delivery>/<album>/<NN - title>.<ext>` (atomic, tagged) with a JSON sidecar beside
//! each, album files and CUE sheets with `--sequence`, and the catalog summary
//! (`DIR/summary.json` + `.csv`, or `DIR/reports/shard-I-of-N.*` for one shard).

mod album;
mod albums;
mod args;
mod cmd;
mod delivery;
mod folders;
pub mod formats;
mod guard;
mod input_meter;
mod job;
pub mod manifest;
pub mod merge;
mod precheck;
mod prepare;
mod rate;
mod reference;
pub mod report;
mod run;
pub mod sequence;
mod settings;
pub mod shard;
pub mod sidecar;
mod song_tags;
mod source_tags;

pub use album::AlbumMode;
pub use args::MasterArgs;
pub use cmd::{albums_of_shard, exit_code, master_cmd, plan_cmd};
pub use delivery::{deliveries, Chain, Delivery, DEFAULT_TARGET_LUFS};
pub use folders::catalog_from_inputs;
pub use job::{job, load_catalog, Job};
pub use manifest::{Album, Catalog, Track};
pub use reference::Reference;
pub use report::{SongCurves, SongReport, Status, Summary};
pub use run::{run_album, AlbumResult, Ctl};
pub use settings::tags_for;

/// Audio file extensions a folder input contributes: the formats mixfarm reads, and those it
/// does not (listed up front with the reason, then failed by name, never skipped silently).
pub const AUDIO_EXTENSIONS: [&str; 15] = [
    "wav", "flac", "mp3", "ogg", "aif", "aiff", "m4a", "opus", "wv", "ape", "dsf", "dff", "wma",
    "tta", "mpc",
];
