//! [`StoreSink`]: a blocking [`MetricSink`] over the store for the synchronous trainer thread.
//! It buffers metric rows (stamping their wall time on arrival) and writes them in one
//! transaction every N rows, when the epoch changes, when evaluation metrics (any split other
//! than `train`) arrive, on [`StoreSink::flush`] and on drop; it heartbeats on progress
//! (rate limited).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use seds_core::{ArtifactRecord, MetricRecord, MetricSink};

use crate::error::StoreError;
use crate::provenance::sha256_file;
use crate::store::{now_unix, OpenMode, Store};

/// Tuning of a [`StoreSink`].
#[derive(Clone, Debug)]
pub struct SinkOptions {
    /// Flush when this many rows are buffered.
    pub flush_every: usize,
    /// Minimum time between heartbeats sent from `progress`.
    pub heartbeat_every: Duration,
}

impl Default for SinkOptions {
    fn default() -> Self {
        SinkOptions {
            flush_every: 256,
            heartbeat_every: Duration::from_secs(10),
        }
    }
}

enum Exec {
    Own(tokio::runtime::Runtime),
    Handle(tokio::runtime::Handle),
}

impl Exec {
    fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        match self {
            Exec::Own(rt) => rt.block_on(f),
            Exec::Handle(h) => h.block_on(f),
        }
    }
}

struct SinkState {
    buffer: Vec<(MetricRecord, f64)>,
    last_epoch: Option<i64>,
    last_heartbeat: Instant,
}

/// Blocking metric sink writing to the run database for one run.
pub struct StoreSink {
    store: Store,
    exec: Exec,
    run_id: i64,
    opts: SinkOptions,
    state: Mutex<SinkState>,
}

impl StoreSink {
    /// Opens the database at `url` as a worker on a private single-thread runtime.
    /// Call from a plain thread (not from inside an async task).
    pub fn open(url: &str, run_id: i64, opts: SinkOptions) -> Result<StoreSink, StoreError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| StoreError::Io {
                path: "tokio runtime".into(),
                source,
            })?;
        let store = rt.block_on(Store::open(url, OpenMode::Worker))?;
        Ok(Self::build(store, Exec::Own(rt), run_id, opts))
    }

    /// Wraps an existing store; `handle` is the runtime it was opened on. Methods block on
    /// `handle`, so call them from a non-async thread (e.g. inside `spawn_blocking`).
    pub fn new(
        store: Store,
        handle: tokio::runtime::Handle,
        run_id: i64,
        opts: SinkOptions,
    ) -> StoreSink {
        Self::build(store, Exec::Handle(handle), run_id, opts)
    }

    fn build(store: Store, exec: Exec, run_id: i64, opts: SinkOptions) -> StoreSink {
        StoreSink {
            store,
            exec,
            run_id,
            opts,
            state: Mutex::new(SinkState {
                buffer: Vec::new(),
                last_epoch: None,
                last_heartbeat: Instant::now(),
            }),
        }
    }

    /// The run this sink writes to.
    pub fn run_id(&self) -> i64 {
        self.run_id
    }

    /// The underlying store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Rows waiting in the buffer.
    pub fn buffered(&self) -> usize {
        self.state.lock().map(|s| s.buffer.len()).unwrap_or(0)
    }

    /// Writes all buffered rows now (one transaction). On error the rows stay buffered.
    pub fn flush(&self) -> Result<(), StoreError> {
        let batch = match self.state.lock() {
            Ok(mut s) => std::mem::take(&mut s.buffer),
            Err(poisoned) => std::mem::take(&mut poisoned.into_inner().buffer),
        };
        if batch.is_empty() {
            return Ok(());
        }
        let timed: Vec<(&MetricRecord, f64)> = batch.iter().map(|(r, t)| (r, *t)).collect();
        let res = self
            .exec
            .block_on(self.store.log_metrics_at(self.run_id, &timed));
        if res.is_err() {
            if let Ok(mut s) = self.state.lock() {
                let newer = std::mem::replace(&mut s.buffer, batch);
                s.buffer.extend(newer);
            }
        } else if let Ok(mut s) = self.state.lock() {
            s.last_heartbeat = Instant::now();
        }
        res
    }

    /// Sends a heartbeat now.
    pub fn heartbeat(&self) -> Result<(), StoreError> {
        self.exec.block_on(self.store.heartbeat(self.run_id))?;
        if let Ok(mut s) = self.state.lock() {
            s.last_heartbeat = Instant::now();
        }
        Ok(())
    }
}

/// Pure flush decision: buffer size reached, a non-train split arrived, or the epoch changed.
pub fn should_flush(
    buffered: usize,
    flush_every: usize,
    last_epoch: Option<i64>,
    incoming: &[MetricRecord],
) -> bool {
    buffered >= flush_every.max(1)
        || incoming.iter().any(|r| r.split != "train")
        || incoming
            .iter()
            .any(|r| last_epoch.is_some_and(|e| r.epoch != e))
}

impl MetricSink for StoreSink {
    fn log_metrics(&self, records: &[MetricRecord]) -> Result<(), String> {
        if records.is_empty() {
            return Ok(());
        }
        let now = now_unix();
        let flush = {
            let mut s = self
                .state
                .lock()
                .map_err(|_| "metric buffer poisoned".to_string())?;
            s.buffer.extend(records.iter().map(|r| (r.clone(), now)));
            let f = should_flush(s.buffer.len(), self.opts.flush_every, s.last_epoch, records);
            s.last_epoch = records.last().map(|r| r.epoch);
            f
        };
        if flush {
            self.flush().map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn log_artifact(&self, artifact: &ArtifactRecord) -> Result<(), String> {
        let (sha, bytes) = sha256_file(&artifact.path)
            .map_err(|e| format!("artifact {}: {e}", artifact.path.display()))?;
        let path = artifact.path.display().to_string();
        self.exec
            .block_on(
                self.store
                    .log_artifact(self.run_id, &artifact.kind, &path, &sha, bytes),
            )
            .map_err(|e| e.to_string())
    }

    fn progress(&self, _epoch: usize, _epochs: usize, _step: usize, _steps: usize, _loss: f64) {
        let due = self
            .state
            .lock()
            .map(|s| s.last_heartbeat.elapsed() >= self.opts.heartbeat_every)
            .unwrap_or(false);
        if due {
            if let Err(e) = self.heartbeat() {
                eprintln!("seds-store: heartbeat of run {} failed: {e}", self.run_id);
            }
        }
    }
}

impl Drop for StoreSink {
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            eprintln!(
                "seds-store: could not flush {} buffered metric rows of run {} on drop: {e}",
                self.buffered(),
                self.run_id
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(split: &str, step: i64, epoch: i64) -> MetricRecord {
        MetricRecord {
            name: "loss".into(),
            split: split.into(),
            step,
            epoch,
            value: 1.0,
        }
    }

    #[test]
    fn flush_decisions() {
        assert!(!should_flush(3, 4, Some(0), &[rec("train", 3, 0)]));
        assert!(should_flush(4, 4, Some(0), &[rec("train", 4, 0)]));
        assert!(should_flush(1, 4, Some(0), &[rec("dev", 4, 0)]));
        assert!(should_flush(1, 4, Some(0), &[rec("train", 5, 1)]));
        assert!(!should_flush(1, 4, None, &[rec("train", 0, 0)]));
    }
}
