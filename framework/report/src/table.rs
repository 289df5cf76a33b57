//! Pure table computations: the paper-layout results table (mean and std over seeds, best per
//! column), the uncertainty table (bootstrap intervals and paired differences against the
//! reference cell) and the config-difference table. No drawing, no files.

use crate::input::{CellInput, ReportInput};
use crate::stats::{self, MeanStd};
use seds_core::Rng;
use std::collections::{BTreeMap, BTreeSet};

/// One column of the results table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Column {
    /// Final-metric key, e.g. `test.t2v_r1`.
    pub key: &'static str,
    /// Direction shown in the header group (`T2V` / `V2T`).
    pub direction: &'static str,
    /// Metric label (`R@1`, `R@5`, `R@10`, `MedR`).
    pub label: &'static str,
    /// Whether larger is better (false for MedR).
    pub higher_better: bool,
}

/// The paper's column layout: T2V R@1/R@5/R@10/MedR, then V2T.
pub const COLUMNS: [Column; 8] = [
    Column {
        key: "test.t2v_r1",
        direction: "T2V",
        label: "R@1",
        higher_better: true,
    },
    Column {
        key: "test.t2v_r5",
        direction: "T2V",
        label: "R@5",
        higher_better: true,
    },
    Column {
        key: "test.t2v_r10",
        direction: "T2V",
        label: "R@10",
        higher_better: true,
    },
    Column {
        key: "test.t2v_medr",
        direction: "T2V",
        label: "MedR",
        higher_better: false,
    },
    Column {
        key: "test.v2t_r1",
        direction: "V2T",
        label: "R@1",
        higher_better: true,
    },
    Column {
        key: "test.v2t_r5",
        direction: "V2T",
        label: "R@5",
        higher_better: true,
    },
    Column {
        key: "test.v2t_r10",
        direction: "V2T",
        label: "R@10",
        higher_better: true,
    },
    Column {
        key: "test.v2t_medr",
        direction: "V2T",
        label: "MedR",
        higher_better: false,
    },
];

/// Final-metric key of T2V R@1 (sweeps, bars).
pub const T2V_R1: &str = "test.t2v_r1";
/// Final-metric key of V2T R@1 (sweeps, bars).
pub const V2T_R1: &str = "test.v2t_r1";

/// One row of the results table.
#[derive(Clone, Debug, PartialEq)]
pub struct CellSummary {
    /// Cell name.
    pub name: String,
    /// Number of runs (seeds) recorded for the cell.
    pub n_runs: usize,
    /// Number of runs that have at least one test metric.
    pub n_with_metrics: usize,
    /// Run states with their counts, e.g. `COMPLETED x3`.
    pub statuses: BTreeMap<String, usize>,
    /// One entry per [`COLUMNS`] column: mean/std over the seeds that have it.
    pub values: Vec<Option<MeanStd>>,
}

impl CellSummary {
    /// True when no run of the cell has any of the table's metrics.
    pub fn is_missing(&self) -> bool {
        self.values.iter().all(Option::is_none)
    }
}

/// Mean/std over seeds of the final metric `key` of `cell`.
pub fn cell_metric(cell: &CellInput, key: &str) -> Option<MeanStd> {
    let vals: Vec<f64> = cell
        .runs
        .iter()
        .filter_map(|r| r.final_metrics.get(key).copied())
        .collect();
    stats::mean_std(&vals)
}

/// Summarises every cell for the results table.
pub fn summarize(cells: &[CellInput]) -> Vec<CellSummary> {
    cells
        .iter()
        .map(|c| {
            let mut statuses = BTreeMap::new();
            for r in &c.runs {
                *statuses.entry(r.status.clone()).or_insert(0) += 1;
            }
            CellSummary {
                name: c.name.clone(),
                n_runs: c.runs.len(),
                n_with_metrics: c
                    .runs
                    .iter()
                    .filter(|r| {
                        COLUMNS
                            .iter()
                            .any(|col| r.final_metrics.contains_key(col.key))
                    })
                    .count(),
                statuses,
                values: COLUMNS.iter().map(|col| cell_metric(c, col.key)).collect(),
            }
        })
        .collect()
}

