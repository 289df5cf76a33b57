//! The SynthSign renderer: a gloss sequence signed by a signer becomes raw 49-joint frames
//! (x, y, confidence in source pixels), with coarticulated transitions, detection noise,
//! hand drop-outs, low-confidence joints and failed frames, plus a per-frame content label
//! (which glosses are visible, with what weight) that the RGB simulation reads.
//!
//! Geometry is computed per hand in "own-side" body coordinates (origin between the
//! shoulders, y down, +x towards that hand's side, shoulder half-width = 1), then mapped to
//! pixels; the right hand's +x is image-left (the signer faces the camera).

use crate::lexicon::{handshape_flex, Hands, Lexicon, SignParams};
use crate::preprocess::{
    RawFrame, HAND_JOINTS, LEFT_HAND, L_ELBOW, L_SHOULDER, L_WRIST, NOSE, RIGHT_HAND, R_ELBOW,
    R_SHOULDER, R_WRIST,
};
use crate::signer::Signer;
use crate::types::NUM_JOINTS;
use seds_core::Rng;
use std::f32::consts::PI;

/// Raw keypoint frames of one video, as a pose estimator would deliver them.
#[derive(Clone, Debug, PartialEq)]
pub struct RawVideo {
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// Frames per second.
    pub fps: f32,
    /// 49 joints of (x, y, confidence) per frame.
    pub frames: Vec<RawFrame>,
}

/// Marker of "no gloss" in a [`FrameLabel`].
pub const NO_GLOSS: u32 = u32::MAX;

/// Visible content of one frame: up to two (gloss index, weight) entries.
pub type FrameLabel = [(u32, f32); 2];

/// Location table in own-side body units.
pub const LOCATIONS: [[f32; 2]; 8] = [
    [0.15, -1.75],
    [0.1, -0.85],
    [0.45, -1.3],
    [0.3, 0.5],
    [0.6, 0.9],
    [0.9, 0.05],
    [0.2, 1.4],
    [1.3, 1.2],
];
/// In-plane palm angles (radians, 0 = fingers up, positive towards the hand's side).
pub const ANGLES: [f32; 8] = [0.0, 0.45, 0.9, 1.35, 1.8, -0.45, -0.9, 2.7];
/// Movement amplitude in body units.
const AMP: f32 = 0.4;
/// Hand position at rest.
const REST: [f32; 2] = [0.75, 2.3];

/// Pose of one hand at one instant.
#[derive(Clone, Copy, Debug)]
struct HandPose {
    pos: [f32; 2],
    shape: [[f32; 2]; HAND_JOINTS],
    angle: f32,
    facing: f32,
    conf: f32,
}

/// Local 2-D joint positions of a handshape (wrist at the origin, fingers up, thumb towards
/// -x, hand length 1), for finger flexion `flex` and `spread`.
pub fn hand_points(flex: [f32; 5], spread: f32) -> [[f32; 2]; HAND_JOINTS] {
    let mut p = [[0f32; 2]; HAND_JOINTS];
    // Thumb: CMC, MCP, IP, tip.
    let f0 = flex[0];
    let mut cur = [-0.1f32, -0.1];
    p[1] = cur;
    for (k, len) in [0.18f32, 0.15, 0.12].iter().enumerate() {
        let th = -0.9 + 1.3 * f0 + 0.4 * f0 * (k as f32 + 1.0);
        let l = len * (1.0 - 0.35 * f0);
        cur = [cur[0] + l * th.sin(), cur[1] - l * th.cos()];
        p[2 + k] = cur;
    }
    let bases = [
        [-0.11f32, -0.43],
        [-0.035, -0.45],
        [0.04, -0.43],
        [0.11, -0.38],
    ];
    let dirs = [-0.08f32, -0.02, 0.04, 0.1];
    let lens = [0.92f32, 1.0, 0.95, 0.75];
    for f in 0..4 {
        let th = dirs[f] * (1.0 + 3.0 * spread);
        let (s, c) = (th.sin(), th.cos());
        let mut cur = bases[f];
        p[5 + 4 * f] = cur;
        let mut cum = 0.0;
        for (k, (seg, bend)) in [0.25f32, 0.17, 0.13]
            .iter()
            .zip([1.5f32, 1.6, 0.9])
            .enumerate()
        {
            cum += flex[f + 1] * bend;
            let l = seg * lens[f] * cum.cos();
            cur = [cur[0] + l * s, cur[1] - l * c];
            p[6 + 4 * f + k] = cur;
        }
    }
    p
}

