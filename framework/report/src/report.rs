//! Writing reports: [`write_report`] (one experiment) and [`write_comparison`] (two
//! experiments side by side). Each draws every chart the input has data for (PNG + SVG),
//! computes the tables and writes a self-contained `index.html` (and, for one experiment, the
//! tables as `tables.md`) into the output directory.

use crate::axes::{self, short_key};
use crate::charts::{self, bars, cgaf, curves, heatmap, skeleton, sweep, ChartFiles};
use crate::html::{self, escape};
use crate::input::ReportInput;
use crate::markdown;
use crate::render_both;
use crate::table::{self, T2V_R1, V2T_R1};
use crate::ReportError;
use serde::Serialize;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Knobs of report generation.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportOptions {
    /// Bootstrap replicates for intervals and paired differences.
    pub resamples: usize,
    /// Base seed of the bootstrap streams (reports are reproducible byte for byte).
    pub seed: u64,
    /// Training-curve figures are drawn for at most this many cells (the first ones).
    pub max_curve_cells: usize,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            resamples: 1000,
            seed: 0x5EED_5EED,
            max_curve_cells: 40,
        }
    }
}

/// What a report wrote.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportFiles {
    /// The HTML page.
    pub index: PathBuf,
    /// Every chart, in page order.
    pub charts: Vec<ChartFiles>,
    /// The tables as Markdown (`tables.md`; single-experiment reports only).
    pub tables_md: Option<PathBuf>,
}

impl ReportFiles {
    /// Every file written (index first, then `tables.md` if any, then PNG and SVG of each chart).
    pub fn all_files(&self) -> Vec<PathBuf> {
        let mut v = vec![self.index.clone()];
        v.extend(self.tables_md.clone());
        for c in &self.charts {
            v.push(c.png.clone());
            v.push(c.svg.clone());
        }
        v
    }
}

/// Unique file stems within one report.
#[derive(Default)]
struct Stems(BTreeSet<String>);

impl Stems {
    fn take(&mut self, base: &str) -> String {
        let b = charts::slug(base);
        let mut s = b.clone();
        let mut i = 2;
        while !self.0.insert(s.clone()) {
            s = format!("{b}_{i}");
            i += 1;
        }
        s
    }
}

fn validate(input: &ReportInput) -> Result<(), ReportError> {
    if let Some(h) = &input.extras.similarity {
        heatmap::validate(h)?;
    }
    if let Some(c) = &input.extras.cgaf {
        cgaf::validate(c)?;
    }
    for (i, ex) in input.extras.examples.iter().enumerate() {
        for (j, v) in ex.top.iter().enumerate() {
            if let Some((k, f)) = v
                .keyframes
                .iter()
                .enumerate()
                .find(|(_, f)| f.len() != skeleton::N_JOINTS)
            {
                return Err(ReportError::invalid(
                    format!("extras.examples[{i}].top[{j}].keyframes[{k}]"),
                    format!("{} joints, expected {}", f.len(), skeleton::N_JOINTS),
                ));
            }
        }
    }
    Ok(())
}

fn create_dir(dir: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|e| ReportError::io(dir, e))
}

fn write_file(path: &Path, text: &str) -> Result<(), ReportError> {
    std::fs::write(path, text).map_err(|e| ReportError::io(path, e))
}

/// Writes the report of one experiment into `out_dir` with default options.
pub fn write_report(input: &ReportInput, out_dir: &Path) -> Result<ReportFiles, ReportError> {
    write_report_with(input, out_dir, &ReportOptions::default())
}

