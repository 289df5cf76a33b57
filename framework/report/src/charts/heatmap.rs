//! Similarity-matrix heatmap of a test subset: rows = videos, columns = sentences (by
//! default), viridis colour scale with a colour bar, ground-truth cells outlined in red.

use super::{anchored, bold, ellipsize, font, Ctx, DrawResult};
use crate::input::Heatmap;
use crate::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// Checks that `values` is `row_labels.len() x col_labels.len()`, that `correct` (if given)
/// has one entry per row pointing at a valid column, and that there is at least one value.
pub fn validate(h: &Heatmap) -> Result<(), ReportError> {
    let (r, c) = (h.row_labels.len(), h.col_labels.len());
    if r == 0 || c == 0 {
        return Err(ReportError::invalid(
            "extras.similarity",
            "needs at least one row and one column label",
        ));
    }
    if h.values.len() != r {
        return Err(ReportError::invalid(
            "extras.similarity.values",
            format!("{} rows for {r} row labels", h.values.len()),
        ));
    }
    for (i, row) in h.values.iter().enumerate() {
        if row.len() != c {
            return Err(ReportError::invalid(
                format!("extras.similarity.values[{i}]"),
                format!("{} values for {c} column labels", row.len()),
            ));
        }
    }
    if !h.correct.is_empty() && h.correct.len() != r {
        return Err(ReportError::invalid(
            "extras.similarity.correct",
            format!("{} entries for {r} rows", h.correct.len()),
        ));
    }
    if let Some((i, j)) = h
        .correct
        .iter()
        .enumerate()
        .find_map(|(i, j)| j.filter(|&j| j >= c).map(|j| (i, j)))
    {
        return Err(ReportError::invalid(
            format!("extras.similarity.correct[{i}]"),
            format!("column {j} >= {c}"),
        ));
    }
    Ok(())
}

