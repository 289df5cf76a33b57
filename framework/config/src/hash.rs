//! Run identity and parameter rows: the canonical JSON of a resolved run configuration
//! (sorted keys, normalised numbers, seed included, [`HASH_EXCLUDED_KEYS`] removed), its
//! SHA-256, the dotted key/value rows stored in the run database, and the keys that differ
//! between cells.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::experiment::Cell;
use crate::schema::{RunConfig, HASH_EXCLUDED_KEYS};

/// A typed parameter value for the run database's key/value rows.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamValue {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string (enum values are their kebab-case names).
    Str(String),
    /// A list, as compact JSON.
    List(String),
    /// An unset optional value.
    Null,
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Float(x) => write!(f, "{}", format_float(*x)),
            ParamValue::Str(s) => write!(f, "{s}"),
            ParamValue::List(s) => write!(f, "{s}"),
            ParamValue::Null => write!(f, "none"),
        }
    }
}

/// Normalised float text: integral values print without a fraction ("1", not "1.0"),
/// others in Rust's shortest round-trip form; -0 prints as 0.
pub fn format_float(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Canonical JSON of any JSON value: sorted object keys, no whitespace, normalised floats.
pub fn canonical_value(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else if let Some(u) = n.as_u64() {
                out.push_str(&u.to_string());
            } else {
                out.push_str(&format_float(n.as_f64().unwrap_or(f64::NAN)));
            }
        }
        Value::String(s) => out.push_str(&Value::String(s.clone()).to_string()),
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                write_canonical(&m[k.as_str()], out);
            }
            out.push('}');
        }
    }
}

/// Canonical JSON of a run configuration: sorted keys, normalised floats, the seed
/// included and [`HASH_EXCLUDED_KEYS`] removed.
pub fn canonical_json(cfg: &RunConfig) -> String {
    let mut v = serde_json::to_value(cfg).unwrap_or(Value::Null);
    for key in HASH_EXCLUDED_KEYS {
        remove_path(&mut v, key);
    }
    canonical_value(&v)
}

/// Remove the value at a dotted path from a JSON object tree (no-op when absent).
fn remove_path(v: &mut Value, dotted: &str) {
    let parts: Vec<&str> = dotted.split('.').collect();
    let Some((last, parents)) = parts.split_last() else {
        return;
    };
    let mut cur = v;
    for p in parents {
        match cur.get_mut(*p) {
            Some(next) => cur = next,
            None => return,
        }
    }
    if let Value::Object(m) = cur {
        m.remove(*last);
    }
}

/// SHA-256 (lower-case hex) of [`canonical_json`]: the identity of a run.
pub fn config_hash(cfg: &RunConfig) -> String {
    hex::encode(Sha256::digest(canonical_json(cfg).as_bytes()))
}

/// Dotted key / typed value rows of a run configuration, in schema order (`seed` first).
/// Every key is present, including those excluded from the hash.
pub fn flatten(cfg: &RunConfig) -> Vec<(String, ParamValue)> {
    let v = serde_json::to_value(cfg).unwrap_or(Value::Null);
    let mut out = Vec::new();
    flatten_value(&v, "", &mut out);
    out
}

fn flatten_value(v: &Value, prefix: &str, out: &mut Vec<(String, ParamValue)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_value(x, &p, out);
            }
        }
        leaf => out.push((prefix.to_string(), param_value(leaf))),
    }
}

/// Convert a JSON leaf to a [`ParamValue`].
pub fn param_value(v: &Value) -> ParamValue {
    match v {
        Value::Null => ParamValue::Null,
        Value::Bool(b) => ParamValue::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                ParamValue::Int(i)
            } else if let Some(u) = n.as_u64() {
                ParamValue::Str(u.to_string())
            } else {
                ParamValue::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(s) => ParamValue::Str(s.clone()),
        other => ParamValue::List(canonical_value(other)),
    }
}

/// Dotted keys whose values differ between cells (seed excluded), in schema order.
pub fn differing_keys(cells: &[Cell]) -> Vec<String> {
    let Some(first) = cells.first() else {
        return Vec::new();
    };
    let rows: Vec<Vec<(String, ParamValue)>> = cells.iter().map(|c| flatten(&c.config)).collect();
    let mut out = Vec::new();
    for (i, (key, v0)) in flatten(&first.config).iter().enumerate() {
        if key == "seed" {
            continue;
        }
        let differs = rows.iter().any(|r| {
            r.get(i)
                .is_none_or(|(k, v)| k != key || v.to_string() != v0.to_string())
        });
        if differs {
            out.push(key.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_normalise() {
        assert_eq!(format_float(1.0), "1");
        assert_eq!(format_float(-0.0), "0");
        assert_eq!(format_float(0.2), "0.2");
        assert_eq!(format_float(1e-3), "0.001");
        assert_eq!(
            canonical_value(&serde_json::json!({"b": 1.0, "a": [0.5, 2], "c": "x"})),
            r#"{"a":[0.5,2],"b":1,"c":"x"}"#
        );
    }

    #[test]
    fn canonical_excludes_paths_and_keeps_seed() {
        let mut cfg = RunConfig::default();
        cfg.seed = 7;
        let c = canonical_json(&cfg);
        assert!(c.starts_with("{\"data\":{"), "{c}");
        assert!(c.contains("\"seed\":7"));
        assert!(!c.contains("cache_dir"));
        assert!(!c.contains("threads"));
        assert!(!c.contains("device"));
        assert!(c.contains("\"alpha\":0.8"));
        let mut other = cfg.clone();
        other.data.cache_dir = "/elsewhere".into();
        other.train.threads = 8;
        assert_eq!(config_hash(&cfg), config_hash(&other));
        other.loss.alpha = 0.81;
        assert_ne!(config_hash(&cfg), config_hash(&other));
        assert_eq!(config_hash(&cfg).len(), 64);
    }

    #[test]
    fn flatten_rows_are_typed() {
        let rows = flatten(&RunConfig::default());
        let get = |k: &str| rows.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.clone());
        assert_eq!(rows[0].0, "seed");
        assert_eq!(get("seed"), Some(ParamValue::Int(0)));
        assert_eq!(get("loss.alpha"), Some(ParamValue::Float(0.8)));
        assert_eq!(get("model.fusion"), Some(ParamValue::Str("cgaf".into())));
        assert_eq!(
            get("model.cgaf_keys"),
            Some(ParamValue::List("[5,3]".into()))
        );
        assert_eq!(get("data.root"), Some(ParamValue::Null));
        assert_eq!(get("data.text_augment"), Some(ParamValue::Bool(true)));
        assert_eq!(get("train.device"), Some(ParamValue::Str("cpu".into())));
    }
}