/// Writes the report of one experiment into `out_dir` (created if needed): `index.html` plus
/// every chart as PNG and SVG. Sections without data are left out (or say so).
pub fn write_report_with(
    input: &ReportInput,
    out_dir: &Path,
    opt: &ReportOptions,
) -> Result<ReportFiles, ReportError> {
    validate(input)?;
    create_dir(out_dir)?;
    let mut stems = Stems::default();
    let mut all: Vec<ChartFiles> = Vec::new();
    let summary = table::summarize(&input.cells);
    let unc = table::uncertainty(input, opt.resamples, opt.seed);

    // Metric charts.
    let mut metric_figs = String::new();
    if let Some(ov) = bars::overview_chart(input) {
        let stem = stems.take("overview_r1");
        let c = render_both!(out_dir, stem, ov.title, ov.size(), draw_bars_fn(&ov))?;
        metric_figs.push_str(&html::figure(&c, "All cells; error bars: std over seeds"));
        all.push(c);
    }
    let mut sweep_figs = String::new();
    let mut ablation_figs = String::new();
    for axis in axes::axis_keys(input) {
        if axes::is_numeric(input, &axis) {
            if let Some(sw) = sweep::sweep_chart(input, &axis) {
                let stem = stems.take(&format!("sweep_{}", short_key(&axis)));
                let c = render_both!(out_dir, stem, sw.title, (860, 480), draw_sweep_fn(&sw))?;
                sweep_figs.push_str(&html::figure(&c, "error bars: std over seeds"));
                all.push(c);
            }
        } else if let Some(ab) = bars::ablation_chart(input, &axis) {
            let stem = stems.take(&format!("ablation_{}", short_key(&axis)));
            let c = render_both!(out_dir, stem, ab.title, ab.size(), draw_bars_fn(&ab))?;
            ablation_figs.push_str(&html::figure(&c, "error bars: std over seeds"));
            all.push(c);
        }
    }
    let mut curve_figs = String::new();
    for cell in input.cells.iter().take(opt.max_curve_cells) {
        if let Some(cc) = curves::curves_chart(cell) {
            let stem = stems.take(&format!("curves_{}", cell.name));
            let title = format!("Training curves: {}", cell.name);
            let c = render_both!(out_dir, stem, title, cc.size(), draw_curves_fn(&cc))?;
            curve_figs.push_str(&html::figure(&c, ""));
            all.push(c);
        }
    }
    let mut extra_html = String::new();
    if let Some(h) = &input.extras.similarity {
        let stem = stems.take("similarity");
        let c = render_both!(out_dir, stem, h.title, heatmap::size(h), draw_heatmap_fn(h))?;
        let _ = write!(
            extra_html,
            "<h2 id=\"similarity\">Similarity matrix</h2>\n<p class=\"note\">Scores of a test subset (rows: {}, columns: {}); the red outline marks each row's ground truth.</p>\n{}",
            escape(h.row_axis.as_deref().unwrap_or("videos")),
            escape(h.col_axis.as_deref().unwrap_or("sentences")),
            html::figure(&c, "")
        );
        all.push(c);
    }
    if let Some(s) = &input.extras.cgaf {
        let stem = stems.take("cgaf_sampling");
        let title = format!("CGAF sampling positions, video {}", s.video);
        let c = render_both!(out_dir, stem, title, cgaf::size(s), draw_cgaf_fn(s))?;
        let _ = write!(
            extra_html,
            "<h2 id=\"cgaf\">CGAF sampling</h2>\n<p class=\"note\">For each query clip t (x) the positions u (y, in clip units of the other stream) where the deformable attention samples, one colour per sample k; the dashed diagonal is u = t.</p>\n{}",
            html::figure(&c, "")
        );
        all.push(c);
    }
    if !input.extras.examples.is_empty() {
        extra_html.push_str("<h2 id=\"examples\">Retrieval examples</h2>\n<p class=\"note\">Text queries with their top-ranked videos (keyframe skeletons: body grey, left hand red, right hand blue); the correct video is framed in green.</p>\n");
        for (i, ex) in input.extras.examples.iter().enumerate() {
            let stem = stems.take(&format!("example_{}", i + 1));
            let title = format!("Query {}: {}", i + 1, charts::ellipsize(&ex.query, 80));
            let size = (
                210 + 190
                    * ex.top
                        .iter()
                        .map(|v| v.keyframes.len())
                        .max()
                        .unwrap_or(1)
                        .max(1) as u32,
                40 + 150 * ex.top.len().max(1) as u32,
            );
            let c = render_both!(out_dir, stem, title, size, draw_example_fn(ex))?;
            let _ = write!(
                extra_html,
                "<h3>Query {}: “{}”</h3>\n",
                i + 1,
                escape(&ex.query)
            );
            extra_html.push_str("<table><tr><th>rank</th><th class=\"name\">video</th><th>score</th><th>correct</th><th class=\"name\">caption</th></tr>\n");
            for (r, v) in ex.top.iter().enumerate() {
                let _ = writeln!(
                    extra_html,
                    "<tr><td>{}</td><td class=\"name\">{}</td><td>{:.3}</td><td>{}</td><td class=\"name\">{}</td></tr>",
                    r + 1,
                    escape(&v.video),
                    v.score,
                    if v.correct { "<span class=\"sig\">✓</span>" } else { "" },
                    escape(v.caption.as_deref().unwrap_or(""))
                );
            }
            extra_html.push_str("</table>\n");
            if let Some(r) = ex.correct_rank {
                let _ = writeln!(
                    extra_html,
                    "<p class=\"note\">The correct video is at rank {r}.</p>"
                );
            }
            extra_html.push_str(&html::figure(&c, ""));
            all.push(c);
        }
    }

    // Page.
    let n_runs: usize = input.cells.iter().map(|c| c.runs.len()).sum();
    let n_done: usize = summary.iter().map(|s| s.n_with_metrics).sum();
    let missing: Vec<&str> = summary
        .iter()
        .filter(|s| s.is_missing())
        .map(|s| s.name.as_str())
        .collect();
    let mut b = String::new();
    let _ = writeln!(b, "<h1>Experiment {}</h1>", escape(&input.experiment));
    if let Some(d) = &input.description {
        let _ = writeln!(b, "<p>{}</p>", escape(d));
    }
    let _ = writeln!(
        b,
        "<p class=\"note\">{} cells, {} runs, {} with test metrics{}.</p>",
        input.cells.len(),
        n_runs,
        n_done,
        if missing.is_empty() {
            String::new()
        } else {
            format!("; missing cells: {}", escape(&missing.join(", ")))
        }
    );
    b.push_str("<nav><a href=\"#results\">results</a><a href=\"#uncertainty\">uncertainty</a>");
    if !metric_figs.is_empty() || !sweep_figs.is_empty() || !ablation_figs.is_empty() {
        b.push_str("<a href=\"#charts\">charts</a>");
    }
    if !curve_figs.is_empty() {
        b.push_str("<a href=\"#curves\">training curves</a>");
    }
    for (id, name, present) in [
        (
            "similarity",
            "similarity",
            input.extras.similarity.is_some(),
        ),
        ("cgaf", "CGAF", input.extras.cgaf.is_some()),
        ("examples", "examples", !input.extras.examples.is_empty()),
    ] {
        if present {
            let _ = write!(b, "<a href=\"#{id}\">{name}</a>");
        }
    }
    b.push_str("<a href=\"#config\">config</a><a href=\"#runs\">runs</a></nav>\n");
    b.push_str("<h2 id=\"results\">Results (test split)</h2>\n<p class=\"note\">Mean ± sample std over seeds; R@K in %, MedR in ranks (lower is better); bold = best in column; seeds = runs with test metrics / runs.</p>\n");
    b.push_str(&html::results_table(&summary));
    let streams = table::stream_rows(&input.cells);
    if !streams.is_empty() {
        b.push_str("<h2 id=\"streams\">What fusion adds</h2>\n<p class=\"note\">Dual-stream cells: test R@1 of the fused scores and of each stream of the same model scored alone (mean over seeds, selected epoch); gain = fused − better stream, in points.</p>\n");
        b.push_str(&html::streams_table(&streams));
    }
    b.push_str("<h2 id=\"uncertainty\">Uncertainty</h2>\n");
    b.push_str(&html::uncertainty_table(&unc));
    if !metric_figs.is_empty() || !sweep_figs.is_empty() || !ablation_figs.is_empty() {
        b.push_str("<h2 id=\"charts\">Charts</h2>\n");
        if !sweep_figs.is_empty() {
            b.push_str("<h3>Sweeps</h3>\n");
            b.push_str(&sweep_figs);
        }
        if !ablation_figs.is_empty() {
            b.push_str("<h3>Ablations</h3>\n");
            b.push_str(&ablation_figs);
        }
        if !metric_figs.is_empty() {
            b.push_str("<h3>All cells</h3>\n");
            b.push_str(&metric_figs);
        }
    }
    if !curve_figs.is_empty() {
        b.push_str("<h2 id=\"curves\">Training curves</h2>\n<p class=\"note\">Loss components (train) and dev R@1 per epoch, one colour per seed.</p>\n");
        b.push_str(&curve_figs);
    }
    b.push_str(&extra_html);
    b.push_str("<h2 id=\"config\">Configuration (values that differ between cells)</h2>\n");
    b.push_str(&html::config_table(&input.cells));
    b.push_str("<h2 id=\"runs\">Runs</h2>\n");
    b.push_str(&html::runs_table(input, out_dir));
    let index = out_dir.join("index.html");
    write_file(
        &index,
        &html::page(&format!("seds-lab report: {}", input.experiment), &b),
    )?;
    let tables_md = out_dir.join("tables.md");
    write_file(
        &tables_md,
        &markdown::tables(&input.experiment, &summary, &streams, &unc),
    )?;
    Ok(ReportFiles {
        index,
        charts: all,
        tables_md: Some(tables_md),
    })
}

