//! The local executor: runs each cell in its own worker process, `jobs` at a time.
//!
//! A worker is any command that takes `--run-id N --run-dir DIR` (normally
//! `seds-lab worker`). Its stdout and stderr go to `DIR/worker.log`; stdout lines that start
//! with [`PROGRESS_PREFIX`] carry JSON progress and are also turned into events. A crash of one
//! worker never takes down the others. On cancellation (Ctrl-C / SIGTERM in the coordinator)
//! every live worker gets SIGTERM, so it can checkpoint and record itself KILLED.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;
use tokio::sync::{mpsc, watch};

/// Stdout prefix of a worker's machine-readable progress line.
pub const PROGRESS_PREFIX: &str = "@@seds-progress ";

/// Exit status of a worker that completed its run.
pub const WORKER_EXIT_COMPLETED: i32 = 0;
/// Exit status of a worker whose run failed (training error, NaN loss, data error).
pub const WORKER_EXIT_FAILED: i32 = 4;
/// Exit status of a worker that was interrupted and recorded its run KILLED.
pub const WORKER_EXIT_KILLED: i32 = 5;
/// Exit status of a worker that found its run already taken or completed.
pub const WORKER_EXIT_SKIPPED: i32 = 9;

/// Progress reported by a worker.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Current epoch (0-based).
    pub epoch: usize,
    /// Total epochs.
    pub epochs: usize,
    /// Step within the epoch.
    pub step: usize,
    /// Steps per epoch.
    pub steps: usize,
    /// Latest training loss.
    pub loss: f64,
}

/// A cell to run in a worker process.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkItem {
    /// Run id in the database.
    pub run_id: i64,
    /// Display name of the cell.
    pub label: String,
    /// The run's directory (created if missing).
    pub run_dir: PathBuf,
}

/// How a worker ended.
#[derive(Clone, Debug, PartialEq)]
pub enum WorkerExit {
    /// Exited with a status code.
    Code(i32),
    /// Killed by a signal (e.g. 9 for SIGKILL, an OOM kill).
    Signal(i32),
    /// Could not be started.
    SpawnError(String),
    /// Not started because the run was cancelled or a fail-fast stop happened first.
    NotStarted,
}

impl WorkerExit {
    /// True when the run completed.
    pub fn completed(&self) -> bool {
        *self == WorkerExit::Code(WORKER_EXIT_COMPLETED)
    }
    /// Human-readable description.
    pub fn describe(&self) -> String {
        match self {
            WorkerExit::Code(WORKER_EXIT_COMPLETED) => "completed".into(),
            WorkerExit::Code(WORKER_EXIT_FAILED) => "failed".into(),
            WorkerExit::Code(WORKER_EXIT_KILLED) => "killed".into(),
            WorkerExit::Code(WORKER_EXIT_SKIPPED) => "skipped (already taken)".into(),
            WorkerExit::Code(c) => format!("worker exited with status {c}"),
            WorkerExit::Signal(s) => format!("worker killed by signal {s}"),
            WorkerExit::SpawnError(e) => format!("worker could not start: {e}"),
            WorkerExit::NotStarted => "not started".into(),
        }
    }
}

/// What happens while the executor works; consumed by the CLI's display.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A worker started on an item.
    Started {
        run_id: i64,
        label: String,
        pid: Option<u32>,
    },
    /// A worker reported progress.
    Progress { run_id: i64, progress: Progress },
    /// A worker ended.
    Finished {
        run_id: i64,
        label: String,
        exit: WorkerExit,
    },
}

/// Options of the local executor.
#[derive(Clone, Debug)]
pub struct LocalOptions {
    /// Worker program (normally the seds-lab binary itself).
    pub program: PathBuf,
    /// Arguments before `--run-id` (e.g. `["--db", URL, "worker"]`).
    pub args: Vec<String>,
    /// Workers in parallel (at least 1).
    pub jobs: usize,
    /// Stop starting new cells after the first failure.
    pub fail_fast: bool,
    /// Compute threads each worker may use (`RAYON_NUM_THREADS` in its environment, unless
    /// the caller's environment already sets it); `None` leaves the worker's default (all
    /// cores). See [`threads_per_worker`].
    pub threads_per_worker: Option<usize>,
}

/// Threads per worker so that `jobs` parallel workers share `cores` without
/// oversubscription: `None` for one job (the worker takes every core), else
/// `max(1, cores / jobs)`.
pub fn threads_per_worker(cores: usize, jobs: usize) -> Option<usize> {
    (jobs > 1).then(|| (cores / jobs).max(1))
}

