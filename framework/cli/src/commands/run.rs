//! `seds-lab run` and `seds-lab plan`: expand an experiment, record its cells, run what is
//! not completed in worker processes, and print a summary.

use crate::exit::{CliError, CmdResult, Code};
use crate::output::{num, Format, Table};
use clap::Args;
use seds_config::{load_experiment, Experiment};
use seds_exec::{
    plan_cells, Action, CellState, Event, LocalOptions, PlanItem, WorkItem, WorkerExit,
};
use seds_store::{OpenMode, RunFilter, RunRow, Store};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;
use tokio::sync::{mpsc, watch};

/// Arguments of `seds-lab run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Experiment file (TOML).
    pub file: PathBuf,
    /// Workers in parallel (default: the file's [executor] jobs, else 1).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// Override a setting, typed like the file: `--set loss.alpha=0.4` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Re-run cells that already completed.
    #[arg(long)]
    pub force: bool,
    /// Stop starting new cells after the first failure.
    #[arg(long)]
    pub fail_fast: bool,
    /// Train every cell that has not completed in this experiment, even when another
    /// experiment already completed the identical configuration (same config hash). By
    /// default such a cell takes that run's results (metrics, run directory, provenance)
    /// instead of training again.
    #[arg(long)]
    pub no_reuse: bool,
    /// Directory for run directories (runs/<run-id>/).
    #[arg(long, default_value = "runs")]
    pub runs_dir: PathBuf,
    /// Format of the final summary table.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the experiment's report (reports/<name>/) when the runs are done.
    #[arg(long)]
    pub report: bool,
    /// Slurm executor flags.
    #[command(flatten)]
    pub slurm: super::slurm::SlurmArgs,
}

