//! Evaluation-time CLCL gallery scoring without a tape, over host token matrices: the gallery
//! is walked in tiles of `block` videos x `block` texts; each tile's token products come from
//! one dfdx Cpu matmul (multi-threaded gemm) and the per-pair softmaxes run on all cores, so a
//! thousands x thousands gallery never materialises all token products at once.

use dfdx::prelude::*;
use seds_config::schema::InnerSoftmax;

use crate::clcl::ClclOptions;
use crate::error::NnError;

/// Row-major token matrix of one video or text: `rows x dim` values, of which rows
/// `[0, valid)` are real tokens and the rest padding (padding only matters for
/// `InnerSoftmax::Release`, which lets it take part in the inner softmax).
#[derive(Clone, Debug, PartialEq)]
pub struct TokenMatrix {
    /// `rows * dim` values, row-major.
    pub data: Vec<f32>,
    /// Number of rows (tokens, padding included).
    pub rows: usize,
    /// Token dimension.
    pub dim: usize,
    /// Number of valid leading rows.
    pub valid: usize,
}

impl TokenMatrix {
    /// Checked constructor: `data.len() == rows * dim`, `1 <= valid <= rows`, `dim > 0`.
    pub fn new(data: Vec<f32>, rows: usize, dim: usize, valid: usize) -> Result<Self, NnError> {
        if dim == 0 || data.len() != rows * dim || valid == 0 || valid > rows {
            return Err(NnError::shape(
                "TokenMatrix::new",
                format!(
                    "{} values for rows {rows} x dim {dim}, valid {valid}",
                    data.len()
                ),
            ));
        }
        Ok(TokenMatrix {
            data,
            rows,
            dim,
            valid,
        })
    }

    /// A matrix whose rows are all valid (`rows = data.len() / dim`).
    pub fn all_valid(data: Vec<f32>, dim: usize) -> Result<Self, NnError> {
        let rows = if dim == 0 { 0 } else { data.len() / dim };
        Self::new(data, rows, dim, rows)
    }
}

/// L2-normalised copy of the rows that take part in scoring (skipping `skip` leading rows;
/// only the valid rows when `masked`). Returns (values, softmax rows, valid rows).
fn prepare(m: &TokenMatrix, skip: usize, masked: bool) -> (Vec<f32>, usize, usize) {
    let valid = m.valid - skip;
    let rows = if masked { valid } else { m.rows - skip };
    let mut out = Vec::with_capacity(rows * m.dim);
    for r in skip..skip + rows {
        let row = &m.data[r * m.dim..(r + 1) * m.dim];
        let n = (row.iter().map(|x| x * x).sum::<f32>() + 1e-12).sqrt();
        out.extend(row.iter().map(|x| x / n));
    }
    (out, rows, valid)
}

/// `sum_k softmax_k(x_k / tau) x_k` over the values in `buf`.
#[inline]
fn soft_expect(buf: &[f32], inv_tau: f32) -> f32 {
    let mx = buf
        .iter()
        .fold(f32::NEG_INFINITY, |m, &x| m.max(x * inv_tau));
    let (mut z, mut e) = (0f32, 0f32);
    for &x in buf {
        let w = (x * inv_tau - mx).exp();
        z += w;
        e += w * x;
    }
    if z > 0.0 {
        e / z
    } else {
        0.0
    }
}

/// Geometry of one pair inside a tile of token products `s` (row-major, `stride` columns):
/// video rows `r0..r0 + nv` (first `vvalid` valid), text columns `c0..c0 + nt`.
struct PairTile {
    r0: usize,
    nv: usize,
    vvalid: usize,
    c0: usize,
    nt: usize,
    tvalid: usize,
}

/// `0.5 lambda (Z_v2t + Z_t2v) ` of one pair from its block of the tile.
fn pair_score(
    s: &[f32],
    stride: usize,
    p: &PairTile,
    inv_tau: f32,
    lambda: f32,
    buf: &mut Vec<f32>,
) -> f32 {
    let mut v2t = 0f32;
    for i in 0..p.vvalid {
        let row = (p.r0 + i) * stride + p.c0;
        v2t += soft_expect(&s[row..row + p.nt], inv_tau);
    }
    v2t /= p.vvalid as f32;
    let mut t2v = 0f32;
    for j in 0..p.tvalid {
        buf.clear();
        buf.extend((0..p.nv).map(|i| s[(p.r0 + i) * stride + p.c0 + j]));
        t2v += soft_expect(buf, inv_tau);
    }
    t2v /= p.tvalid as f32;
    0.5 * lambda * (v2t + t2v)
}

