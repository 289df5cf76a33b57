//! Experiment files: loading (`extends` chains, deep merge, `--set` overrides), expansion of
//! `[[variant]]` x `[grid]` x `seeds` into cells, validation of everything with positions,
//! and cell naming and hashing. The pipeline is pure apart from reading files.

use std::path::{Path, PathBuf};

use crate::error::{ConfigError, ConfigErrors};
use crate::executor::ExecutorConfig;
use crate::hash::{canonical_value, config_hash, format_float};
use crate::schema::{RunConfig, HASH_EXCLUDED_KEYS};
use crate::suggest::closest;
use crate::tree::{Entry, Kind, Node, Pos};
use crate::validate::{
    check_executor, check_section, report_issues, run_keys, suggest_run_key, validate_run, Ctx,
};

/// Top-level keys of an experiment file.
pub const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "extends",
    "seeds",
    "reference",
    "grid",
    "variant",
    "executor",
    "data",
    "model",
    "loss",
    "train",
    "eval",
];

/// The run sections (the parts of a file that make up a [`RunConfig`]).
pub const RUN_SECTIONS: &[&str] = &["data", "model", "loss", "train", "eval"];

/// A loaded, validated and expanded experiment.
#[derive(Clone, Debug, PartialEq)]
pub struct Experiment {
    /// Experiment name (`name` key, default: the file stem).
    pub name: String,
    /// Free-text description.
    pub description: Option<String>,
    /// The experiment file.
    pub file: PathBuf,
    /// The experiment file's own text.
    pub source_text: String,
    /// The experiment file followed by its bases, in `extends` order.
    pub files: Vec<PathBuf>,
    /// Reference cell (or variant) name for paired comparisons in reports.
    pub reference: Option<String>,
    /// Executor settings.
    pub executor: ExecutorConfig,
    /// Expanded cells: variants x grid x seeds (seed innermost).
    pub cells: Vec<Cell>,
}

/// One run of an experiment: a variant, a grid point and a seed.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    /// Cell name without the seed (`variant/key=value,...`, or "base").
    pub name: String,
    /// Variant name, if the experiment has variants.
    pub variant: Option<String>,
    /// Variant override values, then grid values, that define the cell (dotted key, value).
    pub axes: Vec<(String, serde_json::Value)>,
    /// Training seed.
    pub seed: u64,
    /// Fully resolved configuration (its `seed` equals [`Cell::seed`]).
    pub config: RunConfig,
    /// Identity: hex SHA-256 of the canonical configuration.
    pub hash: String,
}

impl Experiment {
    /// Distinct cell names in plan order (each repeated once per seed in [`Experiment::cells`]).
    pub fn cell_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in &self.cells {
            if !out.contains(&c.name) {
                out.push(c.name.clone());
            }
        }
        out
    }

    /// Distinct seeds in plan order.
    pub fn seeds(&self) -> Vec<u64> {
        let mut out: Vec<u64> = Vec::new();
        for c in &self.cells {
            if !out.contains(&c.seed) {
                out.push(c.seed);
            }
        }
        out
    }
}

/// Load an experiment file, apply `--set key=value` overrides, validate and expand it.
pub fn load_experiment(path: &Path, overrides: &[String]) -> Result<Experiment, ConfigErrors> {
    match std::fs::read_to_string(path) {
        Ok(text) => load_experiment_str(&text, path, overrides),
        Err(e) => Err(ConfigErrors(vec![ConfigError {
            file: path.to_path_buf(),
            line: None,
            column: None,
            key: String::new(),
            message: format!("cannot read experiment file: {e}"),
            expected: None,
            suggestion: None,
        }])),
    }
}

/// Like [`load_experiment`] with the file's text given; `virtual_path` names it in errors,
/// gives the default name and anchors relative `extends` paths.
pub fn load_experiment_str(
    text: &str,
    virtual_path: &Path,
    overrides: &[String],
) -> Result<Experiment, ConfigErrors> {
    let mut ctx = Ctx::default();
    let exp = build(&mut ctx, text, virtual_path, overrides);
    let errors = ctx.finish();
    match exp {
        Some(e) if errors.is_empty() => Ok(e),
        _ if !errors.is_empty() => Err(ConfigErrors(errors)),
        _ => Err(ConfigErrors(vec![ConfigError {
            file: virtual_path.to_path_buf(),
            line: None,
            column: None,
            key: String::new(),
            message: "internal error: experiment could not be built but no error was recorded"
                .into(),
            expected: None,
            suggestion: None,
        }])),
    }
}

