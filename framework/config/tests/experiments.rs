//! Integration tests of experiment files: inheritance, expansion, overrides, every
//! validation error with its position, and hash stability. Fixtures: tests/fixtures/.

use std::path::{Path, PathBuf};

use seds_config::{
    config_hash, differing_keys, flatten, load_experiment, load_experiment_str, render_plan,
    resolve_single, ConfigError, Fusion, ParamValue,
};
use serde_json::json;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Load text as if it were the file `virt.toml` in the fixtures directory.
fn load(
    text: &str,
    overrides: &[&str],
) -> Result<seds_config::Experiment, seds_config::ConfigErrors> {
    let ov: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    load_experiment_str(text, &fixture("virt.toml"), &ov)
}

fn errors(text: &str, overrides: &[&str]) -> Vec<ConfigError> {
    match load(text, overrides) {
        Ok(e) => panic!("expected errors, got a plan:\n{}", render_plan(&e)),
        Err(e) => e.0,
    }
}

/// (line, column, key) of each error.
fn where_(errs: &[ConfigError]) -> Vec<(Option<usize>, Option<usize>, String)> {
    errs.iter()
        .map(|e| (e.line, e.column, e.key.clone()))
        .collect()
}

#[test]
fn inheritance_chain_deep_merges_and_child_wins() {
    let exp = load_experiment(&fixture("grandchild.toml"), &[]).expect("valid");
    assert_eq!(
        exp.files,
        vec![
            fixture("grandchild.toml"),
            fixture("child.toml"),
            fixture("base.toml")
        ]
    );
    // name and description belong to the file that writes them.
    assert_eq!(exp.name, "grandchild");
    assert_eq!(exp.description, None);
    assert_eq!(exp.reference.as_deref(), Some("cgaf"));
    assert_eq!(exp.executor.jobs, 2); // from base
    assert!(exp.source_text.starts_with("extends = \"child.toml\""));
    let c = &exp.cells[0].config;
    assert_eq!(c.loss.alpha, 0.4); // child overrides base's 0.8
    assert_eq!(c.data.max_words, 24); // base
    assert_eq!(c.train.batch_size, 8); // base
    assert_eq!(c.train.epochs, 3); // grandchild overrides base's 2
    assert_eq!(c.train.lr, 1e-3); // schema default

    let child = load_experiment(&fixture("child.toml"), &[]).expect("valid");
    assert_eq!(child.description.as_deref(), Some("child"));
    assert_eq!(child.cells[0].config.train.epochs, 2);
    assert_eq!(child.seeds(), vec![1, 2]); // seeds inherited from base
}

#[test]
fn extends_is_relative_to_the_naming_file() {
    let exp = load_experiment(&fixture("sub/in_sub.toml"), &[]).expect("valid");
    assert_eq!(exp.cells[0].config.train.epochs, 5);
    assert_eq!(exp.cells[0].config.data.max_words, 24);
    assert_eq!(exp.files[1], fixture("sub/../base.toml"));
}

#[test]
fn grid_variants_seeds_expand_in_order() {
    let exp = load_experiment(&fixture("grandchild.toml"), &[]).expect("valid");
    assert_eq!(exp.cells.len(), 2 * 2 * 2 * 3);
    let names = exp.cell_names();
    assert_eq!(
        names,
        vec![
            "cgaf/beta=0,dropout=0",
            "cgaf/beta=0,dropout=0.1",
            "cgaf/beta=0.4,dropout=0",
            "cgaf/beta=0.4,dropout=0.1",
            "mlp-fusion/beta=0,dropout=0",
            "mlp-fusion/beta=0,dropout=0.1",
            "mlp-fusion/beta=0.4,dropout=0",
            "mlp-fusion/beta=0.4,dropout=0.1",
        ]
    );
    assert_eq!(exp.seeds(), vec![1, 2, 3]);
    let seeds: Vec<u64> = exp.cells.iter().take(4).map(|c| c.seed).collect();
    assert_eq!(seeds, vec![1, 2, 3, 1]); // seed innermost
    let last = exp.cells.last().unwrap();
    assert_eq!(last.variant.as_deref(), Some("mlp-fusion"));
    assert_eq!(last.config.model.fusion, Fusion::Mlp);
    assert_eq!(last.config.model.dropout, 0.1);
    assert_eq!(last.config.loss.beta, 0.4);
    assert_eq!(last.config.seed, 3);
    assert_eq!(
        last.axes,
        vec![
            ("model.fusion".to_string(), json!("mlp")),
            ("loss.beta".to_string(), json!(0.4)),
            ("model.dropout".to_string(), json!(0.1))
        ]
    );
    assert_eq!(
        exp.cells[0].axes,
        vec![
            ("loss.beta".to_string(), json!(0.0)),
            ("model.dropout".to_string(), json!(0.0))
        ]
    );
    let mut hashes: Vec<&str> = exp.cells.iter().map(|c| c.hash.as_str()).collect();
    hashes.sort();
    hashes.dedup();
    assert_eq!(hashes.len(), 24, "every run has its own identity");
    for c in &exp.cells {
        assert_eq!(c.hash, config_hash(&c.config));
    }
    assert_eq!(
        differing_keys(&exp.cells),
        vec!["model.fusion", "model.dropout", "loss.beta"]
    );
    let plan = render_plan(&exp);
    assert!(
        plan.starts_with("experiment grandchild: 8 cells x 3 seeds = 24 runs\n"),
        "{plan}"
    );
    assert_eq!(plan.lines().count(), 2 + 24);
}

