//! TEMPORARY shim (replaced by the flac branch): song tags.

/// Tags written into outputs.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Tags {
    /// title
    pub title: Option<String>,
    /// artist
    pub artist: Option<String>,
    /// album
    pub album: Option<String>,
    /// album artist
    pub album_artist: Option<String>,
    /// track number
    pub track_number: Option<u32>,
    /// tracks on the album
    pub track_total: Option<u32>,
    /// ISRC
    pub isrc: Option<String>,
    /// date
    pub date: Option<String>,
}
