//! On-disk tests of the non-.pose formats: OpenPose JSON directories, .npy/.npz files,
//! annotation files (including the real PHOENIX caption TSVs in ../shared when present),
//! and the layout mapping of OpenPose and COCO-WholeBody inputs.

use std::io::Write;
use std::path::{Path, PathBuf};

use seds_formats::layout::{openpose_to_seds, wholebody_to_seds};
use seds_formats::npy::{read_i3d_features, read_wholebody_keypoints, NpyError};
use seds_formats::openpose::OpenPoseError;
use seds_formats::{
    read_caption_tsv, read_csl_split, read_how2sign_tsv, read_npy, read_npz, read_npz_array,
    read_openpose_dir, read_phoenix_corpus, write_npy_f32, AnnotationError,
};

/// A fresh, empty scratch directory under the system temp dir.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("seds-formats-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

fn frame_json(base: f32, people: usize) -> String {
    let pts = |n: usize, off: f32| -> String {
        (0..n)
            .map(|i| format!("{},{},{}", off + i as f32, off + 1000.0 + i as f32, 0.5))
            .collect::<Vec<_>>()
            .join(",")
    };
    let person = format!(
        r#"{{"person_id":[-1],"pose_keypoints_2d":[{}],"face_keypoints_2d":[{}],"hand_left_keypoints_2d":[{}],"hand_right_keypoints_2d":[{}],"pose_keypoints_3d":[]}}"#,
        pts(25, base),
        pts(70, base + 100.0),
        pts(21, base + 200.0),
        pts(21, base + 300.0)
    );
    let people: Vec<String> = (0..people)
        .map(|i| person.replace("\"person_id\":[-1]", &format!("\"person_id\":[{i}]")))
        .collect();
    format!(r#"{{"version":1.3,"people":[{}]}}"#, people.join(","))
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write");
}

#[test]
fn openpose_directory_zero_fills_gaps() {
    let d = scratch("openpose");
    let clip = "-fZc293MpJk_0-1-rgb_front";
    write(
        &d,
        &format!("{clip}_000000000000_keypoints.json"),
        &frame_json(0.0, 1),
    );
    write(
        &d,
        &format!("{clip}_000000000003_keypoints.json"),
        &frame_json(10.0, 2),
    );
    write(
        &d,
        &format!("{clip}_000000000002_keypoints.json"),
        r#"{"version":1.3,"people":[]}"#,
    );
    write(&d, "notes.txt", "ignored");
    let seq = read_openpose_dir(&d).expect("reads");
    assert_eq!(seq.frames, 4);
    assert_eq!(seq.present, vec![true, false, true, true]);
    assert_eq!(seq.points.len(), 4 * 137);
    assert_eq!(seq.points[0], [0.0, 1000.0, 0.5]);
    assert_eq!(seq.points[137], [0.0; 3], "missing frame 1 is zero");
    assert_eq!(seq.points[2 * 137 + 5], [0.0; 3], "empty people is zero");
    assert_eq!(
        seq.points[3 * 137 + 95],
        [210.0, 1210.0, 0.5],
        "left hand of person 0"
    );
    // Mapping: SEDS left wrist = BODY_25 LWrist (7), right-hand wrist = point 116.
    let r = openpose_to_seds(&seq, 24.0, 1280.0, 720.0);
    assert_eq!(r.frames, 4);
    assert_eq!(r.joints[3 * 49 + 3], [17.0, 1017.0, 0.5]);
    assert_eq!(r.joints[3 * 49 + 6], [14.0, 1014.0, 0.5]);
    assert_eq!(r.joints[3 * 49 + 28], [310.0, 1310.0, 0.5]);

    // A malformed frame names its file and line.
    write(
        &d,
        &format!("{clip}_000000000001_keypoints.json"),
        "{\"people\": [\n{\"pose_keypoints_2d\": [1, 2,",
    );
    let e = read_openpose_dir(&d).unwrap_err();
    assert!(matches!(e, OpenPoseError::Json { line: 2, .. }), "{e}");
    assert!(
        e.to_string().contains("_000000000001_keypoints.json"),
        "{e}"
    );
    // Wrong part length.
    write(
        &d,
        &format!("{clip}_000000000001_keypoints.json"),
        r#"{"people":[{"hand_left_keypoints_2d":[1,2,3]}]}"#,
    );
    let e = read_openpose_dir(&d).unwrap_err().to_string();
    assert!(
        e.contains("hand_left_keypoints_2d: expected 63 values"),
        "{e}"
    );
    std::fs::remove_file(d.join(format!("{clip}_000000000001_keypoints.json"))).expect("rm");
    // A huge frame number is refused before allocating.
    write(
        &d,
        &format!("{clip}_999999999999_keypoints.json"),
        &frame_json(0.0, 1),
    );
    assert!(matches!(
        read_openpose_dir(&d),
        Err(OpenPoseError::TooManyFrames { .. })
    ));
    std::fs::remove_file(d.join(format!("{clip}_999999999999_keypoints.json"))).expect("rm");
    write(&d, &format!("{clip}_x_keypoints.json"), "{}");
    assert!(matches!(
        read_openpose_dir(&d),
        Err(OpenPoseError::BadName { .. })
    ));
    let empty = scratch("openpose-empty");
    assert!(matches!(
        read_openpose_dir(&empty),
        Err(OpenPoseError::NoFrames { .. })
    ));
    let _ = std::fs::remove_dir_all(&d);
    let _ = std::fs::remove_dir_all(&empty);
}

#[test]
fn npy_and_npz_files() {
    let d = scratch("npy");
    // COCO-WholeBody keypoints (T=2, 133, 3): x = point index, y = 2 * t, score 0.9.
    let mut kp = Vec::new();
    for t in 0..2 {
        for p in 0..133 {
            kp.extend_from_slice(&[p as f32 + 10.0, 2.0 * t as f32 + 10.0, 0.9]);
        }
    }
    let kp_path = d.join("video.npy");
    write_npy_f32(&kp_path, &[2, 133, 3], &kp).expect("writes");
    let a = read_wholebody_keypoints(&kp_path).expect("reads");
    assert_eq!(a.shape, vec![2, 133, 3]);
    assert_eq!(a.data, kp);
    let r = wholebody_to_seds(&a, 25.0, 210.0, 260.0, "video.npy").expect("maps");
    assert_eq!(r.joints[49 + 3], [19.0, 12.0, 0.9], "left wrist = COCO 9");
    assert_eq!(
        r.joints[49 + 4],
        [16.0, 12.0, 0.9],
        "right shoulder = COCO 6"
    );
    assert_eq!(
        r.joints[49 + 7],
        [101.0, 12.0, 0.9],
        "left-hand wrist = COCO 91"
    );
    assert_eq!(
        r.joints[49 + 28],
        [122.0, 12.0, 0.9],
        "right-hand wrist = COCO 112"
    );
    let e = read_i3d_features(&kp_path).unwrap_err();
    assert!(matches!(e, NpyError::Shape { .. }), "{e}");

    let feat: Vec<f32> = (0..3 * 1024).map(|i| i as f32 / 7.0).collect();
    let f_path = d.join("feat.npy");
    write_npy_f32(&f_path, &[3, 1024], &feat).expect("writes");
    assert_eq!(read_i3d_features(&f_path).expect("reads").data, feat);
    assert!(matches!(
        write_npy_f32(d.join("bad.npy"), &[2, 2], &[1.0]),
        Err(NpyError::InvalidInput { .. })
    ));
    assert!(matches!(
        read_npy(d.join("absent.npy")),
        Err(NpyError::Io { .. })
    ));

    // .npz, stored and deflated members (np.savez / np.savez_compressed).
    let kp_bytes = std::fs::read(&kp_path).expect("read back");
    let f_bytes = std::fs::read(&f_path).expect("read back");
    let npz_path = d.join("both.npz");
    {
        let mut w = zip::ZipWriter::new(std::fs::File::create(&npz_path).expect("create"));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        let deflated = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file("keypoints.npy", stored).expect("start");
        w.write_all(&kp_bytes).expect("write");
        w.start_file("feature.npy", deflated).expect("start");
        w.write_all(&f_bytes).expect("write");
        w.finish().expect("finish");
    }
    let all = read_npz(&npz_path).expect("reads npz");
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].0, "keypoints");
    assert_eq!(all[1].1.shape, vec![3, 1024]);
    assert_eq!(
        read_npz_array(&npz_path, "feature").expect("member").data,
        feat
    );
    let e = read_npz_array(&npz_path, "rgb").unwrap_err().to_string();
    assert!(
        e.contains("no array named \"rgb\" (members: keypoints, feature)"),
        "{e}"
    );
    // Truncated archive and truncated member.
    let npz = std::fs::read(&npz_path).expect("read");
    std::fs::write(d.join("cut.npz"), &npz[..npz.len() / 2]).expect("write");
    assert!(matches!(
        read_npz(d.join("cut.npz")),
        Err(NpyError::Zip { .. })
    ));
    {
        let mut w =
            zip::ZipWriter::new(std::fs::File::create(d.join("short.npz")).expect("create"));
        w.start_file("x.npy", zip::write::SimpleFileOptions::default())
            .expect("start");
        w.write_all(&f_bytes[..f_bytes.len() - 4]).expect("write");
        w.finish().expect("finish");
    }
    let e = read_npz(d.join("short.npz")).unwrap_err().to_string();
    assert!(
        e.contains("short.npz:x.npy: byte 128: data size mismatch"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn annotation_files() {
    let d = scratch("ann");
    let h = d.join("how2sign_realigned_test.csv");
    std::fs::write(&h, "VIDEO_ID\tVIDEO_NAME\tSENTENCE_ID\tSENTENCE_NAME\tSTART_REALIGNED\tEND_REALIGNED\tSENTENCE\n\
-g0iPSnQt6w\t-g0iPSnQt6w-1-rgb_front\t-g0iPSnQt6w_7\t-g0iPSnQt6w_7-1-rgb_front\t10.5\t12.25\tIt's, like, \"fine\".\n").expect("write");
    let rows = read_how2sign_tsv(&h).expect("reads");
    assert_eq!(rows[0].sentence_index, 7);
    assert_eq!(rows[0].end, 12.25);
    assert_eq!(rows[0].sentence, "It's, like, \"fine\".");
    let p = d.join("PHOENIX-2014-T.dev.corpus.csv");
    std::fs::write(&p, "name|video|start|end|speaker|orth|translation\na|a/1/*.png|-1|-1|Signer01|X|x\nb|b/1/*.png|-1|-1|Signer02|Y Z\n").expect("write");
    let e = read_phoenix_corpus(&p).unwrap_err();
    assert!(
        matches!(
            e,
            AnnotationError::Columns {
                line: 3,
                expected: 7,
                found: 6,
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("PHOENIX-2014-T.dev.corpus.csv: line 3"),
        "{e}"
    );
    let c = d.join("split_1.txt");
    std::fs::write(&c, "name|split\r\nS000000_P0000_T00|train\r\n").expect("write");
    assert_eq!(
        read_csl_split(&c).expect("reads")[0].name,
        "S000000_P0000_T00"
    );
    assert!(matches!(
        read_caption_tsv(d.join("none.tsv")),
        Err(AnnotationError::Io { .. })
    ));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn real_phoenix_caption_tsvs() {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/captions/phoenix14t");
    if !dir.is_dir() {
        eprintln!("SKIP: real captions not found at {}", dir.display());
        return;
    }
    for (split, n) in [("train", 7096), ("dev", 519), ("test", 642)] {
        let rows = read_caption_tsv(dir.join(format!("{split}.tsv"))).expect("reads");
        assert_eq!(rows.len(), n, "{split}");
        assert!(rows
            .iter()
            .all(|r| r.num_frames > 0 && !r.text_en.is_empty()));
    }
    let dev = read_caption_tsv(dir.join("dev.tsv")).expect("reads");
    assert_eq!(dev[0].sentence_id, "11August_2010_Wednesday_tagesschau-2");
    assert_eq!(dev[0].num_frames, 42);
    assert_eq!(
        dev[0].text_orig,
        "tiefer luftdruck bestimmt in den nächsten tagen unser wetter"
    );
}
