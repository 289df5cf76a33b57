//! CLCL token-level late-interaction scoring (CiCo / SEDS, seds-method.md section 4) on
//! batches, with tape: `Z_v2t`, `Z_t2v` score matrices `[Bv, Bt]`.

use dfdx::prelude::*;
use seds_config::schema::InnerSoftmax;

use crate::error::{check_lengths, NnError};
use crate::ops::{from_f64, l2_normalize, length_mask, length_weights, masked_softmax, ScorePair};

/// Options of CLCL scoring.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClclOptions {
    /// Temperature of the inner softmax (0.07 in SEDS).
    pub tau: f64,
    /// `Masked`: padding excluded from the inner softmaxes; `Release`: padding takes part.
    pub masking: InnerSoftmax,
    /// Whether video token 0 (the CLS) is scored like a clip; `false` drops it everywhere.
    pub cls_as_clip: bool,
}

impl Default for ClclOptions {
    fn default() -> Self {
        ClclOptions {
            tau: 0.07,
            masking: InnerSoftmax::Masked,
            cls_as_clip: true,
        }
    }
}

impl ClclOptions {
    pub(crate) fn check(&self, op: &'static str) -> Result<(), NnError> {
        if !(self.tau > 0.0 && self.tau.is_finite()) {
            return Err(NnError::option(
                op,
                "tau",
                format!("{} must be > 0", self.tau),
            ));
        }
        Ok(())
    }
}

/// `lambda = min(exp(param), max)` with gradient into `param` while not clamped
/// (CLIP-style learnable logit scale; pass the result to [`clcl_scores`]).
pub fn logit_scale<E: Dtype, Dev: Device<E>, T: Tape<E, Dev>>(
    log_param: Tensor<(), E, Dev, T>,
    max: f64,
) -> Tensor<(), E, Dev, T> {
    log_param.exp().clamp(f64::MIN, max)
}

/// CLCL scores of every (video a, text b) pair of a batch, with tape.
///
/// - `video`: `[Bv, Nv, D]` (token 0 = CLS when it comes from the interaction transformer),
///   valid tokens `[0, video_len[a])`; `text`: `[Bt, Nt, D]`, valid `[0, text_len[b])`.
/// - Tokens are L2-normalised inside; `s_ij = <v_i, w_j>`.
/// - `Z_v2t(a,b) = lambda * mean_{valid i} sum_j softmax_j(s_ij / tau) s_ij`,
///   `Z_t2v(a,b) = lambda * mean_{valid j} sum_i softmax_i(s_ij / tau) s_ij`; the outer means
///   are always over valid tokens; the inner softmaxes skip padding unless
///   `masking == Release`. With `cls_as_clip == false` video token 0 is dropped entirely
///   (so `video_len` must be >= 2).
/// - `logit_scale`: lambda as a scalar tensor (already `exp`-ed and clamped, see
///   [`logit_scale`]); use `.retaped()` if it is used for several streams.
///
/// Returns `(Z_v2t, Z_t2v)`, both `[Bv, Bt]`.
pub fn clcl_scores<Dm: Dim, E, Dev, T>(
    video: Tensor<(usize, usize, Dm), E, Dev, T>,
    video_len: &[usize],
    text: Tensor<(usize, usize, Dm), E, Dev, T>,
    text_len: &[usize],
    opts: &ClclOptions,
    logit_scale: Tensor<(), E, Dev, T>,
) -> Result<ScorePair<E, Dev, T>, NnError>
where
    E: Dtype,
    Dev: Device<E>,
    T: Tape<E, Dev>,
{
    const OP: &str = "clcl_scores";
    opts.check(OP)?;
    let (bv, nv0, dm) = *video.shape();
    let (bt, nt, dt) = *text.shape();
    if dm.size() != dt.size() {
        return Err(NnError::shape(
            OP,
            format!("video dim {} vs text dim {}", dm.size(), dt.size()),
        ));
    }
    let min_v = if opts.cls_as_clip { 1 } else { 2 };
    check_lengths(OP, "video_len", video_len, bv, nv0, min_v)?;
    check_lengths(OP, "text_len", text_len, bt, nt, 1)?;
    let (video, vlen): (_, Vec<usize>) = if opts.cls_as_clip {
        (video, video_len.to_vec())
    } else {
        let v = video.slice((.., 1.., ..));
        (v, video_len.iter().map(|l| l - 1).collect())
    };
    let nv = video.shape().1;
    let dev = video.device().clone();
    let inv_tau: E = from_f64(OP, "tau", 1.0 / opts.tau)?;

    let v = l2_normalize(video).reshape_like(&(bv * nv, dm));
    let w = l2_normalize(text)
        .reshape_like(&(bt * nt, dm))
        .permute::<(Dm, usize), Axes2<1, 0>>();
    let shape4 = (bv, bt, nv, nt);
    // s[a, b, i, j]
    let s = v
        .matmul(w)
        .reshape_like(&(bv, nv, bt, nt))
        .permute::<(usize, usize, usize, usize), Axes4<0, 2, 1, 3>>()
        .contiguous();

    let masked = opts.masking == InnerSoftmax::Masked;
    // V2T: softmax over text tokens j (axis 3).
    let logits = s.retaped::<T>() * inv_tau;
    let p = if masked {
        let m = length_mask::<E, Dev>(&dev, text_len, nt)
            .broadcast_like::<(usize, usize, usize, usize), Axes2<0, 2>>(&shape4);
        masked_softmax::<Axis<3>, _, _, _, _>(logits, m)
    } else {
        logits.softmax::<Axis<3>>()
    };
    let r = (p * s.retaped::<T>()).sum::<(usize, usize, usize), Axis<3>>();
    let wv = length_weights::<E, Dev>(&dev, &vlen, nv, true)
        .broadcast_like::<(usize, usize, usize), Axis<1>>(&(bv, bt, nv));
    let z_v2t = (r * wv).sum::<(usize, usize), Axis<2>>();

    // T2V: softmax over video tokens i (axis 2).
    let logits = s.retaped::<T>() * inv_tau;
    let p = if masked {
        let m = length_mask::<E, Dev>(&dev, &vlen, nv)
            .broadcast_like::<(usize, usize, usize, usize), Axes2<1, 3>>(&shape4);
        masked_softmax::<Axis<2>, _, _, _, _>(logits, m)
    } else {
        logits.softmax::<Axis<2>>()
    };
    let r = (p * s).sum::<(usize, usize, usize), Axis<2>>();
    let wt = length_weights::<E, Dev>(&dev, text_len, nt, true)
        .broadcast_like::<(usize, usize, usize), Axis<0>>(&(bv, bt, nt));
    let z_t2v = (r * wt).sum::<(usize, usize), Axis<2>>();

    let lam = logit_scale.broadcast_like::<(usize, usize), Axes2<0, 1>>(&(bv, bt));
    let z_v2t = z_v2t * lam.retaped::<T>();
    let z_t2v = z_t2v * lam;
    Ok((z_v2t, z_t2v))
}
