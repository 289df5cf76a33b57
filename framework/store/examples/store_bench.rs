//! Benchmark of the run database (not a test).
//!
//! 1. Metric-logging throughput with W concurrent writer PROCESSES (this binary re-run with
//!    `--child-writer I`), each logging R rows in batches of B into its own run: rows/s and
//!    the number of lock errors (must be 0).
//! 2. Query latency on a big database (N runs, M metric rows; generated with batched
//!    transactions, one per run): `list runs` (all, by experiment, with `--where`),
//!    metric history of one run, `show` of one run.
//!
//! `cargo run --release -p seds-store --example store_bench -- [--db PATH] [--runs 10000]
//!  [--metrics 10000000] [--writers 4] [--writer-rows 200000] [--batch 1000] [--reuse]`

use std::process::{Command, Stdio};
use std::time::Instant;

use seds_core::MetricRecord;
use seds_store::*;

struct Args {
    db: String,
    runs: i64,
    metrics: i64,
    writers: usize,
    writer_rows: i64,
    batch: i64,
    reuse: bool,
    child: Option<usize>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        db: "/tmp/seds-store-bench.db".into(),
        runs: 10_000,
        metrics: 10_000_000,
        writers: 4,
        writer_rows: 200_000,
        batch: 1000,
        reuse: false,
        child: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or(format!("{flag} needs a value"));
        let num = |s: String| {
            s.replace('_', "")
                .parse::<i64>()
                .map_err(|e| format!("{s}: {e}"))
        };
        match flag.as_str() {
            "--db" => a.db = val()?,
            "--runs" => a.runs = num(val()?)?,
            "--metrics" => a.metrics = num(val()?)?,
            "--writers" => a.writers = num(val()?)? as usize,
            "--writer-rows" => a.writer_rows = num(val()?)?,
            "--batch" => a.batch = num(val()?)?,
            "--reuse" => a.reuse = true,
            "--child-writer" => a.child = Some(num(val()?)? as usize),
            "--bench" => {}
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(a)
}

fn rec(name: &str, split: &str, step: i64, value: f64) -> MetricRecord {
    MetricRecord {
        name: name.into(),
        split: split.into(),
        step,
        epoch: step / 100,
        value,
    }
}

async fn child_writer(a: &Args, index: usize) -> Result<(), String> {
    let url = format!("sqlite://{}.writers.db", a.db);
    let store = Store::open(&url, OpenMode::Worker)
        .await
        .map_err(|e| e.to_string())?;
    let exp = store
        .experiment_by_name("writers")
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no experiment")?;
    let runs = store
        .runs_of_experiment(exp.id)
        .await
        .map_err(|e| e.to_string())?;
    let run = runs
        .iter()
        .find(|r| r.cell == format!("w{index}"))
        .ok_or("no run")?;
    store
        .claim_run(run.id, &Provenance::default(), "d", false)
        .await
        .map_err(|e| e.to_string())?;
    let t = Instant::now();
    let mut errors = 0;
    let mut step = 0;
    while step < a.writer_rows {
        let n = a.batch.min(a.writer_rows - step);
        let batch: Vec<MetricRecord> = (step..step + n)
            .map(|s| rec("loss", "train", s, s as f64 * 1e-3))
            .collect();
        if let Err(e) = store.log_metrics(run.id, &batch).await {
            errors += 1;
            eprintln!("writer {index}: {e}");
        }
        step += n;
    }
    let secs = t.elapsed().as_secs_f64();
    store
        .finish_run(run.id, RunStatus::Completed, None)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "WRITER {index} rows {} secs {secs:.3} errors {errors}",
        a.writer_rows
    );
    Ok(())
}

