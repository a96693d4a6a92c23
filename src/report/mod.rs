//! The visual report of `mixfarm master --report-html` and `mixfarm report DIR`: static
//! HTML pages with inline SVG charts, built from the sidecars alone (the song sidecars'
//! figures and curves, the album files' `sequence.json`, and for songs that failed and so
//! have no sidecar, `summary.json` or the shard reports), so a report can be rebuilt at any
//! time without the audio.
//!
//! `DIR/report.html` is the catalog overview (one sortable row per song and delivery);
//! every song and album has its own page under `DIR/report/<delivery>/<album>/` (a song
//! page is named after its sidecar; the album page is `_album.html`), so the overview stays
//! light for a catalog of thousands of songs. Pages fetch nothing: CSS, script and charts
//! are inline. Host only; no shader.

pub mod album;
pub mod html;
pub mod overview;
pub mod song;
pub mod svg;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::error::{Error, Result};
use crate::master::sidecar::SequenceReport;
use crate::master::{SongReport, Status};
use html::{esc, href, num, page};

/// The folder under the output folder that holds the song and album pages.
pub const PAGES_DIR: &str = "report";
/// The album page's name in its folder.
pub const ALBUM_PAGE: &str = "_album.html";

/// Every sidecar found under an output folder, paths relative to it.
#[derive(Debug, Default)]
pub struct Sidecars {
    /// song sidecars, sorted by delivery, album, track number, title
    pub songs: Vec<(PathBuf, SongReport)>,
    /// album-file sidecars (`sequence/sequence.json`)
    pub sequences: Vec<(PathBuf, SequenceReport)>,
    /// songs that failed (no sidecar), from `summary.json` and the shard reports in
    /// `reports/`
    pub failed: Vec<SongReport>,
}

/// The failed songs the summaries under `dir` list and no sidecar covers.
fn failed_from_summaries(dir: &Path, songs: &[(PathBuf, SongReport)]) -> Vec<SongReport> {
    let mut files = vec![dir.join("summary.json")];
    if let Ok(rd) = std::fs::read_dir(dir.join("reports")) {
        let mut shards: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        shards.sort();
        files.extend(
            shards
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "json")),
        );
    }
    let same = |a: &SongReport, b: &SongReport| {
        a.delivery == b.delivery && a.album == b.album && a.key == b.key
    };
    let mut out: Vec<SongReport> = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let Ok(s) = serde_json::from_str::<crate::master::Summary>(&text) else {
            continue;
        };
        for r in s.songs.into_iter().filter(|r| r.status == Status::Failed) {
            if !songs.iter().any(|(_, o)| same(o, &r)) && !out.iter().any(|o| same(o, &r)) {
                out.push(r);
            }
        }
    }
    out
}

fn walk(dir: &Path, root: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            let rel = p.strip_prefix(root).unwrap_or(&p);
            if rel != Path::new(PAGES_DIR) && rel != Path::new("reports") {
                walk(&p, root, out);
            }
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

/// Reads every song and album-file sidecar under `dir` (other JSON files are passed over).
pub fn read_sidecars(dir: &Path) -> Result<Sidecars> {
    if !dir.is_dir() {
        return Err(Error::input(dir, "not a folder"));
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    let mut s = Sidecars::default();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let rel = f.strip_prefix(dir).unwrap_or(&f).to_path_buf();
        if f.file_name().is_some_and(|n| n == "sequence.json") {
            if let Ok(r) = serde_json::from_str::<SequenceReport>(&text) {
                s.sequences.push((rel, r));
            }
        } else if let Ok(r) = serde_json::from_str::<SongReport>(&text) {
            s.songs.push((rel, r));
        }
    }
    s.failed = failed_from_summaries(dir, &s.songs);
    s.songs.sort_by(|(pa, a), (pb, b)| {
        (&a.delivery, &a.album, a.track_number, &a.title, pa).cmp(&(
            &b.delivery,
            &b.album,
            b.track_number,
            &b.title,
            pb,
        ))
    });
    Ok(s)
}

/// Path segments of a relative path.
fn segments(p: &Path) -> Vec<String> {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect()
}

/// `../` repeated to climb from a page in `report/<segments of dir>` to the output folder.
fn up(dir_segments: usize) -> String {
    "../".repeat(dir_segments + 1)
}

/// What [`write_report`] wrote.
#[derive(Debug)]
pub struct Written {
    /// the overview page
    pub overview: PathBuf,
    /// song pages written
    pub song_pages: usize,
    /// album pages written
    pub album_pages: usize,
}

fn write_page(path: &Path, text: &str) -> Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
    }
    crate::audio::encode::write_atomic(path, |tmp| {
        std::fs::write(tmp, text.as_bytes()).map_err(|e| Error::io(tmp, e))
    })
}

