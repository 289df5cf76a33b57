//! Report input: plain, serde-serialisable data the CLI glue fills from the run database.
//!
//! Metric naming: final metrics are keyed `split.name` (e.g. `test.t2v_r1`, `test.v2t_medr`),
//! history entries are `(split.name, epoch, value)` (e.g. `("train.loss_tv", 3, 1.72)`,
//! `("dev.t2v_r1", 3, 41.2)`). Per-query ranks are 1-based, one per test query, in a fixed
//! query order that is the same for every run of the experiment (needed for paired tests).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Everything one report is drawn from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportInput {
    /// Experiment name (report title).
    pub experiment: String,
    /// Free-text description shown under the title.
    #[serde(default)]
    pub description: Option<String>,
    /// Name of the reference cell for paired comparisons; `None` = the first cell with ranks.
    #[serde(default)]
    pub reference: Option<String>,
    /// The cells (grid points), in display order.
    pub cells: Vec<CellInput>,
    /// Dotted config keys that are sweep axes (display order of sweep/ablation charts).
    #[serde(default)]
    pub swept: Vec<String>,
    /// Optional figures that need model outputs rather than metrics.
    #[serde(default)]
    pub extras: Extras,
}

/// One grid cell: a configuration, run once per seed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CellInput {
    /// Display name (unique within the experiment).
    pub name: String,
    /// Resolved config values (dotted key -> value as text); the report shows only keys whose
    /// values differ between cells, so passing all of them is fine.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// This cell's value on each sweep axis (dotted key -> value).
    #[serde(default)]
    pub axes: BTreeMap<String, AxisValue>,
    /// One run per seed; empty means the cell has not run yet (shown as missing).
    #[serde(default)]
    pub runs: Vec<RunInput>,
}

/// A value on a sweep axis: numeric axes give line plots, the others bar charts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AxisValue {
    /// A switch (on/off).
    Bool(bool),
    /// A number (alpha, beta, tau, ...).
    Number(f64),
    /// A category (fusion type, streams, ...).
    Text(String),
}

impl AxisValue {
    /// The numeric value, if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            AxisValue::Number(x) => Some(*x),
            _ => None,
        }
    }
}

impl fmt::Display for AxisValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AxisValue::Bool(b) => write!(f, "{}", if *b { "on" } else { "off" }),
            AxisValue::Number(x) => write!(f, "{x}"),
            AxisValue::Text(s) => f.write_str(s),
        }
    }
}

/// One training run (one seed of one cell).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunInput {
    /// Run id in the database.
    pub run_id: i64,
    /// The run's seed.
    pub seed: u64,
    /// Run state as stored (e.g. `COMPLETED`, `RUNNING`, `FAILED`).
    pub status: String,
    /// Final metrics keyed `split.name` (`test.t2v_r1`, `test.v2t_medr`, ...).
    #[serde(default)]
    pub final_metrics: BTreeMap<String, f64>,
    /// Per-epoch (or per-step) history: `(split.name, epoch, value)`; several values for one
    /// epoch are averaged.
    #[serde(default)]
    pub history: Vec<(String, i64, f64)>,
    /// 1-based T2V rank of every test query (empty if not recorded).
    #[serde(default)]
    pub t2v_ranks: Vec<usize>,
    /// 1-based V2T rank of every test query (empty if not recorded).
    #[serde(default)]
    pub v2t_ranks: Vec<usize>,
    /// Git commit the run was built from.
    #[serde(default)]
    pub git_commit: Option<String>,
    /// Whether the working tree had uncommitted changes.
    #[serde(default)]
    pub git_dirty: bool,
    /// Host the run ran on.
    #[serde(default)]
    pub host: Option<String>,
    /// Wall-clock duration in seconds.
    #[serde(default)]
    pub duration_s: Option<f64>,
    /// Path of the run's log file (linked when it exists).
    #[serde(default)]
    pub log_path: Option<String>,
}

/// Figures that need model outputs (scores, offsets, poses) rather than metrics.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Extras {
    /// A similarity matrix on a test subset.
    #[serde(default)]
    pub similarity: Option<Heatmap>,
    /// Where CGAF's deformable attention samples, for one video.
    #[serde(default)]
    pub cgaf: Option<CgafSampling>,
    /// Text queries with their top retrieved videos.
    #[serde(default)]
    pub examples: Vec<RetrievalExample>,
}

