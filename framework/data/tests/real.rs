//! Real-dataset loading, checking and raw frames on directories built in a temp dir in each
//! layout (How2Sign, PHOENIX captions, PHOENIX corpus, CSL-Daily, pose-dir), the malformed
//! variants and their documented errors / report entries, and the real `.pose` fixtures of
//! /work/shared (skipped with a message when absent).

use seds_config::{DataConfig, DataSource};
use seds_data::fixtures::{
    self, expected_clips, fixture_features, skeleton_frame, write_caption_fixture,
    write_fixture_features, write_how2sign_fixture_with, write_wholebody_npy,
};
use seds_data::real::{self, ProblemKind};
use seds_data::{
    check_dataset, load_dataset, load_dataset_with_status, preprocess, raw_frames, CacheStatus,
    DataError, Dataset,
};
use std::path::{Path, PathBuf};

const RGB: usize = 8;

fn cfg(source: DataSource, root: &Path, cache: &Path) -> DataConfig {
    DataConfig {
        source,
        root: Some(root.display().to_string()),
        cache_dir: cache.display().to_string(),
        rgb_dim: RGB,
        ..DataConfig::default()
    }
}

/// Takes of one sentence share it; sentences are distinct within a split.
fn assert_grouping(ds: &Dataset, takes: usize) {
    for sp in [&ds.train, &ds.dev, &ds.test] {
        assert_eq!(sp.videos.len(), sp.sentences.len() * takes, "{}", sp.name);
        for (i, v) in sp.videos.iter().enumerate() {
            assert_eq!(v.sentence, i / takes, "{} {}", sp.name, v.id);
        }
        let ids: std::collections::BTreeSet<&str> =
            sp.sentences.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids.len(), sp.sentences.len());
    }
}