fn song_page(rel: &Path, r: &SongReport) -> String {
    let dir = segments(rel.parent().unwrap_or(Path::new("")));
    let back = format!("{}report.html", up(dir.len()));
    let o = r.output_loudness.as_ref();
    let i = r.input_loudness.as_ref();
    let mut figs = String::from("<dl class=\"figs\">");
    let rows: [(&str, String); 10] = [
        ("status", format!("{:?}", r.status).to_lowercase()),
        (
            "integrated loudness",
            format!(
                "{} LUFS (input {})",
                num(o.and_then(|l| l.integrated_lufs)),
                num(i.and_then(|l| l.integrated_lufs))
            ),
        ),
        ("target", format!("{} LUFS", num(Some(r.target_lufs)))),
        (
            "loudness range",
            format!("{} LU", num(o.and_then(|l| l.loudness_range_lu))),
        ),
        (
            "true peak",
            format!(
                "{} dBTP (ceiling {})",
                num(o.map(|l| l.true_peak_dbtp)),
                num(Some(r.ceiling_dbtp))
            ),
        ),
        ("gain", format!("{} dB", num(r.gain_db))),
        (
            "limiter gain reduction",
            format!("{} dB", num(r.limiter_reduction_db)),
        ),
        ("mode", esc(&r.reason)),
        ("reference", esc(r.match_eq.as_deref().unwrap_or("–"))),
        (
            "spec",
            match overview::spec_check(r) {
                Ok(()) => "<span class=\"pass\">pass</span>".into(),
                Err(w) => format!("<span class=\"fail\">fail</span>: {}", esc(&w)),
            },
        ),
    ];
    for (k, v) in rows {
        let _ = write!(figs, "<dt>{k}</dt><dd>{v}</dd>");
    }
    figs.push_str("</dl>");
    let warn: String = r
        .warnings
        .iter()
        .chain(&r.error)
        .map(|w| format!("<p class=\"warning\">{}</p>", esc(w)))
        .collect();
    let charts = song::report_panels(r).unwrap_or_else(|| {
        "<p>This sidecar holds no curves (written by an earlier mixfarm).</p>".into()
    });
    let body = format!(
        "<p><a href=\"{back}\">← catalog</a> · <a href=\"{ALBUM_PAGE}\">album {a}</a></p>\
         <h1>{t}</h1><p class=\"small\">{d} · {a} · track {n}</p>{figs}{warn}{charts}",
        back = esc(&back),
        a = esc(&r.album),
        t = esc(&r.title),
        d = esc(&r.delivery),
        n = r.track_number.map_or("–".into(), |n| n.to_string()),
    );
    page(&format!("{} — {}", r.title, r.delivery), &body, "")
}

fn album_page(
    dir: &Path,
    songs: &[(&PathBuf, &SongReport)],
    seq: Option<&SequenceReport>,
) -> String {
    let depth = segments(dir).len();
    let back = format!("{}report.html", up(depth));
    let first = songs[0].1;
    let mut list = String::from("<ol class=\"songs\">");
    for (rel, r) in songs {
        let stem = rel
            .file_stem()
            .map_or(String::new(), |s| s.to_string_lossy().into_owned());
        let _ = write!(
            list,
            "<li><a href=\"{}\">{}</a> — {} LUFS</li>",
            esc(&href(&[&format!("{stem}.html")])),
            esc(&r.title),
            num(r.output_loudness.and_then(|o| o.integrated_lufs))
        );
    }
    list.push_str("</ol>");
    let reports: Vec<&SongReport> = songs.iter().map(|(_, r)| *r).collect();
    let body = format!(
        "<p><a href=\"{back}\">← catalog</a></p><h1>{a}</h1><p class=\"small\">{d} · {n} songs{s}</p>{list}\
         <div class=\"charts\">{bars}{timeline}</div>",
        back = esc(&back),
        a = esc(&first.album),
        d = esc(&first.delivery),
        n = songs.len(),
        s = if seq.is_some() { " · album file with CUE sheet" } else { "" },
        bars = album::loudness_bars(&reports),
        timeline = album::timeline(&reports, seq),
    );
    page(&format!("{} — {}", first.album, first.delivery), &body, "")
}

