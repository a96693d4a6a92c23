//! `mixfarm analyze FILE|DIR… [--album] [--csv OUT.csv] [--html OUT.html] [--json]`: each
//! folder's audio files (file-name order) and each file given; `--album` adds each folder's
//! loudness taken as one album (loose files together as one more), from the meters that
//! measured the files; `--csv` writes one row per file; `--html` draws each file's panels
//! (loudness and true peak over time, spectrum) from the same meters. `--backend gpu|auto`
//! meters the files as Plans on that executor, [`ON_EXECUTOR`] files a batch
//! ([`super::analyze_files_on`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{analyze_file, analyze_file_with_curves, Analysis};
use crate::loudness::Curves;
use crate::report::html::{esc, num, num_cell, page};
use crate::report::song::{panels, Panel};

/// Options of `mixfarm analyze`.
#[derive(Debug, Clone)]
pub struct Options {
    /// print JSON instead of a table
    pub json: bool,
    /// print each folder's album loudness
    pub album: bool,
    /// write one CSV row per file here
    pub csv: Option<PathBuf>,
    /// write the HTML panels here
    pub html: Option<PathBuf>,
    /// where the meters run: `Cpu` file by file on the host, else as Plans on that
    /// executor, [`ON_EXECUTOR`] files a batch
    pub backend: crate::engine::Backend,
}

/// Files metered in one batch on an executor (decoded together first).
pub const ON_EXECUTOR: usize = 8;

/// One input file with its group (the folder given, or "files" for loose files).
struct Input {
    path: PathBuf,
    group: String,
}

/// Folders expand to their audio files in file-name order; files stay as given.
fn expand(inputs: &[PathBuf]) -> Result<Vec<Input>, String> {
    let mut out = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let rd = std::fs::read_dir(p).map_err(|e| format!("{}: {e}", p.display()))?;
            let mut files: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    f.is_file()
                        && f.extension().is_some_and(|e| {
                            let e = e.to_string_lossy().to_lowercase();
                            crate::master::AUDIO_EXTENSIONS.contains(&e.as_str())
                        })
                })
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(format!("{}: no audio files in this folder", p.display()));
            }
            let group = p.display().to_string();
            out.extend(files.into_iter().map(|path| Input {
                path,
                group: group.clone(),
            }));
        } else {
            out.push(Input {
                path: p.clone(),
                group: "files".into(),
            });
        }
    }
    Ok(out)
}

/// What was measured of one file.
struct Done {
    analysis: Analysis,
    curves: Option<Curves>,
    gating: Option<crate::loudness::Gating>,
}

fn fmt_opt(v: Option<f64>, unit: &str) -> String {
    v.map_or_else(|| format!("-inf {unit}"), |v| format!("{v:.2} {unit}"))
}

fn print_table(f: &Path, a: &Analysis) {
    println!("{}", f.display());
    println!(
        "  integrated loudness  {}",
        fmt_opt(a.integrated_lufs, "LUFS")
    );
    println!(
        "  loudness range       {}",
        a.loudness_range_lu
            .map_or("n/a (under 3 s)".into(), |v| format!("{v:.2} LU"))
    );
    println!("  true peak            {:.2} dBTP", a.true_peak_dbtp);
    println!("  sample peak          {:.2} dBFS", a.sample_peak_dbfs);
    println!("  RMS                  {:.2} dBFS", a.rms_dbfs);
    println!(
        "  momentary max        {}",
        fmt_opt(a.momentary_max_lufs, "LUFS")
    );
    println!(
        "  short-term max       {}",
        fmt_opt(a.short_term_max_lufs, "LUFS")
    );
    if let Some(c) = a.correlation {
        println!("  phase correlation    {c:+.3}");
    }
    println!(
        "  duration             {:.3} s, {} Hz, {} ch{}",
        a.duration_s,
        a.sample_rate,
        a.channels,
        if a.channels == 1 {
            " (loudness as dual-mono, as ffmpeg ebur128=dualmono=true)"
        } else {
            ""
        }
    );
}

/// Album loudness of each group, in the order the groups first appear.
fn album_loudness(inputs: &[Input], done: &[Result<Done, String>]) -> Vec<(String, Option<f64>)> {
    let mut groups: Vec<String> = Vec::new();
    for i in inputs {
        if !groups.contains(&i.group) {
            groups.push(i.group.clone());
        }
    }
    groups
        .into_iter()
        .map(|g| {
            let meters = inputs
                .iter()
                .zip(done)
                .filter(|(i, _)| i.group == g)
                .filter_map(|(_, d)| d.as_ref().ok().and_then(|d| d.gating.as_ref()));
            let l = crate::loudness::Gating::integrated_multiple(meters);
            (g, l)
        })
        .collect()
}

