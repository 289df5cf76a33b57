//! SEDS pose preprocessing (seds-method.md section 2), as one pure function shared by
//! SynthSign and the real-data readers: raw 49-joint frames in source pixels in, the model's
//! normalised pose and clip windows out.
//!
//! Steps, in order:
//! 1. videos longer than [`MAX_SOURCE_FRAMES`] frames keep every `ceil(T / 300)`-th frame;
//! 2. a frame is kept only if at least one hand is *present*: >= 10 of its 21 joints with
//!    score > 0.1, or (fallback) the shoulder, elbow and wrist of that arm all with score >= 0.5;
//! 3. each present hand is cropped to a square of 2.2x its keypoint extent (joints with
//!    score > 0.1; for a fallback hand, a box extrapolated from the forearm: centre
//!    `wrist + 0.3 (wrist - elbow)`, extent `0.7 |wrist - elbow|`) and mapped to 256x256;
//!    hand joints with score < 0.4 become (0, 0); the left hand is mirrored (x -> 256 - x,
//!    zeroed joints stay zero); a hand that is not present is all zeros;
//! 4. body joints are rescaled from the frame size to 256 (no threshold: the body is
//!    always estimated);
//! 5. everything is divided by 256, so values lie in [0, 1];
//! 6. clip windows of `clip_window` frames at `clip_stride` over the kept frames
//!    (`n = max(1, (T' - W) / stride + 1)`; fewer than W kept frames are padded by repeating
//!    the last one); more than `max_clips` windows keep `max_clips` starts chosen by integer
//!    linspace `k (n - 1) / (max_clips - 1)`.

use crate::error::DataError;
use crate::types::{COORDS, NUM_JOINTS};
use seds_config::DataConfig;

/// One raw frame: 49 joints of (x, y, confidence) in source pixels.
pub type RawFrame = [[f32; 3]; NUM_JOINTS];

/// Longest video processed at full frame rate; longer videos are subsampled.
pub const MAX_SOURCE_FRAMES: usize = 300;
/// Index of the nose in the 49-joint layout.
pub const NOSE: usize = 0;
/// Index of the left shoulder.
pub const L_SHOULDER: usize = 1;
/// Index of the left elbow.
pub const L_ELBOW: usize = 2;
/// Index of the left wrist.
pub const L_WRIST: usize = 3;
/// Index of the right shoulder.
pub const R_SHOULDER: usize = 4;
/// Index of the right elbow.
pub const R_ELBOW: usize = 5;
/// Index of the right wrist.
pub const R_WRIST: usize = 6;
/// First joint of the left hand (21 joints, COCO-WholeBody hand order).
pub const LEFT_HAND: usize = 7;
/// First joint of the right hand (21 joints).
pub const RIGHT_HAND: usize = 28;
/// Joints per hand.
pub const HAND_JOINTS: usize = 21;
/// Side of the normalised crop / frame.
pub const CANVAS: f32 = 256.0;
/// Hand joints with score above this count towards hand presence and extent.
pub const PRESENCE_SCORE: f32 = 0.1;
/// Minimum joints above [`PRESENCE_SCORE`] for a hand to be present.
pub const PRESENCE_MIN_JOINTS: usize = 10;
/// Arm joints need at least this score for the fallback box.
pub const FALLBACK_SCORE: f32 = 0.5;
/// Hand joints below this score are zeroed.
pub const KEEP_SCORE: f32 = 0.4;
/// Crop side as a multiple of the hand's extent.
pub const CROP_SCALE: f32 = 2.2;

/// The result of [`preprocess`].
#[derive(Clone, Debug, PartialEq)]
pub struct Preprocessed {
    /// Frames T' after filtering and padding (>= `clip_window`).
    pub frames: usize,
    /// `[frames][NUM_JOINTS][COORDS]` row-major, values in [0, 1].
    pub pose: Vec<f32>,
    /// Start of each clip window (into the kept frames).
    pub clip_starts: Vec<usize>,
    /// For each output frame, the index of the source frame it came from (padding repeats the last).
    pub source_index: Vec<usize>,
}

