//! Mapping of keypoint layouts to the SEDS 49 joints.
//!
//! SEDS joint order (COCO-WholeBody order of the kept points): 7 body joints
//! (nose, left shoulder, left elbow, left wrist, right shoulder, right elbow, right wrist),
//! then the left hand's 21 joints, then the right hand's 21. All hand models share the same
//! 21-joint order: wrist, then thumb, index, middle, ring and pinky with 4 joints each
//! (COCO-WholeBody hands, OpenPose hands and MediaPipe hands alike).
//!
//! Sources of the index tables:
//! - COCO-WholeBody 133 (github.com/jin-s13/COCO-WholeBody, `data_format.md`): 0-16 body in
//!   COCO order (0 nose, 1 l-eye, 2 r-eye, 3 l-ear, 4 r-ear, 5 l-shoulder, 6 r-shoulder,
//!   7 l-elbow, 8 r-elbow, 9 l-wrist, 10 r-wrist, ...), 17-22 feet, 23-90 face, 91-111 left
//!   hand, 112-132 right hand.
//! - OpenPose 137 (CMU OpenPose `doc/02_output.md`): BODY_25 (0 Nose, 1 Neck, 2 RShoulder,
//!   3 RElbow, 4 RWrist, 5 LShoulder, 6 LElbow, 7 LWrist, ...), then face 70 (25-94), left
//!   hand 21 (95-115), right hand 21 (116-136).
//! - MediaPipe Holistic (google.github.io/mediapipe, `pose.md` / `hands.md`): POSE 33
//!   (0 NOSE, 11 LEFT_SHOULDER, 12 RIGHT_SHOULDER, 13 LEFT_ELBOW, 14 RIGHT_ELBOW,
//!   15 LEFT_WRIST, 16 RIGHT_WRIST, ...), FACE 468 (478 with irises), LEFT_HAND 21,
//!   RIGHT_HAND 21, optional POSE_WORLD 33 (metric world coordinates, ignored here).
//! - Reduced MediaPipe (older pose-format exports): the fixture's POSE_LANDMARKS holds 8
//!   points named LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_ELBOW, RIGHT_ELBOW, LEFT_WRIST,
//!   RIGHT_WRIST, LEFT_HIP, RIGHT_HIP, and its 128-point FACE subset does not contain the
//!   nose-tip mesh points (1, 4). The nose therefore does not exist in this layout: it is
//!   filled with (0, 0, confidence 0) and listed by [`SourceLayout::missing_joints`].
//!
//! In `.pose` files the MediaPipe components are named for the signer's left/right hands;
//! the names are taken at face value. Body joints of a `.pose` file are checked against the
//! expected point names, so a file whose points are in another order is refused rather than
//! silently mis-mapped.
//!
//! Coordinates: pose-format stores MediaPipe points already multiplied by the video size
//! (the fixtures hold pixels, e.g. x up to 962 in a 1250-wide video), OpenPose and the SEDS
//! keypoints are pixels too. Normalised input is still detected: when every confident x and
//! y lies in [-0.5, 1.5] (and the frame is larger than 2x2 pixels), x is multiplied by the
//! width and y by the height. Points with confidence 0 keep their raw values.

use crate::npy::{NpyArray, WHOLEBODY_POINTS};
use crate::openpose::{OpenPoseSequence, OPENPOSE_POINTS};
use crate::pose::PoseFile;

/// Number of SEDS joints.
pub const SEDS_JOINTS: usize = 49;
/// Number of SEDS body joints (before the hands).
pub const SEDS_BODY_JOINTS: usize = 7;
/// Joints per hand.
pub const HAND_JOINTS: usize = 21;

/// Names of the 7 SEDS body joints.
pub const SEDS_BODY_NAMES: [&str; SEDS_BODY_JOINTS] = [
    "nose",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
];

/// Names of the 21 hand joints (shared by all hand models).
pub const HAND_JOINT_NAMES: [&str; HAND_JOINTS] = [
    "wrist", "thumb1", "thumb2", "thumb3", "thumb4", "index1", "index2", "index3", "index4",
    "middle1", "middle2", "middle3", "middle4", "ring1", "ring2", "ring3", "ring4", "pinky1",
    "pinky2", "pinky3", "pinky4",
];