#[test]
fn how2sign_layout_loads_groups_aligns_and_caches() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("h2s");
    let c = cfg(DataSource::How2sign, &root, &tmp.path().join("cache"));
    let sum = write_how2sign_fixture_with(&root, 3, 2, 24, &c).unwrap();
    assert_eq!(sum.videos[0].len(), 6);
    assert_eq!(sum.videos[0][0].2, 9); // 24 frames, window 16, stride 1
    let (ds, st) = load_dataset_with_status(&c).unwrap();
    assert_eq!(st, CacheStatus::Generated);
    assert_eq!(ds.name, "how2sign-h2s");
    assert_eq!((ds.fps, ds.rgb_dim, ds.clip_window), (24.0, RGB, 16));
    assert_eq!(ds.train.sentences.len(), 3);
    assert_eq!(ds.dev.videos.len(), 6);
    assert_grouping(&ds, 2);
    let v = &ds.dev.videos[3];
    assert_eq!(v.id, "-dev_v01-x_1-2-rgb_front");
    assert_eq!(ds.dev.sentences[1].id, "-dev_v01-x_1");
    assert_eq!(ds.dev.sentences[1].text, fixtures::fixture_text(4));
    assert_eq!(v.frames, 24);
    assert_eq!(v.clip_starts, (0..9).collect::<Vec<_>>());
    assert_eq!(v.rgb.len(), 9 * RGB);
    assert_eq!(v.pose.len(), 24 * 49 * 2);
    // RGB rows are the feature file's rows (f16-rounded), in order.
    let f = fixture_features("-dev_v01-x_1", 1, 9, RGB);
    for (a, b) in v.rgb.iter().zip(&f) {
        assert!((a - b).abs() <= 2e-3 * b.abs().max(1.0), "{a} {b}");
    }
    // Pose equals the shared preprocessing of the skeleton (JSON text round trip + f16).
    let raw: Vec<_> = (0..24)
        .map(|t| skeleton_frame(4, 1, t, 1280.0, 720.0))
        .collect();
    let p = preprocess(&raw, 1280.0, 720.0, &c).unwrap();
    assert_eq!(p.clip_starts, v.clip_starts);
    let maxdiff = p
        .pose
        .iter()
        .zip(&v.pose)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(maxdiff < 2e-3, "{maxdiff}");
    // Second load hits the cache and equals the first.
    let (ds2, st2) = load_dataset_with_status(&c).unwrap();
    assert_eq!(st2, CacheStatus::Hit);
    assert_eq!(ds2, ds);
    // A corrupt cache is rebuilt.
    let cdir = std::fs::read_dir(tmp.path().join("cache"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(cdir
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("how2sign-h2s-"));
    let mut bytes = std::fs::read(cdir.join("data.bin")).unwrap();
    bytes[40] ^= 0xff;
    std::fs::write(cdir.join("data.bin"), &bytes).unwrap();
    let (ds3, st3) = load_dataset_with_status(&c).unwrap();
    assert!(
        matches!(st3, CacheStatus::Rebuilt(ref r) if r.contains("checksum")),
        "{st3:?}"
    );
    assert_eq!(ds3, ds);
    // A changed feature file invalidates the cache (fingerprint: size/mtime).
    let fpath = root.join("features").join(format!("{}.npy", v.id));
    let mut g = f.clone();
    g.extend(vec![0.5; RGB]);
    seds_formats::write_npy_f32(&fpath, &[10, RGB], &g).unwrap();
    let e = load_dataset(&c).unwrap_err().to_string();
    assert!(
        e.contains("-dev_v01-x_1-2-rgb_front")
            && e.contains("10 feature rows")
            && e.contains("9 clips"),
        "{e}"
    );
    // check: clean dataset except that video.
    let r = check_dataset(&c).unwrap();
    assert_eq!(r.videos(), 18);
    assert_eq!(r.ok_videos(), 17);
    assert_eq!(r.count(ProblemKind::CountMismatch), 1);
    assert_eq!(r.problems_of(&v.id)[0].kind, ProblemKind::CountMismatch);
    assert_eq!(r.splits[1].clips, 6 * 9);
    // raw frames: the OpenPose pixels of the 1280x720 video.
    let rv = raw_frames(&c, "dev", &v.id).unwrap();
    assert_eq!(
        (rv.width, rv.height, rv.fps, rv.frames.len()),
        (1280, 720, 24.0, 24)
    );
    let want = skeleton_frame(4, 1, 5, 1280.0, 720.0);
    for j in 0..49 {
        for k in 0..3 {
            assert!((rv.frames[5][j][k] - want[j][k]).abs() < 1e-3, "joint {j}");
        }
    }
    assert!(matches!(
        raw_frames(&c, "train", &v.id),
        Err(DataError::UnknownVideo { .. })
    ));
}

#[test]
fn write_how2sign_fixture_default_config_loads() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("d");
    seds_data::write_how2sign_fixture(&root, 2, 1, 17).unwrap();
    let c = DataConfig {
        rgb_dim: 1024,
        ..cfg(DataSource::How2sign, &root, &tmp.path().join("cache"))
    };
    let ds = load_dataset(&c).unwrap();
    assert_eq!(ds.test.videos.len(), 2);
    assert_eq!(ds.test.videos[0].clip_starts, vec![0, 1]);
    assert_eq!(ds.test.videos[0].rgb.len(), 2 * 1024);
}

