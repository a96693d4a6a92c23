//! The per-album panels of `mixfarm report`: the songs' loudness side by side (integrated
//! loudness after, and before as a marker, against the target) and the album's timeline:
//! each song's short-term loudness in its place, with the gaps of the album file when
//! `--sequence` wrote one (songs end to end otherwise).

use super::svg::{self, Axes, Bar, Line, Rule};
use crate::master::sidecar::SequenceReport;
use crate::master::SongReport;

/// The bar chart of the album's integrated loudness per song.
pub fn loudness_bars(songs: &[&SongReport]) -> String {
    let labels: Vec<String> = songs
        .iter()
        .enumerate()
        .map(|(k, r)| r.track_number.unwrap_or(k as u32 + 1).to_string())
        .collect();
    let bars: Vec<Bar<'_>> = songs
        .iter()
        .zip(&labels)
        .map(|(r, l)| {
            let out = r.output_loudness.and_then(|o| o.integrated_lufs);
            let inp = r.input_loudness.and_then(|o| o.integrated_lufs);
            Bar {
                label: l,
                value: out,
                marker: inp,
                tip: format!(
                    "{}: {} LUFS (input {} LUFS)",
                    r.title,
                    super::html::num(out),
                    super::html::num(inp)
                ),
            }
        })
        .collect();
    let values: Vec<f64> = bars
        .iter()
        .flat_map(|b| [b.value, b.marker])
        .flatten()
        .chain(songs.iter().map(|r| r.target_lufs))
        .collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if lo.is_finite() {
        (lo - 6.0, hi + 1.0)
    } else {
        (-40.0, 0.0)
    };
    let target = songs.first().map(|r| r.target_lufs);
    let rules: Vec<Rule<'_>> = target
        .filter(|t| songs.iter().all(|r| r.target_lufs == *t))
        .map(|t| Rule {
            name: "target",
            color: "#c0392b",
            y: t,
        })
        .into_iter()
        .collect();
    let axes = Axes {
        title: "Integrated loudness per song (bar: after, line: before)",
        x_label: "track",
        y_label: "LUFS",
        x: (0.0, 1.0),
        y: svg::padded_range(lo, hi, 3.0),
        log_x: false,
    };
    svg::bar_chart(&axes, &bars, &rules, "input")
}

/// The album's timeline: every song's short-term loudness in its place.
pub fn timeline(songs: &[&SongReport], sequence: Option<&SequenceReport>) -> String {
    // (start, length) of every song, seconds
    let placed: Option<Vec<(f64, f64)>> = sequence.and_then(|s| {
        let rate = f64::from(s.sample_rate.max(1));
        (s.track_start_frames.len() == songs.len() && s.track_frames.len() == songs.len()).then(
            || {
                s.track_start_frames
                    .iter()
                    .zip(&s.track_frames)
                    .map(|(&a, &n)| (a as f64 / rate, n as f64 / rate))
                    .collect()
            },
        )
    });
    let (title, places) = match placed {
        Some(p) => ("Album sequence (album file, with its gaps)", p),
        None => {
            let mut t = 0.0;
            let p = songs
                .iter()
                .map(|r| {
                    let len = r.curves.as_ref().map_or(0.0, |c| {
                        c.output.momentary_lufs.len() as f64 * c.output.hop_s
                    });
                    let at = t;
                    t += len;
                    (at, len)
                })
                .collect();
            ("Album timeline (songs end to end)", p)
        }
    };
    let spans: Vec<(f64, f64, String)> = songs
        .iter()
        .zip(&places)
        .enumerate()
        .map(|(k, (r, &(s, n)))| {
            let label = format!("{} {}", r.track_number.unwrap_or(k as u32 + 1), r.title);
            (s, s + n, label)
        })
        .collect();
    let mut pts = Vec::new();
    for (r, &(start, _)) in songs.iter().zip(&places) {
        if let Some(c) = &r.curves {
            let h = c.output.hop_s;
            for (k, v) in c.output.short_term_lufs.iter().enumerate() {
                pts.push((start + (k as f64 + 0.5) * h, v.map(f64::from)));
            }
        }
        pts.push((start, None)); // break the line between songs
    }
    let values: Vec<f64> = pts.iter().filter_map(|p| p.1).collect();
    let hi = values.iter().copied().fold(-20.0, f64::max);
    let lo = values.iter().copied().fold(hi, f64::min).max(hi - 40.0);
    let end = places.iter().map(|(s, n)| s + n).fold(1.0, f64::max);
    let axes = Axes {
        title,
        x_label: "album time, s",
        y_label: "short-term LUFS",
        x: (0.0, end),
        y: svg::padded_range(lo, hi + 0.5, 5.0),
        log_x: false,
    };
    let line = Line {
        name: "short-term after",
        color: "#1f5fa8",
        width: 1.6,
        dashed: false,
        points: pts,
    };
    svg::with_spans(&axes, &spans, &[line], &[])
}
