//! End-to-end on a real (one-node) Slurm with the PostgreSQL run store: a grid of tiny runs
//! submitted through `sbatch` completes; `scancel` of one task mid-run leaves that run KILLED
//! with its metrics; re-running the same command finishes only what is missing and loses
//! nothing recorded. Also: SQLite is refused for the Slurm executor.
//!
//! Needs the services of scripts/ci/start-services.sh (`source /tmp/seds-services.env`):
//! SKIPS with a message unless SEDS_TEST_SLURM=1 and SEDS_TEST_PG_URL are set.

mod common;
use common::*;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The test database: a fresh schema on the test server (URL parameter selects it).
fn pg_db(name: &str) -> Option<String> {
    let base = std::env::var("SEDS_TEST_PG_URL")
        .ok()
        .filter(|s| !s.is_empty());
    let slurm = std::env::var("SEDS_TEST_SLURM").ok().as_deref() == Some("1");
    let (Some(base), true) = (base, slurm) else {
        eprintln!("SKIP {name}: needs SEDS_TEST_SLURM=1 and SEDS_TEST_PG_URL (scripts/ci/start-services.sh; source /tmp/seds-services.env)");
        return None;
    };
    let schema = format!("e2e_{}_{}", name, std::process::id());
    let o = Command::new("psql")
        .args([
            base.as_str(),
            "-X",
            "-q",
            "-c",
            &format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"),
        ])
        .output()
        .expect("psql");
    assert!(o.status.success(), "psql: {}", text(&o));
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}options[search_path]={schema}"))
}

fn seds_db(dir: &Path, db: &str, args: &[&str]) -> Output {
    Command::new(bin())
        .current_dir(dir)
        .env("SEDS_LAB_DB", db)
        .args(args)
        .output()
        .expect("seds-lab runs")
}

fn q(dir: &Path, db: &str, sql: &str) -> Vec<serde_json::Value> {
    let o = seds_db(dir, db, &["query", sql, "--format", "json"]);
    assert!(o.status.success(), "query failed: {}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_default()
}

fn queue_empty(job: &str) -> bool {
    let o = Command::new("squeue")
        .args(["-h", "-j", job])
        .output()
        .expect("squeue");
    String::from_utf8_lossy(&o.stdout).trim().is_empty()
}

fn wait_for(limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !f() {
        assert!(t0.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn slurm_grid_with_postgres_survives_scancel_and_resumes() {
    let Some(db) = pg_db("slurm_grid") else {
        return;
    };
    let dir = scratch("slurm");
    write_experiment(
        &dir,
        r#"
name = "slurm-test"
[train]
epochs = 6
[grid]
"loss.alpha" = [0.2, 0.5, 0.8]
"#,
    );
    // Submit without --wait: the command returns once sbatch accepted the array.
    let o = seds_db(
        &dir,
        &db,
        &[
            "run",
            "exp.toml",
            "--executor",
            "slurm",
            "--array-parallelism",
            "2",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = text(&o);
    let job = out
        .split("submitted Slurm job ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("{out}"))
        .to_string();
    // Cancel one task once it has recorded metrics.
    let mut victim = (0i64, String::new());
    wait_for(
        Duration::from_secs(600),
        "a running task with metrics",
        || {
            let rows = q(&dir, &db, "SELECT r.id, r.slurm_job, (SELECT COUNT(*) FROM metrics m WHERE m.run_id = r.id) AS n FROM runs r WHERE r.status = 'RUNNING' ORDER BY r.id");
            if let Some(r) = rows
                .iter()
                .find(|r| r["n"].as_i64().unwrap_or(0) > 0 && r["slurm_job"].is_string())
            {
                victim = (
                    r["id"].as_i64().unwrap(),
                    r["slurm_job"].as_str().unwrap().to_string(),
                );
                return true;
            }
            false
        },
    );
    assert!(victim.1.starts_with(&format!("{job}_")), "{victim:?}");
    let st = Command::new("scancel").arg(&victim.1).status().unwrap();
    assert!(st.success());
    wait_for(
        Duration::from_secs(900),
        "the array job to leave the queue",
        || queue_empty(&job),
    );
    let rows = q(
        &dir,
        &db,
        "SELECT id, status, attempt FROM runs ORDER BY id",
    );
    let status_of = |id: i64| {
        rows.iter()
            .find(|r| r["id"] == id)
            .map(|r| r["status"].as_str().unwrap_or("").to_string())
            .unwrap()
    };
    assert_eq!(status_of(victim.0), "KILLED", "{rows:?}");
    assert_eq!(
        rows.iter().filter(|r| r["status"] == "COMPLETED").count(),
        2,
        "{rows:?}"
    );
    let partial = q(
        &dir,
        &db,
        &format!(
            "SELECT COUNT(*) AS n FROM metrics WHERE run_id = {}",
            victim.0
        ),
    )[0]["n"]
        .as_i64()
        .unwrap();
    assert!(partial > 0, "metrics recorded before scancel are kept");
    let completed_before = q(&dir, &db, "SELECT m.run_id, m.name, m.split, m.step, m.value FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.status = 'COMPLETED' ORDER BY m.run_id, m.name, m.split, m.step");
    // The run records link the Slurm task logs.
    let logs = q(
        &dir,
        &db,
        "SELECT COUNT(*) AS n FROM artifacts WHERE kind = 'slurm_log'",
    )[0]["n"]
        .as_i64()
        .unwrap();
    assert_eq!(logs, 3);

    // Re-run the same command: only the killed cell is submitted again; it resumes.
    let o = seds_db(
        &dir,
        &db,
        &["run", "exp.toml", "--executor", "slurm", "--wait"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("1 to run, 2 already completed"),
        "{}",
        text(&o)
    );
    let rows = q(
        &dir,
        &db,
        "SELECT id, status, attempt FROM runs ORDER BY id",
    );
    assert!(rows.iter().all(|r| r["status"] == "COMPLETED"), "{rows:?}");
    for r in &rows {
        let expected = if r["id"] == victim.0 { 2 } else { 1 };
        assert_eq!(
            r["attempt"], expected,
            "no cell ran twice except the cancelled one: {rows:?}"
        );
    }
    let completed_after = q(&dir, &db, &format!("SELECT m.run_id, m.name, m.split, m.step, m.value FROM metrics m WHERE m.run_id <> {} ORDER BY m.run_id, m.name, m.split, m.step", victim.0));
    assert_eq!(
        completed_before, completed_after,
        "nothing recorded is lost or changed"
    );
    // `runs list` shows the Slurm job and task of each run.
    let o = seds_db(&dir, &db, &["runs", "list", "--format", "json"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!("{job}_")),
        "{}",
        text(&o)
    );
}

#[test]
fn slurm_executor_refuses_sqlite_unless_same_host_is_confirmed() {
    let dir = scratch("slurm-sqlite");
    write_experiment(&dir, "name = \"sq\"\n");
    let o = seds(&dir, &["run", "exp.toml", "--executor", "slurm"]);
    assert_eq!(o.status.code(), Some(6), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("must not be shared across machines or over NFS")
            && t.contains("--slurm-same-host"),
        "{t}"
    );
}
