//! End-to-end tests: a report generated from realistic (synthetic) input has every expected
//! file, every PNG decodes and is non-trivial, every SVG carries its title text, the HTML is
//! balanced and links only to files that exist, and the table numbers equal the input.

use seds_report::demo::{demo_input, synthetic_signer};
use seds_report::{draw_skeleton_strip, write_comparison, write_report, ReportError};
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

fn out_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join("seds-report-tests").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Decodes a PNG; returns (width, height, distinct colours, fraction of non-white pixels).
fn png_stats(path: &Path) -> (u32, u32, usize, f64) {
    let file = std::fs::File::open(path).unwrap();
    let dec = png::Decoder::new(file);
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bytes = &buf[..info.buffer_size()];
    let ch = info.color_type.samples();
    assert!(
        ch >= 3,
        "{}: unexpected colour type {:?}",
        path.display(),
        info.color_type
    );
    let mut colours = HashSet::new();
    let mut non_white = 0usize;
    for px in bytes.chunks(ch) {
        colours.insert((px[0], px[1], px[2]));
        if px[0] < 245 || px[1] < 245 || px[2] < 245 {
            non_white += 1;
        }
    }
    let n = (info.width * info.height) as f64;
    (info.width, info.height, colours.len(), non_white as f64 / n)
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Minimal HTML checker: every non-void element is closed in order; returns every href/src.
fn check_html(html: &str) -> Vec<String> {
    const VOID: [&str; 6] = ["meta", "img", "br", "hr", "link", "input"];
    let mut stack: Vec<String> = Vec::new();
    let mut links = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let end = rest.find('>').expect("unterminated tag");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') {
            continue;
        }
        if tag == "style" {
            let close = rest.find("</style>").expect("unclosed style");
            rest = &rest[close + "</style>".len()..];
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack
                .pop()
                .unwrap_or_else(|| panic!("closing </{name}> without opening"));
            assert_eq!(open, name.trim(), "mismatched tags");
            continue;
        }
        let name: String = tag.split_whitespace().next().unwrap().to_ascii_lowercase();
        for attr in ["href=\"", "src=\""] {
            let mut t = tag;
            while let Some(i) = t.find(attr) {
                t = &t[i + attr.len()..];
                let j = t.find('"').unwrap();
                links.push(t[..j].to_string());
                t = &t[j..];
            }
        }
        if !VOID.contains(&name.as_str()) && !tag.ends_with('/') {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed tags: {stack:?}");
    links
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() + 1 {
            let h = u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap();
            out.push(h);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The `<td>` texts of the results-table row whose first cell is `name`.
fn results_row(html: &str, name: &str) -> Vec<String> {
    let table = &html[html.find("<table class=\"results\">").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    let key = format!("<td class=\"name\">{name}</td>");
    let row = &table[table.find(&key).unwrap_or_else(|| panic!("row {name}"))..];
    let row = &row[..row.find("</tr>").unwrap()];
    row.split("<td")
        .skip(1)
        .map(|c| {
            let c = &c[c.find('>').unwrap() + 1..];
            c[..c.find("</td>").unwrap()].to_string()
        })
        .collect()
}

#[test]
fn full_report_has_every_file_and_correct_numbers() {
    let dir = out_dir("full");
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let mut input = demo_input(11, 400);
    // Logs: the first run's file exists, the second run's does not.
    std::fs::write(logs.join("run-1.log"), "epoch 0 ...\n").unwrap();
    input.cells[0].runs[0].log_path = Some(logs.join("run-1.log").display().to_string());
    input.cells[0].runs[1].log_path = Some(logs.join("run-2-missing.log").display().to_string());
    let report_dir = dir.join("report");
    let t0 = std::time::Instant::now();
    let files = write_report(&input, &report_dir).unwrap();
    eprintln!(
        "report with {} cells: {} charts in {:?}",
        input.cells.len(),
        files.charts.len(),
        t0.elapsed()
    );

    // Every expected chart.
    let stems: BTreeSet<&str> = files.charts.iter().map(|c| c.stem.as_str()).collect();
    let mut expected = vec![
        "overview_r1",
        "sweep_alpha",
        "sweep_beta",
        "ablation_fusion",
        "similarity",
        "cgaf_sampling",
        "example_1",
        "example_2",
        "example_3",
    ];
    let curve_stems: Vec<String> = input
        .cells
        .iter()
        .filter(|c| c.runs.iter().any(|r| !r.history.is_empty()))
        .map(|c| format!("curves_{}", seds_report::charts::slug(&c.name)))
        .collect();
    expected.extend(curve_stems.iter().map(String::as_str));
    for e in &expected {
        assert!(stems.contains(e), "missing chart {e}; have {stems:?}");
    }
    assert_eq!(stems.len(), expected.len(), "unexpected charts: {stems:?}");

    // Every PNG decodes and is non-trivial; every SVG carries text and its title.
    for c in &files.charts {
        let (w, h, colours, ink) = png_stats(&c.png);
        assert!(w >= 300 && h >= 200, "{}: {w}x{h}", c.stem);
        assert!(colours >= 8, "{}: only {colours} colours", c.stem);
        assert!(ink > 0.01 && ink < 0.95, "{}: ink fraction {ink}", c.stem);
        let svg = std::fs::read_to_string(&c.svg).unwrap();
        assert!(
            svg.trim_start().starts_with("<svg") || svg.contains("<svg"),
            "{}",
            c.stem
        );
        assert!(svg.trim_end().ends_with("</svg>"), "{}", c.stem);
        assert!(svg.contains("<text"), "{}", c.stem);
        let must = if c.stem.starts_with("example_") {
            "Query:".to_string()
        } else {
            c.title.clone()
        };
        assert!(
            svg.contains(&xml_escape(&must)),
            "{}: SVG lacks title {must:?}",
            c.stem
        );
    }

    // HTML: balanced, links only to existing local files, no external URLs.
    let html = std::fs::read_to_string(&files.index).unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(!html.contains("<script"));
    let links = check_html(&html);
    assert!(links.len() >= 2 * files.charts.len());
    for l in &links {
        if l.starts_with('#') {
            let id = format!("id=\"{}\"", &l[1..]);
            assert!(html.contains(&id), "dangling anchor {l}");
            continue;
        }
        let p = report_dir.join(percent_decode(l));
        assert!(p.is_file(), "link to missing file {l}");
    }
    assert!(links.iter().any(|l| l.ends_with("run-1.log")));
    assert!(html.contains("run-2-missing.log <span class=\"warn\">(not found)</span>"));

    // Table numbers equal the input.
    let cell = &input.cells[2];
    let row = results_row(&html, &cell.name);
    let keys = [
        "t2v_r1", "t2v_r5", "t2v_r10", "t2v_medr", "v2t_r1", "v2t_r5", "v2t_r10", "v2t_medr",
    ];
    assert_eq!(row[1], "3/3");
    for (j, k) in keys.iter().enumerate() {
        let v: Vec<f64> = cell
            .runs
            .iter()
            .map(|r| r.final_metrics[&format!("test.{k}")])
            .collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt();
        let want = format!("{mean:.1} ± {std:.1}");
        let got = row[2 + j]
            .replace("<strong class=\"best\">", "")
            .replace("</strong>", "");
        assert_eq!(got, want, "column {k}");
    }
    // The best T2V R@1 cell is marked.
    let best = input
        .cells
        .iter()
        .filter(|c| {
            c.runs
                .iter()
                .any(|r| r.final_metrics.contains_key("test.t2v_r1"))
        })
        .max_by(|a, b| {
            let m = |c: &seds_report::CellInput| {
                let v: Vec<f64> = c
                    .runs
                    .iter()
                    .filter_map(|r| r.final_metrics.get("test.t2v_r1").copied())
                    .collect();
                v.iter().sum::<f64>() / v.len() as f64
            };
            m(a).total_cmp(&m(b))
        })
        .unwrap();
    assert!(results_row(&html, &best.name)[2].starts_with("<strong class=\"best\">"));
    // Missing and partial cells.
    let none = results_row(&html, "fusion=none");
    assert_eq!(none[1], "not run");
    assert!(none[2..].iter().all(|c| c == "missing"));
    assert!(html.contains("<tr class=\"missing\"><td class=\"name\">fusion=none</td>"));
    let sum = results_row(&html, "fusion=sum");
    assert!(sum[1].starts_with("1/3"), "{}", sum[1]);
    // Uncertainty table names the reference and has intervals.
    assert!(html.contains("Reference cell: <b>alpha=0.8</b>"));
    assert!(html.contains("<table class=\"uncertainty\">"));
    // Config table lists only differing keys.
    let cfg = &html[html.find("<table class=\"config\">").unwrap()..];
    let cfg = &cfg[..cfg.find("</table>").unwrap()];
    assert!(cfg.contains("loss.alpha") && cfg.contains("model.fusion"));
    assert!(!cfg.contains("train.epochs") && !cfg.contains("data.dataset"));
}

#[test]
fn partial_selection_without_extras_or_ranks() {
    let dir = out_dir("partial");
    let mut input = demo_input(4, 50);
    input.extras = Default::default();
    input.swept.clear();
    input.cells.truncate(3);
    for c in &mut input.cells {
        c.axes.clear();
        for r in &mut c.runs {
            r.t2v_ranks.clear();
            r.v2t_ranks.clear();
            r.history.clear();
        }
    }
    input.cells[1].runs.clear();
    let files = write_report(&input, &dir).unwrap();
    let stems: Vec<&str> = files.charts.iter().map(|c| c.stem.as_str()).collect();
    // Axes fall back to the params that differ (alpha), so a sweep still appears.
    assert_eq!(stems, vec!["overview_r1", "sweep_alpha"]);
    let html = std::fs::read_to_string(&files.index).unwrap();
    check_html(&html);
    assert!(html.contains("No per-query ranks recorded"));
    assert_eq!(results_row(&html, &input.cells[1].name)[1], "not run");
}

#[test]
fn empty_experiment_still_writes_a_page() {
    let dir = out_dir("empty");
    let input = seds_report::ReportInput {
        experiment: "nothing-yet".into(),
        ..Default::default()
    };
    let files = write_report(&input, &dir).unwrap();
    assert!(files.charts.is_empty());
    let html = std::fs::read_to_string(&files.index).unwrap();
    check_html(&html);
    assert!(html.contains("Experiment nothing-yet"));
}

#[test]
fn bad_extras_are_reported_with_location() {
    let dir = out_dir("bad");
    let mut input = demo_input(4, 20);
    input.extras.examples[1].top[2].keyframes[0].truncate(10);
    let e = write_report(&input, &dir).unwrap_err();
    assert!(matches!(e, ReportError::InvalidInput { .. }));
    assert!(
        e.to_string()
            .contains("extras.examples[1].top[2].keyframes[0]"),
        "{e}"
    );
}

#[test]
fn comparison_puts_tables_side_by_side() {
    let dir = out_dir("compare");
    let a = demo_input(1, 300);
    let mut b = demo_input(2, 300);
    b.experiment = "fig5-rerun".into();
    b.cells.truncate(4);
    let files = write_comparison(&a, &b, &dir).unwrap();
    let html = std::fs::read_to_string(&files.index).unwrap();
    let links = check_html(&html);
    for l in links.iter().filter(|l| !l.starts_with('#')) {
        assert!(dir.join(l).is_file(), "{l}");
    }
    assert_eq!(html.matches("<table class=\"results\">").count(), 2);
    assert!(html.contains("4 cells share a name"));
    assert_eq!(files.charts.len(), 1);
    let (_, _, colours, _) = png_stats(&files.charts[0].png);
    assert!(colours >= 8);
}

#[test]
fn skeleton_strip_draws_a_signer() {
    let dir = out_dir("skeleton");
    let frames = synthetic_signer(12, 5);
    let png = dir.join("strip.png");
    draw_skeleton_strip(&frames, &[0, 3, 6, 9], &png).unwrap();
    let (w, h, colours, ink) = png_stats(&png);
    assert_eq!(
        (w, h),
        (
            4 * seds_report::charts::skeleton::PANEL.0,
            seds_report::charts::skeleton::PANEL.1
        )
    );
    assert!(colours >= 8 && ink > 0.02, "{colours} {ink}");
    // Both hand colours are present.
    let file = std::fs::File::open(&png).unwrap();
    let mut r = png::Decoder::new(file).read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size()];
    let info = r.next_frame(&mut buf).unwrap();
    let ch = info.color_type.samples();
    let has = |c: (u8, u8, u8)| buf.chunks(ch).any(|p| (p[0], p[1], p[2]) == c);
    assert!(has((214, 39, 40)) && has((31, 119, 180)) && has((70, 70, 70)));
    // SVG output and titles.
    let svg = dir.join("strip.svg");
    draw_skeleton_strip(&frames, &[1, 2], &svg).unwrap();
    let s = std::fs::read_to_string(&svg).unwrap();
    assert!(s.contains("frame 1") && s.contains("frame 2"));
    // Errors.
    assert!(draw_skeleton_strip(&frames, &[12], &png)
        .unwrap_err()
        .to_string()
        .contains("frame 12"));
    assert!(draw_skeleton_strip(&frames, &[], &png).is_err());
}

#[test]
fn skeleton_strip_omits_zero_confidence_joints() {
    // A frame whose joints are all confidence 0 draws nothing but the panel frame and title.
    let dir = out_dir("skeleton-empty");
    let mut frames = synthetic_signer(2, 1);
    for j in frames[1].iter_mut() {
        j[2] = 0.0;
    }
    let svg = dir.join("s.svg");
    draw_skeleton_strip(&frames, &[1], &svg).unwrap();
    let s = std::fs::read_to_string(&svg).unwrap();
    assert!(!s.contains("<circle"), "no joints expected");
    draw_skeleton_strip(&frames, &[0], &svg).unwrap();
    let s = std::fs::read_to_string(&svg).unwrap();
    assert_eq!(s.matches("<circle").count(), 49);
}

/// Timing at How2Sign test scale (2,348 queries, 14 cells x 3 seeds): run with `--ignored`.
#[test]
#[ignore]
fn timing_how2sign_scale() {
    let dir = out_dir("timing");
    let input = demo_input(3, 2348);
    let t0 = std::time::Instant::now();
    let files = write_report(&input, &dir).unwrap();
    eprintln!(
        "{} charts, 2348 queries: {:?}",
        files.charts.len(),
        t0.elapsed()
    );
}
