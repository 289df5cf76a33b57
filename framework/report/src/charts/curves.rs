//! Training curves of one cell: one small panel per loss component (`train.loss_*`) and per
//! dev R@1 (`dev.*r1`; dual-stream runs also `dev_pose.*r1`, `dev_rgb.*r1`), x = epoch, one
//! line per seed (several values logged in one epoch are averaged).

use super::{anchored, bold, colour, font, padded, Ctx, DrawResult};
use crate::input::CellInput;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use std::collections::{BTreeMap, BTreeSet};

/// Most panels drawn per cell.
pub const MAX_PANELS: usize = 12;

/// One seed's curve: `(epoch, value)` sorted by epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct CurveSeries {
    /// The run's seed.
    pub seed: u64,
    /// Per-epoch means.
    pub points: Vec<(i64, f64)>,
}

/// One panel: a history key and every seed's curve.
#[derive(Clone, Debug, PartialEq)]
pub struct CurvePanel {
    /// History key, e.g. `train.loss_tv`.
    pub key: String,
    /// One curve per seed that logged the key.
    pub series: Vec<CurveSeries>,
}

/// The curves figure of one cell.
#[derive(Clone, Debug, PartialEq)]
pub struct CurvesChart {
    /// Cell name.
    pub cell: String,
    /// Seeds in legend order.
    pub seeds: Vec<u64>,
    /// Panels in display order.
    pub panels: Vec<CurvePanel>,
}

impl CurvesChart {
    /// Grid `(rows, cols)` of the panels.
    pub fn grid(&self) -> (usize, usize) {
        let cols = self.panels.len().clamp(1, 3);
        (self.panels.len().div_ceil(cols).max(1), cols)
    }
    /// Pixel size.
    pub fn size(&self) -> (u32, u32) {
        let (r, c) = self.grid();
        (330 * c as u32 + 20, 250 * r as u32 + 50)
    }
}

fn panel_order(key: &str) -> (u8, String) {
    let rank = if key == "train.loss_total" || key == "train.loss" {
        0
    } else if key.starts_with("train.") {
        1
    } else if key.contains("loss") {
        2
    } else {
        3
    };
    (rank, key.to_string())
}

