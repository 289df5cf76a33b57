//! The Slurm executor's logic: one `sbatch --array` job per `seds-lab run`, one array task
//! per cell, each task running `seds-lab worker --array-map MAP` for its cell.
//!
//! Pure parts (unit-tested here): the array map file (task index -> run id and run dir),
//! the array spec, Slurm time limits and the signal lead time, the sbatch script, parsing of
//! `sbatch --parsable` and `squeue` output, per-task log paths, and the SQLite refusal.
//! Effects (thin, tested against a real local Slurm in `tests/slurm.rs`): [`submit`] runs
//! `sbatch`, [`queue`] runs `squeue`.
//!
//! Flow: the coordinator records every cell as PLANNED, writes the map and the script under
//! `<slurm_dir>/<experiment>/`, submits, and returns (or polls with [`queue`] + the database).
//! Each task's worker looks its cell up with [`ArrayMap::entry_for_task`], claims the run
//! atomically (a completed or live-held cell exits at once), heartbeats, trains and records
//! the result. Before the time limit Slurm sends SIGUSR1 to the batch shell
//! (`--signal=B:USR1@LEAD`), which forwards SIGTERM to the worker: it checkpoints and marks
//! the run KILLED, so re-running the same `seds-lab run` resumes it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::local::{WorkItem, WORKER_EXIT_SKIPPED};

/// First line of an array map file (format version).
pub const ARRAY_MAP_HEADER: &str = "# seds-lab array map v1";
/// Environment variable Slurm sets to the array task index.
pub const TASK_ENV: &str = "SLURM_ARRAY_TASK_ID";
/// Environment variable Slurm sets to the array's job id.
pub const ARRAY_JOB_ENV: &str = "SLURM_ARRAY_JOB_ID";
/// Default seconds before the time limit at which Slurm signals the batch shell.
pub const DEFAULT_SIGNAL_LEAD_S: u64 = 120;

/// Everything that can go wrong on the Slurm path; each message names the file, line,
/// command or value involved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlurmError {
    /// A line of an array map file is malformed.
    BadMap {
        /// The file (or `<text>`).
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// `SLURM_ARRAY_TASK_ID` is missing, not a number, or not in the map.
    BadTask {
        /// The value seen (None = unset).
        value: Option<String>,
        /// What is wrong.
        reason: String,
    },
    /// A Slurm time limit that does not parse.
    BadTime {
        /// The value given.
        value: String,
    },
    /// Output of a Slurm command that does not parse.
    BadOutput {
        /// The command.
        command: String,
        /// The offending output.
        output: String,
    },
    /// A Slurm command could not run or failed.
    Command {
        /// The command line.
        command: String,
        /// Exit status / spawn error and stderr.
        detail: String,
    },
    /// The run database is SQLite and the user did not confirm a single host.
    SqliteRefused {
        /// The database location shown to the user.
        db: String,
    },
    /// Nothing to submit.
    Empty,
    /// A file could not be read or written.
    Io {
        /// The file.
        path: String,
        /// The error text.
        detail: String,
    },
}

impl fmt::Display for SlurmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SlurmError::BadMap { file, line, reason } => {
                write!(f, "array map {file}, line {line}: {reason}")
            }
            SlurmError::BadTask { value, reason } => match value {
                Some(v) => write!(f, "{TASK_ENV}='{v}': {reason}"),
                None => write!(f, "{TASK_ENV} is not set: {reason}"),
            },
            SlurmError::BadTime { value } => write!(
                f,
                "invalid Slurm time limit '{value}' (expected MINUTES, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS)"
            ),
            SlurmError::BadOutput { command, output } => {
                write!(f, "unexpected output from `{command}`: {output:?}")
            }
            SlurmError::Command { command, detail } => write!(f, "`{command}` failed: {detail}"),
            SlurmError::SqliteRefused { db } => write!(
                f,
                "the Slurm executor needs a run database that every task can reach; '{db}' is SQLite, \
                 which must not be shared across machines or over NFS (locking breaks and runs are lost). \
                 Use a PostgreSQL database (--db postgres://USER:PASSWORD@HOST:5432/DB or SEDS_LAB_DB; \
                 see docs/cluster.md), or pass --slurm-same-host to confirm that every task runs on \
                 this host with the database on a local disk"
            ),
            SlurmError::Empty => write!(f, "no cells to submit"),
            SlurmError::Io { path, detail } => write!(f, "{path}: {detail}"),
        }
    }
}

