//! The visual report (issue 14) in a real browser: a small generated catalog mastered with
//! `--report-html --sequence --reference` to two deliveries; `mixfarm report` rebuilds the
//! same pages from the sidecars; headless Chromium renders the overview, a song page and an
//! album page to PNG and to a DOM without console errors, and every figure in the pages is
//! checked against the sidecars (which hold the meters' values). Skipped without Chromium
//! unless MIXFARM_REQUIRE_CHROMIUM=1 or MIXFARM_REQUIRE_GPU=1 (CI).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::browser::{self, attr, elements, text};
use serde_json::Value;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mixfarm"));
    c.env("XDG_RUNTIME_DIR", std::env::temp_dir());
    c
}

fn run(c: &mut Command) {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn files_with(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let mut rd: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    rd.sort();
    for p in rd {
        if p.is_dir() {
            files_with(&p, ext, out);
        } else if p.extension().is_some_and(|e| e == ext) {
            out.push(p);
        }
    }
}

/// The song sidecars under `out`, found by the test itself: JSON beside the masters.
fn song_sidecars(out: &Path) -> Vec<(PathBuf, Value)> {
    let mut all = Vec::new();
    for d in ["streaming", "broadcast"] {
        files_with(&out.join(d), "json", &mut all);
    }
    all.into_iter()
        .filter(|p| p.file_name().unwrap() != "sequence.json")
        .map(|p| {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (p, v)
        })
        .collect()
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// Checks one number cell: `data-v` equals the sidecar value, the text shows it to 0.01.
fn check_cell(cells: &[(&str, &str)], class: &str, want: Option<f64>, what: &str) {
    let (head, inner) = cells
        .iter()
        .find(|(h, _)| attr(h, "class").is_some_and(|c| c.split(' ').any(|w| w == class)))
        .unwrap_or_else(|| panic!("{what}: no cell {class}"));
    let dv = attr(head, "data-v").unwrap();
    match want {
        Some(w) => {
            let v: f64 = dv.parse().unwrap();
            assert!(
                (v - w).abs() < 1e-9,
                "{what} {class}: data-v {v}, sidecar {w}"
            );
            let shown: f64 = text(inner).parse().unwrap();
            assert!(
                (shown - w).abs() <= 0.005 + 1e-9,
                "{what} {class}: shows {shown}, sidecar {w}"
            );
        }
        None => assert_eq!(dv, "", "{what} {class}: sidecar has no value"),
    }
}

#[test]
fn report_pages_render_and_match_the_sidecars() {
    let Some(chromium) = browser::chromium("report_html") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let cat = tmp.path().join("cat");
    let out = tmp.path().join("out");
    run(bin().args(["synth-catalog", cat.to_str().unwrap()]).args([
        "--albums",
        "2",
        "--songs-per-album",
        "2",
        "--seconds",
        "5",
    ]));
    let mut wavs = Vec::new();
    files_with(&cat, "wav", &mut wavs);
    let reference = wavs[0].clone();
    // one song that fails (garbage in a .wav): it has no sidecar, the summary lists it
    std::fs::write(cat.join("bad.wav"), b"not a wave file at all").unwrap();
    let mut manifest = std::fs::read_to_string(cat.join("manifest.csv")).unwrap();
    manifest.push_str("bad.wav,Bad Song,Nobody,Broken,1,\n");
    std::fs::write(cat.join("manifest.csv"), manifest).unwrap();
    let status = bin()
        .args(["master", "--manifest"])
        .arg(cat.join("manifest.csv"))
        .arg("--out")
        .arg(&out)
        .args(["--deliver", "streaming,broadcast", "--format", "wav16"])
        .args([
            "--sequence",
            "--report-html",
            "--backend",
            "cpu",
            "--reference",
        ])
        .arg(&reference)
        .output()
        .unwrap();
    assert_eq!(
        status.status.code(),
        Some(1),
        "one song failed, the others were written: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let sidecars = song_sidecars(&out);
    assert_eq!(sidecars.len(), 8, "4 songs × 2 deliveries");
    // the curves in each sidecar are the meters' over time: each series tops out at the
    // figure the sidecar reports (the gain reduction from the limiter pass that was kept)
    let top = |v: &Value| {
        v.as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_f64)
            .fold(f64::NEG_INFINITY, f64::max)
    };
    for (p, v) in &sidecars {
        let c = &v["curves"];
        for (side, fig) in [("input", "input_loudness"), ("output", "output_loudness")] {
            let l = &v[fig];
            let pairs = [
                ("momentary_lufs", "momentary_max_lufs"),
                ("short_term_lufs", "short_term_max_lufs"),
                ("true_peak_dbtp", "true_peak_dbtp"),
            ];
            for (series, figure) in pairs {
                let (a, b) = (top(&c[side][series]), l[figure].as_f64().unwrap());
                assert!((a - b).abs() <= 0.006, "{p:?} {side} {series}: {a} vs {b}");
            }
        }
        let (a, b) = (
            top(&c["limiter_reduction_db"]),
            v["limiter_reduction_db"].as_f64().unwrap(),
        );
        assert!((a - b).abs() <= 1e-3, "{p:?} gain reduction: {a} vs {b}");
        assert!(c["reference_spectrum"].is_object() && c["match_curve"].is_object());
    }
    let overview = out.join("report.html");
    let first = std::fs::read(&overview).unwrap();
    // the overview holds no charts (they are on the song and album pages), so it stays
    // light for a large catalog
    assert!(!String::from_utf8_lossy(&first).contains("<svg"));
    assert!(
        !String::from_utf8_lossy(&first).contains("://"),
        "no absolute URL"
    );

    // `mixfarm report` rebuilds the same bytes from the sidecars alone
    std::fs::remove_file(&overview).unwrap();
    std::fs::remove_dir_all(out.join("report")).unwrap();
    run(bin().arg("report").arg(&out));
    assert_eq!(
        std::fs::read(&overview).unwrap(),
        first,
        "report.html rebuilt"
    );

    // the overview, sorted by the integrated-loudness column (column 5) through its script
    let dom = browser::dom(&chromium, &browser::file_url(&overview, "#sort=5"));
    let rows = elements(&dom, "tr", "data-sidecar=");
    assert_eq!(rows.len(), sidecars.len());
    let mut shown_i = Vec::new();
    for (head, inner) in &rows {
        let rel = attr(head, "data-sidecar").unwrap();
        let (_, v) = sidecars
            .iter()
            .find(|(p, _)| p.strip_prefix(&out).unwrap() == Path::new(rel))
            .unwrap_or_else(|| panic!("row for {rel} has no sidecar"));
        let cells = elements(inner, "td", "");
        let o = &v["output_loudness"];
        let i = num(&o["integrated_lufs"]);
        let tp = num(&o["true_peak_dbtp"]);
        check_cell(&cells, "i", i, rel);
        check_cell(&cells, "lra", num(&o["loudness_range_lu"]), rel);
        check_cell(&cells, "tp", tp, rel);
        check_cell(&cells, "gain", num(&v["gain_db"]), rel);
        check_cell(&cells, "gr", num(&v["limiter_reduction_db"]), rel);
        check_cell(&cells, "target", num(&v["target_lufs"]), rel);
        check_cell(&cells, "ceiling", num(&v["ceiling_dbtp"]), rel);
        check_cell(
            &cells,
            "input-i",
            num(&v["input_loudness"]["integrated_lufs"]),
            rel,
        );
        let plr = tp.zip(i).map(|(tp, i)| tp - i);
        check_cell(&cells, "plr", plr, rel);
        // pass/fail recomputed from the sidecar: peak under the ceiling, on target (track mode)
        let ceiling = num(&v["ceiling_dbtp"]).unwrap();
        let target = num(&v["target_lufs"]).unwrap();
        let pass = tp.unwrap() <= ceiling + 0.005 && (i.unwrap() - target).abs() <= 0.1;
        let spec = cells
            .iter()
            .find(|(h, _)| attr(h, "class").is_some_and(|c| c.contains("spec")))
            .unwrap();
        assert_eq!(text(spec.1), if pass { "pass" } else { "fail" }, "{rel}");
        let title = cells
            .iter()
            .find(|(h, _)| attr(h, "class") == Some("title"))
            .unwrap();
        assert_eq!(text(title.1), v["title"].as_str().unwrap());
        shown_i.push(i.unwrap());
    }
    assert!(
        shown_i.windows(2).all(|w| w[0] <= w[1]),
        "rows sorted by I: {shown_i:?}"
    );
    // the failed song, once per delivery, from summary.json: failed, and failing the spec
    let failed = elements(&dom, "tr", "class=\"no-sidecar\"");
    assert_eq!(failed.len(), 2);
    for (_, inner) in &failed {
        let t = text(inner);
        assert!(
            t.contains("Bad Song") && t.contains("failed") && t.contains("fail"),
            "{t}"
        );
        assert!(t.contains("bad.wav"), "the error names the file: {t}");
    }
    let png = tmp.path().join("overview.png");
    browser::screenshot(
        &chromium,
        &browser::file_url(&overview, ""),
        &png,
        1400,
        1000,
    );

    // one song page: the figures and the plotted data against its sidecar
    let (side, v) = &sidecars[0];
    let rel = side.strip_prefix(&out).unwrap().with_extension("html");
    let song_page = out.join("report").join(&rel);
    let dom = browser::dom(&chromium, &browser::file_url(&song_page, ""));
    let charts = elements(&dom, "svg", "class=\"chart\"");
    assert_eq!(
        charts.len(),
        5,
        "loudness, true peak, limiter, spectrum, match EQ"
    );
    let names: Vec<&str> = elements(&dom, "polyline", "data-name=")
        .iter()
        .filter_map(|(h, _)| attr(h, "data-name"))
        .collect();
    for want in [
        "short-term before",
        "short-term after",
        "momentary after",
        "before",
        "after",
        "gain reduction",
        "reference",
        "match EQ",
    ] {
        assert!(names.contains(&want), "no line {want} in {names:?}");
    }
    // the ceiling rule sits at the sidecar's ceiling
    let ceiling = elements(&dom, "line", "data-name=\"ceiling\"");
    assert_eq!(ceiling.len(), 1);
    let cy: f64 = attr(ceiling[0].0, "data-y").unwrap().parse().unwrap();
    assert_eq!(cy, num(&v["ceiling_dbtp"]).unwrap());
    // the highest point of the gain-reduction line is the sidecar's largest reduction
    let gr_chart = charts
        .iter()
        .find(|(_, inner)| inner.contains("data-name=\"gain reduction\""))
        .unwrap();
    let y0: f64 = attr(gr_chart.0, "data-y0").unwrap().parse().unwrap();
    let y1: f64 = attr(gr_chart.0, "data-y1").unwrap().parse().unwrap();
    let plot: Vec<f64> = attr(gr_chart.0, "data-plot")
        .unwrap()
        .split(' ')
        .map(|v| v.parse().unwrap())
        .collect();
    let (top_px, bottom_px) = (plot[1], plot[3]);
    let pts = elements(gr_chart.1, "polyline", "gain reduction");
    let min_px = pts
        .iter()
        .flat_map(|(h, _)| attr(h, "points").unwrap().split(' '))
        .map(|p| p.split(',').nth(1).unwrap().parse::<f64>().unwrap())
        .fold(f64::INFINITY, f64::min);
    let plotted = y0 + (bottom_px - min_px) / (bottom_px - top_px) * (y1 - y0);
    let gr = num(&v["limiter_reduction_db"]).unwrap();
    let per_px = (y1 - y0) / (bottom_px - top_px);
    assert!(
        (plotted - gr).abs() <= per_px + 0.01,
        "plotted GR top {plotted:.3} dB, sidecar {gr:.3} dB"
    );
    let text_all = text(&dom);
    let i = num(&v["output_loudness"]["integrated_lufs"]).unwrap();
    assert!(
        text_all.contains(&format!("{i:.2} LUFS")),
        "song page shows I {i:.2}"
    );
    let png = tmp.path().join("song.png");
    browser::screenshot(
        &chromium,
        &browser::file_url(&song_page, ""),
        &png,
        1400,
        1000,
    );

    // an album page: the sequence's spans where sequence.json puts the songs
    let album_dir = side.parent().unwrap();
    let seq: Value = serde_json::from_str(
        &std::fs::read_to_string(album_dir.join("sequence").join("sequence.json")).unwrap(),
    )
    .unwrap();
    let album_page = out
        .join("report")
        .join(album_dir.strip_prefix(&out).unwrap())
        .join("_album.html");
    let dom = browser::dom(&chromium, &browser::file_url(&album_page, ""));
    let spans = elements(&dom, "rect", "class=\"span\"");
    let rate = seq["sample_rate"].as_f64().unwrap();
    let starts = seq["track_start_frames"].as_array().unwrap();
    let lens = seq["track_frames"].as_array().unwrap();
    assert_eq!(spans.len(), starts.len());
    for ((h, _), (s, n)) in spans.iter().zip(starts.iter().zip(lens)) {
        let a: f64 = attr(h, "data-start").unwrap().parse().unwrap();
        let e: f64 = attr(h, "data-end").unwrap().parse().unwrap();
        let (s, n) = (s.as_f64().unwrap() / rate, n.as_f64().unwrap() / rate);
        assert!(
            (a - s).abs() < 1e-9 && (e - (s + n)).abs() < 1e-9,
            "span {a}..{e}"
        );
    }
    assert!(
        starts[1].as_f64().unwrap() > lens[0].as_f64().unwrap(),
        "a gap before the second song"
    );
    let bars = elements(&dom, "rect", "fill=\"#4a7fb5\"");
    assert_eq!(bars.len(), starts.len(), "one loudness bar per song");
}

#[test]
fn console_errors_are_caught() {
    // the check the report tests rely on: a page that throws is reported
    let Some(chromium) = browser::chromium("console_errors_are_caught") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("bad.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><script>no_such_function();</script></body></html>",
    )
    .unwrap();
    let l = browser::load(
        &chromium,
        &browser::file_url(&page, ""),
        &["--dump-dom".into()],
    );
    assert!(
        l.console.iter().any(|c| c.contains("no_such_function")),
        "uncaught error not seen; stderr:\n{}",
        l.stderr
    );
}
