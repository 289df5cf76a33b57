//! Horizontal grouped bar charts of test R@1 (T2V and V2T, mean ± std over seeds): one bar
//! pair per variant of a categorical axis (ablations: fusion type, streams, switches), or per
//! cell for the overview chart. Missing cells are listed with the word "missing".

use super::{anchored, bold, ellipsize, font, Ctx, DrawResult, GREY, T2V_COLOUR, V2T_COLOUR};
use crate::axes::{self, short_key};
use crate::input::ReportInput;
use crate::stats::MeanStd;
use crate::table::{cell_metric, T2V_R1, V2T_R1};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// One category: its label and the two directions' R@1.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    /// Category label.
    pub label: String,
    /// T2V R@1 over seeds (None = missing).
    pub t2v: Option<MeanStd>,
    /// V2T R@1 over seeds (None = missing).
    pub v2t: Option<MeanStd>,
}

/// A bar chart, ready to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct BarChart {
    /// Title.
    pub title: String,
    /// Categories, top to bottom.
    pub bars: Vec<Bar>,
}

impl BarChart {
    /// Pixel size that fits the categories.
    pub fn size(&self) -> (u32, u32) {
        (900, 110 + 50 * self.bars.len() as u32)
    }
}

/// Ablation chart of categorical axis `axis` (other axes held fixed); `None` when no
/// variant has data.
pub fn ablation_chart(input: &ReportInput, axis: &str) -> Option<BarChart> {
    let groups = axes::group_by_axis(input, axis);
    let several = groups.len() > 1;
    let mut bars = Vec::new();
    for g in &groups {
        for (v, ci) in &g.members {
            let cell = &input.cells[*ci];
            let label = if several && !g.rest.is_empty() {
                format!("{}={v} | {}", short_key(axis), g.rest)
            } else {
                format!("{}={v}", short_key(axis))
            };
            bars.push(Bar {
                label,
                t2v: cell_metric(cell, T2V_R1),
                v2t: cell_metric(cell, V2T_R1),
            });
        }
    }
    if bars.iter().all(|b| b.t2v.is_none() && b.v2t.is_none()) {
        return None;
    }
    let fixed = if !several && groups.len() == 1 && !groups[0].rest.is_empty() {
        format!(" ({})", groups[0].rest)
    } else {
        String::new()
    };
    Some(BarChart {
        title: format!("Ablation: {}{fixed}", short_key(axis)),
        bars,
    })
}

/// Overview chart: every cell's R@1; `None` when no cell has data.
pub fn overview_chart(input: &ReportInput) -> Option<BarChart> {
    let bars: Vec<Bar> = input
        .cells
        .iter()
        .map(|c| Bar {
            label: c.name.clone(),
            t2v: cell_metric(c, T2V_R1),
            v2t: cell_metric(c, V2T_R1),
        })
        .collect();
    if bars.iter().all(|b| b.t2v.is_none() && b.v2t.is_none()) {
        return None;
    }
    Some(BarChart {
        title: "Test R@1 per cell".to_string(),
        bars,
    })
}