impl std::error::Error for SlurmError {}

// ------------------------------------------------------------------------- array map

/// One array task: which run it trains and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArrayEntry {
    /// Array task index (`SLURM_ARRAY_TASK_ID`).
    pub index: usize,
    /// Run id in the database.
    pub run_id: i64,
    /// The run's directory.
    pub run_dir: PathBuf,
    /// Display label of the cell.
    pub label: String,
}

/// The array map: task index -> run, plus the directory Slurm writes task logs to.
/// Stored as a small text file (`# seds-lab array map v1`, `# log_dir<TAB>DIR`, then one
/// `index<TAB>run_id<TAB>run_dir<TAB>label` line per task).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArrayMap {
    /// Where Slurm writes `<job>_<task>.out`.
    pub log_dir: PathBuf,
    /// Tasks, by index 0..n.
    pub entries: Vec<ArrayEntry>,
}

fn clean_field(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}

impl ArrayMap {
    /// Builds the map for the items to submit, in order (task i = items[i]).
    pub fn from_items(items: &[WorkItem], log_dir: &Path) -> ArrayMap {
        ArrayMap {
            log_dir: log_dir.to_path_buf(),
            entries: items
                .iter()
                .enumerate()
                .map(|(index, w)| ArrayEntry {
                    index,
                    run_id: w.run_id,
                    run_dir: w.run_dir.clone(),
                    label: w.label.clone(),
                })
                .collect(),
        }
    }

