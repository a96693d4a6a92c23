//! The catalog overview of `report.html`: one row per song and delivery (album, title,
//! integrated loudness, LRA, true peak, PLR, gain, limiter gain reduction, status, warnings,
//! pass/fail against the delivery's spec), links to the song and album pages, and a few
//! lines of inline script that sort the table by any column.

use std::fmt::Write as _;

use super::html::{esc, num, num_cell};
use crate::master::{AlbumMode, SongReport, Status};

/// Largest distance between a song's output loudness and its target that passes, LU (the
/// tolerance of the engine's warnings).
pub const LOUDNESS_TOLERANCE_LU: f64 = crate::engine::outcome::MISS_TOLERANCE_LU;
/// True peak may read this much over the ceiling and pass, dB (the sidecar's rounding).
pub const PEAK_TOLERANCE_DB: f64 = 0.005;

/// Whether a song meets its delivery's spec, and why not: written, true peak at or under
/// the ceiling, and its loudness on target (track mode: the song within
/// [`LOUDNESS_TOLERANCE_LU`]; album mode: the album, as the song's warnings record).
pub fn spec_check(r: &SongReport) -> Result<(), String> {
    if r.status == Status::Failed {
        return Err("not mastered".into());
    }
    let Some(o) = r.output_loudness.as_ref() else {
        return Err("no output loudness".into());
    };
    let mut why = Vec::new();
    if o.true_peak_dbtp > r.ceiling_dbtp + PEAK_TOLERANCE_DB {
        why.push(format!(
            "true peak {:+.2} dB over the ceiling",
            o.true_peak_dbtp - r.ceiling_dbtp
        ));
    }
    match (r.mode, o.integrated_lufs) {
        (_, None) => why.push("loudness unmeasurable".into()),
        (AlbumMode::Track, Some(i)) if (i - r.target_lufs).abs() > LOUDNESS_TOLERANCE_LU => why
            .push(format!(
                "loudness {:+.2} LU off the target",
                i - r.target_lufs
            )),
        (AlbumMode::Album, Some(_)) => {
            if let Some(w) = r.warnings.iter().find(|w| w.starts_with("album missed")) {
                why.push(w.clone());
            }
        }
        _ => {}
    }
    if why.is_empty() {
        Ok(())
    } else {
        Err(why.join("; "))
    }
}

/// A row of the overview: the report, and the links to its song and album pages.
pub struct Row<'a> {
    /// the song's report (its sidecar)
    pub report: &'a SongReport,
    /// the sidecar, relative to the output folder (`None`: a failed song, known from the
    /// summary only)
    pub sidecar: Option<String>,
    /// the song page, relative to `report.html`
    pub song_href: Option<String>,
    /// the album page, relative to `report.html`
    pub album_href: Option<String>,
}

/// `text` as a link to `href`, or plain.
fn link(href: Option<&String>, text: &str) -> String {
    match href {
        Some(h) => format!("<a href=\"{}\">{}</a>", esc(h), esc(text)),
        None => esc(text),
    }
}

const COLUMNS: [&str; 16] = [
    "delivery",
    "album",
    "#",
    "title",
    "status",
    "I (LUFS)",
    "target",
    "LRA (LU)",
    "true peak (dBTP)",
    "ceiling",
    "PLR (dB)",
    "gain (dB)",
    "limiter GR (dB)",
    "input I (LUFS)",
    "spec",
    "warnings",
];

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::Warning => "warning",
        Status::Skipped => "skipped",
        Status::Failed => "failed",
    }
}

