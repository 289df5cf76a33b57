//! Skeleton keyframe strips (49-joint SEDS layout) for `seds-lab data show` and for the
//! retrieval examples of reports.
//!
//! Joint layout (indices into a 49-joint frame): 0 nose, 1 L-shoulder, 2 L-elbow, 3 L-wrist,
//! 4 R-shoulder, 5 R-elbow, 6 R-wrist; 7..28 left hand, 28..49 right hand, each in the
//! standard 21-joint order (wrist, thumb 1-4, index 1-4, middle 1-4, ring 1-4, pinky 1-4).
//! Coordinates are pixel-like (x right, y down); joints with confidence <= 0 (or non-finite
//! coordinates) are omitted together with their bones. Body is dark grey, the left hand
//! red, the right hand blue.

use super::{anchored, bold, font, Ctx, DrawResult};
use crate::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use std::path::Path;

/// Joints per frame in the SEDS layout.
pub const N_JOINTS: usize = 49;
/// One frame: 49 joints of `[x, y, confidence]`.
pub type Frame49 = [[f32; 3]; N_JOINTS];

/// First index of the left hand.
pub const LEFT_HAND: usize = 7;
/// First index of the right hand.
pub const RIGHT_HAND: usize = 28;

/// Body bones (pairs of body joint indices); the neck (nose to shoulder midpoint) is added
/// separately when both shoulders are present.
pub const BODY_BONES: [(usize, usize); 5] = [(1, 4), (1, 2), (2, 3), (4, 5), (5, 6)];

/// Bones of a 21-joint hand (indices relative to the hand's wrist).
pub const HAND_BONES: [(usize, usize); 20] = [
    (0, 1),
    (1, 2),
    (2, 3),
    (3, 4),
    (0, 5),
    (5, 6),
    (6, 7),
    (7, 8),
    (0, 9),
    (9, 10),
    (10, 11),
    (11, 12),
    (0, 13),
    (13, 14),
    (14, 15),
    (15, 16),
    (0, 17),
    (17, 18),
    (18, 19),
    (19, 20),
];

/// Body colour.
pub const BODY_COLOUR: RGBColor = RGBColor(70, 70, 70);
/// Left-hand colour.
pub const LEFT_COLOUR: RGBColor = RGBColor(214, 39, 40);
/// Right-hand colour.
pub const RIGHT_COLOUR: RGBColor = RGBColor(31, 119, 180);

fn valid(j: &[f32; 3]) -> bool {
    j[2] > 0.0 && j[0].is_finite() && j[1].is_finite()
}

/// Bounding box `(x0, y0, x1, y1)` of every valid joint of `frames`; `None` if none is valid.
pub fn bbox(frames: &[&[[f32; 3]]]) -> Option<(f32, f32, f32, f32)> {
    let mut b: Option<(f32, f32, f32, f32)> = None;
    for j in frames.iter().flat_map(|f| f.iter()).filter(|j| valid(j)) {
        b = Some(match b {
            None => (j[0], j[1], j[0], j[1]),
            Some((x0, y0, x1, y1)) => (x0.min(j[0]), y0.min(j[1]), x1.max(j[0]), y1.max(j[1])),
        });
    }
    b
}

/// Every bone of the 49-joint layout as `(joint a, joint b, colour, width)`.
fn bones() -> Vec<(usize, usize, RGBColor, u32)> {
    let mut v: Vec<(usize, usize, RGBColor, u32)> = BODY_BONES
        .iter()
        .map(|&(a, b)| (a, b, BODY_COLOUR, 3))
        .collect();
    // Forearm to hand wrist (same point in raw coordinates; bridges small offsets).
    v.push((3, LEFT_HAND, BODY_COLOUR, 2));
    v.push((6, RIGHT_HAND, BODY_COLOUR, 2));
    for &(a, b) in &HAND_BONES {
        v.push((LEFT_HAND + a, LEFT_HAND + b, LEFT_COLOUR, 2));
        v.push((RIGHT_HAND + a, RIGHT_HAND + b, RIGHT_COLOUR, 2));
    }
    v
}