#[test]
fn how2sign_malformed_variants() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("h2s");
    let c = cfg(DataSource::How2sign, &root, &tmp.path().join("cache"));
    let sum = write_how2sign_fixture_with(&root, 2, 2, 20, &c).unwrap();
    let vids: Vec<&String> = sum.videos[0].iter().map(|v| &v.0).collect();
    // Missing OpenPose dir, corrupt JSON frame, missing features.
    std::fs::remove_dir_all(root.join("openpose").join(vids[0])).unwrap();
    let frame = root
        .join("openpose")
        .join(vids[1])
        .join(format!("{}_000000000003_keypoints.json", vids[1]));
    std::fs::write(&frame, "{\"people\": [\n{\"pose_keypoints_2d\": [1, 2,").unwrap();
    std::fs::remove_file(root.join("features").join(format!("{}.npy", vids[1]))).unwrap();
    let r = check_dataset(&c).unwrap();
    let p0 = r.problems_of(vids[0]);
    assert_eq!(p0.len(), 1);
    assert_eq!(p0[0].kind, ProblemKind::MissingPose);
    assert!(
        p0[0].detail.contains("openpose") && p0[0].detail.contains(".npy"),
        "{}",
        p0[0].detail
    );
    let p1: Vec<ProblemKind> = r.problems_of(vids[1]).iter().map(|p| p.kind).collect();
    assert_eq!(
        p1,
        vec![ProblemKind::UnreadablePose, ProblemKind::MissingFeatures]
    );
    let d = &r.problems_of(vids[1])[0].detail;
    assert!(
        d.contains("000000000003_keypoints.json") && d.contains("line 2"),
        "{d}"
    );
    assert_eq!(r.ok_videos(), 10);
    let e = load_dataset(&c).unwrap_err();
    assert!(
        matches!(e, DataError::Video { ref video, .. } if video == vids[0]),
        "{e}"
    );
    // Missing annotation column: a How2Sign TSV whose header lacks SENTENCE.
    let ann = root.join("annotations").join("how2sign_realigned_val.csv");
    let text = std::fs::read_to_string(&ann).unwrap();
    let bad: String = text
        .lines()
        .map(|l| l.rsplit_once('\t').map_or(l, |(a, _)| a).to_string() + "\n")
        .collect();
    std::fs::write(&ann, bad).unwrap();
    let r = check_dataset(&c).unwrap();
    assert_eq!(r.count(ProblemKind::Annotation), 1);
    let a = r
        .problems
        .iter()
        .find(|p| p.kind == ProblemKind::Annotation)
        .unwrap();
    assert_eq!(a.split.as_deref(), Some("dev"));
    assert!(
        a.detail.contains("how2sign_realigned_val.csv") && a.detail.contains("header"),
        "{}",
        a.detail
    );
    assert_eq!(r.splits[1].videos, 0);
    let e = load_dataset(&c).unwrap_err().to_string();
    assert!(e.contains("how2sign_realigned_val.csv"), "{e}");
    // Missing annotation file.
    std::fs::remove_file(root.join("annotations").join("how2sign_realigned_test.csv")).unwrap();
    let r = check_dataset(&c).unwrap();
    assert_eq!(r.count(ProblemKind::Annotation), 2);
    assert!(r
        .problems
        .iter()
        .any(|p| p.detail.contains("how2sign_test.csv")));
}

