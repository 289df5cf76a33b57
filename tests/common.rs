//! Helpers shared by the end-to-end tests: a scratch directory, the binary, tiny experiments.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Path of the seds-lab binary built for these tests.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_seds-lab"))
}

/// A fresh scratch directory under the target dir's tmp.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("seds-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs seds-lab in `dir` with its own database; returns the output.
pub fn seds(dir: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .current_dir(dir)
        .env("SEDS_LAB_DB", dir.join("runs/seds-lab.db"))
        .args(args)
        .output()
        .expect("seds-lab runs")
}

/// Runs seds-lab like [`seds`] and asserts its exit code (printing its output when it differs).
pub fn seds_expect(dir: &Path, args: &[&str], code: i32) -> Output {
    let o = seds(dir, args);
    assert_eq!(o.status.code(), Some(code), "{}", text(&o));
    o
}

/// stdout + stderr as one string, for assertion messages.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A tiny, fast experiment: SynthSign with explicit small sizes and the tiny model.
pub const TINY_BASE: &str = r#"
seeds = [1]

[data]
source = "synth"
preset = "tiny"
cache_dir = "cache"

[data.sizes]
train_sentences = 24
dev_sentences = 8
test_sentences = 8
takes_per_sentence = 2

[model]
size = "tiny"

[train]
epochs = 2
batch_size = 8
"#;

/// Writes `base.toml` (TINY_BASE) and `exp.toml` (`extends = "base.toml"` + `body`) into `dir`.
pub fn write_experiment(dir: &Path, body: &str) -> PathBuf {
    std::fs::write(dir.join("base.toml"), TINY_BASE).unwrap();
    let p = dir.join("exp.toml");
    std::fs::write(&p, format!("extends = \"base.toml\"\n{body}")).unwrap();
    p
}

/// Rows of a read-only query as JSON objects.
pub fn query(dir: &Path, sql: &str) -> Vec<serde_json::Value> {
    let o = seds(dir, &["query", sql, "--format", "json"]);
    assert!(o.status.success(), "query failed: {}", text(&o));
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("query output is not JSON ({e}): {}", text(&o)))
}

/// Starts seds-lab in `dir` in the background (output discarded), with its own database.
pub fn spawn_seds(dir: &Path, args: &[&str]) -> std::process::Child {
    Command::new(bin())
        .current_dir(dir)
        .env("SEDS_LAB_DB", dir.join("runs/seds-lab.db"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("seds-lab starts")
}

/// Rows of a read-only query, or `None` while the database does not exist or cannot answer yet.
pub fn try_query(dir: &Path, sql: &str) -> Option<Vec<serde_json::Value>> {
    if !dir.join("runs/seds-lab.db").exists() {
        return None;
    }
    let o = seds(dir, &["query", sql, "--format", "json"]);
    if !o.status.success() {
        return None;
    }
    serde_json::from_slice(&o.stdout).ok()
}

/// Polls `probe` every 200 ms until it yields a value; fails the test after 10 minutes.
pub fn wait_for<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
        if let Some(v) = probe() {
            return v;
        }
    }
}