/// How a hand was found in one frame.
#[derive(Clone, Copy, Debug, PartialEq)]
enum HandBox {
    /// Not present.
    Missing,
    /// Square crop: left, top, side (pixels).
    Crop(f32, f32, f32),
}

/// Crop box of one hand, or `Missing` (rule 2/3 of the module docs).
fn hand_box(
    frame: &RawFrame,
    first: usize,
    shoulder: usize,
    elbow: usize,
    wrist: usize,
) -> HandBox {
    let joints = &frame[first..first + HAND_JOINTS];
    let good: Vec<&[f32; 3]> = joints.iter().filter(|j| j[2] > PRESENCE_SCORE).collect();
    if good.len() >= PRESENCE_MIN_JOINTS {
        let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        for j in &good {
            x0 = x0.min(j[0]);
            y0 = y0.min(j[1]);
            x1 = x1.max(j[0]);
            y1 = y1.max(j[1]);
        }
        let side = (CROP_SCALE * (x1 - x0).max(y1 - y0)).max(1.0);
        let (cx, cy) = ((x0 + x1) * 0.5, (y0 + y1) * 0.5);
        return HandBox::Crop(cx - side * 0.5, cy - side * 0.5, side);
    }
    let (s, e, w) = (frame[shoulder], frame[elbow], frame[wrist]);
    if s[2] >= FALLBACK_SCORE && e[2] >= FALLBACK_SCORE && w[2] >= FALLBACK_SCORE {
        let (dx, dy) = (w[0] - e[0], w[1] - e[1]);
        let forearm = (dx * dx + dy * dy).sqrt();
        let (cx, cy) = (w[0] + 0.3 * dx, w[1] + 0.3 * dy);
        let side = (CROP_SCALE * 0.7 * forearm).max(1.0);
        return HandBox::Crop(cx - side * 0.5, cy - side * 0.5, side);
    }
    HandBox::Missing
}

/// Writes one hand's normalised joints into `out` (21 x 2 values).
fn write_hand(frame: &RawFrame, first: usize, bx: HandBox, mirror: bool, out: &mut [f32]) {
    out.iter_mut().for_each(|v| *v = 0.0);
    let HandBox::Crop(left, top, side) = bx else {
        return;
    };
    for (k, j) in frame[first..first + HAND_JOINTS].iter().enumerate() {
        if j[2] < KEEP_SCORE {
            continue;
        }
        let mut x = (j[0] - left) / side * CANVAS;
        let y = (j[1] - top) / side * CANVAS;
        if mirror {
            x = CANVAS - x;
        }
        out[2 * k] = x / CANVAS;
        out[2 * k + 1] = y / CANVAS;
    }
}

/// Window starts over `kept` frames (rule 6 of the module docs).
pub fn clip_starts(kept: usize, window: usize, stride: usize, max_clips: usize) -> Vec<usize> {
    let n = if kept > window {
        (kept - window) / stride + 1
    } else {
        1
    };
    if n <= max_clips {
        return (0..n).map(|i| i * stride).collect();
    }
    if max_clips <= 1 {
        return vec![0];
    }
    (0..max_clips)
        .map(|k| (k * (n - 1) / (max_clips - 1)) * stride)
        .collect()
}

/// Indices of the source frames left after subsampling long videos (rule 1).
pub fn subsample_indices(total: usize) -> Vec<usize> {
    let step = if total > MAX_SOURCE_FRAMES {
        total.div_ceil(MAX_SOURCE_FRAMES)
    } else {
        1
    };
    (0..total).step_by(step).collect()
}

