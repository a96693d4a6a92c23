//! The loudness policy of `mixfarm master` (`track`: every song on target; `album`: one gain
//! for the album, the songs keep their differences) and its closing limiters. The closing
//! itself is the engine's ([`crate::engine::closing`]).

use std::path::Path;

use crate::error::Result;
use crate::ops::limiter::{Limiter, LimiterSpec};
use crate::ops::PrepareCtx;

/// How the loudness target applies.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum AlbumMode {
    /// every song on target
    Track,
    /// one gain per album: the album on target, the songs' differences kept
    Album,
}

/// Prepares a closing limiter `spec` at `rate` with its ceiling set to `ceiling_dbtp`.
pub fn limiter_for(
    spec: Option<&LimiterSpec>,
    ceiling_dbtp: f64,
    rate: u32,
) -> Result<Option<Limiter>> {
    let Some(l) = spec else { return Ok(None) };
    let spec = LimiterSpec {
        ceiling_dbtp,
        ..l.clone()
    };
    let load = |p: &Path, r: u32| crate::audio::load_for_render(p, r);
    let ctx = PrepareCtx {
        sample_rate: rate,
        scene_dir: Path::new("."),
        tempo_bpm: None,
        load_audio: &load,
    };
    Ok(Some(spec.prepare(&ctx)?))
}
