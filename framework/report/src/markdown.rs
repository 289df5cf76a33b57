//! The report's tables as Markdown (`tables.md` next to `index.html`): the same numbers as the
//! HTML page, ready to paste into a paper draft or into docs/results.md.

use crate::html::status_text;
use crate::table::{self, CellSummary, DirectionUncertainty, StreamRow, UncertaintyTable, COLUMNS};
use std::fmt::Write as _;

/// Escapes the characters that would break a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn row(h: &mut String, cells: &[String]) {
    let _ = writeln!(h, "| {} |", cells.join(" | "));
}

fn header(h: &mut String, cols: &[&str]) {
    row(h, &cols.iter().map(|c| c.to_string()).collect::<Vec<_>>());
    let _ = writeln!(h, "|{}", "---|".repeat(cols.len()));
}

/// Results (mean ± std over seeds), "what fusion adds" (when any cell has per-stream scores)
/// and uncertainty (pooled R@1 intervals and paired differences against the reference, the
/// significant ones in bold) as three Markdown tables under `###` headings.
pub fn tables(
    experiment: &str,
    summary: &[CellSummary],
    streams: &[StreamRow],
    unc: &UncertaintyTable,
) -> String {
    let mut h = format!("## Experiment {}\n\n### Results (test split)\n\nMean ± sample std over seeds; R@K in %, MedR in ranks.\n\n", cell(experiment));
    let mut cols = vec!["cell".to_string(), "seeds".to_string()];
    cols.extend(
        COLUMNS
            .iter()
            .map(|c| format!("{} {}", c.direction, c.label)),
    );
    header(&mut h, &cols.iter().map(String::as_str).collect::<Vec<_>>());
    for r in summary {
        let mut cells = vec![cell(&r.name), status_text(r)];
        cells.extend(r.values.iter().map(|v| match v {
            Some(m) => table::fmt_mean_std(m, 1),
            None => "missing".to_string(),
        }));
        row(&mut h, &cells);
    }
    if !streams.is_empty() {
        h.push_str("\n### What fusion adds\n\nTest R@1 of the fused scores and of each stream of the same model scored alone (mean over seeds); gain = fused − better stream.\n\n");
        header(
            &mut h,
            &[
                "cell",
                "seeds",
                "T2V fused",
                "T2V pose",
                "T2V RGB",
                "T2V gain",
                "V2T fused",
                "V2T pose",
                "V2T RGB",
                "V2T gain",
            ],
        );
        for r in streams {
            let mut cells = vec![cell(&r.name), r.seeds.to_string()];
            cells.extend(r.value_cells());
            row(&mut h, &cells);
        }
    }
    h.push_str("\n### Uncertainty\n\n");
    match &unc.reference {
        Some(r) => {
            let _ = writeln!(
                h,
                "R@1 pooled over seeds [95% bootstrap interval over test queries, {} resamples]; Δ = cell − reference ({}) with a 95% paired-bootstrap interval, in bold when it excludes 0.\n",
                unc.resamples,
                cell(r)
            );
        }
        None => h.push_str("No per-query ranks recorded: no intervals.\n\n"),
    }
    header(
        &mut h,
        &[
            "cell",
            "seeds",
            "queries",
            "T2V R@1 [95% CI]",
            "Δ T2V vs ref.",
            "V2T R@1 [95% CI]",
            "Δ V2T vs ref.",
        ],
    );
    for r in &unc.rows {
        let name = if unc.reference.as_deref() == Some(r.name.as_str()) {
            format!("**{}** (ref.)", cell(&r.name))
        } else {
            cell(&r.name)
        };
        let (t2v, dt2v) = direction(&r.t2v);
        let (v2t, dv2t) = direction(&r.v2t);
        row(
            &mut h,
            &[
                name,
                r.seeds.to_string(),
                r.queries.to_string(),
                t2v,
                dt2v,
                v2t,
                dv2t,
            ],
        );
    }
    h
}

