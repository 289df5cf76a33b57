//! Validation: structural checks of a section against its typed struct (unknown keys with
//! "did you mean", wrong types, unknown enum values, each with a position), and the semantic
//! checks of a resolved [`RunConfig`] ([`check_run`], pure and reusable by other crates).

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::error::{line_col, ConfigError};
use crate::schema::{DataSource, Fusion, RunConfig, Streams};
use crate::suggest::closest;
use crate::tree::{Entry, Kind, Node, Pos, Sources};

/// Error collector with the loaded sources (to turn positions into line/column).
#[derive(Debug, Default)]
pub(crate) struct Ctx {
    /// Loaded texts.
    pub sources: Sources,
    /// Collected errors with their source index (for sorting).
    pub errors: Vec<(usize, ConfigError)>,
}

impl Ctx {
    /// Record an error at `pos` (or without a position, in the experiment file).
    pub fn err(
        &mut self,
        pos: Option<Pos>,
        key: &str,
        message: impl Into<String>,
        expected: Option<String>,
        suggestion: Option<String>,
    ) {
        let file_idx = pos.map(|p| p.file).unwrap_or(0);
        let (file, line, column) = match self.sources.files.get(file_idx) {
            Some(src) => {
                let lc = pos.and_then(|p| p.offset).map(|o| line_col(&src.text, o));
                (src.path.clone(), lc.map(|x| x.0), lc.map(|x| x.1))
            }
            None => (Default::default(), None, None),
        };
        let e = ConfigError {
            file,
            line,
            column,
            key: key.to_string(),
            message: message.into(),
            expected,
            suggestion,
        };
        self.errors.push((file_idx, e));
    }

    /// Number of errors so far.
    pub fn count(&self) -> usize {
        self.errors.len()
    }

    /// Deduplicated errors sorted by file (load order), line and column; position-less last.
    pub fn finish(self) -> Vec<ConfigError> {
        let mut out: Vec<(usize, ConfigError)> = Vec::new();
        for (f, e) in self.errors {
            if !out.iter().any(|(_, x)| *x == e) {
                out.push((f, e));
            }
        }
        out.sort_by_key(|(f, e)| (*f, e.line.is_none(), e.line, e.column));
        out.into_iter().map(|(_, e)| e).collect()
    }
}

/// The dotted keys of every run field, leaves only (`data.source`, `data.sizes.signers`,
/// ..., `eval.export_scores`); `seed` excluded.
pub fn run_keys() -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(Value::Object(m)) = serde_json::to_value(RunConfig::default()) {
        for (sec, v) in &m {
            if let Value::Object(_) = v {
                leaf_keys(v, sec, &mut out);
            }
        }
    }
    out
}

fn leaf_keys(v: &Value, prefix: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, x)| leaf_keys(x, &format!("{prefix}.{k}"), out)),
        _ => out.push(prefix.to_string()),
    }
}

/// Suggest a run key for a misspelt dotted key: close spelling, or a bare field name that
/// exists in exactly one section.
pub(crate) fn suggest_run_key(key: &str, keys: &[String]) -> Option<String> {
    if let Some(s) = closest(key, keys) {
        return Some(s);
    }
    let last = key.rsplit('.').next().unwrap_or(key);
    let matches: Vec<&String> = keys
        .iter()
        .filter(|k| k.rsplit('.').next() == Some(last))
        .collect();
    if matches.len() == 1 {
        return Some(matches[0].clone());
    }
    // Misspelt field in the right section.
    let (sec, field) = key.split_once('.')?;
    let in_sec: Vec<String> = keys
        .iter()
        .filter_map(|k| k.strip_prefix(&format!("{sec}.")).map(str::to_string))
        .collect();
    closest(field, &in_sec).map(|f| format!("{sec}.{f}"))
}

/// A probe: try to deserialise the whole section from a candidate JSON object.
type Probe<'a> = &'a dyn Fn(serde_json::Map<String, Value>) -> Result<(), String>;

