//! `seds-lab run --executor slurm`: the glue between the run command, the run database and
//! seds-exec's Slurm logic. `run.rs` records every cell as PLANNED and plans as usual, then
//! calls [`submit_slurm`] with the work items instead of `run_local`, and [`wait_slurm`] when
//! `--wait` is given. `worker.rs` calls [`worker_target`] to turn `--array-map MAP` plus
//! `SLURM_ARRAY_TASK_ID` into the run id and directory it trains, and links the task's log.
//!
//! Files per submission, under `<slurm-dir>/<experiment>/` (absolute paths, so tasks on any
//! node that shares the file system find them): `job-<unix time>/array-map.tsv`,
//! `job-<unix time>/job.sbatch`, and `logs/<job>_<task>.out` (written by Slurm).

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use seds_config::{ExecutorKind, Experiment};
use seds_exec::slurm::{self, ArrayMap, QueueSummary, ScriptSpec};
use seds_exec::WorkItem;
use seds_store::{Dialect, RunStatus, Store};

use crate::exit::{CliError, Code};

/// Slurm flags of `seds-lab run` (flattened into `RunArgs`); each overrides the file's
/// `[executor]` setting of the same name.
#[derive(Args, Debug, Clone, Default)]
pub struct SlurmArgs {
    /// Executor: `local` (worker processes here) or `slurm` (one sbatch array job).
    #[arg(long, value_parser = ["local", "slurm"])]
    pub executor: Option<String>,
    /// Slurm partition (`sbatch --partition`).
    #[arg(long)]
    pub partition: Option<String>,
    /// GPUs per array task (`sbatch --gpus-per-task`).
    #[arg(long)]
    pub gpus_per_task: Option<u32>,
    /// CPUs per array task (`sbatch --cpus-per-task`).
    #[arg(long)]
    pub cpus_per_task: Option<u32>,
    /// Time limit per task (`sbatch --time`, e.g. 02:00:00); the worker checkpoints before it.
    #[arg(long)]
    pub time: Option<String>,
    /// At most this many array tasks at once (`--array=0-N%K`).
    #[arg(long)]
    pub array_parallelism: Option<usize>,
    /// Extra sbatch argument, verbatim (repeatable), e.g. `--sbatch-arg=--account=proj`.
    #[arg(long = "sbatch-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub sbatch_args: Vec<String>,
    /// Wait for the job, showing progress from the database (default: return after submitting).
    #[arg(long)]
    pub wait: bool,
    /// Confirm that every task runs on this host, which makes a SQLite database acceptable.
    #[arg(long)]
    pub slurm_same_host: bool,
    /// Where array maps, sbatch scripts and task logs go.
    #[arg(long, default_value = "runs/slurm")]
    pub slurm_dir: PathBuf,
}

/// What [`submit_slurm`] did.
#[derive(Clone, Debug)]
#[allow(dead_code)] // script/map_file/log_dir are for callers that report them
pub struct Submission {
    /// The Slurm array job id.
    pub job_id: String,
    /// Run ids by task index.
    pub run_ids: Vec<i64>,
    /// The sbatch script.
    pub script: PathBuf,
    /// The array map.
    pub map_file: PathBuf,
    /// Directory of the task logs.
    pub log_dir: PathBuf,
}

/// True when the Slurm executor is selected (flag, else the file's `[executor] kind`).
pub fn wants_slurm(exp: &Experiment, args: &SlurmArgs) -> bool {
    match args.executor.as_deref() {
        Some(k) => k == "slurm",
        None => exp.executor.kind == ExecutorKind::Slurm,
    }
}

fn absolute(p: &Path) -> Result<PathBuf, CliError> {
    if p.is_absolute() {
        return Ok(p.to_path_buf());
    }
    Ok(std::env::current_dir().map_err(CliError::other)?.join(p))
}

fn io_err(path: &Path, e: std::io::Error) -> CliError {
    CliError::other(format!("{}: {e}", path.display()))
}

/// The script settings: command-line flags over the file's `[executor]` section.
pub fn script_spec(
    exp: &Experiment,
    args: &SlurmArgs,
    tasks: usize,
    paths: (&Path, &Path, &Path, &Path),
    force: bool,
) -> Result<ScriptSpec, CliError> {
    let (program, map_file, log_dir, workdir) = paths;
    let e = &exp.executor;
    let time = args.time.clone().or_else(|| e.time.clone());
    let limit = match &time {
        Some(t) => slurm::parse_time_limit(t)
            .map_err(|err| CliError::new(Code::InvalidConfig, err.to_string()))?,
        None => None,
    };
    let mut extra_args = e.extra_args.clone();
    extra_args.extend(args.sbatch_args.iter().cloned());
    Ok(ScriptSpec {
        job_name: format!("seds-{}", exp.name),
        tasks,
        array_parallelism: args.array_parallelism.or(e.array_parallelism),
        partition: args.partition.clone().or_else(|| e.partition.clone()),
        gpus_per_task: args.gpus_per_task.or(e.gpus_per_task),
        cpus_per_task: args.cpus_per_task,
        time,
        signal_lead_s: slurm::signal_lead(limit),
        log_dir: log_dir.to_path_buf(),
        workdir: workdir.to_path_buf(),
        program: program.to_path_buf(),
        map_file: map_file.to_path_buf(),
        force,
        extra_args,
    })
}

