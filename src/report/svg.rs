//! Hand-written SVG charts for the HTML reports: line charts on a linear or log-frequency
//! x axis (loudness, true peak and gain reduction over time; spectra), bars (an album's
//! songs side by side) and spans (an album's sequence). Text is drawn by the browser with
//! its generic `sans-serif` font; no fonts, scripts or network are needed.

use std::fmt::Write as _;

use super::html::esc;

/// Width of every chart, px (the page scales it down on narrow screens).
pub const WIDTH: f64 = 640.0;
/// Height of every chart, px.
pub const HEIGHT: f64 = 240.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 34.0;

/// One line of a chart: points `(x, y)`, `None` where the value is undefined (a gap).
pub struct Line<'a> {
    /// legend text
    pub name: &'a str,
    /// CSS colour
    pub color: &'a str,
    /// stroke width, px
    pub width: f64,
    /// dashed
    pub dashed: bool,
    /// the points
    pub points: Vec<(f64, Option<f64>)>,
}

/// A horizontal marker (target, ceiling).
pub struct Rule<'a> {
    /// label
    pub name: &'a str,
    /// CSS colour
    pub color: &'a str,
    /// y value
    pub y: f64,
}

/// Axes of a chart.
pub struct Axes<'a> {
    /// title above the plot
    pub title: &'a str,
    /// x axis label
    pub x_label: &'a str,
    /// y axis label
    pub y_label: &'a str,
    /// x range
    pub x: (f64, f64),
    /// y range
    pub y: (f64, f64),
    /// logarithmic x (frequency)
    pub log_x: bool,
}

impl Axes<'_> {
    fn px(&self, x: f64) -> f64 {
        let (a, b, v) = if self.log_x {
            (self.x.0.ln(), self.x.1.ln(), x.max(1e-9).ln())
        } else {
            (self.x.0, self.x.1, x)
        };
        LEFT + (v - a) / (b - a).max(1e-12) * (WIDTH - LEFT - RIGHT)
    }

    fn py(&self, y: f64) -> f64 {
        let t = (y - self.y.0) / (self.y.1 - self.y.0).max(1e-12);
        TOP + (1.0 - t.clamp(-0.02, 1.02)) * (HEIGHT - TOP - BOTTOM)
    }
}

/// A "nice" step for about `n` ticks over `span`.
fn tick_step(span: f64, n: f64) -> f64 {
    let raw = (span / n).max(1e-9);
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
}

/// `lo..hi` widened to whole `step`s.
pub fn padded_range(lo: f64, hi: f64, step: f64) -> (f64, f64) {
    let lo = (lo / step).floor() * step;
    let hi = (hi / step).ceil() * step;
    if hi - lo < step {
        (lo, lo + step)
    } else {
        (lo, hi)
    }
}