#[test]
fn no_grid_no_variants_is_one_base_cell_with_default_seed() {
    let exp = load("[loss]\nalpha = 0.5\n", &[]).expect("valid");
    assert_eq!(exp.name, "virt");
    assert_eq!(exp.cells.len(), 1);
    assert_eq!(exp.cells[0].name, "base");
    assert_eq!(exp.cells[0].seed, 0);
    assert!(exp.cells[0].axes.is_empty());
    assert!(differing_keys(&exp.cells).is_empty());
    let exp = load(
        "name = \"x\"\nseeds = [4]\n[[variant]]\nname = \"only\"\n",
        &[],
    )
    .expect("valid");
    assert_eq!(exp.cells[0].name, "only");
    assert_eq!(exp.cells[0].seed, 4);
}

#[test]
fn grid_over_nested_and_list_fields_and_dotted_spellings() {
    let text = "[grid]\nmodel.cgaf_keys = [[5, 3], [3]]\n[grid.data]\n\"sizes.signers\" = [2, 4]\n";
    let exp = load(text, &[]).expect("valid");
    assert_eq!(
        exp.cell_names(),
        vec![
            "cgaf_keys=[5,3],signers=2",
            "cgaf_keys=[5,3],signers=4",
            "cgaf_keys=[3],signers=2",
            "cgaf_keys=[3],signers=4"
        ]
    );
    assert_eq!(exp.cells[3].config.model.cgaf_keys, vec![3]);
    assert_eq!(exp.cells[3].config.data.sizes.signers, Some(4));
    let rows = flatten(&exp.cells[3].config);
    assert!(rows.contains(&("data.sizes.signers".to_string(), ParamValue::Int(4))));
    assert!(rows.contains(&(
        "model.cgaf_keys".to_string(),
        ParamValue::List("[3]".into())
    )));
}

#[test]
fn overrides_are_typed_like_the_file() {
    let exp = load_experiment(
        &fixture("full.toml"),
        &[
            "loss.beta=0.25".into(),
            "train.device=cuda:0".into(),
            "model.reference_offsets=release".into(),
            "train.epochs = 7".into(),
            "model.cgaf_keys=[4]".into(),
            "data.captions=\"a b\"".into(),
        ],
    )
    .expect("valid");
    let c = &exp.cells[0].config;
    assert_eq!(c.loss.beta, 0.25);
    assert_eq!(c.train.device, "cuda:0");
    assert_eq!(
        c.model.reference_offsets,
        seds_config::ReferenceOffsets::Release
    );
    assert_eq!(c.train.epochs, 7);
    assert_eq!(c.model.cgaf_keys, vec![4]);
    assert_eq!(c.data.captions.as_deref(), Some("a b"));
    // Overrides apply on top of variants too.
    let exp = load_experiment(&fixture("full.toml"), &["model.intra_modality=true".into()])
        .expect("valid");
    assert!(exp.cells.iter().all(|c| c.config.model.intra_modality));
    // ... so an override that makes two variants equal is caught as duplicate cells.
    let e = load_experiment(&fixture("full.toml"), &["model.fusion=sum".into()])
        .expect_err("duplicates")
        .0;
    assert_eq!(e.len(), 3);
    assert!(e.iter().all(|e| e.message.contains("same configuration")));
}