/// Runs every item in a worker process, `jobs` at a time, reporting events on `events`.
/// `cancel` flips to true on Ctrl-C/SIGTERM: no new workers start and live ones get SIGTERM.
/// Returns each item's exit, in input order.
pub async fn run_local(
    items: Vec<WorkItem>,
    opts: LocalOptions,
    events: mpsc::UnboundedSender<Event>,
    cancel: watch::Receiver<bool>,
) -> Vec<(WorkItem, WorkerExit)> {
    let jobs = opts.jobs.max(1);
    let opts = Arc::new(opts);
    let queue = Arc::new(tokio::sync::Mutex::new(
        items.clone().into_iter().enumerate().collect::<Vec<_>>(),
    ));
    let results = Arc::new(tokio::sync::Mutex::new(vec![
        WorkerExit::NotStarted;
        items.len()
    ]));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut handles = Vec::new();
    for _ in 0..jobs {
        let (queue, results, opts, events, cancel, stop) = (
            queue.clone(),
            results.clone(),
            opts.clone(),
            events.clone(),
            cancel.clone(),
            stop.clone(),
        );
        handles.push(tokio::spawn(async move {
            loop {
                if *cancel.borrow() || stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let next = {
                    let mut q = queue.lock().await;
                    if q.is_empty() {
                        None
                    } else {
                        Some(q.remove(0))
                    }
                };
                let Some((idx, item)) = next else { break };
                let exit = run_worker(&item, &opts, &events, cancel.clone()).await;
                if opts.fail_fast
                    && !exit.completed()
                    && exit != WorkerExit::Code(WORKER_EXIT_SKIPPED)
                {
                    stop.store(true, std::sync::atomic::Ordering::SeqCst);
                }
                let _ = events.send(Event::Finished {
                    run_id: item.run_id,
                    label: item.label.clone(),
                    exit: exit.clone(),
                });
                results.lock().await[idx] = exit;
            }
        }));
    }
    for h in handles {
        let _ = h.await;
    }
    let results = results.lock().await.clone();
    items.into_iter().zip(results).collect()
}

/// Sends a signal to a process (SIGTERM to let a worker checkpoint).
pub fn send_signal(pid: u32, signal: i32) -> bool {
    // SAFETY: kill(2) with a pid we spawned; no memory is touched.
    unsafe { libc::kill(pid as libc::pid_t, signal) == 0 }
}

