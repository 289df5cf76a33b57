//! OpenPose per-frame JSON reader (How2Sign "B-F-H 2D keypoints" release).
//!
//! A clip is a directory holding one `<name>_<12-digit frame>_keypoints.json` per frame.
//! Frames can be missing: the sequence length is max index + 1 and gaps are zero-filled.
//! Each frame is `{"people": [{"pose_keypoints_2d": [x, y, c] * 25, "face_keypoints_2d":
//! [..] * 70, "hand_left_keypoints_2d": [..] * 21, "hand_right_keypoints_2d": [..] * 21}]}`;
//! an empty `people` list gives zeros, several persons keep person 0, and an empty part array
//! (part not computed) gives zeros for that part. The 137 points are concatenated in the
//! order pose, face, left hand, right hand ([`OPENPOSE_POINTS`]); c = 0 means not detected.

use std::path::Path;

/// Points per frame: BODY_25 (25) + face (70) + left hand (21) + right hand (21).
pub const OPENPOSE_POINTS: usize = 137;
/// (JSON key, number of points) of each part, in concatenation order.
pub const OPENPOSE_PARTS: [(&str, usize); 4] = [
    ("pose_keypoints_2d", 25),
    ("face_keypoints_2d", 70),
    ("hand_left_keypoints_2d", 21),
    ("hand_right_keypoints_2d", 21),
];
/// Refuse frame indices above this (a corrupt name would otherwise allocate gigabytes).
pub const MAX_FRAMES: usize = 1 << 20;

/// A decoded clip: `frames * 137` points of (x, y, confidence).
#[derive(Clone, Debug, PartialEq)]
pub struct OpenPoseSequence {
    /// Number of frames (max index + 1).
    pub frames: usize,
    /// `[frames][137]` points (x, y, c); zeros for missing frames.
    pub points: Vec<[f32; 3]>,
    /// Whether a JSON file existed for each frame.
    pub present: Vec<bool>,
}

/// Everything that can go wrong while reading OpenPose JSON.
#[derive(Debug, thiserror::Error)]
pub enum OpenPoseError {
    /// A file or directory could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file or directory.
        file: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The JSON is malformed.
    #[error("{file}: line {line}, column {column}: invalid OpenPose JSON: {detail}")]
    Json {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        detail: String,
    },
    /// A part has the wrong number of values.
    #[error("{file}: person 0 {part}: expected {expected} values (x, y, c per point) or none, found {found}")]
    PartLength {
        /// The file.
        file: String,
        /// The JSON key.
        part: String,
        /// Values expected.
        expected: usize,
        /// Values found.
        found: usize,
    },
    /// A `*_keypoints.json` name does not end in a frame number.
    #[error("{file}: file name does not match <name>_<frame number>_keypoints.json")]
    BadName {
        /// The file.
        file: String,
    },
    /// A frame number is implausibly large.
    #[error("{file}: frame index {index} exceeds the limit of {limit} frames")]
    TooManyFrames {
        /// The file.
        file: String,
        /// The parsed index.
        index: usize,
        /// The limit.
        limit: usize,
    },
    /// Two files claim the same frame.
    #[error("{file}: frame {index} already read from {other}")]
    DuplicateFrame {
        /// The second file.
        file: String,
        /// The frame.
        index: usize,
        /// The first file.
        other: String,
    },
    /// The directory holds no `*_keypoints.json` files.
    #[error("{dir}: no *_keypoints.json files")]
    NoFrames {
        /// The directory.
        dir: String,
    },
}

#[derive(serde::Deserialize)]
struct Frame {
    #[serde(default)]
    people: Vec<Person>,
}

#[derive(serde::Deserialize)]
struct Person {
    #[serde(default)]
    pose_keypoints_2d: Vec<f64>,
    #[serde(default)]
    face_keypoints_2d: Vec<f64>,
    #[serde(default)]
    hand_left_keypoints_2d: Vec<f64>,
    #[serde(default)]
    hand_right_keypoints_2d: Vec<f64>,
}

