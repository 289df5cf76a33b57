//! `seds-lab data check`: validates a dataset directory and reports every problem per video
//! (missing pose, missing features, clip-count mismatch, no hand in any frame, unreadable
//! files with the reader's message) without stopping at the first. The report is
//! serialisable (JSON for `--json`) and counts problems per kind.

use crate::error::DataError;
use crate::real::{self, ProblemKind, SPLIT_NAMES};
use seds_config::{DataConfig, DataSource};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One problem of a dataset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// What kind of problem.
    pub kind: ProblemKind,
    /// Split (`None` for dataset-wide files).
    pub split: Option<String>,
    /// Video id (`None` for annotation-file problems).
    pub video: Option<String>,
    /// The full message (names the file and, for parse errors, the line or byte offset).
    pub detail: String,
}

/// Per-split counts of a check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SplitCheck {
    /// `train`, `dev` or `test`.
    pub name: String,
    /// Videos listed by the annotations.
    pub videos: usize,
    /// Distinct sentence ids.
    pub sentences: usize,
    /// Videos without any problem.
    pub ok: usize,
    /// Total pose clips over the videos whose pose was readable.
    pub clips: usize,
}

/// The result of [`check_dataset`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetReport {
    /// Source kind (`how2sign`, `phoenix14t`, `csl-daily`, `pose-dir`, `synth`).
    pub source: String,
    /// Dataset root (empty for synth).
    pub root: String,
    /// Per-split counts.
    pub splits: Vec<SplitCheck>,
    /// Every problem found, in split then annotation order.
    pub problems: Vec<Problem>,
    /// Number of problems of each kind (kinds without problems are absent).
    pub counts: BTreeMap<ProblemKind, usize>,
}

impl DatasetReport {
    /// True when no problem was found.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// Number of problems of `kind`.
    pub fn count(&self, kind: ProblemKind) -> usize {
        self.counts.get(&kind).copied().unwrap_or(0)
    }

    /// Problems of one video.
    pub fn problems_of(&self, video: &str) -> Vec<&Problem> {
        self.problems
            .iter()
            .filter(|p| p.video.as_deref() == Some(video))
            .collect()
    }

    /// Total videos listed over all splits.
    pub fn videos(&self) -> usize {
        self.splits.iter().map(|s| s.videos).sum()
    }

    /// Videos without problems over all splits.
    pub fn ok_videos(&self) -> usize {
        self.splits.iter().map(|s| s.ok).sum()
    }

    fn push(&mut self, p: Problem) {
        *self.counts.entry(p.kind).or_insert(0) += 1;
        self.problems.push(p);
    }
}

/// Checks the dataset of `cfg`. Errors only when the dataset cannot be checked at all
/// (no `data.root`, root not a directory, malformed `meta.json`); everything else is a
/// [`Problem`] of the report. For `synth`, the (cached or generated) dataset is counted.
pub fn check_dataset(cfg: &DataConfig) -> Result<DatasetReport, DataError> {
    if cfg.source == DataSource::Synth {
        let ds = crate::load_dataset(cfg)?;
        return Ok(DatasetReport {
            source: "synth".into(),
            root: String::new(),
            splits: [&ds.train, &ds.dev, &ds.test]
                .iter()
                .map(|s| SplitCheck {
                    name: s.name.clone(),
                    videos: s.videos.len(),
                    sentences: s.sentences.len(),
                    ok: s.videos.len(),
                    clips: s.videos.iter().map(|v| v.num_clips()).sum(),
                })
                .collect(),
            problems: Vec::new(),
            counts: BTreeMap::new(),
        });
    }
    let idx = real::index(cfg)?;
    let mut report = DatasetReport {
        source: real::source_name(cfg.source),
        root: idx.root.display().to_string(),
        splits: Vec::new(),
        problems: Vec::new(),
        counts: BTreeMap::new(),
    };
    for p in &idx.problems {
        report.push(Problem {
            kind: p.kind,
            split: p.split.clone(),
            video: p.video.clone(),
            detail: p.error.to_string(),
        });
    }
    for (si, name) in SPLIT_NAMES.iter().enumerate() {
        let entries = &idx.splits[si];
        let sentences: std::collections::BTreeSet<&str> =
            entries.iter().map(|e| e.sentence_id.as_str()).collect();
        let mut sc = SplitCheck {
            name: name.to_string(),
            videos: entries.len(),
            sentences: sentences.len(),
            ok: 0,
            clips: 0,
        };
        for e in entries {
            let o = real::process_video(&idx.root, &idx.geometry, &e.video, cfg);
            if let Some(p) = &o.pose {
                sc.clips += p.clip_starts.len();
            }
            if o.problems.is_empty() {
                sc.ok += 1;
            }
            for (kind, err) in o.problems {
                report.push(Problem {
                    kind,
                    split: Some(name.to_string()),
                    video: Some(e.video.clone()),
                    detail: err.to_string(),
                });
            }
        }
        report.splits.push(sc);
    }
    Ok(report)
}
