//! seds-nn: the SEDS-specific differentiable building blocks, in dfdx 0.13.
//!
//! Everything is generic over dtype `E` (f32 for training, f64 for gradient checks), device
//! `Dev: Device<E>` (no Cpu-only calls outside [`gradcheck`]) and tape `T: Tape<E, Dev>`.
//! Token sequences are `Tensor<(usize, usize, Dm), E, Dev, T>` = `[batch, tokens, D]` where
//! the functions accept any `Dm: Dim` (a `Const<D>` or a runtime `usize`, as seds-model uses);
//! with validity given as lengths `&[usize]` (tokens `[0, len)` valid, the rest padding).
//!
//! # API
//! Primitives ([`ops`]):
//! - `masked_softmax::<Ax, ..>(x, mask01) -> same shape` (masked entries exactly 0; a fully
//!   masked row is all zeros, never NaN);
//! - `l2_normalize(x)`, `quick_gelu(x)`, `length_mask(dev, lens, tokens)`,
//!   `length_weights(dev, lens, tokens, mean)`, `identity(dev, n)`,
//!   `sinusoidal_table(tokens, dim)`.
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
//! - `matching_scores(pose, rgb, len, tau, logit_scale, Matching) -> (S_p2r, S_r2p)` (both
//!   scorers return a `ScorePair`) and
//!   `matching_loss(pose, rgb, len, tau, logit_scale, Matching, d) -> scalar`.
//!
//! Deformable attention core and fusion ([`deform`], [`fusion`]); seds-model owns the
//! parameters (projections, FFNs, the MLP output fusion) and calls these:
//! - `deformable_sample(seq [BH, T, Dh], offsets [BH, T*K], lens, heads, k, reference)`;
//! - `deformable_attend(q [BH, T, Dh], Vec<KeyValues { keys, values, offsets }>, lens,
//!   heads, k, reference, scale) -> (context [BH, T, Dh], positions per source)`: the
//!   attention core of seds-model's CGAF; `split_heads` / `merge_heads` for any last dim;
//!   `reference_offsets(k, mode)`;
//! - `sum_fusion(a, b) = a + b`.
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

pub mod clcl;
pub mod deform;
pub mod error;
pub mod fusion;
pub mod gallery;
pub mod gradcheck;
pub mod losses;
pub mod ops;

pub use clcl::{clcl_scores, logit_scale, ClclOptions};
pub use deform::{
    deformable_attend, deformable_sample, merge_heads, reference_offsets, split_heads, KeyValues,
};
pub use error::NnError;
pub use fusion::sum_fusion;
pub use gallery::{clcl_gallery_scores, TokenMatrix};
pub use losses::{infonce_dual, matching_loss, matching_scores};
pub use ops::{
    identity, l2_normalize, length_mask, length_weights, masked_softmax, quick_gelu,
    sinusoidal_table, ScorePair,
};
pub use seds_config::schema::{InnerSoftmax, Matching, ReferenceOffsets};