fn cell(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite())
        .map_or_else(String::new, |v| format!("{v:.2}"))
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The CSV: one row per file.
fn csv_text(
    inputs: &[Input],
    done: &[Result<Done, String>],
    albums: &[(String, Option<f64>)],
) -> String {
    let mut s = String::from(
        "file,album,integrated_lufs,loudness_range_lu,true_peak_dbtp,sample_peak_dbfs,rms_dbfs,\
         momentary_max_lufs,short_term_max_lufs,correlation,duration_s,sample_rate,channels,\
         album_integrated_lufs,error\n",
    );
    for (i, d) in inputs.iter().zip(done) {
        let album_lufs = albums.iter().find(|(g, _)| *g == i.group).and_then(|a| a.1);
        let file = quote(&i.path.to_string_lossy());
        let group = quote(&i.group);
        match d {
            Ok(d) => {
                let a = &d.analysis;
                let _ = writeln!(
                    s,
                    "{file},{group},{},{},{},{},{},{},{},{},{:.3},{},{},{},",
                    cell(a.integrated_lufs),
                    cell(a.loudness_range_lu),
                    cell(Some(a.true_peak_dbtp)),
                    cell(Some(a.sample_peak_dbfs)),
                    cell(Some(a.rms_dbfs)),
                    cell(a.momentary_max_lufs),
                    cell(a.short_term_max_lufs),
                    a.correlation
                        .map_or_else(String::new, |c| format!("{c:.4}")),
                    a.duration_s,
                    a.sample_rate,
                    a.channels,
                    cell(album_lufs),
                );
            }
            Err(e) => {
                let _ = writeln!(s, "{file},{group},,,,,,,,,,,,,{}", quote(e));
            }
        }
    }
    s
}

/// Opens a file's panels when its `<details>` opens (they wait in a `<template>` so a page
/// of many files stays light).
const OPEN_SCRIPT: &str = r#"
document.querySelectorAll('details[data-lazy]').forEach(function(d){
  d.addEventListener('toggle',function(){var t=d.querySelector('template');
    if(d.open&&t){d.appendChild(t.content.cloneNode(true));t.remove();}});});
"#;

/// The HTML page: a table of every file's figures, then each file's panels.
fn html_text(
    inputs: &[Input],
    done: &[Result<Done, String>],
    albums: &[(String, Option<f64>)],
) -> String {
    let mut t = String::from(
        "<table id=\"overview\"><thead><tr><th>file</th><th>I (LUFS)</th><th>LRA (LU)</th>\
         <th>true peak (dBTP)</th><th>PLR (dB)</th><th>M max</th><th>S max</th><th>duration (s)</th></tr></thead><tbody>",
    );
    let mut sections = String::new();
    for (k, (i, d)) in inputs.iter().zip(done).enumerate() {
        let name = esc(&i.path.display().to_string());
        let Ok(d) = d else {
            let _ = write!(
                t,
                "<tr><td>{name}</td><td colspan=\"7\" class=\"fail\">failed</td></tr>"
            );
            continue;
        };
        let a = &d.analysis;
        let _ = write!(
            t,
            "<tr data-file=\"{name}\"><td><a href=\"#f{k}\">{name}</a></td>{}{}{}{}{}{}{}</tr>",
            num_cell(a.integrated_lufs, "i"),
            num_cell(a.loudness_range_lu, "lra"),
            num_cell(Some(a.true_peak_dbtp), "tp"),
            num_cell(a.integrated_lufs.map(|i| a.true_peak_dbtp - i), "plr"),
            num_cell(a.momentary_max_lufs, "m"),
            num_cell(a.short_term_max_lufs, "s"),
            num_cell(Some(a.duration_s), "dur"),
        );
        if let Some(c) = &d.curves {
            let charts = panels(&Panel {
                before: None,
                after: c,
                limiter_reduction_db: &[],
                target_lufs: None,
                ceiling_dbtp: None,
                reference: None,
                match_curve: None,
            });
            let (open, inner) = if k == 0 {
                (" open", charts)
            } else {
                ("", format!("<template>{charts}</template>"))
            };
            let _ = write!(
                sections,
                "<details id=\"f{k}\" data-lazy{open}><summary>{name} — {} LUFS, {} dBTP</summary>{inner}</details>",
                num(a.integrated_lufs),
                num(Some(a.true_peak_dbtp))
            );
        }
    }
    t.push_str("</tbody></table>");
    let mut al = String::new();
    if !albums.is_empty() {
        al.push_str("<h2>Albums</h2><ul id=\"albums\">");
        for (g, l) in albums {
            let _ = write!(
                al,
                "<li data-album=\"{}\">{}: {} LUFS</li>",
                esc(g),
                esc(g),
                num(*l)
            );
        }
        al.push_str("</ul>");
    }
    let body = format!("<h1>mixfarm analyze</h1>{t}{al}<h2>Files</h2>{sections}");
    page(
        "mixfarm analyze",
        &body,
        &format!("{}{OPEN_SCRIPT}", crate::report::overview::SORT_SCRIPT),
    )
}

