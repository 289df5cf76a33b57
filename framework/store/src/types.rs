//! Plain data types of the run database: statuses, typed params, and the rows returned to callers.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::error::StoreError;

/// Lifecycle state of a run. `Stale` is derived (a RUNNING run whose heartbeat is too old) and
/// never written to the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    /// Known to the plan, not started.
    Planned,
    /// Claimed by a worker that is (believed to be) alive.
    Running,
    /// Finished successfully; immutable.
    Completed,
    /// Finished with an error.
    Failed,
    /// Interrupted (Ctrl-C, SIGTERM, scheduler).
    Killed,
    /// RUNNING in the database, but the heartbeat is older than the stale threshold.
    Stale,
}

impl RunStatus {
    /// The upper-case name used in the database and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Planned => "PLANNED",
            RunStatus::Running => "RUNNING",
            RunStatus::Completed => "COMPLETED",
            RunStatus::Failed => "FAILED",
            RunStatus::Killed => "KILLED",
            RunStatus::Stale => "STALE",
        }
    }

    /// Parses a status name (case-insensitive).
    pub fn parse(s: &str) -> Result<RunStatus, StoreError> {
        match s.trim().to_ascii_uppercase().as_str() {
            "PLANNED" => Ok(RunStatus::Planned),
            "RUNNING" => Ok(RunStatus::Running),
            "COMPLETED" => Ok(RunStatus::Completed),
            "FAILED" => Ok(RunStatus::Failed),
            "KILLED" => Ok(RunStatus::Killed),
            "STALE" => Ok(RunStatus::Stale),
            _ => Err(StoreError::BadStatus(s.to_string())),
        }
    }

    /// True for the final states (COMPLETED, FAILED, KILLED).
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            RunStatus::Completed | RunStatus::Failed | RunStatus::Killed
        )
    }

    /// Derives the visible status from the stored one and the heartbeat age.
    pub fn derive(
        stored: RunStatus,
        heartbeat_at: Option<f64>,
        now: f64,
        stale_after_s: f64,
    ) -> RunStatus {
        match (stored, heartbeat_at) {
            (RunStatus::Running, Some(hb)) if now - hb > stale_after_s => RunStatus::Stale,
            (RunStatus::Running, None) => RunStatus::Stale,
            (s, _) => s,
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A typed parameter value (stored as `value_type`, `value_text`, `value_num`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// true / false (value_num 1 / 0).
    Bool(bool),
    /// Integer (value_num holds it as a float too).
    Int(i64),
    /// Float.
    Float(f64),
    /// String (value_num NULL).
    Str(String),
    /// Any other JSON value (arrays, tables), kept as JSON text.
    Json(serde_json::Value),
}

impl ParamValue {
    /// The `value_type` column value.
    pub fn type_name(&self) -> &'static str {
        match self {
            ParamValue::Bool(_) => "bool",
            ParamValue::Int(_) => "int",
            ParamValue::Float(_) => "float",
            ParamValue::Str(_) => "str",
            ParamValue::Json(_) => "json",
        }
    }

    /// The `value_text` column value (canonical text form).
    pub fn to_text(&self) -> String {
        match self {
            ParamValue::Bool(b) => b.to_string(),
            ParamValue::Int(i) => i.to_string(),
            ParamValue::Float(x) => format_float(*x),
            ParamValue::Str(s) => s.clone(),
            ParamValue::Json(v) => v.to_string(),
        }
    }

    /// The `value_num` column value (numbers and booleans; NULL otherwise).
    pub fn to_num(&self) -> Option<f64> {
        match self {
            ParamValue::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            ParamValue::Int(i) => Some(*i as f64),
            ParamValue::Float(x) => Some(*x),
            ParamValue::Str(_) | ParamValue::Json(_) => None,
        }
    }

    /// Rebuilds a value from its stored columns.
    pub fn from_columns(value_type: &str, text: &str) -> Result<ParamValue, String> {
        match value_type {
            "bool" => match text {
                "true" => Ok(ParamValue::Bool(true)),
                "false" => Ok(ParamValue::Bool(false)),
                _ => Err(format!("bool param with text '{text}'")),
            },
            "int" => text
                .parse::<i64>()
                .map(ParamValue::Int)
                .map_err(|e| format!("int param with text '{text}': {e}")),
            "float" => text
                .parse::<f64>()
                .map(ParamValue::Float)
                .map_err(|e| format!("float param with text '{text}': {e}")),
            "str" => Ok(ParamValue::Str(text.to_string())),
            "json" => serde_json::from_str(text)
                .map(ParamValue::Json)
                .map_err(|e| format!("json param with text '{text}': {e}")),
            other => Err(format!("unknown value_type '{other}'")),
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// Formats a float so that it round-trips and integers keep a `.0` (e.g. `0.4`, `1.0`, `1e-5`).
pub fn format_float(x: f64) -> String {
    if x.is_finite() && x == x.trunc() && x.abs() < 1e15 {
        format!("{x:.1}")
    } else {
        format!("{x}")
    }
}

/// One experiment (a TOML grid file that was planned at least once).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExperimentRow {
    /// Primary key.
    pub id: i64,
    /// Unique experiment name.
    pub name: String,
    /// Path of the TOML file as given.
    pub file: String,
    /// Content of the file at the last plan.
    pub content: String,
    /// SHA-256 (hex) of `content`.
    pub content_sha256: String,
    /// First seen (unix seconds).
    pub created_at: f64,
    /// Last planned (unix seconds).
    pub updated_at: f64,
}

/// Provenance columns of a run (filled when it is claimed).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Provenance {
    /// `git rev-parse HEAD` of the source tree.
    pub git_commit: Option<String>,
    /// Whether the tree had uncommitted changes.
    pub git_dirty: Option<bool>,
    /// `git diff HEAD`, capped to [`crate::provenance::GIT_DIFF_CAP`] bytes.
    pub git_diff: Option<String>,
    /// seds-lab version.
    pub version: Option<String>,
    /// SHA-256 (hex) of Cargo.lock.
    pub cargo_lock_sha256: Option<String>,
    /// Host name.
    pub host: Option<String>,
    /// CPU model name.
    pub cpu_model: Option<String>,
    /// Logical cores available to the process.
    pub cores: Option<i64>,
    /// Total memory in bytes.
    pub memory_bytes: Option<i64>,
    /// GPU names (from nvidia-smi), if any.
    pub gpu: Option<String>,
    /// Process id of the worker.
    pub pid: Option<i64>,
    /// Slurm job id (`JOBID` or `JOBID_TASK` for array jobs).
    pub slurm_job: Option<String>,
}

/// One run as stored, with its derived status.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunRow {
    /// Primary key.
    pub id: i64,
    /// Owning experiment.
    pub experiment_id: i64,
    /// Cell name within the grid.
    pub cell: String,
    /// Hash of the canonical resolved config (identity of the cell).
    pub config_hash: String,
    /// Resolved config as JSON text.
    pub config_json: String,
    /// Seed.
    pub seed: i64,
    /// Visible status (STALE derived from the heartbeat).
    pub status: RunStatus,
    /// Status as stored (never STALE).
    pub stored_status: RunStatus,
    /// Number of times the run was claimed.
    pub attempt: i64,
    /// Planned at (unix seconds).
    pub created_at: f64,
    /// Last claim (unix seconds).
    pub started_at: Option<f64>,
    /// Last sign of life (unix seconds).
    pub heartbeat_at: Option<f64>,
    /// Finished at (unix seconds).
    pub finished_at: Option<f64>,
    /// Error or kill message.
    pub message: Option<String>,
    /// Output directory of the run.
    pub run_dir: Option<String>,
    /// Where and with what it ran.
    pub provenance: Provenance,
}

/// One metric observation as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricRow {
    /// Run.
    pub run_id: i64,
    /// Metric name.
    pub name: String,
    /// Split / phase.
    pub split: String,
    /// Global step.
    pub step: i64,
    /// Epoch.
    pub epoch: i64,
    /// Value.
    pub value: f64,
    /// When it was logged (unix seconds).
    pub wall_time: f64,
    /// Claim attempt that wrote it.
    pub attempt: i64,
}