async fn run_worker(
    item: &WorkItem,
    opts: &LocalOptions,
    events: &mpsc::UnboundedSender<Event>,
    mut cancel: watch::Receiver<bool>,
) -> WorkerExit {
    if let Err(e) = std::fs::create_dir_all(&item.run_dir) {
        return WorkerExit::SpawnError(format!("cannot create {}: {e}", item.run_dir.display()));
    }
    let log_path = item.run_dir.join("worker.log");
    let log = match std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
    {
        Ok(f) => f,
        Err(e) => {
            return WorkerExit::SpawnError(format!("cannot open {}: {e}", log_path.display()))
        }
    };
    let stderr = match log.try_clone() {
        Ok(f) => f,
        Err(e) => return WorkerExit::SpawnError(e.to_string()),
    };
    let mut cmd = Command::new(&opts.program);
    cmd.args(&opts.args)
        .arg("--run-id")
        .arg(item.run_id.to_string())
        .arg("--run-dir")
        .arg(&item.run_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(stderr))
        .kill_on_drop(false);
    if let Some(n) = opts.threads_per_worker {
        if std::env::var_os("RAYON_NUM_THREADS").is_none() {
            cmd.env("RAYON_NUM_THREADS", n.to_string());
        }
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return WorkerExit::SpawnError(format!("{}: {e}", opts.program.display())),
    };
    let pid = child.id();
    let _ = events.send(Event::Started {
        run_id: item.run_id,
        label: item.label.clone(),
        pid,
    });
    let stdout = child.stdout.take();
    let run_id = item.run_id;
    let events2 = events.clone();
    let mut log_writer = tokio::fs::File::from_std(log);
    let reader = tokio::spawn(async move {
        let Some(stdout) = stdout else { return };
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(json) = line.strip_prefix(PROGRESS_PREFIX) {
                if let Ok(progress) = serde_json::from_str::<Progress>(json) {
                    let _ = events2.send(Event::Progress { run_id, progress });
                }
                continue;
            }
            let _ = log_writer.write_all(line.as_bytes()).await;
            let _ = log_writer.write_all(b"\n").await;
        }
        let _ = log_writer.flush().await;
    });
    let mut signalled = false;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            changed = cancel.changed(), if !signalled => {
                if changed.is_ok() && *cancel.borrow() {
                    if let Some(pid) = pid {
                        send_signal(pid, libc::SIGTERM);
                    }
                    signalled = true;
                } else if changed.is_err() {
                    signalled = true;
                }
            }
        }
    };
    let _ = reader.await;
    match status {
        Ok(st) => {
            use std::os::unix::process::ExitStatusExt;
            match (st.code(), st.signal()) {
                (Some(c), _) => WorkerExit::Code(c),
                (None, Some(s)) => WorkerExit::Signal(s),
                _ => WorkerExit::Code(-1),
            }
        }
        Err(e) => WorkerExit::SpawnError(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script_worker(dir: &std::path::Path, body: &str) -> LocalOptions {
        // A fake worker: a shell script that receives `--run-id N --run-dir DIR`.
        let path = dir.join("worker.sh");
        std::fs::write(&path, format!("#!/bin/sh\nrun_id=$2\n{body}\n")).unwrap();
        LocalOptions {
            program: "/bin/sh".into(),
            args: vec![path.display().to_string()],
            jobs: 2,
            fail_fast: false,
            threads_per_worker: Some(1),
        }
    }

    #[test]
    fn threads_are_split_between_parallel_workers() {
        assert_eq!(threads_per_worker(2, 1), None);
        assert_eq!(threads_per_worker(2, 2), Some(1));
        assert_eq!(threads_per_worker(16, 3), Some(5));
        assert_eq!(threads_per_worker(2, 4), Some(1));
    }

    fn items(dir: &std::path::Path, n: i64) -> Vec<WorkItem> {
        (1..=n)
            .map(|i| WorkItem {
                run_id: i,
                label: format!("cell{i}"),
                run_dir: dir.join(format!("run{i}")),
            })
            .collect()
    }

    async fn run(
        items: Vec<WorkItem>,
        opts: LocalOptions,
    ) -> (Vec<(WorkItem, WorkerExit)>, Vec<Event>) {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (_ctx, crx) = watch::channel(false);
        let res = run_local(items, opts, tx, crx).await;
        let mut evs = Vec::new();
        while let Ok(e) = rx.try_recv() {
            evs.push(e);
        }
        (res, evs)
    }

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("seds-exec-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[tokio::test(flavor = "current_thread")]
    async fn one_crash_does_not_stop_the_others_and_logs_and_progress_are_captured() {
        let dir = tmpdir("crash");
        let opts = script_worker(
            &dir,
            r#"echo "hello from $run_id"
echo '@@seds-progress {"epoch":1,"epochs":2,"step":3,"steps":4,"loss":0.5}'
if [ "$run_id" = "2" ]; then kill -9 $$; fi
if [ "$run_id" = "3" ]; then exit 4; fi
exit 0"#,
        );
        let (res, evs) = run(items(&dir, 4), opts).await;
        let exits: Vec<WorkerExit> = res.iter().map(|r| r.1.clone()).collect();
        assert_eq!(
            exits,
            vec![
                WorkerExit::Code(0),
                WorkerExit::Signal(9),
                WorkerExit::Code(WORKER_EXIT_FAILED),
                WorkerExit::Code(0)
            ]
        );
        let log = std::fs::read_to_string(dir.join("run1/worker.log")).unwrap();
        assert!(log.contains("hello from 1"));
        assert!(
            !log.contains("@@seds-progress"),
            "progress lines are events, not log lines"
        );
        let progress = evs
            .iter()
            .filter(|e| matches!(e, Event::Progress { progress, .. } if progress.step == 3))
            .count();
        assert_eq!(progress, 4);
        assert_eq!(
            evs.iter()
                .filter(|e| matches!(e, Event::Finished { .. }))
                .count(),
            4
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn fail_fast_stops_starting_new_cells() {
        let dir = tmpdir("failfast");
        let mut opts = script_worker(&dir, "exit 4");
        opts.jobs = 1;
        opts.fail_fast = true;
        let (res, _) = run(items(&dir, 3), opts).await;
        assert_eq!(res[0].1, WorkerExit::Code(WORKER_EXIT_FAILED));
        assert_eq!(res[1].1, WorkerExit::NotStarted);
        assert_eq!(res[2].1, WorkerExit::NotStarted);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn cancellation_sends_sigterm_to_live_workers() {
        let dir = tmpdir("cancel");
        // The worker traps TERM and exits with the KILLED code, as seds-lab worker does.
        let opts = script_worker(
            &dir,
            "trap 'exit 5' TERM\necho started\nwhile true; do sleep 0.05; done",
        );
        let (tx, mut rx) = mpsc::unbounded_channel();
        let (ctx, crx) = watch::channel(false);
        let handle = tokio::spawn(run_local(items(&dir, 3), opts, tx, crx));
        // Wait until both parallel workers have started, then cancel.
        let mut started = 0;
        while started < 2 {
            if let Some(Event::Started { .. }) = rx.recv().await {
                started += 1;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        ctx.send(true).unwrap();
        let res = handle.await.unwrap();
        assert_eq!(res[0].1, WorkerExit::Code(WORKER_EXIT_KILLED));
        assert_eq!(res[1].1, WorkerExit::Code(WORKER_EXIT_KILLED));
        assert_eq!(res[2].1, WorkerExit::NotStarted);
    }
}