#[test]
fn overrides_of_experiment_keys_and_grid_axes() {
    let ov = [
        "seeds=[5]".to_string(),
        "executor.jobs=4".into(),
        "name=renamed".into(),
        "grid.loss.alpha=[0.1, 0.2]".into(),
    ];
    let exp = load_experiment(&fixture("full.toml"), &ov).expect("valid");
    assert_eq!(exp.name, "renamed");
    assert_eq!(exp.executor.jobs, 4);
    assert_eq!(exp.seeds(), vec![5]);
    assert_eq!(
        exp.cell_names(),
        vec![
            "cgaf/alpha=0.1",
            "cgaf/alpha=0.2",
            "mlp/alpha=0.1",
            "mlp/alpha=0.2"
        ]
    );
    // A run override of a grid axis pins it: the axis disappears.
    let exp = load_experiment(&fixture("full.toml"), &["loss.alpha=0.3".into()]).expect("valid");
    assert_eq!(exp.cell_names(), vec!["cgaf", "mlp"]);
    assert!(exp.cells.iter().all(|c| c.config.loss.alpha == 0.3));
    // A new axis from the command line.
    let exp = load("", &["grid.loss.tau=[0.05,0.1]"]).expect("valid");
    assert_eq!(exp.cell_names(), vec!["tau=0.05", "tau=0.1"]);
}

#[test]
fn override_errors_point_into_the_override() {
    let errs = errors(
        "",
        &[
            "los.alpha=1",
            "noequals",
            "model.fusoin=x",
            "train.epochs=1.5",
            "seed=3",
            "variant=1",
        ],
    );
    let shown: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
    assert_eq!(errs.len(), 6, "{shown:#?}");
    assert!(
        errs.iter()
            .all(|e| e.file == Path::new("--set") && e.line == Some(1)),
        "{shown:#?}"
    );
    let by_key = |k: &str| {
        errs.iter()
            .find(|e| e.key == k)
            .unwrap_or_else(|| panic!("no error for {k}: {shown:#?}"))
    };
    assert_eq!(
        by_key("los.alpha").suggestion.as_deref(),
        Some("loss.alpha")
    );
    assert_eq!(by_key("model.fusoin").suggestion.as_deref(), Some("fusion"));
    assert_eq!(by_key("train.epochs").column, Some(14));
    assert_eq!(
        by_key("train.epochs").expected.as_deref(),
        Some("a non-negative integer")
    );
    assert_eq!(by_key("seed").suggestion.as_deref(), Some("seeds"));
    assert!(by_key("").message.contains("no `=`"));
    assert!(by_key("variant").message.contains("cannot be overridden"));
}

#[test]
fn every_error_of_the_error_fixture_with_position() {
    let errs = load_experiment(&fixture("errors.toml"), &[])
        .expect_err("invalid")
        .0;
    let shown: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
    let s = |l: usize, c: usize, k: &str| (Some(l), Some(c), k.to_string());
    assert_eq!(
        where_(&errs),
        vec![
            s(1, 1, "seed"),
            s(2, 13, "seeds"),
            s(3, 13, "reference"),
            s(6, 13, "data.swap_prob"),
            s(7, 1, "data.max_word"),
            s(10, 10, "model.fusion"),
            s(11, 11, "model.dropout"),
            s(14, 7, "loss.tau"),
            s(15, 9, "loss.alpha"),
            s(18, 14, "train.batch_size"),
            s(19, 10, "train.device"),
            s(22, 8, "executor.jobs"),
            s(23, 8, "executor.kind"),
            s(26, 1, "grid.loss.alpah"),
            s(27, 15, "grid.loss.beta"),
            s(34, 8, "variant[1].name"),
            s(36, 1, "variant[2]"),
            s(40, 1, "data.sizes.signer"),
            s(41, 11, "data.sizes.glosses"),
        ],
        "{shown:#?}"
    );
    assert!(errs.iter().all(|e| e.file == fixture("errors.toml")));
    let get = |k: &str| errs.iter().find(|e| e.key == k).unwrap();
    assert_eq!(get("seed").suggestion.as_deref(), Some("seeds"));
    assert_eq!(get("reference").suggestion.as_deref(), Some("mlp-fusion"));
    assert_eq!(
        get("data.max_word").suggestion.as_deref(),
        Some("max_words")
    );
    assert_eq!(get("model.fusion").suggestion.as_deref(), Some("cgaf"));
    assert_eq!(
        get("model.fusion").expected.as_deref(),
        Some("one of \"cgaf\", \"mlp\", \"sum\", \"none\"")
    );
    assert_eq!(get("executor.kind").suggestion.as_deref(), Some("slurm"));
    assert_eq!(
        get("grid.loss.alpah").suggestion.as_deref(),
        Some("loss.alpha")
    );
    assert_eq!(
        get("data.sizes.signer").suggestion.as_deref(),
        Some("signers")
    );
    assert!(get("variant[1].name")
        .message
        .contains("duplicate variant name"));
    assert!(get("grid.loss.beta").message.contains("no values"));
    assert_eq!(
        get("data.max_word")
            .to_string()
            .split(" (expected")
            .next()
            .unwrap(),
        format!(
            "{}:7:1: data.max_word: unknown key `max_word` in [data]",
            fixture("errors.toml").display()
        )
    );
}