async fn writers_phase(a: &Args) -> Result<(), String> {
    let path = format!("{}.writers.db", a.db);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
    let store = Store::open(&format!("sqlite://{path}"), OpenMode::Coordinator)
        .await
        .map_err(|e| e.to_string())?;
    let exp = store
        .upsert_experiment("writers", "w.toml", "")
        .await
        .map_err(|e| e.to_string())?;
    for i in 0..a.writers {
        store
            .ensure_run(exp, &format!("w{i}"), &format!("w{i}"), "{}", 0, &[])
            .await
            .map_err(|e| e.to_string())?;
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let t = Instant::now();
    let kids: Vec<_> = (0..a.writers)
        .map(|i| {
            Command::new(&exe)
                .args([
                    "--db",
                    &a.db,
                    "--writer-rows",
                    &a.writer_rows.to_string(),
                    "--batch",
                    &a.batch.to_string(),
                    "--child-writer",
                    &i.to_string(),
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
        })
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let mut errors = 0;
    let mut locked = 0;
    for kid in kids {
        let out = kid.wait_with_output().map_err(|e| e.to_string())?;
        let so = String::from_utf8_lossy(&out.stdout);
        let se = String::from_utf8_lossy(&out.stderr);
        locked += se.matches("database is locked").count();
        for l in so.lines().filter(|l| l.starts_with("WRITER")) {
            println!("  {l}");
            errors += l
                .rsplit(' ')
                .next()
                .and_then(|x| x.parse::<i64>().ok())
                .unwrap_or(1);
        }
        if !out.status.success() {
            return Err(format!("writer failed: {se}"));
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let rows: i64 = a.writers as i64 * a.writer_rows;
    let q = store
        .query_readonly("SELECT COUNT(*) FROM metrics")
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "writers: {} processes x {} rows (batches of {}): {rows} rows in {secs:.2} s = {:.0} rows/s (incl. process start); stored {}; errors {errors}; 'database is locked' {locked}",
        a.writers, a.writer_rows, a.batch, rows as f64 / secs, q.rows[0][0]
    );
    Ok(())
}

async fn generate(a: &Args) -> Result<Store, String> {
    let url = format!("sqlite://{}", a.db);
    let existing = std::path::Path::new(&a.db).exists();
    if existing && a.reuse {
        println!("reusing {}", a.db);
        return Store::open(&url, OpenMode::Coordinator)
            .await
            .map_err(|e| e.to_string());
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", a.db));
    }
    let store = Store::open(&url, OpenMode::Coordinator)
        .await
        .map_err(|e| e.to_string())?;
    let per_run = (a.metrics / a.runs.max(1)).max(1);
    let names = ["loss_total", "loss_clcl", "t2v_r1", "v2t_r1"];
    let steps = (per_run / names.len() as i64).max(1);
    let t = Instant::now();
    let mut exps = Vec::new();
    for e in 0..10 {
        exps.push(
            store
                .upsert_experiment(&format!("exp{e}"), "x.toml", "")
                .await
                .map_err(|e| e.to_string())?,
        );
    }
    let mut rows = 0i64;
    for i in 0..a.runs {
        let params = vec![
            (
                "loss.alpha".to_string(),
                ParamValue::Float((i % 10) as f64 / 10.0),
            ),
            (
                "model.fusion".to_string(),
                ParamValue::Str(if i % 2 == 0 { "cgaf" } else { "concat" }.into()),
            ),
            ("train.epochs".to_string(), ParamValue::Int(30)),
            ("train.lr".to_string(), ParamValue::Float(1e-4)),
            ("model.use_clcl".to_string(), ParamValue::Bool(i % 3 != 0)),
        ];
        let r = store
            .ensure_run(
                exps[(i % 10) as usize],
                &format!("cell{i}"),
                &format!("hash{i}"),
                "{}",
                i,
                &params,
            )
            .await
            .map_err(|e| e.to_string())?;
        store
            .claim_run(r.id, &Provenance::default(), "d", false)
            .await
            .map_err(|e| e.to_string())?;
        let mut batch = Vec::with_capacity(per_run as usize);
        for s in 0..steps {
            for (k, n) in names.iter().enumerate() {
                let split = if k < 2 { "train" } else { "test" };
                batch.push(rec(
                    n,
                    split,
                    s,
                    ((i * 7 + s * 13 + k as i64) % 1000) as f64 / 10.0,
                ));
            }
        }
        store
            .log_metrics(r.id, &batch)
            .await
            .map_err(|e| e.to_string())?;
        rows += batch.len() as i64;
        store
            .finish_run(r.id, RunStatus::Completed, None)
            .await
            .map_err(|e| e.to_string())?;
        if (i + 1) % 1000 == 0 {
            eprintln!(
                "  generated {} runs, {rows} metric rows, {:.1} s",
                i + 1,
                t.elapsed().as_secs_f64()
            );
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "generated {} runs and {rows} metric rows (one {per_run}-row transaction per run) in {secs:.1} s = {:.0} rows/s",
        a.runs,
        rows as f64 / secs
    );
    Ok(store)
}

async fn timed<T, F: std::future::Future<Output = Result<T, StoreError>>>(
    label: &str,
    f: F,
) -> Result<T, String> {
    let t = Instant::now();
    let v = f.await.map_err(|e| e.to_string())?;
    println!("  {label}: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    Ok(v)
}

async fn query_phase(a: &Args) -> Result<(), String> {
    generate(a).await?.close().await;
    let bytes = std::fs::metadata(&a.db).map(|m| m.len()).unwrap_or(0);
    println!("database {}: {:.0} MiB", a.db, bytes as f64 / 1048576.0);
    let store = Store::open(&format!("sqlite://{}", a.db), OpenMode::ReadOnly)
        .await
        .map_err(|e| e.to_string())?;
    let count = store
        .query_readonly("SELECT (SELECT COUNT(*) FROM runs), (SELECT COUNT(*) FROM metrics)")
        .await
        .map_err(|e| e.to_string())?;
    println!("runs, metric rows: {:?}", count.rows[0]);
    for round in 0..2 {
        println!(
            "round {round} ({}):",
            if round == 0 { "cold-ish" } else { "warm" }
        );
        let all = timed(
            "list runs (all, params + final metrics)",
            store.list_runs(&RunFilter::default()),
        )
        .await?;
        let f = RunFilter {
            experiment: Some("exp3".into()),
            ..Default::default()
        };
        let one = timed("list runs --experiment exp3", store.list_runs(&f)).await?;
        let w = RunFilter {
            where_expr: Some(
                "loss.alpha >= 0.4 and test.t2v_r1 > 50 and model.fusion = cgaf".into(),
            ),
            ..Default::default()
        };
        let some = timed(
            "list runs --where 'loss.alpha >= 0.4 and test.t2v_r1 > 50 and model.fusion = cgaf'",
            store.list_runs(&w),
        )
        .await?;
        let mid = all.get(all.len() / 2).map(|s| s.run.id).unwrap_or(1);
        let h = timed(
            "metric history of one run (all metrics)",
            store.metric_history(mid, None, None),
        )
        .await?;
        let h1 = timed(
            "metric history of one run, one metric",
            store.metric_history(mid, Some("t2v_r1"), Some("test")),
        )
        .await?;
        timed("show one run (run_detail)", store.run_detail(mid)).await?;
        if round == 1 {
            println!(
                "  (rows: all {}, exp3 {}, where {}, history {} / {})",
                all.len(),
                one.len(),
                some.len(),
                h.len(),
                h1.len()
            );
        }
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let a = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("store_bench: {e}");
            std::process::exit(2);
        }
    };
    let res = match a.child {
        Some(i) => child_writer(&a, i).await,
        None => match writers_phase(&a).await {
            Ok(()) => query_phase(&a).await,
            Err(e) => Err(e),
        },
    };
    if let Err(e) = res {
        eprintln!("store_bench: {e}");
        std::process::exit(1);
    }
}
