//! The report's optional figures, built from the exports in a run directory (see
//! docs/run-files.md): the similarity heatmap (scores_test.npy + rows.tsv/cols.tsv), the CGAF
//! sampling picture (cgaf_trace.json) and retrieval examples with skeleton keyframes (the
//! dataset's raw frames). Each is skipped when its files are missing; a report never fails
//! because of them.

use seds_report::{
    CgafLayerSampling, CgafSampling, Extras, Heatmap, RetrievalExample, RetrievedVideo,
};
use seds_store::{RunStatus, RunSummary, Store};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Test sentences shown in the similarity heatmap.
const HEATMAP_SIZE: usize = 16;
/// Text queries shown as retrieval examples.
const EXAMPLES: usize = 3;
/// Videos shown per example.
const TOP_K: usize = 5;
/// Skeleton keyframes per retrieved video.
const KEYFRAMES: usize = 4;

/// Extras from the reference cell's first completed run (else the first completed run).
pub async fn extras(_store: &Store, runs: &[RunSummary], reference: Option<&str>) -> Extras {
    let completed: Vec<&RunSummary> = runs
        .iter()
        .filter(|r| r.run.status == RunStatus::Completed)
        .collect();
    let chosen = reference
        .and_then(|r| {
            completed
                .iter()
                .find(|s| s.run.cell == r || s.run.cell.starts_with(&format!("{r}/")))
        })
        .or_else(|| completed.first());
    let Some(run) = chosen else {
        return Extras::default();
    };
    let Some(dir) = run.run.run_dir.as_ref().map(PathBuf::from) else {
        return Extras::default();
    };
    let scores = Scores::read(&dir);
    let cfg: Option<seds_config::RunConfig> = serde_json::from_str(&run.run.config_json).ok();
    Extras {
        similarity: scores.as_ref().map(|s| heatmap(s, &run.run.cell)),
        cgaf: cgaf(&dir),
        examples: match (scores.as_ref(), cfg.as_ref()) {
            (Some(s), Some(c)) => examples(s, &c.data),
            _ => Vec::new(),
        },
    }
}

/// The exported test score matrix with its row and column names.
struct Scores {
    /// `[videos][sentences]`.
    values: Vec<f32>,
    /// (video id, sentence id) per row.
    rows: Vec<(String, String)>,
    /// (sentence id, text) per column.
    cols: Vec<(String, String)>,
}

impl Scores {
    fn read(dir: &Path) -> Option<Scores> {
        let arr = seds_formats::read_npy(dir.join("scores_test.npy")).ok()?;
        let tsv = |name: &str| -> Option<Vec<(String, String)>> {
            let text = std::fs::read_to_string(dir.join(name)).ok()?;
            Some(
                text.lines()
                    .skip(1)
                    .filter_map(|l| {
                        l.split_once('\t')
                            .map(|(a, b)| (a.to_string(), b.to_string()))
                    })
                    .collect(),
            )
        };
        let rows = tsv("rows.tsv")?;
        let cols = tsv("cols.tsv")?;
        (arr.shape == [rows.len(), cols.len()]).then_some(Scores {
            values: arr.data,
            rows,
            cols,
        })
    }

    fn get(&self, row: usize, col: usize) -> f32 {
        self.values[row * self.cols.len() + col]
    }

    fn col_of(&self, sentence: &str) -> Option<usize> {
        self.cols.iter().position(|(s, _)| s == sentence)
    }
}

fn heatmap(s: &Scores, cell: &str) -> Heatmap {
    // The first HEATMAP_SIZE sentences and, for each, its first video.
    let mut rows = Vec::new();
    let mut cols = Vec::new();
    for (ri, (_, sentence)) in s.rows.iter().enumerate() {
        if rows.len() == HEATMAP_SIZE {
            break;
        }
        if let Some(c) = s.col_of(sentence) {
            if !cols.contains(&c) {
                rows.push(ri);
                cols.push(c);
            }
        }
    }
    Heatmap {
        title: format!(
            "Test similarity, {} videos x their sentences ({cell})",
            rows.len()
        ),
        row_labels: rows.iter().map(|&r| s.rows[r].0.clone()).collect(),
        // Sentence ids are long ("synth-test-00003"): label columns by their last segment.
        col_labels: cols
            .iter()
            .map(|&c| {
                s.cols[c]
                    .0
                    .rsplit(['-', '_'])
                    .next()
                    .unwrap_or(&s.cols[c].0)
                    .to_string()
            })
            .collect(),
        values: rows
            .iter()
            .map(|&r| cols.iter().map(|&c| s.get(r, c) as f64).collect())
            .collect(),
        correct: (0..rows.len()).map(Some).collect(),
        row_axis: Some("video".into()),
        col_axis: Some("sentence".into()),
    }
}