fn lerp(a: f32, b: f32, t: f32) -> f32 {
    a + (b - a) * t
}

fn tri(p: f32) -> f32 {
    let f = p - p.floor();
    1.0 - (2.0 * f - 1.0).abs()
}

fn rest_pose() -> HandPose {
    let (mut flex, spread) = handshape_flex(2);
    flex.iter_mut().for_each(|f| *f = (*f + 0.3).min(1.0));
    HandPose {
        pos: REST,
        shape: hand_points(flex, spread),
        angle: 3.0,
        facing: 1.0,
        conf: 0.45,
    }
}

/// Dominant-hand pose of a sign at phase `phi` in [0, 1].
fn sign_pose(p: &SignParams, phi: f32, dominant: bool) -> HandPose {
    let cycles = phi * p.repetition as f32;
    let t = tri(cycles) - 0.5;
    let (c, s) = ((2.0 * PI * cycles).cos(), (2.0 * PI * cycles).sin());
    let offset = match p.movement {
        1 => [0.0, -AMP * t],
        2 => [AMP * t, 0.0],
        3 => [0.7 * AMP * t, -0.7 * AMP * t],
        4 => [0.7 * AMP * t, 0.7 * AMP * t],
        5 => [0.5 * AMP * c, 0.5 * AMP * s],
        6 => [0.5 * AMP * c, -0.5 * AMP * s],
        7 => [AMP * t, -0.6 * AMP * (PI * (t + 0.5)).sin()],
        _ => [0.0, 0.0],
    };
    let hs = if dominant {
        p.handshape
    } else {
        p.nondom_handshape
    };
    let (mut flex, spread) = handshape_flex(hs);
    if p.movement == 8 && dominant {
        for (i, f) in flex.iter_mut().enumerate().skip(1) {
            *f = (*f + 0.25 * (2.0 * PI * (3.0 * cycles + i as f32 / 4.0)).sin()).clamp(0.0, 1.0);
        }
    }
    let mut angle = ANGLES[(p.orientation / 2) as usize % ANGLES.len()];
    if p.movement == 9 {
        angle += 0.6 * s;
    }
    let facing = if p.orientation % 2 == 0 { 1.0 } else { -1.0 };
    let loc = LOCATIONS[p.location as usize % LOCATIONS.len()];
    if !dominant {
        return match p.hands {
            Hands::One => rest_pose(),
            Hands::Symmetric => HandPose {
                pos: [loc[0] + offset[0], loc[1] + offset[1]],
                shape: hand_points(flex, spread),
                angle,
                facing,
                conf: 1.0,
            },
            Hands::Base => HandPose {
                pos: [loc[0] - 0.15, loc[1] + 0.35],
                shape: hand_points(flex, spread),
                angle: -1.35,
                facing: 1.0,
                conf: 1.0,
            },
        };
    }
    HandPose {
        pos: [loc[0] + offset[0], loc[1] + offset[1]],
        shape: hand_points(flex, spread),
        angle,
        facing,
        conf: 1.0,
    }
}

fn mix(a: &HandPose, b: &HandPose, t: f32) -> HandPose {
    let s = t * t * (3.0 - 2.0 * t);
    let mut shape = a.shape;
    for (o, q) in shape.iter_mut().zip(b.shape.iter()) {
        o[0] = lerp(o[0], q[0], s);
        o[1] = lerp(o[1], q[1], s);
    }
    HandPose {
        pos: [lerp(a.pos[0], b.pos[0], s), lerp(a.pos[1], b.pos[1], s)],
        shape,
        angle: lerp(a.angle, b.angle, s),
        facing: lerp(a.facing, b.facing, s),
        conf: lerp(a.conf, b.conf, s),
    }
}

