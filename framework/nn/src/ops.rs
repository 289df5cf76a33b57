//! Small differentiable primitives: masked softmax, L2 normalisation, QuickGELU, host-built
//! constant tensors (length masks, identity, the sinusoidal position table).

use dfdx::prelude::*;

use crate::error::NnError;

/// Additive bias given to masked logits before the softmax (then the output is re-masked).
const MASK_NEG: f64 = 1e9;

/// Two `[rows, cols]` score matrices with one shared tape, e.g. `(Z_v2t, Z_t2v)` of
/// [`crate::clcl_scores`] or `(S_p2r, S_r2p)` of [`crate::matching_scores`].
pub type ScorePair<E, Dev, T> = (
    Tensor<(usize, usize), E, Dev, T>,
    Tensor<(usize, usize), E, Dev, T>,
);

/// Softmax along axis `Ax` where entries with `mask == 0` get probability exactly zero.
///
/// `mask` holds 0/1 values (any shape broadcast by the caller to `x`'s shape). A row whose
/// entries are all masked yields all zeros (no NaN) and passes zero gradient.
/// Implementation: `softmax(x + (mask - 1) * 1e9) * mask`.
pub fn masked_softmax<Ax: Axes, S, E, Dev, T>(
    x: Tensor<S, E, Dev, T>,
    mask: Tensor<S, E, Dev>,
) -> Tensor<S, E, Dev, T>
where
    S: Shape + ReduceShape<Ax>,
    E: Dtype,
    Dev: Device<E>,
    T: Tape<E, Dev>,
{
    let big = E::from_f64(MASK_NEG).unwrap_or(E::ONE);
    let bias = (mask.clone() - E::ONE) * big;
    (x + bias).softmax::<Ax>() * mask
}

/// L2-normalises the last axis of a token tensor `[B, N, D]` (D a `Const` or a runtime
/// `usize`): `x / sqrt(sum x^2 + 1e-12)`.
pub fn l2_normalize<Dm: Dim, E, Dev, T>(
    x: Tensor<(usize, usize, Dm), E, Dev, T>,
) -> Tensor<(usize, usize, Dm), E, Dev, T>
where
    E: Dtype,
    Dev: Device<E>,
    T: Tape<E, Dev>,
{
    let shape = *x.shape();
    let eps = E::from_f64(1e-12).unwrap_or(E::default());
    let norm = (x.retaped::<T>().square().sum::<(usize, usize), Axis<2>>() + eps).sqrt();
    x / norm.broadcast_like::<_, Axis<2>>(&shape)
}

/// QuickGELU: `x * sigmoid(1.702 x)` (CLIP's activation).
pub fn quick_gelu<S: Shape, E: Dtype, Dev: Device<E>, T: Tape<E, Dev>>(
    x: Tensor<S, E, Dev, T>,
) -> Tensor<S, E, Dev, T> {
    let k = E::from_f64(1.702).unwrap_or(E::ONE);
    let gate = (x.retaped::<T>() * k).sigmoid();
    x * gate
}

/// 0/1 validity mask `[batch, tokens]`: entry (b, t) is 1 iff `t < lens[b]`.
pub fn length_mask<E: Dtype, Dev: Device<E>>(
    dev: &Dev,
    lens: &[usize],
    tokens: usize,
) -> Tensor<(usize, usize), E, Dev> {
    let mut v = vec![E::default(); lens.len() * tokens];
    for (b, &l) in lens.iter().enumerate() {
        for t in 0..l.min(tokens) {
            v[b * tokens + t] = E::ONE;
        }
    }
    dev.tensor_from_vec(v, (lens.len(), tokens))
}

/// Mean weights `[batch, tokens]`: `1/lens[b]` on valid tokens (or 1 when `mean == false`),
/// 0 on padding. A zero length gives an all-zero row.
pub fn length_weights<E: Dtype, Dev: Device<E>>(
    dev: &Dev,
    lens: &[usize],
    tokens: usize,
    mean: bool,
) -> Tensor<(usize, usize), E, Dev> {
    let mut v = vec![E::default(); lens.len() * tokens];
    for (b, &l) in lens.iter().enumerate() {
        let w = if mean && l > 0 { 1.0 / l as f64 } else { 1.0 };
        let w = E::from_f64(w).unwrap_or(E::ONE);
        for t in 0..l.min(tokens) {
            v[b * tokens + t] = w;
        }
    }
    dev.tensor_from_vec(v, (lens.len(), tokens))
}

