//! Every figure of a report, drawn with plotters into both PNG (embedded DejaVu Sans) and SVG.
//!
//! Each chart module has a *pure* part (turn [`crate::ReportInput`] into plot-ready data,
//! unit-tested) and a drawing part generic over the plotters backend, so one function draws
//! the PNG and the SVG. [`render_both!`] writes `<stem>.png` and `<stem>.svg`.
//!
//! Rotated text: plotters' bitmap text path is unreliable for rotated labels, so no chart
//! relies on rotation: y-axis names are drawn horizontally above the axis ([`y_title`]).

pub mod bars;
pub mod cgaf;
pub mod curves;
pub mod heatmap;
pub mod skeleton;
pub mod sweep;

use crate::fonts::FAMILY;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::Serialize;
use std::path::PathBuf;

/// Result of a drawing function: plotters' error flattened to a message.
pub(crate) type DrawResult = Result<(), String>;

/// Flattens any displayable error into a `String` (plotters' error types are backend-generic).
pub(crate) trait Ctx<T> {
    /// Maps the error to its message.
    fn ctx(self) -> Result<T, String>;
}

impl<T, E: std::fmt::Display> Ctx<T> for Result<T, E> {
    fn ctx(self) -> Result<T, String> {
        self.map_err(|e| e.to_string())
    }
}

/// One chart written to disk in both formats.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChartFiles {
    /// File stem (unique within the report directory).
    pub stem: String,
    /// Human-readable title (also the figure caption).
    pub title: String,
    /// The PNG file.
    pub png: PathBuf,
    /// The SVG file.
    pub svg: PathBuf,
}

/// Draws a chart twice (PNG then SVG) with a generic drawing function.
///
/// `render_both!(dir, stem, title, (w, h), draw_fn(arg1, arg2))` calls
/// `draw_fn(&root, arg1, arg2)` for each backend and yields `Result<ChartFiles, ReportError>`.
#[macro_export]
#[doc(hidden)]
macro_rules! render_both {
    ($dir:expr, $stem:expr, $title:expr, $size:expr, $f:ident ( $($arg:expr),* )) => {{
        (|| -> Result<$crate::charts::ChartFiles, $crate::ReportError> {
            use plotters::prelude::IntoDrawingArea;
            $crate::fonts::ensure_fonts()?;
            let stem: String = $stem.to_string();
            let png = $dir.join(format!("{stem}.png"));
            let svg = $dir.join(format!("{stem}.svg"));
            let err = |m: String| $crate::ReportError::Draw { chart: stem.clone(), message: m };
            {
                let root = plotters::prelude::BitMapBackend::new(&png, $size).into_drawing_area();
                $f(&root, $($arg),*).map_err(err)?;
                root.present().map_err(|e| err(e.to_string()))?;
            }
            {
                let root = plotters::prelude::SVGBackend::new(&svg, $size).into_drawing_area();
                $f(&root, $($arg),*).map_err(err)?;
                root.present().map_err(|e| err(e.to_string()))?;
            }
            Ok($crate::charts::ChartFiles { stem: stem.clone(), title: $title.to_string(), png, svg })
        })()
    }};
}

/// Tableau-10: distinct, colour-blind-friendlier categorical colours.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The `i`-th categorical colour (cycling).
pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Colour of T2V series everywhere.
pub const T2V_COLOUR: RGBColor = RGBColor(31, 119, 180);
/// Colour of V2T series everywhere.
pub const V2T_COLOUR: RGBColor = RGBColor(255, 127, 14);
/// Light grey for missing data and guides.
pub const GREY: RGBColor = RGBColor(150, 150, 150);

/// Regular text of `size` pixels in the embedded font.
pub(crate) fn font(size: f64) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&BLACK)
}

/// Bold text of `size` pixels in the embedded font.
pub(crate) fn bold(size: f64) -> TextStyle<'static> {
    (FAMILY, size, FontStyle::Bold).into_font().color(&BLACK)
}

/// Anchored text style helper.
pub(crate) fn anchored(style: TextStyle<'static>, h: HPos, v: VPos) -> TextStyle<'static> {
    style.pos(Pos::new(h, v))
}

/// Draws a horizontal y-axis name just above the top-left corner of a chart's plotting
/// area (works the same in PNG and SVG, unlike rotated axis descriptions).
pub(crate) fn y_title<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot_top_left: (i32, i32),
    text: &str,
) -> DrawResult {
    let base = area.get_base_pixel();
    let (x, y) = (plot_top_left.0 - base.0, plot_top_left.1 - base.1);
    area.draw(&Text::new(
        text.to_string(),
        (x - 4, y - 6),
        anchored(font(13.0), HPos::Left, VPos::Bottom),
    ))
    .ctx()
}

/// Shortens `s` to at most `max` characters (with an ellipsis).
pub(crate) fn ellipsize(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// A file-name-safe slug of `s` (lowercase ASCII letters, digits, `-`, `_`).
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if matches!(c, '-' | '_') {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let t = out.trim_matches('_').to_string();
    if t.is_empty() {
        "x".to_string()
    } else {
        t.chars().take(60).collect()
    }
}

/// Nice padded range around `[lo, hi]` (never empty).
pub(crate) fn padded(lo: f64, hi: f64, frac: f64) -> (f64, f64) {
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    let span = (hi - lo).abs();
    let pad = if span > 0.0 {
        span * frac
    } else {
        lo.abs().max(1.0) * 0.1
    };
    (lo - pad, hi + pad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_and_nonempty() {
        assert_eq!(slug("fusion=cgaf, beta 0.4"), "fusion_cgaf_beta_0_4");
        assert_eq!(slug("///"), "x");
        assert_eq!(slug("A-b_C"), "a-b_c");
    }

    #[test]
    fn ellipsize_counts_chars() {
        assert_eq!(ellipsize("abcdef", 4), "abc…");
        assert_eq!(ellipsize("abc", 4), "abc");
    }
}
