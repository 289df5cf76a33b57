//! Retrieval evaluation: batched gallery scoring (videos x unique sentences, blocks of
//! `eval.gallery_batch`), grouped-gallery ranks via `seds_core::metrics::retrieval_ranks`,
//! pooled embeddings, and the `.npy` / TSV writers of the exports.

use crate::model::{cap_clips, token_matrices, Ctx, ModelError, Seds, TraceEntry};
use dfdx::prelude::*;
use seds_core::{retrieval_ranks, MetricRecord, RetrievalRanks};
use seds_data::{text_batch, video_batch, Split, Tokenizer};
use seds_nn::TokenMatrix;
use std::io::Write;
use std::path::Path;

/// Everything one evaluation of a split produced.
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// Row-major videos x sentences scores.
    pub scores: Vec<f32>,
    /// Unique sentences (columns).
    pub n_sentences: usize,
    /// Per-query ranks.
    pub ranks: RetrievalRanks,
    /// Mean of each video's valid normalised tokens, `videos x d`.
    pub video_emb: Vec<f32>,
    /// Mean of each sentence's valid normalised word tokens, `sentences x d`.
    pub text_emb: Vec<f32>,
    /// Embedding width.
    pub d: usize,
    /// CGAF sampled positions of the split's first video (when traced and fusion = cgaf).
    pub trace: Vec<TraceEntry>,
    /// Dual-stream models only: ranks of each stream scored alone (`"pose"`, `"rgb"`), from
    /// the same forward pass; they show what fusion adds over its own inputs.
    pub stream_ranks: Vec<(String, RetrievalRanks)>,
}

/// Mean of the valid rows of each token matrix, `len x dim` row-major.
fn pooled(ms: &[TokenMatrix]) -> Vec<f32> {
    let mut out = Vec::new();
    for m in ms {
        let mut acc = vec![0f32; m.dim];
        for r in 0..m.valid {
            for (a, x) in acc.iter_mut().zip(&m.data[r * m.dim..(r + 1) * m.dim]) {
                *a += x / m.valid as f32;
            }
        }
        out.extend(acc);
    }
    out
}

/// Named metrics of ranks: `t2v_r1` ... `v2t_meanr`, `rsum`.
pub fn metric_values(r: &RetrievalRanks) -> Vec<(String, f64)> {
    let (t, v) = (r.t2v_metrics(), r.v2t_metrics());
    let mut out: Vec<(String, f64)> = t
        .named()
        .iter()
        .map(|(n, x)| (format!("t2v_{n}"), *x))
        .collect();
    out.extend(v.named().iter().map(|(n, x)| (format!("v2t_{n}"), *x)));
    out.push(("rsum".into(), t.r1 + t.r5 + t.r10 + v.r1 + v.r5 + v.r10));
    out
}

/// Metric records of named values, logged under `split` at one step and epoch.
pub fn metric_records(
    split: &str,
    step: i64,
    epoch: i64,
    values: &[(String, f64)],
) -> Vec<MetricRecord> {
    values
        .iter()
        .map(|(name, value)| MetricRecord {
            name: name.clone(),
            split: split.into(),
            step,
            epoch,
            value: *value,
        })
        .collect()
}

/// Metric records of an evaluation.
pub fn records(r: &RetrievalRanks, split: &str, step: i64, epoch: i64) -> Vec<MetricRecord> {
    metric_records(split, step, epoch, &metric_values(r))
}

impl Evaluation {
    /// Named metrics of each stream scored alone (dual-stream models; empty otherwise).
    pub fn stream_metrics(&self) -> Vec<(String, Vec<(String, f64)>)> {
        self.stream_ranks
            .iter()
            .map(|(n, r)| (n.clone(), metric_values(r)))
            .collect()
    }

    /// Records of the scored stream under `split`, then of each stream alone under
    /// `split_<stream>` (e.g. `dev`, `dev_pose`, `dev_rgb`).
    pub fn records_with_streams(&self, split: &str, step: i64, epoch: i64) -> Vec<MetricRecord> {
        let mut recs = records(&self.ranks, split, step, epoch);
        for (name, r) in &self.stream_ranks {
            recs.extend(records(r, &format!("{split}_{name}"), step, epoch));
        }
        recs
    }
}

