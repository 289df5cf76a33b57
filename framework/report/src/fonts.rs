//! The embedded DejaVu Sans font (Bitstream Vera licence, see `assets/DejaVu-LICENSE.txt`)
//! and its one-time registration with plotters' ab_glyph text renderer.

use crate::ReportError;
use plotters::style::{register_font, FontStyle};
use std::sync::OnceLock;

/// DejaVu Sans (regular), from Debian's fonts-dejavu-core.
pub static DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
/// DejaVu Sans Bold, from Debian's fonts-dejavu-core.
pub static DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../assets/DejaVuSans-Bold.ttf");

/// The family name every chart uses; registered to the embedded font.
pub const FAMILY: &str = "sans-serif";

static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();

/// Registers the embedded font under [`FAMILY`] (idempotent, thread-safe). Must run before
/// any chart is drawn; every public drawing function of this crate calls it.
pub fn ensure_fonts() -> Result<(), ReportError> {
    REGISTERED
        .get_or_init(|| {
            register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS)
                .map_err(|_| "DejaVuSans.ttf is not a valid font".to_string())?;
            register_font(FAMILY, FontStyle::Bold, DEJAVU_SANS_BOLD)
                .map_err(|_| "DejaVuSans-Bold.ttf is not a valid font".to_string())?;
            Ok(())
        })
        .clone()
        .map_err(ReportError::Font)
}
