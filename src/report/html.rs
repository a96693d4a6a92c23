//! The HTML around the charts: one self-contained page shell (inline CSS, a Content Security
//! Policy that forbids every network fetch), escaping, number cells and relative links.

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// A relative URL from path segments, each percent-encoded (spaces, `#`, `?`, `%`…).
pub fn href(segments: &[&str]) -> String {
    let enc = |s: &str| {
        let mut o = String::new();
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                o.push(b as char);
            } else {
                o.push_str(&format!("%{b:02X}"));
            }
        }
        o
    };
    segments
        .iter()
        .map(|s| enc(s))
        .collect::<Vec<_>>()
        .join("/")
}

/// A table cell holding a number: shown with two decimals, sorted by `data-v`; an empty
/// cell (`data-v=""`) when undefined.
pub fn num_cell(v: Option<f64>, class: &str) -> String {
    // + 0.0 turns −0 into 0
    match v.filter(|v| v.is_finite()).map(|v| v + 0.0) {
        Some(v) => format!(r#"<td class="n {class}" data-v="{v}">{}</td>"#, fmt2(v)),
        None => format!(r#"<td class="n {class}" data-v="">–</td>"#),
    }
}

/// Formats a number with two decimals, or "–".
pub fn num(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite())
        .map_or_else(|| "–".to_string(), fmt2)
}

/// Two decimals, "0.00" rather than "-0.00".
fn fmt2(v: f64) -> String {
    let s = format!("{v:.2}");
    if s == "-0.00" {
        "0.00".into()
    } else {
        s
    }
}

const STYLE: &str = "
body{font-family:sans-serif;margin:16px;color:#222;background:#fafafa}
h1{font-size:20px}h2{font-size:17px;margin-top:24px}h3{font-size:15px}
table{border-collapse:collapse;font-size:12px;background:#fff}
th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eef;cursor:pointer;user-select:none;position:sticky;top:0}
th.asc::after{content:' ▲'}th.desc::after{content:' ▼'}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#176b2c;font-weight:bold}.fail{color:#b00020;font-weight:bold}
.warning{color:#a05a00}.failed{color:#b00020}.ok{color:#176b2c}
.charts{display:flex;flex-wrap:wrap;gap:10px}
svg.chart{max-width:100%;height:auto;border:1px solid #ddd}
svg text{font-family:sans-serif;font-size:11px;fill:#333}
svg .t{font-size:13px;font-weight:bold}
svg .yt{text-anchor:end}svg .xt{text-anchor:middle}svg .xl{text-anchor:middle}
svg .yl{text-anchor:middle}svg .rl{text-anchor:end;font-size:10px}
svg .lg{font-size:11px}svg .sp{font-size:10px;fill:#555}
.small{font-size:12px;color:#555}
dl.figs{display:grid;grid-template-columns:max-content max-content;gap:2px 14px;font-size:13px}
dl.figs dt{color:#555}dl.figs dd{margin:0;font-variant-numeric:tabular-nums}
";

/// A whole page: `title`, `body` and optional inline `script`. Nothing is fetched: the
/// Content Security Policy allows only the inline style and script.
pub fn page(title: &str, body: &str, script: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>{STYLE}</style></head>\n<body>\n{body}\n{s}</body></html>\n",
        t = esc(title),
        s = if script.is_empty() {
            String::new()
        } else {
            format!("<script>{script}</script>\n")
        }
    )
}
