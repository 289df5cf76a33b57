//! Deformable local attention (seds-method.md section 3.4): learned real-valued offsets around
//! reference positions, linear interpolation of keys/values at wrapped positions (gradients
//! flow into the offsets through the fractional weight), softmax over the K samples.

use dfdx::prelude::*;
use seds_config::schema::ReferenceOffsets;

use crate::error::{check_lengths, NnError};
use crate::ops::{from_f64, to_f64};

/// Reference offsets rho for `k` samples.
/// `Symmetric`: `s - (k-1)/2` (real; -2..=2 for 5, -1..=1 for 3, -1.5..=1.5 for 4).
/// `Release`: `s - k/2 - 1` with integer division (-3..=1 for 5, -2..=0 for 3, -4..=2 for 7).
pub fn reference_offsets(k: usize, mode: ReferenceOffsets) -> Vec<f64> {
    (0..k)
        .map(|s| match mode {
            ReferenceOffsets::Symmetric => s as f64 - (k as f64 - 1.0) / 2.0,
            ReferenceOffsets::Release => s as f64 - (k / 2) as f64 - 1.0,
        })
        .collect()
}

/// Host-side plan of one deformable sampling: integer neighbours (outside the tape) and the
/// constant `c` with `frac = delta - c` (inside the tape).
pub(crate) struct SamplePlan<E: Dtype, Dev: Device<E>> {
    idx0: Tensor<(usize, usize), usize, Dev>,
    idx1: Tensor<(usize, usize), usize, Dev>,
    shift: Tensor<(usize, usize), E, Dev>,
    /// Wrapped real positions u, laid out `[B, T, H, K]`.
    pub positions: Vec<f32>,
}

/// Builds the plan from host offsets laid out `[B*H, T, K]` (row `b*heads + h`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn plan_samples<E: Dtype, Dev: Device<E>>(
    op: &'static str,
    dev: &Dev,
    delta: &[E],
    batch: usize,
    heads: usize,
    tokens: usize,
    k: usize,
    lens: &[usize],
    rho: &[f64],
) -> Result<SamplePlan<E, Dev>, NnError> {
    let n = batch * heads * tokens * k;
    if delta.len() != n || rho.len() != k {
        return Err(NnError::shape(
            op,
            format!("{} offsets, expected {n}", delta.len()),
        ));
    }
    let mut idx0 = vec![0usize; n];
    let mut idx1 = vec![0usize; n];
    let mut shift = vec![E::default(); n];
    let mut positions = vec![0f32; n];
    for b in 0..batch {
        let len = lens[b];
        let lf = len as f64;
        for h in 0..heads {
            for t in 0..tokens {
                for s in 0..k {
                    let i = ((b * heads + h) * tokens + t) * k + s;
                    let d = to_f64(delta[i]);
                    if !d.is_finite() {
                        return Err(NnError::NonFinite {
                            op,
                            what: "offsets",
                        });
                    }
                    let raw = t as f64 + rho[s] + d;
                    let mut w = raw - lf * (raw / lf).floor();
                    if !(0.0..lf).contains(&w) {
                        w = 0.0; // rounding at the wrap boundary
                    }
                    let i0 = (w.floor() as usize).min(len - 1);
                    let frac = w - i0 as f64;
                    idx0[i] = i0;
                    idx1[i] = (i0 + 1) % len;
                    shift[i] = from_f64(op, "offsets", d - frac)?;
                    positions[((b * tokens + t) * heads + h) * k + s] = w as f32;
                }
            }
        }
    }
    let shape = (batch * heads, tokens * k);
    Ok(SamplePlan {
        idx0: dev.tensor_from_vec(idx0, shape),
        idx1: dev.tensor_from_vec(idx1, shape),
        shift: dev.tensor_from_vec(shift, shape),
        positions,
    })
}

/// Linear interpolation of `seq [BH, T, Dh]` at the planned positions: `[BH, T*K, Dh]`.
pub(crate) fn interpolate<E: Dtype, Dev: Device<E>, T: Tape<E, Dev>>(
    seq: Tensor<(usize, usize, usize), E, Dev, T>,
    frac: Tensor<(usize, usize), E, Dev, T>,
    plan: &SamplePlan<E, Dev>,
) -> Tensor<(usize, usize, usize), E, Dev, T> {
    let (bh, _, dh) = *seq.shape();
    let tk = frac.shape().1;
    let s0 = seq.retaped::<T>().gather(plan.idx0.clone());
    let s1 = seq.gather(plan.idx1.clone());
    let f = frac.broadcast_like::<(usize, usize, usize), Axis<2>>(&(bh, tk, dh));
    s0.retaped::<T>() + (s1 - s0) * f
}

