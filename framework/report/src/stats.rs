//! Statistics for reports: mean and standard deviation over seeds, percentile-bootstrap
//! confidence intervals for R@K over test queries, and paired bootstrap differences.
//!
//! Conventions:
//! - R@K values are percentages; ranks are 1-based (a query "hits" at K when rank <= K).
//! - Standard deviations are sample deviations (divisor n - 1; 0 for a single seed).
//! - Intervals are two-sided 95% percentile intervals (quantiles 2.5% and 97.5%, linear
//!   interpolation between order statistics) of `resamples` bootstrap replicates.
//! - Pooling over seeds: when every seed has the same number of queries (the same test set
//!   in the same order), a replicate resamples *query indices* and uses the same indices for
//!   every seed, so the statistic is the mean over seeds of R@K; per-query correlation
//!   between seeds is kept. Otherwise the ranks are concatenated and resampled as one pool.
//! - Paired differences resample query indices once and apply them to both cells.
//! - Everything is deterministic given `seed` (via [`seds_core::Rng`]).

use seds_core::Rng;

/// Two-sided confidence level of every interval in reports.
pub const CONFIDENCE: f64 = 0.95;

/// Mean and sample standard deviation of a set of values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanStd {
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (n - 1 divisor; 0 when n = 1).
    pub std: f64,
    /// Number of values.
    pub n: usize,
}