/// Viridis colour map at `t` in [0, 1] (five control points, linear in between).
pub fn viridis(t: f64) -> RGBColor {
    const P: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * 4.0;
    let i = (x.floor() as usize).min(3);
    let f = x - i as f64;
    let (a, b) = (P[i], P[i + 1]);
    let mix = |u: f64, v: f64| (u + (v - u) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Pixel size for a matrix of `rows x cols`.
pub fn size(h: &Heatmap) -> (u32, u32) {
    let cell = (560 / h.col_labels.len().max(1)).clamp(8, 48) as u32;
    let w = 180 + cell * h.col_labels.len() as u32 + 130;
    let hh = 110 + cell * h.row_labels.len() as u32;
    (w.max(560), hh.max(320))
}

/// Draws the heatmap (call [`validate`] first).
pub fn draw_heatmap<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, h: &Heatmap) -> DrawResult {
    root.fill(&WHITE).ctx()?;
    let (rows, cols) = (h.row_labels.len(), h.col_labels.len());
    let finite = h.values.iter().flatten().copied().filter(|v| v.is_finite());
    let (vmin, vmax) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let (vmin, vmax) = if vmin.is_finite() && vmax > vmin {
        (vmin, vmax)
    } else {
        (vmin.min(0.0), vmin.max(0.0) + 1.0)
    };
    let norm = |v: f64| (v - vmin) / (vmax - vmin);
    let (main, bar) = root.split_horizontally(root.dim_in_pixel().0 - 120);
    let label_w = h
        .row_labels
        .iter()
        .map(|l| {
            main.estimate_text_size(&ellipsize(l, 16), &font(12.0))
                .map(|(w, _)| w)
                .unwrap_or(60)
        })
        .max()
        .unwrap_or(60);
    let row_axis = h.row_axis.clone().unwrap_or_else(|| "video".into());
    let col_axis = h.col_axis.clone().unwrap_or_else(|| "sentence".into());
    let mut c = ChartBuilder::on(&main)
        .caption(&h.title, bold(17.0))
        .margin(10)
        .x_label_area_size(44)
        .y_label_area_size(label_w + 14)
        .build_cartesian_2d(0.0..cols as f64, 0.0..rows as f64)
        .ctx()?;
    c.configure_mesh()
        .disable_mesh()
        .x_labels(0)
        .y_labels(0)
        .x_desc(format!(
            "{col_axis} (columns); rows: {row_axis}; red outline = ground truth"
        ))
        .axis_desc_style(font(12.0))
        .draw()
        .ctx()?;
    let yof = |r: usize| (rows - 1 - r) as f64;
    for (r, row) in h.values.iter().enumerate() {
        c.draw_series(row.iter().enumerate().map(|(j, &v)| {
            Rectangle::new(
                [(j as f64, yof(r)), (j as f64 + 1.0, yof(r) + 1.0)],
                viridis(norm(v)).filled(),
            )
        }))
        .ctx()?;
    }
    let base = root.get_base_pixel();
    let rel = |p: (i32, i32)| (p.0 - base.0, p.1 - base.1);
    let cell_px = {
        let (a, b) = (c.backend_coord(&(0.0, 0.0)), c.backend_coord(&(1.0, 1.0)));
        ((b.0 - a.0).abs(), (a.1 - b.1).abs())
    };
    if cell_px.0 >= 34 && cell_px.1 >= 18 {
        for (r, row) in h.values.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                let col = viridis(norm(v));
                let lum = 0.299 * col.0 as f64 + 0.587 * col.1 as f64 + 0.114 * col.2 as f64;
                let tc: &'static RGBColor = if lum > 140.0 { &BLACK } else { &WHITE };
                c.draw_series(std::iter::once(Text::new(
                    format!("{v:.2}"),
                    (j as f64 + 0.5, yof(r) + 0.5),
                    anchored(font(10.0).color(tc), HPos::Center, VPos::Center),
                )))
                .ctx()?;
            }
        }
    }
    for (r, j) in h.correct.iter().enumerate() {
        if let Some(j) = j {
            let (x, y) = (*j as f64, yof(r));
            c.draw_series(std::iter::once(Rectangle::new(
                [(x + 0.04, y + 0.04), (x + 0.96, y + 0.96)],
                RGBColor(230, 30, 30).stroke_width(2),
            )))
            .ctx()?;
        }
    }
    let row_step = (18 / cell_px.1.max(1) as usize).max(1);
    for (r, l) in h
        .row_labels
        .iter()
        .enumerate()
        .filter(|(r, _)| r % row_step == 0)
    {
        let (px, py) = rel(c.backend_coord(&(0.0, yof(r) + 0.5)));
        root.draw(&Text::new(
            ellipsize(l, 16),
            (px - 6, py),
            anchored(font(12.0), HPos::Right, VPos::Center),
        ))
        .ctx()?;
    }
    let max_w = h
        .col_labels
        .iter()
        .map(|l| {
            main.estimate_text_size(&ellipsize(l, 10), &font(11.0))
                .map(|(w, _)| w as i32)
                .unwrap_or(30)
        })
        .max()
        .unwrap_or(30);
    let col_step = ((max_w + 6) / cell_px.0.max(1) + 1).max(1) as usize;
    for (j, l) in h
        .col_labels
        .iter()
        .enumerate()
        .filter(|(j, _)| j % col_step == 0)
    {
        let (px, py) = rel(c.backend_coord(&(j as f64 + 0.5, 0.0)));
        root.draw(&Text::new(
            ellipsize(l, 10),
            (px, py + 5),
            anchored(font(11.0), HPos::Center, VPos::Top),
        ))
        .ctx()?;
    }
    // Colour bar.
    let mut cb = ChartBuilder::on(&bar)
        .margin_top(44)
        .margin_bottom(54)
        .margin_right(10)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..1.0, vmin..vmax)
        .ctx()?;
    cb.configure_mesh()
        .disable_mesh()
        .x_labels(0)
        .y_labels(6)
        .y_label_formatter(&|v| format!("{v:.2}"))
        .label_style(font(11.0))
        .draw()
        .ctx()?;
    let steps = 64;
    cb.draw_series((0..steps).map(|i| {
        let a = vmin + (vmax - vmin) * i as f64 / steps as f64;
        let b = vmin + (vmax - vmin) * (i + 1) as f64 / steps as f64;
        Rectangle::new(
            [(0.0, a), (1.0, b)],
            viridis(i as f64 / (steps - 1) as f64).filled(),
        )
    }))
    .ctx()?;
    let (bx, by) = rel(cb.plotting_area().get_base_pixel());
    root.draw(&Text::new(
        "score",
        (bx, by - 8),
        anchored(font(12.0), HPos::Left, VPos::Bottom),
    ))
    .ctx()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_endpoints_and_validation() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(f64::NAN), RGBColor(68, 1, 84));
        let mut h = crate::demo::demo_input(1, 10).extras.similarity.unwrap();
        assert!(validate(&h).is_ok());
        h.values[3].pop();
        let e = validate(&h).unwrap_err().to_string();
        assert!(e.contains("values[3]"), "{e}");
        let mut h2 = crate::demo::demo_input(1, 10).extras.similarity.unwrap();
        h2.correct[2] = Some(99);
        assert!(validate(&h2)
            .unwrap_err()
            .to_string()
            .contains("correct[2]"));
    }
}
