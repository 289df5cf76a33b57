//! Several worker PROCESSES writing to one database at once: no "database is locked", every
//! contested claim won exactly once (no cell ever runs twice), every metric row stored.
//! Runs on SQLite and on PostgreSQL (`SEDS_TEST_PG_URL`; skipped with a message when unset).
//!
//! The test binary re-runs itself as the children: with `SEDS_STORE_CHILD=<index>` set, the
//! test named by `--exact` acts as one writer instead of as the parent.

#[macro_use]
mod common;

use std::process::Command;

use common::Db;

use seds_core::MetricRecord;
use seds_store::*;

const CHILDREN: usize = 4;
const CONTESTED: i64 = 8;
const BATCHES: i64 = 60;
const ROWS: i64 = 40;

async fn child(url: &str, index: usize) {
    let store = Store::open(url, OpenMode::Worker)
        .await
        .expect("child open");
    let exp = store
        .experiment_by_name("conc")
        .await
        .unwrap()
        .expect("experiment");
    let runs = store.runs_of_experiment(exp.id).await.unwrap();
    let p = Provenance {
        pid: Some(std::process::id() as i64),
        ..Default::default()
    };
    // Own run (cell own-<index>): guaranteed concurrent metric writers.
    let own = runs
        .iter()
        .find(|r| r.cell == format!("own-{index}"))
        .expect("own run");
    assert!(store.claim_run(own.id, &p, "d", false).await.unwrap());
    let contested: Vec<i64> = runs
        .iter()
        .filter(|r| r.cell.starts_with("contested"))
        .map(|r| r.id)
        .collect();
    let mut wins = Vec::new();
    for b in 0..BATCHES {
        // Claims are interleaved with the metric writes of the other processes.
        if let Some(id) = contested.get(b as usize) {
            if store.claim_run(*id, &p, "d", false).await.unwrap() {
                wins.push(*id);
            }
        }
        let batch: Vec<MetricRecord> = (0..ROWS)
            .map(|i| MetricRecord {
                name: "loss".into(),
                split: "train".into(),
                step: b * ROWS + i,
                epoch: b,
                value: (b * ROWS + i) as f64,
            })
            .collect();
        store
            .log_metrics(own.id, &batch)
            .await
            .expect("log_metrics");
        store.heartbeat(own.id).await.expect("heartbeat");
    }
    for id in &wins {
        store
            .log_metrics(
                *id,
                &[MetricRecord {
                    name: "won".into(),
                    split: "test".into(),
                    step: 0,
                    epoch: 0,
                    value: index as f64,
                }],
            )
            .await
            .expect("log won");
        store
            .finish_run(*id, RunStatus::Completed, None)
            .await
            .expect("finish won");
    }
    store
        .finish_run(own.id, RunStatus::Completed, None)
        .await
        .expect("finish own");
    println!("CHILD {index} WINS {}", wins.len());
}

/// In a child process: act as writer `SEDS_STORE_CHILD` and return true.
async fn run_as_child() -> bool {
    let Ok(index) = std::env::var("SEDS_STORE_CHILD") else {
        return false;
    };
    let url = std::env::var("SEDS_STORE_CHILD_DB").expect("child db url");
    child(&url, index.parse().expect("child index")).await;
    true
}

#[tokio::test]
async fn concurrent_writer_processes_sqlite() {
    if run_as_child().await {
        return;
    }
    parent(&Db::sqlite(), "concurrent_writer_processes_sqlite").await;
}

#[tokio::test]
async fn concurrent_writer_processes_postgres() {
    if run_as_child().await {
        return;
    }
    let Some(db) = Db::postgres("concurrent_writer_processes_postgres").await else {
        return;
    };
    parent(&db, "concurrent_writer_processes_postgres").await;
    db.cleanup().await;
}

async fn parent(db: &Db, test_name: &str) {
    let url = db.url.clone();
    let store = Store::open(&url, OpenMode::Coordinator).await.unwrap();
    let exp = store
        .upsert_experiment("conc", "conc.toml", "")
        .await
        .unwrap();
    for i in 0..CHILDREN {
        store
            .ensure_run(exp, &format!("own-{i}"), &format!("own{i}"), "{}", 0, &[])
            .await
            .unwrap();
    }
    for i in 0..CONTESTED {
        store
            .ensure_run(
                exp,
                &format!("contested-{i}"),
                &format!("c{i}"),
                "{}",
                i,
                &[],
            )
            .await
            .unwrap();
    }
    let exe = std::env::current_exe().unwrap();
    let kids: Vec<_> = (0..CHILDREN)
        .map(|i| {
            Command::new(&exe)
                .args(["--exact", test_name, "--nocapture", "--test-threads", "1"])
                .env("SEDS_STORE_CHILD", i.to_string())
                .env("SEDS_STORE_CHILD_DB", &url)
                .output_async_spawn()
        })
        .collect();
    let mut total_wins = 0;
    for (i, kid) in kids.into_iter().enumerate() {
        let out = kid.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "child {i} failed:\n{stdout}\n{stderr}"
        );
        assert!(!stdout.contains("database is locked") && !stderr.contains("database is locked"));
        let line = stdout
            .lines()
            .find_map(|l| l.split_once(&format!("CHILD {i} WINS ")).map(|(_, n)| n))
            .unwrap_or_else(|| panic!("child {i} output:\n{stdout}"));
        total_wins += line.trim().parse::<i64>().unwrap();
    }
    assert_eq!(
        total_wins, CONTESTED,
        "each contested run claimed exactly once"
    );
    let runs = store.list_runs(&RunFilter::default()).await.unwrap();
    assert!(runs
        .iter()
        .all(|r| r.run.status == RunStatus::Completed && r.run.attempt == 1));
    let q = store
        .query_readonly("SELECT COUNT(*), COUNT(DISTINCT run_id) FROM metrics WHERE name = 'loss'")
        .await
        .unwrap();
    assert_eq!(
        q.rows[0],
        vec![
            serde_json::json!(CHILDREN as i64 * BATCHES * ROWS),
            serde_json::json!(CHILDREN)
        ]
    );
    let won = store
        .query_readonly("SELECT COUNT(*) FROM metrics WHERE name = 'won'")
        .await
        .unwrap();
    assert_eq!(won.rows[0][0], serde_json::json!(CONTESTED));
    for r in runs.iter().filter(|r| r.run.cell.starts_with("own")) {
        assert_eq!(r.finals["train.loss"], (BATCHES * ROWS - 1) as f64);
    }
}

trait SpawnPiped {
    fn output_async_spawn(&mut self) -> std::process::Child;
}

impl SpawnPiped for Command {
    fn output_async_spawn(&mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn child test process")
    }
}
