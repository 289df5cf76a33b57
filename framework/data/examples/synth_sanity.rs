//! Prints the retrieval sanity ladder (random, hand-made baselines, restricted oracles, gloss
//! oracle) on the test split of a SynthSign preset.
//!
//! `cargo run --release -p seds-data --example synth_sanity [-- tiny|small|phoenix-like]`

use seds_config::{DataConfig, SynthPreset};
use seds_core::retrieval_ranks;
use seds_data::baselines::{bag_of_glosses_scores, oracle_scores, random_scores, OracleView};
use seds_data::synth::plan;

fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "tiny".into());
    let captions = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/captions/phoenix14t");
    let cfg = match which.as_str() {
        "small" => DataConfig {
            preset: SynthPreset::Small,
            ..DataConfig::default()
        },
        "phoenix-like" => DataConfig {
            preset: SynthPreset::PhoenixLike,
            captions: Some(captions.to_string_lossy().into_owned()),
            ..DataConfig::default()
        },
        _ => DataConfig::default(),
    };
    let p = match plan(&cfg) {
        Ok(p) => p,
        Err(e) => return eprintln!("{e}"),
    };
    let ds = match p.generate(&cfg, 0) {
        Ok(d) => d,
        Err(e) => return eprintln!("{e}"),
    };
    let t = &ds.test;
    let show = |name: &str, s: Vec<f32>| {
        let r = retrieval_ranks(&s, t.sentences.len(), &t.video_sentence());
        let (a, b) = (r.t2v_metrics(), r.v2t_metrics());
        println!("{which} {name:<22} T2V R@1 {:5.1} R@5 {:5.1} MedR {:5.1} | V2T R@1 {:5.1} R@5 {:5.1} MedR {:5.1}", a.r1, a.r5, a.medr, b.r1, b.r5, b.medr);
    };
    show("random", random_scores(t, 1));
    show(
        "baseline pose",
        bag_of_glosses_scores(&ds.train, t, true, false),
    );
    show(
        "baseline rgb",
        bag_of_glosses_scores(&ds.train, t, false, true),
    );
    show(
        "baseline pose+rgb",
        bag_of_glosses_scores(&ds.train, t, true, true),
    );
    show(
        "oracle pose-view",
        oracle_scores(t, &p.lexicon, OracleView::Pose),
    );
    show(
        "oracle rgb-view",
        oracle_scores(t, &p.lexicon, OracleView::Rgb),
    );
    show(
        "oracle gloss",
        oracle_scores(t, &p.lexicon, OracleView::Gloss),
    );
}