/// Check one section (`entry` is `None` when absent: defaults) against type `T`.
/// Reports every bad key and returns a best-effort value (bad keys left at their defaults)
/// with the dotted keys that were bad (empty when the section is clean).
pub(crate) fn check_section<T: Default + Serialize + DeserializeOwned>(
    ctx: &mut Ctx,
    name: &str,
    entry: Option<&Entry>,
) -> (T, Vec<String>) {
    let Some(entry) = entry else {
        return (T::default(), Vec::new());
    };
    let Ok(Value::Object(default)) = serde_json::to_value(T::default()) else {
        return (T::default(), Vec::new());
    };
    let probe = |m: serde_json::Map<String, Value>| {
        serde_json::from_value::<T>(Value::Object(m))
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let mut bad = Vec::new();
    let good = check_table(ctx, name, &entry.node, &default, &probe, &mut bad);
    match serde_json::from_value::<T>(Value::Object(good)) {
        Ok(v) => (v, bad),
        Err(err) => {
            ctx.err(Some(entry.node.pos), name, err.to_string(), None, None);
            bad.push(name.to_string());
            (T::default(), bad)
        }
    }
}

/// Check the keys of one table (a section or a nested struct inside it) against the
/// default JSON object of its type; returns the JSON of the good keys.
fn check_table(
    ctx: &mut Ctx,
    path: &str,
    node: &Node,
    default: &serde_json::Map<String, Value>,
    probe: Probe<'_>,
    bad: &mut Vec<String>,
) -> serde_json::Map<String, Value> {
    let mut obj = serde_json::Map::new();
    let Kind::Table(entries) = &node.kind else {
        let what = if path.contains('.') {
            "a table".to_string()
        } else {
            format!("a [{path}] table")
        };
        ctx.err(
            Some(node.pos),
            path,
            format!("expected a table, found {}", node.type_name()),
            Some(what),
            None,
        );
        bad.push(path.to_string());
        return obj;
    };
    let allowed: Vec<String> = default.keys().cloned().collect();
    for e in entries {
        let key = format!("{path}.{}", e.key);
        if !default.contains_key(&e.key) {
            bad.push(key.clone());
            if e.key == "seed" {
                ctx.err(
                    Some(e.key_pos),
                    &key,
                    "a run's seed is not set per section",
                    Some("the top-level `seeds` list, e.g. seeds = [1, 2, 3]".into()),
                    Some("seeds".into()),
                );
            } else {
                ctx.err(
                    Some(e.key_pos),
                    &key,
                    format!("unknown key `{}` in [{path}]", e.key),
                    Some(format!("one of {}", allowed.join(", "))),
                    closest(&e.key, &allowed),
                );
            }
            continue;
        }
        if let Some(p) = e.node.find_non_finite() {
            bad.push(key.clone());
            ctx.err(
                Some(p),
                &key,
                "nan and inf are not allowed",
                Some("a finite number".into()),
                None,
            );
            continue;
        }
        if let (Some(Value::Object(sub_default)), Kind::Table(_)) =
            (default.get(&e.key), &e.node.kind)
        {
            let sub_probe = |m: serde_json::Map<String, Value>| {
                let mut c = default.clone();
                c.insert(e.key.clone(), Value::Object(m));
                probe(c)
            };
            let sub = check_table(ctx, &key, &e.node, sub_default, &sub_probe, bad);
            obj.insert(e.key.clone(), Value::Object(sub));
            continue;
        }
        let json = e.node.to_json();
        let mut cand = default.clone();
        cand.insert(e.key.clone(), json.clone());
        if let Err(msg) = probe(cand) {
            bad.push(key.clone());
            let (message, expected, suggestion) =
                translate_serde(&msg, &e.node, default, &e.key, probe);
            ctx.err(Some(e.node.pos), &key, message, expected, suggestion);
            continue;
        }
        obj.insert(e.key.clone(), json);
    }
    obj
}

/// Backtick-quoted tokens of a serde message after its first `expected`.
fn expected_variants(msg: &str) -> Vec<String> {
    let Some(idx) = msg.find("expected") else {
        return Vec::new();
    };
    msg[idx..]
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn quote_list(items: &[String]) -> String {
    let q: Vec<String> = items.iter().map(|s| format!("\"{s}\"")).collect();
    format!("one of {}", q.join(", "))
}

/// Turn serde type names into words a TOML user knows.
fn humanise(expected: &str) -> String {
    match expected.trim() {
        "f64" | "f32" => "a number".into(),
        "usize" | "u64" | "u32" | "u16" | "u8" => "a non-negative integer".into(),
        "i64" | "i32" => "an integer".into(),
        "a sequence" => "an array".into(),
        "a boolean" => "a boolean (true or false)".into(),
        other => other.to_string(),
    }
}

fn show_value(node: &Node) -> String {
    match &node.kind {
        Kind::Str(s) => format!("{} \"{s}\"", node.type_name()),
        Kind::Int(i) => format!("{} {i}", node.type_name()),
        Kind::Float(x) => format!("{} {x}", node.type_name()),
        Kind::Bool(b) => format!("{} {b}", node.type_name()),
        _ => node.type_name().to_string(),
    }
}

/// Translate a serde error for one field into (message, expected, suggestion).
fn translate_serde(
    msg: &str,
    node: &Node,
    default: &serde_json::Map<String, Value>,
    key: &str,
    probe: Probe<'_>,
) -> (String, Option<String>, Option<String>) {
    if let Some(rest) = msg.strip_prefix("unknown variant `") {
        let given = rest.split('`').next().unwrap_or("").to_string();
        let allowed = expected_variants(msg);
        let sugg = closest(&given, &allowed);
        return (
            format!("unknown value \"{given}\""),
            Some(quote_list(&allowed)),
            sugg,
        );
    }
    if msg.starts_with("invalid type") || msg.starts_with("invalid value") {
        let exp = msg.split_once(", expected ").map(|x| x.1).unwrap_or("");
        // An enum given a non-string: probe with a bogus string to learn the allowed values.
        if matches!(default.get(key), Some(Value::String(_))) && !matches!(node.kind, Kind::Str(_))
        {
            let mut cand = default.clone();
            cand.insert(key.to_string(), Value::String("\u{1}".into()));
            if let Err(e) = probe(cand) {
                let allowed = expected_variants(&e);
                if !allowed.is_empty() {
                    return (
                        format!("wrong type: found {}", show_value(node)),
                        Some(format!("a string, {}", quote_list(&allowed))),
                        None,
                    );
                }
            }
        }
        let what = if msg.starts_with("invalid type") {
            format!("wrong type: found {}", show_value(node))
        } else {
            format!("invalid value: {}", show_value(node))
        };
        let mut expected = humanise(exp);
        if let Value::Array(_) = default.get(key).unwrap_or(&Value::Null) {
            if !matches!(node.kind, Kind::Array(_)) {
                expected = "an array".into();
            } else {
                expected = format!("an array whose items are {expected}");
            }
        }
        return (what, Some(expected), None);
    }
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let given = rest.split('`').next().unwrap_or("").to_string();
        let allowed = expected_variants(msg);
        let sugg = closest(&given, &allowed);
        return (
            format!("unknown key `{given}`"),
            Some(format!("one of {}", allowed.join(", "))),
            sugg,
        );
    }
    (msg.to_string(), None, None)
}

/// One semantic problem of a resolved run configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Issue {
    /// Dotted key the problem is about.
    pub key: String,
    /// What is wrong (may end with a hint).
    pub message: String,
    /// What was expected.
    pub expected: Option<String>,
    /// Other keys involved (used to find a position when `key` is left at its default).
    pub related: Vec<String>,
}