/// Scores every video of `split` against every unique sentence: encoders run in batches of
/// `gb` (videos capped at `max_clips` clips), scoring is seds-nn's gallery scorer in tiles of
/// `gb` x `gb`. The encoders run on the model's device; scoring runs on the host.
pub fn evaluate<D: Device<f32>>(
    model: &Seds<D>,
    split: &Split,
    tok: &Tokenizer,
    gb: usize,
    max_clips: usize,
    trace: bool,
) -> Result<Evaluation, ModelError> {
    let gb = gb.max(1);
    let ns = split.sentences.len();
    let nv = split.videos.len();
    let d = model.dims.d;
    let max_words = model.max_words();
    let mut ctx = Ctx::eval();
    let mut texts: Vec<TokenMatrix> = Vec::with_capacity(ns);
    for start in (0..ns).step_by(gb) {
        let idx: Vec<usize> = (start..(start + gb).min(ns)).collect();
        let tb = text_batch(split, tok, &idx, max_words);
        let (w, l) = model.text_tokens(&mut ctx, &tb, NoneTape);
        texts.extend(token_matrices(&w, &l)?);
    }
    let mut videos: Vec<TokenMatrix> = Vec::with_capacity(nv);
    let mut per_stream: [Vec<TokenMatrix>; 2] = [Vec::new(), Vec::new()];
    let mut tr = Vec::new();
    for start in (0..nv).step_by(gb) {
        let idx: Vec<usize> = (start..(start + gb).min(nv)).collect();
        let vb = cap_clips(video_batch(split, &idx), max_clips);
        if trace && start == 0 {
            ctx.trace = Some(Vec::new());
        }
        let vt = model.video_tokens_with_streams(&mut ctx, &vb)?;
        if let Some(t) = ctx.trace.take() {
            tr = t;
        }
        videos.extend(token_matrices(&vt.fused.tokens, &vt.fused.lens)?);
        for (acc, s) in per_stream.iter_mut().zip(&vt.streams) {
            acc.extend(token_matrices(&s.tokens, &s.lens)?);
        }
    }
    let score = |vs: &[TokenMatrix]| {
        seds_nn::clcl_gallery_scores(vs, &texts, &model.clcl_options(), model.logit_scale(), gb)
    };
    let groups = split.video_sentence();
    let scores = score(&videos)?;
    let ranks = retrieval_ranks(&scores, ns, &groups);
    let mut stream_ranks = Vec::new();
    for (name, vs) in ["pose", "rgb"].into_iter().zip(&per_stream) {
        if !vs.is_empty() {
            stream_ranks.push((name.to_string(), retrieval_ranks(&score(vs)?, ns, &groups)));
        }
    }
    Ok(Evaluation {
        scores,
        n_sentences: ns,
        ranks,
        video_emb: pooled(&videos),
        text_emb: pooled(&texts),
        d,
        trace: tr,
        stream_ranks,
    })
}

/// Writes a float32 C-order `.npy` of shape `(rows, cols)` (format version 1.0).
pub fn write_npy(path: &Path, rows: usize, cols: usize, data: &[f32]) -> std::io::Result<()> {
    let mut header =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut buf = Vec::with_capacity(10 + header.len() + data.len() * 4);
    buf.extend_from_slice(b"\x93NUMPY\x01\x00");
    buf.extend_from_slice(&(header.len() as u16).to_le_bytes());
    buf.extend_from_slice(header.as_bytes());
    for v in data {
        buf.extend_from_slice(&v.to_le_bytes());
    }
    let tmp = path.with_extension("npy.tmp");
    std::fs::File::create(&tmp)?.write_all(&buf)?;
    std::fs::rename(tmp, path)
}

/// Replaces tabs and newlines so a field fits one TSV cell.
pub fn tsv_field(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_header_is_aligned_and_parsable() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.npy");
        write_npy(&p, 2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let b = std::fs::read(&p).unwrap();
        assert_eq!(&b[..8], b"\x93NUMPY\x01\x00");
        let hl = u16::from_le_bytes([b[8], b[9]]) as usize;
        assert_eq!((10 + hl) % 64, 0);
        let h = std::str::from_utf8(&b[10..10 + hl]).unwrap();
        assert!(h.contains("'shape': (2, 3)") && h.ends_with('\n'));
        assert_eq!(b.len(), 10 + hl + 24);
        assert_eq!(
            f32::from_le_bytes(b[10 + hl + 20..].try_into().unwrap()),
            6.0
        );
    }
}
