//! Scene files: songs, tracks, buses, chains, automation, albums (TOML, serde).

use serde::{Deserialize, Serialize};

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