fn joint_colour(i: usize) -> RGBColor {
    if i < LEFT_HAND {
        BODY_COLOUR
    } else if i < RIGHT_HAND {
        LEFT_COLOUR
    } else {
        RIGHT_COLOUR
    }
}

/// Draws one skeleton frame into `area`, fitted (aspect kept) to `bbox`, with `title` on top.
/// `frame` must hold [`N_JOINTS`] joints. `border` outlines the panel (e.g. a correct match).
pub(crate) fn draw_skeleton_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    frame: &[[f32; 3]],
    bbox: (f32, f32, f32, f32),
    title: &str,
    border: Option<(RGBColor, u32)>,
) -> DrawResult {
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    area.fill(&WHITE).ctx()?;
    let (bc, bw) = border.unwrap_or((RGBColor(215, 215, 215), 1));
    for i in 0..bw as i32 {
        area.draw(&Rectangle::new(
            [(i, i), (w - 1 - i, h - 1 - i)],
            bc.stroke_width(1),
        ))
        .ctx()?;
    }
    let title_h = 22;
    area.draw(&Text::new(
        title.to_string(),
        (w / 2, 4),
        anchored(font(13.0), HPos::Center, VPos::Top),
    ))
    .ctx()?;
    let pad = 8.0f32;
    let (x0, y0, x1, y1) = bbox;
    let (bw_, bh_) = ((x1 - x0).max(1.0), (y1 - y0).max(1.0));
    let (avail_w, avail_h) = (w as f32 - 2.0 * pad, (h - title_h) as f32 - 2.0 * pad);
    let s = (avail_w / bw_).min(avail_h / bh_).max(1e-6);
    let ox = pad + (avail_w - s * bw_) / 2.0;
    let oy = title_h as f32 + pad + (avail_h - s * bh_) / 2.0;
    let px = |j: &[f32; 3]| {
        (
            (ox + (j[0] - x0) * s).round() as i32,
            (oy + (j[1] - y0) * s).round() as i32,
        )
    };
    if frame.len() != N_JOINTS {
        return Err(format!(
            "frame has {} joints, expected {N_JOINTS}",
            frame.len()
        ));
    }
    // Neck.
    if valid(&frame[0]) && valid(&frame[1]) && valid(&frame[4]) {
        let mid = [
            (frame[1][0] + frame[4][0]) / 2.0,
            (frame[1][1] + frame[4][1]) / 2.0,
            1.0,
        ];
        area.draw(&PathElement::new(
            vec![px(&frame[0]), px(&mid)],
            BODY_COLOUR.stroke_width(3),
        ))
        .ctx()?;
    }
    for (a, b, c, width) in bones() {
        if valid(&frame[a]) && valid(&frame[b]) {
            area.draw(&PathElement::new(
                vec![px(&frame[a]), px(&frame[b])],
                c.stroke_width(width),
            ))
            .ctx()?;
        }
    }
    for (i, j) in frame.iter().enumerate().filter(|(_, j)| valid(j)) {
        let r = if i == 0 {
            6
        } else if i < LEFT_HAND {
            4
        } else {
            2
        };
        area.draw(&Circle::new(px(j), r, joint_colour(i).filled()))
            .ctx()?;
    }
    Ok(())
}

/// Pixel size of one strip panel.
pub const PANEL: (u32, u32) = (190, 230);

fn draw_strip<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    frames: &[&[[f32; 3]]],
    titles: &[String],
) -> DrawResult {
    root.fill(&WHITE).ctx()?;
    let b = bbox(frames).unwrap_or((0.0, 0.0, 1.0, 1.0));
    let panels = root.split_evenly((1, frames.len().max(1)));
    for ((area, f), t) in panels.iter().zip(frames).zip(titles) {
        draw_skeleton_panel(&area.margin(3, 3, 3, 3), f, b, t, None)?;
    }
    Ok(())
}

