//! seds-report: the drawing and HTML half of seds-lab reports.
//!
//! The crate renders from plain, serde-serialisable input types ([`ReportInput`] and friends)
//! and never touches the run database: the CLI's glue loads runs and fills these structs.
//!
//! - [`input`]: what a report is made of (cells, runs, per-query ranks, extras).
//! - [`stats`]: mean/std over seeds, bootstrap intervals for R@K, paired bootstrap differences.
//! - [`table`]: pure computation of the results, uncertainty and config tables.
//! - [`charts`]: every figure (plotters, PNG + SVG with the embedded DejaVu Sans font).
//! - [`html`]: the self-contained `index.html` (inline CSS, no scripts, no external URLs).
//! - [`markdown`]: the same tables as Markdown (`tables.md`).
//! - [`report`]: [`write_report`] and [`write_comparison`], which tie the pieces together.
//! - [`demo`]: a synthetic signer skeleton and a realistic demo input (tests, docs, `--demo`).
//!
//! The layout of a report and the meaning of every chart are documented in `docs/reports.md`.

pub mod axes;
pub mod charts;
pub mod demo;
pub mod error;
pub mod fonts;
pub mod html;
pub mod input;
pub mod markdown;
pub mod report;
pub mod stats;
pub mod table;

pub use charts::skeleton::{draw_skeleton_strip, Frame49, N_JOINTS};
pub use error::ReportError;
pub use input::{
    AxisValue, CellInput, CgafLayerSampling, CgafSampling, Extras, Heatmap, ReportInput,
    RetrievalExample, RetrievedVideo, RunInput,
};
pub use report::{write_comparison, write_report, write_report_with, ReportFiles, ReportOptions};
pub use stats::{bootstrap_recall_ci, bootstrap_recall_ci_pooled, paired_bootstrap_diff};
