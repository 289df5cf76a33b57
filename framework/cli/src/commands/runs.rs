//! `seds-lab runs list|show|compare|export`: inspect the run database.

use crate::exit::{CliError, CmdResult, Code};
use crate::output::{num, opt_num, Format, Table};
use clap::{Args, Subcommand};
use seds_store::{OpenMode, RunFilter, RunStatus, RunSummary, Store};
use serde_json::Value;

/// `seds-lab runs` subcommands.
#[derive(Subcommand, Debug)]
pub enum RunsCommand {
    /// List runs, optionally filtered.
    List(ListArgs),
    /// Show one run: config, params, final metrics, history, artifacts, git, log path.
    Show(ShowArgs),
    /// Compare runs: only the params that differ, metrics side by side.
    Compare(CompareArgs),
    /// Export every run with its params and final metrics.
    Export(ExportArgs),
}

/// Arguments of `runs list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only runs of this experiment.
    #[arg(long, short = 'e')]
    pub experiment: Option<String>,
    /// Only runs with this status (PLANNED, RUNNING, COMPLETED, FAILED, KILLED, STALE); repeatable.
    #[arg(long, short = 's')]
    pub status: Vec<String>,
    /// Filter over params and final metrics, e.g. `loss.alpha >= 0.4 and test.t2v_r1 > 50`.
    #[arg(long = "where", short = 'w')]
    pub where_expr: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `runs show`.