fn cgaf(dir: &Path) -> Option<CgafSampling> {
    let text = std::fs::read_to_string(dir.join("cgaf_trace.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let video = v["video_id"].as_str().unwrap_or("?").to_string();
    // (layer, branch) -> query -> sample -> position, for attention head 0 (averaging heads
    // would blur wrapped positions at the video's ends).
    type Samples = BTreeMap<usize, BTreeMap<usize, Vec<f64>>>;
    let mut by: BTreeMap<(usize, String), Samples> = BTreeMap::new();
    let mut max_pos: f64 = 0.0;
    for s in v["samples"].as_array()? {
        let layer = s["layer"].as_u64()? as usize;
        let branch = s["branch"].as_str()?.to_string();
        let query = s["query"].as_u64()? as usize;
        let sample = s["sample"].as_u64()? as usize;
        let pos = s["position"].as_f64()?;
        max_pos = max_pos.max(pos);
        if s["head"].as_u64() != Some(0) {
            continue;
        }
        by.entry((layer, branch))
            .or_default()
            .entry(query)
            .or_default()
            .entry(sample)
            .or_default()
            .push(pos);
    }
    // Positions are wrapped into the video's valid length, so it bounds the real clips; the
    // trace may also hold padding queries of the batch, which are dropped.
    let n_clips = max_pos.floor() as usize + 1;
    let grid = |m: Option<&Samples>| -> Vec<Vec<f64>> {
        (0..n_clips)
            .map(|t| {
                m.and_then(|m| m.get(&t))
                    .map(|ks| {
                        ks.values()
                            .map(|p| p.iter().sum::<f64>() / p.len() as f64)
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .collect()
    };
    let layers: std::collections::BTreeSet<usize> = by.keys().map(|(l, _)| *l).collect();
    let base = if layers.contains(&0) { 1 } else { 0 };
    Some(CgafSampling {
        video,
        n_clips,
        layers: layers
            .iter()
            .map(|&l| CgafLayerSampling {
                layer: l + base,
                pose_to_rgb: grid(by.get(&(l, "pose".to_string()))),
                rgb_to_pose: grid(by.get(&(l, "rgb".to_string()))),
            })
            .collect(),
    })
}

fn examples(s: &Scores, data: &seds_config::DataConfig) -> Vec<RetrievalExample> {
    let mut out = Vec::new();
    for (col, (sentence, text)) in s.cols.iter().enumerate().take(EXAMPLES) {
        let mut order: Vec<usize> = (0..s.rows.len()).collect();
        order.sort_by(|&a, &b| s.get(b, col).total_cmp(&s.get(a, col)));
        let correct_rank = order
            .iter()
            .position(|&r| &s.rows[r].1 == sentence)
            .map(|p| p + 1);
        let top = order
            .iter()
            .take(TOP_K)
            .map(|&r| {
                let (video, vs) = &s.rows[r];
                let (keyframes, frame_indices) = keyframes(data, video);
                RetrievedVideo {
                    video: video.clone(),
                    score: s.get(r, col) as f64,
                    correct: vs == sentence,
                    caption: s.col_of(vs).map(|c| s.cols[c].1.clone()),
                    keyframes,
                    frame_indices,
                }
            })
            .collect();
        out.push(RetrievalExample {
            query: text.clone(),
            correct_rank,
            top,
        });
    }
    out
}

fn keyframes(data: &seds_config::DataConfig, video: &str) -> (Vec<Vec<[f32; 3]>>, Vec<usize>) {
    let Ok(raw) = seds_data::raw_frames(data, "test", video) else {
        return (Vec::new(), Vec::new());
    };
    let n = raw.frames.len();
    if n == 0 {
        return (Vec::new(), Vec::new());
    }
    let idx: Vec<usize> = (0..KEYFRAMES)
        .map(|i| i * (n - 1) / (KEYFRAMES - 1))
        .collect();
    (idx.iter().map(|&i| raw.frames[i].to_vec()).collect(), idx)
}
