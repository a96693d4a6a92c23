//! Scene files: songs, tracks, buses, chains, automation, albums (TOML, serde).
//!
//! The format is documented in `scenes/README.md`. [`load`] reads album and song files
//! (with line-accurate errors), [`compile`] turns a validated song into a [`crate::plan::Plan`].

pub mod compile;
pub mod load;
pub mod preset;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::ops::InsertSpec;
use crate::plan::OutputFormat;

pub use load::{load_batch, LoadedSong};

/// Song metadata carried to reports and tags.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// song title
    pub title: Option<String>,
    /// performing artist
    pub artist: Option<String>,
    /// album title
    pub album: Option<String>,
    /// position on the album, from 1
    pub track_number: Option<u32>,
    /// International Standard Recording Code, 12 characters (e.g. `GBAYE2600001`)
    pub isrc: Option<String>,
}

/// One song: tracks, buses, master, output.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Song {
    /// render sample rate in Hz (album default when missing)
    pub sample_rate: Option<u32>,
    /// tempo, for times given in beats
    pub tempo_bpm: Option<f64>,
    /// seconds rendered after the longest stem (reverb and delay tails are added on top)
    pub tail_s: Option<f64>,
    /// fade-in of the whole song, seconds
    pub fade_in_s: Option<f64>,
    /// fade-out at the end of the whole song, seconds
    pub fade_out_s: Option<f64>,
    /// title, artist, album, track number, ISRC
    #[serde(default)]
    pub metadata: Metadata,
    /// output file and format
    #[serde(default)]
    pub output: Output,
    /// master chain and loudness target
    #[serde(default)]
    pub master: Master,
    /// the tracks (stems)
    #[serde(default, rename = "track")]
    pub tracks: Vec<Track>,
    /// the buses (groups, effect returns)
    #[serde(default, rename = "bus")]
    pub buses: Vec<Bus>,
}

/// Where a song's render goes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Output {
    /// file name, relative to the `--out` folder (default: from the title or scene name)
    pub file: Option<String>,
    /// `wav16` | `wav24` | `wav32f` | `flac16` | `flac24` (default: the preset's `bits`, else
    /// `wav24`)
    pub format: Option<OutputFormat>,
    /// delivery sample rate, Hz: the mix is converted to it before the closing limiter
    /// (default: the preset's `sample_rate_hz`, else the song's `sample_rate`)
    pub sample_rate_hz: Option<u32>,
}

/// The master bus: its inserts and loudness normalisation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Master {
    /// target integrated loudness in LUFS (omit to leave the level alone)
    pub target_lufs: Option<f64>,
    /// true-peak ceiling in dBTP (default −1)
    pub ceiling_dbtp: Option<f64>,
    /// master inserts, in order
    pub chain: Option<Vec<InsertSpec>>,
    /// a mastering preset: `streaming`, `apple`, `broadcast`, `cd`, or a preset file's path;
    /// the fields above override the preset's
    pub preset: Option<Spanned<String>>,
    /// per-insert field overrides of the preset's chain, keyed by insert type, e.g.
    /// `[master.overrides.limiter] release_ms = 60` (applies to the first insert of that type)
    pub overrides: Option<toml::Table>,
    /// the preset's delivery fields (sample rate, bit depth, `bext`), filled by
    /// [`preset::resolve`]; a scene's own `[output]` settings win over them
    #[serde(skip)]
    pub preset_delivery: PresetDelivery,
}

/// What a preset says about the delivered file (`[output]` settings win).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PresetDelivery {
    /// sample rate, Hz
    pub sample_rate_hz: Option<u32>,
    /// bit depth: 16, 24 or 32 (float)
    pub bits: Option<u32>,
    /// a BWF `bext` chunk with the EBU loudness fields in WAV outputs
    pub bwf: bool,
}

/// A send from a track to a bus.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Send {
    /// destination bus
    pub bus: Spanned<String>,
    /// send level in dB
    #[serde(default)]
    pub level_db: f64,
    /// tap before the track's fader, pan and automation (default: after)
    #[serde(default)]
    pub pre_fader: bool,
}

/// Breakpoint automation of a track.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Automation {
    /// `[seconds, dB]` breakpoints, linear interpolation (in dB, sampled finely)
    #[serde(default)]
    pub gain_db: Vec<[f64; 2]>,
    /// `[seconds, pan]` breakpoints, pan −1…1
    #[serde(default)]
    pub pan: Vec<[f64; 2]>,
}

/// One stem and its channel strip.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Track {
    /// track name (unique within the song)
    pub name: Spanned<String>,
    /// audio file, relative to the scene file
    pub file: Spanned<String>,
    /// fader level in dB
    #[serde(default)]
    pub gain_db: f64,
    /// −1 (left) … 1 (right)
    #[serde(default)]
    pub pan: f64,
    /// silence this track
    #[serde(default)]
    pub mute: bool,
    /// when any track is soloed, only soloed tracks play
    #[serde(default)]
    pub solo: bool,
    /// insert chain
    #[serde(default)]
    pub chain: Vec<InsertSpec>,
    /// sends to buses
    #[serde(default)]
    pub sends: Vec<Send>,
    /// destination bus (default `master`)
    pub output: Option<Spanned<String>>,
    /// fade-in, seconds from the start
    #[serde(default)]
    pub fade_in_s: f64,
    /// fade-out, seconds before the end of the song
    #[serde(default)]
    pub fade_out_s: f64,
    /// gain and pan automation
    #[serde(default)]
    pub automation: Automation,
}

/// A bus: group or effect return.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bus {
    /// bus name (unique, not `master`)
    pub name: Spanned<String>,
    /// fader level in dB
    #[serde(default)]
    pub gain_db: f64,
    /// insert chain
    #[serde(default)]
    pub chain: Vec<InsertSpec>,
    /// destination bus (default `master`)
    pub output: Option<Spanned<String>>,
}

/// Album-wide settings in a batch file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlbumInfo {
    /// album title (default for every song's metadata)
    pub title: Option<String>,
    /// album artist (default for every song's metadata)
    pub artist: Option<String>,
}

/// Defaults an album file sets for all its songs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// mastering preset for songs that name none
    pub preset: Option<String>,
    /// render sample rate in Hz
    pub sample_rate: Option<u32>,
    /// output format
    pub format: Option<OutputFormat>,
    /// loudness target
    pub target_lufs: Option<f64>,
    /// true-peak ceiling
    pub ceiling_dbtp: Option<f64>,
    /// song fade-in, seconds
    pub fade_in_s: Option<f64>,
    /// song fade-out, seconds
    pub fade_out_s: Option<f64>,
    /// tail after the longest stem, seconds
    pub tail_s: Option<f64>,
    /// master chain for songs that have none
    pub master_chain: Option<Vec<InsertSpec>>,
}

/// An album (batch) file: many songs plus defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlbumFile {
    /// album title and artist
    #[serde(default)]
    pub album: AlbumInfo,
    /// defaults for every song
    #[serde(default)]
    pub defaults: Defaults,
    /// song scene files, relative to the album file
    #[serde(default)]
    pub songs: Vec<Spanned<String>>,
    /// songs written inline
    #[serde(default, rename = "song")]
    pub inline_songs: Vec<Song>,
}