/// Draws a horizontal grouped bar chart at [`BarChart::size`].
pub fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &BarChart,
) -> DrawResult {
    root.fill(&WHITE).ctx()?;
    let n = chart.bars.len().max(1) as f64;
    let labels: Vec<String> = chart.bars.iter().map(|b| ellipsize(&b.label, 48)).collect();
    let label_w = labels
        .iter()
        .map(|l| {
            root.estimate_text_size(l, &font(13.0))
                .map(|(w, _)| w)
                .unwrap_or(100)
        })
        .max()
        .unwrap_or(100)
        .clamp(60, 420);
    let top = chart
        .bars
        .iter()
        .flat_map(|b| [b.t2v, b.v2t])
        .flatten()
        .map(|m| m.mean + m.std)
        .fold(1.0f64, f64::max);
    let x1 = top * 1.18;
    let mut c = ChartBuilder::on(root)
        .caption(&chart.title, bold(18.0))
        .margin(12)
        .margin_top(10)
        .x_label_area_size(44)
        .y_label_area_size(label_w + 16)
        .build_cartesian_2d(0.0..x1, 0.0..n)
        .ctx()?;
    c.configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_desc("Test R@1 (%), mean ± std over seeds")
        .label_style(font(13.0))
        .axis_desc_style(font(14.0))
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(220, 220, 220))
        .draw()
        .ctx()?;
    let base = root.get_base_pixel();
    let rel = |p: (i32, i32)| (p.0 - base.0, p.1 - base.1);
    for (i, (bar, label)) in chart.bars.iter().zip(&labels).enumerate() {
        let yc = n - i as f64 - 0.5;
        let (px, py) = rel(c.backend_coord(&(0.0, yc)));
        root.draw(&Text::new(
            label.clone(),
            (px - 8, py),
            anchored(font(13.0), HPos::Right, VPos::Center),
        ))
        .ctx()?;
        if bar.t2v.is_none() && bar.v2t.is_none() {
            c.draw_series(std::iter::once(
                EmptyElement::at((0.0, yc))
                    + Text::new(
                        "missing",
                        (6, 0),
                        anchored(font(13.0).color(&GREY), HPos::Left, VPos::Center),
                    ),
            ))
            .ctx()?;
            continue;
        }
        for (m, lo, hi, col) in [
            (bar.t2v, 0.03, 0.38, T2V_COLOUR),
            (bar.v2t, -0.38, -0.03, V2T_COLOUR),
        ] {
            let (ya, yb) = (yc + lo, yc + hi);
            let ym = (ya + yb) / 2.0;
            let Some(m) = m else {
                c.draw_series(std::iter::once(
                    EmptyElement::at((0.0, ym))
                        + Text::new(
                            "n/a",
                            (6, 0),
                            anchored(font(11.0).color(&GREY), HPos::Left, VPos::Center),
                        ),
                ))
                .ctx()?;
                continue;
            };
            c.draw_series(std::iter::once(Rectangle::new(
                [(0.0, ya), (m.mean, yb)],
                col.mix(0.85).filled(),
            )))
            .ctx()?;
            if m.std > 0.0 {
                let (l, h) = ((m.mean - m.std).max(0.0), m.mean + m.std);
                let q = (yb - ya) * 0.3;
                for seg in [
                    vec![(l, ym), (h, ym)],
                    vec![(l, ym - q), (l, ym + q)],
                    vec![(h, ym - q), (h, ym + q)],
                ] {
                    c.draw_series(std::iter::once(PathElement::new(
                        seg,
                        BLACK.stroke_width(1),
                    )))
                    .ctx()?;
                }
            }
            let txt = if m.n > 1 {
                format!("{:.1} ± {:.1}", m.mean, m.std)
            } else {
                format!("{:.1} (1 seed)", m.mean)
            };
            c.draw_series(std::iter::once(
                EmptyElement::at((m.mean + m.std, ym))
                    + Text::new(txt, (5, 0), anchored(font(11.0), HPos::Left, VPos::Center)),
            ))
            .ctx()?;
        }
    }
    // Legend, top right, outside the data.
    let (w, _) = root.dim_in_pixel();
    let w = w as i32;
    for (k, (name, col)) in [("T2V", T2V_COLOUR), ("V2T", V2T_COLOUR)]
        .iter()
        .enumerate()
    {
        let x = w - 130 + 62 * k as i32;
        root.draw(&Rectangle::new(
            [(x, 12), (x + 14, 26)],
            col.mix(0.85).filled(),
        ))
        .ctx()?;
        root.draw(&Text::new(
            name.to_string(),
            (x + 18, 19),
            anchored(font(13.0), HPos::Left, VPos::Center),
        ))
        .ctx()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fusion_ablation_has_missing_variant() {
        let input = crate::demo::demo_input(5, 60);
        let ch = ablation_chart(&input, "model.fusion").unwrap();
        let labels: Vec<&str> = ch.bars.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(
            labels,
            vec!["fusion=cgaf", "fusion=mlp", "fusion=sum", "fusion=none"]
        );
        assert!(ch.bars[3].t2v.is_none());
        assert_eq!(ch.bars[2].t2v.unwrap().n, 1); // one of three seeds finished
        assert!(ch.title.contains("alpha=0.8"));
        let ov = overview_chart(&input).unwrap();
        assert_eq!(ov.bars.len(), input.cells.len());
    }
}