/// A file a run produced.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArtifactRow {
    /// Primary key.
    pub id: i64,
    /// Run.
    pub run_id: i64,
    /// Kind (`checkpoint`, `scores`, `log`, ...).
    pub kind: String,
    /// File path.
    pub path: String,
    /// SHA-256 (hex) of the content.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: i64,
    /// Recorded at (unix seconds).
    pub created_at: f64,
}

/// Summary of one metric's history in a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricSummary {
    /// Split.
    pub split: String,
    /// Name.
    pub name: String,
    /// Number of rows.
    pub count: i64,
    /// Smallest step.
    pub first_step: i64,
    /// Largest step.
    pub last_step: i64,
    /// Minimum value.
    pub min: f64,
    /// Maximum value.
    pub max: f64,
    /// Final value (latest attempt, largest step).
    pub last: f64,
}

/// A run with its experiment name, params and final metrics (what `list runs` and `export` show).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunSummary {
    /// The run.
    pub run: RunRow,
    /// Name of its experiment.
    pub experiment: String,
    /// Params by dotted key.
    pub params: BTreeMap<String, ParamValue>,
    /// Final metric values keyed `split.name`.
    pub finals: BTreeMap<String, f64>,
}

/// Everything about one run (`show`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunDetail {
    /// Run, params and final metrics.
    pub summary: RunSummary,
    /// Per-metric history summaries.
    pub history: Vec<MetricSummary>,
    /// Recorded artifacts.
    pub artifacts: Vec<ArtifactRow>,
    /// Path of the run log: the first artifact of kind `log`, if any.
    pub log_path: Option<String>,
}