/// Deformable sampling of one sequence (the interpolation step of [`deformable_attend`]).
///
/// `seq`: `[B*heads, T, Dh]` (row `b*heads + h`), `offsets`: learned deltas `[B*heads, T*K]`
/// (sample s of token t at column `t*K + s`), `lens`: valid length per batch item. Position
/// `u = t + rho_s + delta` is wrapped into `[0, lens[b])`; the result at u is
/// `(1 - f) seq[floor u] + f seq[(floor u + 1) mod len]`. Returns `[B*heads, T*K, Dh]` and
/// the wrapped positions laid out `[B, T, heads, K]`.
#[allow(clippy::type_complexity)]
pub fn deformable_sample<E: Dtype, Dev: Device<E>, T: Tape<E, Dev>>(
    seq: Tensor<(usize, usize, usize), E, Dev, T>,
    offsets: Tensor<(usize, usize), E, Dev, T>,
    lens: &[usize],
    heads: usize,
    k: usize,
    reference: ReferenceOffsets,
) -> Result<(Tensor<(usize, usize, usize), E, Dev, T>, Vec<f32>), NnError> {
    const OP: &str = "deformable_sample";
    let (bh, t, _) = *seq.shape();
    if heads == 0 || k == 0 || bh % heads != 0 || *offsets.shape() != (bh, t * k) {
        return Err(NnError::shape(
            OP,
            format!(
                "seq [{bh}, {t}, _], offsets {:?}, heads {heads}, k {k}",
                offsets.shape()
            ),
        ));
    }
    let batch = bh / heads;
    check_lengths(OP, "lens", lens, batch, t, 1)?;
    let dev = seq.device().clone();
    let delta = offsets.as_vec();
    let rho = reference_offsets(k, reference);
    let plan = plan_samples(OP, &dev, &delta, batch, heads, t, k, lens, &rho)?;
    let frac = offsets - plan.shift.clone();
    let out = interpolate(seq, frac, &plan);
    Ok((out, plan.positions))
}

/// `[B, T, D] -> [B*H, T, D/H]` (row `b*H + h`); D a `Const` or a runtime `usize`.
pub fn split_heads<Dm: Dim, E: Dtype, Dev: Device<E>, T: Tape<E, Dev>>(
    x: Tensor<(usize, usize, Dm), E, Dev, T>,
    heads: usize,
) -> Tensor<(usize, usize, usize), E, Dev, T> {
    let (b, t, d) = *x.shape();
    let dh = d.size() / heads;
    x.reshape_like(&(b, t, heads, dh))
        .permute::<(usize, usize, usize, usize), Axes4<0, 2, 1, 3>>()
        .reshape_like(&(b * heads, t, dh))
}

/// `[B*H, T, D/H] -> [B, T, D]` with `dm` the merged width (inverse of [`split_heads`]).
pub fn merge_heads<Dm: Dim, E: Dtype, Dev: Device<E>, T: Tape<E, Dev>>(
    x: Tensor<(usize, usize, usize), E, Dev, T>,
    heads: usize,
    dm: Dm,
) -> Tensor<(usize, usize, Dm), E, Dev, T> {
    let (bh, t, dh) = *x.shape();
    x.reshape_like(&(bh / heads, heads, t, dh))
        .permute::<(usize, usize, usize, usize), Axes4<0, 2, 1, 3>>()
        .reshape_like(&(bh / heads, t, dm))
}

/// Key/value sequences one deformable attention samples from, head-split `[B*H, T, Dh]`.
pub struct KeyValues<E: Dtype, Dev: Device<E>, T: Tape<E, Dev>> {
    /// Keys `W_k y`.
    pub keys: Tensor<(usize, usize, usize), E, Dev, T>,
    /// Values `W_v y`.
    pub values: Tensor<(usize, usize, usize), E, Dev, T>,
    /// Learned offsets of this source, `[B*H, T*K]` (sample s of token t at `t*K + s`).
    pub offsets: Tensor<(usize, usize), E, Dev, T>,
}

