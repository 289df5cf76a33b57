//! `seds-lab worker`: trains one recorded run. Started by the executors, one process per run.
//!
//! It claims the run atomically (so two workers never train the same cell), records
//! provenance, loads the data, trains with metrics going to the run database, and records
//! the outcome. SIGTERM/SIGINT make the trainer checkpoint and the run end KILLED; a later
//! `seds-lab run` resumes it from the checkpoint.

use clap::Args;
use seds_core::{ArtifactRecord, MetricRecord, MetricSink};
use seds_exec::local::{
    Progress, PROGRESS_PREFIX, WORKER_EXIT_COMPLETED, WORKER_EXIT_FAILED, WORKER_EXIT_KILLED,
    WORKER_EXIT_SKIPPED,
};
use seds_store::{OpenMode, RunStatus, SinkOptions, Store, StoreSink};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// Arguments of `seds-lab worker`.
#[derive(Args, Debug)]
pub struct WorkerArgs {
    /// The run to train.
    #[arg(long)]
    pub run_id: Option<i64>,
    /// The run's directory (logs, checkpoints, exports).
    #[arg(long)]
    pub run_dir: Option<PathBuf>,
    /// Slurm array map: the run comes from SLURM_ARRAY_TASK_ID.
    #[arg(long, conflicts_with_all = ["run_id", "run_dir"])]
    pub array_map: Option<PathBuf>,
    /// Train even if the run already completed.
    #[arg(long)]
    pub force: bool,
}

/// Set by SIGTERM/SIGINT; the trainer checks it between steps.
static CANCEL: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_sig: libc::c_int) {
    CANCEL.store(true, Ordering::SeqCst);
}

fn install_signal_handlers() {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
    }
}

/// Forwards metrics to the database and prints progress lines for the coordinator.
struct WorkerSink {
    inner: StoreSink,
}

impl MetricSink for WorkerSink {
    fn log_metrics(&self, records: &[MetricRecord]) -> Result<(), String> {
        self.inner.log_metrics(records)
    }
    fn log_artifact(&self, artifact: &ArtifactRecord) -> Result<(), String> {
        self.inner.log_artifact(artifact)
    }
    fn progress(&self, epoch: usize, epochs: usize, step: usize, steps: usize, loss: f64) {
        let p = Progress {
            epoch,
            epochs,
            step,
            steps,
            loss,
        };
        if let Ok(json) = serde_json::to_string(&p) {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{PROGRESS_PREFIX}{json}");
            let _ = out.flush();
        }
        self.inner.progress(epoch, epochs, step, steps, loss);
    }
}

fn exit(code: i32) -> ExitCode {
    ExitCode::from(code as u8)
}

/// Entry point of `seds-lab worker`; returns the worker exit codes of seds-exec.
pub fn worker(db: &str, cli_args: WorkerArgs) -> ExitCode {
    install_signal_handlers();
    let target = match super::slurm::worker_target(
        cli_args.run_id,
        cli_args.run_dir.as_deref(),
        cli_args.array_map.as_deref(),
    ) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("worker: {e}");
            return exit(WORKER_EXIT_FAILED);
        }
    };
    let args = Resolved {
        run_id: target.run_id,
        run_dir: target.run_dir.clone(),
        force: cli_args.force,
    };
    let rt = match super::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("worker: {e}");
            return exit(WORKER_EXIT_FAILED);
        }
    };
    let store = match rt.block_on(Store::open(db, OpenMode::Worker)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("worker: run database: {e}");
            return exit(WORKER_EXIT_FAILED);
        }
    };
    let run_id = args.run_id;
    let provenance = seds_store::collect_provenance(std::path::Path::new("."));
    let run_dir = args.run_dir.display().to_string();
    match rt.block_on(store.claim_run(run_id, &provenance, &run_dir, args.force)) {
        Ok(true) => {
            if let Some(l) = &target.slurm_log {
                let _ = rt.block_on(store.link_log(run_id, "slurm_log", &l.display().to_string()));
            }
        }
        Ok(false) => {
            eprintln!(
                "worker: run {run_id} is completed or held by another live worker; nothing to do"
            );
            return exit(WORKER_EXIT_SKIPPED);
        }
        Err(e) => {
            eprintln!("worker: cannot claim run {run_id}: {e}");
            return exit(WORKER_EXIT_FAILED);
        }
    }
    let finish = |status: RunStatus, message: Option<&str>| {
        if let Err(e) = rt.block_on(store.finish_run(run_id, status, message)) {
            eprintln!("worker: cannot record the end of run {run_id}: {e}");
        }
    };
    let outcome = train(&rt, &store, db, run_id, &args);
    match outcome {
        Ok(summary) => {
            eprintln!("worker: run {run_id} completed: {summary}");
            finish(RunStatus::Completed, None);
            exit(WORKER_EXIT_COMPLETED)
        }
        Err(Failure::Cancelled) => {
            eprintln!("worker: run {run_id} interrupted; checkpoint kept for resume");
            finish(
                RunStatus::Killed,
                Some("interrupted by signal; resumes from its last checkpoint"),
            );
            exit(WORKER_EXIT_KILLED)
        }
        Err(Failure::Error(msg)) => {
            eprintln!("worker: run {run_id} failed: {msg}");
            finish(RunStatus::Failed, Some(&msg));
            exit(WORKER_EXIT_FAILED)
        }
    }
}