/// Writes `dir/report.html` and the song and album pages from the sidecars under `dir`.
pub fn write_report(dir: &Path) -> Result<Written> {
    write_report_from(dir, &read_sidecars(dir)?)
}

/// [`write_report`] from sidecars already read.
pub fn write_report_from(dir: &Path, side: &Sidecars) -> Result<Written> {
    let mut albums: BTreeMap<PathBuf, Vec<(&PathBuf, &SongReport)>> = BTreeMap::new();
    for (rel, r) in &side.songs {
        let d = rel.parent().unwrap_or(Path::new("")).to_path_buf();
        albums.entry(d).or_default().push((rel, r));
    }
    let pages = dir.join(PAGES_DIR);
    let mut rows = Vec::with_capacity(side.songs.len());
    for (rel, r) in &side.songs {
        let html_rel = rel.with_extension("html");
        write_page(&pages.join(&html_rel), &song_page(rel, r))?;
        let mut seg = vec![PAGES_DIR.to_string()];
        seg.extend(segments(&html_rel));
        let song_href = href(&seg.iter().map(String::as_str).collect::<Vec<_>>());
        seg.pop();
        seg.push(ALBUM_PAGE.into());
        let album_href = href(&seg.iter().map(String::as_str).collect::<Vec<_>>());
        rows.push(overview::Row {
            report: r,
            sidecar: Some(segments(rel).join("/")),
            song_href: Some(song_href),
            album_href: Some(album_href),
        });
    }
    rows.extend(side.failed.iter().map(|r| overview::Row {
        report: r,
        sidecar: None,
        song_href: None,
        album_href: None,
    }));
    rows.sort_by(|a, b| {
        let key = |r: &SongReport| {
            (
                r.delivery.clone(),
                r.album.clone(),
                r.track_number,
                r.title.clone(),
            )
        };
        key(a.report).cmp(&key(b.report))
    });
    let mut album_list = String::from("<ul id=\"albums\">");
    for (d, songs) in &albums {
        let seq = side
            .sequences
            .iter()
            .find(|(p, _)| p.parent().and_then(Path::parent) == Some(d.as_path()))
            .map(|(_, s)| s);
        write_page(&pages.join(d).join(ALBUM_PAGE), &album_page(d, songs, seq))?;
        let mut seg = vec![PAGES_DIR.to_string()];
        seg.extend(segments(d));
        seg.push(ALBUM_PAGE.into());
        let _ = write!(
            album_list,
            "<li><a href=\"{}\">{} — {}</a> ({} songs)</li>",
            esc(&href(&seg.iter().map(String::as_str).collect::<Vec<_>>())),
            esc(&songs[0].1.delivery),
            esc(&songs[0].1.album),
            songs.len()
        );
    }
    album_list.push_str("</ul>");
    let count = |s: Status| rows.iter().filter(|r| r.report.status == s).count();
    let body = format!(
        "<h1>mixfarm catalog report</h1><p class=\"small\">{n} song deliveries in {a} albums: \
         {ok} ok, {w} with warnings, {sk} skipped (up to date), {f} failed. Click a column to sort; \
         a title opens the song's charts.</p>{deliveries}<h2>Albums</h2>{album_list}\
         <h2>Songs</h2>{table}",
        n = rows.len(),
        a = albums.len(),
        ok = count(Status::Ok),
        w = count(Status::Warning),
        sk = count(Status::Skipped),
        f = count(Status::Failed),
        deliveries = overview::delivery_summary(&rows),
        table = overview::table(&rows),
    );
    let overview_path = dir.join("report.html");
    write_page(
        &overview_path,
        &page("mixfarm catalog report", &body, overview::SORT_SCRIPT),
    )?;
    Ok(Written {
        overview: overview_path,
        song_pages: side.songs.len(),
        album_pages: albums.len(),
    })
}

/// `mixfarm report DIR`: rebuilds the report from the sidecars; exit 0, 1 when it could not
/// be written, 2 when `DIR` is not a folder or holds no song sidecar.
pub fn report_cmd(dir: &Path) -> ExitCode {
    let side = match read_sidecars(dir) {
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
        Ok(s) if s.songs.is_empty() && s.failed.is_empty() => {
            eprintln!(
                "error: {}: no song sidecars (mixfarm master writes them)",
                dir.display()
            );
            return ExitCode::from(2);
        }
        Ok(s) => s,
    };
    match write_report_from(dir, &side) {
        Ok(w) => {
            eprintln!(
                "report {} ({} song pages, {} album pages)",
                w.overview.display(),
                w.song_pages,
                w.album_pages
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