/// Convenience: the resolved configuration of the first cell (first variant, first grid
/// point, first seed).
pub fn resolve_single(path: &Path, overrides: &[String]) -> Result<RunConfig, ConfigErrors> {
    let exp = load_experiment(path, overrides)?;
    exp.cells
        .into_iter()
        .next()
        .map(|c| c.config)
        .ok_or_else(|| {
            ConfigErrors(vec![ConfigError {
                file: path.to_path_buf(),
                line: None,
                column: None,
                key: String::new(),
                message: "experiment has no cells".into(),
                expected: None,
                suggestion: None,
            }])
        })
}

/// Read the `extends` chain starting at the experiment file. Returns (source index, tree)
/// for the file and each base, or `None` after recording an error.
fn load_chain(ctx: &mut Ctx, text: &str, path: &Path) -> Option<Vec<(usize, Node)>> {
    let mut out = Vec::new();
    let mut visited: Vec<PathBuf> = Vec::new();
    let mut cur_path = path.to_path_buf();
    let mut cur_text = text.to_string();
    loop {
        let idx = ctx.sources.add(cur_path.clone(), cur_text.clone());
        visited.push(std::fs::canonicalize(&cur_path).unwrap_or_else(|_| cur_path.clone()));
        let root = match Node::parse(&cur_text, idx) {
            Ok(r) => r,
            Err((msg, off)) => {
                let msg = msg.trim().replace('\n', " ");
                ctx.err(
                    Some(Pos {
                        file: idx,
                        offset: off,
                    }),
                    "",
                    format!("TOML syntax error: {msg}"),
                    None,
                    None,
                );
                return None;
            }
        };
        let ext = root.entry("extends").cloned();
        out.push((idx, root));
        let Some(ext) = ext else {
            return Some(out);
        };
        let Kind::Str(rel) = &ext.node.kind else {
            ctx.err(
                Some(ext.node.pos),
                "extends",
                format!("expected a file path, found {}", ext.node.type_name()),
                Some("a string, e.g. extends = \"base.toml\"".into()),
                None,
            );
            return None;
        };
        let base = cur_path.parent().unwrap_or(Path::new("")).join(rel);
        let canon = std::fs::canonicalize(&base).unwrap_or_else(|_| base.clone());
        if let Some(i) = visited.iter().position(|v| *v == canon) {
            let chain: Vec<String> = ctx.sources.files[out[i].0..]
                .iter()
                .map(|s| s.path.display().to_string())
                .chain(std::iter::once(base.display().to_string()))
                .collect();
            ctx.err(
                Some(ext.node.pos),
                "extends",
                format!("extends cycle: {}", chain.join(" -> ")),
                Some("a chain of bases without cycles".into()),
                None,
            );
            return None;
        }
        match std::fs::read_to_string(&base) {
            Ok(t) => {
                cur_text = t;
                cur_path = base;
            }
            Err(e) => {
                ctx.err(
                    Some(ext.node.pos),
                    "extends",
                    format!("cannot read base file {}: {e}", base.display()),
                    Some("a path relative to this file".into()),
                    None,
                );
                return None;
            }
        }
    }
}

/// A grid axis.
struct Axis {
    key: String,
    key_pos: Pos,
    values: Vec<Node>,
}

/// A named variant.
struct Variant {
    name: String,
    sets: Vec<(String, Entry)>,
    pos: Pos,
}

fn split_path(key: &str) -> Vec<String> {
    key.split('.').map(str::to_string).collect()
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+".contains(c))
}

const NAME_CHARS: &str = "letters, digits, '-', '_', '.', '+'";

