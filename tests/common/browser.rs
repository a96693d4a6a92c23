//! Headless Chromium for the HTML report tests: find it (or skip / fail as the environment
//! asks), load a page from a file:// URL with a fresh profile, dump the rendered DOM or take
//! a screenshot, and collect the console messages it logged.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Set to 1 (as `.ci/run` does) to make the browser tests fail instead of skipping when no
/// Chromium is installed; `MIXFARM_REQUIRE_GPU=1` (CI) asks the same.
pub const ENV_REQUIRE: &str = "MIXFARM_REQUIRE_CHROMIUM";

/// The Chromium binary, or `None` after printing why the test is skipped; panics when the
/// environment requires it.
pub fn chromium(test: &str) -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        let found = std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        });
        if found.is_some() {
            return found;
        }
    }
    let required = [ENV_REQUIRE, "MIXFARM_REQUIRE_GPU"]
        .iter()
        .any(|k| std::env::var(k).is_ok_and(|v| v == "1"));
    if required {
        panic!("{test}: no chromium in PATH and {ENV_REQUIRE} or MIXFARM_REQUIRE_GPU is 1 (apt-get install chromium)");
    }
    eprintln!("{test}: skipped: no chromium in PATH (apt-get install chromium)");
    None
}

/// What one headless load gave.
pub struct Load {
    /// stdout (the DOM with `--dump-dom`)
    pub stdout: String,
    /// the console messages and uncaught errors the page logged
    pub console: Vec<String>,
    /// all of stderr
    pub stderr: String,
}

/// A file:// URL for `path` (absolute), with an optional `#fragment`.
pub fn file_url(path: &Path, fragment: &str) -> String {
    let abs = std::fs::canonicalize(path).unwrap();
    let mut u = String::from("file://");
    for b in abs.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            u.push(b as char);
        } else {
            u.push_str(&format!("%{b:02X}"));
        }
    }
    u + fragment
}

/// Loads `url` headless with `extra` arguments (`--dump-dom`, `--screenshot=…`).
pub fn load(bin: &Path, url: &str, extra: &[String]) -> Load {
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(extra)
    .arg(url)
    .env("XDG_RUNTIME_DIR", profile.path())
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start chromium");
    let t0 = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if t0.elapsed() > Duration::from_secs(180) {
            let _ = child.kill();
            panic!("chromium did not finish within 180 s on {url}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let console = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .map(str::to_string)
        .collect();
    Load {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        console,
        stderr,
    }
}

/// The rendered DOM of `url`, asserting the page logged nothing to the console.
pub fn dom(bin: &Path, url: &str) -> String {
    let l = load(bin, url, &["--dump-dom".to_string()]);
    assert!(l.console.is_empty(), "{url} logged: {:?}", l.console);
    assert!(
        l.stdout.contains("</html>"),
        "{url}: no DOM dumped; stderr:\n{}",
        l.stderr
    );
    l.stdout
}

/// Takes a screenshot of `url` into `png` (`w`×`h`), asserting a clean console and a PNG.
pub fn screenshot(bin: &Path, url: &str, png: &Path, w: u32, h: u32) {
    let l = load(
        bin,
        url,
        &[
            format!("--screenshot={}", png.display()),
            format!("--window-size={w},{h}"),
            "--hide-scrollbars".to_string(),
        ],
    );
    assert!(l.console.is_empty(), "{url} logged: {:?}", l.console);
    let bytes =
        std::fs::read(png).unwrap_or_else(|e| panic!("{}: {e}\n{}", png.display(), l.stderr));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
}

/// Every element `<tag …>` whose opening tag contains `marker`, as (opening tag, inner
/// HTML up to the matching close of the same tag, not nested).
pub fn elements<'a>(html: &'a str, tag: &str, marker: &str) -> Vec<(&'a str, &'a str)> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = html[at..].find(&open) {
        let s = at + i;
        let Some(gt) = html[s..].find('>') else { break };
        let head = &html[s..s + gt + 1];
        let body_start = s + gt + 1;
        let end = if head.ends_with("/>") {
            body_start
        } else {
            html[body_start..]
                .find(&close)
                .map_or(html.len(), |j| body_start + j)
        };
        if head.contains(marker) {
            out.push((head, &html[body_start..end]));
        }
        at = body_start;
    }
    out
}

/// The value of attribute `name` in an opening tag.
pub fn attr<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let i = head.find(&key)? + key.len();
    let j = head[i..].find('"')?;
    Some(&head[i..i + j])
}

/// Text content with tags removed and the common entities decoded.
pub fn text(inner: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in inner.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}