/// Refuses the Slurm executor on a SQLite database unless `--slurm-same-host` was given.
/// Call it before recording anything.
pub fn check_store(store: &Store, args: &SlurmArgs) -> Result<(), CliError> {
    slurm::check_database(
        store.dialect() == Dialect::Sqlite,
        args.slurm_same_host,
        &store.path().display().to_string(),
    )
    .map_err(|e| CliError::new(Code::Database, e.to_string()))
}

/// Submits the work items as one Slurm array job: checks the database kind, writes the array
/// map and the sbatch script, runs `sbatch` (exporting `SEDS_LAB_DB=db_url` to the tasks, so
/// the URL and its password never land in a file), and links each run to its task's log.
pub async fn submit_slurm(
    store: &Store,
    db_url: &str,
    exp: &Experiment,
    work: &[WorkItem],
    args: &SlurmArgs,
    force: bool,
) -> Result<Submission, CliError> {
    check_store(store, args)?;
    if work.is_empty() {
        return Err(CliError::other(slurm::SlurmError::Empty));
    }
    let base = absolute(&args.slurm_dir)?.join(&exp.name);
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let job_dir = base.join(format!("job-{stamp}"));
    let log_dir = base.join("logs");
    for d in [&job_dir, &log_dir] {
        std::fs::create_dir_all(d).map_err(|e| io_err(d, e))?;
    }
    // Run directories must be absolute too: tasks start in the submit directory, but on
    // another node a relative path would be resolved against whatever is shared there.
    let work_abs: Vec<WorkItem> = work
        .iter()
        .map(|w| {
            Ok(WorkItem {
                run_dir: absolute(&w.run_dir)?,
                ..w.clone()
            })
        })
        .collect::<Result<_, CliError>>()?;
    let map = ArrayMap::from_items(&work_abs, &log_dir);
    let map_file = job_dir.join("array-map.tsv");
    std::fs::write(&map_file, map.to_text()).map_err(|e| io_err(&map_file, e))?;
    let program = std::env::current_exe().map_err(CliError::other)?;
    let workdir = std::env::current_dir().map_err(CliError::other)?;
    let spec = script_spec(
        exp,
        args,
        work.len(),
        (&program, &map_file, &log_dir, &workdir),
        force,
    )?;
    let script = job_dir.join("job.sbatch");
    let text = slurm::render_script(&spec).map_err(CliError::other)?;
    std::fs::write(&script, text).map_err(|e| io_err(&script, e))?;
    let env = vec![(seds_store::DB_ENV.to_string(), db_url.to_string())];
    let submitted = slurm::submit(&script, &env, None).map_err(CliError::other)?;
    for (i, w) in work_abs.iter().enumerate() {
        let log = slurm::task_log_path(&log_dir, &submitted.job_id, i);
        store
            .link_log(w.run_id, "slurm_log", &log.display().to_string())
            .await?;
    }
    println!(
        "submitted Slurm job {} ({} tasks, array {}); script {}; task logs {}/{}_<task>.out",
        submitted.job_id,
        work.len(),
        map.array_spec(spec.array_parallelism),
        script.display(),
        log_dir.display(),
        submitted.job_id
    );
    Ok(Submission {
        job_id: submitted.job_id,
        run_ids: work.iter().map(|w| w.run_id).collect(),
        script,
        map_file,
        log_dir,
    })
}

