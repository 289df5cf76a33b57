//! `seds-lab report`: loads an experiment's runs from the database (and the exports in their
//! run directories) into `seds_report::ReportInput`, then writes the HTML/PNG/SVG report.

use crate::exit::{CliError, CmdResult, Code};
use clap::Args;
use seds_report::{AxisValue, CellInput, ReportInput, RunInput};
use seds_store::{OpenMode, RunFilter, RunSummary, Store};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Arguments of `seds-lab report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Experiment name (as recorded) or experiment file (.toml).
    #[arg(required_unless_present = "compare")]
    pub experiment: Option<String>,
    /// Output directory (default: reports/<experiment>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Only these runs (ids).
    #[arg(long, num_args = 1..)]
    pub runs: Vec<i64>,
    /// Only runs matching this expression over params and final metrics.
    #[arg(long = "where")]
    pub where_expr: Option<String>,
    /// Put two experiments' tables side by side.
    #[arg(long, num_args = 2, value_names = ["EXP_A", "EXP_B"], conflicts_with = "experiment")]
    pub compare: Vec<String>,
    /// Bootstrap resamples for confidence intervals.
    #[arg(long, default_value_t = 1000)]
    pub resamples: usize,
}

/// What the experiment file (when available) tells the report: cell order, axes, reference.
struct ExperimentShape {
    name: String,
    description: Option<String>,
    reference: Option<String>,
    /// Cell names in plan order with their axis values.
    cells: Vec<(String, BTreeMap<String, AxisValue>)>,
}

fn axis_value(v: &serde_json::Value) -> AxisValue {
    match v {
        serde_json::Value::Bool(b) => AxisValue::Bool(*b),
        serde_json::Value::Number(n) => AxisValue::Number(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => AxisValue::Text(s.clone()),
        other => AxisValue::Text(other.to_string()),
    }
}

fn shape_from_file(path: &Path) -> Result<ExperimentShape, CliError> {
    let exp = seds_config::load_experiment(path, &[])?;
    let mut cells: Vec<(String, BTreeMap<String, AxisValue>)> = Vec::new();
    for c in &exp.cells {
        if cells.iter().any(|(n, _)| n == &c.name) {
            continue;
        }
        cells.push((
            c.name.clone(),
            c.axes
                .iter()
                .map(|(k, v)| (k.clone(), axis_value(v)))
                .collect(),
        ));
    }
    Ok(ExperimentShape {
        name: exp.name,
        description: exp.description,
        reference: exp.reference,
        cells,
    })
}

/// Resolves EXPERIMENT_OR_FILE to the experiment's shape: a .toml path is loaded directly;
/// a name is looked up in the database and its recorded file is loaded if it still exists.
async fn resolve_shape(store: &Store, arg: &str) -> Result<Option<ExperimentShape>, CliError> {
    let p = Path::new(arg);
    if p.extension().is_some_and(|e| e == "toml") {
        if !p.exists() {
            return Err(CliError::new(
                Code::InvalidConfig,
                format!("experiment file {arg} does not exist"),
            ));
        }
        return shape_from_file(p).map(Some);
    }
    match store.experiment_by_name(arg).await? {
        Some(row) if Path::new(&row.file).exists() => Ok(shape_from_file(Path::new(&row.file)).ok()),
        Some(_) => Ok(None),
        None => Err(CliError::db(format!("no experiment named '{arg}' in the database (see `seds-lab query \"SELECT name FROM experiments\"`)"))),
    }
}

/// Reads 1-based ranks from a run-dir TSV (one query per line; the rank is the last column).
fn read_ranks(path: &Path) -> Vec<usize> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| {
            l.split('\t')
                .next_back()
                .and_then(|r| r.trim().parse::<usize>().ok())
        })
        .collect()
}

async fn run_input(store: &Store, s: &RunSummary) -> Result<RunInput, CliError> {
    let history = store
        .metric_history(s.run.id, None, None)
        .await?
        .into_iter()
        // train losses, dev metrics and (dual stream) each stream's dev metrics.
        .filter(|m| m.split == "train" || m.split.starts_with("dev"))
        .map(|m| (format!("{}.{}", m.split, m.name), m.epoch, m.value))
        .collect();
    let run_dir = s.run.run_dir.as_ref().map(PathBuf::from);
    let ranks = |f: &str| {
        run_dir
            .as_ref()
            .map(|d| read_ranks(&d.join(f)))
            .unwrap_or_default()
    };
    let log = run_dir
        .as_ref()
        .map(|d| d.join("worker.log").display().to_string());
    Ok(RunInput {
        run_id: s.run.id,
        seed: s.run.seed.max(0) as u64,
        status: s.run.status.as_str().to_string(),
        final_metrics: s.finals.clone(),
        history,
        t2v_ranks: ranks("ranks_t2v.tsv"),
        v2t_ranks: ranks("ranks_v2t.tsv"),
        git_commit: s.run.provenance.git_commit.clone(),
        git_dirty: s.run.provenance.git_dirty.unwrap_or(false),
        host: s.run.provenance.host.clone(),
        duration_s: super::runs::duration(s),
        log_path: log,
    })
}