fn write_text(path: &Path, text: &str) -> Result<(), String> {
    crate::audio::encode::write_atomic(path, |tmp| {
        std::fs::write(tmp, text.as_bytes()).map_err(|e| crate::Error::io(tmp, e))
    })
    .map_err(|e| e.to_string())
}

/// Runs `mixfarm analyze`: exit 0, 1 when a file failed (the others are still reported),
/// 2 when an input folder holds no audio or cannot be read.
pub fn analyze_cmd(inputs: &[PathBuf], opts: &Options) -> ExitCode {
    let inputs = match expand(inputs) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let full = opts.album || opts.html.is_some();
    let mut done: Vec<Result<Done, String>> = Vec::with_capacity(inputs.len());
    let mut json = Vec::new();
    let mut executor = match opts.backend {
        crate::engine::Backend::Cpu => None,
        b => match crate::engine::Executor::open(b) {
            Ok(ex) => Some(ex),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let mut batch: std::collections::VecDeque<crate::Result<super::FileAnalysis>> =
        std::collections::VecDeque::new();
    for (k, i) in inputs.iter().enumerate() {
        if let (Some(ex), true) = (executor.as_mut(), batch.is_empty()) {
            let paths: Vec<&Path> = inputs[k..]
                .iter()
                .take(ON_EXECUTOR)
                .map(|i| i.path.as_path())
                .collect();
            batch.extend(super::analyze_files_on(ex, &paths));
        }
        let r = if let Some(f) = batch.pop_front() {
            f.map(|f| Done {
                analysis: f.analysis,
                curves: opts.html.is_some().then_some(f.curves),
                gating: opts.album.then_some(f.gating),
            })
        } else if full {
            analyze_file_with_curves(&i.path).map(|f| Done {
                analysis: f.analysis,
                curves: opts.html.is_some().then_some(f.curves),
                gating: opts.album.then_some(f.gating),
            })
        } else {
            analyze_file(&i.path).map(|analysis| Done {
                analysis,
                curves: None,
                gating: None,
            })
        };
        match &r {
            Ok(d) => {
                if !opts.json {
                    print_table(&i.path, &d.analysis);
                }
                json.push(serde_json::json!({ "file": i.path, "analysis": d.analysis }));
            }
            Err(e) => {
                eprintln!("error: {e}");
                json.push(serde_json::json!({ "file": i.path, "error": e.to_string() }));
            }
        }
        done.push(r.map_err(|e| e.to_string()));
    }
    let albums = if opts.album {
        album_loudness(&inputs, &done)
    } else {
        Vec::new()
    };
    if opts.json {
        let mut v = serde_json::json!(json);
        if opts.album {
            let a: Vec<_> = albums
                .iter()
                .map(|(g, l)| serde_json::json!({ "album": g, "integrated_lufs": l }))
                .collect();
            v = serde_json::json!({ "files": json, "albums": a });
        }
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        for (g, l) in &albums {
            println!("album {g}: {}", fmt_opt(*l, "LUFS"));
        }
    }
    let mut failed = done.iter().any(Result::is_err);
    for (path, text) in [
        (
            &opts.csv,
            opts.csv.as_ref().map(|_| csv_text(&inputs, &done, &albums)),
        ),
        (
            &opts.html,
            opts.html
                .as_ref()
                .map(|_| html_text(&inputs, &done, &albums)),
        ),
    ] {
        if let (Some(p), Some(t)) = (path, text) {
            if let Err(e) = write_text(p, &t) {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    ExitCode::from(u8::from(failed))
}
