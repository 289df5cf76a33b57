//! Test helpers: small, valid real-dataset directories written from a deterministic toy
//! skeleton, in the How2Sign layout (realigned TSV + OpenPose JSON frame directories + I3D-like
//! `.npy` features) and in the caption-TSV layouts (pose-dir / PHOENIX captions + COCO-WholeBody
//! `.npy` keypoint arrays + features). Used by this crate's tests and by the CLI's end-to-end
//! test; not meant for experiments (the "signs" are circles of two hands).
//!
//! Every video's hands are visible in every frame, so the pose clip count is that of
//! `frames` kept frames; the feature files are written with exactly that many rows. Features
//! are a per-sentence random direction plus small per-take and per-clip noise, so retrieval
//! on a fixture is learnable.

use crate::error::DataError;
use crate::preprocess::{preprocess, RawFrame, LEFT_HAND, RIGHT_HAND};
use crate::real::SPLIT_NAMES;
use crate::types::NUM_JOINTS;
use seds_config::DataConfig;
use seds_core::Rng;
use seds_formats::annotations::CaptionRecord;
use seds_formats::layout::{array_joint_map, SourceLayout};
use std::path::Path;

/// What a fixture writer wrote: per split (train, dev, test), `(video id, sentence id,
/// clips)` of each video.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FixtureSummary {
    /// Videos of train, dev and test.
    pub videos: [Vec<(String, String, usize)>; 3],
}

const WORDS: [&str; 16] = [
    "weather", "tomorrow", "rain", "north", "sun", "wind", "cold", "warm", "cloud", "snow",
    "morning", "evening", "coast", "mountain", "storm", "clear",
];

/// The text of fixture sentence `s` (distinct for distinct `s` below 16^3).
pub fn fixture_text(s: usize) -> String {
    format!(
        "the {} and {} in the {}",
        WORDS[s % 16],
        WORDS[(s / 16 + 3) % 16],
        WORDS[(s / 256 + 7) % 16]
    )
}

/// One raw frame of the toy skeleton (49 SEDS joints, pixels of a `w` x `h` frame):
/// the hands circle around the chest at a sentence-dependent speed and phase, fingers
/// spread at a sentence-dependent angle; `take` shifts the body slightly.
pub fn skeleton_frame(sentence: usize, take: usize, t: usize, w: f32, h: f32) -> RawFrame {
    let mut f = [[0f32, 0.0, 0.0]; NUM_JOINTS];
    let dx = take as f32 * 0.01 * w;
    let body = [
        (0.5, 0.2),
        (0.62, 0.38),
        (0.7, 0.6),
        (0.62, 0.75),
        (0.38, 0.38),
        (0.3, 0.6),
        (0.38, 0.75),
    ];
    for (j, (x, y)) in body.iter().enumerate() {
        f[j] = [x * w + dx, y * h, 0.95];
    }
    let speed = 0.15 + 0.05 * (sentence % 5) as f32;
    let phase = sentence as f32 * 0.9;
    let spread = 0.2 + 0.1 * (sentence % 4) as f32;
    let size = 0.06 * w.min(h);
    for (hand, first, cx, sign) in [(0, LEFT_HAND, 0.6, 1.0f32), (1, RIGHT_HAND, 0.4, -1.0)] {
        let a = speed * t as f32 + phase + hand as f32;
        let wx = cx * w + dx + sign * 0.08 * w * a.cos();
        let wy = 0.55 * h + 0.08 * h * a.sin();
        f[first] = [wx, wy, 0.9];
        for finger in 0..5 {
            let ang = -1.2 + finger as f32 * (0.4 + spread * 0.3) + 0.2 * (a * 0.5).sin();
            for k in 0..4 {
                let r = size * (0.35 + 0.2 * k as f32);
                f[first + 1 + finger * 4 + k] = [wx + r * ang.sin(), wy - r * ang.cos(), 0.9];
            }
        }
    }
    f
}

/// Scatters 49 SEDS joints into a flat layout of `points` points (OpenPose 137 or
/// COCO-WholeBody 133); unmapped points are (0, 0, 0).
fn scatter(frame: &RawFrame, layout: SourceLayout, points: usize) -> Vec<[f32; 3]> {
    let mut out = vec![[0f32; 3]; points];
    if let Some(map) = array_joint_map(layout) {
        for (j, m) in map.iter().enumerate() {
            if let Some(p) = m {
                if *p < points {
                    out[*p] = frame[j];
                }
            }
        }
    }
    out
}