    /// The file text.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{ARRAY_MAP_HEADER}\n# log_dir\t{}\n# index\trun_id\trun_dir\tlabel\n",
            clean_field(&self.log_dir.display().to_string())
        );
        for e in &self.entries {
            s.push_str(&format!(
                "{}\t{}\t{}\t{}\n",
                e.index,
                e.run_id,
                clean_field(&e.run_dir.display().to_string()),
                clean_field(&e.label)
            ));
        }
        s
    }

    /// Parses a map file's text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<ArrayMap, SlurmError> {
        let bad = |line: usize, reason: String| SlurmError::BadMap {
            file: file.to_string(),
            line,
            reason,
        };
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, l)) if l.trim_end() == ARRAY_MAP_HEADER => {}
            Some((_, l)) => {
                return Err(bad(
                    1,
                    format!("expected '{ARRAY_MAP_HEADER}', found {l:?} (not an array map, or written by another version)"),
                ))
            }
            None => return Err(bad(1, "empty file".into())),
        }
        let mut log_dir = None;
        let mut entries = Vec::new();
        for (i, line) in lines {
            let n = i + 1;
            if let Some(rest) = line.strip_prefix("# log_dir\t") {
                log_dir = Some(PathBuf::from(rest));
                continue;
            }
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() != 4 {
                return Err(bad(
                    n,
                    format!("expected 4 tab-separated fields, found {}", f.len()),
                ));
            }
            let index: usize = f[0]
                .parse()
                .map_err(|_| bad(n, format!("task index '{}' is not a number", f[0])))?;
            if index != entries.len() {
                return Err(bad(
                    n,
                    format!(
                        "task index {index} out of order (expected {})",
                        entries.len()
                    ),
                ));
            }
            let run_id: i64 = f[1]
                .parse()
                .map_err(|_| bad(n, format!("run id '{}' is not a number", f[1])))?;
            if f[2].is_empty() {
                return Err(bad(n, "empty run directory".into()));
            }
            entries.push(ArrayEntry {
                index,
                run_id,
                run_dir: PathBuf::from(f[2]),
                label: f[3].to_string(),
            });
        }
        let log_dir = log_dir.ok_or_else(|| bad(2, "missing '# log_dir<TAB>DIR' line".into()))?;
        if entries.is_empty() {
            return Err(bad(text.lines().count().max(1), "no tasks".into()));
        }
        Ok(ArrayMap { log_dir, entries })
    }

    /// Reads and parses a map file.
    pub fn read(path: &Path) -> Result<ArrayMap, SlurmError> {
        let text = std::fs::read_to_string(path).map_err(|e| SlurmError::Io {
            path: path.display().to_string(),
            detail: e.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// The entry for the value of `SLURM_ARRAY_TASK_ID` (pass `std::env::var(TASK_ENV).ok()`).
    pub fn entry_for_task(&self, task_env: Option<&str>) -> Result<&ArrayEntry, SlurmError> {
        let Some(v) = task_env else {
            return Err(SlurmError::BadTask {
                value: None,
                reason: "`seds-lab worker --array-map` must run inside a Slurm array task".into(),
            });
        };
        let index: usize = v.trim().parse().map_err(|_| SlurmError::BadTask {
            value: Some(v.to_string()),
            reason: "not a task index".into(),
        })?;
        self.entries.get(index).ok_or_else(|| SlurmError::BadTask {
            value: Some(v.to_string()),
            reason: format!(
                "the map has tasks 0..{}",
                self.entries.len().saturating_sub(1)
            ),
        })
    }

    /// The array spec for this map (see [`array_spec`]).
    pub fn array_spec(&self, parallelism: Option<usize>) -> String {
        array_spec(self.entries.len(), parallelism)
    }
}

/// `--array` value for `n` tasks: `0-(n-1)`, with `%K` when at most K may run at once.
pub fn array_spec(n: usize, parallelism: Option<usize>) -> String {
    let mut s = if n <= 1 {
        "0".to_string()
    } else {
        format!("0-{}", n - 1)
    };
    if let Some(k) = parallelism.filter(|k| *k > 0) {
        s.push_str(&format!("%{k}"));
    }
    s
}

/// Where Slurm writes the log of array task `task` of job `array_job` (the script's
/// `--output=<log_dir>/%A_%a.out`).
pub fn task_log_path(log_dir: &Path, array_job: &str, task: usize) -> PathBuf {
    log_dir.join(format!("{array_job}_{task}.out"))
}

// ------------------------------------------------------------------------- time limits

/// Parses a Slurm time limit into seconds. Formats: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`,
/// `D-H:M:S`; `UNLIMITED`/`INFINITE` give None.
pub fn parse_time_limit(s: &str) -> Result<Option<u64>, SlurmError> {
    let bad = || SlurmError::BadTime {
        value: s.to_string(),
    };
    let t = s.trim();
    if t.eq_ignore_ascii_case("unlimited") || t.eq_ignore_ascii_case("infinite") {
        return Ok(None);
    }
    let num = |x: &str| -> Result<u64, SlurmError> {
        if x.is_empty() || !x.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        x.parse().map_err(|_| bad())
    };
    let (days, rest) = match t.split_once('-') {
        Some((d, r)) => (Some(num(d)?), r),
        None => (None, t),
    };
    let parts: Vec<u64> = rest.split(':').map(num).collect::<Result<_, _>>()?;
    let secs = match (days, parts.as_slice()) {
        (None, [m]) => m * 60,
        (None, [m, s]) => m * 60 + s,
        (None, [h, m, s]) => h * 3600 + m * 60 + s,
        (Some(d), [h]) => d * 86400 + h * 3600,
        (Some(d), [h, m]) => d * 86400 + h * 3600 + m * 60,
        (Some(d), [h, m, s]) => d * 86400 + h * 3600 + m * 60 + s,
        _ => return Err(bad()),
    };
    Ok(Some(secs))
}

/// Seconds before the limit at which the batch shell gets SIGUSR1: [`DEFAULT_SIGNAL_LEAD_S`],
/// but at most a quarter of a short limit (at least 5 s) so the signal comes after training
/// has started. Slurm delivers it up to a minute early: checkpoints must be cheap.
pub fn signal_lead(limit_s: Option<u64>) -> u64 {
    match limit_s {
        None => DEFAULT_SIGNAL_LEAD_S,
        Some(l) => DEFAULT_SIGNAL_LEAD_S.min((l / 4).max(5)),
    }
}

// ------------------------------------------------------------------------- sbatch script

/// What goes into the sbatch script.
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptSpec {
    /// `--job-name`.
    pub job_name: String,
    /// Number of array tasks.
    pub tasks: usize,
    /// `%K` of `--array`.
    pub array_parallelism: Option<usize>,
    /// `--partition`.
    pub partition: Option<String>,
    /// `--gpus-per-task` (with `--ntasks=1`).
    pub gpus_per_task: Option<u32>,
    /// `--cpus-per-task`.
    pub cpus_per_task: Option<u32>,
    /// `--time` (validated with [`parse_time_limit`]).
    pub time: Option<String>,
    /// Seconds before the limit for `--signal=B:USR1@LEAD`.
    pub signal_lead_s: u64,
    /// Directory for the per-task logs (`%A_%a.out`).
    pub log_dir: PathBuf,
    /// Working directory of the tasks (the submit directory).
    pub workdir: PathBuf,
    /// The seds-lab binary.
    pub program: PathBuf,
    /// The array map file.
    pub map_file: PathBuf,
    /// Pass `--force` to the workers.
    pub force: bool,
    /// Extra `#SBATCH` arguments, verbatim (e.g. `--account=x`, `--qos=y`).
    pub extra_args: Vec<String>,
}

/// Quotes a string for bash (single quotes).
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Renders the sbatch script. The database URL is NOT written into it (it may hold a
/// password): the worker reads `SEDS_LAB_DB`, which sbatch exports from the submitting
/// environment (see [`submit`]).
pub fn render_script(spec: &ScriptSpec) -> Result<String, SlurmError> {
    if spec.tasks == 0 {
        return Err(SlurmError::Empty);
    }
    if let Some(t) = &spec.time {
        parse_time_limit(t)?;
    }
    let q = |p: &Path| shell_quote(&p.display().to_string());
    let mut h = vec![
        "#!/bin/bash".to_string(),
        "# seds-lab Slurm array job: one task per cell; written by `seds-lab run --executor slurm`."
            .to_string(),
        format!("#SBATCH --job-name={}", spec.job_name.replace(char::is_whitespace, "_")),
        format!(
            "#SBATCH --array={}",
            array_spec(spec.tasks, spec.array_parallelism)
        ),
        format!("#SBATCH --output={}", spec.log_dir.join("%A_%a.out").display()),
        "#SBATCH --ntasks=1".to_string(),
        format!("#SBATCH --signal=B:USR1@{}", spec.signal_lead_s),
    ];
    if let Some(p) = &spec.partition {
        h.push(format!("#SBATCH --partition={p}"));
    }
    if let Some(g) = spec.gpus_per_task {
        h.push(format!("#SBATCH --gpus-per-task={g}"));
    }
    if let Some(c) = spec.cpus_per_task {
        h.push(format!("#SBATCH --cpus-per-task={c}"));
    }
    if let Some(t) = &spec.time {
        h.push(format!("#SBATCH --time={t}"));
    }
    for a in &spec.extra_args {
        h.push(format!("#SBATCH {a}"));
    }
    let force = if spec.force { " --force" } else { "" };
    let body = format!(
        r#"
set -u
: "${{SEDS_LAB_DB:?SEDS_LAB_DB must name the run database (sbatch exports it from the submitting shell)}}"
cd {workdir} || exit 1
echo "seds-lab: job ${{SLURM_ARRAY_JOB_ID:-?}} task ${{SLURM_ARRAY_TASK_ID:-?}} on $(hostname) at $(date -u +%FT%TZ)"
worker_pid=""
# Slurm sends USR1 to this shell {lead}s before the time limit (and TERM on scancel):
# the worker checkpoints and records the run KILLED; re-running `seds-lab run` resumes it.
forward() {{
  echo "seds-lab: received $1, asking the worker to checkpoint and stop" >&2
  if [ -n "$worker_pid" ]; then kill -TERM "$worker_pid" 2>/dev/null; fi
}}
trap 'forward USR1' USR1
trap 'forward TERM' TERM
{program} worker --array-map {map}{force} &
worker_pid=$!
# `wait` returns early when a trapped signal arrives: wait again until the worker exits.
while :; do
  wait "$worker_pid"; rc=$?
  kill -0 "$worker_pid" 2>/dev/null || break
done
# {skipped}: the cell was already completed or is held by a live worker - not an error.
if [ "$rc" -eq {skipped} ]; then rc=0; fi
echo "seds-lab: worker exited with status $rc"
exit "$rc"
"#,
        workdir = q(&spec.workdir),
        program = q(&spec.program),
        map = q(&spec.map_file),
        lead = spec.signal_lead_s,
        skipped = WORKER_EXIT_SKIPPED,
    );
    Ok(h.join("\n") + "\n" + &body)
}

// ------------------------------------------------------------------------- output parsing

/// A submitted job as `sbatch --parsable` reports it (`JOBID` or `JOBID;CLUSTER`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submitted {
    /// The (array) job id.
    pub job_id: String,
    /// The cluster, on multi-cluster setups.
    pub cluster: Option<String>,
}

/// Parses `sbatch --parsable` stdout (the last non-empty line).
pub fn parse_sbatch_parsable(stdout: &str) -> Result<Submitted, SlurmError> {
    let bad = || SlurmError::BadOutput {
        command: "sbatch --parsable".into(),
        output: stdout.to_string(),
    };
    let line = stdout
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .ok_or_else(bad)?;
    let (id, cluster) = match line.split_once(';') {
        Some((i, c)) => (i, Some(c.to_string())),
        None => (line, None),
    };
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    Ok(Submitted {
        job_id: id.to_string(),
        cluster,
    })
}

/// One line of `squeue -h -r -o '%i|%T|%r'`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueEntry {
    /// The array job id.
    pub job_id: String,
    /// The task index; None for a not-yet-expanded pending range or a plain job.
    pub task: Option<usize>,
    /// The tasks still pending in a range like `[3-7%2]` (count), 1 otherwise.
    pub count: usize,
    /// Slurm state (PENDING, RUNNING, COMPLETING, ...).
    pub state: String,
    /// Reason (e.g. `JobArrayTaskLimit`, `Resources`, `None`).
    pub reason: String,
}

/// Arguments for the `squeue` call that [`parse_squeue`] reads.
pub fn squeue_args(job_id: &str) -> Vec<String> {
    ["-h", "-r", "-j", job_id, "-o", "%i|%T|%r"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn range_count(r: &str) -> Option<usize> {
    // "3-7%2", "3,5,9-10", "4"
    let r = r.split('%').next()?;
    let mut n = 0;
    for part in r.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) = (a.parse().ok()?, b.parse().ok()?);
                n += b.checked_sub(a)? + 1;
            }
            None => {
                part.parse::<usize>().ok()?;
                n += 1;
            }
        }
    }
    Some(n)
}