/// Filters for [`crate::Store::list_runs`].
#[derive(Clone, Debug, Default)]
pub struct RunFilter {
    /// Only runs of this experiment (by name).
    pub experiment: Option<String>,
    /// Only runs whose visible status is one of these (empty = any).
    pub statuses: Vec<RunStatus>,
    /// A `--where` expression over params, final metrics, `status`, `cell`, `seed`.
    pub where_expr: Option<String>,
    /// Only these run ids (empty = any).
    pub run_ids: Vec<i64>,
}

/// Result of a read-only SQL query.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QueryResult {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, one JSON value per column (BLOBs as hex strings).
    pub rows: Vec<Vec<serde_json::Value>>,
}

/// Side-by-side comparison of runs (`compare`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Comparison {
    /// The compared runs, in the order asked.
    pub runs: Vec<RunSummary>,
    /// Params whose values differ (or are missing in some runs): key, value per run.
    pub differing_params: Vec<(String, Vec<Option<ParamValue>>)>,
    /// Params equal in all runs.
    pub common_params: Vec<(String, ParamValue)>,
    /// Final metrics (`split.name`), value per run.
    pub metrics: Vec<(String, Vec<Option<f64>>)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_parse_and_derive() {
        assert_eq!(RunStatus::parse("running").unwrap(), RunStatus::Running);
        assert!(RunStatus::parse("DONE").is_err());
        let d = |s, hb| RunStatus::derive(s, hb, 1000.0, 120.0);
        assert_eq!(d(RunStatus::Running, Some(900.0)), RunStatus::Running);
        assert_eq!(d(RunStatus::Running, Some(879.0)), RunStatus::Stale);
        assert_eq!(d(RunStatus::Running, None), RunStatus::Stale);
        assert_eq!(d(RunStatus::Completed, Some(0.0)), RunStatus::Completed);
    }

    #[test]
    fn params_round_trip_through_columns() {
        let values = [
            ParamValue::Bool(true),
            ParamValue::Int(-3),
            ParamValue::Float(0.4),
            ParamValue::Float(1.0),
            ParamValue::Float(1e-5),
            ParamValue::Str("cgaf".into()),
            ParamValue::Json(serde_json::json!([1, 2])),
        ];
        for v in values {
            let back = ParamValue::from_columns(v.type_name(), &v.to_text()).unwrap();
            assert_eq!(back, v);
        }
        assert_eq!(ParamValue::Float(1.0).to_text(), "1.0");
        assert_eq!(ParamValue::Bool(false).to_num(), Some(0.0));
        assert_eq!(ParamValue::Str("x".into()).to_num(), None);
        assert!(ParamValue::from_columns("int", "x").is_err());
        assert!(ParamValue::from_columns("bool", "yes").is_err());
        assert!(ParamValue::from_columns("weird", "1").is_err());
    }
}