/// COCO-WholeBody 133 indices of the SEDS body joints.
pub const COCO_WHOLEBODY_BODY: [usize; SEDS_BODY_JOINTS] = [0, 5, 7, 9, 6, 8, 10];
/// First COCO-WholeBody index of the left hand (91..=111).
pub const COCO_WHOLEBODY_LEFT_HAND: usize = 91;
/// First COCO-WholeBody index of the right hand (112..=132).
pub const COCO_WHOLEBODY_RIGHT_HAND: usize = 112;

/// OpenPose BODY_25 indices of the SEDS body joints (Nose, LShoulder, LElbow, LWrist,
/// RShoulder, RElbow, RWrist).
pub const OPENPOSE_BODY: [usize; SEDS_BODY_JOINTS] = [0, 5, 6, 7, 2, 3, 4];
/// BODY_25 point names at [`OPENPOSE_BODY`] (as in pose-format headers).
pub const OPENPOSE_BODY_NAMES: [&str; SEDS_BODY_JOINTS] = [
    "Nose",
    "LShoulder",
    "LElbow",
    "LWrist",
    "RShoulder",
    "RElbow",
    "RWrist",
];
/// First OpenPose-137 index of the left hand (25 body + 70 face).
pub const OPENPOSE_LEFT_HAND: usize = 95;
/// First OpenPose-137 index of the right hand.
pub const OPENPOSE_RIGHT_HAND: usize = 116;

/// MediaPipe POSE 33 indices of the SEDS body joints.
pub const MEDIAPIPE_POSE_BODY: [usize; SEDS_BODY_JOINTS] = [0, 11, 13, 15, 12, 14, 16];
/// MediaPipe POSE point names at [`MEDIAPIPE_POSE_BODY`].
pub const MEDIAPIPE_BODY_NAMES: [&str; SEDS_BODY_JOINTS] = [
    "NOSE",
    "LEFT_SHOULDER",
    "LEFT_ELBOW",
    "LEFT_WRIST",
    "RIGHT_SHOULDER",
    "RIGHT_ELBOW",
    "RIGHT_WRIST",
];
/// Reduced MediaPipe POSE 8 indices of the SEDS body joints (`None`: the nose is absent).
/// The 8 points are LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_ELBOW, RIGHT_ELBOW, LEFT_WRIST,
/// RIGHT_WRIST, LEFT_HIP, RIGHT_HIP.
pub const MEDIAPIPE_REDUCED_BODY: [Option<usize>; SEDS_BODY_JOINTS] =
    [None, Some(0), Some(2), Some(4), Some(1), Some(3), Some(5)];

/// A keypoint layout that can be mapped to the SEDS joints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceLayout {
    /// COCO-WholeBody 133 points (SEDS release keypoints).
    CocoWholeBody133,
    /// OpenPose BODY_25 + face 70 + hands 21 + 21 (137 points).
    OpenPose137,
    /// MediaPipe Holistic: POSE 33, FACE 468/478, hands, optional POSE_WORLD 33.
    MediaPipeHolistic,
    /// Older reduced MediaPipe export: POSE 8 (no nose), FACE 128, hands.
    MediaPipeReduced,
}

impl SourceLayout {
    /// SEDS joints this layout cannot provide (filled with confidence 0).
    pub fn missing_joints(&self) -> Vec<&'static str> {
        match self {
            SourceLayout::MediaPipeReduced => vec!["nose"],
            _ => Vec::new(),
        }
    }
}