/// A matrix of scores, rows = videos, columns = sentences (or anything else).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Heatmap {
    /// Chart title.
    pub title: String,
    /// One label per row.
    pub row_labels: Vec<String>,
    /// One label per column.
    pub col_labels: Vec<String>,
    /// Row-major values, `values[row][col]`.
    pub values: Vec<Vec<f64>>,
    /// For each row, the column of its ground truth (outlined); may be empty.
    #[serde(default)]
    pub correct: Vec<Option<usize>>,
    /// Axis name of the rows (default "video").
    #[serde(default)]
    pub row_axis: Option<String>,
    /// Axis name of the columns (default "sentence").
    #[serde(default)]
    pub col_axis: Option<String>,
}

/// CGAF sampling positions for one video: for each layer and direction, per query clip `t`
/// and sample `k`, the sampled position `u` (clip units, after wrapping).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CgafSampling {
    /// Video id.
    pub video: String,
    /// Number of clips (the same for pose and RGB).
    pub n_clips: usize,
    /// One entry per CGAF layer, in order.
    pub layers: Vec<CgafLayerSampling>,
}

/// Sampling positions of one CGAF layer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CgafLayerSampling {
    /// Layer number as displayed (1-based).
    pub layer: usize,
    /// `pose_to_rgb[t][k]`: where pose clip `t`'s sample `k` lands among the RGB clips.
    pub pose_to_rgb: Vec<Vec<f64>>,
    /// `rgb_to_pose[t][k]`: where RGB clip `t`'s sample `k` lands among the pose clips.
    pub rgb_to_pose: Vec<Vec<f64>>,
}

/// One text query and its top retrieved videos.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetrievalExample {
    /// The query sentence.
    pub query: String,
    /// Rank of the correct video when it is not among `top` (shown as text).
    #[serde(default)]
    pub correct_rank: Option<usize>,
    /// The top-ranked videos, best first (normally 5).
    pub top: Vec<RetrievedVideo>,
}

/// One retrieved video with a few keyframes of its skeleton.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetrievedVideo {
    /// Video id.
    pub video: String,
    /// Its retrieval score.
    pub score: f64,
    /// Whether it is a correct match for the query.
    pub correct: bool,
    /// The video's caption, if known (shown in the HTML).
    #[serde(default)]
    pub caption: Option<String>,
    /// Keyframes, each 49 joints of `[x, y, confidence]` (pixel-like coordinates, y down).
    pub keyframes: Vec<Vec<[f32; 3]>>,
    /// Frame index of each keyframe (panel titles); defaults to 0, 1, 2, ...
    #[serde(default)]
    pub frame_indices: Vec<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_axis_types() {
        let input = crate::demo::demo_input(9, 20);
        let json = serde_json::to_string(&input).unwrap();
        let back: ReportInput = serde_json::from_str(&json).unwrap();
        // serde_json's default float parsing may differ in the last bit: compare structure
        // and the re-serialised text of a second round trip instead of exact floats.
        assert_eq!(back.cells.len(), input.cells.len());
        assert_eq!(back.cells[3].axes, input.cells[3].axes);
        assert_eq!(
            back.cells[3].runs[0].t2v_ranks,
            input.cells[3].runs[0].t2v_ranks
        );
        let json2 = serde_json::to_string(&back).unwrap();
        let back2: ReportInput = serde_json::from_str(&json2).unwrap();
        assert!(
            serde_json::to_string(&back2).unwrap() == json2,
            "round trip not stable"
        );
        let v: AxisValue = serde_json::from_str("0.4").unwrap();
        assert_eq!(v, AxisValue::Number(0.4));
        let v: AxisValue = serde_json::from_str("true").unwrap();
        assert_eq!(v, AxisValue::Bool(true));
        let v: AxisValue = serde_json::from_str("\"cgaf\"").unwrap();
        assert_eq!(v.to_string(), "cgaf");
        // Minimal input: only the required fields.
        let min: ReportInput =
            serde_json::from_str(r#"{"experiment":"e","cells":[{"name":"c"}]}"#).unwrap();
        assert_eq!(min.cells[0].runs.len(), 0);
    }
}
