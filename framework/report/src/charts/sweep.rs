//! Sweep plots in the style of the paper's Figure 5: T2V and V2T R@1 (test, mean over seeds)
//! against one numeric swept parameter, one line per direction (and per group of the other
//! axes when several are swept together), error bars = std over seeds.

use super::{bold, colour, font, padded, y_title, Ctx, DrawResult, T2V_COLOUR, V2T_COLOUR};
use crate::axes::{self, short_key};
use crate::input::ReportInput;
use crate::table::{cell_metric, T2V_R1, V2T_R1};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One point: parameter value, mean and std over seeds, number of seeds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SweepPoint {
    /// Parameter value.
    pub x: f64,
    /// Mean R@1 over seeds (percent).
    pub mean: f64,
    /// Std over seeds.
    pub std: f64,
    /// Seeds that have the metric.
    pub n: usize,
}

/// One line of a sweep plot.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepLine {
    /// Legend label.
    pub label: String,
    /// T2V (true) or V2T (false).
    pub t2v: bool,
    /// Index of the group of other-axis values (colour when there are several groups).
    pub group: usize,
    /// Points sorted by x.
    pub points: Vec<SweepPoint>,
}

/// A sweep plot, ready to draw.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepChart {
    /// Swept key (dotted).
    pub axis: String,
    /// Title.
    pub title: String,
    /// Plot x on a log scale (all values positive, spanning >= 2 decades).
    pub log_x: bool,
    /// Lines (T2V and V2T per group).
    pub lines: Vec<SweepLine>,
}

/// Builds the sweep plot of numeric axis `axis`; `None` if no group has two or more points
/// with data.
pub fn sweep_chart(input: &ReportInput, axis: &str) -> Option<SweepChart> {
    let groups = axes::group_by_axis(input, axis);
    let n_groups = groups.len();
    let mut lines = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        for (t2v, key) in [(true, T2V_R1), (false, V2T_R1)] {
            let mut points: Vec<SweepPoint> = g
                .members
                .iter()
                .filter_map(|(v, ci)| {
                    let x = v.as_f64()?;
                    let m = cell_metric(&input.cells[*ci], key)?;
                    Some(SweepPoint {
                        x,
                        mean: m.mean,
                        std: m.std,
                        n: m.n,
                    })
                })
                .collect();
            points.sort_by(|a, b| a.x.total_cmp(&b.x));
            if points.len() < 2 {
                continue;
            }
            let dir = if t2v { "T2V R@1" } else { "V2T R@1" };
            let label = if n_groups > 1 && !g.rest.is_empty() {
                format!("{dir} ({})", g.rest)
            } else {
                dir.to_string()
            };
            lines.push(SweepLine {
                label,
                t2v,
                group: gi,
                points,
            });
        }
    }
    if lines.is_empty() {
        return None;
    }
    let xs: Vec<f64> = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.x))
        .collect();
    let (lo, hi) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let log_x = lo > 0.0 && hi / lo >= 100.0;
    let fixed = if n_groups == 1 && !groups[0].rest.is_empty() {
        format!(" ({})", groups[0].rest)
    } else {
        String::new()
    };
    Some(SweepChart {
        axis: axis.to_string(),
        title: format!("Test R@1 vs {}{fixed}", short_key(axis)),
        log_x,
        lines,
    })
}