/// Identity matrix `[n, n]`.
pub fn identity<E: Dtype, Dev: Device<E>>(dev: &Dev, n: usize) -> Tensor<(usize, usize), E, Dev> {
    let mut v = vec![E::default(); n * n];
    for i in 0..n {
        v[i * n + i] = E::ONE;
    }
    dev.tensor_from_vec(v, (n, n))
}

/// Host values of the sinusoidal position encoding, row-major `[tokens, dim]`:
/// `pe[t, 2i] = sin(t / 10000^(2i/dim))`, `pe[t, 2i+1] = cos(t / 10000^(2i/dim))`.
pub fn sinusoidal_table(tokens: usize, dim: usize) -> Vec<f64> {
    let mut v = vec![0.0; tokens * dim];
    for t in 0..tokens {
        for c in 0..dim {
            let i2 = (c / 2 * 2) as f64;
            let angle = t as f64 / 10000f64.powf(i2 / dim as f64);
            v[t * dim + c] = if c % 2 == 0 { angle.sin() } else { angle.cos() };
        }
    }
    v
}

/// Converts a dtype value to f64 (NaN when not representable).
pub(crate) fn to_f64<E: Dtype>(x: E) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
}

/// Converts an f64 to the dtype, or reports the option that could not be represented.
pub(crate) fn from_f64<E: Dtype>(
    op: &'static str,
    arg: &'static str,
    x: f64,
) -> Result<E, NnError> {
    E::from_f64(x).ok_or_else(|| NnError::option(op, arg, format!("{x} not representable")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_softmax_zeroes_masked_and_handles_full_mask() {
        let dev: Cpu = Default::default();
        let x = dev.tensor_from_vec(vec![1.0f64, 2.0, 3.0, 0.5, -1.0, 7.0], (2usize, 3usize));
        let m = dev.tensor_from_vec(vec![1.0f64, 0.0, 1.0, 0.0, 0.0, 0.0], (2usize, 3usize));
        let y = masked_softmax::<Axis<1>, _, _, _, _>(x, m).as_vec();
        // row 0: softmax over {1, 3}: e^1/(e^1+e^3) = 1/(1+e^2) = 0.11920292
        assert!((y[0] - 0.11920292202211755).abs() < 1e-12);
        assert_eq!(y[1], 0.0);
        assert!((y[2] - 0.8807970779778823).abs() < 1e-12);
        // row 1 fully masked: zeros, no NaN
        assert_eq!(&y[3..], &[0.0, 0.0, 0.0]);
    }

    #[test]
    fn l2_normalize_unit_rows_and_zero_rows_stay_finite() {
        let dev: Cpu = Default::default();
        let x = dev.tensor_from_vec(vec![3.0f64, 4.0, 0.0, 0.0], (1usize, 2usize, Const::<2>));
        let y = l2_normalize(x).as_vec();
        assert!((y[0] - 0.6).abs() < 1e-12 && (y[1] - 0.8).abs() < 1e-12);
        assert_eq!(&y[2..], &[0.0, 0.0]);
    }

    #[test]
    fn quick_gelu_values() {
        let dev: Cpu = Default::default();
        let y = quick_gelu(dev.tensor([0.0f64, 1.0, -1.0])).array();
        let s = |x: f64| x / (1.0 + (-1.702 * x).exp());
        assert_eq!(y[0], 0.0);
        assert!((y[1] - s(1.0)).abs() < 1e-12 && (y[2] - s(-1.0)).abs() < 1e-12);
    }

    #[test]
    fn sinusoidal_known_values() {
        let t = sinusoidal_table(3, 4);
        // t = 1: [sin 1, cos 1, sin(1/100), cos(1/100)]
        assert!((t[4] - 1f64.sin()).abs() < 1e-12);
        assert!((t[5] - 1f64.cos()).abs() < 1e-12);
        assert!((t[6] - 0.01f64.sin()).abs() < 1e-12);
        assert!((t[7] - 0.01f64.cos()).abs() < 1e-12);
        assert_eq!(t[0], 0.0);
        assert_eq!(t[1], 1.0);
    }

    #[test]
    fn masks_and_weights() {
        let dev: Cpu = Default::default();
        let m = length_mask::<f32, _>(&dev, &[2, 0], 3).as_vec();
        assert_eq!(m, vec![1.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
        let w = length_weights::<f32, _>(&dev, &[2, 3], 3, true).as_vec();
        assert_eq!(w, vec![0.5, 0.5, 0.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0]);
    }
}