/// A timeline segment (times in frames).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SegmentKind {
    /// Hands at rest.
    Rest,
    /// The i-th sign of the sequence.
    Sign(usize),
    /// Transition from sign a (or rest) to sign b (or rest).
    Transition(Option<usize>, Option<usize>),
}

/// One segment of a video's timeline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Segment {
    /// What happens.
    pub kind: SegmentKind,
    /// Start time in frames.
    pub start: f32,
    /// Duration in frames.
    pub len: f32,
}

/// Timeline of a gloss sequence: rest, transition, sign, transition, ..., rest. Sign
/// durations grow with repetition and movement, scale with the signer's speed and vary per
/// take; with `target_frames` every segment is scaled so the total matches it.
pub fn timeline(
    lex: &Lexicon,
    glosses: &[usize],
    signer: &Signer,
    target_frames: Option<usize>,
    rng: &mut Rng,
) -> Vec<Segment> {
    let mut segs: Vec<(SegmentKind, f32)> = Vec::new();
    let sp = signer.speed;
    segs.push((SegmentKind::Rest, 1.0 + rng.below(3) as f32));
    segs.push((SegmentKind::Transition(None, Some(0)), 2.5 * sp));
    for (i, &g) in glosses.iter().enumerate() {
        let p = &lex.glosses[g].params;
        let moving = if p.movement != 0 && p.movement != 8 {
            1.5
        } else {
            0.0
        };
        let len =
            (3.0 + 1.5 * p.repetition as f32 + moving) * sp * rng.range_f64(0.85, 1.15) as f32;
        segs.push((SegmentKind::Sign(i), len));
        let next = if i + 1 < glosses.len() {
            Some(i + 1)
        } else {
            None
        };
        let tl = if next.is_some() {
            (2.0 + rng.below(3) as f32) * sp
        } else {
            2.5 * sp
        };
        segs.push((SegmentKind::Transition(Some(i), next), tl));
    }
    segs.push((SegmentKind::Rest, 1.0 + rng.below(3) as f32));
    let total: f32 = segs.iter().map(|s| s.1).sum();
    let factor = match target_frames {
        Some(t) => t.max(1) as f32 / total,
        None => 1.0,
    };
    let mut start = 0.0;
    segs.into_iter()
        .map(|(kind, len)| {
            let s = Segment {
                kind,
                start,
                len: len * factor,
            };
            start += len * factor;
            s
        })
        .collect()
}

/// Elbow position by two-link inverse kinematics (elbow out and down).
fn elbow(shoulder: [f32; 2], wrist: [f32; 2], a: f32, b: f32) -> [f32; 2] {
    let (dx, dy) = (wrist[0] - shoulder[0], wrist[1] - shoulder[1]);
    let d = (dx * dx + dy * dy)
        .sqrt()
        .clamp((a - b).abs() + 1e-3, a + b - 1e-3);
    let base = dy.atan2(dx);
    let cos_a = ((a * a + d * d - b * b) / (2.0 * a * d)).clamp(-1.0, 1.0);
    let ang = cos_a.acos();
    let e1 = [
        shoulder[0] + a * (base + ang).cos(),
        shoulder[1] + a * (base + ang).sin(),
    ];
    let e2 = [
        shoulder[0] + a * (base - ang).cos(),
        shoulder[1] + a * (base - ang).sin(),
    ];
    if e1[0] + e1[1] >= e2[0] + e2[1] {
        e1
    } else {
        e2
    }
}