/// Draws a sweep plot (about 860 x 480 px).
pub fn draw_sweep<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &SweepChart,
) -> DrawResult {
    root.fill(&WHITE).ctx()?;
    let tx = |x: f64| if chart.log_x { x.log10() } else { x };
    let pts = chart.lines.iter().flat_map(|l| l.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for p in pts {
        x0 = x0.min(tx(p.x));
        x1 = x1.max(tx(p.x));
        y0 = y0.min(p.mean - p.std);
        y1 = y1.max(p.mean + p.std);
    }
    let (x0, x1) = padded(x0, x1, 0.06);
    let span = (y1 - y0).max(1.0);
    // Extra room at the bottom for the legend.
    let lines_n = chart.lines.len() as f64;
    let (y0, y1) = (
        (y0 - span * (0.15 + 0.08 * lines_n)).max(0.0),
        (y1 + span * 0.1).min(100.0),
    );
    let area = root.titled(&chart.title, bold(18.0)).ctx()?;
    let mut c = ChartBuilder::on(&area)
        .margin(12)
        .margin_top(24)
        .x_label_area_size(46)
        .y_label_area_size(56)
        .build_cartesian_2d(x0..x1, y0..y1)
        .ctx()?;
    let log_x = chart.log_x;
    let xfmt = move |v: &f64| {
        if log_x {
            format!("{}", (10f64.powf(*v) * 1e6).round() / 1e6)
        } else {
            format!("{}", (v * 1e6).round() / 1e6)
        }
    };
    let x_desc = format!("{}{}", chart.axis, if log_x { " (log scale)" } else { "" });
    c.configure_mesh()
        .x_desc(x_desc)
        .x_label_formatter(&xfmt)
        .label_style(font(13.0))
        .axis_desc_style(font(14.0))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .draw()
        .ctx()?;
    let several = chart.lines.iter().any(|l| l.group > 0);
    let cap = (x1 - x0) * 0.008;
    for line in &chart.lines {
        let col = if several {
            colour(line.group)
        } else if line.t2v {
            T2V_COLOUR
        } else {
            V2T_COLOUR
        };
        let style = col.stroke_width(2);
        let data: Vec<(f64, f64)> = line.points.iter().map(|p| (tx(p.x), p.mean)).collect();
        let anno = if line.t2v {
            c.draw_series(LineSeries::new(data.clone(), style)).ctx()?
        } else {
            c.draw_series(DashedLineSeries::new(data.clone(), 9, 5, style))
                .ctx()?
        };
        let t2v = line.t2v;
        anno.label(line.label.clone()).legend(move |(x, y)| {
            EmptyElement::at((x, y))
                + PathElement::new(vec![(0, 0), (20, 0)], col.stroke_width(2))
                + if t2v {
                    Circle::new((10, 0), 4, col.filled()).into_dyn()
                } else {
                    TriangleMarker::new((10, 0), 5, col.filled()).into_dyn()
                }
        });
        for p in &line.points {
            if p.std > 0.0 {
                let x = tx(p.x);
                let (lo, hi) = (p.mean - p.std, p.mean + p.std);
                c.draw_series(std::iter::once(PathElement::new(
                    vec![(x, lo), (x, hi)],
                    col.stroke_width(1),
                )))
                .ctx()?;
                for yy in [lo, hi] {
                    c.draw_series(std::iter::once(PathElement::new(
                        vec![(x - cap, yy), (x + cap, yy)],
                        col.stroke_width(1),
                    )))
                    .ctx()?;
                }
            }
        }
        if line.t2v {
            c.draw_series(
                data.iter()
                    .map(|&(x, y)| Circle::new((x, y), 4, col.filled())),
            )
            .ctx()?;
        } else {
            c.draw_series(
                data.iter()
                    .map(|&(x, y)| TriangleMarker::new((x, y), 5, col.filled())),
            )
            .ctx()?;
        }
    }
    c.configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font(font(13.0))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(180, 180, 180))
        .draw()
        .ctx()?;
    let top_left = c.plotting_area().get_base_pixel();
    y_title(root, top_left, "Test R@1 (%), mean ± std over seeds")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_sweep_points_are_cell_means() {
        let input = crate::demo::demo_input(3, 80);
        let ch = sweep_chart(&input, "loss.alpha").unwrap();
        assert_eq!(ch.lines.len(), 2);
        assert!(!ch.log_x);
        let t2v = &ch.lines[0];
        assert!(t2v.t2v);
        assert_eq!(
            t2v.points.iter().map(|p| p.x).collect::<Vec<_>>(),
            vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
        );
        let cell = input.cells.iter().find(|c| c.name == "alpha=0.4").unwrap();
        let vals: Vec<f64> = cell
            .runs
            .iter()
            .map(|r| r.final_metrics["test.t2v_r1"])
            .collect();
        let mean = vals.iter().sum::<f64>() / 3.0;
        assert!((t2v.points[2].mean - mean).abs() < 1e-9);
        assert_eq!(t2v.points[2].n, 3);
        assert!(sweep_chart(&input, "model.fusion").is_none());
    }
}