#[test]
fn pose_dir_layout_and_every_problem_kind_in_one_report() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("pd");
    let c = cfg(DataSource::PoseDir, &root, &tmp.path().join("cache"));
    let sum = write_caption_fixture(&root, 4, 2, 30, (256.0, 256.0), &c).unwrap();
    let ds = load_dataset(&c).unwrap();
    assert_eq!(ds.name, "pose-dir-pd");
    assert_eq!((ds.train.videos.len(), ds.train.sentences.len()), (8, 4));
    assert_grouping(&ds, 2);
    assert_eq!(ds.train.videos[5].id, "train_s2_t1");
    assert_eq!(ds.train.videos[5].clip_starts.len(), 15);
    assert_eq!(ds.fps, 25.0);
    let clean = check_dataset(&c).unwrap();
    assert!(clean.is_ok(), "{:?}", clean.problems);
    assert_eq!(clean.ok_videos(), 24);

    let v: Vec<String> = sum.videos[0].iter().map(|v| v.0.clone()).collect();
    let pose = |i: usize| root.join("pose").join(format!("{}.npy", v[i]));
    let feat = |i: usize| root.join("features").join(format!("{}.npy", v[i]));
    // 0: missing pose; 1: corrupt npy; 2: wrong feature count; 3: missing features;
    // 4: feature width != rgb_dim; 5: no hand anywhere.
    std::fs::remove_file(pose(0)).unwrap();
    let mut bytes = std::fs::read(pose(1)).unwrap();
    bytes.truncate(100);
    std::fs::write(pose(1), &bytes).unwrap();
    seds_formats::write_npy_f32(feat(2), &[14, RGB], &vec![0.0; 14 * RGB]).unwrap();
    std::fs::remove_file(feat(3)).unwrap();
    seds_formats::write_npy_f32(feat(4), &[15, RGB + 1], &vec![0.0; 15 * (RGB + 1)]).unwrap();
    let mut handless = vec![0f32; 30 * 133 * 3];
    for t in 0..30 {
        for p in 0..17 {
            let i = (t * 133 + p) * 3;
            handless[i..i + 3].copy_from_slice(&[100.0, 100.0, 0.3]);
        }
    }
    seds_formats::write_npy_f32(pose(5), &[30, 133, 3], &handless).unwrap();
    let r = check_dataset(&c).unwrap();
    let kinds =
        |i: usize| -> Vec<ProblemKind> { r.problems_of(&v[i]).iter().map(|p| p.kind).collect() };
    assert_eq!(kinds(0), vec![ProblemKind::MissingPose]);
    assert_eq!(kinds(1), vec![ProblemKind::UnreadablePose]);
    assert_eq!(kinds(2), vec![ProblemKind::CountMismatch]);
    assert_eq!(kinds(3), vec![ProblemKind::MissingFeatures]);
    assert_eq!(kinds(4), vec![ProblemKind::UnreadableFeatures]);
    assert_eq!(kinds(5), vec![ProblemKind::EmptyHands]);
    let d1 = &r.problems_of(&v[1])[0].detail;
    assert!(
        d1.contains(&format!("{}.npy", v[1])) && d1.contains("truncated at byte"),
        "{d1}"
    );
    let d2 = &r.problems_of(&v[2])[0].detail;
    assert!(
        d2.contains("14 feature rows") && d2.contains("15 clips"),
        "{d2}"
    );
    let d4 = &r.problems_of(&v[4])[0].detail;
    assert!(d4.contains("(n, 8)") && d4.contains("[15, 9]"), "{d4}");
    let d5 = &r.problems_of(&v[5])[0].detail;
    assert!(d5.contains("no frame of 30 has a detectable hand"), "{d5}");
    assert_eq!(r.problems.len(), 6);
    assert_eq!(r.ok_videos(), 18);
    assert_eq!(r.splits[0].ok, 2);
    for k in [
        ProblemKind::MissingPose,
        ProblemKind::UnreadablePose,
        ProblemKind::CountMismatch,
        ProblemKind::MissingFeatures,
        ProblemKind::UnreadableFeatures,
        ProblemKind::EmptyHands,
    ] {
        assert_eq!(r.count(k), 1, "{k:?}");
    }
    // Serialisable, with counts keyed by kebab-case kind.
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["counts"]["count-mismatch"], 1);
    assert_eq!(json["problems"][0]["kind"], "missing-pose");
    let back: seds_data::DatasetReport = serde_json::from_value(json).unwrap();
    assert_eq!(back, r);
    // load stops at the first problem, naming the split and video.
    let e = load_dataset(&c).unwrap_err().to_string();
    assert!(
        e.starts_with("video `train_s0_t0` (train): pose of video `train_s0_t0` not found"),
        "{e}"
    );

    // Missing annotation column in a caption TSV.
    let cap = root.join("captions").join("test.tsv");
    let text = std::fs::read_to_string(&cap).unwrap();
    let bad: String = text
        .lines()
        .map(|l| l.rsplit_once('\t').map_or(l, |(a, _)| a).to_string() + "\n")
        .collect();
    std::fs::write(&cap, bad).unwrap();
    let r = check_dataset(&c).unwrap();
    let a: Vec<_> = r
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::Annotation)
        .collect();
    assert_eq!(a.len(), 1);
    assert!(
        a[0].detail.contains("test.tsv")
            && a[0].detail.contains("line 1")
            && a[0].detail.contains("header"),
        "{}",
        a[0].detail
    );
}

