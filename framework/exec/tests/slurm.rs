//! The Slurm executor's script against a REAL Slurm (the one-node cluster started by
//! scripts/ci/start-services.sh): array submission, the task -> cell map, the exported
//! database variable, per-task logs, and the USR1 -> SIGTERM forwarding that makes a worker
//! checkpoint before its time limit. Skipped (with a message) unless SEDS_TEST_SLURM=1.
//!
//! The worker here is a stand-in shell script (the real `seds-lab worker` is exercised by the
//! CLI end-to-end test): it resolves its cell from the map like the real one, records what it
//! saw in its run directory, and on SIGTERM "checkpoints" and exits with the KILLED code.

use std::path::Path;
use std::time::{Duration, Instant};

use seds_exec::slurm::*;
use seds_exec::WorkItem;

const FAKE_WORKER: &str = r#"#!/bin/bash
# stand-in for `seds-lab worker --array-map MAP`
[ "$1" = worker ] && [ "$2" = --array-map ] || { echo "bad args: $*" >&2; exit 2; }
line=$(awk -F'\t' -v t="$SLURM_ARRAY_TASK_ID" '$1 == t' "$3")
run_id=$(echo "$line" | cut -f2); dir=$(echo "$line" | cut -f3)
mkdir -p "$dir"
echo "$run_id $SEDS_LAB_DB" > "$dir/seen"
trap 'echo checkpointed > "$dir/state"; exit 5' TERM
if [ "$run_id" = 30 ]; then echo skipped > "$dir/state"; exit 9; fi
echo started > "$dir/state"
for _ in $(seq 1 40); do sleep 0.1; done
echo done > "$dir/state"
exit 0
"#;

fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[test]
fn array_job_maps_tasks_logs_and_forwards_the_time_limit_signal() {
    if std::env::var("SEDS_TEST_SLURM").ok().as_deref() != Some("1") {
        eprintln!(
            "SKIP array_job_maps_tasks_logs_and_forwards_the_time_limit_signal: SEDS_TEST_SLURM is \
             not 1 (run scripts/ci/start-services.sh and `source /tmp/seds-services.env`)"
        );
        return;
    }
    // Under /tmp, not the repository: slurmd (root) must reach it; every path is absolute.
    let root_buf = std::env::temp_dir().join(format!("seds-slurm-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root_buf);
    std::fs::create_dir_all(&root_buf).unwrap();
    let root = root_buf.as_path();
    let program = root.join("fake-worker.sh");
    std::fs::write(&program, FAKE_WORKER).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let items: Vec<WorkItem> = [10, 20, 30]
        .iter()
        .map(|id| WorkItem {
            run_id: *id,
            label: format!("cell {id}"),
            run_dir: root.join(format!("runs/{id}")),
        })
        .collect();
    let log_dir = root.join("logs");
    std::fs::create_dir_all(&log_dir).unwrap();
    let map = ArrayMap::from_items(&items, &log_dir);
    let map_file = root.join("array-map.tsv");
    std::fs::write(&map_file, map.to_text()).unwrap();
    let script = render_script(&ScriptSpec {
        job_name: "seds-test".into(),
        tasks: items.len(),
        array_parallelism: None,
        partition: None,
        gpus_per_task: None,
        cpus_per_task: None,
        time: Some("5:00".into()),
        signal_lead_s: signal_lead(parse_time_limit("5:00").unwrap()),
        log_dir: log_dir.clone(),
        workdir: root.to_path_buf(),
        program: program.clone(),
        map_file: map_file.clone(),
        force: false,
        extra_args: vec!["--mem-per-cpu=100M".into()],
    })
    .unwrap();
    let script_file = root.join("job.sbatch");
    std::fs::write(&script_file, &script).unwrap();
    let env = vec![(
        "SEDS_LAB_DB".to_string(),
        "postgres://u:pw@h/db".to_string(),
    )];
    let job = submit(&script_file, &env, None).expect("sbatch");
    // Task 0 (run 10): once it trains, deliver the time-limit signal to its batch shell,
    // exactly as Slurm does at the limit (`--signal=B:USR1@LEAD`).
    let state0 = root.join("runs/10/state");
    assert!(
        wait_until(Duration::from_secs(60), || read(&state0) == "started"),
        "task 0 never started; queue: {:?}",
        queue(&job.job_id)
    );
    let st = std::process::Command::new("scancel")
        .args(["--batch", "--signal=USR1", &format!("{}_0", job.job_id)])
        .status()
        .unwrap();
    assert!(st.success());
    assert!(
        wait_until(Duration::from_secs(60), || {
            queue(&job.job_id)
                .map(|q| QueueSummary::of(&q).is_done())
                .unwrap_or(false)
        }),
        "job {} did not finish",
        job.job_id
    );
    assert_eq!(read(&state0), "checkpointed");
    assert_eq!(read(&root.join("runs/20/state")), "done");
    assert_eq!(read(&root.join("runs/30/state")), "skipped");
    // Each task found its own cell and saw the exported database URL.
    for id in [10, 20, 30] {
        assert_eq!(
            read(&root.join(format!("runs/{id}/seen"))),
            format!("{id} postgres://u:pw@h/db")
        );
    }
    // Per-task logs where the map says; the skipped cell's task ends with status 0.
    let log = |t: usize| read(&task_log_path(&log_dir, &job.job_id, t));
    let l0 = log(0);
    assert!(
        l0.contains("received USR1") && l0.contains("worker exited with status 5"),
        "{l0}"
    );
    assert!(log(1).contains("worker exited with status 0"), "{}", log(1));
    assert!(log(2).contains("worker exited with status 0"), "{}", log(2));
    assert!(log(2).contains("task 2 on"), "{}", log(2));
    let _ = std::fs::remove_dir_all(root);
}
