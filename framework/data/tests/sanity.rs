//! Sanity tests of SynthSign on the tiny preset: sizes and alignment, determinism, cache
//! behaviour, raw-frame regeneration, and the retrieval sanity ladder (random < baseline <
//! oracle; pose-only and RGB-only oracles each fail on the other's minimal pairs).

use seds_config::DataConfig;
use seds_core::retrieval_ranks;
use seds_data::baselines::{bag_of_glosses_scores, oracle_scores, random_scores, OracleView};
use seds_data::lexicon::PairKind;
use seds_data::synth::plan;
use seds_data::*;
use std::sync::OnceLock;

fn tiny_cfg() -> DataConfig {
    DataConfig {
        rgb_dim: 256,
        ..DataConfig::default()
    }
}

fn tiny() -> &'static Dataset {
    static DS: OnceLock<Dataset> = OnceLock::new();
    DS.get_or_init(|| generate(&tiny_cfg()).expect("tiny generation"))
}

#[test]
fn tiny_sizes_and_alignment() {
    let ds = tiny();
    assert_eq!(ds.name, "synthsign-tiny-s0");
    assert_eq!(
        [
            ds.train.sentences.len(),
            ds.dev.sentences.len(),
            ds.test.sentences.len()
        ],
        [120, 40, 40]
    );
    assert_eq!(
        [
            ds.train.videos.len(),
            ds.dev.videos.len(),
            ds.test.videos.len()
        ],
        [240, 80, 80]
    );
    for s in [&ds.train, &ds.dev, &ds.test] {
        for v in &s.videos {
            assert!(
                v.frames >= 16 && v.frames <= 120,
                "{} frames {}",
                v.id,
                v.frames
            );
            assert_eq!(v.pose.len(), v.frames * NUM_JOINTS * COORDS);
            assert!(!v.clip_starts.is_empty() && v.clip_starts.len() <= 64);
            assert_eq!(v.rgb.len(), v.clip_starts.len() * ds.rgb_dim);
            assert!(v.clip_starts.iter().all(|&c| c + 16 <= v.frames));
            assert!(v.pose.iter().all(|&x| (0.0..=1.0).contains(&x)));
        }
    }
    // Sentences are disjoint across splits (by text and by gloss sequence).
    let train: std::collections::BTreeSet<_> = ds
        .train
        .sentences
        .iter()
        .map(|s| s.glosses.clone())
        .collect();
    assert!(ds
        .test
        .sentences
        .iter()
        .all(|s| !train.contains(&s.glosses)));
    // The text is not a gloss transcript.
    let same = ds
        .train
        .sentences
        .iter()
        .filter(|s| s.text.to_uppercase().replace(' ', "-") == s.glosses.join("-"))
        .count();
    assert!(same < 5, "{same}");
    let st = stats(ds);
    assert!(
        st.gloss_count >= 30 && st.gloss_count <= 60,
        "{}",
        st.gloss_count
    );
    assert!(
        st.splits[0].frames.mean > 30.0 && st.splits[0].frames.mean < 60.0,
        "{:?}",
        st.splits[0].frames
    );
}

#[test]
fn determinism_same_seed_same_bytes_other_seed_differs() {
    let cfg = DataConfig {
        sizes: seds_config::SynthSizes {
            train_sentences: Some(10),
            dev_sentences: Some(4),
            test_sentences: Some(4),
            ..Default::default()
        },
        rgb_dim: 32,
        ..DataConfig::default()
    };
    let a = cache::encode(&generate(&cfg).unwrap());
    let b = cache::encode(&plan(&cfg).unwrap().generate(&cfg, 1).unwrap());
    assert_eq!(
        a, b,
        "same seed (and different thread counts) must give the same bytes"
    );
    let c = cache::encode(
        &generate(&DataConfig {
            synth_seed: 1,
            ..cfg.clone()
        })
        .unwrap(),
    );
    assert_ne!(a, c);
}