/// Parses `squeue -h -r -o '%i|%T|%r'` output (see [`squeue_args`]).
pub fn parse_squeue(stdout: &str) -> Result<Vec<QueueEntry>, SlurmError> {
    let mut out = Vec::new();
    for line in stdout.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let bad = || SlurmError::BadOutput {
            command: "squeue".into(),
            output: line.to_string(),
        };
        let f: Vec<&str> = line.splitn(3, '|').collect();
        if f.len() < 2 {
            return Err(bad());
        }
        let (job_id, task, count) = match f[0].split_once('_') {
            None => (f[0].to_string(), None, 1),
            Some((j, t)) => {
                if let Some(r) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                    (j.to_string(), None, range_count(r).ok_or_else(bad)?)
                } else {
                    (j.to_string(), Some(t.parse().map_err(|_| bad())?), 1)
                }
            }
        };
        if job_id.is_empty() || !job_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        out.push(QueueEntry {
            job_id,
            task,
            count,
            state: f[1].to_string(),
            reason: f.get(2).unwrap_or(&"").to_string(),
        });
    }
    Ok(out)
}

/// Counts of a job's tasks still in the queue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueSummary {
    /// Tasks pending (including unexpanded ranges).
    pub pending: usize,
    /// Tasks running or completing.
    pub running: usize,
    /// Tasks in any other state still listed (e.g. SUSPENDED, REQUEUED).
    pub other: usize,
}

