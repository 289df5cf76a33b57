//! End-to-end: `seds-lab run` trains real SEDS cells, records them, survives a SIGKILLed
//! worker, and a re-run finishes only what is missing without losing recorded data.

mod common;
use common::*;

fn status_counts(dir: &std::path::Path) -> std::collections::BTreeMap<String, i64> {
    query(
        dir,
        "SELECT status, COUNT(*) AS n FROM runs GROUP BY status",
    )
    .into_iter()
    .map(|r| {
        (
            r["status"].as_str().unwrap().to_string(),
            r["n"].as_i64().unwrap(),
        )
    })
    .collect()
}

#[test]
fn run_records_metrics_and_a_rerun_skips_completed_cells() {
    let dir = scratch("run");
    write_experiment(
        &dir,
        r#"
name = "run-test"
[grid]
"loss.beta" = [0.0, 0.4]
"#,
    );
    seds_expect(&dir, &["run", "exp.toml"], 0);
    assert_eq!(status_counts(&dir).get("COMPLETED"), Some(&2));
    // Every run has train losses per epoch, dev and test metrics.
    let rows = query(
        &dir,
        "SELECT run_id, split, COUNT(*) AS n FROM metrics WHERE name IN ('loss_total', 't2v_r1') GROUP BY run_id, split ORDER BY run_id, split",
    );
    let splits: Vec<String> = rows
        .iter()
        .map(|r| r["split"].as_str().unwrap().to_string())
        .collect();
    assert!(
        splits.contains(&"train".to_string())
            && splits.contains(&"dev".to_string())
            && splits.contains(&"test".to_string()),
        "{rows:?}"
    );
    let before = query(&dir, "SELECT COUNT(*) AS n FROM metrics")[0]["n"]
        .as_i64()
        .unwrap();
    // Provenance is recorded.
    let prov = query(&dir, "SELECT host, cores, version FROM runs");
    assert!(
        prov.iter()
            .all(|r| !r["host"].is_null() && r["cores"].as_i64().unwrap_or(0) > 0),
        "{prov:?}"
    );

    // A re-run finds nothing to do and changes nothing.
    let o = seds_expect(&dir, &["run", "exp.toml"], 0);
    assert!(text(&o).contains("0 to run"), "{}", text(&o));
    let after = query(&dir, "SELECT COUNT(*) AS n FROM metrics")[0]["n"]
        .as_i64()
        .unwrap();
    assert_eq!(before, after);

    // Listings work in every format.
    let o = seds(&dir, &["runs", "list", "--format", "csv"]);
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).lines().count(),
        3,
        "header + 2 runs"
    );
    let o = seds(
        &dir,
        &[
            "runs",
            "list",
            "--where",
            "loss.beta > 0.2",
            "--format",
            "json",
        ],
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows.len(), 1, "{}", text(&o));
    // Writes through `query` are refused.
    let o = seds_expect(&dir, &["query", "DELETE FROM runs"], 6);
    assert!(text(&o).contains("read-only"));
    assert_eq!(status_counts(&dir).get("COMPLETED"), Some(&2));
}

#[test]
fn sigkilled_worker_is_recorded_and_rerun_finishes_only_unfinished_cells() {
    let dir = scratch("kill");
    write_experiment(
        &dir,
        r#"
name = "kill-test"
[train]
epochs = 6
[grid]
"loss.alpha" = [0.2, 0.8]
"#,
    );
    let mut child = spawn_seds(&dir, &["run", "exp.toml", "--jobs", "1"]);
    // Wait until the first cell has completed and the second is running with metrics.
    let victim = wait_for("the second run to log metrics", || {
        let rows = try_query(
            &dir,
            "SELECT r.id, r.pid, (SELECT COUNT(*) FROM metrics m WHERE m.run_id = r.id) AS n FROM runs r WHERE r.status = 'RUNNING'",
        )?;
        let completed = status_counts(&dir).get("COMPLETED").copied().unwrap_or(0);
        let r = rows.first()?;
        (completed == 1 && r["n"].as_i64().unwrap_or(0) > 0)
            .then(|| (r["id"].as_i64().unwrap(), r["pid"].as_i64().unwrap()))
    });
    let completed_metrics = query(&dir, "SELECT COUNT(*) AS n FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.status = 'COMPLETED'")[0]["n"]
        .as_i64()
        .unwrap();
    unsafe {
        libc::kill(victim.1 as libc::pid_t, libc::SIGKILL);
    }
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(4),
        "a dead worker makes the run exit with 'cells failed'"
    );
    let row = &query(
        &dir,
        &format!("SELECT status, message FROM runs WHERE id = {}", victim.0),
    )[0];
    assert_eq!(row["status"], "KILLED", "{row:?}");
    assert!(
        row["message"].as_str().unwrap_or("").contains("signal 9"),
        "{row:?}"
    );
    let partial = query(
        &dir,
        &format!(
            "SELECT COUNT(*) AS n FROM metrics WHERE run_id = {}",
            victim.0
        ),
    )[0]["n"]
        .as_i64()
        .unwrap();
    assert!(partial > 0, "metrics recorded before the kill are kept");

    // Re-run: only the killed cell runs again.
    let o = seds_expect(&dir, &["run", "exp.toml"], 0);
    assert!(
        text(&o).contains("1 to run, 1 already completed"),
        "{}",
        text(&o)
    );
    assert_eq!(status_counts(&dir).get("COMPLETED"), Some(&2));
    let attempts = query(&dir, "SELECT id, attempt FROM runs ORDER BY id");
    assert_eq!(
        attempts[0]["attempt"], 1,
        "the completed cell did not run again: {attempts:?}"
    );
    assert_eq!(attempts[1]["attempt"], 2, "{attempts:?}");
    let still = query(
        &dir,
        &format!(
            "SELECT COUNT(*) AS n FROM metrics WHERE run_id = {}",
            attempts[0]["id"]
        ),
    )[0]["n"]
        .as_i64()
        .unwrap();
    assert!(still > 0 && still <= completed_metrics);
    assert_eq!(
        query(&dir, "SELECT COUNT(*) AS n FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.id = (SELECT MIN(id) FROM runs)")[0]["n"],
        still
    );
}