/// Mean and sample std of `values`, ignoring non-finite ones; `None` when none is finite.
pub fn mean_std(values: &[f64]) -> Option<MeanStd> {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    let n = v.len();
    let mean = v.iter().sum::<f64>() / n as f64;
    let std = if n > 1 {
        (v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    Some(MeanStd { mean, std, n })
}

/// Quantile `q` in [0, 1] of an ascending slice, interpolating linearly between order
/// statistics (R's type 7). NaN for an empty slice.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * frac
}

/// Per-query hit counts over seeds (how many seeds rank query `i` within `k`), when all
/// seeds have the same non-zero number of queries.
fn hit_counts(runs: &[&[usize]], k: usize) -> Option<Vec<u32>> {
    let n = runs.first()?.len();
    if n == 0 || runs.iter().any(|r| r.len() != n) {
        return None;
    }
    let mut h = vec![0u32; n];
    for r in runs {
        for (hi, &rank) in h.iter_mut().zip(r.iter()) {
            *hi += u32::from(rank <= k);
        }
    }
    Some(h)
}

/// Percentile interval of bootstrap replicates `stat(resampled indices)`.
fn percentile_interval(mut reps: Vec<f64>) -> (f64, f64) {
    reps.sort_by(|a, b| a.total_cmp(b));
    let tail = (1.0 - CONFIDENCE) / 2.0;
    (quantile(&reps, tail), quantile(&reps, 1.0 - tail))
}

/// 95% bootstrap interval (percent) of R@`k` from one run's 1-based per-query ranks,
/// resampling queries `resamples` times. `(NaN, NaN)` for no ranks.
///
/// Known answers: all ranks 1 gives exactly `(100, 100)`; n = 10,000 queries with half the
/// ranks 1 gives about `50 ± 0.98`.
pub fn bootstrap_recall_ci(ranks: &[usize], k: usize, resamples: usize, seed: u64) -> (f64, f64) {
    bootstrap_recall_ci_pooled(&[ranks], k, resamples, seed)
}

/// 95% bootstrap interval (percent) of R@`k` pooled over several seeds' ranks (see the
/// module doc for how seeds are pooled). `(NaN, NaN)` when there are no ranks.
pub fn bootstrap_recall_ci_pooled(
    runs: &[&[usize]],
    k: usize,
    resamples: usize,
    seed: u64,
) -> (f64, f64) {
    let runs: Vec<&[usize]> = runs.iter().copied().filter(|r| !r.is_empty()).collect();
    let (hits, per_query) = match hit_counts(&runs, k) {
        Some(h) => {
            let s = runs.len() as f64;
            (h, s)
        }
        None => {
            // Unequal query sets: one pool of all ranks.
            let all: Vec<u32> = runs
                .iter()
                .flat_map(|r| r.iter())
                .map(|&x| u32::from(x <= k))
                .collect();
            (all, 1.0)
        }
    };
    let n = hits.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mut rng = Rng::new(seed);
    let denom = 100.0 / (n as f64 * per_query);
    let reps: Vec<f64> = (0..resamples.max(1))
        .map(|_| {
            let mut s = 0u64;
            for _ in 0..n {
                s += u64::from(hits[rng.below(n)]);
            }
            s as f64 * denom
        })
        .collect();
    percentile_interval(reps)
}

/// Paired bootstrap of R@`k`(a) - R@`k`(b) in percentage points, for two runs ranked on the
/// same queries in the same order: returns `(observed difference, lo, hi)` with a 95%
/// interval; each replicate resamples query indices and applies them to both.
/// `(NaN, NaN, NaN)` when the lengths differ or are zero.
pub fn paired_bootstrap_diff(
    a: &[usize],
    b: &[usize],
    k: usize,
    resamples: usize,
    seed: u64,
) -> (f64, f64, f64) {
    paired_bootstrap_diff_pooled(&[a], &[b], k, resamples, seed).unwrap_or((
        f64::NAN,
        f64::NAN,
        f64::NAN,
    ))
}

/// Paired bootstrap of the seed-pooled R@`k` difference between two cells (each a list of
/// per-seed rank vectors; every vector must have the same length). `None` when the query
/// sets differ in size or a cell has no ranks.
pub fn paired_bootstrap_diff_pooled(
    a_runs: &[&[usize]],
    b_runs: &[&[usize]],
    k: usize,
    resamples: usize,
    seed: u64,
) -> Option<(f64, f64, f64)> {
    let ha = hit_counts(a_runs, k)?;
    let hb = hit_counts(b_runs, k)?;
    if ha.len() != hb.len() {
        return None;
    }
    let n = ha.len();
    let (sa, sb) = (a_runs.len() as f64, b_runs.len() as f64);
    // Per-query difference in percent of hits.
    let d: Vec<f64> = ha
        .iter()
        .zip(&hb)
        .map(|(&x, &y)| 100.0 * (f64::from(x) / sa - f64::from(y) / sb))
        .collect();
    let observed = d.iter().sum::<f64>() / n as f64;
    let mut rng = Rng::new(seed);
    let reps: Vec<f64> = (0..resamples.max(1))
        .map(|_| {
            let mut s = 0.0;
            for _ in 0..n {
                s += d[rng.below(n)];
            }
            s / n as f64
        })
        .collect();
    let (lo, hi) = percentile_interval(reps);
    Some((observed, lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_std_hand_computed() {
        let m = mean_std(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert!((m.mean - 5.0).abs() < 1e-12);
        // sample variance = 32 / 7
        assert!((m.std - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert_eq!(mean_std(&[3.5]).unwrap().std, 0.0);
        assert!(mean_std(&[]).is_none());
        assert!(mean_std(&[f64::NAN]).is_none());
    }

    #[test]
    fn quantile_interpolates() {
        let s = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&s, 0.0), 1.0);
        assert_eq!(quantile(&s, 1.0), 4.0);
        assert!((quantile(&s, 0.5) - 2.5).abs() < 1e-12);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn all_ranks_one_gives_degenerate_interval() {
        let ranks = vec![1usize; 500];
        assert_eq!(bootstrap_recall_ci(&ranks, 1, 200, 1), (100.0, 100.0));
        let ranks = vec![7usize; 500];
        assert_eq!(bootstrap_recall_ci(&ranks, 1, 200, 1), (0.0, 0.0));
        assert_eq!(bootstrap_recall_ci(&ranks, 10, 200, 1), (100.0, 100.0));
        let (lo, hi) = bootstrap_recall_ci(&[], 1, 10, 1);
        assert!(lo.is_nan() && hi.is_nan());
    }

    #[test]
    fn bernoulli_half_matches_normal_approximation() {
        let mut rng = Rng::new(2024);
        let ranks: Vec<usize> = (0..10_000)
            .map(|_| if rng.bernoulli(0.5) { 1 } else { 2 })
            .collect();
        let p = 100.0 * ranks.iter().filter(|&&r| r == 1).count() as f64 / 10_000.0;
        let (lo, hi) = bootstrap_recall_ci(&ranks, 1, 2000, 7);
        // Normal approximation: p +- 1.96 * sqrt(p (1-p) / n) = p +- 0.98 (percent).
        let half = 1.96 * (p * (100.0 - p) / 10_000.0).sqrt();
        assert!((half - 0.98).abs() < 0.01, "half width {half}");
        assert!(((p - lo) - half).abs() < 0.12, "lo {lo} p {p}");
        assert!(((hi - p) - half).abs() < 0.12, "hi {hi} p {p}");
        // Deterministic.
        assert_eq!(bootstrap_recall_ci(&ranks, 1, 2000, 7), (lo, hi));
    }

    #[test]
    fn pooled_seeds_share_query_indices() {
        // Seed 1 hits the even queries, seed 2 the odd ones: per query exactly one seed hits,
        // so every bootstrap replicate of the pooled statistic is exactly 50%.
        let a: Vec<usize> = (0..200).map(|i| if i % 2 == 0 { 1 } else { 3 }).collect();
        let b: Vec<usize> = (0..200).map(|i| if i % 2 == 1 { 1 } else { 3 }).collect();
        assert_eq!(
            bootstrap_recall_ci_pooled(&[&a, &b], 1, 300, 3),
            (50.0, 50.0)
        );
        // Unequal lengths fall back to one pool (interval around 50, not degenerate).
        let c = &b[..150];
        let (lo, hi) = bootstrap_recall_ci_pooled(&[&a, c], 1, 300, 3);
        assert!(lo < 50.0 && hi > 45.0 && lo < hi);
    }

    #[test]
    fn paired_difference_known_cases() {
        let a = vec![1usize; 300];
        let mut b = vec![1usize; 300];
        for r in b.iter_mut().take(30) {
            *r = 4;
        }
        // a hits everywhere, b misses 30 of 300 -> +10 points; resampling changes it.
        let (d, lo, hi) = paired_bootstrap_diff(&a, &b, 1, 1000, 5);
        assert!((d - 10.0).abs() < 1e-9);
        assert!(lo > 5.0 && hi < 15.0 && lo < d && d < hi, "{lo} {d} {hi}");
        // Identical cells: exactly zero, degenerate interval.
        assert_eq!(paired_bootstrap_diff(&a, &a, 1, 100, 5), (0.0, 0.0, 0.0));
        // Mismatched lengths.
        assert!(paired_bootstrap_diff(&a, &b[..10], 1, 100, 5).0.is_nan());
    }
}
