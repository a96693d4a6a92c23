//! The per-song panels (a song page of `mixfarm report`, a file of `mixfarm analyze
//! --html`): short-term and momentary loudness over time before and after, true peak over
//! time with the ceiling, the limiter's gain reduction over time, the long-term spectrum
//! before and after with the reference's and the match curve.

use super::svg::{self, Axes, Line, Rule};
use crate::loudness::{Bands, Curves};
use crate::master::SongReport;

/// What the panels of one song show.
pub struct Panel<'a> {
    /// the input's meters (`None` for `analyze`)
    pub before: Option<&'a Curves>,
    /// the output's meters (`analyze`: the file's)
    pub after: &'a Curves,
    /// the closing limiter's gain reduction per hop of `after.hop_s`, dB (empty: none)
    pub limiter_reduction_db: &'a [f32],
    /// the loudness target, LUFS
    pub target_lufs: Option<f64>,
    /// the true-peak ceiling, dBTP
    pub ceiling_dbtp: Option<f64>,
    /// the reference's long-term spectrum (`--reference`)
    pub reference: Option<&'a Bands>,
    /// the match EQ's curve (`--reference`)
    pub match_curve: Option<&'a Bands>,
}

const AFTER: &str = "#1f5fa8";
const AFTER_LIGHT: &str = "#8fb3de";
const BEFORE: &str = "#888";
const BEFORE_LIGHT: &str = "#c4c4c4";
const RED: &str = "#c0392b";
const REF: &str = "#2e8b57";

/// A series as points at the middle of each hop.
fn points(v: &[Option<f32>], hop_s: f64) -> Vec<(f64, Option<f64>)> {
    v.iter()
        .enumerate()
        .map(|(k, y)| ((k as f64 + 0.5) * hop_s, y.map(f64::from)))
        .collect()
}

/// Duration covered by a series, seconds.
fn span_s(c: &Curves) -> f64 {
    c.momentary_lufs.len() as f64 * c.hop_s
}

/// Finite values of series.
fn finite<'a>(series: impl Iterator<Item = &'a [Option<f32>]>) -> Vec<f64> {
    series
        .flat_map(|s| s.iter().flatten().map(|&v| f64::from(v)))
        .filter(|v| v.is_finite())
        .collect()
}

/// `(lo, hi)` of the values and the extra marks, with `lo` no lower than `hi − depth`.
fn y_range(values: &[f64], marks: &[f64], depth: f64, step: f64) -> (f64, f64) {
    let all: Vec<f64> = values.iter().chain(marks).copied().collect();
    let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
    if !hi.is_finite() {
        return (-60.0, 0.0);
    }
    svg::padded_range(lo.max(hi - depth), hi + 0.5, step)
}

/// The loudness chart: momentary and short-term, before and after, with the target.
pub fn loudness_chart(p: &Panel<'_>) -> String {
    let a = p.after;
    let mut lines = Vec::new();
    if let Some(b) = p.before {
        lines.push(Line {
            name: "momentary before",
            color: BEFORE_LIGHT,
            width: 1.0,
            dashed: false,
            points: points(&b.momentary_lufs, b.hop_s),
        });
        lines.push(Line {
            name: "short-term before",
            color: BEFORE,
            width: 1.6,
            dashed: true,
            points: points(&b.short_term_lufs, b.hop_s),
        });
    }
    let (m_name, s_name) = if p.before.is_some() {
        ("momentary after", "short-term after")
    } else {
        ("momentary", "short-term")
    };
    lines.push(Line {
        name: m_name,
        color: AFTER_LIGHT,
        width: 1.0,
        dashed: false,
        points: points(&a.momentary_lufs, a.hop_s),
    });
    lines.push(Line {
        name: s_name,
        color: AFTER,
        width: 2.0,
        dashed: false,
        points: points(&a.short_term_lufs, a.hop_s),
    });
    let values = finite(
        [Some(a), p.before]
            .into_iter()
            .flatten()
            .flat_map(|c| [c.momentary_lufs.as_slice(), c.short_term_lufs.as_slice()]),
    );
    let marks: Vec<f64> = p.target_lufs.into_iter().collect();
    let rules: Vec<Rule<'_>> = p
        .target_lufs
        .map(|t| Rule {
            name: "target",
            color: RED,
            y: t,
        })
        .into_iter()
        .collect();
    let x1 = span_s(a).max(p.before.map_or(0.0, span_s)).max(a.hop_s);
    let axes = Axes {
        title: "Loudness over time",
        x_label: "time, s",
        y_label: "LUFS",
        x: (0.0, x1),
        y: y_range(&values, &marks, 40.0, 5.0),
        log_x: false,
    };
    svg::line_chart(&axes, &lines, &rules)
}