/// Renders a gloss sequence. Returns the raw frames and one content label per frame.
/// `rng` drives timing and detection noise (one stream per video).
pub fn render(
    lex: &Lexicon,
    glosses: &[usize],
    signer: &Signer,
    width: u32,
    height: u32,
    fps: f32,
    target_frames: Option<usize>,
    rng: &mut Rng,
) -> (RawVideo, Vec<FrameLabel>) {
    let segs = timeline(lex, glosses, signer, target_frames, rng);
    let total: f32 = segs.iter().map(|s| s.len).sum();
    let n = target_frames.unwrap_or_else(|| total.round().max(1.0) as usize);
    let (w, h) = (width as f32, height as f32);
    let px = signer.scale * h;
    let cam = [
        w * (signer.center[0] + rng.range_f64(-0.02, 0.02) as f32),
        h * (signer.center[1] + rng.range_f64(-0.02, 0.02) as f32),
    ];
    let sway_phase = rng.range_f64(0.0, 6.28) as f32;
    // Which image side each hand is on: right hand (index 0) at -x, left (1) at +x.
    let dom_is_left = signer.left_handed;
    let mut dropout = [0usize; 2];
    let mut frames = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    let mut si = 0usize;
    for t in 0..n {
        let tau = t as f32 + 0.5;
        while si + 1 < segs.len() && tau >= segs[si].start + segs[si].len {
            si += 1;
        }
        let seg = segs[si];
        let u = ((tau - seg.start) / seg.len.max(1e-3)).clamp(0.0, 1.0);
        let at = |k: Option<usize>, dom: bool, end: bool| -> HandPose {
            match k {
                Some(i) => sign_pose(
                    &lex.glosses[glosses[i]].params,
                    if end { 1.0 } else { 0.0 },
                    dom,
                ),
                None => rest_pose(),
            }
        };
        let (dom, non, label): (HandPose, HandPose, FrameLabel) = match seg.kind {
            SegmentKind::Rest => (rest_pose(), rest_pose(), [(NO_GLOSS, 0.0); 2]),
            SegmentKind::Sign(i) => {
                let p = &lex.glosses[glosses[i]].params;
                (
                    sign_pose(p, u, true),
                    sign_pose(p, u, false),
                    [(glosses[i] as u32, 1.0), (NO_GLOSS, 0.0)],
                )
            }
            SegmentKind::Transition(a, b) => {
                let lab = |k: Option<usize>, wt: f32| {
                    k.map(|i| (glosses[i] as u32, 0.5 * wt))
                        .unwrap_or((NO_GLOSS, 0.0))
                };
                (
                    mix(&at(a, true, true), &at(b, true, false), u),
                    mix(&at(a, false, true), &at(b, false, false), u),
                    [lab(a, 1.0 - u), lab(b, u)],
                )
            }
        };
        labels.push(label);
        let sway = 0.03 * (0.2 * tau + sway_phase).sin();
        // hands[0] = right hand, hands[1] = left hand.
        let hands = if dom_is_left { [non, dom] } else { [dom, non] };
        let mut f: RawFrame = [[0.0; 3]; NUM_JOINTS];
        let to_px = |side: f32, p: [f32; 2]| {
            [
                cam[0] + side * (p[0] + side * sway) * px,
                cam[1] + p[1] * px,
            ]
        };
        f[NOSE] = {
            let q = to_px(1.0, [0.0, -signer.neck]);
            [q[0], q[1], 0.0]
        };
        let fail = rng.bernoulli(0.01);
        for (hi, hp) in hands.iter().enumerate() {
            let side = if hi == 0 { -1.0 } else { 1.0 };
            let (sh, el, wr, first) = if hi == 0 {
                (R_SHOULDER, R_ELBOW, R_WRIST, RIGHT_HAND)
            } else {
                (L_SHOULDER, L_ELBOW, L_WRIST, LEFT_HAND)
            };
            let shoulder = [1.0f32, 0.0];
            let e = elbow(shoulder, hp.pos, signer.upper_arm, signer.forearm);
            let s_px = to_px(side, shoulder);
            let e_px = to_px(side, e);
            let w_px = to_px(side, hp.pos);
            f[sh] = [s_px[0], s_px[1], 0.0];
            f[el] = [e_px[0], e_px[1], 0.0];
            f[wr] = [w_px[0], w_px[1], 0.0];
            let (ca, sa) = (hp.angle.cos(), hp.angle.sin());
            if dropout[hi] == 0 && rng.bernoulli(signer.dropout as f64) {
                dropout[hi] = 2 + rng.below(7);
            }
            let dropped = dropout[hi] > 0;
            if dropped {
                dropout[hi] -= 1;
            }
            for (k, q) in hp.shape.iter().enumerate() {
                let lx = hp.facing * q[0] * signer.hand;
                let ly = q[1] * signer.hand;
                let p = [hp.pos[0] + lx * ca - ly * sa, hp.pos[1] + lx * sa + ly * ca];
                let pp = to_px(side, p);
                let mut conf = hp.conf * rng.range_f64(0.6, 0.98) as f32;
                let mut noise = signer.jitter * 0.7 * px;
                if rng.bernoulli(signer.low_conf as f64) {
                    conf = rng.range_f64(0.05, 0.35) as f32;
                    noise *= 4.0;
                }
                if dropped {
                    conf = rng.range_f64(0.0, 0.08) as f32;
                    noise = 0.3 * signer.hand * px;
                }
                f[first + k] = [
                    pp[0] + noise * rng.normal() as f32,
                    pp[1] + noise * rng.normal() as f32,
                    conf,
                ];
            }
        }
        let body_noise = signer.jitter * px;
        for j in [
            NOSE, L_SHOULDER, L_ELBOW, L_WRIST, R_SHOULDER, R_ELBOW, R_WRIST,
        ] {
            f[j][0] += body_noise * rng.normal() as f32;
            f[j][1] += body_noise * rng.normal() as f32;
            f[j][2] = rng.range_f64(0.8, 0.98) as f32;
        }
        if fail {
            for (j, v) in f.iter_mut().enumerate() {
                v[2] = if j < LEFT_HAND { 0.45 } else { 0.1 } * rng.uniform() as f32;
            }
        }
        for v in f.iter_mut() {
            v[0] = v[0].clamp(0.0, w - 1.0);
            v[1] = v[1].clamp(0.0, h - 1.0);
        }
        frames.push(f);
    }
    (
        RawVideo {
            width,
            height,
            fps,
            frames,
        },
        labels,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::Lexicon;

    #[test]
    fn fist_and_flat_hand_geometry() {
        let flat = hand_points([0.0; 5], 0.0);
        // Middle fingertip of a flat hand: base y -0.45 minus 0.55 of finger.
        assert!(
            (flat[12][1] - (-0.45 - 0.55 * 0.02f32.cos())).abs() < 1e-5,
            "{:?}",
            flat[12]
        );
        let fist = hand_points([0.2, 1.0, 1.0, 1.0, 1.0], 0.0);
        // Bent fingertips come back below their knuckles.
        assert!(fist[12][1] > fist[9][1]);
    }

    #[test]
    fn render_is_deterministic_and_in_frame() {
        let lex = Lexicon::builtin(48, &mut Rng::new(0));
        let signer = Signer::random(0, &mut Rng::new(1));
        let g = vec![0, 5, 9];
        let (a, la) = render(&lex, &g, &signer, 640, 480, 25.0, None, &mut Rng::new(9));
        let (b, _) = render(&lex, &g, &signer, 640, 480, 25.0, None, &mut Rng::new(9));
        assert_eq!(a, b);
        assert_eq!(a.frames.len(), la.len());
        assert!((15..60).contains(&a.frames.len()), "{}", a.frames.len());
        assert!(a
            .frames
            .iter()
            .flatten()
            .all(|j| j[0] >= 0.0 && j[0] < 640.0 && j[1] >= 0.0 && j[1] < 480.0));
        let (c, _) = render(
            &lex,
            &g,
            &signer,
            210,
            260,
            25.0,
            Some(123),
            &mut Rng::new(9),
        );
        assert_eq!(c.frames.len(), 123);
        // Every gloss appears in the labels.
        for &gi in &g {
            assert!(la.iter().any(|l| l[0].0 == gi as u32 && l[0].1 == 1.0));
        }
    }
}