#[test]
fn sigterm_to_the_coordinator_records_killed_exits_5_and_the_rerun_resumes() {
    let dir = scratch("sigterm");
    write_experiment(
        &dir,
        r#"
name = "sigterm-test"
[train]
epochs = 8
"#,
    );
    let mut child = spawn_seds(&dir, &["run", "exp.toml"]);
    // Wait until the run has logged metrics (training is under way), then SIGTERM the coordinator.
    wait_for("training to start", || {
        let rows = try_query(&dir, "SELECT COUNT(*) AS n FROM metrics")?;
        (rows.first()?["n"].as_i64().unwrap_or(0) > 0).then_some(())
    });
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(5), "interrupted exit code");
    let row = &query(&dir, "SELECT status, message FROM runs")[0];
    assert_eq!(row["status"], "KILLED", "{row:?}");
    assert!(
        std::fs::read_dir(dir.join("runs"))
            .unwrap()
            .flatten()
            .any(|e| e.path().join("checkpoint.safetensors").exists()),
        "the worker checkpointed before stopping"
    );
    // The same command resumes and completes it.
    seds_expect(&dir, &["run", "exp.toml"], 0);
    assert_eq!(status_counts(&dir).get("COMPLETED"), Some(&1));
    assert_eq!(query(&dir, "SELECT attempt FROM runs")[0]["attempt"], 2);
}

/// A cell whose configuration already completed in another experiment takes that run's
/// results instead of training again; `--no-reuse` trains it, and training it again gives
/// the same numbers (which is what makes reuse sound).
#[test]
fn identical_cells_of_another_experiment_are_reused_not_retrained() {
    let dir = scratch("reuse");
    write_experiment(
        &dir,
        r#"
name = "first"
[grid]
"loss.beta" = [0.0]
"#,
    );
    let second = |name: &str| {
        format!("extends = \"base.toml\"\nname = \"{name}\"\n[grid]\n\"loss.beta\" = [0.0, 0.4]\n")
    };
    std::fs::write(dir.join("second.toml"), second("second")).unwrap();
    std::fs::write(dir.join("third.toml"), second("third")).unwrap();
    seds_expect(&dir, &["run", "exp.toml"], 0);
    let source = query(&dir, "SELECT id, run_dir FROM runs")[0].clone();
    let source_id = source["id"].as_i64().unwrap();

    // `plan` shows which cell would be reused, and from which run.
    let o = seds_expect(&dir, &["plan", "second.toml", "--format", "json"], 0);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    let reuses: Vec<Option<i64>> = rows.iter().map(|r| r["reuses"].as_i64()).collect();
    assert_eq!(reuses, [Some(source_id), None], "{rows:?}");

    let o = seds_expect(&dir, &["run", "second.toml"], 0);
    assert!(
        text(&o).contains(&format!("completed as run {source_id} of experiment first")),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("1 to run"), "{}", text(&o));
    let runs = query(
        &dir,
        "SELECT r.id, r.status, r.run_dir, r.message, e.name AS experiment FROM runs r \
         JOIN experiments e ON e.id = r.experiment_id ORDER BY r.id",
    );
    assert_eq!(runs.len(), 3, "{runs:?}");
    assert!(runs.iter().all(|r| r["status"] == "COMPLETED"), "{runs:?}");
    let reused = &runs[1];
    assert_eq!(reused["experiment"], "second");
    assert_eq!(
        reused["run_dir"], source["run_dir"],
        "points at the source's directory"
    );
    assert!(reused["message"].as_str().unwrap().contains("reused"));
    let finals = |id: i64| {
        query(
            &dir,
            &format!("SELECT split, name, value FROM metric_finals WHERE run_id = {id} ORDER BY split, name"),
        )
    };
    let reused_id = reused["id"].as_i64().unwrap();
    assert!(!finals(source_id).is_empty());
    assert_eq!(finals(reused_id), finals(source_id));
    let count = |id: i64| {
        query(
            &dir,
            &format!("SELECT COUNT(*) AS n FROM metrics WHERE run_id = {id}"),
        )[0]["n"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(count(reused_id), count(source_id));
    // The reused run's report draws like any other.
    seds_expect(&dir, &["report", "second", "--out", "rep"], 0);

    // --no-reuse trains it: its own directory, and the same test metrics (deterministic).
    let o = seds_expect(&dir, &["run", "third.toml", "--no-reuse"], 0);
    assert!(!text(&o).contains("reused run"), "{}", text(&o));
    let trained = query(
        &dir,
        "SELECT r.id, r.run_dir FROM runs r JOIN experiments e ON e.id = r.experiment_id \
         WHERE e.name = 'third' ORDER BY r.id LIMIT 1",
    )[0]
    .clone();
    assert_ne!(trained["run_dir"], source["run_dir"]);
    let test_finals = |id: i64| -> Vec<serde_json::Value> {
        finals(id)
            .into_iter()
            .filter(|r| r["split"] == "test")
            .collect()
    };
    assert_eq!(
        test_finals(trained["id"].as_i64().unwrap()),
        test_finals(source_id)
    );
}
