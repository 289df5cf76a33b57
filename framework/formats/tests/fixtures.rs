//! Tests on the real pose-format fixtures in ../shared/data/pose-fixtures (skipped with a
//! message when absent): header fields, counts, confidence fraction and the reference sums
//! of the fixture README, and the SEDS joint mapping of every layout.

use std::path::PathBuf;

use seds_formats::layout::{detect_pose_layout, pose_to_seds, SourceLayout};
use seds_formats::PoseFile;

fn fixture_dir() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/pose-fixtures");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!(
            "SKIP: pose fixtures not found at {} (the shared data folder is absent)",
            d.display()
        );
        None
    }
}

fn load(name: &str) -> Option<PoseFile> {
    let dir = fixture_dir()?;
    Some(PoseFile::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}")))
}

/// Sum of all coordinates of frame 0, person 0, masked (confidence 0) points counted as 0.
fn sum_frame0(p: &PoseFile) -> f64 {
    let mut s = 0.0f64;
    for i in 0..p.points() {
        if p.point_confidence(0, 0, i).unwrap_or(0.0) > 0.0 {
            s += p
                .point(0, 0, i)
                .unwrap_or(&[])
                .iter()
                .map(|v| *v as f64)
                .sum::<f64>();
        }
    }
    s
}

struct Expect {
    file: &'static str,
    version: f32,
    whd: (u16, u16, u16),
    fps: f32,
    shape: (usize, usize, usize, usize),
    comps: &'static [(&'static str, &'static str, usize)],
    conf: f64,
    sum: f64,
}

const OPENPOSE_COMPS: &[(&str, &str, usize)] = &[
    ("pose_keypoints_2d", "XYC", 25),
    ("face_keypoints_2d", "XYC", 70),
    ("hand_left_keypoints_2d", "XYC", 21),
    ("hand_right_keypoints_2d", "XYC", 21),
];

const EXPECTED: [Expect; 4] = [
    Expect {
        file: "openpose_v0_0.pose",
        version: 0.0,
        whd: (1000, 1000, 0),
        fps: 24.0,
        shape: (93, 1, 137, 2),
        comps: OPENPOSE_COMPS,
        conf: 0.8291,
        sum: 26269.6094,
    },
    Expect {
        file: "openpose137_v0_1.pose",
        version: 0.1,
        whd: (1000, 1000, 0),
        fps: 24.0,
        shape: (66, 1, 137, 2),
        comps: OPENPOSE_COMPS,
        conf: 0.6886,
        sum: 87148.7578,
    },
    Expect {
        file: "mediapipe_v0_1.pose",
        version: 0.1,
        whd: (1250, 1250, 640),
        fps: 24.0,
        shape: (170, 1, 178, 3),
        comps: &[
            ("POSE_LANDMARKS", "XYZC", 8),
            ("FACE_LANDMARKS", "XYZC", 128),
            ("LEFT_HAND_LANDMARKS", "XYZC", 21),
            ("RIGHT_HAND_LANDMARKS", "XYZC", 21),
        ],
        conf: 0.8647,
        sum: 214800.5312,
    },
    Expect {
        file: "hand_v0_2.pose",
        version: 0.2,
        whd: (640, 360, 640),
        fps: 25.0,
        shape: (5, 1, 586, 3),
        comps: &[
            ("POSE_LANDMARKS", "XYZC", 33),
            ("FACE_LANDMARKS", "XYZC", 478),
            ("LEFT_HAND_LANDMARKS", "XYZC", 21),
            ("RIGHT_HAND_LANDMARKS", "XYZC", 21),
            ("POSE_WORLD_LANDMARKS", "XYZC", 33),
        ],
        conf: 1.0,
        sum: 252543.8281,
    },
];

#[test]
fn fixture_headers_counts_and_reference_sums() {
    for e in &EXPECTED {
        let Some(p) = load(e.file) else { return };
        assert!(
            (p.version() - e.version).abs() < 1e-6,
            "{}: version",
            e.file
        );
        assert_eq!(
            (p.width(), p.height(), p.depth()),
            e.whd,
            "{}: w/h/d",
            e.file
        );
        assert_eq!(p.fps(), e.fps, "{}: fps", e.file);
        assert_eq!(
            (p.frames(), p.people(), p.points(), p.dims()),
            e.shape,
            "{}: T N P D",
            e.file
        );
        let comps: Vec<(&str, &str, usize)> = p
            .components()
            .iter()
            .map(|c| (c.name.as_str(), c.format.as_str(), c.points.len()))
            .collect();
        assert_eq!(comps, e.comps, "{}: components", e.file);
        let (t, n, pp, d) = e.shape;
        assert_eq!(p.data().len(), t * n * pp * d);
        assert_eq!(p.confidence().len(), t * n * pp);
        assert!(
            (p.confident_fraction() - e.conf).abs() < 1e-4,
            "{}: conf>0 {} vs {}",
            e.file,
            p.confident_fraction(),
            e.conf
        );
        let s = sum_frame0(&p);
        assert!(
            ((s - e.sum) / e.sum).abs() < 1e-2,
            "{}: sum frame 0 {s} vs {}",
            e.file,
            e.sum
        );
        // In fact the match is much tighter than the required 1e-2 relative.
        assert!((s - e.sum).abs() < 0.05, "{}: sum {s} vs {}", e.file, e.sum);
    }
}