/// Number of pose clips of a `frames`-frame fixture video under `cfg`.
pub fn expected_clips(frames: usize, w: f32, h: f32, cfg: &DataConfig) -> Result<usize, DataError> {
    let raw: Vec<RawFrame> = (0..frames).map(|t| skeleton_frame(0, 0, t, w, h)).collect();
    Ok(preprocess(&raw, w, h, cfg)?.clip_starts.len())
}

/// Fixture features `[clips][rgb_dim]` of a take of a sentence.
pub fn fixture_features(sentence_id: &str, take: usize, clips: usize, rgb_dim: usize) -> Vec<f32> {
    let mut base = Rng::derive(7, sentence_id);
    let dir: Vec<f32> = (0..rgb_dim).map(|_| base.normal() as f32).collect();
    let mut noise = Rng::derive(11, &format!("{sentence_id}/{take}"));
    let mut out = Vec::with_capacity(clips * rgb_dim);
    for c in 0..clips {
        let s = 1.0 + 0.1 * (c as f32 * 0.3).sin();
        out.extend(dir.iter().map(|d| d * s + 0.2 * noise.normal() as f32));
    }
    out
}

fn io<T>(path: &Path, r: std::io::Result<T>) -> Result<T, DataError> {
    r.map_err(|e| DataError::io(path, e))
}

/// Writes `root/features/<video>.npy` with [`fixture_features`] (`clips` rows).
pub fn write_fixture_features(
    root: &Path,
    video: &str,
    sentence_id: &str,
    take: usize,
    clips: usize,
    rgb_dim: usize,
) -> Result<(), DataError> {
    let path = root.join("features").join(format!("{video}.npy"));
    let data = fixture_features(sentence_id, take, clips, rgb_dim);
    seds_formats::write_npy_f32(&path, &[clips, rgb_dim], &data)
        .map_err(|e| DataError::Format(e.to_string()))
}

fn fmt_points(v: &[[f32; 3]]) -> String {
    let mut s = String::with_capacity(v.len() * 24);
    for (i, p) in v.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!("{},{},{}", p[0], p[1], p[2]));
    }
    s
}

/// Writes one OpenPose JSON frame (137 points: pose 25, face 70, hands 21 + 21).
fn openpose_json(points: &[[f32; 3]]) -> String {
    format!(
        "{{\"version\":1.3,\"people\":[{{\"person_id\":[-1],\"pose_keypoints_2d\":[{}],\"face_keypoints_2d\":[{}],\"hand_left_keypoints_2d\":[{}],\"hand_right_keypoints_2d\":[{}],\"pose_keypoints_3d\":[]}}]}}",
        fmt_points(&points[0..25]),
        fmt_points(&points[25..95]),
        fmt_points(&points[95..116]),
        fmt_points(&points[116..137]),
    )
}

/// Writes a small valid How2Sign-layout dataset under `dir` (test helper): for each split,
/// `n_sentences` sentences with `takes` takes each, every video `frames` frames long, with
/// `annotations/how2sign_realigned_{train,val,test}.csv`, `openpose/<SENTENCE_NAME>/` JSON
/// frames (1280x720 pixels) and `features/<SENTENCE_NAME>.npy` of shape (clips, 1024), the
/// clip count following the default `DataConfig` (window 16, stride 1, max 64 clips).
pub fn write_how2sign_fixture(
    dir: &Path,
    n_sentences: usize,
    takes: usize,
    frames: usize,
) -> Result<(), DataError> {
    write_how2sign_fixture_with(dir, n_sentences, takes, frames, &DataConfig::default()).map(|_| ())
}