/// For each column, the indices of the rows with the best mean (several on an exact tie);
/// empty when no row has the metric.
pub fn best_per_column(rows: &[CellSummary]) -> Vec<Vec<usize>> {
    COLUMNS
        .iter()
        .enumerate()
        .map(|(j, col)| {
            let vals: Vec<(usize, f64)> = rows
                .iter()
                .enumerate()
                .filter_map(|(i, r)| r.values[j].map(|m| (i, m.mean)))
                .collect();
            let best = vals
                .iter()
                .map(|&(_, v)| v)
                .fold(None, |acc: Option<f64>, v| {
                    Some(match acc {
                        None => v,
                        Some(a) if col.higher_better => a.max(v),
                        Some(a) => a.min(v),
                    })
                });
            match best {
                None => vec![],
                Some(b) => vals
                    .iter()
                    .filter(|&&(_, v)| (v - b).abs() <= 1e-9)
                    .map(|&(i, _)| i)
                    .collect(),
            }
        })
        .collect()
}

/// "mean ± std" with `decimals` digits; just the mean for a single seed.
pub fn fmt_mean_std(m: &MeanStd, decimals: usize) -> String {
    if m.n > 1 {
        format!("{:.*} ± {:.*}", decimals, m.mean, decimals, m.std)
    } else {
        format!("{:.*}", decimals, m.mean)
    }
}

/// A paired comparison of one cell against the reference cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairedDiff {
    /// Observed difference (cell - reference), percentage points.
    pub diff: f64,
    /// Lower end of the 95% interval.
    pub lo: f64,
    /// Upper end of the 95% interval.
    pub hi: f64,
}

impl PairedDiff {
    /// Significant at the 5% level: the interval excludes zero.
    pub fn significant(&self) -> bool {
        self.lo > 0.0 || self.hi < 0.0
    }

    /// "+d [+lo, +hi]" in points, one decimal (the HTML and Markdown tables' text).
    pub fn text(&self) -> String {
        format!("{:+.1} [{:+.1}, {:+.1}]", self.diff, self.lo, self.hi)
    }
}

/// Uncertainty of one direction of one cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DirectionUncertainty {
    /// R@1 pooled over seeds (percent of all seed-query pairs).
    pub r1: f64,
    /// 95% bootstrap interval of `r1`.
    pub ci: (f64, f64),
    /// Paired difference against the reference (None for the reference itself or when the
    /// query sets differ).
    pub vs_reference: Option<PairedDiff>,
}

impl DirectionUncertainty {
    /// "r1 [lo, hi]" in percent, one decimal (the HTML and Markdown tables' text).
    pub fn ci_text(&self) -> String {
        format!("{:.1} [{:.1}, {:.1}]", self.r1, self.ci.0, self.ci.1)
    }
}

/// One row of the uncertainty table.
#[derive(Clone, Debug, PartialEq)]
pub struct UncertaintyRow {
    /// Cell name.
    pub name: String,
    /// Number of seeds with ranks.
    pub seeds: usize,
    /// Number of queries per seed (of the first seed).
    pub queries: usize,
    /// T2V R@1 uncertainty (None without ranks).
    pub t2v: Option<DirectionUncertainty>,
    /// V2T R@1 uncertainty (None without ranks).
    pub v2t: Option<DirectionUncertainty>,
}

/// The uncertainty table.
#[derive(Clone, Debug, PartialEq)]
pub struct UncertaintyTable {
    /// Name of the reference cell, if any cell has ranks.
    pub reference: Option<String>,
    /// True when the reference was chosen automatically (none set, or the set one is absent).
    pub reference_auto: bool,
    /// Bootstrap replicates used.
    pub resamples: usize,
    /// One row per cell that has ranks.
    pub rows: Vec<UncertaintyRow>,
}

fn ranks_of(cell: &CellInput, t2v: bool) -> Vec<&[usize]> {
    cell.runs
        .iter()
        .map(|r| {
            if t2v {
                r.t2v_ranks.as_slice()
            } else {
                r.v2t_ranks.as_slice()
            }
        })
        .filter(|r| !r.is_empty())
        .collect()
}

fn seed_for(base: u64, label: &str) -> u64 {
    Rng::derive(base, label).next_u64()
}