// Thin wrappers so `render_both!` can call plain generic functions by name.
fn draw_bars_fn<DB: plotters::prelude::DrawingBackend>(
    r: &plotters::prelude::DrawingArea<DB, plotters::coord::Shift>,
    c: &bars::BarChart,
) -> Result<(), String> {
    bars::draw_bars(r, c)
}
fn draw_sweep_fn<DB: plotters::prelude::DrawingBackend>(
    r: &plotters::prelude::DrawingArea<DB, plotters::coord::Shift>,
    c: &sweep::SweepChart,
) -> Result<(), String> {
    sweep::draw_sweep(r, c)
}
fn draw_curves_fn<DB: plotters::prelude::DrawingBackend>(
    r: &plotters::prelude::DrawingArea<DB, plotters::coord::Shift>,
    c: &curves::CurvesChart,
) -> Result<(), String> {
    curves::draw_curves(r, c)
}
fn draw_heatmap_fn<DB: plotters::prelude::DrawingBackend>(
    r: &plotters::prelude::DrawingArea<DB, plotters::coord::Shift>,
    h: &crate::input::Heatmap,
) -> Result<(), String> {
    heatmap::draw_heatmap(r, h)
}
fn draw_cgaf_fn<DB: plotters::prelude::DrawingBackend>(
    r: &plotters::prelude::DrawingArea<DB, plotters::coord::Shift>,
    s: &crate::input::CgafSampling,
) -> Result<(), String> {
    cgaf::draw_cgaf(r, s)
}
fn draw_example_fn<DB: plotters::prelude::DrawingBackend>(
    r: &plotters::prelude::DrawingArea<DB, plotters::coord::Shift>,
    ex: &crate::input::RetrievalExample,
) -> Result<(), String> {
    skeleton::draw_example(r, ex)
}