#[test]
fn phoenix_captions_and_corpus_layouts() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("ph");
    let c = cfg(DataSource::Phoenix14t, &root, &tmp.path().join("cache"));
    write_caption_fixture(&root, 3, 1, 20, (210.0, 260.0), &c).unwrap();
    let ds = load_dataset(&c).unwrap();
    assert_eq!(ds.fps, 25.0);
    assert_eq!(ds.train.videos.len(), 3);
    assert!(ds.train.sentences[0].glosses.is_empty());
    // Body joints are divided by the PHOENIX frame size 210 x 260.
    let nose = skeleton_frame(0, 0, 0, 210.0, 260.0)[0];
    let v = &ds.train.videos[0];
    assert!(
        (v.pose[0] - nose[0] / 210.0).abs() < 1e-3 && (v.pose[1] - nose[1] / 260.0).abs() < 1e-3
    );
    let rv = raw_frames(&c, "train", &v.id).unwrap();
    assert_eq!((rv.width, rv.height), (210, 260));

    // The corpus CSV enriches captions with glosses and signer.
    let ann = root.join("annotations");
    std::fs::create_dir_all(&ann).unwrap();
    for split in ["train", "dev", "test"] {
        let mut csv = "name|video|start|end|speaker|orth|translation\n".to_string();
        for k in 0..3 {
            csv.push_str(&format!(
                "{split}_s{k}_t0|{split}_s{k}_t0/1/*.png|-1|-1|Signer0{}|MORGEN NORD SONNE{k}|morgen im norden sonne {k}\n",
                k + 1
            ));
        }
        std::fs::write(ann.join(format!("PHOENIX-2014-T.{split}.corpus.csv")), csv).unwrap();
    }
    let ds = load_dataset(&c).unwrap();
    assert_eq!(
        ds.dev.sentences[2].glosses,
        vec!["MORGEN", "NORD", "SONNE2"]
    );
    assert_eq!(ds.dev.videos[2].signer, 3);
    assert_eq!(ds.dev.sentences[2].text, fixtures::fixture_text(5));
    // Corpus only: text is the German translation, one sentence per video.
    std::fs::remove_dir_all(root.join("captions")).unwrap();
    let ds = load_dataset(&c).unwrap();
    assert_eq!(ds.test.sentences[1].text, "morgen im norden sonne 1");
    assert_eq!(ds.test.sentences[1].id, "test_s1_t0");
    assert_eq!(ds.test.videos[1].signer, 2);
    // Corpus with a missing column.
    let f = ann.join("PHOENIX-2014-T.dev.corpus.csv");
    std::fs::write(&f, "name|video|start|end|speaker|orth\nx|x|-1|-1|S|A\n").unwrap();
    let e = load_dataset(&c).unwrap_err().to_string();
    assert!(
        e.contains("PHOENIX-2014-T.dev.corpus.csv") && e.contains("header"),
        "{e}"
    );
}