/// Polls Slurm and the database every `poll` until the job has left the queue, printing a
/// progress line whenever the counts change. Runs of this job that are still RUNNING at the
/// end (a task killed hard, e.g. after Slurm's KillWait) are recorded KILLED so a re-run
/// resumes them. Returns the number of this submission's runs that completed.
pub async fn wait_slurm(
    store: &Store,
    sub: &Submission,
    poll: Duration,
) -> Result<usize, CliError> {
    let mut last = String::new();
    loop {
        // `squeue` answers in milliseconds: calling it inline is fine for a polling loop.
        let q = slurm::queue(&sub.job_id).map_err(CliError::other)?;
        let summary = QueueSummary::of(&q);
        let mut counts = std::collections::BTreeMap::<&'static str, usize>::new();
        for id in &sub.run_ids {
            let status = store.run(*id).await?.status;
            *counts.entry(status.as_str()).or_default() += 1;
        }
        let db: Vec<String> = counts
            .iter()
            .map(|(k, v)| format!("{} {}", v, k.to_lowercase()))
            .collect();
        let line = format!(
            "job {}: slurm {} pending, {} running; runs: {}",
            sub.job_id,
            summary.pending,
            summary.running + summary.other,
            db.join(", ")
        );
        if line != last {
            println!("{line}");
            last = line;
        }
        if summary.is_done() {
            break;
        }
        tokio::time::sleep(poll).await;
    }
    let prefix = format!("{}_", sub.job_id);
    let mut completed = 0;
    let mut orphaned = Vec::new();
    for id in &sub.run_ids {
        let r = store.run(*id).await?;
        let ours = r
            .provenance
            .slurm_job
            .as_deref()
            .is_some_and(|j| j.starts_with(&prefix));
        match r.stored_status {
            RunStatus::Completed => completed += 1,
            RunStatus::Running if ours => orphaned.push(*id),
            _ => {}
        }
    }
    if !orphaned.is_empty() {
        store
            .mark_killed(
                &orphaned,
                "the Slurm task ended without recording its end (see its log); re-run to resume",
            )
            .await?;
    }
    Ok(completed)
}

/// The run a worker trains.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerTarget {
    /// Run id.
    pub run_id: i64,
    /// Run directory.
    pub run_dir: PathBuf,
    /// The Slurm task log to link to the run (array tasks only).
    pub slurm_log: Option<PathBuf>,
}

/// Resolves the worker's run: `--run-id/--run-dir` directly, or `--array-map MAP` with the
/// task index from `SLURM_ARRAY_TASK_ID` (and the task's log from `SLURM_ARRAY_JOB_ID`).
pub fn worker_target(
    run_id: Option<i64>,
    run_dir: Option<&Path>,
    array_map: Option<&Path>,
) -> Result<WorkerTarget, CliError> {
    let task = std::env::var(slurm::TASK_ENV).ok();
    let job = std::env::var(slurm::ARRAY_JOB_ENV).ok();
    worker_target_from(run_id, run_dir, array_map, task.as_deref(), job.as_deref())
}

/// Pure core of [`worker_target`] with the Slurm variables passed in.
pub fn worker_target_from(
    run_id: Option<i64>,
    run_dir: Option<&Path>,
    array_map: Option<&Path>,
    task_env: Option<&str>,
    array_job_env: Option<&str>,
) -> Result<WorkerTarget, CliError> {
    match (array_map, run_id, run_dir) {
        (Some(map_path), None, None) => {
            let map = ArrayMap::read(map_path).map_err(CliError::other)?;
            let e = map.entry_for_task(task_env).map_err(CliError::other)?;
            let slurm_log = array_job_env.map(|j| slurm::task_log_path(&map.log_dir, j, e.index));
            Ok(WorkerTarget { run_id: e.run_id, run_dir: e.run_dir.clone(), slurm_log })
        }
        (None, Some(id), Some(dir)) => Ok(WorkerTarget { run_id: id, run_dir: dir.to_path_buf(), slurm_log: None }),
        _ => Err(CliError::new(
            Code::Other,
            "worker: give either --run-id and --run-dir, or --array-map (inside a Slurm array task)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_target_from_a_map_or_flags() {
        let dir = tempfile::tempdir().unwrap();
        let items = vec![
            WorkItem {
                run_id: 4,
                label: "a".into(),
                run_dir: "/r/4".into(),
            },
            WorkItem {
                run_id: 9,
                label: "b".into(),
                run_dir: "/r/9".into(),
            },
        ];
        let map = dir.path().join("m.tsv");
        std::fs::write(
            &map,
            ArrayMap::from_items(&items, Path::new("/logs")).to_text(),
        )
        .unwrap();
        let t = worker_target_from(None, None, Some(&map), Some("1"), Some("77")).unwrap();
        assert_eq!(
            t,
            WorkerTarget {
                run_id: 9,
                run_dir: "/r/9".into(),
                slurm_log: Some("/logs/77_1.out".into())
            }
        );
        let e = worker_target_from(None, None, Some(&map), None, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("SLURM_ARRAY_TASK_ID is not set"), "{e}");
        let t = worker_target_from(Some(3), Some(Path::new("runs/3")), None, None, None).unwrap();
        assert_eq!(t.run_id, 3);
        assert!(worker_target_from(Some(3), None, Some(&map), Some("0"), None).is_err());
        assert!(worker_target_from(None, None, None, None, None).is_err());
    }
}