/// Builds the curves figure of `cell`: loss keys and dev R@1 keys (all keys when there are
/// neither); `None` without history.
pub fn curves_chart(cell: &CellInput) -> Option<CurvesChart> {
    let all: BTreeSet<&str> = cell
        .runs
        .iter()
        .flat_map(|r| r.history.iter().map(|h| h.0.as_str()))
        .collect();
    // `dev.*r1` and, for dual-stream runs, each stream's `dev_pose.*r1`, `dev_rgb.*r1`.
    let wanted = |k: &str| k.contains("loss") || (k.starts_with("dev") && k.ends_with("r1"));
    let mut keys: Vec<&str> = all.iter().copied().filter(|k| wanted(k)).collect();
    if keys.is_empty() {
        keys = all.into_iter().collect();
    }
    if keys.is_empty() {
        return None;
    }
    keys.sort_by_key(|k| panel_order(k));
    keys.truncate(MAX_PANELS);
    let panels = keys
        .iter()
        .map(|key| CurvePanel {
            key: key.to_string(),
            series: cell
                .runs
                .iter()
                .filter_map(|r| {
                    let mut acc: BTreeMap<i64, (f64, usize)> = BTreeMap::new();
                    for (k, e, v) in &r.history {
                        if k == key && v.is_finite() {
                            let a = acc.entry(*e).or_insert((0.0, 0));
                            a.0 += v;
                            a.1 += 1;
                        }
                    }
                    if acc.is_empty() {
                        None
                    } else {
                        Some(CurveSeries {
                            seed: r.seed,
                            points: acc
                                .into_iter()
                                .map(|(e, (s, n))| (e, s / n as f64))
                                .collect(),
                        })
                    }
                })
                .collect(),
        })
        .collect();
    let seeds = cell
        .runs
        .iter()
        .filter(|r| !r.history.is_empty())
        .map(|r| r.seed)
        .collect();
    Some(CurvesChart {
        cell: cell.name.clone(),
        seeds,
        panels,
    })
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &CurvePanel,
    seeds: &[u64],
) -> DrawResult {
    let pts = p.series.iter().flat_map(|s| s.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (i64::MAX, i64::MIN, f64::INFINITY, f64::NEG_INFINITY);
    for &(e, v) in pts {
        x0 = x0.min(e);
        x1 = x1.max(e);
        y0 = y0.min(v);
        y1 = y1.max(v);
    }
    if x0 > x1 {
        return Ok(());
    }
    let (xa, xb) = (x0 as f64, (x1 as f64).max(x0 as f64 + 1.0));
    let (y0, y1) = padded(y0, y1, 0.08);
    let span = y1 - y0;
    let decimals = if span >= 20.0 {
        0
    } else if span >= 2.0 {
        1
    } else if span >= 0.2 {
        2
    } else {
        3
    };
    let mut c = ChartBuilder::on(area)
        .caption(&p.key, font(14.0))
        .margin(6)
        .x_label_area_size(34)
        .y_label_area_size(50)
        .build_cartesian_2d(xa..xb, y0..y1)
        .ctx()?;
    c.configure_mesh()
        .x_desc("epoch")
        .x_labels(((xb - xa) as usize + 1).min(6))
        .y_labels(5)
        // Epochs are integers: label only integral ticks (plotters may place fractional ones).
        .x_label_formatter(&|v| {
            if (v - v.round()).abs() < 1e-6 {
                format!("{}", v.round() as i64)
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|v| format!("{:.*}", decimals, v))
        .label_style(font(11.0))
        .axis_desc_style(font(12.0))
        .light_line_style(RGBColor(240, 240, 240))
        .bold_line_style(RGBColor(222, 222, 222))
        .draw()
        .ctx()?;
    for s in &p.series {
        let col = colour(seeds.iter().position(|&x| x == s.seed).unwrap_or(0));
        let data: Vec<(f64, f64)> = s.points.iter().map(|&(e, v)| (e as f64, v)).collect();
        c.draw_series(LineSeries::new(data.clone(), col.stroke_width(2)))
            .ctx()?;
        if data.len() <= 30 {
            c.draw_series(
                data.iter()
                    .map(|&(x, y)| Circle::new((x, y), 2, col.filled())),
            )
            .ctx()?;
        }
    }
    Ok(())
}

/// Draws the curves figure at [`CurvesChart::size`].
pub fn draw_curves<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &CurvesChart,
) -> DrawResult {
    root.fill(&WHITE).ctx()?;
    let (head, body) = root.split_vertically(44);
    head.draw(&Text::new(
        format!("Training curves: {}", chart.cell),
        (12, 10),
        anchored(bold(17.0), HPos::Left, VPos::Top),
    ))
    .ctx()?;
    let (w, _) = head.dim_in_pixel();
    let mut x = w as i32 - 12;
    for (i, seed) in chart.seeds.iter().enumerate().rev() {
        let label = format!("seed {seed}");
        let tw = head
            .estimate_text_size(&label, &font(13.0))
            .map(|(w, _)| w as i32)
            .unwrap_or(60);
        x -= tw;
        head.draw(&Text::new(
            label,
            (x, 20),
            anchored(font(13.0), HPos::Left, VPos::Center),
        ))
        .ctx()?;
        x -= 26;
        head.draw(&PathElement::new(
            vec![(x, 20), (x + 20, 20)],
            colour(i).stroke_width(3),
        ))
        .ctx()?;
        x -= 14;
    }
    let (rows, cols) = chart.grid();
    for (area, p) in body.split_evenly((rows, cols)).iter().zip(&chart.panels) {
        draw_panel(area, p, &chart.seeds)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::RunInput;

    #[test]
    fn panels_average_within_epoch_and_order_keys() {
        let run = RunInput {
            seed: 7,
            history: vec![
                ("dev.t2v_r1".into(), 0, 10.0),
                ("train.loss_tv".into(), 0, 2.0),
                ("train.loss_tv".into(), 0, 4.0),
                ("train.loss_tv".into(), 1, 1.0),
                ("train.loss_total".into(), 0, 5.0),
                ("train.lr".into(), 0, 1e-4),
            ],
            ..Default::default()
        };
        let cell = CellInput {
            name: "c".into(),
            runs: vec![run],
            ..Default::default()
        };
        let ch = curves_chart(&cell).unwrap();
        let keys: Vec<&str> = ch.panels.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            vec!["train.loss_total", "train.loss_tv", "dev.t2v_r1"]
        );
        assert_eq!(ch.panels[1].series[0].points, vec![(0, 3.0), (1, 1.0)]);
        assert_eq!(ch.grid(), (1, 3));
        assert!(curves_chart(&CellInput::default()).is_none());
    }
}