#[test]
fn cycles_missing_bases_and_syntax_errors() {
    let e = load_experiment(&fixture("cycle_a.toml"), &[])
        .expect_err("cycle")
        .0;
    assert_eq!(e.len(), 1);
    assert_eq!(
        (e[0].file.clone(), e[0].line, e[0].column, e[0].key.as_str()),
        (fixture("cycle_b.toml"), Some(1), Some(11), "extends")
    );
    assert!(e[0].message.contains("cycle"), "{}", e[0]);

    let e = load_experiment(&fixture("missing_base.toml"), &[])
        .expect_err("missing")
        .0;
    assert_eq!((e[0].line, e[0].column), (Some(2), Some(11)));
    assert!(e[0].message.contains("does-not-exist.toml"));

    let e = load_experiment(&fixture("syntax_error.toml"), &[])
        .expect_err("syntax")
        .0;
    assert_eq!((e[0].line, e[0].column), (Some(3), Some(8)));
    assert!(e[0].message.starts_with("TOML syntax error"));

    let e = load_experiment(&fixture("no-such-file.toml"), &[])
        .expect_err("unreadable")
        .0;
    assert!(e[0].message.contains("cannot read"));

    let e = errors("extends = 3\n", &[]);
    assert_eq!(where_(&e), vec![(Some(1), Some(11), "extends".to_string())]);
    // A file that extends itself.
    let e = errors("extends = \"virt.toml\"\n", &[]);
    assert!(e[0].message.contains("cycle"));
}

#[test]
fn semantic_errors_point_at_the_value_that_causes_them() {
    let e = load_experiment(&fixture("single_stream.toml"), &[])
        .expect_err("inconsistent")
        .0;
    assert_eq!(
        where_(&e),
        vec![(Some(3), Some(11), "model.fusion".to_string())]
    );
    assert!(e[0].message.contains("hint: set model.fusion = \"none\""));

    // The bad grid value, not the axis.
    let e = errors("[grid]\n\"loss.tau\" = [0.07, 0.0]\n", &[]);
    assert_eq!(
        where_(&e),
        vec![(Some(2), Some(21), "loss.tau".to_string())]
    );

    // Dual stream without fusion, set in a variant.
    let e = errors(
        "[[variant]]\nname = \"nofuse\"\n\"model.fusion\" = \"none\"\n",
        &[],
    );
    assert_eq!(
        where_(&e),
        vec![(Some(3), Some(18), "model.fusion".to_string())]
    );

    // A real dataset without a root: reported at data.source.
    let e = errors("[data]\nsource = \"how2sign\"\n", &[]);
    assert_eq!(
        where_(&e),
        vec![(Some(2), Some(10), "data.root".to_string())]
    );

    // Probability, cgaf keys, logit scale, warmup, max_words, clip_window, max_clips.
    let text = "[model]\ndropout = -0.1\ncgaf_keys = []\n[loss]\nlogit_scale_init = 0.0\ndual_mix = 2\nbeta = -1\n[train]\nwarmup = 1.5\nepochs = 0\n[data]\nmax_words = 1\nclip_window = 0\nmax_clips = 0\n";
    let keys: Vec<String> = errors(text, &[]).into_iter().map(|e| e.key).collect();
    assert_eq!(
        keys,
        vec![
            "model.dropout",
            "model.cgaf_keys",
            "loss.logit_scale_init",
            "loss.dual_mix",
            "loss.beta",
            "train.warmup",
            "train.epochs",
            "data.max_words",
            "data.clip_window",
            "data.max_clips"
        ]
    );
}

