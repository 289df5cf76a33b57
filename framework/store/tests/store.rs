//! Integration tests of the run database: migrations, version refusal, the run state machine
//! (claims, STALE, mark_killed), metric replay, queries and the sink.
//!
//! ONE suite, TWO backends: every body below runs on a fresh SQLite file (`<test>::sqlite`)
//! and on a fresh PostgreSQL schema (`<test>::postgres`, skipped with a message when
//! `SEDS_TEST_PG_URL` is unset). Only the few assertions about engine internals (SQLite's
//! `PRAGMA`s, catalog tables, literal syntax) branch on the dialect.

#[macro_use]
mod common;

use std::time::Duration;

use common::Db;
use seds_core::{ArtifactRecord, MetricRecord, MetricSink};
use seds_store::*;

fn m(name: &str, split: &str, step: i64, value: f64) -> MetricRecord {
    MetricRecord {
        name: name.into(),
        split: split.into(),
        step,
        epoch: step / 10,
        value,
    }
}

fn params(alpha: f64, fusion: &str) -> Vec<(String, ParamValue)> {
    vec![
        ("loss.alpha".into(), ParamValue::Float(alpha)),
        ("model.fusion".into(), ParamValue::Str(fusion.into())),
        ("train.epochs".into(), ParamValue::Int(3)),
        ("model.use_clcl".into(), ParamValue::Bool(true)),
    ]
}

async fn setup(db: &Db) -> (Store, i64) {
    let store = Store::open(&db.url, OpenMode::Coordinator).await.unwrap();
    let exp = store
        .upsert_experiment("exp1", "exp1.toml", "[grid]\n")
        .await
        .unwrap();
    (store, exp)
}

dual_test!(
    migrations_from_empty_create_every_table_in_wal_mode,
    migrations_from_empty_create_every_table_in_wal_mode
);
async fn migrations_from_empty_create_every_table_in_wal_mode(db: &Db) {
    let (store, _) = setup(db).await;
    assert_eq!(
        store.schema_version().await.unwrap(),
        migrations::latest_version()
    );
    let tables_sql = match db.dialect {
        Dialect::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
        Dialect::Postgres => {
            "SELECT table_name AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() ORDER BY name"
        }
    };
    let q = store.query_readonly(tables_sql).await.unwrap();
    let names: Vec<String> = q
        .rows
        .iter()
        .map(|r| r[0].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "artifacts",
            "experiments",
            "metric_finals",
            "metrics",
            "params",
            "runs",
            "schema_migrations"
        ]
    );
    if db.dialect == Dialect::Sqlite {
        let jm = store.query_readonly("PRAGMA journal_mode").await.unwrap();
        assert_eq!(jm.rows[0][0], serde_json::json!("wal"));
        let uv = store.query_readonly("PRAGMA user_version").await.unwrap();
        assert_eq!(
            uv.rows[0][0],
            serde_json::json!(migrations::latest_version())
        );
    } else {
        // Same columns, PostgreSQL types: 64-bit integers, double precision, boolean.
        let types = store
            .query_readonly(
                "SELECT column_name, data_type FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = 'runs' \
                 AND column_name IN ('id', 'heartbeat_at', 'git_dirty', 'memory_bytes') \
                 ORDER BY column_name",
            )
            .await
            .unwrap();
        assert_eq!(
            types.rows,
            vec![
                vec![serde_json::json!("git_dirty"), serde_json::json!("boolean")],
                vec![
                    serde_json::json!("heartbeat_at"),
                    serde_json::json!("double precision")
                ],
                vec![serde_json::json!("id"), serde_json::json!("bigint")],
                vec![
                    serde_json::json!("memory_bytes"),
                    serde_json::json!("bigint")
                ],
            ]
        );
    }
    // Re-opening as coordinator is a no-op; workers and readers open it.
    Store::open(&db.url, OpenMode::Coordinator).await.unwrap();
    Store::open(&db.url, OpenMode::Worker).await.unwrap();
    Store::open(&db.url, OpenMode::ReadOnly).await.unwrap();
    let applied = store
        .query_readonly("SELECT version, name FROM schema_migrations")
        .await
        .unwrap();
    assert_eq!(
        applied.rows,
        vec![vec![serde_json::json!(1), serde_json::json!("initial")]]
    );
}