/// Arguments of `seds-lab plan`.
#[derive(Args, Debug)]
pub struct PlanArgs {
    /// Experiment file (TOML).
    pub file: PathBuf,
    /// Override a setting, typed like the file (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Statuses of an experiment's runs by config hash (empty when the database or experiment is new).
async fn known_runs(
    db: &str,
    exp: &Experiment,
    create: bool,
) -> Result<(Option<Store>, BTreeMap<String, RunRow>), CliError> {
    let store = if create {
        Store::open(db, OpenMode::Coordinator).await?
    } else {
        match Store::open(db, OpenMode::ReadOnly).await {
            Ok(s) => s,
            Err(seds_store::StoreError::Missing { .. }) => return Ok((None, BTreeMap::new())),
            Err(e) => return Err(e.into()),
        }
    };
    let mut map = BTreeMap::new();
    if let Some(e) = store.experiment_by_name(&exp.name).await? {
        for r in store.runs_of_experiment(e.id).await? {
            map.insert(r.config_hash.clone(), r);
        }
    }
    Ok((Some(store), map))
}

fn plan_items(exp: &Experiment, known: &BTreeMap<String, RunRow>, force: bool) -> Vec<PlanItem> {
    let hashes: Vec<String> = exp.cells.iter().map(|c| c.hash.clone()).collect();
    let states = known
        .iter()
        .map(|(h, r)| (h.clone(), super::cell_state(r.status)))
        .collect();
    plan_cells(&hashes, &states, force)
}

/// `seds-lab plan FILE`: prints the expanded cells with their database status.
pub fn plan(db: &str, args: PlanArgs) -> CmdResult {
    let exp = load_experiment(&args.file, &args.sets)?;
    let rt = super::runtime()?;
    let (store, known) = rt.block_on(known_runs(db, &exp, false))?;
    let items = plan_items(&exp, &known, false);
    let reusable = match &store {
        Some(store) => rt.block_on(reusable_runs(store, &exp, &items))?,
        None => BTreeMap::new(),
    };
    let diff = seds_config::differing_keys(&exp.cells);
    let mut cols = vec![
        "cell".to_string(),
        "seed".into(),
        "hash".into(),
        "status".into(),
        "run_id".into(),
        "reuses".into(),
    ];
    cols.extend(diff.iter().cloned());
    let mut table = Table::new(cols);
    for (cell, item) in exp.cells.iter().zip(&items) {
        let flat = seds_config::flatten(&cell.config);
        let mut row = vec![
            Value::from(cell.name.clone()),
            Value::from(cell.seed),
            Value::from(if args.format == Format::Table {
                cell.hash[..12].to_string()
            } else {
                cell.hash.clone()
            }),
            Value::from(item.state.as_str()),
            known
                .get(&cell.hash)
                .map(|r| Value::from(r.id))
                .unwrap_or(Value::Null),
            reusable
                .get(&item.index)
                .map(|id| Value::from(*id))
                .unwrap_or(Value::Null),
        ];
        for k in &diff {
            row.push(
                flat.iter()
                    .find(|(kk, _)| kk == k)
                    .map(|(_, v)| Value::from(v.to_string()))
                    .unwrap_or(Value::Null),
            );
        }
        table.push(row);
    }
    if args.format == Format::Table {
        let (run, skip, busy) = seds_exec::action_counts(&items);
        println!(
            "experiment {} ({}): {} cells x {} seeds = {} runs; {run} to run ({} reusing a completed run of another experiment), {skip} completed, {busy} running elsewhere",
            exp.name,
            args.file.display(),
            exp.cell_names().len(),
            exp.seeds().len(),
            exp.cells.len(),
            reusable.len()
        );
    }
    print!("{}", table.render(args.format));
    Ok(Code::Ok)
}

/// Whether a planned cell may take another experiment's completed run instead of training:
/// it is about to run and has never started (the store re-checks this when copying).
fn may_reuse(item: &PlanItem) -> bool {
    item.action == Action::Run && matches!(item.state, CellState::New | CellState::Planned)
}

/// For `plan`: the cells that `run` would fill from another experiment's completed run
/// (cell index -> that run's id).
async fn reusable_runs(
    store: &Store,
    exp: &Experiment,
    items: &[PlanItem],
) -> Result<BTreeMap<usize, i64>, CliError> {
    let exp_id = store
        .experiment_by_name(&exp.name)
        .await?
        .map_or(-1, |e| e.id);
    let mut out = BTreeMap::new();
    for item in items.iter().filter(|i| may_reuse(i)) {
        if let Some(source) = store.completed_run_elsewhere(&item.hash, exp_id).await? {
            out.insert(item.index, source.id);
        }
    }
    Ok(out)
}

/// Cells about to run for the first time ([`may_reuse`]) whose configuration (config hash)
/// already completed in another experiment take that run's results instead of training again:
/// identical configurations give identical runs (training is deterministic given the seed and
/// thread count). Marks them skipped in `items` and returns how many were reused.
async fn reuse_identical_runs(
    store: &Store,
    exp: &Experiment,
    exp_id: i64,
    rows: &[RunRow],
    items: &mut [PlanItem],
) -> Result<usize, CliError> {
    let mut experiment_names: Option<BTreeMap<i64, String>> = None;
    let mut reused = 0;
    for item in items.iter_mut().filter(|i| may_reuse(i)) {
        let row = &rows[item.index];
        let Some(source) = store
            .completed_run_elsewhere(&row.config_hash, exp_id)
            .await?
        else {
            continue;
        };
        if !store.reuse_completed_run(row.id, source.id).await? {
            continue;
        }
        if experiment_names.is_none() {
            let all = store.list_experiments().await?;
            experiment_names = Some(all.into_iter().map(|e| (e.id, e.name)).collect());
        }
        let source_experiment = experiment_names
            .as_ref()
            .and_then(|m| m.get(&source.experiment_id).cloned())
            .unwrap_or_default();
        let cell = &exp.cells[item.index];
        println!(
            "reused run {} ({} seed={}): identical configuration completed as run {} of experiment {}",
            row.id, cell.name, cell.seed, source.id, source_experiment
        );
        item.action = Action::Skip;
        item.state = CellState::Completed;
        reused += 1;
    }
    Ok(reused)
}

/// `seds-lab run FILE`: records the plan, runs unfinished cells, prints a summary.
pub fn run(db: &str, args: RunArgs) -> CmdResult {
    let exp = load_experiment(&args.file, &args.sets)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(CliError::other)?;
    let code = rt.block_on(run_async(db, &exp, &args))?;
    drop(rt);
    if args.report && code != Code::Interrupted {
        super::report::report_after_run(db, &args.file.display().to_string())?;
    }
    Ok(code)
}

async fn run_async(db: &str, exp: &Experiment, args: &RunArgs) -> CmdResult {
    let (store, _) = known_runs(db, exp, true).await?;
    let store = store.expect("coordinator open always yields a store");
    let use_slurm = super::slurm::wants_slurm(exp, &args.slurm);
    if use_slurm {
        super::slurm::check_store(&store, &args.slurm)?;
    }
    let exp_id = store
        .upsert_experiment(&exp.name, &exp.file.display().to_string(), &exp.source_text)
        .await?;
    // Record every cell (PLANNED) so the database shows the whole grid, then plan.
    let mut rows = Vec::with_capacity(exp.cells.len());
    for cell in &exp.cells {
        let config_json = serde_json::to_string(&cell.config).map_err(CliError::other)?;
        let params: Vec<(String, seds_store::ParamValue)> = seds_config::flatten(&cell.config)
            .iter()
            .map(|(k, v)| (k.clone(), super::store_param(v)))
            .collect();
        rows.push(
            store
                .ensure_run(
                    exp_id,
                    &cell.name,
                    &cell.hash,
                    &config_json,
                    cell.seed as i64,
                    &params,
                )
                .await?,
        );
    }
    let known: BTreeMap<String, RunRow> = rows
        .iter()
        .map(|r| (r.config_hash.clone(), r.clone()))
        .collect();
    let mut items = plan_items(exp, &known, args.force);
    let reused = if args.force || args.no_reuse {
        0
    } else {
        reuse_identical_runs(&store, exp, exp_id, &rows, &mut items).await?
    };
    let (to_run, skipped, busy) = seds_exec::action_counts(&items);
    println!(
        "experiment {}: {} runs ({} to run, {} already completed, of which {} reused now, {} running elsewhere); database {}",
        exp.name,
        exp.cells.len(),
        to_run,
        skipped,
        reused,
        busy,
        store.path().display()
    );
    let work: Vec<WorkItem> = items
        .iter()
        .filter(|i| i.action == Action::Run)
        .map(|i| {
            let row = &rows[i.index];
            let cell = &exp.cells[i.index];
            WorkItem {
                run_id: row.id,
                label: format!("{} seed={}", cell.name, cell.seed),
                run_dir: args.runs_dir.join(row.id.to_string()),
            }
        })
        .collect();
    if use_slurm {
        if work.is_empty() {
            store.close().await;
            return Ok(Code::Ok);
        }
        let sub =
            super::slurm::submit_slurm(&store, db, exp, &work, &args.slurm, args.force).await?;
        if !args.slurm.wait {
            store.close().await;
            return Ok(Code::Ok);
        }
        let done =
            super::slurm::wait_slurm(&store, &sub, std::time::Duration::from_secs(2)).await?;
        store.close().await;
        return Ok(if done == sub.run_ids.len() {
            Code::Ok
        } else {
            Code::CellsFailed
        });
    }
    let program = std::env::current_exe().map_err(CliError::other)?;
    let mut worker_args = vec!["--db".to_string(), db.to_string(), "worker".to_string()];
    if args.force {
        worker_args.push("--force".into());
    }
    let jobs = args.jobs.unwrap_or(exp.executor.jobs).max(1);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let opts = LocalOptions {
        program,
        args: worker_args,
        jobs,
        fail_fast: args.fail_fast || exp.executor.fail_fast,
        threads_per_worker: seds_exec::threads_per_worker(cores, jobs),
    };
    let (cancel_tx, cancel_rx) = watch::channel(false);
    let interrupted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let interrupted = interrupted.clone();
        tokio::spawn(async move {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(_) => return,
                };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = term.recv() => {},
            }
            eprintln!("interrupted: asking workers to checkpoint and stop...");
            interrupted.store(true, std::sync::atomic::Ordering::SeqCst);
            let _ = cancel_tx.send(true);
        });
    }
    let (ev_tx, ev_rx) = mpsc::unbounded_channel();
    let display = tokio::spawn(display_events(ev_rx, work.len()));
    let run_ids: Vec<i64> = work.iter().map(|w| w.run_id).collect();
    let results = seds_exec::run_local(work, opts, ev_tx, cancel_rx).await;
    let _ = display.await;
    // A worker that died without recording its end (SIGKILL, OOM) leaves its run RUNNING:
    // record what happened so the database stays truthful; re-running resumes it.
    for (item, exit) in &results {
        let recorded_by_worker = matches!(
            exit,
            WorkerExit::NotStarted
                | WorkerExit::Code(seds_exec::local::WORKER_EXIT_COMPLETED)
                | WorkerExit::Code(seds_exec::local::WORKER_EXIT_FAILED)
                | WorkerExit::Code(seds_exec::local::WORKER_EXIT_KILLED)
                | WorkerExit::Code(seds_exec::local::WORKER_EXIT_SKIPPED)
        );
        if !recorded_by_worker {
            store.mark_killed(&[item.run_id], &exit.describe()).await?;
        }
    }
    let was_interrupted = interrupted.load(std::sync::atomic::Ordering::SeqCst);
    if was_interrupted {
        store
            .mark_killed(&run_ids, "interrupted (coordinator received a signal)")
            .await?;
    }
    // Summary over the whole experiment, not just this invocation.
    let filter = RunFilter {
        experiment: Some(exp.name.clone()),
        ..Default::default()
    };
    let summaries = store.list_runs(&filter).await?;
    let mut table = Table::new([
        "run_id",
        "cell",
        "seed",
        "status",
        "test.t2v_r1",
        "test.v2t_r1",
        "message",
    ]);
    let mut all_completed = true;
    for cell in &exp.cells {
        let Some(s) = summaries.iter().find(|s| s.run.config_hash == cell.hash) else {
            continue;
        };
        all_completed &= s.run.status == seds_store::RunStatus::Completed;
        let metric = |k: &str| s.finals.get(k).copied().map(num).unwrap_or(Value::Null);
        table.push(vec![
            Value::from(s.run.id),
            Value::from(cell.name.clone()),
            Value::from(cell.seed),
            Value::from(s.run.status.as_str()),
            metric("test.t2v_r1"),
            metric("test.v2t_r1"),
            s.run
                .message
                .clone()
                .map(Value::from)
                .unwrap_or(Value::Null),
        ]);
    }
    print!("{}", table.render(args.format));
    store.close().await;
    Ok(if was_interrupted {
        Code::Interrupted
    } else if all_completed {
        Code::Ok
    } else {
        Code::CellsFailed
    })
}