#[test]
fn cache_hit_corrupt_and_stale_are_handled() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = DataConfig {
        cache_dir: dir.path().to_string_lossy().into_owned(),
        sizes: seds_config::SynthSizes {
            train_sentences: Some(8),
            dev_sentences: Some(3),
            test_sentences: Some(3),
            ..Default::default()
        },
        rgb_dim: 16,
        ..DataConfig::default()
    };
    let (ds, st) = load_or_generate(&cfg).unwrap();
    assert_eq!(st, CacheStatus::Generated);
    let (ds2, st2) = load_or_generate(&cfg).unwrap();
    assert_eq!(st2, CacheStatus::Hit);
    assert_eq!(ds, ds2, "a cached dataset equals the generated one");
    assert_eq!(load_dataset(&cfg).unwrap(), ds);
    let cdir = cache::cache_path(&cfg).unwrap();
    let data = cdir.join("data.bin");
    // Corrupt one byte.
    let mut bytes = std::fs::read(&data).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&data, &bytes).unwrap();
    let (ds3, st3) = load_or_generate(&cfg).unwrap();
    assert!(
        matches!(st3, CacheStatus::Rebuilt(ref r) if r.contains("checksum")),
        "{st3:?}"
    );
    assert_eq!(ds3, ds);
    // Stale generator version in the manifest.
    let m = cdir.join("manifest.json");
    let text = std::fs::read_to_string(&m)
        .unwrap()
        .replace(GENERATOR_VERSION, "synthsign-0");
    std::fs::write(&m, text).unwrap();
    let (_, st4) = load_or_generate(&cfg).unwrap();
    assert!(
        matches!(st4, CacheStatus::Rebuilt(ref r) if r.contains("stale")),
        "{st4:?}"
    );
    // Truncated data file is a typed error naming the offset when decoded directly.
    let bytes = std::fs::read(&data).unwrap();
    let e = cache::decode(&bytes[..bytes.len() - 3], &data)
        .unwrap_err()
        .to_string();
    assert!(e.contains("offset") && e.contains("data.bin"), "{e}");
    // Another seed has another cache directory.
    assert_ne!(
        cache::cache_path(&DataConfig {
            synth_seed: 9,
            ..cfg.clone()
        })
        .unwrap(),
        cdir
    );
    // A real source without data.root is a config error naming the field.
    let real = DataConfig {
        source: seds_config::DataSource::How2sign,
        ..cfg
    };
    let e = load_dataset(&real).unwrap_err().to_string();
    assert!(e.contains("data.root") && e.contains("how2sign"), "{e}");
}

#[test]
fn raw_frames_regenerate_and_preprocess_to_the_cached_pose() {
    let cfg = tiny_cfg();
    let ds = tiny();
    let v = &ds.test.videos[3];
    let raw = synth_raw_video(&cfg, "test", &v.id).unwrap();
    assert_eq!((raw.width, raw.height, raw.fps), (640, 480, 25.0));
    let mut p = preprocess(&raw.frames, raw.width as f32, raw.height as f32, &cfg).unwrap();
    half::round_slice_f16(&mut p.pose);
    assert_eq!(p.pose, v.pose);
    assert_eq!(p.clip_starts, v.clip_starts);
    assert!(matches!(
        synth_raw_video(&cfg, "test", "nope"),
        Err(DataError::UnknownVideo { .. })
    ));
}

#[test]
fn unseen_signers_never_appear_in_train() {
    let cfg = DataConfig {
        unseen_signers: true,
        rgb_dim: 8,
        ..DataConfig::default()
    };
    let p = plan(&cfg).unwrap();
    let train: std::collections::BTreeSet<usize> =
        p.splits[0].videos.iter().map(|v| v.signer).collect();
    let test: std::collections::BTreeSet<usize> =
        p.splits[2].videos.iter().map(|v| v.signer).collect();
    assert!(train.is_disjoint(&test), "{train:?} {test:?}");
    assert!(!test.is_empty() && train.len() >= 3);
}

/// Ordered sentence pairs (a, b) of a split that differ in exactly one gloss, replaced by
/// its minimal-pair partner, with the kind of pair.
fn minimal_pair_sentences(
    split: &Split,
    lex: &[seds_data::lexicon::Gloss],
) -> Vec<(usize, usize, PairKind)> {
    let find = |name: &str| lex.iter().position(|g| g.name == name);
    let n = split.sentences.len();
    let mut out = Vec::new();
    for a in 0..n {
        for b in 0..n {
            let (ga, gb) = (&split.sentences[a].glosses, &split.sentences[b].glosses);
            if a == b || ga.len() != gb.len() {
                continue;
            }
            let diff: Vec<usize> = (0..ga.len()).filter(|&k| ga[k] != gb[k]).collect();
            if diff.len() != 1 {
                continue;
            }
            let (Some(i), Some(j)) = (find(&ga[diff[0]]), find(&gb[diff[0]])) else {
                continue;
            };
            if let Some((p, kind)) = lex[i].partner {
                if p == j {
                    out.push((a, b, kind));
                }
            }
        }
    }
    out
}

