//! CGAF sampling picture for one video: for each layer and direction, where the deformable
//! attention of query clip `t` samples (positions `u` in clip units among the other stream's
//! clips), one colour per sample index `k`; the dashed diagonal is `u = t` (no offset).

use super::{anchored, bold, colour, font, y_title, Ctx, DrawResult, GREY};
use crate::input::CgafSampling;
use crate::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// Checks that every layer has `n_clips` query rows in both directions and finite positions.
pub fn validate(s: &CgafSampling) -> Result<(), ReportError> {
    if s.n_clips == 0 || s.layers.is_empty() {
        return Err(ReportError::invalid(
            "extras.cgaf",
            "needs n_clips > 0 and at least one layer",
        ));
    }
    for (li, l) in s.layers.iter().enumerate() {
        for (name, m) in [
            ("pose_to_rgb", &l.pose_to_rgb),
            ("rgb_to_pose", &l.rgb_to_pose),
        ] {
            if m.len() != s.n_clips {
                return Err(ReportError::invalid(
                    format!("extras.cgaf.layers[{li}].{name}"),
                    format!("{} query clips, expected n_clips = {}", m.len(), s.n_clips),
                ));
            }
            if let Some((t, _)) = m
                .iter()
                .enumerate()
                .find(|(_, row)| row.iter().any(|u| !u.is_finite()))
            {
                return Err(ReportError::invalid(
                    format!("extras.cgaf.layers[{li}].{name}[{t}]"),
                    "non-finite position",
                ));
            }
        }
    }
    Ok(())
}

/// Pixel size of the picture.
pub fn size(s: &CgafSampling) -> (u32, u32) {
    (960, 64 + 430 * s.layers.len().max(1) as u32)
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    n: usize,
    m: &[Vec<f64>],
) -> DrawResult {
    let n_f = n as f64;
    let area = area.titled(title, font(15.0)).ctx()?;
    let mut c = ChartBuilder::on(&area)
        .margin(10)
        .margin_top(24)
        .x_label_area_size(40)
        .y_label_area_size(44)
        .build_cartesian_2d(-0.5..n_f - 0.5, -0.5..n_f - 0.5)
        .ctx()?;
    c.configure_mesh()
        .x_desc(x_desc)
        .x_label_formatter(&|v| format!("{}", v.round() as i64))
        .y_label_formatter(&|v| format!("{}", v.round() as i64))
        .label_style(font(12.0))
        .axis_desc_style(font(13.0))
        .light_line_style(RGBColor(242, 242, 242))
        .bold_line_style(RGBColor(225, 225, 225))
        .draw()
        .ctx()?;
    c.draw_series(DashedLineSeries::new(
        vec![(-0.5, -0.5), (n_f - 0.5, n_f - 0.5)],
        6,
        4,
        GREY.stroke_width(1),
    ))
    .ctx()?;
    let k_max = m.iter().map(|r| r.len()).max().unwrap_or(0);
    for k in 0..k_max {
        let col = colour(k);
        c.draw_series(m.iter().enumerate().filter_map(|(t, row)| {
            row.get(k)
                .map(|&u| Circle::new((t as f64, u), 3, col.mix(0.85).filled()))
        }))
        .ctx()?;
    }
    y_title(&area, c.plotting_area().get_base_pixel(), y_desc)
}

/// Draws the picture at [`size`] (call [`validate`] first).
pub fn draw_cgaf<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    s: &CgafSampling,
) -> DrawResult {
    root.fill(&WHITE).ctx()?;
    let (head, root) = root.split_vertically(64);
    head.draw(&Text::new(
        format!("CGAF sampling positions, video {}", s.video),
        (12, 8),
        anchored(bold(17.0), HPos::Left, VPos::Top),
    ))
    .ctx()?;
    // Shared legend: one colour per sample index k.
    let k_max = s
        .layers
        .iter()
        .flat_map(|l| l.pose_to_rgb.iter().chain(&l.rgb_to_pose))
        .map(Vec::len)
        .max()
        .unwrap_or(0);
    head.draw(&Text::new(
        "sample k:",
        (12, 40),
        anchored(font(13.0), HPos::Left, VPos::Center),
    ))
    .ctx()?;
    for k in 0..k_max {
        let x = 90 + 52 * k as i32;
        head.draw(&Circle::new((x, 40), 5, colour(k).filled()))
            .ctx()?;
        head.draw(&Text::new(
            format!("{}", k + 1),
            (x + 9, 40),
            anchored(font(13.0), HPos::Left, VPos::Center),
        ))
        .ctx()?;
    }
    head.draw(&Text::new(
        "dashed: u = t (no offset)",
        (90 + 52 * k_max as i32 + 20, 40),
        anchored(font(13.0).color(&GREY), HPos::Left, VPos::Center),
    ))
    .ctx()?;
    let panels = root.split_evenly((s.layers.len(), 2));
    for (li, l) in s.layers.iter().enumerate() {
        draw_panel(
            &panels[2 * li],
            &format!("layer {}: pose queries → RGB clips", l.layer),
            "pose query clip t",
            "sampled RGB position u",
            s.n_clips,
            &l.pose_to_rgb,
        )?;
        draw_panel(
            &panels[2 * li + 1],
            &format!("layer {}: RGB queries → pose clips", l.layer),
            "RGB query clip t",
            "sampled pose position u",
            s.n_clips,
            &l.rgb_to_pose,
        )?;
    }
    Ok(())
}