fn fmt_tick(v: f64) -> String {
    if v.abs() >= 1000.0 && v % 1000.0 == 0.0 {
        format!("{}k", v / 1000.0)
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The frame of a chart: background, title, grid with tick labels (x ticks only when
/// `x_ticks`), the plot's border and the axis labels. The `<svg>` carries the axes' ranges
/// (`data-x0` … `data-y1`) and the plot area in px (`data-plot`: left top right bottom).
fn frame(a: &Axes<'_>, x_ticks: bool, out: &mut String) {
    let (w, h) = (WIDTH, HEIGHT);
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{t}" data-x0="{x0}" data-x1="{x1}" data-y0="{y0}" data-y1="{y1}" data-plot="{LEFT} {TOP} {pr} {pb}"><rect x="0" y="0" width="{w}" height="{h}" fill="#fff"/><text x="{LEFT}" y="16" class="t">{t}</text>"##,
        t = esc(a.title),
        x0 = a.x.0,
        x1 = a.x.1,
        y0 = a.y.0,
        y1 = a.y.1,
        pr = WIDTH - RIGHT,
        pb = HEIGHT - BOTTOM,
    );
    // y grid
    let step = tick_step(a.y.1 - a.y.0, 5.0);
    let mut v = (a.y.0 / step).ceil() * step;
    while v <= a.y.1 + 1e-9 {
        let y = a.py(v);
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" stroke="#e3e3e3"/><text x="{tx}" y="{ty:.1}" class="yt">{l}</text>"##,
            x2 = WIDTH - RIGHT,
            tx = LEFT - 4.0,
            ty = y + 4.0,
            l = fmt_tick(v)
        );
        v += step;
    }
    // x grid
    let xs: Vec<f64> = if !x_ticks {
        Vec::new()
    } else if a.log_x {
        [20.0, 50.0, 100.0, 200.0, 500.0, 1e3, 2e3, 5e3, 1e4, 2e4]
            .into_iter()
            .filter(|f| *f >= a.x.0 && *f <= a.x.1)
            .collect()
    } else {
        let step = tick_step(a.x.1 - a.x.0, 8.0);
        let first = (a.x.0 / step).ceil() as i64;
        let last = (a.x.1 / step + 1e-9).floor() as i64;
        (first..=last).map(|k| k as f64 * step).collect()
    };
    for v in xs {
        let x = a.px(v);
        let _ = write!(
            out,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{y2}" stroke="#eee"/><text x="{x:.1}" y="{ty}" class="xt">{l}</text>"##,
            y2 = HEIGHT - BOTTOM,
            ty = HEIGHT - BOTTOM + 14.0,
            l = fmt_tick(v)
        );
    }
    let _ = write!(
        out,
        r##"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#999"/><text x="{cx}" y="{by}" class="xl">{xl}</text><text x="12" y="{cy}" class="yl" transform="rotate(-90 12 {cy})">{yl}</text>"##,
        pw = WIDTH - LEFT - RIGHT,
        ph = HEIGHT - TOP - BOTTOM,
        cx = (LEFT + WIDTH - RIGHT) / 2.0,
        by = HEIGHT - 4.0,
        cy = (TOP + HEIGHT - BOTTOM) / 2.0,
        xl = esc(a.x_label),
        yl = esc(a.y_label),
    );
}

/// The legend: one row under the title, left to right.
fn legend(items: &[(&str, &str, bool)], out: &mut String) {
    let mut x = LEFT;
    for (name, color, dashed) in items {
        let dash = if *dashed {
            r#" stroke-dasharray="5 3""#
        } else {
            ""
        };
        let _ = write!(
            out,
            r#"<line x1="{x:.1}" x2="{x2:.1}" y1="27" y2="27" stroke="{color}" stroke-width="2"{dash}/><text x="{tx:.1}" y="31" class="lg">{n}</text>"#,
            x2 = x + 18.0,
            tx = x + 22.0,
            n = esc(name)
        );
        x += 34.0 + 6.0 * name.chars().count() as f64;
    }
}

/// A line chart: the lines (each a `<polyline>` per unbroken run, with `data-name`), the
/// rules, a legend.
pub fn line_chart(a: &Axes<'_>, lines: &[Line<'_>], rules: &[Rule<'_>]) -> String {
    let mut out = String::new();
    frame(a, true, &mut out);
    for r in rules {
        let y = a.py(r.y);
        let _ = write!(
            out,
            r#"<line x1="{LEFT}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" stroke="{c}" stroke-dasharray="2 3" stroke-width="1.5" data-name="{n}" data-y="{v}"/><text x="{tx}" y="{ty:.1}" class="rl" fill="{c}">{n}</text>"#,
            x2 = WIDTH - RIGHT,
            c = r.color,
            n = esc(r.name),
            v = r.y,
            tx = WIDTH - RIGHT - 4.0,
            ty = y - 3.0,
        );
    }
    for l in lines {
        let mut runs: Vec<String> = vec![String::new()];
        let inside = |x: f64| x >= a.x.0 - 1e-9 && x <= a.x.1 + 1e-9;
        for &(x, y) in l.points.iter().filter(|p| inside(p.0)) {
            match y {
                Some(y) if y.is_finite() => {
                    let run = runs.last_mut().expect("one run");
                    let _ = write!(run, "{:.1},{:.1} ", a.px(x), a.py(y));
                }
                _ if !runs.last().is_some_and(String::is_empty) => runs.push(String::new()),
                _ => {}
            }
        }
        let dash = if l.dashed {
            r#" stroke-dasharray="5 3""#
        } else {
            ""
        };
        for run in runs.iter().filter(|r| !r.is_empty()) {
            let _ = write!(
                out,
                r#"<polyline fill="none" stroke="{c}" stroke-width="{w}"{dash} stroke-linejoin="round" data-name="{n}" points="{p}"/>"#,
                c = l.color,
                w = l.width,
                n = esc(l.name),
                p = run.trim_end()
            );
        }
    }
    let items: Vec<(&str, &str, bool)> =
        lines.iter().map(|l| (l.name, l.color, l.dashed)).collect();
    legend(&items, &mut out);
    out.push_str("</svg>");
    out
}

/// One bar of a bar chart.
pub struct Bar<'a> {
    /// label under the bar
    pub label: &'a str,
    /// bar top (`None`: no bar)
    pub value: Option<f64>,
    /// a marker drawn across the bar (e.g. the input loudness)
    pub marker: Option<f64>,
    /// tooltip
    pub tip: String,
}