dual_test!(
    worker_and_reader_refuse_a_missing_or_unmigrated_database,
    worker_and_reader_refuse_a_missing_or_unmigrated_database
);
async fn worker_and_reader_refuse_a_missing_or_unmigrated_database(db: &Db) {
    // Nothing there yet (no SQLite file / an empty PostgreSQL schema): Missing, nothing created.
    for mode in [OpenMode::Worker, OpenMode::ReadOnly] {
        let err = Store::open(&db.url, mode).await.unwrap_err();
        assert!(matches!(err, StoreError::Missing { .. }), "{mode:?}: {err}");
        assert!(err.to_string().contains("seds-lab run"), "{err}");
    }
    let file = db.dir.path().join("sub/seds-lab.db");
    assert!(!file.exists());
    // A database that is not (yet) a seds-lab database: version 0.
    match db.dialect {
        Dialect::Sqlite => {
            std::fs::create_dir_all(db.dir.path().join("sub")).unwrap();
            std::fs::write(&file, b"").unwrap();
        }
        Dialect::Postgres => {
            db.exec_raw("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)").await;
        }
    }
    let err = Store::open(&db.url, OpenMode::ReadOnly).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::SchemaTooOld {
                found: 0,
                expected: 1,
                ..
            }
        ),
        "{err}"
    );
}

dual_test!(
    a_database_from_a_newer_binary_is_refused,
    a_database_from_a_newer_binary_is_refused
);
async fn a_database_from_a_newer_binary_is_refused(db: &Db) {
    let (store, _) = setup(db).await;
    store.close().await;
    db.exec_raw(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', 0)",
    )
    .await;
    for mode in [OpenMode::Coordinator, OpenMode::Worker, OpenMode::ReadOnly] {
        let err = Store::open(&db.url, mode).await.unwrap_err();
        match &err {
            StoreError::SchemaTooNew {
                found, supported, ..
            } => {
                assert_eq!((*found, *supported), (99, 1));
            }
            other => panic!("{mode:?}: expected SchemaTooNew, got {other}"),
        }
        let msg = err.to_string();
        assert!(
            msg.contains("newer seds-lab") && msg.contains("version 99"),
            "{msg}"
        );
    }
}

/// SQLite only: `PRAGMA user_version` has no PostgreSQL counterpart.
#[tokio::test]
async fn a_future_user_version_alone_is_also_refused_sqlite() {
    a_future_user_version_alone_is_also_refused(&Db::sqlite()).await;
}
async fn a_future_user_version_alone_is_also_refused(db: &Db) {
    let (store, _) = setup(db).await;
    store.close().await;
    db.exec_raw("PRAGMA user_version = 7").await;
    let err = Store::open(&db.url, OpenMode::Worker).await.unwrap_err();
    assert!(
        matches!(err, StoreError::SchemaTooNew { found: 7, .. }),
        "{err}"
    );
}

dual_test!(
    ensure_run_is_idempotent_and_stores_typed_params,
    ensure_run_is_idempotent_and_stores_typed_params
);
async fn ensure_run_is_idempotent_and_stores_typed_params(db: &Db) {
    let (store, exp) = setup(db).await;
    let a = store
        .ensure_run(exp, "a", "h1", "{\"x\":1}", 7, &params(0.4, "cgaf"))
        .await
        .unwrap();
    let b = store
        .ensure_run(exp, "a-renamed", "h1", "{}", 9, &params(0.9, "x"))
        .await
        .unwrap();
    assert_eq!(a.id, b.id);
    assert_eq!(b.cell, "a");
    assert_eq!(b.seed, 7);
    assert_eq!(a.status, RunStatus::Planned);
    assert_eq!(a.attempt, 0);
    let q = store
        .query_readonly("SELECT key, value_type, value_text, value_num FROM params ORDER BY key")
        .await
        .unwrap();
    assert_eq!(q.columns, ["key", "value_type", "value_text", "value_num"]);
    assert_eq!(
        q.rows,
        vec![
            vec![
                "loss.alpha".into(),
                "float".into(),
                "0.4".into(),
                serde_json::json!(0.4)
            ],
            vec![
                "model.fusion".into(),
                "str".into(),
                "cgaf".into(),
                serde_json::Value::Null
            ],
            vec![
                "model.use_clcl".into(),
                "bool".into(),
                "true".into(),
                serde_json::json!(1.0)
            ],
            vec![
                "train.epochs".into(),
                "int".into(),
                "3".into(),
                serde_json::json!(3.0)
            ],
        ]
    );
    let runs = store.runs_of_experiment(exp).await.unwrap();
    assert_eq!(runs.len(), 1);
    let e = store.experiment_by_name("exp1").await.unwrap().unwrap();
    assert_eq!(e.content_sha256, sha256_hex(b"[grid]\n"));
    assert!(store.experiment_by_name("nope").await.unwrap().is_none());
    let again = store
        .upsert_experiment("exp1", "moved.toml", "new")
        .await
        .unwrap();
    assert_eq!(again, exp);
    assert_eq!(
        store.list_experiments().await.unwrap()[0].file,
        "moved.toml"
    );
}