#[test]
fn fixture_limbs_and_point_names() {
    let Some(p) = load("hand_v0_2.pose") else {
        return;
    };
    let c = &p.components()[0];
    assert_eq!(c.points[0], "NOSE");
    assert_eq!(c.points[15], "LEFT_WRIST");
    assert_eq!(c.limbs.len(), 35);
    assert_eq!(p.components()[1].limbs.len(), 2564);
    assert_eq!(p.components()[2].colors.len(), 21);
    // First point of frame 0 (values read with the reference reader).
    let nose = p.point(0, 0, 0).expect("nose");
    assert!((nose[0] - 355.3323).abs() < 1e-3 && (nose[1] - 74.45006).abs() < 1e-3);
    let Some(q) = load("openpose_v0_0.pose") else {
        return;
    };
    assert_eq!(q.components()[2].points[0], "BASE");
    assert_eq!(q.point(0, 0, 0), Some(&[158.329f32, 70.6147][..]));
    assert_eq!(q.point_confidence(0, 0, 0), Some(0.901064));
}

/// Checks that SEDS joint `j` of every frame equals raw point `src` (or is absent).
fn assert_joint(p: &PoseFile, file: &str, j: usize, src: Option<usize>) {
    let r = pose_to_seds(p, 0, file).expect("maps");
    assert_eq!(r.frames, p.frames());
    assert_eq!(r.joints.len(), p.frames() * 49);
    for t in 0..p.frames() {
        let got = r.joints[t * 49 + j];
        match src {
            Some(s) => {
                let xy = p.point(t, 0, s).expect("point");
                let c = p.point_confidence(t, 0, s).expect("conf");
                assert_eq!(
                    got,
                    [xy[0], xy[1], c],
                    "{file}: frame {t} joint {j} <- point {s}"
                );
            }
            None => assert_eq!(got, [0.0; 3], "{file}: frame {t} joint {j} absent"),
        }
    }
}

#[test]
fn fixture_layout_mapping() {
    // (file, layout, [(seds joint, raw point)]) with the documented indices:
    // joints 0 nose, 3 left wrist, 6 right wrist, 7 left-hand wrist, 28 right-hand wrist,
    // 48 right-hand pinky tip.
    let cases: [(&str, SourceLayout, [(usize, Option<usize>); 6]); 4] = [
        (
            "openpose_v0_0.pose",
            SourceLayout::OpenPose137,
            [
                (0, Some(0)),
                (3, Some(7)),
                (6, Some(4)),
                (7, Some(95)),
                (28, Some(116)),
                (48, Some(136)),
            ],
        ),
        (
            "openpose137_v0_1.pose",
            SourceLayout::OpenPose137,
            [
                (0, Some(0)),
                (3, Some(7)),
                (6, Some(4)),
                (7, Some(95)),
                (28, Some(116)),
                (48, Some(136)),
            ],
        ),
        (
            "mediapipe_v0_1.pose",
            SourceLayout::MediaPipeReduced,
            [
                (0, None),
                (3, Some(4)),
                (6, Some(5)),
                (7, Some(136)),
                (28, Some(157)),
                (48, Some(177)),
            ],
        ),
        (
            "hand_v0_2.pose",
            SourceLayout::MediaPipeHolistic,
            [
                (0, Some(0)),
                (3, Some(15)),
                (6, Some(16)),
                (7, Some(511)),
                (28, Some(532)),
                (48, Some(552)),
            ],
        ),
    ];
    for (file, layout, joints) in cases {
        let Some(p) = load(file) else { return };
        let (got, _) = detect_pose_layout(&p, file).expect("layout");
        assert_eq!(got, layout, "{file}");
        for (j, s) in joints {
            assert_joint(&p, file, j, s);
        }
    }
    // The reduced layout's shoulders and elbows come from the 8-point POSE.
    let Some(p) = load("mediapipe_v0_1.pose") else {
        return;
    };
    for (j, s) in [(1, 0), (2, 2), (4, 1), (5, 3)] {
        assert_joint(&p, "mediapipe_v0_1.pose", j, Some(s));
    }
    let r = pose_to_seds(&p, 0, "m").expect("maps");
    assert_eq!(r.fps, 24.0);
    assert_eq!((r.width, r.height), (1250.0, 1250.0));
    assert!(pose_to_seds(&p, 1, "m").is_err(), "person 1 does not exist");
}