/// Stacks prepared matrices `items[lo..hi]` row-wise: (values, row offsets, total rows).
fn stack(
    items: &[(Vec<f32>, usize, usize)],
    lo: usize,
    hi: usize,
) -> (Vec<f32>, Vec<usize>, usize) {
    let mut data = Vec::new();
    let mut offs = Vec::with_capacity(hi - lo);
    let mut rows = 0;
    for it in &items[lo..hi] {
        offs.push(rows);
        rows += it.1;
        data.extend_from_slice(&it.0);
    }
    (data, offs, rows)
}

/// Retrieval scores of every (video, text) pair, row-major `videos.len() x texts.len()`:
/// `score = 0.5 Z_v2t + 0.5 Z_t2v` with the CLCL definitions of [`crate::clcl_scores`]
/// (`logit_scale` = lambda). Tiles of `block` videos x `block` texts bound the memory to
/// `block^2 * Nv * Nt` floats (64 -> ~34 MB at 65 x 32 tokens). With `cls_as_clip == false` video row 0 is skipped
/// (videos need `valid >= 2`).
pub fn clcl_gallery_scores(
    videos: &[TokenMatrix],
    texts: &[TokenMatrix],
    opts: &ClclOptions,
    logit_scale: f32,
    block: usize,
) -> Result<Vec<f32>, NnError> {
    const OP: &str = "clcl_gallery_scores";
    opts.check(OP)?;
    if block == 0 {
        return Err(NnError::option(OP, "block", "must be >= 1"));
    }
    let dim = match videos.first().or(texts.first()) {
        Some(m) => m.dim,
        None => return Ok(Vec::new()),
    };
    let skip = usize::from(!opts.cls_as_clip);
    for (kind, set, min) in [("videos", videos, 1 + skip), ("texts", texts, 1)] {
        for (i, m) in set.iter().enumerate() {
            if m.dim != dim || m.data.len() != m.rows * m.dim || m.valid < min || m.valid > m.rows {
                return Err(NnError::shape(
                    OP,
                    format!(
                        "{kind}[{i}]: rows {}, dim {} (gallery dim {dim}), valid {} (min {min}), {} values",
                        m.rows,
                        m.dim,
                        m.valid,
                        m.data.len()
                    ),
                ));
            }
        }
    }
    let masked = opts.masking == InnerSoftmax::Masked;
    let vp: Vec<_> = videos.iter().map(|m| prepare(m, skip, masked)).collect();
    let tp: Vec<_> = texts.iter().map(|m| prepare(m, 0, masked)).collect();
    let inv_tau = (1.0 / opts.tau) as f32;
    let (n_v, n_t) = (videos.len(), texts.len());
    let mut out = vec![0f32; n_v * n_t];
    if n_v == 0 || n_t == 0 {
        return Ok(out);
    }
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let dev = Cpu::default();
    for tb in (0..n_t).step_by(block) {
        let te = (tb + block).min(n_t);
        let (wdata, toffs, cols) = stack(&tp, tb, te);
        let w = dev
            .tensor_from_vec(wdata, (cols, dim))
            .permute::<(usize, usize), Axes2<1, 0>>();
        for vb in (0..n_v).step_by(block) {
            let ve = (vb + block).min(n_v);
            let (vdata, voffs, rows) = stack(&vp, vb, ve);
            // The token products of the whole tile: one multi-threaded gemm.
            let s = dev
                .tensor_from_vec(vdata, (rows, dim))
                .matmul(w.clone())
                .as_vec();
            let per = (ve - vb).div_ceil(threads).max(1);
            let results: Vec<Vec<(usize, f32)>> = std::thread::scope(|scope| {
                let handles: Vec<_> = (vb..ve)
                    .step_by(per)
                    .map(|a0| {
                        let (s, vp, tp, voffs, toffs) = (&s, &vp, &tp, &voffs, &toffs);
                        scope.spawn(move || {
                            let mut buf = Vec::new();
                            let mut res = Vec::new();
                            for a in a0..(a0 + per).min(ve) {
                                for b in tb..te {
                                    let p = PairTile {
                                        r0: voffs[a - vb],
                                        nv: vp[a].1,
                                        vvalid: vp[a].2,
                                        c0: toffs[b - tb],
                                        nt: tp[b].1,
                                        tvalid: tp[b].2,
                                    };
                                    let z = pair_score(s, cols, &p, inv_tau, logit_scale, &mut buf);
                                    res.push((a * n_t + b, z));
                                }
                            }
                            res
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_default())
                    .collect()
            });
            for (i, z) in results.into_iter().flatten() {
                out[i] = z;
            }
        }
    }
    Ok(out)
}