/// The overview table (`id="overview"`); every row carries `data-sidecar` and every number
/// cell its exact value in `data-v`.
pub fn table(rows: &[Row<'_>]) -> String {
    let mut t = String::from("<table id=\"overview\"><thead><tr>");
    for (k, c) in COLUMNS.iter().enumerate() {
        let _ = write!(t, "<th data-col=\"{k}\">{}</th>", esc(c));
    }
    t.push_str("</tr></thead><tbody>\n");
    for row in rows {
        let r = row.report;
        let o = r.output_loudness.as_ref();
        let i = o.and_then(|l| l.integrated_lufs);
        let tp = o.map(|l| l.true_peak_dbtp).filter(|v| v.is_finite());
        let plr = tp.zip(i).map(|(tp, i)| tp - i);
        let (spec_class, spec_text, spec_tip) = match spec_check(r) {
            Ok(()) => ("pass", "pass", String::new()),
            Err(w) => ("fail", "fail", w),
        };
        let status = status_name(r.status);
        let mut notes: Vec<String> = r.warnings.clone();
        notes.extend(r.error.clone());
        let _ = writeln!(
            t,
            "<tr{sc}><td>{d}</td><td>{a}</td>{tn}<td class=\"title\">{title}</td>\
             <td class=\"status {status}\" data-v=\"{status}\">{status}</td>{ic}{tc}{lra}{tpc}{cc}{plr}{g}{gr}{ii}\
             <td class=\"spec {spec_class}\" title=\"{tip}\">{spec_text}</td><td class=\"small\">{w}</td></tr>",
            sc = row.sidecar.as_ref().map_or_else(
                || " class=\"no-sidecar\"".to_string(),
                |s| format!(" data-sidecar=\"{}\"", esc(s))
            ),
            d = esc(&r.delivery),
            a = link(row.album_href.as_ref(), &r.album),
            tn = r.track_number.map_or_else(
                || "<td class=\"n track\" data-v=\"\"></td>".to_string(),
                |n| format!("<td class=\"n track\" data-v=\"{n}\">{n}</td>")
            ),
            title = link(row.song_href.as_ref(), &r.title),
            ic = num_cell(i, "i"),
            tc = num_cell(Some(r.target_lufs), "target"),
            lra = num_cell(o.and_then(|l| l.loudness_range_lu), "lra"),
            tpc = num_cell(tp, "tp"),
            cc = num_cell(Some(r.ceiling_dbtp), "ceiling"),
            plr = num_cell(plr, "plr"),
            g = num_cell(r.gain_db, "gain"),
            gr = num_cell(r.limiter_reduction_db, "gr"),
            ii = num_cell(r.input_loudness.and_then(|l| l.integrated_lufs), "input-i"),
            tip = esc(&spec_tip),
            w = esc(&notes.join("; ")),
        );
    }
    t.push_str("</tbody></table>");
    t
}

/// One line per delivery: its target and ceiling, and how many songs pass.
pub fn delivery_summary(rows: &[Row<'_>]) -> String {
    let mut names: Vec<&str> = rows.iter().map(|r| r.report.delivery.as_str()).collect();
    names.dedup();
    names.sort_unstable();
    names.dedup();
    let mut out = String::from("<ul id=\"deliveries\">");
    for d in names {
        let of: Vec<&SongReport> = rows
            .iter()
            .map(|r| r.report)
            .filter(|r| r.delivery == d)
            .collect();
        let pass = of.iter().filter(|r| spec_check(r).is_ok()).count();
        let targets: Vec<String> = {
            let mut t: Vec<String> = of.iter().map(|r| num(Some(r.target_lufs))).collect();
            t.dedup();
            t
        };
        let _ = write!(
            out,
            "<li data-delivery=\"{de}\"><b>{de}</b>: target {} LUFS, ceiling {} dBTP — \
             <span class=\"pass\">{pass} pass</span>, <span class=\"fail\">{} fail</span> of {}</li>",
            targets.join(" / "),
            num(of.first().map(|r| r.ceiling_dbtp)),
            of.len() - pass,
            of.len(),
            de = esc(d),
        );
    }
    out.push_str("</ul>");
    out
}

/// Sorts the overview by a clicked column (numbers by `data-v`, text otherwise; click again
/// to reverse); `report.html#sort=5` (or `#sort=5-`, descending) opens it sorted by column 5.
/// No framework, no network.
pub const SORT_SCRIPT: &str = r#"
(function(){
  var t=document.getElementById('overview'); if(!t) return;
  var hs=t.tHead.rows[0].cells;
  function key(td){var v=td.getAttribute('data-v'); if(v!==null&&v!==''&&!isNaN(+v)) return [0,+v]; return [1,(td.textContent||'').toLowerCase()];}
  for(var i=0;i<hs.length;i++){(function(c){hs[c].addEventListener('click',function(){
    var asc=!this.classList.contains('asc');
    for(var j=0;j<hs.length;j++){hs[j].classList.remove('asc','desc');}
    this.classList.add(asc?'asc':'desc');
    var b=t.tBodies[0], rows=Array.prototype.slice.call(b.rows);
    rows.sort(function(x,y){var a=key(x.cells[c]),z=key(y.cells[c]);
      if(a[0]!==z[0]) return a[0]-z[0];
      var r=a[1]<z[1]?-1:(a[1]>z[1]?1:0); return asc?r:-r;});
    rows.forEach(function(r){b.appendChild(r);});
  });})(i);}
  var m=/^#sort=(\d+)(-?)$/.exec(location.hash);
  if(m&&hs[+m[1]]){hs[+m[1]].click(); if(m[2]) hs[+m[1]].click();}
})();
"#;
