//! The closing of every song, for both commands, after its Plan has run: the loudness policy
//! (a song alone, or a group such as an album under one gain plus each song's offset), the
//! gain into the closing true-peak limiter, found by search, and the fades. The fades are part
//! of what is measured, so a faded song still lands on its target.
//!
//! With a limiter on every song and a target, the gain is searched ([`GainSearch`]): gain,
//! limit, fade, measure the group's integrated loudness, correct — until within
//! [`LIMITER_SEARCH_TOLERANCE_LU`] or [`LIMITER_SEARCH_PASSES`] passes; the closest pass is
//! kept. Otherwise loudness is linear in the gain: one gain `target − measured` (after the
//! offsets and fades), clamped so no song without a limiter passes the ceiling.
//! When a member asks ([`Member::curves`]: `master` does, for its reports), the limiter's
//! gain reduction per hop and the finished song's meters over time
//! ([`crate::loudness::Curves`]) come out with it.
//! Runs on the host (the meter: [`crate::loudness`]).

use rayon::prelude::*;

use crate::core::Planar;
use crate::error::Result;
use crate::loudness::{self, Loudness};
use crate::ops::limiter::Limiter;

/// True-peak ceiling when a song, preset or delivery names none, dBTP.
pub const DEFAULT_CEILING_DBTP: f64 = -1.0;
/// Loudness error, LU, at which the gain-into-limiter search stops.
pub const LIMITER_SEARCH_TOLERANCE_LU: f64 = 0.01;
/// Most passes of the gain-into-limiter search (it converges in 2–4 on music).
pub const LIMITER_SEARCH_PASSES: usize = 8;

/// Next gain to try when searching the gain into a limiter that hits a loudness target.
/// The first step assumes 1 LU per dB; later steps use the secant through the last two
/// tries, because the limiter flattens the response (each extra dB in adds less than 1 LU
/// out once it works hard). The slope is kept within 0.05…1.5 LU/dB so a flat spot cannot
/// throw the gain far away.
#[derive(Debug, Clone, Copy, Default)]
pub struct GainSearch {
    prev: Option<(f64, f64)>,
}

impl GainSearch {
    /// Given the gain just tried and the loudness it gave, the gain to try next.
    pub fn next(&mut self, gain_db: f64, lufs: f64, target_lufs: f64) -> f64 {
        let slope = match self.prev {
            Some((g0, l0)) if (gain_db - g0).abs() > 1e-9 => {
                ((lufs - l0) / (gain_db - g0)).clamp(0.05, 1.5)
            }
            _ => 1.0,
        };
        self.prev = Some((gain_db, lufs));
        gain_db + (target_lufs - lufs) / slope
    }
}

/// Fade-in and fade-out of one song, frames: equal-power (quarter-sine) curves applied after
/// the limiter. Over a fade of n frames, frame i of the fade-in is scaled by sin(π/2 · i/n)
/// (the first frame is silent) and the fade-out mirrors it (the last frame is silent); each
/// fade is cut to the song's length.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fades {
    /// fade-in length, frames
    pub in_frames: usize,
    /// fade-out length, frames
    pub out_frames: usize,
}

impl Fades {
    /// Fades given in seconds at `sample_rate` (rounded to frames).
    pub fn from_seconds(fade_in_s: f64, fade_out_s: f64, sample_rate: u32) -> Fades {
        let frames = |s: f64| (s.max(0.0) * f64::from(sample_rate)).round() as usize;
        Fades {
            in_frames: frames(fade_in_s),
            out_frames: frames(fade_out_s),
        }
    }

    /// True when there is neither fade.
    pub fn is_none(&self) -> bool {
        self.in_frames == 0 && self.out_frames == 0
    }

    /// Applies the fades in place (gains in f64, one rounding per sample).
    pub fn apply(&self, x: &mut [Vec<f32>]) {
        let frames = x.first().map_or(0, Vec::len);
        let (n_in, n_out) = (self.in_frames.min(frames), self.out_frames.min(frames));
        let gain = |i: usize, n: usize| (std::f64::consts::FRAC_PI_2 * i as f64 / n as f64).sin();
        for ch in x.iter_mut() {
            for (i, v) in ch.iter_mut().take(n_in).enumerate() {
                *v = (f64::from(*v) * gain(i, n_in)) as f32;
            }
            for k in 0..n_out {
                let f = frames - 1 - k;
                ch[f] = (f64::from(ch[f]) * gain(k, n_out)) as f32;
            }
        }
    }
}