#[derive(Args, Debug)]
pub struct ShowArgs {
    /// Run id.
    pub id: i64,
    /// Output format (json gives everything, including the full config).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `runs compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Two or more run ids.
    #[arg(required = true, num_args = 2..)]
    pub ids: Vec<i64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Arguments of `runs export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
    /// Only runs of this experiment.
    #[arg(long, short = 'e')]
    pub experiment: Option<String>,
}

/// Dispatches a `runs` subcommand.
pub fn dispatch(db: &str, cmd: RunsCommand) -> CmdResult {
    let rt = super::runtime()?;
    rt.block_on(async {
        let store = Store::open(db, OpenMode::ReadOnly).await?;
        match cmd {
            RunsCommand::List(a) => list(&store, a).await,
            RunsCommand::Show(a) => show(&store, a).await,
            RunsCommand::Compare(a) => compare(&store, a).await,
            RunsCommand::Export(a) => export(&store, a).await,
        }
    })
}

/// Wall time of a finished run, seconds.
pub fn duration(s: &RunSummary) -> Option<f64> {
    match (s.run.started_at, s.run.finished_at) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    }
}

async fn list(store: &Store, a: ListArgs) -> CmdResult {
    let statuses = a
        .status
        .iter()
        .map(|s| RunStatus::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let filter = RunFilter {
        experiment: a.experiment,
        statuses,
        where_expr: a.where_expr,
        run_ids: vec![],
    };
    let runs = store.list_runs(&filter).await?;
    let mut t = Table::new([
        "id",
        "experiment",
        "cell",
        "seed",
        "status",
        "test.t2v_r1",
        "test.v2t_r1",
        "dev.t2v_r1",
        "duration_s",
        "slurm_job",
    ]);
    for s in &runs {
        let m = |k: &str| opt_num(s.finals.get(k).copied());
        t.push(vec![
            Value::from(s.run.id),
            Value::from(s.experiment.clone()),
            Value::from(s.run.cell.clone()),
            Value::from(s.run.seed),
            Value::from(s.run.status.as_str()),
            m("test.t2v_r1"),
            m("test.v2t_r1"),
            m("dev.t2v_r1"),
            opt_num(duration(s).map(|d| d.round())),
            s.run
                .provenance
                .slurm_job
                .clone()
                .map(Value::from)
                .unwrap_or(Value::Null),
        ]);
    }
    print!("{}", t.render(a.format));
    Ok(Code::Ok)
}

async fn show(store: &Store, a: ShowArgs) -> CmdResult {
    let d = store.run_detail(a.id).await?;
    if a.format == Format::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&d).map_err(CliError::other)?
        );
        return Ok(Code::Ok);
    }
    let r = &d.summary.run;
    let p = &r.provenance;
    println!(
        "run {} - experiment {} - cell {} - seed {}",
        r.id, d.summary.experiment, r.cell, r.seed
    );
    println!(
        "status      {}{}",
        r.status,
        r.message
            .as_ref()
            .map(|m| format!(" ({m})"))
            .unwrap_or_default()
    );
    println!("config hash {}", r.config_hash);
    println!("attempts    {}", r.attempt);
    if let Some(dur) = duration(&d.summary) {
        println!("duration    {:.1} s", dur);
    }
    println!(
        "git         {}{}",
        p.git_commit.clone().unwrap_or_else(|| "-".into()),
        if p.git_dirty == Some(true) {
            " (dirty: diff recorded)"
        } else {
            ""
        }
    );
    println!(
        "version     {}",
        p.version.clone().unwrap_or_else(|| "-".into())
    );
    println!(
        "host        {} / {} / {} cores / {} / gpu {}",
        p.host.clone().unwrap_or_default(),
        p.cpu_model.clone().unwrap_or_default(),
        p.cores.unwrap_or(0),
        p.memory_bytes
            .map(|b| format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64))
            .unwrap_or_default(),
        p.gpu.clone().unwrap_or_else(|| "none".into())
    );
    if let Some(j) = &p.slurm_job {
        println!("slurm job   {j}");
    }
    println!(
        "run dir     {}",
        r.run_dir.clone().unwrap_or_else(|| "-".into())
    );
    println!(
        "log         {}",
        d.log_path.clone().unwrap_or_else(|| "-".into())
    );
    println!("\nparams:");
    let mut t = Table::new(["key", "value"]);
    for (k, v) in &d.summary.params {
        t.push(vec![Value::from(k.clone()), Value::from(v.to_text())]);
    }
    print!("{}", t.render(Format::Table));
    println!("\nmetric history (per split and name):");
    let mut t = Table::new([
        "split",
        "name",
        "count",
        "first_step",
        "last_step",
        "min",
        "max",
        "last",
    ]);
    for h in &d.history {
        t.push(vec![
            Value::from(h.split.clone()),
            Value::from(h.name.clone()),
            Value::from(h.count),
            Value::from(h.first_step),
            Value::from(h.last_step),
            num(h.min),
            num(h.max),
            num(h.last),
        ]);
    }
    print!("{}", t.render(Format::Table));
    println!("\nartifacts:");
    let mut t = Table::new(["kind", "path", "bytes", "sha256"]);
    for art in &d.artifacts {
        t.push(vec![
            Value::from(art.kind.clone()),
            Value::from(art.path.clone()),
            Value::from(art.bytes),
            Value::from(art.sha256.chars().take(12).collect::<String>()),
        ]);
    }
    print!("{}", t.render(Format::Table));
    Ok(Code::Ok)
}

async fn compare(store: &Store, a: CompareArgs) -> CmdResult {
    let c = store.compare_runs(&a.ids).await?;
    let mut cols = vec!["key".to_string()];
    cols.extend(c.runs.iter().map(|r| format!("run {}", r.run.id)));
    let mut t = Table::new(cols);
    t.push(
        std::iter::once(Value::from("cell"))
            .chain(c.runs.iter().map(|r| Value::from(r.run.cell.clone())))
            .collect(),
    );
    for (k, vals) in &c.differing_params {
        t.push(
            std::iter::once(Value::from(k.clone()))
                .chain(vals.iter().map(|v| {
                    v.as_ref()
                        .map(|v| Value::from(v.to_text()))
                        .unwrap_or(Value::Null)
                }))
                .collect(),
        );
    }
    for (k, vals) in &c.metrics {
        t.push(
            std::iter::once(Value::from(k.clone()))
                .chain(vals.iter().map(|v| opt_num(*v)))
                .collect(),
        );
    }
    if a.format == Format::Table {
        println!(
            "{} params identical across these runs (hidden); differing params, then final metrics:",
            c.common_params.len()
        );
    }
    print!("{}", t.render(a.format));
    Ok(Code::Ok)
}

async fn export(store: &Store, a: ExportArgs) -> CmdResult {
    let filter = RunFilter {
        experiment: a.experiment,
        ..Default::default()
    };
    let runs = store.list_runs(&filter).await?;
    let mut param_keys: Vec<String> = runs.iter().flat_map(|r| r.params.keys().cloned()).collect();
    param_keys.sort();
    param_keys.dedup();
    let mut metric_keys: Vec<String> = runs.iter().flat_map(|r| r.finals.keys().cloned()).collect();
    metric_keys.sort();
    metric_keys.dedup();
    let mut cols: Vec<String> = [
        "id",
        "experiment",
        "cell",
        "seed",
        "status",
        "config_hash",
        "git_commit",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    cols.extend(param_keys.iter().cloned());
    cols.extend(metric_keys.iter().cloned());
    let mut t = Table::new(cols);
    for s in &runs {
        let mut row = vec![
            Value::from(s.run.id),
            Value::from(s.experiment.clone()),
            Value::from(s.run.cell.clone()),
            Value::from(s.run.seed),
            Value::from(s.run.status.as_str()),
            Value::from(s.run.config_hash.clone()),
            s.run
                .provenance
                .git_commit
                .clone()
                .map(Value::from)
                .unwrap_or(Value::Null),
        ];
        for k in &param_keys {
            row.push(
                s.params
                    .get(k)
                    .map(|v| serde_json::to_value(v).unwrap_or(Value::Null))
                    .unwrap_or(Value::Null),
            );
        }
        for k in &metric_keys {
            row.push(opt_num(s.finals.get(k).copied()));
        }
        t.push(row);
    }
    print!("{}", t.render(a.format));
    Ok(Code::Ok)
}