/// The attention core of deformable local attention (seds-method.md section 3.4), used by
/// seds-model's CGAF (which keeps the query/key/value/offset/output projections in its own
/// parameter store): for every source in `sources` (the other modality, then optionally the
/// query's own), keys and values are linearly interpolated at `u = t + rho_s + delta`
/// wrapped into `lens[b]` (gradients flow into the offsets), then
/// `a = softmax over all samples of <q, k~> * scale` and the output is `sum a v~`.
///
/// `q`: `[B*heads, T, Dh]`. Returns the context `[B*heads, T, Dh]` and, per source, the
/// wrapped positions laid out `[B, T, heads, K]`.
#[allow(clippy::type_complexity)]
pub fn deformable_attend<E: Dtype, Dev: Device<E>, T: Tape<E, Dev>>(
    q: Tensor<(usize, usize, usize), E, Dev, T>,
    sources: Vec<KeyValues<E, Dev, T>>,
    lens: &[usize],
    heads: usize,
    k: usize,
    reference: ReferenceOffsets,
    scale: f64,
) -> Result<(Tensor<(usize, usize, usize), E, Dev, T>, Vec<Vec<f32>>), NnError> {
    const OP: &str = "deformable_attend";
    let (bh, t, dh) = *q.shape();
    if heads == 0 || k == 0 || bh % heads != 0 || sources.is_empty() {
        return Err(NnError::shape(
            OP,
            format!(
                "q [{bh}, {t}, {dh}], heads {heads}, k {k}, {} sources",
                sources.len()
            ),
        ));
    }
    for s in &sources {
        if *s.keys.shape() != (bh, t, dh)
            || *s.values.shape() != (bh, t, dh)
            || *s.offsets.shape() != (bh, t * k)
        {
            return Err(NnError::shape(
                OP,
                format!(
                    "q [{bh}, {t}, {dh}] vs keys {:?}, values {:?}, offsets {:?} (k = {k})",
                    s.keys.shape(),
                    s.values.shape(),
                    s.offsets.shape()
                ),
            ));
        }
    }
    let batch = bh / heads;
    check_lengths(OP, "lens", lens, batch, t, 1)?;
    let dev = q.device().clone();
    let scale: E = from_f64(OP, "scale", scale)?;
    let rho = reference_offsets(k, reference);
    let shape4 = (bh, t, k, dh);
    let mut qb = Some(q.broadcast_like::<(usize, usize, usize, usize), Axis<2>>(&shape4));
    let n_src = sources.len();
    let mut logits: Option<Tensor<(usize, usize, usize), E, Dev, T>> = None;
    let mut vals: Option<Tensor<(usize, usize, usize, usize), E, Dev, T>> = None;
    let mut positions = Vec::with_capacity(sources.len());
    for (si, src) in sources.into_iter().enumerate() {
        let delta = src.offsets.as_vec();
        let plan = plan_samples(OP, &dev, &delta, batch, heads, t, k, lens, &rho)?;
        let frac = src.offsets - plan.shift.clone();
        let ks = interpolate(src.keys, frac.retaped::<T>(), &plan).reshape_like(&shape4);
        let vs = interpolate(src.values, frac, &plan).reshape_like(&shape4);
        // The query's own tape must be consumed exactly once (by the last source).
        let qs = match (si + 1 == n_src, qb.as_ref()) {
            (false, Some(x)) => x.retaped::<T>(),
            _ => match qb.take() {
                Some(x) => x,
                None => return Err(NnError::shape(OP, "query consumed twice".to_string())),
            },
        };
        let l = (qs * ks).sum::<(usize, usize, usize), Axis<3>>();
        logits = Some(match logits {
            None => l,
            Some(prev) => (prev, l).concat_along(Axis::<2>),
        });
        vals = Some(match vals {
            None => vs,
            Some(prev) => (prev, vs).concat_along(Axis::<2>),
        });
        positions.push(plan.positions);
    }
    let (logits, vs) = match (logits, vals) {
        (Some(l), Some(v)) => (l, v),
        _ => return Err(NnError::shape(OP, "no sources".to_string())),
    };
    let kk = logits.shape().2;
    let a = (logits * scale).softmax::<Axis<2>>();
    let ctx = (a.broadcast_like::<(usize, usize, usize, usize), Axis<3>>(&(bh, t, kk, dh)) * vs)
        .sum::<(usize, usize, usize), Axis<2>>();
    Ok((ctx, positions))
}