/// Frame index of a `<name>_<digits>_keypoints.json` file name, `None` if it does not match.
pub fn frame_index_from_name(name: &str) -> Option<usize> {
    let stem = name.strip_suffix("_keypoints.json")?;
    let (_, digits) = stem.rsplit_once('_')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Parses one frame's JSON into 137 points (person 0; zeros if nobody).
pub fn parse_openpose_frame(json: &str, file: &str) -> Result<Vec<[f32; 3]>, OpenPoseError> {
    let frame: Frame = serde_json::from_str(json).map_err(|e| OpenPoseError::Json {
        file: file.to_string(),
        line: e.line(),
        column: e.column(),
        detail: e.to_string(),
    })?;
    let mut out = vec![[0.0f32; 3]; OPENPOSE_POINTS];
    let Some(p) = frame.people.first() else {
        return Ok(out);
    };
    let parts: [&Vec<f64>; 4] = [
        &p.pose_keypoints_2d,
        &p.face_keypoints_2d,
        &p.hand_left_keypoints_2d,
        &p.hand_right_keypoints_2d,
    ];
    let mut offset = 0;
    for ((key, n), vals) in OPENPOSE_PARTS.iter().zip(parts) {
        if !vals.is_empty() {
            if vals.len() != n * 3 {
                return Err(OpenPoseError::PartLength {
                    file: file.to_string(),
                    part: key.to_string(),
                    expected: n * 3,
                    found: vals.len(),
                });
            }
            for (i, v) in vals.chunks_exact(3).enumerate() {
                out[offset + i] = [v[0] as f32, v[1] as f32, v[2] as f32];
            }
        }
        offset += n;
    }
    Ok(out)
}

/// Reads a clip directory of per-frame OpenPose JSON files.
pub fn read_openpose_dir(dir: impl AsRef<Path>) -> Result<OpenPoseSequence, OpenPoseError> {
    let dir = dir.as_ref();
    let dname = dir.display().to_string();
    let io = |file: String| move |source| OpenPoseError::Io { file, source };
    let mut files: Vec<(usize, std::path::PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dname.clone()))? {
        let entry = entry.map_err(io(dname.clone()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with("_keypoints.json") {
            continue;
        }
        let path = entry.path();
        let index = frame_index_from_name(&name).ok_or_else(|| OpenPoseError::BadName {
            file: path.display().to_string(),
        })?;
        if index >= MAX_FRAMES {
            return Err(OpenPoseError::TooManyFrames {
                file: path.display().to_string(),
                index,
                limit: MAX_FRAMES,
            });
        }
        files.push((index, path));
    }
    if files.is_empty() {
        return Err(OpenPoseError::NoFrames { dir: dname });
    }
    files.sort();
    for w in files.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(OpenPoseError::DuplicateFrame {
                file: w[1].1.display().to_string(),
                index: w[1].0,
                other: w[0].1.display().to_string(),
            });
        }
    }
    let frames = files.last().map_or(0, |f| f.0 + 1);
    let mut points = vec![[0.0f32; 3]; frames * OPENPOSE_POINTS];
    let mut present = vec![false; frames];
    for (index, path) in files {
        let fname = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(io(fname.clone()))?;
        let pts = parse_openpose_frame(&text, &fname)?;
        points[index * OPENPOSE_POINTS..(index + 1) * OPENPOSE_POINTS].copy_from_slice(&pts);
        present[index] = true;
    }
    Ok(OpenPoseSequence {
        frames,
        points,
        present,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_names() {
        assert_eq!(
            frame_index_from_name("-qX4b9Lm2Tz_0-2-rgb_front_000000000012_keypoints.json"),
            Some(12)
        );
        assert_eq!(frame_index_from_name("a_b_keypoints.json"), None);
        assert_eq!(frame_index_from_name("a__keypoints.json"), None);
        assert_eq!(frame_index_from_name("a_12_keypoints.txt"), None);
    }

    #[test]
    fn person_zero_empty_parts_and_errors() {
        let pose: Vec<String> = (0..75).map(|i| format!("{}", i)).collect();
        let json = format!(
            r#"{{"version":1.3,"people":[{{"person_id":[-1],"pose_keypoints_2d":[{}],"face_keypoints_2d":[],"hand_left_keypoints_2d":[{}],"hand_right_keypoints_2d":[]}},{{"pose_keypoints_2d":[]}}]}}"#,
            pose.join(","),
            vec!["1.5"; 63].join(",")
        );
        let pts = parse_openpose_frame(&json, "f.json").expect("parses");
        assert_eq!(pts[0], [0.0, 1.0, 2.0]);
        assert_eq!(pts[24], [72.0, 73.0, 74.0]);
        assert_eq!(pts[25], [0.0; 3]); // face empty
        assert_eq!(pts[95], [1.5; 3]); // left hand starts at 25 + 70
        assert_eq!(pts[136], [0.0; 3]);
        let nobody = parse_openpose_frame(r#"{"people":[]}"#, "f.json").expect("empty");
        assert!(nobody.iter().all(|p| *p == [0.0; 3]));
        let e = parse_openpose_frame(r#"{"people":[{"pose_keypoints_2d":[1,2]}]}"#, "f.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("pose_keypoints_2d: expected 75 values"), "{e}");
        let e = parse_openpose_frame("{\n\"people\": [", "g.json")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("g.json: line 2"), "{e}");
    }
}