/// Errors of layout detection and mapping.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// The components do not form a known layout.
    #[error("{file}: unknown keypoint layout (components: {components}); expected OpenPose (pose_keypoints_2d 25, hand_left/right_keypoints_2d 21) or MediaPipe (POSE_LANDMARKS 33 or 8, LEFT/RIGHT_HAND_LANDMARKS 21)")]
    Unknown {
        /// The file.
        file: String,
        /// `name(points)` of each component.
        components: String,
    },
    /// A body point does not carry the expected name.
    #[error(
        "{file}: component {component} point {index} is named {found:?}, expected {expected:?}"
    )]
    PointName {
        /// The file.
        file: String,
        /// The component.
        component: String,
        /// Index within the component.
        index: usize,
        /// Expected name.
        expected: String,
        /// Name found.
        found: String,
    },
    /// An array has the wrong shape for the layout.
    #[error("{file}: expected {expected}, found {found}")]
    Shape {
        /// The file or source.
        file: String,
        /// Expected shape.
        expected: String,
        /// Shape found.
        found: String,
    },
    /// The requested person does not exist.
    #[error("{file}: person {person} requested but the file holds {people}")]
    NoPerson {
        /// The file.
        file: String,
        /// Requested person.
        person: usize,
        /// People present.
        people: usize,
    },
}

/// Keypoints mapped to the SEDS 49 joints.
#[derive(Clone, Debug, PartialEq)]
pub struct RawPose {
    /// Frames per second.
    pub fps: f32,
    /// Source frame width in pixels.
    pub width: f32,
    /// Source frame height in pixels.
    pub height: f32,
    /// Number of frames.
    pub frames: usize,
    /// `[frames * 49]` (x, y, confidence) in source pixels; confidence 0 = missing.
    pub joints: Vec<[f32; 3]>,
}

impl RawPose {
    /// The 49 joints of one frame, `None` when out of range.
    pub fn frame(&self, t: usize) -> Option<&[[f32; 3]]> {
        self.joints.get(t * SEDS_JOINTS..(t + 1) * SEDS_JOINTS)
    }
}

/// For each SEDS joint, the source point index (None = absent).
pub type JointMap = [Option<usize>; SEDS_JOINTS];

fn build_map(body: [Option<usize>; SEDS_BODY_JOINTS], left: usize, right: usize) -> JointMap {
    let mut m = [None; SEDS_JOINTS];
    m[..SEDS_BODY_JOINTS].copy_from_slice(&body);
    for j in 0..HAND_JOINTS {
        m[SEDS_BODY_JOINTS + j] = Some(left + j);
        m[SEDS_BODY_JOINTS + HAND_JOINTS + j] = Some(right + j);
    }
    m
}

/// The joint map of a flat array layout (COCO-WholeBody 133 or OpenPose 137).
pub fn array_joint_map(layout: SourceLayout) -> Option<JointMap> {
    match layout {
        SourceLayout::CocoWholeBody133 => Some(build_map(
            COCO_WHOLEBODY_BODY.map(Some),
            COCO_WHOLEBODY_LEFT_HAND,
            COCO_WHOLEBODY_RIGHT_HAND,
        )),
        SourceLayout::OpenPose137 => Some(build_map(
            OPENPOSE_BODY.map(Some),
            OPENPOSE_LEFT_HAND,
            OPENPOSE_RIGHT_HAND,
        )),
        _ => None,
    }
}