fn build(ctx: &mut Ctx, text: &str, path: &Path, overrides: &[String]) -> Option<Experiment> {
    let chain = load_chain(ctx, text, path)?;
    let files: Vec<PathBuf> = chain
        .iter()
        .map(|(i, _)| ctx.sources.files[*i].path.clone())
        .collect();

    // Deep merge: deepest base first, the experiment file last. `name`, `description` and
    // `extends` belong to the file that writes them.
    let mut merged = Node::table(Pos {
        file: 0,
        offset: Some(0),
    });
    for (i, (_, mut node)) in chain.into_iter().enumerate().rev() {
        node.remove("extends");
        if i > 0 {
            node.remove("name");
            node.remove("description");
        }
        merged.merge(node);
    }

    let keys = run_keys();

    // --set overrides.
    let mut run_overrides: Vec<(String, Entry)> = Vec::new();
    let mut grid_overrides: Vec<(String, Entry)> = Vec::new();
    for ov in overrides {
        let fidx = ctx.sources.add(PathBuf::from("--set"), ov.clone());
        let at = |o: usize| {
            Some(Pos {
                file: fidx,
                offset: Some(o),
            })
        };
        let Some(eq) = ov.find('=') else {
            ctx.err(
                at(0),
                "",
                format!("override `{ov}` has no `=`"),
                Some("key=value, e.g. --set loss.alpha=0.2".into()),
                None,
            );
            continue;
        };
        let key_start = ov.len() - ov.trim_start().len();
        let key = ov[..eq].trim().to_string();
        let raw = &ov[eq + 1..];
        let vstart = eq + 1 + (raw.len() - raw.trim_start().len());
        let vtext = raw.trim();
        let node = Node::parse_value(vtext, fidx, vstart).unwrap_or(Node {
            kind: Kind::Str(vtext.to_string()),
            pos: Pos {
                file: fidx,
                offset: Some(vstart),
            },
        });
        let key_pos = Pos {
            file: fidx,
            offset: Some(key_start),
        };
        let entry = Entry {
            key: key.clone(),
            key_pos,
            node,
        };
        let parts = split_path(&key);
        let first = parts[0].as_str();
        match first {
            _ if key.is_empty() => ctx.err(at(0), "", "override has an empty key", Some("key=value".into()), None),
            "seed" => ctx.err(at(key_start), &key, "a run's seed comes from `seeds`", Some("--set seeds=[1,2,3]".into()), Some("seeds".into())),
            "name" | "description" | "reference" | "seeds" if parts.len() == 1 => merged.set_path(&parts, entry.node, key_pos),
            "executor" if parts.len() == 2 => merged.set_path(&parts, entry.node, key_pos),
            "grid" if parts.len() > 1 => grid_overrides.push((parts[1..].join("."), entry)),
            s if RUN_SECTIONS.contains(&s) => run_overrides.push((key.clone(), entry)),
            "extends" | "variant" => ctx.err(at(key_start), &key, format!("`{first}` cannot be overridden on the command line"), Some("a run key (e.g. loss.alpha), seeds, name, reference, executor.*, or grid.<axis>".into()), None),
            _ => {
                let mut cands: Vec<String> = TOP_KEYS.iter().map(|s| s.to_string()).collect();
                cands.extend(keys.iter().cloned());
                let sugg = closest(&key, &cands).or_else(|| suggest_run_key(&key, &keys));
                ctx.err(at(key_start), &key, format!("unknown key `{key}`"), Some("a run key (e.g. loss.alpha), seeds, name, reference, executor.*, or grid.<axis>".into()), sugg);
            }
        }
    }

    // Top-level keys.
    for e in merged.entries().cloned().unwrap_or_default() {
        if TOP_KEYS.contains(&e.key.as_str()) {
            continue;
        }
        if e.key == "seed" {
            ctx.err(
                Some(e.key_pos),
                "seed",
                "a run's seed comes from the top-level `seeds` list",
                Some("seeds = [1, 2, 3]".into()),
                Some("seeds".into()),
            );
        } else {
            ctx.err(
                Some(e.key_pos),
                &e.key,
                format!("unknown top-level key `{}`", e.key),
                Some(format!("one of {}", TOP_KEYS.join(", "))),
                closest(&e.key, TOP_KEYS),
            );
        }
    }

    let name = match merged.entry("name") {
        None => path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "experiment".into()),
        Some(e) => match &e.node.kind {
            Kind::Str(s) if valid_name(s) => s.clone(),
            Kind::Str(s) => {
                ctx.err(
                    Some(e.node.pos),
                    "name",
                    format!("invalid experiment name \"{s}\""),
                    Some(format!("a non-empty name of {NAME_CHARS}")),
                    None,
                );
                String::new()
            }
            _ => {
                ctx.err(
                    Some(e.node.pos),
                    "name",
                    format!("expected a string, found {}", e.node.type_name()),
                    Some("a string".into()),
                    None,
                );
                String::new()
            }
        },
    };
    let description = match merged.entry("description") {
        None => None,
        Some(e) => match &e.node.kind {
            Kind::Str(s) => Some(s.clone()),
            _ => {
                ctx.err(
                    Some(e.node.pos),
                    "description",
                    format!("expected a string, found {}", e.node.type_name()),
                    Some("a string".into()),
                    None,
                );
                None
            }
        },
    };
    let reference = match merged.entry("reference") {
        None => None,
        Some(e) => match &e.node.kind {
            Kind::Str(s) => Some((s.clone(), e.node.pos)),
            _ => {
                ctx.err(
                    Some(e.node.pos),
                    "reference",
                    format!("expected a string, found {}", e.node.type_name()),
                    Some("a cell or variant name".into()),
                    None,
                );
                None
            }
        },
    };
    let seeds = parse_seeds(ctx, merged.entry("seeds"));

    // Executor.
    let (executor, bad) =
        check_section::<ExecutorConfig>(ctx, "executor", merged.entry("executor"));
    report_issues(ctx, &merged, check_executor(&executor), &bad);

    // Base run tree: the run sections only.
    let mut base = Node::table(Pos {
        file: 0,
        offset: Some(0),
    });
    if let Some(entries) = merged.entries() {
        if let Kind::Table(b) = &mut base.kind {
            b.extend(
                entries
                    .iter()
                    .filter(|e| RUN_SECTIONS.contains(&e.key.as_str()))
                    .cloned(),
            );
        }
    }

    let axes = parse_grid(
        ctx,
        merged.entry("grid"),
        grid_overrides,
        &run_overrides,
        &keys,
    );
    let variants = parse_variants(ctx, merged.entry("variant"), &axes, &keys);

    // Expansion.
    let combos = product(&axes.iter().map(|a| a.values.len()).collect::<Vec<_>>());
    let short = short_keys(&axes);
    let variant_opts: Vec<Option<&Variant>> = if variants.is_empty() {
        vec![None]
    } else {
        variants.iter().map(Some).collect()
    };
    let mut cells = Vec::new();
    let mut all_names: Vec<String> = Vec::new();
    // Structural check of the shared base, so a bad value that every cell overrides is
    // still reported.
    let _ = validate_run(ctx, &base, false);
    let mut seen: Vec<(String, String)> = Vec::new(); // (hash with seed 0, cell name)
    for v in &variant_opts {
        for combo in &combos {
            let mut node = base.clone();
            if let Some(v) = v {
                for (k, e) in &v.sets {
                    node.set_path(&split_path(k), e.node.clone(), e.key_pos);
                }
            }
            for (a, &i) in axes.iter().zip(combo) {
                node.set_path(&split_path(&a.key), a.values[i].clone(), a.key_pos);
            }
            for (k, e) in &run_overrides {
                node.set_path(&split_path(k), e.node.clone(), e.key_pos);
            }
            let grid_part: Vec<String> = axes
                .iter()
                .zip(&short)
                .zip(combo)
                .map(|((a, s), &i)| format!("{s}={}", show(&a.values[i].to_json())))
                .collect();
            let cname = match (v, grid_part.is_empty()) {
                (Some(v), true) => v.name.clone(),
                (Some(v), false) => format!("{}/{}", v.name, grid_part.join(",")),
                (None, false) => grid_part.join(","),
                (None, true) => "base".to_string(),
            };
            all_names.push(cname.clone());
            let Some(cfg) = validate_run(ctx, &node, true) else {
                continue;
            };
            let json = serde_json::to_value(&cfg).unwrap_or_default();
            let lookup = |k: &str| {
                k.split('.')
                    .fold(Some(&json), |acc, p| acc.and_then(|j| j.get(p)))
                    .cloned()
                    .unwrap_or_default()
            };
            let mut cell_axes: Vec<(String, serde_json::Value)> = Vec::new();
            if let Some(v) = v {
                cell_axes.extend(v.sets.iter().map(|(k, _)| (k.clone(), lookup(k))));
            }
            cell_axes.extend(axes.iter().map(|a| (a.key.clone(), lookup(&a.key))));
            let h0 = config_hash(&cfg);
            let dup_pos = v
                .map(|v| v.pos)
                .or_else(|| merged.entry("grid").map(|g| g.key_pos));
            if let Some((_, other)) = seen.iter().find(|(h, _)| *h == h0) {
                ctx.err(
                    dup_pos,
                    if v.is_some() { "variant" } else { "grid" },
                    format!("cells `{other}` and `{cname}` resolve to the same configuration (keys excluded from a run's identity: {})", HASH_EXCLUDED_KEYS.join(", ")),
                    Some("every cell to differ in a key that changes what a run computes".into()),
                    None,
                );
            } else {
                seen.push((h0, cname.clone()));
            }
            for &seed in &seeds {
                let mut c = cfg.clone();
                c.seed = seed;
                let hash = config_hash(&c);
                cells.push(Cell {
                    name: cname.clone(),
                    variant: v.map(|v| v.name.clone()),
                    axes: cell_axes.clone(),
                    seed,
                    config: c,
                    hash,
                });
            }
        }
    }

    // Reference.
    if let Some((r, pos)) = &reference {
        let mut names = all_names.clone();
        names.extend(
            variants
                .iter()
                .map(|v| v.name.clone())
                .filter(|v| !all_names.contains(v)),
        );
        if !names.contains(r) {
            ctx.err(
                Some(*pos),
                "reference",
                format!("no cell or variant is named \"{r}\""),
                Some(format!(
                    "one of {}",
                    names
                        .iter()
                        .map(|s| format!("\"{s}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                closest(r, &names),
            );
        }
    }

    Some(Experiment {
        name,
        description,
        file: path.to_path_buf(),
        source_text: text.to_string(),
        files,
        reference: reference.map(|r| r.0),
        executor,
        cells,
    })
}

/// Display a value in a cell name: strings bare, floats normalised, arrays as compact JSON.
fn show(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "none".into(),
        serde_json::Value::Number(n) if n.is_f64() => format_float(n.as_f64().unwrap_or(f64::NAN)),
        other => canonical_value(other),
    }
}

/// Short axis names: the last path segment when no other axis shares it, else the full key.
fn short_keys(axes: &[Axis]) -> Vec<String> {
    let last = |k: &str| k.rsplit('.').next().unwrap_or(k).to_string();
    axes.iter()
        .map(|a| {
            let l = last(&a.key);
            if axes.iter().filter(|b| last(&b.key) == l).count() == 1 {
                l
            } else {
                a.key.clone()
            }
        })
        .collect()
}

/// Cartesian product of index ranges (first axis outermost); one empty combination for no axes.
fn product(lens: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new()];
    for &n in lens {
        let mut next = Vec::with_capacity(out.len() * n);
        for prefix in &out {
            for i in 0..n {
                let mut p = prefix.clone();
                p.push(i);
                next.push(p);
            }
        }
        out = next;
    }
    out
}

fn parse_seeds(ctx: &mut Ctx, entry: Option<&Entry>) -> Vec<u64> {
    let Some(e) = entry else {
        return vec![0];
    };
    let expected = Some(
        "a non-empty array of distinct non-negative integers, e.g. seeds = [1, 2, 3]".to_string(),
    );
    let Kind::Array(items) = &e.node.kind else {
        ctx.err(
            Some(e.node.pos),
            "seeds",
            format!("expected an array, found {}", e.node.type_name()),
            expected,
            None,
        );
        return Vec::new();
    };
    if items.is_empty() {
        ctx.err(
            Some(e.node.pos),
            "seeds",
            "the seed list is empty",
            expected,
            None,
        );
        return Vec::new();
    }
    let mut out = Vec::new();
    for it in items {
        match it.kind {
            Kind::Int(i) if i >= 0 => {
                if out.contains(&(i as u64)) {
                    ctx.err(
                        Some(it.pos),
                        "seeds",
                        format!("seed {i} is listed twice"),
                        expected.clone(),
                        None,
                    );
                } else {
                    out.push(i as u64);
                }
            }
            _ => ctx.err(
                Some(it.pos),
                "seeds",
                format!("invalid seed: {}", it.type_name()),
                expected.clone(),
                None,
            ),
        }
    }
    out
}

fn parse_grid(
    ctx: &mut Ctx,
    entry: Option<&Entry>,
    overrides: Vec<(String, Entry)>,
    run_overrides: &[(String, Entry)],
    keys: &[String],
) -> Vec<Axis> {
    let mut raw: Vec<(String, Entry)> = Vec::new();
    if let Some(g) = entry {
        match &g.node.kind {
            Kind::Table(entries) if entries.is_empty() && overrides.is_empty() => {
                ctx.err(
                    Some(g.key_pos),
                    "grid",
                    "the grid is empty",
                    Some("at least one axis, e.g. \"loss.alpha\" = [0.0, 0.4]".into()),
                    None,
                );
            }
            Kind::Table(_) => raw = g.node.leaves(),
            _ => ctx.err(
                Some(g.node.pos),
                "grid",
                format!("expected a table, found {}", g.node.type_name()),
                Some("a [grid] table of axes".into()),
                None,
            ),
        }
    }
    for (k, e) in overrides {
        match raw.iter_mut().find(|(rk, _)| *rk == k) {
            Some(slot) => slot.1 = e,
            None => raw.push((k, e)),
        }
    }
    let mut axes = Vec::new();
    for (key, e) in raw {
        let label = format!("grid.{key}");
        if run_overrides.iter().any(|(k, _)| *k == key) {
            continue; // pinned by --set: the override wins and the axis disappears
        }
        if key == "seed" {
            ctx.err(
                Some(e.key_pos),
                &label,
                "seeds are not a grid axis",
                Some("the top-level `seeds` list".into()),
                Some("seeds".into()),
            );
            continue;
        }
        if !keys.contains(&key) {
            ctx.err(
                Some(e.key_pos),
                &label,
                format!("grid axis `{key}` names no field"),
                Some("a dotted run key such as \"loss.alpha\"".into()),
                suggest_run_key(&key, keys),
            );
            continue;
        }
        let Kind::Array(values) = &e.node.kind else {
            ctx.err(
                Some(e.node.pos),
                &label,
                format!("axis values must be a list, found {}", e.node.type_name()),
                Some(format!("an array, e.g. \"{key}\" = [a, b]")),
                None,
            );
            continue;
        };
        if values.is_empty() {
            ctx.err(
                Some(e.node.pos),
                &label,
                "axis has no values",
                Some("a non-empty array".into()),
                None,
            );
            continue;
        }
        let mut uniq: Vec<Node> = Vec::new();
        for v in values {
            let c = canonical_value(&v.to_json());
            if uniq.iter().any(|u| canonical_value(&u.to_json()) == c) {
                ctx.err(
                    Some(v.pos),
                    &label,
                    format!("value {c} is listed twice"),
                    Some("distinct values".into()),
                    None,
                );
            } else {
                uniq.push(v.clone());
            }
        }
        axes.push(Axis {
            key,
            key_pos: e.key_pos,
            values: uniq,
        });
    }
    axes
}

fn parse_variants(
    ctx: &mut Ctx,
    entry: Option<&Entry>,
    axes: &[Axis],
    keys: &[String],
) -> Vec<Variant> {
    let Some(e) = entry else {
        return Vec::new();
    };
    let Kind::Array(items) = &e.node.kind else {
        ctx.err(
            Some(e.node.pos),
            "variant",
            format!("expected an array of tables, found {}", e.node.type_name()),
            Some("[[variant]] tables".into()),
            None,
        );
        return Vec::new();
    };
    if items.is_empty() {
        ctx.err(
            Some(e.node.pos),
            "variant",
            "the variant list is empty",
            Some("at least one [[variant]] with a name".into()),
            None,
        );
    }
    let mut out: Vec<Variant> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Kind::Table(_) = &item.kind else {
            ctx.err(
                Some(item.pos),
                "variant",
                format!("expected a table, found {}", item.type_name()),
                Some("a table with a name and dotted-key overrides".into()),
                None,
            );
            continue;
        };
        let name = match item.entry("name") {
            None => {
                ctx.err(
                    Some(item.pos),
                    &format!("variant[{i}]"),
                    "variant has no name",
                    Some("name = \"...\"".into()),
                    None,
                );
                None
            }
            Some(n) => match &n.node.kind {
                Kind::Str(s) if valid_name(s) => {
                    if out.iter().any(|v| v.name == *s) {
                        ctx.err(
                            Some(n.node.pos),
                            &format!("variant[{i}].name"),
                            format!("duplicate variant name \"{s}\""),
                            Some("distinct variant names".into()),
                            None,
                        );
                        None
                    } else {
                        Some(s.clone())
                    }
                }
                Kind::Str(s) => {
                    ctx.err(
                        Some(n.node.pos),
                        &format!("variant[{i}].name"),
                        format!("invalid variant name \"{s}\""),
                        Some(format!("a non-empty name of {NAME_CHARS}")),
                        None,
                    );
                    None
                }
                _ => {
                    ctx.err(
                        Some(n.node.pos),
                        &format!("variant[{i}].name"),
                        format!("expected a string, found {}", n.node.type_name()),
                        Some("a string".into()),
                        None,
                    );
                    None
                }
            },
        };
        let label = name.clone().unwrap_or_else(|| i.to_string());
        let mut sets = Vec::new();
        for (key, le) in item.leaves() {
            if key == "name" {
                continue;
            }
            let lkey = format!("variant[{label}].{key}");
            if key == "seed" {
                ctx.err(
                    Some(le.key_pos),
                    &lkey,
                    "a run's seed comes from the top-level `seeds` list",
                    Some("seeds = [...]".into()),
                    Some("seeds".into()),
                );
            } else if !keys.contains(&key) {
                ctx.err(
                    Some(le.key_pos),
                    &lkey,
                    format!("`{key}` names no field"),
                    Some("a dotted run key such as \"model.fusion\"".into()),
                    suggest_run_key(&key, keys),
                );
            } else if axes.iter().any(|a| a.key == key) {
                ctx.err(
                    Some(le.key_pos),
                    &lkey,
                    format!(
                        "`{key}` is also a grid axis, whose values would replace the variant's"
                    ),
                    Some("a key that is not a grid axis".into()),
                    None,
                );
            } else {
                sets.push((key, le));
            }
        }
        if let Some(name) = name {
            out.push(Variant {
                name,
                sets,
                pos: item.pos,
            });
        }
    }
    out
}