/// A bar chart over `a.y` (bars rise from `a.y.0`); `a.x` is ignored.
pub fn bar_chart(a: &Axes<'_>, bars: &[Bar<'_>], rules: &[Rule<'_>], marker_name: &str) -> String {
    let n = bars.len().max(1) as f64;
    let axes = Axes { x: (0.0, n), ..*a };
    let mut out = String::new();
    frame(
        &Axes {
            log_x: false,
            ..axes
        },
        false,
        &mut out,
    );
    let slot = (WIDTH - LEFT - RIGHT) / n;
    for (k, b) in bars.iter().enumerate() {
        let x = LEFT + slot * k as f64 + slot * 0.15;
        let w = slot * 0.7;
        if let Some(v) = b.value {
            let (top, base) = (axes.py(v), axes.py(axes.y.0));
            let _ = write!(
                out,
                r##"<rect x="{x:.1}" y="{top:.1}" width="{w:.1}" height="{h:.1}" fill="#4a7fb5" data-v="{v}"><title>{t}</title></rect>"##,
                h = (base - top).max(0.0),
                t = esc(&b.tip)
            );
        }
        if let Some(m) = b.marker {
            let y = axes.py(m);
            let _ = write!(
                out,
                r##"<line x1="{x:.1}" x2="{x2:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#d08020" stroke-width="3" data-v="{m}"/>"##,
                x2 = x + w
            );
        }
        let _ = write!(
            out,
            r#"<text x="{cx:.1}" y="{ty}" class="xt">{l}</text>"#,
            cx = x + w / 2.0,
            ty = HEIGHT - BOTTOM + 14.0,
            l = esc(b.label)
        );
    }
    for r in rules {
        let y = axes.py(r.y);
        let _ = write!(
            out,
            r#"<line x1="{LEFT}" x2="{x2}" y1="{y:.1}" y2="{y:.1}" stroke="{c}" stroke-dasharray="2 3" stroke-width="1.5"/><text x="{tx}" y="{ty:.1}" class="rl" fill="{c}">{n}</text>"#,
            x2 = WIDTH - RIGHT,
            c = r.color,
            n = esc(r.name),
            tx = WIDTH - RIGHT - 4.0,
            ty = y - 3.0,
        );
    }
    legend(
        &[
            ("integrated", "#4a7fb5", false),
            (marker_name, "#d08020", false),
        ],
        &mut out,
    );
    out.push_str("</svg>");
    out
}

/// Shades spans `(start, end, label)` of the x axis behind a chart's plot area: insert the
/// result right after the chart's opening `<svg …>` frame (see [`with_spans`]).
fn spans_svg(a: &Axes<'_>, spans: &[(f64, f64, String)]) -> String {
    let mut out = String::new();
    for (k, (s, e, label)) in spans.iter().enumerate() {
        let (x0, x1) = (a.px(*s), a.px(*e));
        let fill = if k % 2 == 0 { "#eef3fa" } else { "#f6f0e6" };
        let _ = write!(
            out,
            r#"<rect x="{x0:.1}" y="{TOP}" width="{w:.1}" height="{h}" fill="{fill}" class="span" data-start="{s}" data-end="{e}"><title>{t}</title></rect><text x="{x0:.1}" y="{ty}" class="sp">{t}</text>"#,
            w = (x1 - x0).max(0.5),
            h = HEIGHT - TOP - BOTTOM,
            ty = TOP + 11.0,
            t = esc(label)
        );
    }
    out
}

/// A line chart with shaded spans behind the lines (an album's songs on its timeline; the
/// white between them is the gap).
pub fn with_spans(
    a: &Axes<'_>,
    spans: &[(f64, f64, String)],
    lines: &[Line<'_>],
    rules: &[Rule<'_>],
) -> String {
    let chart = line_chart(a, lines, rules);
    // after the background <rect> and the title (the first two elements)
    let cut = chart
        .find(r#"class="t">"#)
        .and_then(|i| chart[i..].find("</text>").map(|j| i + j + 7))
        .unwrap_or(0);
    format!("{}{}{}", &chart[..cut], spans_svg(a, spans), &chart[cut..])
}
