//! Pure shaping of query results: run comparison and CSV export.

use std::collections::{BTreeMap, BTreeSet};

use crate::types::{Comparison, ParamValue, RunSummary};

/// Compares run summaries (kept in the given order): params that differ (or are missing in
/// some runs), params common to all, and the union of final metrics side by side.
pub fn compare_summaries(runs: Vec<RunSummary>) -> Comparison {
    let keys: BTreeSet<&String> = runs.iter().flat_map(|r| r.params.keys()).collect();
    let mut differing_params = Vec::new();
    let mut common_params = Vec::new();
    for key in keys {
        let values: Vec<Option<ParamValue>> =
            runs.iter().map(|r| r.params.get(key).cloned()).collect();
        let first = &values[0];
        if first.is_some() && values.iter().all(|v| v == first) {
            if let Some(v) = first.clone() {
                common_params.push((key.clone(), v));
            }
        } else {
            differing_params.push((key.clone(), values));
        }
    }
    let metric_keys: BTreeSet<&String> = runs.iter().flat_map(|r| r.finals.keys()).collect();
    let metrics = metric_keys
        .into_iter()
        .map(|k| {
            (
                k.clone(),
                runs.iter().map(|r| r.finals.get(k).copied()).collect(),
            )
        })
        .collect();
    Comparison {
        runs,
        differing_params,
        common_params,
        metrics,
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// CSV with one row per run: fixed run columns, then every param key (`param:KEY`) and every
/// final metric (`metric:split.name`) seen in ANY run (missing cells empty), so a parameter
/// first used in a later run still gets a column.
pub fn runs_to_csv(runs: &[RunSummary]) -> String {
    let params: BTreeSet<&String> = runs.iter().flat_map(|r| r.params.keys()).collect();
    let metrics: BTreeSet<&String> = runs.iter().flat_map(|r| r.finals.keys()).collect();
    let mut header: Vec<String> = [
        "run_id",
        "experiment",
        "cell",
        "config_hash",
        "seed",
        "status",
        "attempt",
        "started_at",
        "finished_at",
        "git_commit",
        "git_dirty",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(params.iter().map(|k| format!("param:{k}")));
    header.extend(metrics.iter().map(|k| format!("metric:{k}")));
    let mut out = header
        .iter()
        .map(|h| csv_field(h))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    let opt = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
    for r in runs {
        let run = &r.run;
        let mut row = vec![
            run.id.to_string(),
            r.experiment.clone(),
            run.cell.clone(),
            run.config_hash.clone(),
            run.seed.to_string(),
            run.status.to_string(),
            run.attempt.to_string(),
            opt(run.started_at),
            opt(run.finished_at),
            run.provenance.git_commit.clone().unwrap_or_default(),
            run.provenance
                .git_dirty
                .map(|d| d.to_string())
                .unwrap_or_default(),
        ];
        row.extend(
            params
                .iter()
                .map(|k| r.params.get(*k).map(|v| v.to_text()).unwrap_or_default()),
        );
        row.extend(metrics.iter().map(|k| opt(r.finals.get(*k).copied())));
        out.push_str(
            &row.iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}

/// Map from `split.name` to value, for callers that build their own tables.
pub type Finals = BTreeMap<String, f64>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Provenance, RunRow, RunStatus};

    fn summary(id: i64, params: &[(&str, ParamValue)], finals: &[(&str, f64)]) -> RunSummary {
        RunSummary {
            run: RunRow {
                id,
                experiment_id: 1,
                cell: format!("c{id}"),
                config_hash: format!("h{id}"),
                config_json: "{}".into(),
                seed: id,
                status: RunStatus::Completed,
                stored_status: RunStatus::Completed,
                attempt: 1,
                created_at: 0.0,
                started_at: Some(1.5),
                heartbeat_at: None,
                finished_at: None,
                message: None,
                run_dir: None,
                provenance: Provenance::default(),
            },
            experiment: "exp,1".into(),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            finals: finals.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    #[test]
    fn compare_splits_differing_and_common_params() {
        let a = summary(
            1,
            &[
                ("a", ParamValue::Int(1)),
                ("b", ParamValue::Str("x".into())),
            ],
            &[("test.r1", 1.0)],
        );
        let b = summary(
            2,
            &[
                ("a", ParamValue::Int(2)),
                ("b", ParamValue::Str("x".into())),
                ("c", ParamValue::Bool(true)),
            ],
            &[("dev.r1", 2.0)],
        );
        let c = compare_summaries(vec![a, b]);
        assert_eq!(
            c.common_params,
            vec![("b".to_string(), ParamValue::Str("x".into()))]
        );
        assert_eq!(
            c.differing_params,
            vec![
                (
                    "a".to_string(),
                    vec![Some(ParamValue::Int(1)), Some(ParamValue::Int(2))]
                ),
                ("c".to_string(), vec![None, Some(ParamValue::Bool(true))]),
            ]
        );
        assert_eq!(
            c.metrics,
            vec![
                ("dev.r1".to_string(), vec![None, Some(2.0)]),
                ("test.r1".to_string(), vec![Some(1.0), None]),
            ]
        );
    }

    #[test]
    fn csv_has_the_union_of_columns_and_quotes() {
        let a = summary(1, &[("a", ParamValue::Float(0.5))], &[("test.r1", 1.0)]);
        let b = summary(2, &[("late", ParamValue::Str("q\"x".into()))], &[]);
        let csv = runs_to_csv(&[a, b]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(
            lines[0].ends_with(",param:a,param:late,metric:test.r1"),
            "{}",
            lines[0]
        );
        assert_eq!(lines[1], "1,\"exp,1\",c1,h1,1,COMPLETED,1,1.5,,,,0.5,,1");
        assert_eq!(
            lines[2],
            "2,\"exp,1\",c2,h2,2,COMPLETED,1,1.5,,,,,\"q\"\"x\","
        );
    }
}
