//! Retrieval metrics with the grouped-gallery semantics of SEDS/CiCo.
//!
//! Inputs are a score matrix `scores[v * n_sentences + s]` (videos x unique sentences, higher
//! is better) and, for each video, the index of its ground-truth sentence.
//!
//! - **V2T**: each video is a query ranked against all unique sentences.
//! - **T2V**: each unique sentence that has at least one video is a query ranked against
//!   *sentence groups*; a group's score is the max over its videos' scores.
//! - With one video per sentence both reduce to the usual square protocol.
//!
//! **Tie rule (pessimistic):** the rank of the correct item is 1 + the number of *other*
//! candidates whose score is greater than *or equal to* the correct score. A constant score
//! matrix therefore gives the worst rank, never a flattering one. NaN scores count as ties.

use serde::{Deserialize, Serialize};

/// Recall at 1/5/10 (percent) and median/mean rank (1-based) for one direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetrievalMetrics {
    /// Percentage of queries whose correct item is ranked first.
    pub r1: f64,
    /// Percentage of queries whose correct item is in the top 5.
    pub r5: f64,
    /// Percentage of queries whose correct item is in the top 10.
    pub r10: f64,
    /// Median rank of the correct item (1-based; mean of the two middle ranks when even).
    pub medr: f64,
    /// Mean rank of the correct item (1-based).
    pub meanr: f64,
}

impl RetrievalMetrics {
    /// Metrics from 1-based ranks; all zero for an empty slice.
    pub fn from_ranks(ranks: &[usize]) -> Self {
        if ranks.is_empty() {
            return Self::default();
        }
        let n = ranks.len() as f64;
        let within = |k: usize| 100.0 * ranks.iter().filter(|&&r| r <= k).count() as f64 / n;
        let mut sorted = ranks.to_vec();
        sorted.sort_unstable();
        let m = sorted.len();
        let medr = if m % 2 == 1 {
            sorted[m / 2] as f64
        } else {
            (sorted[m / 2 - 1] + sorted[m / 2]) as f64 / 2.0
        };
        let meanr = ranks.iter().map(|&r| r as f64).sum::<f64>() / n;
        RetrievalMetrics {
            r1: within(1),
            r5: within(5),
            r10: within(10),
            medr,
            meanr,
        }
    }

    /// `(name, value)` pairs with the names used in the run database (`r1`, `r5`, ...).
    pub fn named(&self) -> [(&'static str, f64); 5] {
        [
            ("r1", self.r1),
            ("r5", self.r5),
            ("r10", self.r10),
            ("medr", self.medr),
            ("meanr", self.meanr),
        ]
    }
}

/// Per-query ranks for both directions; the raw material for metrics and bootstrap intervals.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RetrievalRanks {
    /// One rank per T2V query (per unique sentence that has at least one video), in sentence order.
    pub t2v: Vec<usize>,
    /// Sentence index of each T2V query.
    pub t2v_sentences: Vec<usize>,
    /// One rank per V2T query (per video), in video order.
    pub v2t: Vec<usize>,
}

impl RetrievalRanks {
    /// T2V metrics.
    pub fn t2v_metrics(&self) -> RetrievalMetrics {
        RetrievalMetrics::from_ranks(&self.t2v)
    }
    /// V2T metrics.
    pub fn v2t_metrics(&self) -> RetrievalMetrics {
        RetrievalMetrics::from_ranks(&self.v2t)
    }
}

/// Pessimistic 1-based rank of `candidates[correct]` among `candidates`.
pub fn rank_pessimistic(candidates: &[f32], correct: usize) -> usize {
    let target = candidates[correct];
    let above = candidates
        .iter()
        .enumerate()
        .filter(|&(i, &s)| i != correct && !(s < target))
        .count();
    1 + above
}

