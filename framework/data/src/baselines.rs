//! Reference scorers for sanity checks of a dataset (not models): random scores, oracles
//! that read the gloss sequence (fully, or only what pose or RGB can carry), and a simple
//! hand-made baseline (mean-pooled features vs. bag-of-glosses prototypes averaged over
//! train). Each returns a row-major videos x sentences score matrix for
//! `seds_core::retrieval_ranks`.

use crate::lexicon::Lexicon;
use crate::types::{Split, COORDS, NUM_JOINTS};
use seds_core::Rng;
use std::collections::BTreeMap;

/// Uniform random scores.
pub fn random_scores(split: &Split, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..split.videos.len() * split.sentences.len())
        .map(|_| rng.uniform() as f32)
        .collect()
}

/// Similarity of two symbol sequences: 1 for equal sequences, else LCS / max length * 0.99.
pub fn sequence_similarity<T: PartialEq>(a: &[T], b: &[T]) -> f32 {
    if a == b {
        return 1.0;
    }
    let mut dp = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in 0..a.len() {
        for j in 0..b.len() {
            dp[i + 1][j + 1] = if a[i] == b[j] {
                dp[i][j] + 1
            } else {
                dp[i][j + 1].max(dp[i + 1][j])
            };
        }
    }
    0.99 * dp[a.len()][b.len()] as f32 / a.len().max(b.len()).max(1) as f32
}

/// What an oracle may see of each gloss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OracleView {
    /// The gloss identity.
    Gloss,
    /// The manual parameters only (what the 49 keypoints carry).
    Pose,
    /// Handshape families + other manual parameters + non-manual (what RGB carries).
    Rgb,
}

/// Oracle scores: sequence similarity of the glosses of each video's sentence and each
/// sentence, seen through `view` (gloss names are looked up in `lex`).
pub fn oracle_scores(split: &Split, lex: &Lexicon, view: OracleView) -> Vec<f32> {
    let index: BTreeMap<&str, usize> = lex
        .glosses
        .iter()
        .enumerate()
        .map(|(i, g)| (g.name.as_str(), i))
        .collect();
    let key = |name: &str| -> Vec<u8> {
        match index.get(name) {
            None => name.as_bytes().to_vec(),
            Some(&i) => match view {
                OracleView::Gloss => (i as u32).to_le_bytes().to_vec(),
                OracleView::Pose => lex.glosses[i].params.pose_view().to_vec(),
                OracleView::Rgb => lex.glosses[i].params.rgb_view().to_vec(),
            },
        }
    };
    let seqs: Vec<Vec<Vec<u8>>> = split
        .sentences
        .iter()
        .map(|s| s.glosses.iter().map(|g| key(g)).collect())
        .collect();
    let n = split.sentences.len();
    let mut out = vec![0f32; split.videos.len() * n];
    for (v, vid) in split.videos.iter().enumerate() {
        for s in 0..n {
            out[v * n + s] = sequence_similarity(&seqs[vid.sentence], &seqs[s]);
        }
    }
    out
}

/// Mean-pooled video descriptor: mean pose over frames (98) and/or mean RGB over clips.
pub fn pooled_features(split: &Split, pose: bool, rgb: bool) -> Vec<Vec<f32>> {
    let fj = NUM_JOINTS * COORDS;
    split
        .videos
        .iter()
        .map(|v| {
            let mut f = Vec::new();
            if pose {
                let mut m = vec![0f32; fj];
                for fr in v.pose.chunks_exact(fj) {
                    m.iter_mut()
                        .zip(fr)
                        .for_each(|(a, b)| *a += b / v.frames.max(1) as f32);
                }
                f.extend(m);
            }
            if rgb && !v.clip_starts.is_empty() {
                let d = v.rgb.len() / v.clip_starts.len();
                let mut m = vec![0f32; d];
                for c in v.rgb.chunks_exact(d) {
                    m.iter_mut()
                        .zip(c)
                        .for_each(|(a, b)| *a += b / v.clip_starts.len() as f32);
                }
                f.extend(m);
            }
            f
        })
        .collect()
}

fn standardise(train: &mut [Vec<f32>], other: &mut [Vec<f32>]) {
    let d = train.first().map(|f| f.len()).unwrap_or(0);
    let n = train.len().max(1) as f32;
    let mut mean = vec![0f32; d];
    let mut var = vec![0f32; d];
    for f in train.iter() {
        mean.iter_mut().zip(f).for_each(|(m, x)| *m += x / n);
    }
    for f in train.iter() {
        var.iter_mut()
            .zip(f)
            .zip(&mean)
            .for_each(|((v, x), m)| *v += (x - m) * (x - m) / n);
    }
    for f in train.iter_mut().chain(other.iter_mut()) {
        for ((x, m), v) in f.iter_mut().zip(&mean).zip(&var) {
            *x = (*x - m) / (v.sqrt() + 1e-6);
        }
    }
}

/// The hand-made baseline: standardised mean-pooled features; each gloss's prototype is the
/// average of the features of training videos whose sentence contains it; a sentence's
/// vector is the mean of its glosses' prototypes (unknown glosses skipped); score = cosine.
pub fn bag_of_glosses_scores(train: &Split, eval: &Split, pose: bool, rgb: bool) -> Vec<f32> {
    let mut ft = pooled_features(train, pose, rgb);
    let mut fe = pooled_features(eval, pose, rgb);
    standardise(&mut ft, &mut fe);
    let d = ft.first().map(|f| f.len()).unwrap_or(0);
    let mut protos: BTreeMap<&str, (Vec<f32>, f32)> = BTreeMap::new();
    for (v, f) in train.videos.iter().zip(&ft) {
        for g in &train.sentences[v.sentence].glosses {
            let e = protos
                .entry(g.as_str())
                .or_insert_with(|| (vec![0f32; d], 0.0));
            e.0.iter_mut().zip(f).for_each(|(a, b)| *a += b);
            e.1 += 1.0;
        }
    }
    let norm = |v: &mut Vec<f32>| {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-9);
        v.iter_mut().for_each(|x| *x /= n);
    };
    let texts: Vec<Vec<f32>> = eval
        .sentences
        .iter()
        .map(|s| {
            let mut t = vec![0f32; d];
            for g in &s.glosses {
                if let Some((p, c)) = protos.get(g.as_str()) {
                    t.iter_mut().zip(p).for_each(|(a, b)| *a += b / c);
                }
            }
            norm(&mut t);
            t
        })
        .collect();
    let n = eval.sentences.len();
    let mut out = vec![0f32; eval.videos.len() * n];
    for (vi, f) in fe.iter_mut().enumerate() {
        norm(f);
        for (s, t) in texts.iter().enumerate() {
            out[vi * n + s] = f.iter().zip(t).map(|(a, b)| a * b).sum();
        }
    }
    out
}
