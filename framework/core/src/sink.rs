//! The metric-sink interface: how training code reports what it measures.
//!
//! The trainer (seds-model) logs through [`MetricSink`]; the worker process implements it on
//! top of the run database, tests use [`MemorySink`]. Keeping this trait here means the
//! dfdx-heavy crates never link the database.

use std::path::PathBuf;
use std::sync::Mutex;

/// One metric observation.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricRecord {
    /// Metric name, e.g. `loss_total`, `t2v_r1`.
    pub name: String,
    /// Split or phase: `train`, `dev`, `test`, `test_best` (best-on-test, for comparison only).
    pub split: String,
    /// Global optimisation step at which it was measured.
    pub step: i64,
    /// Epoch (0-based) at which it was measured.
    pub epoch: i64,
    /// The value.
    pub value: f64,
}

/// A file the run produced.
#[derive(Clone, Debug, PartialEq)]
pub struct ArtifactRecord {
    /// Kind, e.g. `checkpoint`, `scores`, `embeddings`, `log`.
    pub kind: String,
    /// Path of the file.
    pub path: PathBuf,
}

/// Receives metrics, artifacts and progress from a training run.
///
/// Implementations must be cheap to call per step; batching is their business.
pub trait MetricSink: Send + Sync {
    /// Records metric observations (append-only; replaying the same (name, split, step) is allowed).
    fn log_metrics(&self, records: &[MetricRecord]) -> Result<(), String>;
    /// Records a produced file.
    fn log_artifact(&self, artifact: &ArtifactRecord) -> Result<(), String>;
    /// Reports progress for live displays and heartbeats (never stored as a metric).
    fn progress(
        &self,
        _epoch: usize,
        _epochs: usize,
        _step: usize,
        _steps_per_epoch: usize,
        _loss: f64,
    ) {
    }
}

/// A sink that keeps everything in memory (tests, benchmarks).
#[derive(Default)]
pub struct MemorySink {
    /// Every metric logged, in order.
    pub metrics: Mutex<Vec<MetricRecord>>,
    /// Every artifact logged, in order.
    pub artifacts: Mutex<Vec<ArtifactRecord>>,
}

impl MemorySink {
    /// Values of one metric on one split, in logging order.
    pub fn series(&self, name: &str, split: &str) -> Vec<f64> {
        self.metrics
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.name == name && m.split == split)
            .map(|m| m.value)
            .collect()
    }
}

impl MetricSink for MemorySink {
    fn log_metrics(&self, records: &[MetricRecord]) -> Result<(), String> {
        self.metrics.lock().unwrap().extend_from_slice(records);
        Ok(())
    }
    fn log_artifact(&self, artifact: &ArtifactRecord) -> Result<(), String> {
        self.artifacts.lock().unwrap().push(artifact.clone());
        Ok(())
    }
}

/// A sink that drops everything.
pub struct NullSink;

impl MetricSink for NullSink {
    fn log_metrics(&self, _records: &[MetricRecord]) -> Result<(), String> {
        Ok(())
    }
    fn log_artifact(&self, _artifact: &ArtifactRecord) -> Result<(), String> {
        Ok(())
    }
}