/// A plain-text plan: one line per run with the cell name, seed, short hash and the values
/// of the keys that differ between cells.
pub fn render_plan(exp: &Experiment) -> String {
    let diff = crate::hash::differing_keys(&exp.cells);
    let mut out = format!(
        "experiment {}: {} cells x {} seeds = {} runs\n",
        exp.name,
        exp.cell_names().len(),
        exp.seeds().len(),
        exp.cells.len()
    );
    let w = exp
        .cells
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    out.push_str(&format!("{:<w$}  {:>6}  {:<12}", "cell", "seed", "hash"));
    for k in &diff {
        out.push_str(&format!("  {k}"));
    }
    out.push('\n');
    for c in &exp.cells {
        let mut line = format!(
            "{:<w$}  {:>6}  {:<12}",
            c.name,
            c.seed,
            c.hash.get(..12).unwrap_or(&c.hash)
        );
        let rows = crate::hash::flatten(&c.config);
        for k in &diff {
            let v = rows
                .iter()
                .find(|(kk, _)| kk == k)
                .map(|(_, v)| v.to_string())
                .unwrap_or_default();
            line.push_str(&format!("  {v:<w2$}", w2 = k.len()));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(key: &str) -> Axis {
        Axis {
            key: key.into(),
            key_pos: Pos {
                file: 0,
                offset: None,
            },
            values: Vec::new(),
        }
    }

    #[test]
    fn short_keys_fall_back_to_full_path_when_ambiguous() {
        let axes = [
            axis("loss.alpha"),
            axis("data.sizes.signers"),
            axis("x.alpha"),
        ];
        assert_eq!(short_keys(&axes), vec!["loss.alpha", "signers", "x.alpha"]);
    }

    #[test]
    fn product_is_row_major() {
        assert_eq!(product(&[]), vec![Vec::<usize>::new()]);
        assert_eq!(
            product(&[2, 2]),
            vec![vec![0, 0], vec![0, 1], vec![1, 0], vec![1, 1]]
        );
        assert!(product(&[3, 0]).is_empty());
    }

    #[test]
    fn values_show_normalised() {
        assert_eq!(show(&serde_json::json!(0.0)), "0");
        assert_eq!(show(&serde_json::json!(0.25)), "0.25");
        assert_eq!(show(&serde_json::json!("mlp")), "mlp");
        assert_eq!(show(&serde_json::json!([5, 3])), "[5,3]");
        assert_eq!(show(&serde_json::Value::Null), "none");
    }
}