#[test]
fn type_errors_and_odd_values() {
    let text = "[model]\nfusion = 3\ncgaf_keys = [5, \"x\"]\n[loss]\ntau = nan\n[train]\nseed = 1\nepochs = 1979-05-27\n[eval]\nexport_scores = \"yes\"\n";
    let e = errors(text, &[]);
    let shown: Vec<String> = e.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        where_(&e),
        vec![
            (Some(2), Some(10), "model.fusion".to_string()),
            (Some(3), Some(13), "model.cgaf_keys".to_string()),
            (Some(5), Some(7), "loss.tau".to_string()),
            (Some(7), Some(1), "train.seed".to_string()),
            (Some(8), Some(10), "train.epochs".to_string()),
            (Some(10), Some(17), "eval.export_scores".to_string()),
        ],
        "{shown:#?}"
    );
    assert!(
        e[0].expected.as_deref().unwrap().contains("\"cgaf\""),
        "{}",
        e[0]
    );
    assert!(
        e[1].expected
            .as_deref()
            .unwrap()
            .starts_with("an array whose items are"),
        "{}",
        e[1]
    );
    assert!(e[2].message.contains("nan"));
    assert_eq!(e[3].suggestion.as_deref(), Some("seeds"));
    assert_eq!(e[5].expected.as_deref(), Some("a boolean (true or false)"));

    let e = errors("model = 3\nbogus = 1\nseeds = [1, -2]\n", &[]);
    assert_eq!(
        where_(&e),
        vec![
            (Some(1), Some(9), "model".to_string()),
            (Some(2), Some(1), "bogus".to_string()),
            (Some(3), Some(13), "seeds".to_string())
        ]
    );
    let e = errors("nmae = \"x\"\n", &[]);
    assert_eq!(e[0].suggestion.as_deref(), Some("name"));
    let e = errors("name = \"a/b\"\nseeds = []\n", &[]);
    assert_eq!(
        where_(&e),
        vec![
            (Some(1), Some(8), "name".to_string()),
            (Some(2), Some(9), "seeds".to_string())
        ]
    );
}

#[test]
fn grid_and_variant_structure_errors() {
    let e = errors("[grid]\n", &[]);
    assert_eq!(where_(&e), vec![(Some(1), Some(2), "grid".to_string())]);
    assert!(e[0].message.contains("empty"));
    let e = errors(
        "[grid]\n\"loss.alpha\" = 0.3\nalpha = [1]\nseed = [1, 2]\n",
        &[],
    );
    assert_eq!(
        where_(&e),
        vec![
            (Some(2), Some(16), "grid.loss.alpha".to_string()),
            (Some(3), Some(1), "grid.alpha".to_string()),
            (Some(4), Some(1), "grid.seed".to_string())
        ]
    );
    assert_eq!(e[1].suggestion.as_deref(), Some("loss.alpha"));
    let e = errors("[grid]\n\"loss.alpha\" = [0.5, 0.50]\n", &[]);
    assert_eq!(
        where_(&e),
        vec![(Some(2), Some(22), "grid.loss.alpha".to_string())]
    );
    assert!(e[0].message.contains("twice"));
    // Different values that do not change a run's identity give duplicate cells.
    let e = errors("[grid]\n\"train.threads\" = [1, 2]\n", &[]);
    assert_eq!(e.len(), 1);
    assert!(e[0].message.contains("same configuration"), "{}", e[0]);
    let e = errors("[grid]\n\"loss.alpha\" = [0.1, 0.2]\n[[variant]]\nname = \"v\"\n\"loss.alpha\" = 0.3\n\"model.fusoin\" = \"mlp\"\n", &[]);
    assert_eq!(
        where_(&e),
        vec![
            (Some(5), Some(1), "variant[v].loss.alpha".to_string()),
            (Some(6), Some(1), "variant[v].model.fusoin".to_string())
        ]
    );
    assert_eq!(e[1].suggestion.as_deref(), Some("model.fusion"));
    let e = errors("variant = []\n", &[]);
    assert_eq!(e[0].key, "variant");
    let e = errors("variant = 3\n", &[]);
    assert_eq!(e[0].key, "variant");
    // Two variants with the same overrides.
    let e = errors(
        "[[variant]]\nname = \"a\"\n[[variant]]\nname = \"b\"\n",
        &[],
    );
    assert!(e[0].message.contains("`a` and `b`"), "{}", e[0]);
    // A reference may name a variant or a cell.
    assert!(load("reference = \"a\"\n[grid]\n\"loss.alpha\" = [0.1, 0.2]\n[[variant]]\nname = \"a\"\n[[variant]]\nname = \"b\"\n\"model.fusion\" = \"mlp\"\n", &[]).is_ok());
    assert!(load("reference = \"b/alpha=0.2\"\n[grid]\n\"loss.alpha\" = [0.1, 0.2]\n[[variant]]\nname = \"a\"\n[[variant]]\nname = \"b\"\n\"model.fusion\" = \"mlp\"\n", &[]).is_ok());
}