/// One song going into the closing.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    /// the song's rendered master (before any loudness gain)
    pub audio: &'a Planar,
    /// its sample rate
    pub rate: u32,
    /// its closing limiter (ceiling already set), if it has one
    pub limiter: Option<&'a Limiter>,
    /// its level against the group gain, dB (album mode's per-song offset; 0 alone)
    pub offset_db: f64,
    /// its fades
    pub fades: Fades,
    /// the full loudness of `audio`, when the caller measured it already (its integrated
    /// loudness and true peak are then not measured again)
    pub measured: Option<&'a Loudness>,
    /// keep the finished song's meters over time and the limiter's gain reduction per hop
    /// ([`Closed::curves`], for the reports; the spectrum costs one more FFT pass)
    pub curves: bool,
}

/// One song out of the closing.
#[derive(Debug, Clone)]
pub struct Closed {
    /// the finished audio
    pub audio: Planar,
    /// gain applied (group gain + offset), dB
    pub gain_db: f64,
    /// largest gain reduction of its limiter, dB (`None`: no limiter)
    pub limiter_reduction_db: Option<f64>,
    /// loudness of the finished audio
    pub output: Loudness,
    /// the meters of the finished audio over time, and its spectrum (`None` unless the
    /// member asked for them)
    pub curves: Option<loudness::Curves>,
    /// largest gain reduction of its limiter per hop of `curves.hop_s`, dB (empty: no
    /// limiter, or no curves asked for)
    pub limiter_reduction_per_hop_db: Vec<f32>,
    /// the loudness its group (the song alone, or its album) reached, LUFS (`None`: no
    /// target, or unmeasurable)
    pub group_lufs: Option<f64>,
}

/// What the closing did to a group.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// the songs, in the order given
    pub songs: Vec<Closed>,
    /// integrated loudness of the group before the gain, LUFS (`None`: unmeasurable)
    pub input_lufs: Option<f64>,
    /// the group gain (each song adds its offset), dB
    pub gain_db: f64,
    /// true when the ceiling, not the target, set the gain (songs without a limiter)
    pub limited_by_ceiling: bool,
    /// target − the group's loudness after the closing, LU (`None` without a target or when
    /// unmeasurable)
    pub miss_lu: Option<f64>,
}

/// Integrated loudness of songs taken together (all their gating blocks), LUFS; `None`
/// when undefined (silence, shorter than 400 ms).
pub fn group_lufs(songs: &[(&Planar, u32)]) -> Result<Option<f64>> {
    let gating: Vec<loudness::Gating> = songs
        .par_iter()
        .map(|(x, r)| loudness::gating(x, *r))
        .collect::<Result<_>>()?;
    Ok(loudness::Gating::integrated_multiple(&gating))
}

/// Songs after one pass of the closing, with each limiter's largest gain reduction, overall
/// and per hop of the reports' curves.
type Pass = Vec<(Planar, Option<(f64, Vec<f32>)>)>;