/// The SEDS preprocessing of one video; see the module docs for the exact rules.
///
/// `raw` holds (x, y, score) per joint in source pixels of a `width` x `height` frame.
/// Errors on a non-positive frame size, an invalid window configuration, or a video in
/// which no frame has a detectable hand.
pub fn preprocess(
    raw: &[RawFrame],
    width: f32,
    height: f32,
    cfg: &DataConfig,
) -> Result<Preprocessed, DataError> {
    if !(width > 0.0 && height > 0.0 && width.is_finite() && height.is_finite()) {
        return Err(DataError::Preprocess(format!(
            "frame size must be positive, got {width} x {height}"
        )));
    }
    if cfg.clip_window == 0 || cfg.clip_stride == 0 || cfg.max_clips == 0 {
        return Err(DataError::Preprocess(format!(
            "clip_window ({}), clip_stride ({}) and max_clips ({}) must all be >= 1",
            cfg.clip_window, cfg.clip_stride, cfg.max_clips
        )));
    }
    let sub = subsample_indices(raw.len());
    let per_frame = NUM_JOINTS * COORDS;
    let mut pose = Vec::with_capacity(sub.len().max(cfg.clip_window) * per_frame);
    let mut source_index = Vec::with_capacity(sub.len());
    let mut buf = [0f32; NUM_JOINTS * COORDS];
    for &i in &sub {
        let f = &raw[i];
        let lb = hand_box(f, LEFT_HAND, L_SHOULDER, L_ELBOW, L_WRIST);
        let rb = hand_box(f, RIGHT_HAND, R_SHOULDER, R_ELBOW, R_WRIST);
        if lb == HandBox::Missing && rb == HandBox::Missing {
            continue;
        }
        for b in 0..LEFT_HAND {
            buf[2 * b] = f[b][0] / width;
            buf[2 * b + 1] = f[b][1] / height;
        }
        write_hand(
            f,
            LEFT_HAND,
            lb,
            true,
            &mut buf[2 * LEFT_HAND..2 * RIGHT_HAND],
        );
        write_hand(f, RIGHT_HAND, rb, false, &mut buf[2 * RIGHT_HAND..]);
        for v in buf.iter_mut() {
            if !v.is_finite() {
                *v = 0.0;
            }
        }
        pose.extend_from_slice(&buf);
        source_index.push(i);
    }
    let kept = source_index.len();
    if kept == 0 {
        return Err(DataError::NoFrames { total: sub.len() });
    }
    let mut frames = kept;
    while frames < cfg.clip_window {
        let last = pose[(kept - 1) * per_frame..kept * per_frame].to_vec();
        pose.extend_from_slice(&last);
        source_index.push(source_index[kept - 1]);
        frames += 1;
    }
    let clip_starts = clip_starts(kept, cfg.clip_window, cfg.clip_stride, cfg.max_clips);
    Ok(Preprocessed {
        frames,
        pose,
        clip_starts,
        source_index,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> DataConfig {
        DataConfig::default()
    }

    /// A frame with a right hand spanning x 100..110, y 200..220 (all scores 0.9),
    /// the left hand absent, body joints at known pixels.
    fn frame() -> RawFrame {
        let mut f = [[0f32, 0.0, 0.0]; NUM_JOINTS];
        for b in 0..7 {
            f[b] = [64.0 * b as f32, 48.0, 0.9];
        }
        f[L_SHOULDER][2] = 0.3; // disables the left fallback
        for k in 0..HAND_JOINTS {
            let x = 100.0 + (k % 3) as f32 * 5.0;
            let y = 200.0 + (k % 5) as f32 * 5.0;
            f[RIGHT_HAND + k] = [x, y, 0.9];
        }
        f
    }

    #[test]
    fn hand_crop_and_body_rescale_hand_computed() {
        let mut f = frame();
        f[RIGHT_HAND + 3][2] = 0.3; // counts as present (>0.1) but zeroed (<0.4)
        let p = preprocess(&[f; 20], 640.0, 480.0, &cfg()).unwrap();
        assert_eq!(p.frames, 20);
        let fr = &p.pose[..NUM_JOINTS * 2];
        // body: x/640, y/480
        assert!((fr[2] - 64.0 / 640.0).abs() < 1e-6 && (fr[3] - 0.1).abs() < 1e-6);
        // right hand extent: x 100..110, y 200..220 -> side 44, centre (105, 210)
        // -> left 83, top 188; joint 0 (100, 200) -> (17/44, 12/44)
        let r0 = 2 * RIGHT_HAND;
        assert!((fr[r0] - 17.0 / 44.0).abs() < 1e-6, "{}", fr[r0]);
        assert!((fr[r0 + 1] - 12.0 / 44.0).abs() < 1e-6);
        assert_eq!(&fr[r0 + 6..r0 + 8], &[0.0, 0.0]);
        // left hand missing -> zeros
        assert!(fr[2 * LEFT_HAND..2 * RIGHT_HAND].iter().all(|&v| v == 0.0));
        assert_eq!(p.clip_starts, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn left_hand_is_mirrored() {
        let mut f = frame();
        for k in 0..HAND_JOINTS {
            f[LEFT_HAND + k] = f[RIGHT_HAND + k];
        }
        let p = preprocess(&[f; 16], 640.0, 480.0, &cfg()).unwrap();
        let l0 = 2 * LEFT_HAND;
        let r0 = 2 * RIGHT_HAND;
        for k in 0..HAND_JOINTS {
            assert!((p.pose[l0 + 2 * k] - (1.0 - p.pose[r0 + 2 * k])).abs() < 1e-6);
            assert_eq!(p.pose[l0 + 2 * k + 1], p.pose[r0 + 2 * k + 1]);
        }
    }

    #[test]
    fn frames_without_hands_are_dropped_and_short_videos_padded() {
        let good = frame();
        let mut bad = frame();
        for k in 0..HAND_JOINTS {
            bad[RIGHT_HAND + k][2] = 0.05;
        }
        bad[R_ELBOW][2] = 0.2; // no fallback either
        let mut fb = bad;
        fb[R_ELBOW][2] = 0.6; // fallback from the arm keeps it
        let raw = vec![good, bad, good, fb, bad];
        let p = preprocess(&raw, 640.0, 480.0, &cfg()).unwrap();
        assert_eq!(p.frames, 16);
        assert_eq!(&p.source_index[..4], &[0, 2, 3, 3]);
        assert!(p.source_index[3..].iter().all(|&i| i == 3));
        assert_eq!(p.clip_starts, vec![0]);
        // The fallback frame's hand joints are all below 0.4 -> zeros.
        let f2 = &p.pose[2 * NUM_JOINTS * 2..3 * NUM_JOINTS * 2];
        assert!(f2[2 * RIGHT_HAND..].iter().all(|&v| v == 0.0));
        assert!(matches!(
            preprocess(&[bad], 640.0, 480.0, &cfg()),
            Err(DataError::NoFrames { total: 1 })
        ));
        assert!(preprocess(&raw, 0.0, 480.0, &cfg()).is_err());
    }

    #[test]
    fn long_videos_are_subsampled_and_windows_linspaced() {
        assert_eq!(subsample_indices(300).len(), 300);
        let s = subsample_indices(301);
        assert_eq!(s.len(), 151);
        assert_eq!(&s[..3], &[0, 2, 4]);
        assert_eq!(subsample_indices(901).len(), 226); // step 4
        let p = preprocess(&vec![frame(); 301], 640.0, 480.0, &cfg()).unwrap();
        assert_eq!(p.frames, 151);
        // 136 windows -> 64 starts: k * 135 / 63
        assert_eq!(p.clip_starts.len(), 64);
        assert_eq!(p.clip_starts[0], 0);
        assert_eq!(p.clip_starts[1], 2);
        assert_eq!(p.clip_starts[63], 135);
        assert_eq!(clip_starts(20, 16, 2, 64), vec![0, 2, 4]);
        assert_eq!(clip_starts(100, 16, 1, 1), vec![0]);
    }
}