impl QueueSummary {
    /// Sums a parsed queue listing.
    pub fn of(entries: &[QueueEntry]) -> QueueSummary {
        let mut s = QueueSummary::default();
        for e in entries {
            match e.state.as_str() {
                "PENDING" | "CONFIGURING" => s.pending += e.count,
                "RUNNING" | "COMPLETING" => s.running += e.count,
                _ => s.other += e.count,
            }
        }
        s
    }

    /// True when nothing of the job is left in the queue.
    pub fn is_done(&self) -> bool {
        self.pending + self.running + self.other == 0
    }
}

/// Refuses the Slurm executor on SQLite unless the user confirmed that every task runs on
/// the submitting host (SQLite must not be shared across machines or over NFS).
pub fn check_database(
    is_sqlite: bool,
    same_host_confirmed: bool,
    db: &str,
) -> Result<(), SlurmError> {
    if is_sqlite && !same_host_confirmed {
        return Err(SlurmError::SqliteRefused { db: db.to_string() });
    }
    Ok(())
}

// ------------------------------------------------------------------------- effects

fn command_line(program: &str, args: &[String]) -> String {
    std::iter::once(program.to_string())
        .chain(args.iter().map(|a| shell_quote(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Submits `script` with `sbatch --parsable`, exporting `env` (e.g. `SEDS_LAB_DB`) to the job
/// on top of the current environment. `sbatch` is looked up on PATH unless `sbatch` is given.
pub fn submit(
    script: &Path,
    env: &[(String, String)],
    sbatch: Option<&Path>,
) -> Result<Submitted, SlurmError> {
    let program = sbatch
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "sbatch".into());
    let args = vec!["--parsable".to_string(), script.display().to_string()];
    let cl = command_line(&program, &args);
    let mut cmd = Command::new(&program);
    cmd.args(&args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().map_err(|e| SlurmError::Command {
        command: cl.clone(),
        detail: format!("{e} (is Slurm installed and on PATH?)"),
    })?;
    if !out.status.success() {
        return Err(SlurmError::Command {
            command: cl,
            detail: format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    parse_sbatch_parsable(&String::from_utf8_lossy(&out.stdout))
}

/// Lists what of job `job_id` is still queued or running. A job Slurm no longer knows
/// ("Invalid job id") counts as finished (empty list).
pub fn queue(job_id: &str) -> Result<Vec<QueueEntry>, SlurmError> {
    let args = squeue_args(job_id);
    let cl = command_line("squeue", &args);
    let out = Command::new("squeue")
        .args(&args)
        .output()
        .map_err(|e| SlurmError::Command {
            command: cl.clone(),
            detail: e.to_string(),
        })?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        if stderr.contains("Invalid job id") {
            return Ok(Vec::new());
        }
        return Err(SlurmError::Command {
            command: cl,
            detail: format!("{}: {}", out.status, stderr.trim()),
        });
    }
    parse_squeue(&String::from_utf8_lossy(&out.stdout))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items() -> Vec<WorkItem> {
        vec![
            WorkItem {
                run_id: 12,
                label: "alpha=0.2 seed=1".into(),
                run_dir: "runs/12".into(),
            },
            WorkItem {
                run_id: 15,
                label: "tab\there".into(),
                run_dir: "/abs/runs/15".into(),
            },
        ]
    }

    #[test]
    fn array_map_round_trips_and_resolves_tasks() {
        let map = ArrayMap::from_items(&items(), Path::new("/logs/exp"));
        let text = map.to_text();
        assert_eq!(
            text,
            "# seds-lab array map v1\n# log_dir\t/logs/exp\n# index\trun_id\trun_dir\tlabel\n\
             0\t12\truns/12\talpha=0.2 seed=1\n1\t15\t/abs/runs/15\ttab here\n"
        );
        let back = ArrayMap::parse(&text, "m.tsv").unwrap();
        assert_eq!(back.entries[1].run_id, 15);
        assert_eq!(back.entries[1].label, "tab here");
        assert_eq!(back.log_dir, PathBuf::from("/logs/exp"));
        assert_eq!(
            back.entry_for_task(Some("1")).unwrap().run_dir,
            PathBuf::from("/abs/runs/15")
        );
        assert_eq!(back.entry_for_task(Some("0")).unwrap().run_id, 12);
        let e = back.entry_for_task(Some("2")).unwrap_err().to_string();
        assert!(
            e.contains("SLURM_ARRAY_TASK_ID='2'") && e.contains("tasks 0..1"),
            "{e}"
        );
        let e = back.entry_for_task(Some("x")).unwrap_err().to_string();
        assert!(e.contains("not a task index"), "{e}");
        let e = back.entry_for_task(None).unwrap_err().to_string();
        assert!(e.contains("is not set"), "{e}");
        assert_eq!(back.array_spec(Some(2)), "0-1%2");
    }

    #[test]
    fn malformed_maps_name_the_line() {
        let err = |t: &str| ArrayMap::parse(t, "m.tsv").unwrap_err().to_string();
        assert!(err("").contains("line 1: empty file"));
        assert!(err("index\trun\n").contains("line 1: expected '# seds-lab array map v1'"));
        let h = "# seds-lab array map v1\n# log_dir\t/l\n";
        assert!(err(&format!("{h}0\t1\tdir\n"))
            .contains("line 3: expected 4 tab-separated fields, found 3"));
        assert!(err(&format!("{h}0\tx\tdir\tl\n")).contains("line 3: run id 'x' is not a number"));
        assert!(err(&format!("{h}1\t4\tdir\tl\n"))
            .contains("line 3: task index 1 out of order (expected 0)"));
        assert!(err(&format!("{h}0\t4\t\tl\n")).contains("empty run directory"));
        assert!(err(h).contains("no tasks"));
        assert!(err("# seds-lab array map v1\n0\t4\td\tl\n").contains("missing '# log_dir"));
    }

    #[test]
    fn array_specs_and_log_paths() {
        assert_eq!(array_spec(1, None), "0");
        assert_eq!(array_spec(4, None), "0-3");
        assert_eq!(array_spec(8, Some(3)), "0-7%3");
        assert_eq!(array_spec(8, Some(0)), "0-7");
        assert_eq!(
            task_log_path(Path::new("/l"), "77", 3),
            PathBuf::from("/l/77_3.out")
        );
    }

    #[test]
    fn time_limits() {
        let t = |s: &str| parse_time_limit(s).unwrap();
        assert_eq!(t("30"), Some(1800));
        assert_eq!(t("1:30"), Some(90));
        assert_eq!(t("02:00:00"), Some(7200));
        assert_eq!(t("1-0"), Some(86400));
        assert_eq!(t("1-2:30"), Some(86400 + 7200 + 1800));
        assert_eq!(t("2-00:00:10"), Some(172810));
        assert_eq!(t("UNLIMITED"), None);
        for bad in ["", "1:2:3:4", "a", "1-", "-5", "1-2:3:4:5", "1.5"] {
            let e = parse_time_limit(bad).unwrap_err().to_string();
            assert!(e.contains(&format!("'{bad}'")), "{e}");
        }
        assert_eq!(signal_lead(None), 120);
        assert_eq!(signal_lead(Some(7200)), 120);
        assert_eq!(signal_lead(Some(120)), 30);
        assert_eq!(signal_lead(Some(8)), 5);
    }

    fn spec() -> ScriptSpec {
        ScriptSpec {
            job_name: "seds fusion".into(),
            tasks: 6,
            array_parallelism: Some(2),
            partition: Some("gpu".into()),
            gpus_per_task: Some(1),
            cpus_per_task: Some(8),
            time: Some("02:00:00".into()),
            signal_lead_s: 120,
            log_dir: "/scratch/runs/slurm/fusion/logs".into(),
            workdir: "/home/me/seds lab".into(),
            program: "/opt/seds-lab/bin/seds-lab".into(),
            map_file: "/scratch/runs/slurm/fusion/array-map.tsv".into(),
            force: false,
            extra_args: vec!["--account=proj42".into()],
        }
    }

    #[test]
    fn sbatch_script_header_and_body() {
        let s = render_script(&spec()).unwrap();
        let header: Vec<&str> = s.lines().filter(|l| l.starts_with("#SBATCH")).collect();
        assert_eq!(
            header,
            [
                "#SBATCH --job-name=seds_fusion",
                "#SBATCH --array=0-5%2",
                "#SBATCH --output=/scratch/runs/slurm/fusion/logs/%A_%a.out",
                "#SBATCH --ntasks=1",
                "#SBATCH --signal=B:USR1@120",
                "#SBATCH --partition=gpu",
                "#SBATCH --gpus-per-task=1",
                "#SBATCH --cpus-per-task=8",
                "#SBATCH --time=02:00:00",
                "#SBATCH --account=proj42",
            ]
        );
        assert!(s.starts_with("#!/bin/bash\n"));
        assert!(s.contains("cd '/home/me/seds lab' || exit 1"), "{s}");
        assert!(s.contains(
            "/opt/seds-lab/bin/seds-lab worker --array-map /scratch/runs/slurm/fusion/array-map.tsv &"
        ));
        assert!(s.contains("trap 'forward USR1' USR1"));
        assert!(s.contains("if [ \"$rc\" -eq 9 ]; then rc=0; fi"));
        assert!(!s.contains("postgres://"), "no database URL in the script");
        let forced = render_script(&ScriptSpec {
            force: true,
            ..spec()
        })
        .unwrap();
        assert!(forced.contains("--array-map /scratch/runs/slurm/fusion/array-map.tsv --force &"));
        assert_eq!(
            render_script(&ScriptSpec { tasks: 0, ..spec() }),
            Err(SlurmError::Empty)
        );
        assert!(render_script(&ScriptSpec {
            time: Some("2h".into()),
            ..spec()
        })
        .is_err());
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote("/a/b-c_d.e"), "/a/b-c_d.e");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("$(rm -rf /)"), "'$(rm -rf /)'");
    }

    #[test]
    fn sbatch_parsable_output() {
        assert_eq!(
            parse_sbatch_parsable("4242\n").unwrap(),
            Submitted {
                job_id: "4242".into(),
                cluster: None
            }
        );
        assert_eq!(
            parse_sbatch_parsable("warning: x\n17;gpu-cluster\n").unwrap(),
            Submitted {
                job_id: "17".into(),
                cluster: Some("gpu-cluster".into())
            }
        );
        for bad in ["", "\n", "Submitted batch job 5", "12a"] {
            assert!(parse_sbatch_parsable(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn squeue_output() {
        let out =
            "101_0|RUNNING|None\n101_1|COMPLETING|None\n101_[3-7%2]|PENDING|JobArrayTaskLimit\n\
                   101_2|PENDING|Resources\n102|RUNNING|None\n";
        let q = parse_squeue(out).unwrap();
        assert_eq!(q.len(), 5);
        assert_eq!(
            q[0],
            QueueEntry {
                job_id: "101".into(),
                task: Some(0),
                count: 1,
                state: "RUNNING".into(),
                reason: "None".into()
            }
        );
        assert_eq!((q[2].task, q[2].count), (None, 5));
        assert_eq!(q[4].task, None);
        assert_eq!(
            QueueSummary::of(&q),
            QueueSummary {
                pending: 6,
                running: 3,
                other: 0
            }
        );
        assert!(QueueSummary::of(&parse_squeue("").unwrap()).is_done());
        assert_eq!(range_count("1,4,6-8"), Some(5));
        assert!(parse_squeue("garbage").is_err());
        assert!(parse_squeue("x_1|RUNNING|None").is_err());
        assert!(parse_squeue("5_[a-b]|PENDING|x").is_err());
        assert_eq!(squeue_args("9"), ["-h", "-r", "-j", "9", "-o", "%i|%T|%r"]);
    }

    #[test]
    fn sqlite_is_refused_unless_same_host_is_confirmed() {
        let e = check_database(true, false, "runs/seds-lab.db")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("'runs/seds-lab.db' is SQLite")
                && e.contains("must not be shared across machines or over NFS")
                && e.contains("--slurm-same-host")
                && e.contains("postgres://"),
            "{e}"
        );
        assert!(check_database(true, true, "x.db").is_ok());
        assert!(check_database(false, false, "postgres://u:***@h/d").is_ok());
    }
}
