//! seds-nn: the SEDS-specific differentiable building blocks, in dfdx 0.13.
//!
//! Everything is generic over dtype `E` (f32 for training, f64 for gradient checks), device
//! `Dev: Device<E>` (no Cpu-only calls outside [`gradcheck`]) and tape `T: Tape<E, Dev>`.
//! Token sequences are `Tensor<(usize, usize, Dm), E, Dev, T>` = `[batch, tokens, D]` where
//! the scoring functions accept any `Dm: Dim` (a `Const<D>` or a runtime `usize`, as
//! seds-model uses) and the const-generic modules use `Const<D>`;
//! with validity given as lengths `&[usize]` (tokens `[0, len)` valid, the rest padding).
//!
//! # API
//! Primitives ([`ops`]):
//! - `masked_softmax::<Ax, ..>(x, mask01) -> same shape` (masked entries exactly 0; a fully
//!   masked row is all zeros, never NaN);
//! - `l2_normalize(x)`, `quick_gelu(x)`, `length_mask(dev, lens, tokens)`,
//!   `length_weights(dev, lens, tokens, mean)`, `identity(dev, n)`,
//!   `sinusoidal_encoding::<D, _, _>(dev, batch, tokens)`, `sinusoidal_table(tokens, dim)`.
//!
//! Scoring and losses ([`clcl`], [`gallery`], [`losses`]):
//! - `clcl_scores(video, video_len, text, text_len, &ClclOptions { tau, masking, cls_as_clip },
//!   logit_scale: Tensor<(), E, Dev, T>) -> Result<(Z_v2t [Bv, Bt], Z_t2v [Bv, Bt])>`;
//!   `logit_scale` is lambda itself (see `logit_scale(log_param, max) = min(exp(p), max)`).
//!   Both outputs share one tape: combine them (e.g. with `infonce_dual`) before `backward`.
//! - `clcl_gallery_scores(&[TokenMatrix], &[TokenMatrix], &ClclOptions, logit_scale: f32,
//!   block) -> Result<Vec<f32>>` (row-major videos x texts, `0.5 Z_v2t + 0.5 Z_t2v`, no tape;
//!   tiles of `block` videos x `block` texts, each one dfdx Cpu gemm + host softmaxes on all
//!   cores). `TokenMatrix::new(data, rows, dim, valid)` / `TokenMatrix::all_valid(data, dim)`.
//! - `infonce_dual(z_v2t, z_t2v, d) -> Result<Tensor<(), ..>>`;
//! - `matching_scores(pose, rgb, len, tau, logit_scale, Matching) -> (S_p2r, S_r2p)` and
//!   `matching_loss(pose, rgb, len, tau, logit_scale, Matching, d) -> scalar`.
//!
//! Fusion ([`deform`], [`cgaf`], [`fusion`]):
//! - `DeformableAttention<D, H, HK, E, Dev>` (HK = H * KMAX offsets) and the lower-level
//!   `deformable_sample(seq [BH, T, Dh], offsets [BH, T*K], lens, heads, k, reference)`;
//! - `deformable_attend(q [BH, T, Dh], Vec<KeyValues { keys, values, offsets }>, lens,
//!   heads, k, reference, scale) -> (context [BH, T, Dh], positions per source)`: the
//!   attention core shared by `DeformableAttention` and seds-model's CGAF (whose projections
//!   live in its own parameter store); `split_heads` / `merge_heads` for any last dim;
//! - `CgafLayer<D, H, HK, D4, E, Dev>` (one layer, both branches);
//! - `Cgaf<D, H, HK, D2, D4, E, Dev>`: `forward(f_p, f_r, lens, &CgafConfig, train) ->
//!   Result<(f_v, CgafTrace)>`, up to [`cgaf::MAX_LAYERS`] layers with runtime keys per layer;
//! - `MlpFusion<D, D2, D4, E, Dev>`: `forward(a, b) = LN(MLP([a; b]) + a + b)`;
//!   `sum_fusion(a, b) = a + b`.
//! - Modules implement dfdx `TensorCollection` (build with `dev.build_module::<M, E>()` or
//!   `M::try_build(&dev)`, optimisers, safetensors) with `E: NnFloat`.
//!
//! Gradient checking ([`gradcheck`], Cpu + f64): `check_gradient(dev, &x, f, eps) -> GradReport`
//! for any scalar function of one traced tensor (e.g. a graph convolution in seds-model).
//!
//! # Notes for users
//! - Inputs used more than once inside a function are `.retaped()`; each output keeps the tape
//!   of everything it depends on only once the outputs are combined (e.g. `Z_v2t` and `Z_t2v`).
//! - Score tensors are made `.contiguous()` after `permute`: in dfdx 0.13 `softmax` of a
//!   permuted (non-contiguous) view, along any axis, has wrong gradients (relative error ~0.4
//!   in an f64 check; elementwise ops are fine but keep the view non-contiguous).
//! - dfdx's optimisers report `UnusedParams` only for gradients that were never allocated:
//!   gradients from `model.alloc_grads()` are pre-allocated for every parameter, so the check
//!   is silent with them; trace with `leaky_trace()` (as the CGAF test does) to use it.
//! - `DeformableAttention` offsets use dfdx's default Linear init (uniform +-1/sqrt(D)), so
//!   initial sampling positions are jittered around the reference offsets.

pub mod cgaf;
pub mod clcl;
pub mod deform;
pub mod error;
pub mod fusion;
pub mod gallery;
pub mod gradcheck;
pub mod losses;
pub mod ops;

pub use cgaf::{Cgaf, CgafConfig, CgafLayer, CgafLayerTrace, CgafTrace, MAX_LAYERS};
pub use clcl::{clcl_scores, logit_scale, ClclOptions};
pub use deform::{
    deformable_attend, deformable_sample, merge_heads, reference_offsets, split_heads,
    DeformableAttention, KeyValues, KMAX_DEFAULT,
};
pub use error::NnError;
pub use fusion::{sum_fusion, MlpFusion};
pub use gallery::{clcl_gallery_scores, TokenMatrix};
pub use losses::{infonce_dual, matching_loss, matching_scores};
pub use ops::{
    identity, l2_normalize, length_mask, length_weights, masked_softmax, quick_gelu,
    sinusoidal_encoding, sinusoidal_table,
};
pub use seds_config::schema::{InnerSoftmax, Matching, ReferenceOffsets};

/// Float dtypes usable for seds-nn modules (f32, f64): what dfdx's parameter
/// initialisation needs. Use it as the bound on `E` when embedding seds-nn modules.
pub trait NnFloat:
    dfdx::shapes::Dtype + num_traits::Float + rand_distr::uniform::SampleUniform
{
}
impl<F: dfdx::shapes::Dtype + num_traits::Float + rand_distr::uniform::SampleUniform> NnFloat
    for F
{
}
