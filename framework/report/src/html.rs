//! HTML building blocks: escaping, relative links, inline CSS, and the sections of a report
//! (results, uncertainty, figures, config, runs). Output is self-contained static HTML: inline
//! CSS, no scripts, no external URLs; it links only to files next to it (images) or to run
//! logs that exist on disk (relative paths).

use crate::charts::ChartFiles;
use crate::input::{CellInput, ReportInput};
use crate::table::{self, CellSummary, UncertaintyTable, COLUMNS};
use std::fmt::Write as _;
use std::path::{Component, Path};

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
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

/// Percent-encodes one path segment for an `href` (unreserved characters kept).
pub fn encode_segment(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            o.push(b as char);
        } else {
            let _ = write!(o, "%{b:02X}");
        }
    }
    o
}

/// A relative, percent-encoded link from directory `from_dir` to the existing file `target`;
/// `None` when the file does not exist (or either path cannot be resolved).
pub fn relative_link(from_dir: &Path, target: &Path) -> Option<String> {
    let t = target.canonicalize().ok()?;
    if !t.is_file() {
        return None;
    }
    let f = from_dir.canonicalize().ok()?;
    let tc: Vec<Component> = t.components().collect();
    let fc: Vec<Component> = f.components().collect();
    let common = tc.iter().zip(&fc).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); fc.len() - common];
    parts.extend(
        tc[common..]
            .iter()
            .map(|c| encode_segment(&c.as_os_str().to_string_lossy())),
    );
    Some(parts.join("/"))
}