#[test]
fn hash_is_stable_under_key_order_and_float_spelling() {
    let a = load("[loss]\nalpha = 1\nbeta = 0.5\n[train]\nepochs = 3\n", &[]).unwrap();
    let b = load(
        "[train]\nepochs = 3\n[loss]\nbeta = 0.50\nalpha = 1.00\n",
        &[],
    )
    .unwrap();
    let c = load(
        "loss = { beta = 5e-1, alpha = 1.0 }\ntrain.epochs = 3\n",
        &[],
    )
    .unwrap();
    assert_eq!(a.cells[0].hash, b.cells[0].hash);
    assert_eq!(a.cells[0].hash, c.cells[0].hash);
    // Keys that do not change what a run computes are excluded.
    let d = load("[loss]\nalpha = 1\nbeta = 0.5\n[train]\nepochs = 3\nthreads = 2\ndevice = \"cuda:1\"\n[data]\ncache_dir = \"/tmp/x\"\n", &[]).unwrap();
    assert_eq!(a.cells[0].hash, d.cells[0].hash);
    // Any real change does change it: a value, a switch, the seed.
    for other in [
        "[loss]\nalpha = 1.0000001\nbeta = 0.5\n[train]\nepochs = 3\n",
        "[loss]\nalpha = 1\nbeta = 0.5\n[train]\nepochs = 4\n",
        "[loss]\nalpha = 1\nbeta = 0.5\nmatching = \"sum\"\n[train]\nepochs = 3\n",
    ] {
        assert_ne!(
            a.cells[0].hash,
            load(other, &[]).unwrap().cells[0].hash,
            "{other}"
        );
    }
    let s = load(
        "seeds = [1]\n[loss]\nalpha = 1\nbeta = 0.5\n[train]\nepochs = 3\n",
        &[],
    )
    .unwrap();
    assert_ne!(a.cells[0].hash, s.cells[0].hash);
    // Canonical form: sorted keys, integral floats without a fraction, excluded keys gone.
    let canon = seds_config::canonical_json(&seds_config::RunConfig::default());
    assert!(canon.starts_with(r#"{"data":{"#), "{canon}");
    for part in [
        r#""loss":{"alpha":0.8,"beta":0.4,"#,
        r#""logit_scale_max":100,"#,
        r#""seed":0,"#,
        r#""cgaf_keys":[5,3],"#,
    ] {
        assert!(canon.contains(part), "{part} not in {canon}");
    }
    assert!(!canon.contains(' '));
}

#[test]
fn resolve_single_gives_the_first_cell() {
    let c = resolve_single(&fixture("full.toml"), &[]).expect("valid");
    assert_eq!(c.seed, 1);
    assert_eq!(c.loss.alpha, 0.0);
    assert_eq!(c.model.fusion, Fusion::Cgaf);
    assert_eq!(c.train.epochs, 3);
    assert!(resolve_single(&fixture("errors.toml"), &[]).is_err());
}

#[test]
fn repo_experiments_are_valid_if_present() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        eprintln!("SKIP: no experiments directory at {}", dir.display());
        return;
    };
    for entry in rd.flatten() {
        let p = entry.path();
        if p.extension().is_some_and(|e| e == "toml")
            && !p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('_'))
        {
            if let Err(e) = load_experiment(&p, &[]) {
                panic!("{}:\n{e}", p.display());
            }
        }
    }
}

#[test]
fn errors_in_a_base_point_into_the_base_file() {
    let e = errors("extends = \"single_stream.toml\"\n[loss]\ntau = -1\n", &[]);
    assert_eq!(e.len(), 2);
    // Sorted by load order: the experiment file first, then its bases.
    assert_eq!(
        (e[0].file.clone(), e[0].line, e[0].key.as_str()),
        (fixture("virt.toml"), Some(3), "loss.tau")
    );
    assert_eq!(
        (e[1].file.clone(), e[1].line, e[1].column),
        (fixture("single_stream.toml"), Some(3), Some(11))
    );
    // Fixing it in the child is enough.
    assert!(load(
        "extends = \"single_stream.toml\"\n[model]\nfusion = \"none\"\n",
        &[]
    )
    .is_ok());
}