/// Writes a comparison of two experiments into `out_dir`: both results tables side by side,
/// a table of the cells they share (by name) with R@1 differences (B − A) and, where both
/// have per-query ranks on the same number of queries, paired-bootstrap intervals; plus a
/// bar chart of the shared cells' R@1.
pub fn write_comparison(
    a: &ReportInput,
    b: &ReportInput,
    out_dir: &Path,
) -> Result<ReportFiles, ReportError> {
    create_dir(out_dir)?;
    let opt = ReportOptions::default();
    let (sa, sb) = (table::summarize(&a.cells), table::summarize(&b.cells));
    let shared: Vec<(&crate::input::CellInput, &crate::input::CellInput)> = a
        .cells
        .iter()
        .filter_map(|ca| {
            b.cells
                .iter()
                .find(|cb| cb.name == ca.name)
                .map(|cb| (ca, cb))
        })
        .collect();
    let mut charts_out = Vec::new();
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<h1>Comparison: {} vs {}</h1>",
        escape(&a.experiment),
        escape(&b.experiment)
    );
    let _ = writeln!(
        body,
        "<p class=\"note\">A = {} ({} cells), B = {} ({} cells); {} cells share a name.</p>",
        escape(&a.experiment),
        a.cells.len(),
        escape(&b.experiment),
        b.cells.len(),
        shared.len()
    );
    body.push_str("<h2 id=\"tables\">Results (test split)</h2>\n<div class=\"side\">\n");
    for (name, s) in [(&a.experiment, &sa), (&b.experiment, &sb)] {
        let _ = write!(
            body,
            "<div><h3>{}</h3>\n{}</div>\n",
            escape(name),
            html::results_table(s)
        );
    }
    body.push_str("</div>\n");
    if !shared.is_empty() {
        body.push_str("<h2 id=\"shared\">Shared cells: B − A</h2>\n<p class=\"note\">R@1 means over seeds; Δ = B − A in points; the interval is a 95% paired bootstrap over test queries (seeds pooled), shown when both experiments recorded ranks on the same number of queries.</p>\n");
        body.push_str("<table><tr><th class=\"name\">cell</th><th>A T2V R@1</th><th>B T2V R@1</th><th>Δ T2V [95% CI]</th><th>A V2T R@1</th><th>B V2T R@1</th><th>Δ V2T [95% CI]</th></tr>\n");
        let mut bars_v = Vec::new();
        for (ca, cb) in &shared {
            let _ = write!(body, "<tr><td class=\"name\">{}</td>", escape(&ca.name));
            for (key, t2v) in [(T2V_R1, true), (V2T_R1, false)] {
                let (ma, mb) = (table::cell_metric(ca, key), table::cell_metric(cb, key));
                let f = |m: Option<crate::stats::MeanStd>| {
                    m.map(|m| table::fmt_mean_std(&m, 1))
                        .unwrap_or_else(|| "missing".into())
                };
                let ranks = |c: &crate::input::CellInput| -> Vec<Vec<usize>> {
                    c.runs
                        .iter()
                        .map(|r| {
                            if t2v {
                                r.t2v_ranks.clone()
                            } else {
                                r.v2t_ranks.clone()
                            }
                        })
                        .filter(|r| !r.is_empty())
                        .collect()
                };
                let (ra, rb) = (ranks(ca), ranks(cb));
                let ra: Vec<&[usize]> = ra.iter().map(Vec::as_slice).collect();
                let rb: Vec<&[usize]> = rb.iter().map(Vec::as_slice).collect();
                let seed = seds_core::Rng::derive(opt.seed, &format!("compare/{}/{t2v}", ca.name))
                    .next_u64();
                let delta = match (ma, mb) {
                    (Some(x), Some(y)) => {
                        let mut t = format!("{:+.1}", y.mean - x.mean);
                        if let Some((_, lo, hi)) = crate::stats::paired_bootstrap_diff_pooled(
                            &rb,
                            &ra,
                            1,
                            opt.resamples,
                            seed,
                        ) {
                            let _ = write!(
                                t,
                                " [{lo:+.1}, {hi:+.1}]{}",
                                if lo > 0.0 || hi < 0.0 { " *" } else { "" }
                            );
                        }
                        t
                    }
                    _ => "–".into(),
                };
                let _ = write!(
                    body,
                    "<td>{}</td><td>{}</td><td>{}</td>",
                    escape(&f(ma)),
                    escape(&f(mb)),
                    escape(&delta)
                );
            }
            body.push_str("</tr>\n");
            for (tag, c) in [("A", ca), ("B", cb)] {
                bars_v.push(bars::Bar {
                    label: format!("{tag}: {}", c.name),
                    t2v: table::cell_metric(c, T2V_R1),
                    v2t: table::cell_metric(c, V2T_R1),
                });
            }
        }
        body.push_str("</table>\n<p class=\"note\">* = interval excludes 0.</p>\n");
        if bars_v.iter().any(|b| b.t2v.is_some() || b.v2t.is_some()) {
            let ch = bars::BarChart {
                title: format!("Test R@1: A = {} vs B = {}", a.experiment, b.experiment),
                bars: bars_v,
            };
            let c = render_both!(
                out_dir,
                "compare_r1",
                ch.title,
                ch.size(),
                draw_bars_fn(&ch)
            )?;
            body.push_str(&html::figure(
                &c,
                "shared cells; error bars: std over seeds",
            ));
            charts_out.push(c);
        }
    }
    let index = out_dir.join("index.html");
    write_file(
        &index,
        &html::page(
            &format!("seds-lab comparison: {} vs {}", a.experiment, b.experiment),
            &body,
        ),
    )?;
    Ok(ReportFiles {
        index,
        charts: charts_out,
        tables_md: None,
    })
}
