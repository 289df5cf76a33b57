//! Sweep axes: which config keys vary across cells, whether they are numeric, and how cells
//! group along one axis with the other axes held fixed (the basis of sweep and ablation
//! charts). Pure logic.

use crate::input::{AxisValue, CellInput, ReportInput};
use std::collections::BTreeSet;

/// The value of axis `key` for `cell`: from `cell.axes`, else parsed from `cell.params`
/// (`true`/`false` -> switch, a number -> number, otherwise text).
pub fn axis_value(cell: &CellInput, key: &str) -> Option<AxisValue> {
    if let Some(v) = cell.axes.get(key) {
        return Some(v.clone());
    }
    let s = cell.params.get(key)?;
    Some(match s.as_str() {
        "true" | "on" => AxisValue::Bool(true),
        "false" | "off" => AxisValue::Bool(false),
        _ => match s.parse::<f64>() {
            Ok(x) if x.is_finite() => AxisValue::Number(x),
            _ => AxisValue::Text(s.clone()),
        },
    })
}

/// A hashable/orderable text key of an axis value.
fn key_of(v: &AxisValue) -> String {
    match v {
        AxisValue::Number(x) => format!("{x}"),
        other => other.to_string(),
    }
}

/// The last component of a dotted key (`loss.alpha` -> `alpha`).
pub fn short_key(key: &str) -> &str {
    key.rsplit('.').next().unwrap_or(key)
}

/// Axes that take at least two distinct values over the cells: the declared `swept` keys
/// first (in order), then any other key of `cells[*].axes` (sorted). When neither is given
/// (an ad-hoc selection of runs), the config keys whose values differ between cells.
pub fn axis_keys(input: &ReportInput) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    if input.swept.is_empty() && input.cells.iter().all(|c| c.axes.is_empty()) {
        keys = crate::table::differing_params(&input.cells);
    }
    for k in &input.swept {
        if !keys.contains(k) {
            keys.push(k.clone());
        }
    }
    let extra: BTreeSet<&String> = input.cells.iter().flat_map(|c| c.axes.keys()).collect();
    for k in extra {
        if !keys.contains(k) {
            keys.push(k.clone());
        }
    }
    keys.into_iter()
        .filter(|k| {
            let vals: BTreeSet<String> = input
                .cells
                .iter()
                .filter_map(|c| axis_value(c, k))
                .map(|v| key_of(&v))
                .collect();
            vals.len() >= 2
        })
        .collect()
}

/// True when every cell that has axis `key` has a numeric value.
pub fn is_numeric(input: &ReportInput, key: &str) -> bool {
    let mut any = false;
    for c in &input.cells {
        match axis_value(c, key) {
            Some(AxisValue::Number(_)) => any = true,
            Some(_) => return false,
            None => {}
        }
    }
    any
}

/// Cells that differ only in one axis: the other axes' values (`rest`) and the member cells.
#[derive(Clone, Debug, PartialEq)]
pub struct AxisGroup {
    /// The other axes' values, e.g. `beta=0.4, fusion=cgaf` (empty when there are none).
    pub rest: String,
    /// `(value on the axis, index into input.cells)`, in cell order.
    pub members: Vec<(AxisValue, usize)>,
}

/// Groups the cells along `axis`, holding every other axis fixed. Groups with fewer than
/// two distinct values on the axis are dropped (they belong to another sweep).
pub fn group_by_axis(input: &ReportInput, axis: &str) -> Vec<AxisGroup> {
    let others: Vec<String> = axis_keys(input).into_iter().filter(|k| k != axis).collect();
    let mut groups: Vec<AxisGroup> = Vec::new();
    for (i, cell) in input.cells.iter().enumerate() {
        let Some(v) = axis_value(cell, axis) else {
            continue;
        };
        let rest = others
            .iter()
            .filter_map(|k| axis_value(cell, k).map(|v| format!("{}={}", short_key(k), v)))
            .collect::<Vec<_>>()
            .join(", ");
        match groups.iter_mut().find(|g| g.rest == rest) {
            Some(g) => g.members.push((v, i)),
            None => groups.push(AxisGroup {
                rest,
                members: vec![(v, i)],
            }),
        }
    }
    groups.retain(|g| {
        let distinct: BTreeSet<String> = g.members.iter().map(|(v, _)| key_of(v)).collect();
        distinct.len() >= 2
    });
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_at_a_time_sweeps_group_correctly() {
        let input = crate::demo::demo_input(1, 50);
        let keys = axis_keys(&input);
        assert_eq!(keys, vec!["loss.alpha", "loss.beta", "model.fusion"]);
        assert!(is_numeric(&input, "loss.alpha"));
        assert!(!is_numeric(&input, "model.fusion"));
        let g = group_by_axis(&input, "loss.alpha");
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].rest, "beta=0.4, fusion=cgaf");
        assert_eq!(g[0].members.len(), 6);
        let g = group_by_axis(&input, "loss.beta");
        assert_eq!(g.len(), 1);
        // beta=0.4 comes from the alpha=0.8 cell of the alpha sweep.
        assert_eq!(g[0].members.len(), 6);
        let g = group_by_axis(&input, "model.fusion");
        assert_eq!(g.len(), 1);
        let names: Vec<&str> = g[0]
            .members
            .iter()
            .map(|(_, i)| input.cells[*i].name.as_str())
            .collect();
        assert_eq!(
            names,
            vec!["alpha=0.8", "fusion=mlp", "fusion=sum", "fusion=none"]
        );
    }

    #[test]
    fn params_fallback_parses_types() {
        let mut c = CellInput::default();
        c.params.insert("a".into(), "0.5".into());
        c.params.insert("b".into(), "true".into());
        c.params.insert("c".into(), "cgaf".into());
        assert_eq!(axis_value(&c, "a"), Some(AxisValue::Number(0.5)));
        assert_eq!(axis_value(&c, "b"), Some(AxisValue::Bool(true)));
        assert_eq!(axis_value(&c, "c"), Some(AxisValue::Text("cgaf".into())));
        assert_eq!(axis_value(&c, "d"), None);
    }
}