enum Failure {
    Cancelled,
    Error(String),
}

fn train(
    rt: &tokio::runtime::Runtime,
    store: &Store,
    db: &str,
    run_id: i64,
    args: &Resolved,
) -> Result<String, Failure> {
    let row = rt
        .block_on(store.run(run_id))
        .map_err(|e| Failure::Error(e.to_string()))?;
    let cfg: seds_config::RunConfig = serde_json::from_str(&row.config_json).map_err(|e| {
        Failure::Error(format!("stored config of run {run_id} does not parse: {e}"))
    })?;
    if cfg.train.threads > 0 {
        // dfdx's CPU kernels run on rayon's global pool, sized from this variable at first use.
        std::env::set_var("RAYON_NUM_THREADS", cfg.train.threads.to_string());
    }
    std::fs::create_dir_all(&args.run_dir)
        .map_err(|e| Failure::Error(format!("cannot create {}: {e}", args.run_dir.display())))?;
    let config_path = args.run_dir.join("config.json");
    let _ = std::fs::write(
        &config_path,
        serde_json::to_string_pretty(&cfg).unwrap_or_default(),
    );
    // Refuse a device this build cannot use before spending time on the data (the device
    // itself is opened by train_run).
    seds_model::train::check_device(&cfg.train.device)
        .map_err(|e| Failure::Error(e.to_string()))?;
    eprintln!(
        "worker: run {run_id} ({}) seed {}, device {}: loading data",
        row.cell, cfg.seed, cfg.train.device
    );
    let dataset =
        seds_data::load_dataset(&cfg.data).map_err(|e| Failure::Error(format!("data: {e}")))?;
    let sink = WorkerSink {
        inner: StoreSink::open(db, run_id, SinkOptions::default())
            .map_err(|e| Failure::Error(e.to_string()))?,
    };
    let result = seds_model::train_run(&cfg, &dataset, &args.run_dir, &sink, &CANCEL);
    // The coordinator appends this worker's output to worker.log; link it from the run record.
    let log = ArtifactRecord {
        kind: "log".into(),
        path: args.run_dir.join("worker.log"),
    };
    if log.path.exists() {
        let _ = sink.log_artifact(&log);
    }
    if let Err(e) = sink.inner.flush() {
        return Err(Failure::Error(format!("could not write metrics: {e}")));
    }
    match result {
        Ok(outcome) => Ok(format!("{outcome:?}")),
        Err(seds_model::TrainError::Cancelled { .. }) => Err(Failure::Cancelled),
        Err(e) => Err(Failure::Error(e.to_string())),
    }
}

/// The resolved worker target.
struct Resolved {
    run_id: i64,
    run_dir: PathBuf,
    force: bool,
}
