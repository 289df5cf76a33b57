//! End-to-end: `seds-lab plan` on valid and invalid experiment files.

mod common;
use common::*;

#[test]
fn plan_lists_variants_grid_and_seeds_without_running() {
    let dir = scratch("plan");
    write_experiment(
        &dir,
        r#"
name = "plan-test"
seeds = [1, 2]
[grid]
"loss.alpha" = [0.0, 0.5]
[[variant]]
name = "dual"
[[variant]]
name = "mlp"
"model.fusion" = "mlp"
"#,
    );
    let o = seds(&dir, &["plan", "exp.toml", "--format", "json"]);
    assert!(o.status.success(), "{}", text(&o));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows.len(), 2 * 2 * 2, "variants x grid x seeds");
    assert!(rows.iter().all(|r| r["status"] == "new"));
    let hashes: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r["hash"].as_str().unwrap()).collect();
    assert_eq!(hashes.len(), 8, "every cell has its own identity");
    assert!(
        rows.iter().all(|r| r["hash"].as_str().unwrap().len() == 64),
        "full sha256 in json"
    );
    // Planning never creates the database.
    assert!(!dir.join("runs/seds-lab.db").exists());
    // The table form names the differing keys.
    let o = seds(&dir, &["plan", "exp.toml"]);
    let t = text(&o);
    assert!(
        t.contains("loss.alpha") && t.contains("model.fusion"),
        "{t}"
    );
}

#[test]
fn invalid_config_lists_every_error_with_position_and_exit_code_3() {
    let dir = scratch("plan-invalid");
    std::fs::write(
        dir.join("bad.toml"),
        "[model]\nfusoin = \"cgaf\"\nstreams = \"duall\"\n\n[loss]\nalpha = -1.0\n",
    )
    .unwrap();
    let o = seds_expect(&dir, &["plan", "bad.toml"], 3);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.toml:2:1"),
        "position of the misspelt key: {err}"
    );
    assert!(err.contains("fusion"), "did-you-mean for the key: {err}");
    assert!(
        err.contains("bad.toml:3:"),
        "position of the bad enum value: {err}"
    );
    assert!(
        err.contains("dual"),
        "did-you-mean for the enum value: {err}"
    );
    assert!(err.contains("loss.alpha"), "semantic error: {err}");
}

#[test]
fn missing_file_is_a_config_error_not_a_panic() {
    let dir = scratch("plan-missing");
    let o = seds_expect(&dir, &["plan", "nope.toml"], 3);
    assert!(text(&o).contains("nope.toml"));
    assert!(!text(&o).contains("panicked"));
}

/// Every experiment file shipped in experiments/ plans without errors, with the grid sizes
/// docs/results.md relies on (three seeds per cell), and nothing in it is completed in a fresh
/// database.
#[test]
fn shipped_experiment_files_all_plan() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let dir = scratch("plan-shipped");
    let expected_runs = [
        ("quickstart", 3),
        ("main", 9),
        ("ablation_alpha", 18),
        ("ablation_beta", 18),
        ("ablation_fusion", 30),
        ("ablation_release", 18),
        ("robustness", 18),
    ];
    for (name, runs) in expected_runs {
        let file = root.join(format!("{name}.toml"));
        let o = seds(&dir, &["plan", file.to_str().unwrap(), "--format", "json"]);
        assert!(o.status.success(), "{name}: {}", text(&o));
        let rows: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(rows.len(), runs, "{name}: runs in the plan");
        assert!(rows.iter().all(|r| r["status"] == "new"), "{name}");
        if name != "quickstart" {
            let seeds: std::collections::BTreeSet<u64> =
                rows.iter().map(|r| r["seed"].as_u64().unwrap()).collect();
            assert_eq!(seeds.len(), 3, "{name}: three seeds per cell");
        }
    }
    // The shared bases plan too (they are complete experiments on their own).
    for base in ["base", "ablation_base"] {
        let file = root.join(format!("{base}.toml"));
        let o = seds(&dir, &["plan", file.to_str().unwrap()]);
        assert!(o.status.success(), "{base}: {}", text(&o));
    }
}