#[test]
fn csl_daily_split_file_groups_signers_and_flags_missing_captions() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("csl");
    let c = cfg(DataSource::CslDaily, &root, &tmp.path().join("cache"));
    for d in ["captions", "pose", "features", "sentence_label"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    let clips = expected_clips(18, 512.0, 512.0, &c).unwrap();
    assert_eq!(clips, 3);
    let mut split = "name|split\n".to_string();
    let mut caps: [Vec<seds_formats::CaptionRecord>; 3] = Default::default();
    for (si, sp) in ["train", "dev", "test"].iter().enumerate() {
        for s in 0..2 {
            let sent = si * 2 + s;
            for p in 0..2 {
                let name = format!("S{sent:06}_P{:04}_T00", p + 3);
                split.push_str(&format!("{name}|{sp}\n"));
                write_wholebody_npy(
                    &root.join("pose").join(format!("{name}.npy")),
                    sent,
                    p,
                    18,
                    (512.0, 512.0),
                )
                .unwrap();
                write_fixture_features(&root, &name, &format!("S{sent:06}"), p, clips, RGB)
                    .unwrap();
                caps[si].push(seds_formats::CaptionRecord {
                    sentence_id: format!("S{sent:06}"),
                    video_name: name,
                    num_frames: 18,
                    text_en: String::new(),
                    text_orig: format!("句子{sent}"),
                });
            }
        }
    }
    split.push_str("S000099_P0001_T00|train\n");
    std::fs::write(root.join("sentence_label").join("split_1.txt"), split).unwrap();
    for (si, sp) in ["train", "dev", "test"].iter().enumerate() {
        seds_formats::write_caption_tsv(root.join("captions").join(format!("{sp}.tsv")), &caps[si])
            .unwrap();
    }
    let r = check_dataset(&c).unwrap();
    assert_eq!(r.problems.len(), 1);
    assert_eq!(r.problems[0].kind, ProblemKind::MissingCaption);
    assert_eq!(r.problems[0].video.as_deref(), Some("S000099_P0001_T00"));
    let e = load_dataset(&c).unwrap_err().to_string();
    assert!(
        e.contains("S000099_P0001_T00") && e.contains("caption"),
        "{e}"
    );
    // Drop the uncaptioned row: loads, grouped by sentence, signers from P.
    let text = std::fs::read_to_string(root.join("sentence_label").join("split_1.txt")).unwrap();
    std::fs::write(
        root.join("sentence_label").join("split_1.txt"),
        text.replace("S000099_P0001_T00|train\n", ""),
    )
    .unwrap();
    let ds = load_dataset(&c).unwrap();
    assert_grouping(&ds, 2);
    assert_eq!(ds.fps, 30.0);
    assert_eq!(ds.test.sentences[1].text, "句子5"); // empty text_en falls back to text_orig
    assert_eq!(
        ds.test.videos.iter().map(|v| v.signer).collect::<Vec<_>>(),
        vec![3, 4, 3, 4]
    );
}

#[test]
fn meta_json_overrides_geometry_and_is_validated() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("pd");
    let c = cfg(DataSource::PoseDir, &root, &tmp.path().join("cache"));
    write_caption_fixture(&root, 1, 1, 16, (640.0, 480.0), &c).unwrap();
    std::fs::write(
        root.join("meta.json"),
        r#"{"width": 640, "height": 480, "fps": 50}"#,
    )
    .unwrap();
    let ds = load_dataset(&c).unwrap();
    assert_eq!(ds.fps, 50.0);
    let nose = skeleton_frame(0, 0, 0, 640.0, 480.0)[0];
    assert!((ds.train.videos[0].pose[0] - nose[0] / 640.0).abs() < 1e-3);
    std::fs::write(root.join("meta.json"), r#"{"width": 0}"#).unwrap();
    let e = check_dataset(&c).unwrap_err().to_string();
    assert!(e.contains("meta.json") && e.contains("positive"), "{e}");
    std::fs::write(root.join("meta.json"), r#"{"widht": 3}"#).unwrap();
    let e = load_dataset(&c).unwrap_err().to_string();
    assert!(e.contains("meta.json") && e.contains("widht"), "{e}");
    // No root directory.
    let missing = cfg(DataSource::PoseDir, &tmp.path().join("nope"), tmp.path());
    assert!(check_dataset(&missing)
        .unwrap_err()
        .to_string()
        .contains("is not a directory"));
}

fn shared_fixtures() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/pose-fixtures");
    if p.join("openpose_v0_0.pose").is_file() {
        Some(p)
    } else {
        eprintln!(
            "SKIP: real .pose fixtures not found at {} (../shared absent)",
            p.display()
        );
        None
    }
}