dual_test!(
    claims_follow_the_state_machine,
    claims_follow_the_state_machine
);
async fn claims_follow_the_state_machine(db: &Db) {
    let (store, exp) = setup(db).await;
    let r = store
        .ensure_run(exp, "a", "h1", "{}", 1, &[])
        .await
        .unwrap();
    let prov = Provenance {
        git_commit: Some("abc".into()),
        git_dirty: Some(true),
        cores: Some(2),
        ..Default::default()
    };
    assert!(store
        .claim_run(r.id, &prov, "runs/exp1/a", false)
        .await
        .unwrap());
    assert!(!store
        .claim_run(r.id, &prov, "runs/exp1/a", false)
        .await
        .unwrap());
    let run = store.run(r.id).await.unwrap();
    assert_eq!((run.status, run.attempt), (RunStatus::Running, 1));
    assert_eq!(run.provenance.git_commit.as_deref(), Some("abc"));
    assert_eq!(run.provenance.git_dirty, Some(true));
    assert_eq!(run.run_dir.as_deref(), Some("runs/exp1/a"));
    store
        .finish_run(r.id, RunStatus::Completed, None)
        .await
        .unwrap();
    // Completed runs are immutable: no second finish, no claim without force.
    let err = store
        .finish_run(r.id, RunStatus::Failed, Some("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::InvalidTransition { ref from, .. } if from == "COMPLETED"),
        "{err}"
    );
    assert!(!store.claim_run(r.id, &prov, "d", false).await.unwrap());
    assert!(store.claim_run(r.id, &prov, "d", true).await.unwrap());
    assert_eq!(store.run(r.id).await.unwrap().attempt, 2);
    store
        .finish_run(r.id, RunStatus::Failed, Some("boom"))
        .await
        .unwrap();
    let run = store.run(r.id).await.unwrap();
    assert_eq!(
        (run.status, run.message.as_deref()),
        (RunStatus::Failed, Some("boom"))
    );
    assert!(run.finished_at.is_some());
    // FAILED runs can be re-claimed.
    assert!(store.claim_run(r.id, &prov, "d", false).await.unwrap());
    assert!(store.run(r.id).await.unwrap().message.is_none());
    assert!(matches!(
        store.claim_run(999, &prov, "d", false).await,
        Err(StoreError::NoSuchRun(999))
    ));
    let err = store
        .finish_run(r.id, RunStatus::Planned, None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidTransition { .. }));
}

dual_test!(
    two_concurrent_claims_exactly_one_wins,
    two_concurrent_claims_exactly_one_wins
);
async fn two_concurrent_claims_exactly_one_wins(db: &Db) {
    let (store, exp) = setup(db).await;
    let other = Store::open(&db.url, OpenMode::Worker).await.unwrap();
    for i in 0..10 {
        let r = store
            .ensure_run(exp, "c", &format!("h{i}"), "{}", i, &[])
            .await
            .unwrap();
        let p = Provenance::default();
        let (a, b) = tokio::join!(
            store.claim_run(r.id, &p, "x", false),
            other.claim_run(r.id, &p, "y", false)
        );
        assert_eq!(
            u8::from(a.unwrap()) + u8::from(b.unwrap()),
            1,
            "run {}",
            r.id
        );
    }
}

