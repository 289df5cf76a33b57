//! `[executor]`: how an experiment's runs are executed (local process pool or Slurm).
//! The executors themselves live in seds-exec; this is only the typed, validated settings.

use serde::{Deserialize, Serialize};

/// Executor kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExecutorKind {
    /// Child processes on this machine.
    Local,
    /// A Slurm array job (one task per run).
    Slurm,
}

/// `[executor]` section of an experiment file (not part of any run's identity).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExecutorConfig {
    /// Which executor runs the cells.
    pub kind: ExecutorKind,
    /// Runs executed at the same time (local executor).
    pub jobs: usize,
    /// Stop launching new runs after the first failure.
    pub fail_fast: bool,
    /// Slurm partition (`--partition`).
    pub partition: Option<String>,
    /// GPUs per Slurm task (`--gpus-per-task`).
    pub gpus_per_task: Option<u32>,
    /// Slurm time limit per task (`--time`, e.g. "02:00:00").
    pub time: Option<String>,
    /// Maximum simultaneously running array tasks (`--array=...%N`).
    pub array_parallelism: Option<usize>,
    /// Extra arguments passed verbatim to `sbatch`.
    pub extra_args: Vec<String>,
}

impl Default for ExecutorConfig {
    fn default() -> Self {
        ExecutorConfig {
            kind: ExecutorKind::Local,
            jobs: 1,
            fail_fast: false,
            partition: None,
            gpus_per_task: None,
            time: None,
            array_parallelism: None,
            extra_args: Vec::new(),
        }
    }
}
