//! What goes into one song's output files besides its samples: its tags (the catalog's and
//! the source's, [`super::settings::tags_for`]), ReplayGain 2.0 values with `--replaygain`,
//! and the BWF `bext` chunk body for deliveries that ask for it (`bwf = true`). CPU only; no
//! shader mirrored.

use super::manifest::{Album, Track};
use super::settings::tags_for;
use super::{Delivery, Job};
use crate::audio::bext::Bext;
use crate::audio::tags::{ReplayGain, Tags, REPLAYGAIN_REFERENCE_LUFS, VENDOR};
use crate::engine::Closed;

/// The ReplayGain 2.0 values of a closed song (album gain from its group's loudness and
/// album peak from `album_peak_dbtp`, in album mode).
fn replay_gain(m: &Closed, album_mode: bool, album_peak_dbtp: Option<f64>) -> Option<ReplayGain> {
    let lufs = m.output.integrated_lufs?;
    let peak = |dbtp: f64| 10f64.powf(dbtp / 20.0);
    Some(ReplayGain {
        track_gain_db: REPLAYGAIN_REFERENCE_LUFS - lufs,
        track_peak: peak(m.output.true_peak_dbtp).max(0.0),
        album_gain_db: m
            .group_lufs
            .filter(|_| album_mode)
            .map(|g| REPLAYGAIN_REFERENCE_LUFS - g),
        album_peak: album_peak_dbtp
            .filter(|p| album_mode && p.is_finite())
            .map(peak),
    })
}

/// The tags of track `t` closed as `m` (at `rate`) in delivery `d`, and the `bext` chunk
/// body its WAV files carry (`None` unless the delivery asks for one).
#[allow(clippy::too_many_arguments)]
pub(super) fn output_tags(
    album: &Album,
    t: &Track,
    job: &Job,
    d: &Delivery,
    m: &Closed,
    rate: u32,
    album_mode: bool,
    album_peak_dbtp: Option<f64>,
) -> (Tags, Option<Vec<u8>>) {
    let mut tags = tags_for(album, t);
    if job.replaygain {
        tags.replay_gain = replay_gain(m, album_mode, album_peak_dbtp);
    }
    let bext = d.bwf.then(|| {
        Bext {
            description: format!("{} - {}", album.title, t.title),
            origination_date: t.date.clone().unwrap_or_default(),
            loudness: Some(m.output),
            coding_history: format!("A=PCM,F={rate},W={},T={VENDOR}", d.bits),
        }
        .body()
    });
    (tags, bext)
}