fn t2v_v2t_r1(split: &Split, scores: &[f32]) -> (f64, f64) {
    let r = retrieval_ranks(scores, split.sentences.len(), &split.video_sentence());
    (r.t2v_metrics().r1, r.v2t_metrics().r1)
}

#[test]
fn sanity_ladder_random_baseline_oracle() {
    let ds = tiny();
    let lex = plan(&tiny_cfg()).unwrap().lexicon;
    let test = &ds.test;
    let (rt, rv) = t2v_v2t_r1(test, &random_scores(test, 1));
    let (ot, ov) = t2v_v2t_r1(test, &oracle_scores(test, &lex, OracleView::Gloss));
    let (bt, bv) = t2v_v2t_r1(test, &bag_of_glosses_scores(&ds.train, test, true, true));
    let (pt, _) = t2v_v2t_r1(test, &bag_of_glosses_scores(&ds.train, test, true, false));
    let (gt, _) = t2v_v2t_r1(test, &bag_of_glosses_scores(&ds.train, test, false, true));
    eprintln!("R@1 t2v/v2t: random {rt:.1}/{rv:.1} baseline {bt:.1}/{bv:.1} (pose {pt:.1}, rgb {gt:.1}) oracle {ot:.1}/{ov:.1}");
    assert!(
        rt <= 15.0 && rv <= 15.0,
        "random must be near chance (2.5%)"
    );
    assert!(
        ot >= 95.0 && ov >= 95.0,
        "gloss oracle must be near perfect"
    );
    assert!(
        bt >= rt + 15.0 && bv >= rv + 15.0,
        "baseline must beat chance clearly"
    );
    assert!(
        bt <= ot - 15.0 && bv <= ov - 15.0,
        "baseline must stay clearly below the oracle"
    );
}

#[test]
fn pose_and_rgb_oracles_fail_on_each_others_minimal_pairs() {
    let ds = tiny();
    let lex = plan(&tiny_cfg()).unwrap().lexicon;
    let test = &ds.test;
    let n = test.sentences.len();
    let pose = oracle_scores(test, &lex, OracleView::Pose);
    let rgb = oracle_scores(test, &lex, OracleView::Rgb);
    let pairs = minimal_pair_sentences(test, &lex.glosses);
    let (mut hs, mut nm) = (0, 0);
    for (a, b, kind) in pairs {
        let v = test.videos.iter().position(|v| v.sentence == a).unwrap();
        let (p_ab, p_aa) = (pose[v * n + b], pose[v * n + a]);
        let (r_ab, r_aa) = (rgb[v * n + b], rgb[v * n + a]);
        match kind {
            PairKind::Handshape => {
                hs += 1;
                assert!(p_aa > p_ab, "pose resolves handshape pairs");
                assert_eq!(r_aa, r_ab, "RGB oracle cannot resolve handshape pairs");
            }
            PairKind::NonManual => {
                nm += 1;
                assert!(r_aa > r_ab, "RGB resolves non-manual pairs");
                assert_eq!(p_aa, p_ab, "pose oracle cannot resolve non-manual pairs");
            }
        }
    }
    let train_pairs = minimal_pair_sentences(&ds.train, &lex.glosses);
    let train_hs = train_pairs
        .iter()
        .filter(|p| p.2 == PairKind::Handshape)
        .count();
    eprintln!(
        "minimal-pair sentence pairs in tiny train: handshape {train_hs}, non-manual {}",
        train_pairs.len() - train_hs
    );
    eprintln!("minimal-pair sentence pairs in tiny test: handshape {hs}, non-manual {nm}");
    assert!(
        hs >= 2 && nm >= 2,
        "tiny test must contain both kinds of minimal pairs ({hs}, {nm})"
    );
    // Whole-split effect: each restricted oracle loses R@1 against the full one.
    let (pt, _) = t2v_v2t_r1(test, &pose);
    let (gt, _) = t2v_v2t_r1(test, &rgb);
    eprintln!("oracle R@1 t2v: pose-view {pt:.1} rgb-view {gt:.1}");
    assert!(pt < 100.0 && gt < 100.0);
}