fn issue(key: &str, message: String, expected: &str, related: &[&str]) -> Issue {
    Issue {
        key: key.into(),
        message,
        expected: Some(expected.into()),
        related: related.iter().map(|s| s.to_string()).collect(),
    }
}

fn fmt_f(x: f64) -> String {
    crate::hash::format_float(x)
}

/// True for "cpu", "cuda" and "cuda:N".
pub fn valid_device(d: &str) -> bool {
    d == "cpu"
        || d == "cuda"
        || d.strip_prefix("cuda:")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Semantic checks of a resolved run configuration (ranges, consistency of switches).
/// Empty when the configuration is valid.
pub fn check_run(cfg: &RunConfig) -> Vec<Issue> {
    let mut out = Vec::new();
    let prob = |out: &mut Vec<Issue>, key: &str, v: f64| {
        if !(0.0..=1.0).contains(&v) {
            out.push(issue(
                key,
                format!("probability {} is outside [0, 1]", fmt_f(v)),
                "a number in [0, 1]",
                &[],
            ));
        }
    };
    prob(&mut out, "data.swap_prob", cfg.data.swap_prob);
    prob(&mut out, "model.dropout", cfg.model.dropout);
    prob(&mut out, "loss.dual_mix", cfg.loss.dual_mix);
    prob(&mut out, "train.warmup", cfg.train.warmup);

    let d = &cfg.data;
    if d.source != DataSource::Synth && d.root.as_deref().is_none_or(|r| r.trim().is_empty()) {
        out.push(issue(
            "data.root",
            format!(
                "data.source = \"{}\" needs the dataset's root directory",
                enum_name(&d.source)
            ),
            "data.root = \"/path/to/dataset\"",
            &["data.source"],
        ));
    }
    if d.clip_window < 1 {
        out.push(issue(
            "data.clip_window",
            "clip_window must be at least 1".into(),
            "an integer >= 1",
            &[],
        ));
    }
    if d.clip_stride < 1 {
        out.push(issue(
            "data.clip_stride",
            "clip_stride must be at least 1".into(),
            "an integer >= 1",
            &[],
        ));
    }
    if d.max_clips < 1 {
        out.push(issue(
            "data.max_clips",
            "max_clips must be at least 1".into(),
            "an integer >= 1",
            &[],
        ));
    }
    if d.max_words < 2 {
        out.push(issue(
            "data.max_words",
            format!(
                "max_words = {} leaves no room for a word between the start and end tokens",
                d.max_words
            ),
            "an integer >= 2",
            &[],
        ));
    }

    let m = &cfg.model;
    match (m.streams, m.fusion) {
        (Streams::Pose | Streams::Rgb, f) if f != Fusion::None => out.push(issue(
            "model.fusion",
            format!("streams = \"{}\" uses one stream, so there is nothing to fuse; hint: set model.fusion = \"none\" (or model.streams = \"dual\")", enum_name(&m.streams)),
            "\"none\" with a single stream",
            &["model.streams"],
        )),
        (Streams::Dual, Fusion::None) => out.push(issue(
            "model.fusion",
            "streams = \"dual\" needs a fusion; hint: set model.fusion = \"cgaf\", \"mlp\" or \"sum\" (or use a single stream)".into(),
            "one of \"cgaf\", \"mlp\", \"sum\" with two streams",
            &["model.streams"],
        )),
        _ => {}
    }
    if m.fusion == Fusion::Cgaf {
        if m.cgaf_keys.is_empty() {
            out.push(issue(
                "model.cgaf_keys",
                "fusion = \"cgaf\" needs at least one CGAF layer".into(),
                "a non-empty array of integers >= 1, e.g. [5, 3]",
                &["model.fusion"],
            ));
        } else if m.cgaf_keys.contains(&0) {
            out.push(issue(
                "model.cgaf_keys",
                "every CGAF layer needs at least 1 key".into(),
                "integers >= 1",
                &["model.fusion"],
            ));
        }
    }

    let l = &cfg.loss;
    if !(l.tau > 0.0) {
        out.push(issue(
            "loss.tau",
            format!("temperature {} must be positive", fmt_f(l.tau)),
            "a number > 0",
            &[],
        ));
    }
    for (k, v) in [("loss.alpha", l.alpha), ("loss.beta", l.beta)] {
        if !(v >= 0.0) {
            out.push(issue(
                k,
                format!("loss weight {} is negative", fmt_f(v)),
                "a number >= 0",
                &[],
            ));
        }
    }
    if !(l.logit_scale_max > 0.0) {
        out.push(issue(
            "loss.logit_scale_max",
            format!(
                "logit_scale_max {} must be positive",
                fmt_f(l.logit_scale_max)
            ),
            "a number > 0",
            &[],
        ));
    } else if !(l.logit_scale_init > 0.0 && l.logit_scale_init <= l.logit_scale_max) {
        out.push(issue(
            "loss.logit_scale_init",
            format!(
                "logit_scale_init {} is outside (0, logit_scale_max = {}]",
                fmt_f(l.logit_scale_init),
                fmt_f(l.logit_scale_max)
            ),
            "a number in (0, logit_scale_max]",
            &["loss.logit_scale_max"],
        ));
    }

    let t = &cfg.train;
    if t.epochs < 1 {
        out.push(issue(
            "train.epochs",
            "epochs must be at least 1".into(),
            "an integer >= 1",
            &[],
        ));
    }
    if t.batch_size < 2 {
        out.push(issue(
            "train.batch_size",
            format!(
                "batch_size = {} gives a contrastive loss no negatives",
                t.batch_size
            ),
            "an integer >= 2",
            &[],
        ));
    }
    for (k, v) in [("train.lr", t.lr), ("train.lr_towers", t.lr_towers)] {
        if !(v > 0.0) {
            out.push(issue(
                k,
                format!("learning rate {} must be positive", fmt_f(v)),
                "a number > 0",
                &[],
            ));
        }
    }
    for (k, v) in [
        ("train.weight_decay", t.weight_decay),
        ("train.grad_clip", t.grad_clip),
    ] {
        if !(v >= 0.0) {
            out.push(issue(
                k,
                format!("{} is negative", fmt_f(v)),
                "a number >= 0",
                &[],
            ));
        }
    }
    if !valid_device(&t.device) {
        out.push(issue(
            "train.device",
            format!("unknown device \"{}\"", t.device),
            "\"cpu\", \"cuda\" or \"cuda:N\"",
            &[],
        ));
    }
    if t.eval_every < 1 {
        out.push(issue(
            "train.eval_every",
            "eval_every must be at least 1".into(),
            "an integer >= 1",
            &[],
        ));
    }
    if cfg.eval.gallery_batch < 1 {
        out.push(issue(
            "eval.gallery_batch",
            "gallery_batch must be at least 1".into(),
            "an integer >= 1",
            &[],
        ));
    }
    out
}

/// The serialised (kebab-case) name of an enum value.
pub(crate) fn enum_name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Semantic checks of the executor settings.
pub(crate) fn check_executor(cfg: &crate::executor::ExecutorConfig) -> Vec<Issue> {
    let mut out = Vec::new();
    if cfg.jobs < 1 {
        out.push(issue(
            "executor.jobs",
            "jobs must be at least 1".into(),
            "an integer >= 1",
            &[],
        ));
    }
    if cfg.array_parallelism == Some(0) {
        out.push(issue(
            "executor.array_parallelism",
            "array_parallelism must be at least 1".into(),
            "an integer >= 1 (or leave it out)",
            &[],
        ));
    }
    out
}

/// Validate a run tree (sections only) into a [`RunConfig`] (seed 0), reporting structural
/// and semantic errors with positions taken from `node`. Semantic checks run on a
/// best-effort value (bad keys at their defaults) and skip issues about bad keys, so every
/// error is reported in one pass (`semantic = false`: structural checks only, for the
/// shared base of cells). `None` if anything is wrong.
pub(crate) fn validate_run(ctx: &mut Ctx, node: &Node, semantic: bool) -> Option<RunConfig> {
    let before = ctx.count();
    let mut bad = Vec::new();
    let (data, b) = check_section(ctx, "data", node.entry("data"));
    bad.extend(b);
    let (model, b) = check_section(ctx, "model", node.entry("model"));
    bad.extend(b);
    let (loss, b) = check_section(ctx, "loss", node.entry("loss"));
    bad.extend(b);
    let (train, b) = check_section(ctx, "train", node.entry("train"));
    bad.extend(b);
    let (eval, b) = check_section(ctx, "eval", node.entry("eval"));
    bad.extend(b);
    let cfg = RunConfig {
        seed: 0,
        data,
        model,
        loss,
        train,
        eval,
    };
    if semantic {
        report_issues(ctx, node, check_run(&cfg), &bad);
    }
    (ctx.count() == before).then_some(cfg)
}

/// Report semantic issues at the position of their key (or a related key) in `node`,
/// skipping issues that involve a key already reported as bad.
pub(crate) fn report_issues(ctx: &mut Ctx, node: &Node, issues: Vec<Issue>, bad: &[String]) {
    let covered = |k: &str| {
        bad.iter()
            .any(|b| k == b || k.starts_with(&format!("{b}.")))
    };
    for is in issues {
        if covered(&is.key) || is.related.iter().any(|r| covered(r)) {
            continue;
        }
        let pos = std::iter::once(&is.key)
            .chain(is.related.iter())
            .find_map(|k| {
                let parts: Vec<&str> = k.split('.').collect();
                node.get_path(&parts).map(|e| e.node.pos)
            });
        ctx.err(pos, &is.key, is.message, is.expected, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_pass_semantic_checks() {
        assert_eq!(check_run(&RunConfig::default()), Vec::<Issue>::new());
    }

    #[test]
    fn semantic_checks_fire() {
        let mut c = RunConfig::default();
        c.data.swap_prob = 1.5;
        c.loss.tau = 0.0;
        c.loss.alpha = -0.1;
        c.loss.logit_scale_init = 200.0;
        c.train.batch_size = 1;
        c.train.epochs = 0;
        c.train.device = "gpu".into();
        c.model.streams = Streams::Pose;
        c.data.max_words = 1;
        c.data.source = DataSource::How2sign;
        let keys: Vec<String> = check_run(&c).into_iter().map(|i| i.key).collect();
        for k in [
            "data.swap_prob",
            "loss.tau",
            "loss.alpha",
            "loss.logit_scale_init",
            "train.batch_size",
            "train.epochs",
            "train.device",
            "model.fusion",
            "data.max_words",
            "data.root",
        ] {
            assert!(keys.contains(&k.to_string()), "missing {k} in {keys:?}");
        }
        assert_eq!(keys.len(), 10, "{keys:?}");
    }

    #[test]
    fn cgaf_keys_and_dual_none() {
        let mut c = RunConfig::default();
        c.model.cgaf_keys = vec![];
        assert_eq!(check_run(&c)[0].key, "model.cgaf_keys");
        c.model.cgaf_keys = vec![3, 0];
        assert_eq!(check_run(&c)[0].key, "model.cgaf_keys");
        c.model.fusion = Fusion::Mlp; // keys irrelevant without CGAF
        assert!(check_run(&c).is_empty());
        c.model.fusion = Fusion::None;
        let is = check_run(&c);
        assert_eq!(is.len(), 1);
        assert!(is[0].message.contains("hint"));
    }

    #[test]
    fn devices() {
        for ok in ["cpu", "cuda", "cuda:0", "cuda:12"] {
            assert!(valid_device(ok), "{ok}");
        }
        for bad in ["gpu", "cuda:", "cuda:x", "CPU", "cuda0"] {
            assert!(!valid_device(bad), "{bad}");
        }
    }

    #[test]
    fn run_keys_cover_sections() {
        let k = run_keys();
        assert!(k.contains(&"loss.alpha".to_string()));
        assert!(k.contains(&"data.root".to_string()));
        assert!(k.contains(&"data.sizes.signers".to_string()));
        assert!(!k.contains(&"data.sizes".to_string()));
        assert!(!k.iter().any(|x| x == "seed"));
        assert_eq!(suggest_run_key("alpha", &k), Some("loss.alpha".into()));
        assert_eq!(suggest_run_key("loss.alpah", &k), Some("loss.alpha".into()));
        assert_eq!(
            suggest_run_key("model.fusoin", &k),
            Some("model.fusion".into())
        );
        assert_eq!(suggest_run_key("zzz.qqq", &k), None);
    }
}
