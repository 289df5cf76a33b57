//! Contrastive objectives (seds-method.md section 4): the dual-mix InfoNCE over a pair of
//! score matrices, and the Pose-RGB fine-grained matching loss.

use dfdx::prelude::*;
use seds_config::schema::Matching;

use crate::error::{check_lengths, NnError};
use crate::ops::{
    from_f64, identity, l2_normalize, length_mask, length_weights, masked_softmax, ScorePair,
};

/// Dual-mix InfoNCE:
/// `L = 1/2 [ d CE(Z_v2t) + (1-d) CE(Z_v2t^T) + d CE(Z_t2v^T) + (1-d) CE(Z_t2v) ]`
/// with `CE(M) = -(1/B) sum_a log softmax_b(M_ab)` at `b = a` (positives on the diagonal).
///
/// Both matrices must be square `[B, B]` with the same B. `d` in [0, 1].
pub fn infonce_dual<E, Dev, T>(
    z_v2t: Tensor<(usize, usize), E, Dev, T>,
    z_t2v: Tensor<(usize, usize), E, Dev, T>,
    d: f64,
) -> Result<Tensor<(), E, Dev, T>, NnError>
where
    E: Dtype,
    Dev: Device<E>,
    T: Tape<E, Dev>,
{
    const OP: &str = "infonce_dual";
    let (r1, c1) = *z_v2t.shape();
    let (r2, c2) = *z_t2v.shape();
    if r1 != c1 || r2 != c2 || r1 != r2 || r1 == 0 {
        return Err(NnError::shape(
            OP,
            format!(
                "need two non-empty square matrices of one size, got [{r1}, {c1}] and [{r2}, {c2}]"
            ),
        ));
    }
    if !(0.0..=1.0).contains(&d) {
        return Err(NnError::option(OP, "d", format!("{d} outside [0, 1]")));
    }
    let b = r1;
    let dev = z_v2t.device().clone();
    let eye = identity::<E, Dev>(&dev, b);
    // -(1/B) * weight, applied to the diagonal of the log-softmax.
    let w_d: E = from_f64(OP, "d", -0.5 * d / b as f64)?;
    let w_1d: E = from_f64(OP, "d", -0.5 * (1.0 - d) / b as f64)?;
    // CE(M): log-softmax along rows (axis 1); CE(M^T): along columns (axis 0).
    let rows_v = z_v2t.retaped::<T>().log_softmax::<Axis<1>>();
    let cols_v = z_v2t.log_softmax::<Axis<0>>();
    let rows_t = z_t2v.retaped::<T>().log_softmax::<Axis<1>>();
    let cols_t = z_t2v.log_softmax::<Axis<0>>();
    let weights_rows_v = eye.clone() * w_d;
    let weights_cols_v = eye.clone() * w_1d;
    let weights_cols_t = eye.clone() * w_d;
    let weights_rows_t = eye * w_1d;
    let l = (rows_v * weights_rows_v).sum::<(), _>()
        + (cols_v * weights_cols_v).sum::<(), _>()
        + (cols_t * weights_cols_t).sum::<(), _>()
        + (rows_t * weights_rows_t).sum::<(), _>();
    Ok(l)
}