/// Detects the layout of a `.pose` file from its component names and point counts, and
/// returns its joint map into the file's concatenated point order.
pub fn detect_pose_layout(
    pose: &PoseFile,
    file: &str,
) -> Result<(SourceLayout, JointMap), LayoutError> {
    let comps = pose.components();
    let find = |name: &str| -> Option<(usize, &crate::pose::Component)> {
        let mut off = 0;
        for c in comps {
            if c.name == name {
                return Some((off, c));
            }
            off += c.points.len();
        }
        None
    };
    let unknown = || LayoutError::Unknown {
        file: file.to_string(),
        components: comps
            .iter()
            .map(|c| format!("{}({})", c.name, c.points.len()))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let hands = |l: &str, r: &str| -> Option<(usize, usize)> {
        let (lo, lc) = find(l)?;
        let (ro, rc) = find(r)?;
        (lc.points.len() == HAND_JOINTS && rc.points.len() == HAND_JOINTS).then_some((lo, ro))
    };
    let check_names = |comp: &crate::pose::Component,
                       idx: &[Option<usize>; SEDS_BODY_JOINTS],
                       names: &[&str; SEDS_BODY_JOINTS]|
     -> Result<(), LayoutError> {
        for (i, n) in idx.iter().zip(names) {
            let Some(i) = i else { continue };
            let found = comp.points.get(*i).map(String::as_str).unwrap_or("");
            if !found.eq_ignore_ascii_case(n) {
                return Err(LayoutError::PointName {
                    file: file.to_string(),
                    component: comp.name.clone(),
                    index: *i,
                    expected: n.to_string(),
                    found: found.to_string(),
                });
            }
        }
        Ok(())
    };
    let offset_body =
        |off: usize, idx: [Option<usize>; SEDS_BODY_JOINTS]| idx.map(|i| i.map(|i| i + off));

    if let Some((bo, body)) = find("pose_keypoints_2d") {
        let (lo, ro) =
            hands("hand_left_keypoints_2d", "hand_right_keypoints_2d").ok_or_else(unknown)?;
        if body.points.len() != 25 {
            return Err(unknown());
        }
        let idx = OPENPOSE_BODY.map(Some);
        check_names(body, &idx, &OPENPOSE_BODY_NAMES)?;
        return Ok((
            SourceLayout::OpenPose137,
            build_map(offset_body(bo, idx), lo, ro),
        ));
    }
    if let Some((bo, body)) = find("POSE_LANDMARKS") {
        let (lo, ro) = hands("LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS").ok_or_else(unknown)?;
        let (layout, idx) = match body.points.len() {
            33 => (
                SourceLayout::MediaPipeHolistic,
                MEDIAPIPE_POSE_BODY.map(Some),
            ),
            8 => (SourceLayout::MediaPipeReduced, MEDIAPIPE_REDUCED_BODY),
            _ => return Err(unknown()),
        };
        check_names(body, &idx, &MEDIAPIPE_BODY_NAMES)?;
        return Ok((layout, build_map(offset_body(bo, idx), lo, ro)));
    }
    Err(unknown())
}

/// Whether confident coordinates look normalised to [0, 1] (see the module doc).
fn looks_normalised(joints: &[[f32; 3]], width: f32, height: f32) -> bool {
    if width <= 2.0 || height <= 2.0 {
        return false;
    }
    let mut any = false;
    for j in joints {
        if j[2] > 0.0 {
            any = true;
            if !(-0.5..=1.5).contains(&j[0]) || !(-0.5..=1.5).contains(&j[1]) {
                return false;
            }
        }
    }
    any
}

/// Gathers the mapped joints of every frame from a `[frames][points]` source accessed by
/// `get(frame, point) -> (x, y, c)`, then rescales normalised coordinates.
fn gather(
    frames: usize,
    map: &JointMap,
    fps: f32,
    width: f32,
    height: f32,
    get: impl Fn(usize, usize) -> [f32; 3],
) -> RawPose {
    let mut joints = Vec::with_capacity(frames * SEDS_JOINTS);
    for t in 0..frames {
        for m in map {
            joints.push(m.map_or([0.0; 3], |p| get(t, p)));
        }
    }
    if looks_normalised(&joints, width, height) {
        for j in &mut joints {
            j[0] *= width;
            j[1] *= height;
        }
    }
    RawPose {
        fps,
        width,
        height,
        frames,
        joints,
    }
}

/// Maps person `person` of a `.pose` file to the SEDS joints (x, y only; z is dropped).
pub fn pose_to_seds(pose: &PoseFile, person: usize, file: &str) -> Result<RawPose, LayoutError> {
    let (_, map) = detect_pose_layout(pose, file)?;
    if person >= pose.people() && pose.frames() > 0 {
        return Err(LayoutError::NoPerson {
            file: file.to_string(),
            person,
            people: pose.people(),
        });
    }
    let d = pose.dims();
    Ok(gather(
        pose.frames(),
        &map,
        pose.fps(),
        pose.width() as f32,
        pose.height() as f32,
        |t, p| {
            let xy = pose.point(t, person, p).unwrap_or(&[]);
            let c = pose.point_confidence(t, person, p).unwrap_or(0.0);
            let x = xy.first().copied().unwrap_or(0.0);
            let y = if d >= 2 {
                xy.get(1).copied().unwrap_or(0.0)
            } else {
                0.0
            };
            [x, y, c]
        },
    ))
}

/// Maps COCO-WholeBody keypoints `(T, 133, 3)` (SEDS release) to the SEDS joints.
pub fn wholebody_to_seds(
    arr: &NpyArray,
    fps: f32,
    width: f32,
    height: f32,
    file: &str,
) -> Result<RawPose, LayoutError> {
    if arr.shape.len() != 3 || arr.shape[1] != WHOLEBODY_POINTS || arr.shape[2] != 3 {
        return Err(LayoutError::Shape {
            file: file.to_string(),
            expected: "(T, 133, 3)".into(),
            found: format!("{:?}", arr.shape),
        });
    }
    let map = array_joint_map(SourceLayout::CocoWholeBody133).unwrap_or([None; SEDS_JOINTS]);
    Ok(gather(arr.shape[0], &map, fps, width, height, |t, p| {
        let i = (t * WHOLEBODY_POINTS + p) * 3;
        [arr.data[i], arr.data[i + 1], arr.data[i + 2]]
    }))
}

/// Maps an OpenPose JSON sequence (137 points per frame) to the SEDS joints.
pub fn openpose_to_seds(seq: &OpenPoseSequence, fps: f32, width: f32, height: f32) -> RawPose {
    let map = array_joint_map(SourceLayout::OpenPose137).unwrap_or([None; SEDS_JOINTS]);
    let frames = seq.frames.min(seq.points.len() / OPENPOSE_POINTS);
    gather(frames, &map, fps, width, height, |t, p| {
        seq.points[t * OPENPOSE_POINTS + p]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_consistent() {
        let coco = array_joint_map(SourceLayout::CocoWholeBody133).expect("map");
        assert_eq!(coco[0], Some(0));
        assert_eq!(coco[3], Some(9)); // left wrist
        assert_eq!(coco[6], Some(10)); // right wrist
        assert_eq!(coco[7], Some(91));
        assert_eq!(coco[48], Some(132));
        let op = array_joint_map(SourceLayout::OpenPose137).expect("map");
        assert_eq!(op[3], Some(7)); // LWrist
        assert_eq!(op[6], Some(4)); // RWrist
        assert_eq!(op[7], Some(95));
        assert_eq!(op[48], Some(136));
        assert_eq!(
            SourceLayout::MediaPipeReduced.missing_joints(),
            vec!["nose"]
        );
    }

    #[test]
    fn wholebody_mapping_and_normalisation() {
        let mut data = vec![0.0f32; 2 * 133 * 3];
        for t in 0..2 {
            for p in 0..133 {
                let i = (t * 133 + p) * 3;
                data[i] = p as f32 / 200.0;
                data[i + 1] = 0.5;
                data[i + 2] = 1.0;
            }
        }
        let arr = NpyArray {
            shape: vec![2, 133, 3],
            data: data.clone(),
        };
        let r = wholebody_to_seds(&arr, 25.0, 200.0, 100.0, "k.npy").expect("maps");
        assert_eq!(r.frames, 2);
        assert_eq!(r.joints.len(), 98);
        // Values in [0, 1] are normalised: x = p / 200 * 200 = p, y = 0.5 * 100.
        assert_eq!(r.frame(1).expect("frame")[3], [9.0, 50.0, 1.0]);
        assert_eq!(r.frame(0).expect("frame")[48], [132.0, 50.0, 1.0]);
        // Pixel values are kept.
        let px: Vec<f32> = data.iter().map(|v| v * 1000.0).collect();
        let arr = NpyArray {
            shape: vec![2, 133, 3],
            data: px,
        };
        let r = wholebody_to_seds(&arr, 25.0, 200.0, 100.0, "k.npy").expect("maps");
        assert_eq!(r.frame(0).expect("frame")[3], [45.0, 500.0, 1000.0]);
        let bad = NpyArray {
            shape: vec![2, 137, 3],
            data: vec![0.0; 2 * 137 * 3],
        };
        let e = wholebody_to_seds(&bad, 25.0, 1.0, 1.0, "k.npy")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "k.npy: expected (T, 133, 3), found [2, 137, 3]");
    }
}