/// Draws a strip of skeleton frames (`frames[i]` for each `i` in `indices`), one panel per
/// frame titled `frame <i>`, with a shared scale. PNG unless `path` ends in `.svg`.
///
/// Errors: an index out of range, no indices, or an unwritable path.
pub fn draw_skeleton_strip(
    frames: &[Frame49],
    indices: &[usize],
    path: &Path,
) -> Result<(), ReportError> {
    crate::fonts::ensure_fonts()?;
    if indices.is_empty() {
        return Err(ReportError::invalid("indices", "no frames selected"));
    }
    if let Some(&bad) = indices.iter().find(|&&i| i >= frames.len()) {
        return Err(ReportError::invalid(
            format!("indices (frame {bad})"),
            format!("out of range: the sequence has {} frames", frames.len()),
        ));
    }
    let sel: Vec<&[[f32; 3]]> = indices.iter().map(|&i| frames[i].as_slice()).collect();
    let titles: Vec<String> = indices.iter().map(|i| format!("frame {i}")).collect();
    let size = (PANEL.0 * indices.len() as u32, PANEL.1);
    let err = |m: String| ReportError::Draw {
        chart: path.display().to_string(),
        message: m,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| ReportError::io(parent, e))?;
    }
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("svg"))
    {
        let root = SVGBackend::new(path, size).into_drawing_area();
        draw_strip(&root, &sel, &titles).map_err(err)?;
        root.present().map_err(|e| err(e.to_string()))?;
    } else {
        let root = BitMapBackend::new(path, size).into_drawing_area();
        draw_strip(&root, &sel, &titles).map_err(err)?;
        root.present().map_err(|e| err(e.to_string()))?;
    }
    Ok(())
}

/// Draws one retrieval example: the query on top, then one row per retrieved video with its
/// rank, id, score and keyframes; correct matches get a green frame and a check mark.
pub(crate) fn draw_example<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ex: &crate::input::RetrievalExample,
) -> DrawResult {
    root.fill(&WHITE).ctx()?;
    let header = 34;
    let (top, rest) = root.split_vertically(header);
    let q = super::ellipsize(&ex.query, 100);
    let tail = match ex.correct_rank {
        Some(r) if !ex.top.iter().any(|v| v.correct) => format!("   (correct video at rank {r})"),
        _ => String::new(),
    };
    top.draw(&Text::new(
        format!("Query: \u{201c}{q}\u{201d}{tail}"),
        (8, 8),
        anchored(bold(15.0), HPos::Left, VPos::Top),
    ))
    .ctx()?;
    if ex.top.is_empty() {
        return Ok(());
    }
    let all: Vec<&[[f32; 3]]> = ex
        .top
        .iter()
        .flat_map(|v| v.keyframes.iter().map(|f| f.as_slice()))
        .collect();
    let b = bbox(&all).unwrap_or((0.0, 0.0, 1.0, 1.0));
    let rows = rest.split_evenly((ex.top.len(), 1));
    let label_w = 210;
    for (rank, (row, v)) in rows.iter().zip(&ex.top).enumerate() {
        let (label, frames_area) = row.split_horizontally(label_w);
        let green = RGBColor(30, 150, 60);
        if v.correct {
            label.fill(&RGBColor(228, 245, 230)).ctx()?;
        }
        let mark = if v.correct { "  \u{2713} correct" } else { "" };
        label
            .draw(&Text::new(
                format!("#{}{mark}", rank + 1),
                (10, 12),
                anchored(bold(15.0), HPos::Left, VPos::Top),
            ))
            .ctx()?;
        label
            .draw(&Text::new(
                super::ellipsize(&v.video, 26),
                (10, 36),
                anchored(font(13.0), HPos::Left, VPos::Top),
            ))
            .ctx()?;
        label
            .draw(&Text::new(
                format!("score {:.3}", v.score),
                (10, 56),
                anchored(font(13.0), HPos::Left, VPos::Top),
            ))
            .ctx()?;
        let n = v.keyframes.len().max(1);
        let panels = frames_area.split_evenly((1, n));
        for (i, (p, f)) in panels.iter().zip(&v.keyframes).enumerate() {
            let idx = v.frame_indices.get(i).copied().unwrap_or(i);
            let border = if v.correct { Some((green, 3)) } else { None };
            draw_skeleton_panel(&p.margin(2, 2, 2, 2), f, b, &format!("frame {idx}"), border)?;
        }
    }
    Ok(())
}