/// The true-peak chart: before and after, with the ceiling.
pub fn true_peak_chart(p: &Panel<'_>) -> String {
    let a = p.after;
    let mut lines = Vec::new();
    if let Some(b) = p.before {
        lines.push(Line {
            name: "before",
            color: BEFORE,
            width: 1.4,
            dashed: true,
            points: points(&b.true_peak_dbtp, b.hop_s),
        });
    }
    lines.push(Line {
        name: if p.before.is_some() {
            "after"
        } else {
            "true peak"
        },
        color: AFTER,
        width: 1.8,
        dashed: false,
        points: points(&a.true_peak_dbtp, a.hop_s),
    });
    let values = finite(
        [Some(a), p.before]
            .into_iter()
            .flatten()
            .map(|c| c.true_peak_dbtp.as_slice()),
    );
    let marks: Vec<f64> = p.ceiling_dbtp.into_iter().collect();
    let rules: Vec<Rule<'_>> = p
        .ceiling_dbtp
        .map(|c| Rule {
            name: "ceiling",
            color: RED,
            y: c,
        })
        .into_iter()
        .collect();
    let x1 = span_s(a).max(p.before.map_or(0.0, span_s)).max(a.hop_s);
    let axes = Axes {
        title: "True peak over time",
        x_label: "time, s",
        y_label: "dBTP",
        x: (0.0, x1),
        y: y_range(&values, &marks, 30.0, 3.0),
        log_x: false,
    };
    svg::line_chart(&axes, &lines, &rules)
}

/// The limiter's gain reduction over time (`None` without a limiter).
pub fn reduction_chart(p: &Panel<'_>) -> Option<String> {
    if p.limiter_reduction_db.is_empty() {
        return None;
    }
    let hop = p.after.hop_s;
    let pts: Vec<(f64, Option<f64>)> = p
        .limiter_reduction_db
        .iter()
        .enumerate()
        .map(|(k, &v)| ((k as f64 + 0.5) * hop, Some(f64::from(v))))
        .collect();
    let top = p.limiter_reduction_db.iter().fold(0.0f32, |m, &v| m.max(v));
    let axes = Axes {
        title: "Limiter gain reduction over time",
        x_label: "time, s",
        y_label: "dB",
        x: (0.0, (pts.len() as f64 * hop).max(hop)),
        y: svg::padded_range(0.0, f64::from(top).max(1.0), 1.0),
        log_x: false,
    };
    let line = Line {
        name: "gain reduction",
        color: "#8e44ad",
        width: 1.8,
        dashed: false,
        points: pts,
    };
    Some(svg::line_chart(&axes, &[line], &[]))
}

fn band_points(b: &Bands) -> Vec<(f64, Option<f64>)> {
    b.hz.iter()
        .zip(&b.db)
        .map(|(&f, &d)| (f64::from(f), Some(f64::from(d)).filter(|d| *d > -199.0)))
        .collect()
}

/// The long-term spectra: before, after, the reference.
pub fn spectrum_chart(p: &Panel<'_>) -> String {
    let mut lines = Vec::new();
    if let Some(b) = p.before {
        lines.push(Line {
            name: "before",
            color: BEFORE,
            width: 1.4,
            dashed: true,
            points: band_points(&b.spectrum),
        });
    }
    lines.push(Line {
        name: if p.before.is_some() {
            "after"
        } else {
            "spectrum"
        },
        color: AFTER,
        width: 1.8,
        dashed: false,
        points: band_points(&p.after.spectrum),
    });
    if let Some(r) = p.reference {
        lines.push(Line {
            name: "reference",
            color: REF,
            width: 1.6,
            dashed: false,
            points: band_points(r),
        });
    }
    let values: Vec<f64> = lines
        .iter()
        .flat_map(|l| l.points.iter().filter_map(|p| p.1))
        .collect();
    let axes = Axes {
        title: "Long-term spectrum (1/3-octave bands every 1/6 octave)",
        x_label: "frequency, Hz",
        y_label: "dB",
        x: (20.0, 20_000.0),
        y: y_range(&values, &[], 60.0, 10.0),
        log_x: true,
    };
    svg::line_chart(&axes, &lines, &[])
}

/// The match EQ's curve (`--reference`).
pub fn match_chart(curve: &Bands) -> String {
    let values: Vec<f64> = curve.db.iter().map(|&d| f64::from(d)).collect();
    let axes = Axes {
        title: "Match EQ curve toward the reference",
        x_label: "frequency, Hz",
        y_label: "gain, dB",
        x: (20.0, 20_000.0),
        y: y_range(&values, &[-1.0, 1.0], 30.0, 1.0),
        log_x: true,
    };
    let line = Line {
        name: "match EQ",
        color: REF,
        width: 1.8,
        dashed: false,
        points: band_points(curve),
    };
    svg::line_chart(&axes, &[line], &[])
}

/// Every chart of a song, in a flex box.
pub fn panels(p: &Panel<'_>) -> String {
    let mut charts = vec![loudness_chart(p), true_peak_chart(p)];
    charts.extend(reduction_chart(p));
    charts.push(spectrum_chart(p));
    charts.extend(p.match_curve.map(match_chart));
    format!("<div class=\"charts\">{}</div>", charts.concat())
}

/// The panel of a song's report (`None` when its sidecar has no curves: an earlier version).
pub fn report_panels(r: &SongReport) -> Option<String> {
    let c = r.curves.as_ref()?;
    Some(panels(&Panel {
        before: Some(&c.input),
        after: &c.output,
        limiter_reduction_db: &c.limiter_reduction_db,
        target_lufs: Some(r.target_lufs),
        ceiling_dbtp: Some(r.ceiling_dbtp),
        reference: c.reference_spectrum.as_ref(),
        match_curve: c.match_curve.as_ref(),
    }))
}