/// Bootstrap intervals of R@1 per cell and paired differences against the reference cell.
pub fn uncertainty(input: &ReportInput, resamples: usize, seed: u64) -> UncertaintyTable {
    let has_ranks = |c: &CellInput| !ranks_of(c, true).is_empty() || !ranks_of(c, false).is_empty();
    let set = input
        .reference
        .as_ref()
        .and_then(|r| input.cells.iter().find(|c| &c.name == r && has_ranks(c)));
    let (reference, reference_auto) = match set {
        Some(c) => (Some(c), false),
        None => (input.cells.iter().find(|c| has_ranks(c)), true),
    };
    let mut rows = Vec::new();
    for cell in input.cells.iter().filter(|c| has_ranks(c)) {
        let dir = |t2v: bool| -> Option<DirectionUncertainty> {
            let runs = ranks_of(cell, t2v);
            if runs.is_empty() {
                return None;
            }
            let total: usize = runs.iter().map(|r| r.len()).sum();
            let hits: usize = runs
                .iter()
                .map(|r| r.iter().filter(|&&x| x == 1).count())
                .sum();
            let label = format!("{}/{}", cell.name, if t2v { "t2v" } else { "v2t" });
            let ci = stats::bootstrap_recall_ci_pooled(
                &runs,
                1,
                resamples,
                seed_for(seed, &format!("ci/{label}")),
            );
            let vs_reference = reference.filter(|r| r.name != cell.name).and_then(|r| {
                let ref_runs = ranks_of(r, t2v);
                stats::paired_bootstrap_diff_pooled(
                    &runs,
                    &ref_runs,
                    1,
                    resamples,
                    seed_for(seed, &format!("paired/{label}")),
                )
                .map(|(diff, lo, hi)| PairedDiff { diff, lo, hi })
            });
            Some(DirectionUncertainty {
                r1: 100.0 * hits as f64 / total as f64,
                ci,
                vs_reference,
            })
        };
        let first = ranks_of(cell, true)
            .first()
            .or(ranks_of(cell, false).first())
            .map(|r| r.len())
            .unwrap_or(0);
        rows.push(UncertaintyRow {
            name: cell.name.clone(),
            seeds: ranks_of(cell, true).len().max(ranks_of(cell, false).len()),
            queries: first,
            t2v: dir(true),
            v2t: dir(false),
        });
    }
    UncertaintyTable {
        reference: reference.map(|c| c.name.clone()),
        reference_auto,
        resamples,
        rows,
    }
}

/// What fusion adds in one dual-stream cell: R@1 of the fused scores against each of the same
/// model's streams scored alone (final metrics `test.*`, `test_pose.*`, `test_rgb.*`), mean
/// over seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamRow {
    /// Cell name.
    pub name: String,
    /// Seeds that have all three scores.
    pub seeds: usize,
    /// `[T2V, V2T]` R@1 of the fused scores.
    pub fused: [f64; 2],
    /// `[T2V, V2T]` R@1 of the pose stream alone.
    pub pose: [f64; 2],
    /// `[T2V, V2T]` R@1 of the RGB stream alone.
    pub rgb: [f64; 2],
}

impl StreamRow {
    /// Fused minus the better stream, `[T2V, V2T]`, in points.
    pub fn gain(&self) -> [f64; 2] {
        [0, 1].map(|i| self.fused[i] - self.pose[i].max(self.rgb[i]))
    }

    /// The row's eight values as table text: T2V fused, pose, RGB, gain, then the same for V2T
    /// (one decimal; the gain signed).
    pub fn value_cells(&self) -> Vec<String> {
        let g = self.gain();
        (0..2)
            .flat_map(|i| {
                [
                    format!("{:.1}", self.fused[i]),
                    format!("{:.1}", self.pose[i]),
                    format!("{:.1}", self.rgb[i]),
                    format!("{:+.1}", g[i]),
                ]
            })
            .collect()
    }
}

/// One [`StreamRow`] per cell whose runs recorded per-stream test metrics (dual-stream
/// cells); seeds lacking any of the six values are left out.
pub fn stream_rows(cells: &[CellInput]) -> Vec<StreamRow> {
    const SPLITS: [&str; 3] = ["test", "test_pose", "test_rgb"];
    cells
        .iter()
        .filter_map(|c| {
            let per_run: Vec<[f64; 6]> = c
                .runs
                .iter()
                .filter_map(|r| {
                    let mut v = [0.0; 6];
                    for (i, split) in SPLITS.iter().enumerate() {
                        for (j, dir) in ["t2v", "v2t"].iter().enumerate() {
                            v[2 * i + j] = *r.final_metrics.get(&format!("{split}.{dir}_r1"))?;
                        }
                    }
                    Some(v)
                })
                .collect();
            if per_run.is_empty() {
                return None;
            }
            let n = per_run.len() as f64;
            let mean = |k: usize| per_run.iter().map(|v| v[k]).sum::<f64>() / n;
            Some(StreamRow {
                name: c.name.clone(),
                seeds: per_run.len(),
                fused: [mean(0), mean(1)],
                pose: [mean(2), mean(3)],
                rgb: [mean(4), mean(5)],
            })
        })
        .collect()
}