/// Ranks for both directions under grouped-gallery semantics (see the module docs).
///
/// `scores` is row-major videos x sentences; `video_sentence[v]` is video v's sentence.
/// Panics if the lengths disagree or an index is out of range (a programming error).
pub fn retrieval_ranks(
    scores: &[f32],
    n_sentences: usize,
    video_sentence: &[usize],
) -> RetrievalRanks {
    let n_videos = video_sentence.len();
    assert_eq!(
        scores.len(),
        n_videos * n_sentences,
        "score matrix shape mismatch"
    );
    assert!(
        video_sentence.iter().all(|&s| s < n_sentences),
        "sentence index out of range"
    );

    let v2t = (0..n_videos)
        .map(|v| {
            rank_pessimistic(
                &scores[v * n_sentences..(v + 1) * n_sentences],
                video_sentence[v],
            )
        })
        .collect();

    // Groups: sentence -> its videos. Only sentences with videos are T2V queries and gallery items.
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); n_sentences];
    for (v, &s) in video_sentence.iter().enumerate() {
        groups[s].push(v);
    }
    let group_ids: Vec<usize> = (0..n_sentences)
        .filter(|&s| !groups[s].is_empty())
        .collect();
    let mut t2v = Vec::with_capacity(group_ids.len());
    let mut group_scores = vec![0f32; group_ids.len()];
    for (qi, &query) in group_ids.iter().enumerate() {
        for (gi, &g) in group_ids.iter().enumerate() {
            group_scores[gi] = groups[g]
                .iter()
                .map(|&v| scores[v * n_sentences + query])
                .fold(f32::NEG_INFINITY, f32::max);
        }
        t2v.push(rank_pessimistic(&group_scores, qi));
    }
    RetrievalRanks {
        t2v,
        t2v_sentences: group_ids,
        v2t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_identity_is_perfect() {
        let scores = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        let r = retrieval_ranks(&scores, 3, &[0, 1, 2]);
        assert_eq!(r.v2t, vec![1, 1, 1]);
        assert_eq!(r.t2v, vec![1, 1, 1]);
        let m = r.t2v_metrics();
        assert_eq!((m.r1, m.r5, m.medr, m.meanr), (100.0, 100.0, 1.0, 1.0));
    }

    #[test]
    fn hand_computed_square_case() {
        // 3 videos x 3 sentences.
        // v0: [0.9, 0.1, 0.5] correct 0 -> rank 1
        // v1: [0.8, 0.3, 0.2] correct 1 -> 0.8 above -> rank 2
        // v2: [0.7, 0.6, 0.4] correct 2 -> two above -> rank 3
        let scores = [0.9, 0.1, 0.5, 0.8, 0.3, 0.2, 0.7, 0.6, 0.4];
        let r = retrieval_ranks(&scores, 3, &[0, 1, 2]);
        assert_eq!(r.v2t, vec![1, 2, 3]);
        // T2V column s over videos: s0 [0.9,0.8,0.7] -> 1; s1 [0.1,0.3,0.6] correct v1 -> 2;
        // s2 [0.5,0.2,0.4] correct v2 -> 0.5 above -> 2.
        assert_eq!(r.t2v, vec![1, 2, 2]);
        let m = r.v2t_metrics();
        assert!((m.r1 - 100.0 / 3.0).abs() < 1e-9);
        assert_eq!(m.medr, 2.0);
        assert_eq!(m.meanr, 2.0);
        let t = r.t2v_metrics();
        assert!((t.meanr - 5.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn ties_are_pessimistic() {
        assert_eq!(rank_pessimistic(&[0.5, 0.5, 0.5, 0.5], 2), 4);
        assert_eq!(rank_pessimistic(&[0.5, 0.7, 0.5, 0.1], 0), 3);
        assert_eq!(rank_pessimistic(&[f32::NAN, 0.2], 1), 2);
    }

    #[test]
    fn grouped_gallery_uses_max_over_group_and_unique_sentences() {
        // 4 videos, 3 sentences; videos 0,1 belong to sentence 0, video 2 to 1, video 3 to 2.
        let scores = [
            0.2, 0.9, 0.1, // v0 (s0): s1 beats -> rank 2
            0.8, 0.3, 0.1, // v1 (s0): rank 1
            0.1, 0.5, 0.6, // v2 (s1): s2 beats -> rank 2
            0.0, 0.1, 0.7, // v3 (s2): rank 1
        ];
        let r = retrieval_ranks(&scores, 3, &[0, 0, 1, 2]);
        assert_eq!(r.v2t, vec![2, 1, 2, 1]);
        // T2V query s0: groups g0 = max(0.2, 0.8) = 0.8, g1 = 0.1, g2 = 0.0 -> rank 1.
        // query s1: g0 = max(0.9, 0.3) = 0.9 beats g1 = 0.5 -> rank 2.
        // query s2: g0 = 0.1, g1 = 0.6, g2 = 0.7 -> rank 1.
        assert_eq!(r.t2v, vec![1, 2, 1]);
        assert_eq!(
            r.t2v.len(),
            3,
            "one T2V query per unique sentence, not per video"
        );
    }

    #[test]
    fn sentences_without_videos_are_not_queries_but_stay_v2t_candidates() {
        // sentence 1 has no video: it is a V2T distractor but not a T2V query or gallery group.
        let scores = [0.5, 0.9, 0.1, 0.2, 0.0, 0.8];
        let r = retrieval_ranks(&scores, 3, &[0, 2]);
        assert_eq!(r.v2t, vec![2, 1]);
        assert_eq!(r.t2v_sentences, vec![0, 2]);
        assert_eq!(r.t2v, vec![1, 1]);
    }

    #[test]
    fn median_of_even_count_and_recall_cutoffs() {
        let m = RetrievalMetrics::from_ranks(&[1, 4, 6, 11]);
        assert_eq!(m.medr, 5.0);
        assert_eq!(m.r1, 25.0);
        assert_eq!(m.r5, 50.0);
        assert_eq!(m.r10, 75.0);
        assert_eq!(m.meanr, 5.5);
        assert_eq!(
            RetrievalMetrics::from_ranks(&[]),
            RetrievalMetrics::default()
        );
    }
}