/// Shows progress: a live bar on a terminal, plain lines otherwise.
async fn display_events(mut rx: mpsc::UnboundedReceiver<Event>, total: usize) {
    let tty = std::io::stdout().is_terminal();
    let started = Instant::now();
    let bar = if tty {
        let b = indicatif::ProgressBar::new(total as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:30} {pos}/{len} cells  {elapsed_precise} (eta {eta})  {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let mut labels: BTreeMap<i64, String> = BTreeMap::new();
    let mut last_epoch: BTreeMap<i64, usize> = BTreeMap::new();
    let mut done = 0usize;
    while let Some(ev) = rx.recv().await {
        match ev {
            Event::Started { run_id, label, .. } => {
                let line = format!("[{done}/{total}] start run {run_id}: {label}");
                labels.insert(run_id, label);
                match &bar {
                    Some(b) => b.println(line),
                    None => println!("{line}"),
                }
            }
            Event::Progress {
                run_id,
                progress: p,
            } => {
                let label = labels.get(&run_id).cloned().unwrap_or_default();
                if let Some(b) = &bar {
                    b.set_message(format!(
                        "run {run_id} {label}: epoch {}/{} step {}/{} loss {:.4}",
                        p.epoch + 1,
                        p.epochs,
                        p.step,
                        p.steps,
                        p.loss
                    ));
                } else if last_epoch.get(&run_id) != Some(&p.epoch) && p.step >= p.steps {
                    // `step` counts the steps done in the epoch (1-based): the epoch's last
                    // step reports step == steps.
                    last_epoch.insert(run_id, p.epoch);
                    println!(
                        "  run {run_id}: epoch {}/{} done, loss {:.4}",
                        p.epoch + 1,
                        p.epochs,
                        p.loss
                    );
                }
            }
            Event::Finished {
                run_id,
                label,
                exit,
            } => {
                done += 1;
                let eta = if done > 0 && done < total {
                    let per = started.elapsed().as_secs_f64() / done as f64;
                    format!(", eta {:.0}s", per * (total - done) as f64)
                } else {
                    String::new()
                };
                let line = format!(
                    "[{done}/{total}] run {run_id} {label}: {}{eta}",
                    exit.describe()
                );
                match &bar {
                    Some(b) => {
                        b.inc(1);
                        b.println(line);
                    }
                    None => println!("{line}"),
                }
            }
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
}