#[test]
fn real_pose_fixtures_in_a_pose_dir_dataset() {
    let Some(src) = shared_fixtures() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("fx");
    let c = cfg(DataSource::PoseDir, &root, &tmp.path().join("cache"));
    for d in ["captions", "pose", "features"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    let names = [
        "openpose_v0_0",
        "openpose137_v0_1",
        "mediapipe_v0_1",
        "hand_v0_2",
    ];
    let mut recs = Vec::new();
    let mut expect = Vec::new();
    for n in names {
        std::fs::copy(
            src.join(format!("{n}.pose")),
            root.join("pose").join(format!("{n}.pose")),
        )
        .unwrap();
        let loc = real::locate_pose(&root, n).unwrap();
        let raw = real::read_pose(&loc, &real::default_geometry(DataSource::PoseDir)).unwrap();
        let frames = real::raw_pose_frames(&raw);
        let p = preprocess(&frames, raw.width, raw.height, &c).unwrap();
        write_fixture_features(&root, n, n, 0, p.clip_starts.len(), RGB).unwrap();
        expect.push((n, raw.frames, raw.width, p.clip_starts.len(), p.frames));
        recs.push(seds_formats::CaptionRecord {
            sentence_id: n.into(),
            video_name: n.into(),
            num_frames: raw.frames,
            text_en: format!("fixture {n}"),
            text_orig: String::new(),
        });
    }
    eprintln!("fixtures (name, frames, width, clips, kept frames): {expect:?}");
    // Source frame counts and sizes from the fixture README.
    assert_eq!(
        expect.iter().map(|e| e.1).collect::<Vec<_>>(),
        vec![93, 66, 170, 5]
    );
    assert_eq!(
        expect.iter().map(|e| e.2).collect::<Vec<_>>(),
        vec![1000.0, 1000.0, 1250.0, 640.0]
    );
    // Kept frames (hand filter; regression values) and the clip rule n = max(1, T' - 15),
    // capped at 64; 5 frames are padded to the 16-frame window.
    assert_eq!(
        expect.iter().map(|e| e.4).collect::<Vec<_>>(),
        vec![62, 41, 169, 16]
    );
    assert_eq!(
        expect.iter().map(|e| e.3).collect::<Vec<_>>(),
        vec![47, 26, 64, 1]
    );
    for sp in ["train", "dev", "test"] {
        seds_formats::write_caption_tsv(root.join("captions").join(format!("{sp}.tsv")), &recs)
            .unwrap();
    }
    let r = check_dataset(&c).unwrap();
    assert!(r.is_ok(), "{:?}", r.problems);
    let ds = load_dataset(&c).unwrap();
    assert_eq!(ds.test.videos.len(), 4);
    for (v, e) in ds.test.videos.iter().zip(&expect) {
        assert_eq!(v.id, e.0);
        assert_eq!(v.num_clips(), e.3);
        assert_eq!(v.frames, e.4);
        assert_eq!(v.rgb.len(), e.3 * RGB);
        assert!(v.pose.iter().all(|x| x.is_finite()));
    }
    let rv = raw_frames(&c, "dev", "mediapipe_v0_1").unwrap();
    assert_eq!((rv.width, rv.height, rv.frames.len()), (1250, 1250, 170));
    // Wrong feature count for a real fixture is a named count mismatch.
    let n = expect[0].3;
    write_fixture_features(&root, names[0], names[0], 0, n + 2, RGB).unwrap();
    let e = load_dataset(&c).unwrap_err().to_string();
    assert!(
        e.contains("openpose_v0_0") && e.contains(&format!("{} feature rows", n + 2)),
        "{e}"
    );
}

#[test]
fn duplicate_and_unsafe_video_names_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("pd");
    let c = cfg(DataSource::PoseDir, &root, &tmp.path().join("cache"));
    write_caption_fixture(&root, 2, 1, 16, (256.0, 256.0), &c).unwrap();
    let cap = root.join("captions").join("dev.tsv");
    let mut text = std::fs::read_to_string(&cap).unwrap();
    text.push_str("dev_s0\tdev_s0_t0\t16\tagain\t\n");
    text.push_str("x\t../escape\t16\tbad\t\n");
    std::fs::write(&cap, text).unwrap();
    let r = check_dataset(&c).unwrap();
    assert_eq!(r.count(ProblemKind::DuplicateVideo), 1);
    assert_eq!(r.count(ProblemKind::Annotation), 1);
    assert_eq!(
        r.problems_of("dev_s0_t0")[0].kind,
        ProblemKind::DuplicateVideo
    );
    assert!(r.problems_of("../escape")[0].detail.contains(".."));
    assert_eq!(r.splits[1].videos, 2);
    assert_eq!(r.splits[1].ok, 2);
    let e = load_dataset(&c).unwrap_err().to_string();
    assert!(
        e.contains("dev_s0_t0") && e.contains("more than once"),
        "{e}"
    );
}