/// Pose-RGB fine-grained matching scores `(S_p2r, S_r2p)`, both `[B, B]` indexed
/// (pose video a, RGB video b), with `V_ij = <p_a,i, r_b,j>` on L2-normalised tokens:
/// `S_p2r(a,b) = lambda * agg_{i < len_a} V_ii softmax_{j < len_b}(V_i. / tau)_i`,
/// `S_r2p(a,b) = lambda * agg_{j < len_b} V_jj softmax_{i < len_a}(V_.j / tau)_j`,
/// where agg is the mean (`Matching::Mean`) or sum (`Matching::Sum`); the inner softmaxes
/// are masked to valid tokens. `Matching::Off` is an error.
pub fn matching_scores<Dm: Dim, E, Dev, T>(
    pose: Tensor<(usize, usize, Dm), E, Dev, T>,
    rgb: Tensor<(usize, usize, Dm), E, Dev, T>,
    len: &[usize],
    tau: f64,
    logit_scale: Tensor<(), E, Dev, T>,
    mode: Matching,
) -> Result<ScorePair<E, Dev, T>, NnError>
where
    E: Dtype,
    Dev: Device<E>,
    T: Tape<E, Dev>,
{
    const OP: &str = "matching_scores";
    let mean = match mode {
        Matching::Off => return Err(NnError::option(OP, "mode", "matching is off")),
        Matching::Mean => true,
        Matching::Sum => false,
    };
    if !(tau > 0.0 && tau.is_finite()) {
        return Err(NnError::option(OP, "tau", format!("{tau} must be > 0")));
    }
    let (b, n, dm) = *pose.shape();
    let (b2, n2, d2) = *rgb.shape();
    if (b, n, dm.size()) != (b2, n2, d2.size()) {
        return Err(NnError::shape(
            OP,
            format!(
                "pose [{b}, {n}, {}] and rgb [{b2}, {n2}, {}] differ",
                dm.size(),
                d2.size()
            ),
        ));
    }
    check_lengths(OP, "len", len, b, n, 1)?;
    let dev = pose.device().clone();
    let inv_tau: E = from_f64(OP, "tau", 1.0 / tau)?;
    let shape4 = (b, b, n, n);
    let p = l2_normalize(pose).reshape_like(&(b * n, dm));
    let r = l2_normalize(rgb)
        .reshape_like(&(b * n, dm))
        .permute::<(Dm, usize), Axes2<1, 0>>();
    // v[a, b, i, j] = <p_a,i, r_b,j>
    let v = p
        .matmul(r)
        .reshape_like(&(b, n, b, n))
        .permute::<(usize, usize, usize, usize), Axes4<0, 2, 1, 3>>()
        .contiguous();
    let eye = identity::<E, Dev>(&dev, n)
        .broadcast_like::<(usize, usize, usize, usize), Axes2<0, 1>>(&shape4);
    let mask = length_mask::<E, Dev>(&dev, len, n);
    let weights = length_weights::<E, Dev>(&dev, len, n, mean);

    // p2r: softmax over rgb tokens j (axis 3) masked by rgb video b.
    let m = mask
        .clone()
        .broadcast_like::<(usize, usize, usize, usize), Axes2<0, 2>>(&shape4);
    let sm = masked_softmax::<Axis<3>, _, _, _, _>(v.retaped::<T>() * inv_tau, m);
    let diag = (sm * v.retaped::<T>() * eye.clone()).sum::<(usize, usize, usize), Axis<3>>();
    let w = weights
        .clone()
        .broadcast_like::<(usize, usize, usize), Axis<1>>(&(b, b, n));
    let s_p2r = (diag * w).sum::<(usize, usize), Axis<2>>();

    // r2p: softmax over pose tokens i (axis 2) masked by pose video a.
    let m = mask.broadcast_like::<(usize, usize, usize, usize), Axes2<1, 3>>(&shape4);
    let sm = masked_softmax::<Axis<2>, _, _, _, _>(v.retaped::<T>() * inv_tau, m);
    let diag = (sm * v * eye).sum::<(usize, usize, usize), Axis<2>>();
    let w = weights.broadcast_like::<(usize, usize, usize), Axis<0>>(&(b, b, n));
    let s_r2p = (diag * w).sum::<(usize, usize), Axis<2>>();

    let lam = logit_scale.broadcast_like::<(usize, usize), Axes2<0, 1>>(&(b, b));
    Ok((s_p2r * lam.retaped::<T>(), s_r2p * lam))
}

/// Pose-RGB matching loss `L_pr = infonce_dual(S_p2r, S_r2p, d)` (see [`matching_scores`]).
pub fn matching_loss<Dm: Dim, E, Dev, T>(
    pose: Tensor<(usize, usize, Dm), E, Dev, T>,
    rgb: Tensor<(usize, usize, Dm), E, Dev, T>,
    len: &[usize],
    tau: f64,
    logit_scale: Tensor<(), E, Dev, T>,
    mode: Matching,
    d: f64,
) -> Result<Tensor<(), E, Dev, T>, NnError>
where
    E: Dtype,
    Dev: Device<E>,
    T: Tape<E, Dev>,
{
    let (s_p2r, s_r2p) = matching_scores(pose, rgb, len, tau, logit_scale, mode)?;
    infonce_dual(s_p2r, s_r2p, d)
}