/// Interval text and paired-difference text (bold when significant) of one direction.
fn direction(d: &Option<DirectionUncertainty>) -> (String, String) {
    match d {
        None => ("–".into(), "–".into()),
        Some(u) => {
            let diff = match u.vs_reference {
                None => "–".to_string(),
                Some(p) if p.significant() => format!("**{}**", p.text()),
                Some(p) => p.text(),
            };
            (u.ci_text(), diff)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::MeanStd;
    use crate::table::{PairedDiff, UncertaintyRow};

    fn summary(name: &str, r1: f64) -> CellSummary {
        CellSummary {
            name: name.into(),
            n_runs: 3,
            n_with_metrics: 3,
            statuses: [("COMPLETED".to_string(), 3)].into(),
            values: (0..8)
                .map(|i| {
                    (i != 7).then_some(MeanStd {
                        mean: r1 + i as f64,
                        std: 0.5,
                        n: 3,
                    })
                })
                .collect(),
        }
    }

    fn dir(r1: f64, diff: Option<(f64, f64, f64)>) -> Option<DirectionUncertainty> {
        Some(DirectionUncertainty {
            r1,
            ci: (r1 - 2.0, r1 + 2.0),
            vs_reference: diff.map(|(diff, lo, hi)| PairedDiff { diff, lo, hi }),
        })
    }

    #[test]
    fn tables_have_a_row_per_cell_and_bold_only_significant_differences() {
        let unc = UncertaintyTable {
            reference: Some("ref".into()),
            reference_auto: false,
            resamples: 1000,
            rows: vec![
                UncertaintyRow {
                    name: "ref".into(),
                    seeds: 3,
                    queries: 300,
                    t2v: dir(7.7, None),
                    v2t: dir(7.4, None),
                },
                UncertaintyRow {
                    name: "a|b".into(),
                    seeds: 3,
                    queries: 300,
                    t2v: dir(2.9, Some((-4.8, -6.7, -3.1))),
                    v2t: dir(7.5, Some((0.1, -0.9, 1.1))),
                },
            ],
        };
        let streams = vec![StreamRow {
            name: "ref".into(),
            seeds: 3,
            fused: [7.7, 7.4],
            pose: [1.4, 1.0],
            rgb: [5.8, 6.7],
        }];
        let md = tables(
            "abl",
            &[summary("ref", 7.7), summary("a|b", 2.9)],
            &streams,
            &unc,
        );
        let lines: Vec<&str> = md.lines().collect();
        // Results: header, separator, two rows, 10 columns each.
        let i = lines
            .iter()
            .position(|l| l.starts_with("| cell | seeds | T2V R@1"))
            .unwrap();
        assert_eq!(lines[i + 1], "|---|---|---|---|---|---|---|---|---|---|");
        assert_eq!(lines[i + 2], "| ref | 3/3 | 7.7 ± 0.5 | 8.7 ± 0.5 | 9.7 ± 0.5 | 10.7 ± 0.5 | 11.7 ± 0.5 | 12.7 ± 0.5 | 13.7 ± 0.5 | missing |");
        assert!(
            lines[i + 3].starts_with("| a\\|b | 3/3 | 2.9 ± 0.5"),
            "a pipe in a name is escaped"
        );
        assert!(md.contains("| ref | 3 | 7.7 | 1.4 | 5.8 | +1.9 | 7.4 | 1.0 | 6.7 | +0.7 |"));
        assert!(
            md.contains("| **ref** (ref.) | 3 | 300 | 7.7 [5.7, 9.7] | – | 7.4 [5.4, 9.4] | – |")
        );
        assert!(md.contains("| a\\|b | 3 | 300 | 2.9 [0.9, 4.9] | **-4.8 [-6.7, -3.1]** | 7.5 [5.5, 9.5] | +0.1 [-0.9, +1.1] |"));
        // Every table row has as many cells as its header.
        for l in lines.iter().filter(|l| l.starts_with('|')) {
            let n = l.replace("\\|", "").matches('|').count();
            assert!(n == 11 || n == 8, "{l}");
        }
    }
}
