//! Dataset statistics for `seds-lab data stats`: counts, length distributions, vocabulary,
//! per-signer counts and glosses, all serialisable.

use crate::tokenizer::{split_words, Tokenizer};
use crate::types::{Dataset, Split};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Summary of a distribution of counts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Dist {
    /// Number of values.
    pub n: usize,
    /// Minimum.
    pub min: f64,
    /// Mean.
    pub mean: f64,
    /// Maximum.
    pub max: f64,
    /// 10th percentile (nearest rank).
    pub p10: f64,
    /// Median (nearest rank).
    pub p50: f64,
    /// 90th percentile (nearest rank).
    pub p90: f64,
}

impl Dist {
    /// Summary of `values` (all zero when empty). Percentiles use the nearest-rank rule
    /// `sorted[ceil(q n) - 1]`.
    pub fn of(values: &[f64]) -> Dist {
        if values.is_empty() {
            return Dist::default();
        }
        let mut s = values.to_vec();
        s.sort_by(|a, b| a.total_cmp(b));
        let n = s.len();
        let pct = |q: f64| s[((q * n as f64).ceil() as usize).clamp(1, n) - 1];
        Dist {
            n,
            min: s[0],
            mean: s.iter().sum::<f64>() / n as f64,
            max: s[n - 1],
            p10: pct(0.1),
            p50: pct(0.5),
            p90: pct(0.9),
        }
    }
}

/// Statistics of one split.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SplitStats {
    /// Split name.
    pub name: String,
    /// Unique sentences.
    pub sentences: usize,
    /// Videos.
    pub videos: usize,
    /// Kept frames per video.
    pub frames: Dist,
    /// Clips per video.
    pub clips: Dist,
    /// Words per sentence.
    pub words: Dist,
    /// Glosses per sentence.
    pub glosses: Dist,
    /// Videos per sentence.
    pub takes: Dist,
    /// Videos per signer.
    pub per_signer: BTreeMap<u32, usize>,
    /// Words not in the training vocabulary (tokens).
    pub oov_words: usize,
}

/// Statistics of a dataset.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DatasetStats {
    /// Dataset name.
    pub name: String,
    /// RGB feature dimension.
    pub rgb_dim: usize,
    /// Clip window.
    pub clip_window: usize,
    /// Frame rate.
    pub fps: f32,
    /// Vocabulary size of the training tokenizer (including 4 special tokens).
    pub vocab_size: usize,
    /// Distinct glosses over all splits.
    pub gloss_count: usize,
    /// Distinct glosses, sorted.
    pub glosses: Vec<String>,
    /// train, dev, test.
    pub splits: Vec<SplitStats>,
}

fn split_stats(s: &Split, tok: &Tokenizer) -> SplitStats {
    let f = |v: Vec<usize>| Dist::of(&v.into_iter().map(|x| x as f64).collect::<Vec<_>>());
    let mut per_signer = BTreeMap::new();
    let mut takes = vec![0usize; s.sentences.len()];
    for v in &s.videos {
        *per_signer.entry(v.signer).or_insert(0) += 1;
        if let Some(t) = takes.get_mut(v.sentence) {
            *t += 1;
        }
    }
    let oov_words = s
        .sentences
        .iter()
        .flat_map(|x| split_words(&x.text))
        .filter(|w| tok.id(w) == crate::types::UNK)
        .count();
    SplitStats {
        name: s.name.clone(),
        sentences: s.sentences.len(),
        videos: s.videos.len(),
        frames: f(s.videos.iter().map(|v| v.frames).collect()),
        clips: f(s.videos.iter().map(|v| v.clip_starts.len()).collect()),
        words: f(s
            .sentences
            .iter()
            .map(|x| split_words(&x.text).len())
            .collect()),
        glosses: f(s.sentences.iter().map(|x| x.glosses.len()).collect()),
        takes: f(takes),
        per_signer,
        oov_words,
    }
}

/// Statistics of a dataset (the tokenizer is built from its training split).
pub fn stats(ds: &Dataset) -> DatasetStats {
    let tok = Tokenizer::from_split(&ds.train);
    let glosses: BTreeSet<String> = [&ds.train, &ds.dev, &ds.test]
        .iter()
        .flat_map(|s| s.sentences.iter().flat_map(|x| x.glosses.iter().cloned()))
        .collect();
    DatasetStats {
        name: ds.name.clone(),
        rgb_dim: ds.rgb_dim,
        clip_window: ds.clip_window,
        fps: ds.fps,
        vocab_size: tok.vocab_size(),
        gloss_count: glosses.len(),
        glosses: glosses.into_iter().collect(),
        splits: [&ds.train, &ds.dev, &ds.test]
            .iter()
            .map(|s| split_stats(s, &tok))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dist_hand_computed() {
        let d = Dist::of(&[5.0, 1.0, 3.0, 2.0, 4.0, 6.0, 7.0, 8.0, 9.0, 10.0]);
        assert_eq!((d.n, d.min, d.max, d.mean), (10, 1.0, 10.0, 5.5));
        assert_eq!((d.p10, d.p50, d.p90), (1.0, 5.0, 9.0));
        assert_eq!(Dist::of(&[]), Dist::default());
    }
}