/// Builds the report input for one experiment (or a selection of runs).
async fn build_input(store: &Store, arg: &str, args: &ReportArgs) -> Result<ReportInput, CliError> {
    let shape = resolve_shape(store, arg).await?;
    let name = shape
        .as_ref()
        .map(|s| s.name.clone())
        .unwrap_or_else(|| arg.to_string());
    let filter = RunFilter {
        experiment: Some(name.clone()),
        statuses: vec![],
        where_expr: args.where_expr.clone(),
        run_ids: args.runs.clone(),
    };
    let runs = store.list_runs(&filter).await?;
    // Differing params per cell (from any of its runs), for the config table.
    let mut params_by_cell: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for r in &runs {
        params_by_cell.entry(r.run.cell.clone()).or_insert_with(|| {
            r.params
                .iter()
                .map(|(k, v)| (k.clone(), v.to_text()))
                .collect()
        });
    }
    let mut varying: Vec<String> = Vec::new();
    let all: Vec<&BTreeMap<String, String>> = params_by_cell.values().collect();
    if let Some(first) = all.first() {
        for k in first.keys().filter(|k| k.as_str() != "seed") {
            if all.iter().any(|p| p.get(k) != first.get(k)) {
                varying.push(k.clone());
            }
        }
    }
    let order: Vec<(String, BTreeMap<String, AxisValue>)> = match &shape {
        Some(s) => s.cells.clone(),
        None => {
            let mut v: Vec<(String, BTreeMap<String, AxisValue>)> = Vec::new();
            for r in &runs {
                if !v.iter().any(|(n, _)| n == &r.run.cell) {
                    v.push((r.run.cell.clone(), BTreeMap::new()));
                }
            }
            v
        }
    };
    let selection = !args.runs.is_empty() || args.where_expr.is_some();
    let mut cells = Vec::new();
    for (cell_name, axes) in order {
        let mut inputs = Vec::new();
        for r in runs
            .iter()
            .filter(|r| r.run.cell == cell_name && r.run.status == seds_store::RunStatus::Completed)
        {
            inputs.push(run_input(store, r).await?);
        }
        if selection && inputs.is_empty() {
            continue;
        }
        let params = params_by_cell
            .get(&cell_name)
            .map(|p| {
                p.iter()
                    .filter(|(k, _)| varying.contains(k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        cells.push(CellInput {
            name: cell_name,
            params,
            axes,
            runs: inputs,
        });
    }
    let swept: Vec<String> = {
        let mut keys: Vec<String> = Vec::new();
        for c in &cells {
            for (k, v) in &c.axes {
                if v.as_f64().is_some() && !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
        keys
    };
    let extras = super::report_extras::extras(
        store,
        &runs,
        shape.as_ref().and_then(|s| s.reference.clone()).as_deref(),
    )
    .await;
    Ok(ReportInput {
        experiment: name,
        description: shape.as_ref().and_then(|s| s.description.clone()),
        reference: shape.and_then(|s| s.reference),
        cells,
        swept,
        extras,
    })
}

/// Entry point of `seds-lab report`.
pub fn report(db: &str, args: ReportArgs) -> CmdResult {
    let rt = super::runtime()?;
    rt.block_on(async {
        let store = Store::open(db, OpenMode::ReadOnly).await?;
        let opts = seds_report::ReportOptions {
            resamples: args.resamples,
            ..Default::default()
        };
        if args.compare.len() == 2 {
            let a = build_input(&store, &args.compare[0], &args).await?;
            let b = build_input(&store, &args.compare[1], &args).await?;
            let out = args.out.clone().unwrap_or_else(|| {
                PathBuf::from("reports").join(format!("compare-{}-{}", a.experiment, b.experiment))
            });
            let files = seds_report::write_comparison(&a, &b, &out).map_err(CliError::other)?;
            println!("wrote {}", files.index.display());
            return Ok(Code::Ok);
        }
        let arg = args.experiment.clone().unwrap_or_default();
        let input = build_input(&store, &arg, &args).await?;
        let out = args
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from("reports").join(&input.experiment));
        let files = seds_report::write_report_with(&input, &out, &opts).map_err(CliError::other)?;
        let done: usize = input.cells.iter().map(|c| c.runs.len()).sum();
        println!(
            "wrote {} ({} charts, tables also as {}; {} cells, {} completed runs)",
            files.index.display(),
            files.charts.len(),
            files
                .tables_md
                .as_ref()
                .map_or_else(String::new, |p| p.display().to_string()),
            input.cells.len(),
            done
        );
        Ok(Code::Ok)
    })
}

/// Writes the report of an experiment that `seds-lab run --report` just ran.
pub fn report_after_run(db: &str, experiment: &str) -> CmdResult {
    report(
        db,
        ReportArgs {
            experiment: Some(experiment.to_string()),
            out: None,
            runs: vec![],
            where_expr: None,
            compare: vec![],
            resamples: 1000,
        },
    )
}