/// Config keys whose value differs between cells (absence counts as a value), sorted.
pub fn differing_params(cells: &[CellInput]) -> Vec<String> {
    let keys: BTreeSet<&String> = cells.iter().flat_map(|c| c.params.keys()).collect();
    keys.into_iter()
        .filter(|k| {
            let vals: BTreeSet<Option<&String>> = cells.iter().map(|c| c.params.get(*k)).collect();
            vals.len() > 1
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::RunInput;

    fn run(seed: u64, t2v_r1: f64, medr: f64) -> RunInput {
        let mut r = RunInput {
            seed,
            status: "COMPLETED".into(),
            ..Default::default()
        };
        r.final_metrics.insert("test.t2v_r1".into(), t2v_r1);
        r.final_metrics.insert("test.t2v_medr".into(), medr);
        r
    }

    #[test]
    fn summary_and_best_marks() {
        let cells = vec![
            CellInput {
                name: "a".into(),
                runs: vec![run(1, 10.0, 3.0), run(2, 20.0, 5.0)],
                ..Default::default()
            },
            CellInput {
                name: "b".into(),
                runs: vec![run(1, 30.0, 4.0)],
                ..Default::default()
            },
            CellInput {
                name: "missing".into(),
                ..Default::default()
            },
        ];
        let s = summarize(&cells);
        let r1 = s[0].values[0].unwrap();
        assert_eq!(r1.mean, 15.0);
        assert!((r1.std - 50f64.sqrt()).abs() < 1e-12);
        assert!(s[2].is_missing());
        assert!(!s[0].is_missing());
        let best = best_per_column(&s);
        assert_eq!(best[0], vec![1]); // T2V R@1: b (30) is best
        assert_eq!(best[3], vec![0, 1]); // MedR: a = 4.0 (mean of 3, 5) ties b = 4.0, lower is better
        assert!(best[4].is_empty()); // no V2T metrics at all
        assert_eq!(fmt_mean_std(&r1, 1), "15.0 ± 7.1");
    }

    #[test]
    fn stream_rows_average_seeds_and_skip_single_stream_cells() {
        let dual_run = |seed: u64, base: f64| {
            let mut r = run(seed, base, 1.0);
            for (split, off) in [("test", 0.0), ("test_pose", -10.0), ("test_rgb", -4.0)] {
                r.final_metrics
                    .insert(format!("{split}.t2v_r1"), base + off);
                r.final_metrics
                    .insert(format!("{split}.v2t_r1"), base + off + 1.0);
            }
            r
        };
        let cells = vec![
            CellInput {
                name: "dual".into(),
                runs: vec![dual_run(1, 60.0), dual_run(2, 70.0)],
                ..Default::default()
            },
            CellInput {
                name: "rgb-only".into(),
                runs: vec![run(1, 50.0, 2.0)],
                ..Default::default()
            },
        ];
        let rows = stream_rows(&cells);
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!((r.name.as_str(), r.seeds), ("dual", 2));
        assert_eq!(r.fused, [65.0, 66.0]);
        assert_eq!(r.pose, [55.0, 56.0]);
        assert_eq!(r.rgb, [61.0, 62.0]);
        assert_eq!(r.gain(), [4.0, 4.0]);
    }

    #[test]
    fn differing_params_only() {
        let mut a = CellInput {
            name: "a".into(),
            ..Default::default()
        };
        a.params.insert("loss.alpha".into(), "0.8".into());
        a.params.insert("train.lr".into(), "1e-4".into());
        let mut b = a.clone();
        b.params.insert("loss.alpha".into(), "0.4".into());
        let mut c = a.clone();
        c.params.insert("extra".into(), "x".into());
        assert_eq!(
            differing_params(&[a.clone(), b]),
            vec!["loss.alpha".to_string()]
        );
        assert_eq!(differing_params(&[a, c]), vec!["extra".to_string()]);
    }
}
