//! Tensor glue local to seds-model: multi-head self-attention with a key-padding mask (its
//! softmax is seds-nn's `masked_softmax`), row L2 normalisation through seds-nn, and the
//! conversion of seds-nn errors. CLCL scoring, InfoNCE, the matching loss and deformable
//! sampling are seds-nn's (`seds_nn::{clcl_scores, infonce_dual, matching_scores,
//! deformable_attend}`); nothing here re-implements them.

use crate::params::{Lin, Params, T2, T3};
use dfdx::prelude::*;

/// 4-D f32 tensor alias on device `D` (default the CPU).
pub type T4<D = Cpu, T = NoneTape> = Tensor<(usize, usize, usize, usize), f32, D, T>;
/// Scalar f32 tensor alias on device `D` (default the CPU).
pub type T0<D = Cpu, T = NoneTape> = Tensor<(), f32, D, T>;

/// Multi-head self-attention with a key-padding mask.
#[derive(Clone, Copy, Debug)]
pub struct Mha {
    q: Lin,
    k: Lin,
    v: Lin,
    o: Lin,
    heads: usize,
}

/// 0/1 key-padding mask `(b*h, s, s)`: key `j` of sequence `i` is valid iff `j < valid[i]`.
pub fn key_mask<D: Device<f32>>(dev: &D, b: usize, h: usize, s: usize, valid: &[usize]) -> T3<D> {
    let mut mask = vec![0f32; b * h * s * s];
    for bi in 0..b {
        let v = valid.get(bi).copied().unwrap_or(s).clamp(1, s);
        for hi in 0..h {
            for qi in 0..s {
                let row = ((bi * h + hi) * s + qi) * s;
                mask[row..row + v].iter_mut().for_each(|m| *m = 1.0);
            }
        }
    }
    dev.tensor_from_vec(mask, (b * h, s, s))
}

impl Mha {
    /// New attention of width `w` with `heads` heads.
    pub fn new<D: Device<f32>>(p: &mut Params<D>, name: &str, w: usize, heads: usize) -> Self {
        Mha {
            q: Lin::new(p, &format!("{name}.q"), w, w),
            k: Lin::new(p, &format!("{name}.k"), w, w),
            v: Lin::new(p, &format!("{name}.v"), w, w),
            o: Lin::new(p, &format!("{name}.o"), w, w),
            heads,
        }
    }

    /// `x`: `(b*s, w)` rows of `b` sequences of length `s`; `valid[i]` = valid tokens of sequence i.
    ///
    /// Every permuted view is materialised by `reshape_like` (a contiguous copy in dfdx when
    /// the strides are not the default ones) before the matmuls and the softmax, which runs on
    /// the contiguous `q k^T` product (dfdx 0.13's softmax of a permuted view has wrong
    /// gradients; see seds-nn's notes).
    pub fn fwd<D: Device<f32>, T: Tape<f32, D>>(
        &self,
        p: &Params<D>,
        x: T2<D, T>,
        b: usize,
        s: usize,
        valid: &[usize],
    ) -> T2<D, T> {
        let w = self.q.o;
        let h = self.heads;
        let dh = w / h;
        let xk = x.with_empty_tape();
        let xv = x.with_empty_tape();
        let q = self
            .q
            .fwd(p, x)
            .reshape_like(&(b, s, h, dh))
            .permute::<_, Axes4<0, 2, 1, 3>>()
            .reshape_like(&(b * h, s, dh));
        let k = self
            .k
            .fwd(p, xk)
            .reshape_like(&(b, s, h, dh))
            .permute::<_, Axes4<0, 2, 3, 1>>()
            .reshape_like(&(b * h, dh, s));
        let v = self
            .v
            .fwd(p, xv)
            .reshape_like(&(b, s, h, dh))
            .permute::<_, Axes4<0, 2, 1, 3>>()
            .reshape_like(&(b * h, s, dh));
        let m = key_mask(&p.dev, b, h, s, valid);
        let logits = q.matmul(k) * (1.0 / (dh as f32).sqrt());
        let a = seds_nn::masked_softmax::<Axis<2>, _, _, _, _>(logits, m);
        let o = a
            .matmul(v)
            .reshape_like(&(b, h, s, dh))
            .permute::<_, Axes4<0, 2, 1, 3>>()
            .reshape_like(&(b * s, w));
        self.o.fwd(p, o)
    }
}

/// L2-normalises the rows of `(rows, d)` (seds-nn's `l2_normalize` on a one-item batch).
pub fn l2norm<D: Device<f32>, T: Tape<f32, D>>(x: T2<D, T>) -> T2<D, T> {
    let (r, d) = *x.shape();
    seds_nn::l2_normalize(x.reshape_like(&(1, r, d))).reshape_like(&(r, d))
}