/// The inline style sheet.
pub const CSS: &str = r#"
body{font-family:"DejaVu Sans",Verdana,Arial,sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:4px} h2{border-bottom:2px solid #ddd;padding-bottom:3px;margin-top:36px}
table{border-collapse:collapse;margin:10px 0;font-size:0.9em}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right;white-space:nowrap}
th{background:#f0f3f7} td.name,th.name{text-align:left}
tr.missing td{color:#999;font-style:italic;background:#fafafa}
strong.best{color:#0a5c0a} .sig{color:#0a5c0a;font-weight:bold} .ns{color:#888}
.note{color:#555;font-size:0.9em} .warn{color:#a33}
figure{margin:14px 0;display:inline-block;vertical-align:top} figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:0.9em;color:#444}
nav a{margin-right:12px} .side{display:flex;gap:24px;flex-wrap:wrap;align-items:flex-start}
code{background:#f4f4f4;padding:0 3px}
"#;

/// Wraps a body into a complete HTML page.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{}</style>\n</head>\n<body>\n{}</body>\n</html>\n",
        escape(title),
        CSS,
        body
    )
}

/// A figure: the PNG (linked to its SVG) with a caption.
pub fn figure(c: &ChartFiles, note: &str) -> String {
    let png = c
        .png
        .file_name()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let svg = c
        .svg
        .file_name()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    format!(
        "<figure><a href=\"{svg}\"><img src=\"{png}\" alt=\"{t}\"></a><figcaption>{t}{sep}{note} (<a href=\"{svg}\">SVG</a>)</figcaption></figure>\n",
        svg = encode_segment(&svg),
        png = encode_segment(&png),
        t = escape(&c.title),
        sep = if note.is_empty() { "" } else { ". " },
        note = escape(note),
    )
}

/// The "seeds" column: runs with test metrics / runs, plus the other states when some lack them.
pub(crate) fn status_text(s: &CellSummary) -> String {
    if s.n_runs == 0 {
        return "not run".to_string();
    }
    let mut t = format!("{}/{}", s.n_with_metrics, s.n_runs);
    if s.n_with_metrics < s.n_runs {
        let others: Vec<String> = s
            .statuses
            .iter()
            .map(|(k, v)| format!("{k} ×{v}"))
            .collect();
        let _ = write!(t, " ({})", others.join(", "));
    }
    t
}

/// The results table in the paper's layout (T2V then V2T: R@1, R@5, R@10, MedR), mean ± std
/// over seeds, best per column in bold, missing cells greyed.
pub fn results_table(rows: &[CellSummary]) -> String {
    let best = table::best_per_column(rows);
    let mut h = String::from("<table class=\"results\">\n<tr><th class=\"name\" rowspan=\"2\">cell</th><th rowspan=\"2\">seeds</th><th colspan=\"4\">T2V</th><th colspan=\"4\">V2T</th></tr>\n<tr>");
    for col in COLUMNS {
        let _ = write!(h, "<th>{}</th>", col.label);
    }
    h.push_str("</tr>\n");
    for (i, r) in rows.iter().enumerate() {
        let cls = if r.is_missing() {
            " class=\"missing\""
        } else {
            ""
        };
        let _ = write!(
            h,
            "<tr{cls}><td class=\"name\">{}</td><td>{}</td>",
            escape(&r.name),
            escape(&status_text(r))
        );
        for (j, v) in r.values.iter().enumerate() {
            match v {
                None => h.push_str("<td>missing</td>"),
                Some(m) => {
                    let text = escape(&table::fmt_mean_std(m, 1));
                    if best[j].contains(&i) && rows.len() > 1 {
                        let _ = write!(h, "<td><strong class=\"best\">{text}</strong></td>");
                    } else {
                        let _ = write!(h, "<td>{text}</td>");
                    }
                }
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
    h
}

fn ci_text(d: &Option<table::DirectionUncertainty>) -> (String, String, String) {
    match d {
        None => ("–".into(), "–".into(), "".into()),
        Some(u) => {
            let ci = u.ci_text();
            match u.vs_reference {
                None => (ci, "–".into(), "".into()),
                Some(p) => {
                    let sig = if p.significant() {
                        "<span class=\"sig\">yes</span>"
                    } else {
                        "<span class=\"ns\">no</span>"
                    };
                    (ci, p.text(), sig.to_string())
                }
            }
        }
    }
}

/// The uncertainty table: R@1 with 95% bootstrap intervals and paired differences against the
/// reference cell.
pub fn uncertainty_table(u: &UncertaintyTable) -> String {
    let mut h = String::new();
    match &u.reference {
        Some(r) => {
            let _ = write!(
                h,
                "<p class=\"note\">Reference cell: <b>{}</b>{}. R@1 pooled over seeds with a 95% bootstrap interval over test queries ({} resamples); Δ = cell − reference in points with a 95% paired-bootstrap interval (same resampled queries for both cells); significant when the interval excludes 0.</p>\n",
                escape(r),
                if u.reference_auto { " (chosen automatically: first cell with per-query ranks)" } else { "" },
                u.resamples
            );
        }
        None => h.push_str("<p class=\"note\">No per-query ranks recorded: no intervals.</p>\n"),
    }
    h.push_str("<table class=\"uncertainty\">\n<tr><th class=\"name\">cell</th><th>seeds</th><th>queries</th><th>T2V R@1 [95% CI]</th><th>Δ T2V vs ref</th><th>sig.</th><th>V2T R@1 [95% CI]</th><th>Δ V2T vs ref</th><th>sig.</th></tr>\n");
    for r in &u.rows {
        let (a, b, c) = ci_text(&r.t2v);
        let (d, e, f) = ci_text(&r.v2t);
        let _ = writeln!(
            h,
            "<tr><td class=\"name\">{}</td><td>{}</td><td>{}</td><td>{a}</td><td>{b}</td><td>{c}</td><td>{d}</td><td>{e}</td><td>{f}</td></tr>",
            escape(&r.name),
            r.seeds,
            r.queries
        );
    }
    h.push_str("</table>\n");
    h
}

/// The per-stream table of dual-stream cells: fused R@1 against each stream of the same
/// model scored alone, and the gain over the better stream.
pub fn streams_table(rows: &[table::StreamRow]) -> String {
    let mut h = String::from("<table class=\"streams\">\n<tr><th class=\"name\" rowspan=\"2\">cell</th><th rowspan=\"2\">seeds</th><th colspan=\"4\">T2V R@1</th><th colspan=\"4\">V2T R@1</th></tr>\n<tr><th>fused</th><th>pose</th><th>RGB</th><th>gain</th><th>fused</th><th>pose</th><th>RGB</th><th>gain</th></tr>\n");
    for r in rows {
        let _ = write!(
            h,
            "<tr><td class=\"name\">{}</td><td>{}</td>",
            escape(&r.name),
            r.seeds
        );
        for v in r.value_cells() {
            let _ = write!(h, "<td>{v}</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
    h
}

/// The config table: only keys whose values differ between cells.
pub fn config_table(cells: &[CellInput]) -> String {
    let keys = table::differing_params(cells);
    if keys.is_empty() {
        return "<p class=\"note\">All cells share the same configuration values.</p>\n"
            .to_string();
    }
    let mut h = String::from("<table class=\"config\">\n<tr><th class=\"name\">cell</th>");
    for k in &keys {
        let _ = write!(h, "<th>{}</th>", escape(k));
    }
    h.push_str("</tr>\n");
    for c in cells {
        let _ = write!(h, "<tr><td class=\"name\">{}</td>", escape(&c.name));
        for k in &keys {
            let _ = write!(
                h,
                "<td>{}</td>",
                escape(c.params.get(k).map(String::as_str).unwrap_or("–"))
            );
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
    h
}

/// `1h 02m 05s` style duration.
pub fn fmt_duration(s: f64) -> String {
    if !s.is_finite() || s < 0.0 {
        return "–".into();
    }
    let t = s.round() as u64;
    let (h, m, sec) = (t / 3600, (t % 3600) / 60, t % 60);
    if h > 0 {
        format!("{h}h {m:02}m {sec:02}s")
    } else if m > 0 {
        format!("{m}m {sec:02}s")
    } else {
        format!("{sec}s")
    }
}

/// The run metadata table (commit, dirty flag, host, duration, log link).
pub fn runs_table(input: &ReportInput, out_dir: &Path) -> String {
    let mut h = String::from("<table class=\"runs\">\n<tr><th class=\"name\">cell</th><th>run</th><th>seed</th><th>status</th><th>git commit</th><th>dirty</th><th>host</th><th>duration</th><th class=\"name\">log</th></tr>\n");
    for c in &input.cells {
        if c.runs.is_empty() {
            let _ = writeln!(
                h,
                "<tr class=\"missing\"><td class=\"name\">{}</td><td colspan=\"8\">no runs yet</td></tr>",
                escape(&c.name)
            );
        }
        for r in &c.runs {
            let commit = r
                .git_commit
                .as_deref()
                .map(|s| s.chars().take(10).collect::<String>())
                .unwrap_or_else(|| "–".into());
            let log = match r.log_path.as_deref() {
                None => "–".to_string(),
                Some(p) => match relative_link(out_dir, Path::new(p)) {
                    Some(href) => format!("<a href=\"{}\">{}</a>", escape(&href), escape(p)),
                    None => format!("{} <span class=\"warn\">(not found)</span>", escape(p)),
                },
            };
            let _ = writeln!(
                h,
                "<tr><td class=\"name\">{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td class=\"name\">{}</td></tr>",
                escape(&c.name),
                r.run_id,
                r.seed,
                escape(&r.status),
                escape(&commit),
                if r.git_dirty { "<span class=\"warn\">dirty</span>" } else { "clean" },
                escape(r.host.as_deref().unwrap_or("–")),
                r.duration_s.map(fmt_duration).unwrap_or_else(|| "–".into()),
                log
            );
        }
    }
    h.push_str("</table>\n");
    h
}

/// Whether `p` is a plain relative path inside the report directory.
pub fn is_local_relative(p: &str) -> bool {
    !p.contains("://") && !p.starts_with('/') && !p.starts_with("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_encoding() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(encode_segment("a b/ü.png"), "a%20b%2F%C3%BC.png");
        assert_eq!(fmt_duration(3725.0), "1h 02m 05s");
        assert_eq!(fmt_duration(65.0), "1m 05s");
        assert_eq!(fmt_duration(5.2), "5s");
    }

    #[test]
    fn relative_links_only_for_existing_files() {
        let dir = std::env::temp_dir().join(format!("seds-report-rel-{}", std::process::id()));
        let out = dir.join("reports/exp");
        let logs = dir.join("runs/7");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::create_dir_all(&logs).unwrap();
        std::fs::write(logs.join("train log.txt"), "x").unwrap();
        assert_eq!(
            relative_link(&out, &logs.join("train log.txt")).as_deref(),
            Some("../../runs/7/train%20log.txt")
        );
        assert_eq!(relative_link(&out, &logs.join("nope.txt")), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