#[test]
fn non_manual_partners_render_identical_pose() {
    // Pose cannot carry the non-manual channel: swapping a gloss for its non-manual partner
    // leaves the raw keypoints bit-identical.
    let lex = plan(&tiny_cfg()).unwrap().lexicon;
    let (i, j) = lex
        .glosses
        .iter()
        .enumerate()
        .find_map(|(i, g)| {
            g.partner
                .filter(|p| p.1 == PairKind::NonManual)
                .map(|p| (i, p.0))
        })
        .expect("a non-manual pair");
    let s = signer::Signer::random(0, &mut seds_core::Rng::new(3));
    let (a, _) = render::render(
        &lex,
        &[i, 0],
        &s,
        640,
        480,
        25.0,
        None,
        &mut seds_core::Rng::new(5),
    );
    let (b, _) = render::render(
        &lex,
        &[j, 0],
        &s,
        640,
        480,
        25.0,
        None,
        &mut seds_core::Rng::new(5),
    );
    assert_eq!(a, b);
    let h = lex.glosses[i].partner.map(|_| ()).and_then(|_| {
        lex.glosses.iter().enumerate().find_map(|(k, g)| {
            g.partner
                .filter(|p| p.1 == PairKind::Handshape)
                .map(|p| (k, p.0))
        })
    });
    let (k, l) = h.expect("a handshape pair");
    let (c, _) = render::render(
        &lex,
        &[k],
        &s,
        640,
        480,
        25.0,
        None,
        &mut seds_core::Rng::new(5),
    );
    let (d, _) = render::render(
        &lex,
        &[l],
        &s,
        640,
        480,
        25.0,
        None,
        &mut seds_core::Rng::new(5),
    );
    assert_ne!(c, d, "handshape partners differ in the hand keypoints");
}

#[test]
fn train_batches_are_deterministic() {
    let ds = tiny();
    let tok = Tokenizer::from_split(&ds.train);
    let cfg = tiny_cfg();
    let a = train_batches(&ds.train, &tok, &cfg, 32, 3, 42);
    let b = train_batches(&ds.train, &tok, &cfg, 32, 3, 42);
    assert_eq!(a, b);
    assert_eq!(a.len(), 4); // 120 sentences / 32 -> 3 full + 24
    assert_eq!(a.iter().map(|x| x.video.len()).sum::<usize>(), 120);
    assert!(a[0].text_aug.is_some());
    let c = train_batches(&ds.train, &tok, &cfg, 32, 4, 42);
    assert_ne!(a[0].video.video_index, c[0].video.video_index);
    let eval = text_batch(&ds.test, &tok, &[0, 1, 2], cfg.max_words);
    assert_eq!(eval.len(), 3);
}

#[test]
fn caption_mode_uses_real_phoenix_captions() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/captions/phoenix14t");
    if !dir.join("train.tsv").exists() {
        eprintln!(
            "SKIP caption_mode_uses_real_phoenix_captions: {} not found",
            dir.display()
        );
        return;
    }
    let cfg = DataConfig {
        captions: Some(dir.to_string_lossy().into_owned()),
        sizes: seds_config::SynthSizes {
            train_sentences: Some(20),
            dev_sentences: Some(5),
            test_sentences: Some(5),
            ..Default::default()
        },
        rgb_dim: 16,
        ..DataConfig::default()
    };
    let p = plan(&cfg).unwrap();
    assert_eq!(p.splits[0].sentences.len(), 20);
    assert_eq!(
        p.splits[0].sentences[0].id,
        "11August_2010_Wednesday_tagesschau-1"
    );
    assert_eq!(p.splits[0].videos[0].target_frames, Some(86));
    let raw = synth_raw_video(&cfg, "train", "11August_2010_Wednesday_tagesschau-1").unwrap();
    assert_eq!(raw.frames.len(), 86);
    assert_eq!((raw.width, raw.height), (210, 260));
    let ds = generate(&cfg).unwrap();
    assert!(ds.train.videos.len() >= 20);
    assert!(ds.train.sentences[0]
        .glosses
        .contains(&"WEATHER".to_string()));
    let ph = DataConfig {
        preset: seds_config::SynthPreset::PhoenixLike,
        captions: None,
        ..DataConfig::default()
    };
    assert!(matches!(plan(&ph), Err(DataError::Config(_))));
}