dual_test!(
    stale_is_derived_from_an_old_heartbeat_and_reclaimable,
    stale_is_derived_from_an_old_heartbeat_and_reclaimable
);
async fn stale_is_derived_from_an_old_heartbeat_and_reclaimable(db: &Db) {
    let (store, exp) = setup(db).await;
    let r = store
        .ensure_run(exp, "a", "h1", "{}", 1, &[])
        .await
        .unwrap();
    assert!(store
        .claim_run(r.id, &Provenance::default(), "d", false)
        .await
        .unwrap());
    assert_eq!(store.run(r.id).await.unwrap().status, RunStatus::Running);
    db.exec_raw(&format!(
        "UPDATE runs SET heartbeat_at = heartbeat_at - 1000 WHERE id = {}",
        r.id
    ))
    .await;
    let run = store.run(r.id).await.unwrap();
    assert_eq!(
        (run.status, run.stored_status),
        (RunStatus::Stale, RunStatus::Running)
    );
    // Never written: the column still says RUNNING.
    let q = store
        .query_readonly("SELECT status FROM runs")
        .await
        .unwrap();
    assert_eq!(q.rows[0][0], serde_json::json!("RUNNING"));
    let stale = store
        .list_runs(&RunFilter {
            statuses: vec![RunStatus::Stale],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(stale.len(), 1);
    let running = store
        .list_runs(&RunFilter {
            statuses: vec![RunStatus::Running],
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(running.is_empty());
    // A longer threshold makes it RUNNING again; a heartbeat refreshes it.
    let patient = store.clone().with_stale_after(Duration::from_secs(5000));
    assert_eq!(patient.run(r.id).await.unwrap().status, RunStatus::Running);
    store.heartbeat(r.id).await.unwrap();
    assert_eq!(store.run(r.id).await.unwrap().status, RunStatus::Running);
    // Stale runs can be claimed by another worker.
    db.exec_raw(&format!(
        "UPDATE runs SET heartbeat_at = heartbeat_at - 1000 WHERE id = {}",
        r.id
    ))
    .await;
    assert!(store
        .claim_run(r.id, &Provenance::default(), "d", false)
        .await
        .unwrap());
    assert_eq!(store.run(r.id).await.unwrap().attempt, 2);
}

dual_test!(
    mark_killed_touches_only_running_runs,
    mark_killed_touches_only_running_runs
);
async fn mark_killed_touches_only_running_runs(db: &Db) {
    let (store, exp) = setup(db).await;
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(
            store
                .ensure_run(exp, "c", &format!("h{i}"), "{}", i, &[])
                .await
                .unwrap()
                .id,
        );
    }
    let p = Provenance::default();
    for id in &ids[..3] {
        assert!(store.claim_run(*id, &p, "d", false).await.unwrap());
    }
    store
        .finish_run(ids[2], RunStatus::Completed, None)
        .await
        .unwrap();
    let n = store.mark_killed(&ids, "SIGTERM").await.unwrap();
    assert_eq!(n, 2);
    let statuses: Vec<RunStatus> = {
        let mut v = Vec::new();
        for id in &ids {
            v.push(store.run(*id).await.unwrap().status);
        }
        v
    };
    assert_eq!(
        statuses,
        [
            RunStatus::Killed,
            RunStatus::Killed,
            RunStatus::Completed,
            RunStatus::Planned
        ]
    );
    let k = store.run(ids[0]).await.unwrap();
    assert_eq!(k.message.as_deref(), Some("SIGTERM"));
    assert!(k.finished_at.is_some());
    assert_eq!(store.mark_killed(&ids, "again").await.unwrap(), 0);
    // A late finish from the killed worker is refused; KILLED runs are re-claimable.
    assert!(store
        .finish_run(ids[0], RunStatus::Completed, None)
        .await
        .is_err());
    assert!(store.claim_run(ids[0], &p, "d", false).await.unwrap());
}

dual_test!(
    metric_replay_is_idempotent_and_a_new_attempt_overwrites,
    metric_replay_is_idempotent_and_a_new_attempt_overwrites
);
async fn metric_replay_is_idempotent_and_a_new_attempt_overwrites(db: &Db) {
    let (store, exp) = setup(db).await;
    let r = store
        .ensure_run(exp, "a", "h1", "{}", 1, &[])
        .await
        .unwrap();
    let p = Provenance::default();
    assert!(store.claim_run(r.id, &p, "d", false).await.unwrap());
    let batch: Vec<MetricRecord> = (0..5)
        .map(|s| m("loss", "train", s, 10.0 - s as f64))
        .collect();
    store.log_metrics(r.id, &batch).await.unwrap();
    let before = store.metric_history(r.id, None, None).await.unwrap();
    // Replaying the same steps (even with other values) changes nothing within one attempt.
    let replay: Vec<MetricRecord> = (0..5).map(|s| m("loss", "train", s, 99.0)).collect();
    store.log_metrics(r.id, &replay).await.unwrap();
    store.log_metrics(r.id, &batch).await.unwrap();
    let after = store.metric_history(r.id, None, None).await.unwrap();
    assert_eq!(after.len(), 5);
    assert_eq!(
        after.iter().map(|r| r.value).collect::<Vec<_>>(),
        before.iter().map(|r| r.value).collect::<Vec<_>>()
    );
    let s = &store.list_runs(&RunFilter::default()).await.unwrap()[0];
    assert_eq!(s.finals.get("train.loss"), Some(&6.0));
    // A duplicate key inside one batch: first wins.
    store
        .log_metrics(r.id, &[m("acc", "dev", 7, 1.0), m("acc", "dev", 7, 2.0)])
        .await
        .unwrap();
    assert_eq!(
        store
            .metric_history(r.id, Some("acc"), Some("dev"))
            .await
            .unwrap()[0]
            .value,
        1.0
    );
    // An older step does not move the final value.
    store
        .log_metrics(r.id, &[m("loss", "train", 2, 5.0)])
        .await
        .unwrap();
    assert_eq!(
        store.list_runs(&RunFilter::default()).await.unwrap()[0].finals["train.loss"],
        6.0
    );
    // A new attempt (after a failure) replaces values at the steps it reaches, and its
    // final value wins even at a smaller step.
    store
        .finish_run(r.id, RunStatus::Failed, Some("oom"))
        .await
        .unwrap();
    assert!(store.claim_run(r.id, &p, "d", false).await.unwrap());
    store
        .log_metrics(
            r.id,
            &[m("loss", "train", 0, 50.0), m("loss", "train", 1, 40.0)],
        )
        .await
        .unwrap();
    let h = store
        .metric_history(r.id, Some("loss"), Some("train"))
        .await
        .unwrap();
    assert_eq!(
        h.iter()
            .map(|r| (r.step, r.value, r.attempt))
            .collect::<Vec<_>>(),
        [
            (0, 50.0, 2),
            (1, 40.0, 2),
            (2, 8.0, 1),
            (3, 7.0, 1),
            (4, 6.0, 1)
        ]
    );
    assert_eq!(
        store.list_runs(&RunFilter::default()).await.unwrap()[0].finals["train.loss"],
        40.0
    );
    // Finished runs are immutable.
    store
        .finish_run(r.id, RunStatus::Completed, None)
        .await
        .unwrap();
    assert!(matches!(
        store.log_metrics(r.id, &batch).await,
        Err(StoreError::InvalidTransition { .. })
    ));
    assert!(matches!(
        store.log_metrics(4242, &batch).await,
        Err(StoreError::NoSuchRun(4242))
    ));
}

dual_test!(
    a_completed_run_is_reused_by_another_experiment_with_the_same_config,
    a_completed_run_is_reused_by_another_experiment_with_the_same_config
);
async fn a_completed_run_is_reused_by_another_experiment_with_the_same_config(db: &Db) {
    let (store, exp_a) = setup(db).await;
    let exp_b = store
        .upsert_experiment("exp2", "exp2.toml", "")
        .await
        .unwrap();
    let src = store
        .ensure_run(exp_a, "ref", "h1", "{}", 1, &[])
        .await
        .unwrap();
    let p = Provenance {
        host: Some("box".into()),
        git_commit: Some("abc".into()),
        ..Default::default()
    };
    // Nothing to reuse while the source has not completed.
    assert!(store
        .completed_run_elsewhere("h1", exp_b)
        .await
        .unwrap()
        .is_none());
    assert!(store.claim_run(src.id, &p, "runs/1", false).await.unwrap());
    store
        .log_metrics(
            src.id,
            &[m("loss", "train", 0, 3.0), m("t2v_r1", "test", 9, 42.0)],
        )
        .await
        .unwrap();
    store
        .finish_run(src.id, RunStatus::Completed, None)
        .await
        .unwrap();

    let other = store
        .ensure_run(exp_b, "same", "h1", "{}", 1, &[])
        .await
        .unwrap();
    let different = store
        .ensure_run(exp_b, "other", "h2", "{}", 1, &[])
        .await
        .unwrap();
    let found = store
        .completed_run_elsewhere("h1", exp_b)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, src.id);
    // An experiment never reuses its own runs, and an unknown config has nothing to reuse.
    assert!(store
        .completed_run_elsewhere("h1", exp_a)
        .await
        .unwrap()
        .is_none());
    assert!(store
        .completed_run_elsewhere("h2", exp_b)
        .await
        .unwrap()
        .is_none());
    // A different configuration cannot take the source's results.
    assert!(!store
        .reuse_completed_run(different.id, src.id)
        .await
        .unwrap());
    assert_eq!(
        store.run(different.id).await.unwrap().status,
        RunStatus::Planned
    );

    assert!(store.reuse_completed_run(other.id, src.id).await.unwrap());
    let r = store.run(other.id).await.unwrap();
    assert_eq!(r.status, RunStatus::Completed);
    assert_eq!(r.run_dir.as_deref(), Some("runs/1"));
    assert_eq!(r.provenance.host.as_deref(), Some("box"));
    assert!(r.message.unwrap().contains(&format!("run {}", src.id)));
    let h = store.metric_history(other.id, None, None).await.unwrap();
    assert_eq!(h.len(), 2);
    let s = store
        .list_runs(&RunFilter {
            experiment: Some("exp2".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let reused = s.iter().find(|x| x.run.id == other.id).unwrap();
    assert_eq!(reused.finals.get("test.t2v_r1"), Some(&42.0));
    // A second reuse of an already completed run changes nothing.
    assert!(!store.reuse_completed_run(other.id, src.id).await.unwrap());
    assert_eq!(
        store
            .metric_history(other.id, None, None)
            .await
            .unwrap()
            .len(),
        2
    );
}

dual_test!(
    large_batches_span_several_insert_statements,
    large_batches_span_several_insert_statements
);
async fn large_batches_span_several_insert_statements(db: &Db) {
    let (store, exp) = setup(db).await;
    let r = store
        .ensure_run(exp, "a", "h1", "{}", 1, &[])
        .await
        .unwrap();
    assert!(store
        .claim_run(r.id, &Provenance::default(), "d", false)
        .await
        .unwrap());
    let batch: Vec<MetricRecord> = (0..1234).map(|s| m("loss", "train", s, s as f64)).collect();
    store.log_metrics(r.id, &batch).await.unwrap();
    let q = store
        .query_readonly("SELECT COUNT(*), SUM(value) FROM metrics")
        .await
        .unwrap();
    assert_eq!(
        q.rows[0],
        vec![
            serde_json::json!(1234),
            serde_json::json!(1233.0 * 1234.0 / 2.0)
        ]
    );
    assert_eq!(
        store.list_runs(&RunFilter::default()).await.unwrap()[0].finals["train.loss"],
        1233.0
    );
}

async fn three_runs(store: &Store, exp: i64) -> Vec<i64> {
    let mut ids = Vec::new();
    for (i, (alpha, fusion, r1)) in [
        (0.2, "cgaf", 60.0),
        (0.4, "cgaf", 55.0),
        (0.6, "concat", 40.0),
    ]
    .into_iter()
    .enumerate()
    {
        let r = store
            .ensure_run(
                exp,
                &format!("alpha={alpha}"),
                &format!("h{i}"),
                "{}",
                i as i64,
                &params(alpha, fusion),
            )
            .await
            .unwrap();
        assert!(store
            .claim_run(r.id, &Provenance::default(), "d", false)
            .await
            .unwrap());
        store
            .log_metrics(
                r.id,
                &[
                    m("t2v_r1", "test", 10, r1 - 5.0),
                    m("t2v_r1", "test", 20, r1),
                ],
            )
            .await
            .unwrap();
        if i < 2 {
            store
                .finish_run(r.id, RunStatus::Completed, None)
                .await
                .unwrap();
        }
        ids.push(r.id);
    }
    ids
}

dual_test!(
    list_runs_filters_with_where_expressions,
    list_runs_filters_with_where_expressions
);
async fn list_runs_filters_with_where_expressions(db: &Db) {
    let (store, exp) = setup(db).await;
    let ids = three_runs(&store, exp).await;
    let ids_of = |v: Vec<RunSummary>| v.iter().map(|s| s.run.id).collect::<Vec<_>>();
    let w = |e: &str| RunFilter {
        where_expr: Some(e.into()),
        ..Default::default()
    };
    assert_eq!(
        ids_of(
            store
                .list_runs(&w("loss.alpha >= 0.4 and test.t2v_r1 > 50"))
                .await
                .unwrap()
        ),
        [ids[1]]
    );
    assert_eq!(
        ids_of(
            store
                .list_runs(&w("model.fusion = concat or test.t2v_r1 >= 60"))
                .await
                .unwrap()
        ),
        [ids[0], ids[2]]
    );
    assert_eq!(
        ids_of(store.list_runs(&w("status = running")).await.unwrap()),
        [ids[2]]
    );
    assert_eq!(
        ids_of(
            store
                .list_runs(&w("not (seed = 1) and cell != 'alpha=0.2'"))
                .await
                .unwrap()
        ),
        [ids[2]]
    );
    assert_eq!(
        ids_of(
            store
                .list_runs(&w("model.use_clcl and train.epochs = 3"))
                .await
                .unwrap()
        ),
        ids
    );
    let all = store.list_runs(&RunFilter::default()).await.unwrap();
    assert_eq!(all[0].params["loss.alpha"], ParamValue::Float(0.2));
    assert_eq!(all[0].finals["test.t2v_r1"], 60.0);
    assert_eq!(all[0].experiment, "exp1");
    let done = RunFilter {
        experiment: Some("exp1".into()),
        statuses: vec![RunStatus::Completed],
        ..Default::default()
    };
    assert_eq!(
        ids_of(store.list_runs(&done).await.unwrap()),
        [ids[0], ids[1]]
    );
    // Errors: parse errors with a column, unknown names with a hint, unknown experiment.
    let err = store
        .list_runs(&w("loss.alpha >= "))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("column 15"), "{err}");
    let err = store
        .list_runs(&w("test.t2v_r5 > 1"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'test.t2v_r5'") && err.contains("did you mean 'test.t2v_r1'"),
        "{err}"
    );
    let err = store
        .list_runs(&RunFilter {
            experiment: Some("nope".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NoSuchExperiment(_)));
}

dual_test!(show_compare_and_export, show_compare_and_export);
async fn show_compare_and_export(db: &Db) {
    let (store, exp) = setup(db).await;
    let ids = three_runs(&store, exp).await;
    let f = db.dir.path().join("ckpt.safetensors");
    std::fs::write(&f, b"abc").unwrap();
    store
        .log_artifact(
            ids[0],
            "checkpoint",
            &f.display().to_string(),
            &sha256_hex(b"abc"),
            3,
        )
        .await
        .unwrap();
    store
        .log_artifact(ids[0], "log", "runs/exp1/a/run.log", "00", 0)
        .await
        .unwrap();
    let d = store.run_detail(ids[0]).await.unwrap();
    assert_eq!(d.artifacts.len(), 2);
    assert_eq!(d.artifacts[0].bytes, 3);
    assert_eq!(d.log_path.as_deref(), Some("runs/exp1/a/run.log"));
    assert_eq!(d.history.len(), 1);
    let h = &d.history[0];
    assert_eq!(
        (h.count, h.first_step, h.last_step, h.min, h.max, h.last),
        (2, 10, 20, 55.0, 60.0, 60.0)
    );
    assert!(matches!(
        store.run_detail(777).await,
        Err(StoreError::NoSuchRun(777))
    ));
    let c = store.compare_runs(&[ids[2], ids[0]]).await.unwrap();
    assert_eq!(c.runs[0].run.id, ids[2]);
    let keys: Vec<&str> = c.differing_params.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["loss.alpha", "model.fusion"]);
    assert_eq!(c.common_params.len(), 2);
    assert_eq!(
        c.metrics,
        vec![("test.t2v_r1".to_string(), vec![Some(40.0), Some(60.0)])]
    );
    assert!(matches!(
        store.compare_runs(&[ids[0], 555]).await,
        Err(StoreError::NoSuchRun(555))
    ));
    let all = store.export_runs().await.unwrap();
    assert_eq!(all.len(), 3);
    let csv = runs_to_csv(&all);
    assert_eq!(csv.lines().count(), 4);
    assert!(csv.lines().next().unwrap().contains("param:loss.alpha"));
    let json = serde_json::to_value(&all[0]).unwrap();
    assert_eq!(json["params"]["loss.alpha"], serde_json::json!(0.2));
    assert_eq!(json["run"]["status"], serde_json::json!("COMPLETED"));
}

dual_test!(query_command_is_read_only, query_command_is_read_only);
async fn query_command_is_read_only(db: &Db) {
    let (store, exp) = setup(db).await;
    three_runs(&store, exp).await;
    let blob = match db.dialect {
        Dialect::Sqlite => "x'0aff'",
        Dialect::Postgres => "'\\x0aff'::bytea",
    };
    let q = store
        .query_readonly(&format!(
            "SELECT id, cell, seed * 1.5 AS s, NULL AS n, {blob} AS b FROM runs ORDER BY id LIMIT 1"
        ))
        .await
        .unwrap();
    assert_eq!(q.columns, ["id", "cell", "s", "n", "b"]);
    assert_eq!(
        q.rows[0],
        vec![
            serde_json::json!(1),
            "alpha=0.2".into(),
            serde_json::json!(0.0),
            serde_json::Value::Null,
            "0aff".into()
        ]
    );
    let engine_write = match db.dialect {
        Dialect::Sqlite => "PRAGMA user_version = 42",
        Dialect::Postgres => "TRUNCATE metrics",
    };
    if db.dialect == Dialect::Postgres {
        // A session setting cannot make later queries writable: each query runs in its own
        // READ ONLY transaction that is always rolled back.
        store
            .query_readonly("SET default_transaction_read_only = off")
            .await
            .unwrap();
        let agg = store
            .query_readonly("SELECT SUM(seed) AS total, COUNT(*) AS n, AVG(seed) AS mean, 'x'::varchar AS v, true AS t FROM runs")
            .await
            .unwrap();
        assert_eq!(
            agg.rows[0],
            vec![
                serde_json::json!(3),
                serde_json::json!(3),
                serde_json::json!(1.0),
                serde_json::json!("x"),
                serde_json::json!(true)
            ]
        );
        let err = store
            .query_readonly("SELECT now() AS t")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("'t'") && err.contains("::text"), "{err}");
    }
    for write in [
        "INSERT INTO experiments (name, file, content, content_sha256, created_at, updated_at) VALUES ('x','x','x','x',0,0)",
        "DELETE FROM runs",
        "UPDATE runs SET status = 'FAILED'",
        "DROP TABLE metrics",
        "CREATE TABLE t (x INTEGER)",
        engine_write,
    ] {
        let err = store.query_readonly(write).await.unwrap_err();
        assert!(matches!(err, StoreError::ReadOnlyQuery { .. }), "{write}: {err}");
        assert!(err.to_string().starts_with("the query command is read-only"), "{err}");
    }
    assert_eq!(
        store.list_runs(&RunFilter::default()).await.unwrap().len(),
        3
    );
    assert_eq!(store.schema_version().await.unwrap(), 1);
    // Syntax errors are ordinary errors, not read-only ones.
    let err = store.query_readonly("SELEC 1").await.unwrap_err();
    assert!(matches!(err, StoreError::Db { .. }), "{err}");
    // A ReadOnly store works too.
    let ro = Store::open(&db.url, OpenMode::ReadOnly).await.unwrap();
    assert_eq!(ro.list_runs(&RunFilter::default()).await.unwrap().len(), 3);
    assert!(ro.query_readonly("DELETE FROM params").await.is_err());
    assert!(ro.upsert_experiment("x", "x", "x").await.is_err());
}

dual_test_sync!(
    store_sink_buffers_flushes_and_hashes_artifacts,
    store_sink_buffers_flushes_and_hashes_artifacts
);
fn store_sink_buffers_flushes_and_hashes_artifacts(db: &Db) {
    let dir = &db.dir;
    let url = db.url.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let run_id = rt.block_on(async {
        let store = Store::open(&url, OpenMode::Coordinator).await.unwrap();
        let exp = store.upsert_experiment("e", "e.toml", "").await.unwrap();
        let r = store.ensure_run(exp, "c", "h", "{}", 0, &[]).await.unwrap();
        assert!(store
            .claim_run(r.id, &Provenance::default(), "d", false)
            .await
            .unwrap());
        r.id
    });
    let count = |rt: &tokio::runtime::Runtime| {
        rt.block_on(async {
            let s = Store::open(&url, OpenMode::ReadOnly).await.unwrap();
            s.metric_history(run_id, None, None).await.unwrap().len()
        })
    };
    let opts = SinkOptions {
        flush_every: 4,
        heartbeat_every: Duration::from_secs(3600),
    };
    let sink = StoreSink::open(&url, run_id, opts).unwrap();
    let rec = |split: &str, step: i64, epoch: i64| MetricRecord {
        name: "loss".into(),
        split: split.into(),
        step,
        epoch,
        value: step as f64,
    };
    for s in 0..3 {
        sink.log_metrics(&[rec("train", s, 0)]).unwrap();
    }
    assert_eq!((sink.buffered(), count(&rt)), (3, 0));
    sink.log_metrics(&[rec("train", 3, 0)]).unwrap(); // 4 rows: flush
    assert_eq!((sink.buffered(), count(&rt)), (0, 4));
    sink.log_metrics(&[rec("train", 4, 0)]).unwrap();
    sink.log_metrics(&[rec("train", 5, 1)]).unwrap(); // epoch change: flush
    assert_eq!((sink.buffered(), count(&rt)), (0, 6));
    sink.log_metrics(&[rec("train", 6, 1)]).unwrap();
    sink.log_metrics(&[rec("dev", 6, 1)]).unwrap(); // eval split: flush
    assert_eq!(count(&rt), 8);
    sink.log_metrics(&[rec("train", 7, 1)]).unwrap();
    let f = dir.path().join("scores.bin");
    std::fs::write(&f, b"abc").unwrap();
    sink.log_artifact(&ArtifactRecord {
        kind: "scores".into(),
        path: f.clone(),
    })
    .unwrap();
    let missing = ArtifactRecord {
        kind: "x".into(),
        path: dir.path().join("none"),
    };
    assert!(sink.log_artifact(&missing).is_err());
    sink.progress(1, 2, 7, 8, 0.5);
    drop(sink); // flushes the last row
    assert_eq!(count(&rt), 9);
    let detail = rt.block_on(async {
        Store::open(&url, OpenMode::ReadOnly)
            .await
            .unwrap()
            .run_detail(run_id)
            .await
            .unwrap()
    });
    assert_eq!(detail.artifacts[0].sha256, sha256_hex(b"abc"));
    assert_eq!(detail.summary.finals["train.loss"], 7.0);
    assert_eq!(detail.summary.finals["dev.loss"], 6.0);
}

#[test]
fn resolve_db_url_uses_the_environment() {
    // Only this test touches SEDS_LAB_DB in this binary.
    std::env::set_var(DB_ENV, "/tmp/x.db");
    assert_eq!(resolve_db_url(None), "sqlite:///tmp/x.db");
    assert_eq!(resolve_db_url(Some("sqlite://y.db")), "sqlite://y.db");
    std::env::remove_var(DB_ENV);
    assert_eq!(resolve_db_url(None), DEFAULT_DB_URL);
}

dual_test!(
    racing_coordinators_migrate_exactly_once,
    racing_coordinators_migrate_exactly_once
);
async fn racing_coordinators_migrate_exactly_once(db: &Db) {
    if db.dialect == Dialect::Sqlite {
        // The file's parent directory must exist before two processes race to create it.
        std::fs::create_dir_all(db.dir.path().join("sub")).unwrap();
    }
    let (a, b, c) = tokio::join!(
        Store::open(&db.url, OpenMode::Coordinator),
        Store::open(&db.url, OpenMode::Coordinator),
        Store::open(&db.url, OpenMode::Coordinator)
    );
    let (a, _b, _c) = (a.unwrap(), b.unwrap(), c.unwrap());
    let applied = a
        .query_readonly("SELECT COUNT(*) AS n FROM schema_migrations")
        .await
        .unwrap();
    assert_eq!(applied.rows[0][0], serde_json::json!(1));
    assert_eq!(a.schema_version().await.unwrap(), 1);
    Store::open(&db.url, OpenMode::Worker).await.unwrap();
}