/// [`write_how2sign_fixture`] with the clip settings and `rgb_dim` of `cfg`; returns what
/// was written.
pub fn write_how2sign_fixture_with(
    dir: &Path,
    n_sentences: usize,
    takes: usize,
    frames: usize,
    cfg: &DataConfig,
) -> Result<FixtureSummary, DataError> {
    let (w, h) = (1280.0, 720.0);
    for sub in ["annotations", "openpose", "features"] {
        let p = dir.join(sub);
        io(&p, std::fs::create_dir_all(&p))?;
    }
    let clips = expected_clips(frames, w, h, cfg)?;
    let mut summary = FixtureSummary::default();
    let mut sentence = 0usize;
    for (si, file_split) in ["train", "val", "test"].iter().enumerate() {
        let mut tsv = seds_formats::annotations::HOW2SIGN_HEADER.join("\t");
        tsv.push('\n');
        for k in 0..n_sentences {
            // Video ids may start with '-' and contain '_' and '-': exercise the parser.
            let video_id = format!("-{}_v{k:02}-x", SPLIT_NAMES[si]);
            let sentence_id = format!("{video_id}_{k}");
            for take in 0..takes {
                let tk = take + 1;
                let video_name = format!("{video_id}-{tk}-rgb_front");
                let name = format!("{sentence_id}-{tk}-rgb_front");
                tsv.push_str(&format!(
                    "{video_id}\t{video_name}\t{sentence_id}\t{name}\t{:.2}\t{:.2}\t{}\n",
                    k as f32 * 3.0,
                    k as f32 * 3.0 + frames as f32 / 24.0,
                    fixture_text(sentence)
                ));
                let vdir = dir.join("openpose").join(&name);
                io(&vdir, std::fs::create_dir_all(&vdir))?;
                for t in 0..frames {
                    let f = skeleton_frame(sentence, take, t, w, h);
                    let pts = scatter(&f, SourceLayout::OpenPose137, 137);
                    let p = vdir.join(format!("{name}_{t:012}_keypoints.json"));
                    io(&p, std::fs::write(&p, openpose_json(&pts)))?;
                }
                write_fixture_features(dir, &name, &sentence_id, take, clips, cfg.rgb_dim)?;
                summary.videos[si].push((name, sentence_id.clone(), clips));
            }
            sentence += 1;
        }
        let p = dir
            .join("annotations")
            .join(format!("how2sign_realigned_{file_split}.csv"));
        io(&p, std::fs::write(&p, tsv))?;
    }
    Ok(summary)
}

/// Writes the toy skeleton of (`sentence`, `take`) as a COCO-WholeBody `(frames, 133, 3)`
/// `.npy` array in pixels of a `w` x `h` frame.
pub fn write_wholebody_npy(
    path: &Path,
    sentence: usize,
    take: usize,
    frames: usize,
    (w, h): (f32, f32),
) -> Result<(), DataError> {
    let mut data = Vec::with_capacity(frames * 133 * 3);
    for t in 0..frames {
        let f = skeleton_frame(sentence, take, t, w, h);
        for p in scatter(&f, SourceLayout::CocoWholeBody133, 133) {
            data.extend_from_slice(&p);
        }
    }
    seds_formats::write_npy_f32(path, &[frames, 133, 3], &data)
        .map_err(|e| DataError::Format(e.to_string()))
}

/// Writes a caption-TSV dataset under `dir` (test helper): `captions/{train,dev,test}.tsv`,
/// `pose/<video>.npy` COCO-WholeBody `(frames, 133, 3)` arrays in pixels of a `w` x `h` frame
/// and `features/<video>.npy` `(clips, cfg.rgb_dim)`. Serves the pose-dir layout and the
/// PHOENIX caption layout (use 210 x 260 for PHOENIX). Video names are
/// `<split>_s<k>_t<take>`, sentence ids `<split>_s<k>`.
pub fn write_caption_fixture(
    dir: &Path,
    n_sentences: usize,
    takes: usize,
    frames: usize,
    (w, h): (f32, f32),
    cfg: &DataConfig,
) -> Result<FixtureSummary, DataError> {
    for sub in ["captions", "pose", "features"] {
        let p = dir.join(sub);
        io(&p, std::fs::create_dir_all(&p))?;
    }
    let clips = expected_clips(frames, w, h, cfg)?;
    let mut summary = FixtureSummary::default();
    let mut sentence = 0usize;
    for (si, split) in SPLIT_NAMES.iter().enumerate() {
        let mut records = Vec::new();
        for k in 0..n_sentences {
            let sentence_id = format!("{split}_s{k}");
            for take in 0..takes {
                let name = format!("{sentence_id}_t{take}");
                let p = dir.join("pose").join(format!("{name}.npy"));
                write_wholebody_npy(&p, sentence, take, frames, (w, h))?;
                write_fixture_features(dir, &name, &sentence_id, take, clips, cfg.rgb_dim)?;
                records.push(CaptionRecord {
                    sentence_id: sentence_id.clone(),
                    video_name: name.clone(),
                    num_frames: frames,
                    text_en: fixture_text(sentence),
                    text_orig: String::new(),
                });
                summary.videos[si].push((name, sentence_id.clone(), clips));
            }
            sentence += 1;
        }
        let p = dir.join("captions").join(format!("{split}.tsv"));
        seds_formats::write_caption_tsv(&p, &records)
            .map_err(|e| DataError::Format(e.to_string()))?;
    }
    Ok(summary)
}