/// One pass: every song at `gain_db` + its offset, through its limiter, faded; and the
/// group's loudness.
fn pass(members: &[Member<'_>], gain_db: f64) -> Result<(Pass, Option<f64>)> {
    let out: Pass = members
        .par_iter()
        .map(|m| {
            let mut y = m.audio.clone();
            loudness::apply_gain(&mut y, gain_db + m.offset_db);
            let hop = loudness::curves::hop_frames(y.first().map_or(0, Vec::len), m.rate);
            let gr = m.limiter.map(|l| {
                if m.curves {
                    l.process_cpu_traced(&mut y, hop)
                } else {
                    (l.process_cpu(&mut y), Vec::new())
                }
            });
            m.fades.apply(&mut y);
            (y, gr)
        })
        .collect();
    let refs: Vec<(&Planar, u32)> = out
        .iter()
        .zip(members)
        .map(|((y, _), m)| (y, m.rate))
        .collect();
    let l = group_lufs(&refs)?;
    Ok((out, l))
}

/// Closes a group of songs (one song alone, or an album) toward `target_lufs` under
/// `ceiling_dbtp`; see the module docs. Without a target the gain only enforces the ceiling
/// on songs without a limiter (a limiter guards its own song).
pub fn close(
    members: &[Member<'_>],
    target_lufs: Option<f64>,
    ceiling_dbtp: f64,
) -> Result<Outcome> {
    let input_lufs = match members {
        [Member {
            measured: Some(l), ..
        }] => l.integrated_lufs,
        _ => {
            let inputs: Vec<(&Planar, u32)> = members.iter().map(|m| (m.audio, m.rate)).collect();
            group_lufs(&inputs)?
        }
    };
    let all_limited = members.iter().all(|m| m.limiter.is_some());
    // per song: its input measurement where the closing wrote its samples unchanged (no
    // limiter, no fades, 0 dB): the output then measures exactly that
    let mut unchanged: Vec<Option<Loudness>> = vec![None; members.len()];
    let (gain_db, limited_by_ceiling, (out, reached)) = match (target_lufs, input_lufs) {
        (Some(target), Some(l0)) if all_limited => {
            let mut gain_db = target - l0;
            let mut best: Option<(f64, Pass, Option<f64>, f64)> = None;
            let mut search = GainSearch::default();
            for _ in 0..LIMITER_SEARCH_PASSES {
                let (y, l) = pass(members, gain_db)?;
                let err = target - l.unwrap_or(target);
                if best.as_ref().is_none_or(|b| err.abs() < b.3.abs()) {
                    best = Some((gain_db, y, l, err));
                }
                if err.abs() <= LIMITER_SEARCH_TOLERANCE_LU {
                    break;
                }
                gain_db = search.next(gain_db, target - err, target);
            }
            let (g, y, l, _) = best.expect("at least one pass");
            (g, false, (y, l))
        }
        _ => {
            let want = match (target_lufs, input_lufs) {
                (Some(target), Some(l0))
                    if members
                        .iter()
                        .all(|m| m.offset_db == 0.0 && m.fades.is_none()) =>
                {
                    target - l0
                }
                (Some(target), Some(_)) => {
                    // loudness is linear in the gain here: measure once at 0 dB
                    let (_, l) = pass(&without_limiters(members), 0.0)?;
                    l.map_or(0.0, |l| target - l)
                }
                _ => 0.0,
            };
            // the full measurement of each song without a limiter: its true peak sets the
            // headroom, and a song the closing leaves as it is reads the same afterwards
            let inputs: Vec<Option<Loudness>> = members
                .par_iter()
                .map(|m| match (m.limiter, m.measured) {
                    (Some(_), _) => Ok(None),
                    (None, Some(l)) => Ok(Some(*l)),
                    (None, None) => loudness::measure(m.audio, m.rate).map(Some),
                })
                .collect::<Result<_>>()?;
            let headroom = inputs
                .iter()
                .zip(members)
                .filter_map(|(l, m)| l.map(|l| ceiling_dbtp - (l.true_peak_dbtp + m.offset_db)))
                .fold(f64::INFINITY, f64::min);
            let gain_db = want.min(headroom);
            unchanged = inputs
                .into_iter()
                .zip(members)
                .map(|(l, m)| l.filter(|_| gain_db + m.offset_db == 0.0 && m.fades.is_none()))
                .collect();
            (gain_db, gain_db < want, pass(members, gain_db)?)
        }
    };
    let group = target_lufs.and(reached);
    let songs = out
        .into_par_iter()
        .zip(members.par_iter().zip(unchanged))
        .map(|((audio, gr), (m, same))| {
            let (output, curves) = if m.curves {
                let measured = loudness::measure_with_curves(&audio, m.rate)?;
                (measured.loudness, Some(measured.curves))
            } else if let Some(l) = same {
                (l, None)
            } else {
                (loudness::measure(&audio, m.rate)?, None)
            };
            let (gr, gr_per_hop) = gr.map_or((None, Vec::new()), |(g, v)| (Some(g), v));
            Ok(Closed {
                audio,
                gain_db: gain_db + m.offset_db,
                limiter_reduction_db: gr,
                output,
                curves,
                limiter_reduction_per_hop_db: gr_per_hop,
                group_lufs: group,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Outcome {
        songs,
        input_lufs,
        gain_db,
        limited_by_ceiling,
        miss_lu: target_lufs.zip(reached).map(|(t, l)| t - l),
    })
}

/// The members with their limiters taken out (the linear measurement pass).
fn without_limiters<'a>(members: &[Member<'a>]) -> Vec<Member<'a>> {
    members
        .iter()
        .map(|m| Member {
            limiter: None,
            ..*m
        })
        .collect()
}
