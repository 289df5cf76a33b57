//! Cross Gloss Attention Fusion (CGAF, seds-method.md section 3.4): layers of two-branch
//! deformable cross attention (pose queries over RGB, RGB queries over pose) with pre-LN
//! FFNs, followed by the MLP output fusion. Layer count and keys per layer are runtime
//! settings ([`CgafConfig`]) over [`MAX_LAYERS`] parameter slots.

use dfdx::nn::modules::{LayerNorm1D, Linear};
use dfdx::prelude::*;
use seds_config::schema::{ModelConfig, ReferenceOffsets};

use crate::deform::DeformableAttention;
use crate::error::{check_lengths, NnError};
use crate::fusion::MlpFusion;
use crate::ops::{quick_gelu, sinusoidal_encoding, sinusoidal_table};
use crate::NnFloat;

/// Number of CGAF layer parameter slots (the config may use 1..=MAX_LAYERS).
pub const MAX_LAYERS: usize = 3;

/// Runtime CGAF settings.
#[derive(Clone, Debug, PartialEq)]
pub struct CgafConfig {
    /// Samples per head in each layer; the length is the number of layers (1..=3).
    pub keys: Vec<usize>,
    /// Also sample keys/values from the query's own modality (softmax over 2K).
    pub intra: bool,
    /// Reference offsets rho.
    pub reference: ReferenceOffsets,
    /// Dropout on the attention branch (applied only when `train`).
    pub dropout: f64,
}

impl Default for CgafConfig {
    fn default() -> Self {
        CgafConfig {
            keys: vec![5, 3],
            intra: false,
            reference: ReferenceOffsets::Symmetric,
            dropout: 0.1,
        }
    }
}

impl CgafConfig {
    /// Settings from the `[model]` section (`cgaf_keys`, `intra_modality`,
    /// `reference_offsets`, `dropout`).
    pub fn from_model(m: &ModelConfig) -> Self {
        CgafConfig {
            keys: m.cgaf_keys.clone(),
            intra: m.intra_modality,
            reference: m.reference_offsets,
            dropout: m.dropout,
        }
    }

    /// Checks 1..=MAX_LAYERS layers, `1 <= k <= kmax` per layer, dropout in [0, 1).
    pub fn validate(&self, kmax: usize) -> Result<(), NnError> {
        const OP: &str = "CgafConfig";
        if self.keys.is_empty() || self.keys.len() > MAX_LAYERS {
            return Err(NnError::option(
                OP,
                "keys",
                format!("{} layers, allowed 1..={MAX_LAYERS}", self.keys.len()),
            ));
        }
        for (i, &k) in self.keys.iter().enumerate() {
            if k == 0 || k > kmax {
                return Err(NnError::option(
                    OP,
                    "keys",
                    format!("layer {i} has {k} keys, allowed 1..={kmax}"),
                ));
            }
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(NnError::option(
                OP,
                "dropout",
                format!("{} outside [0, 1)", self.dropout),
            ));
        }
        Ok(())
    }
}

/// Sampled positions of one CGAF layer (plain data for visualisation).
#[derive(Clone, Debug, PartialEq)]
pub struct CgafLayerTrace {
    /// Samples per head K.
    pub keys: usize,
    /// Heads H.
    pub heads: usize,
    /// Batch size B.
    pub batch: usize,
    /// Tokens per item T (padded).
    pub tokens: usize,
    /// Pose queries over RGB: wrapped positions u, row-major `[B, T, H, K]`.
    pub pose_to_rgb: Vec<f32>,
    /// RGB queries over pose, same layout.
    pub rgb_to_pose: Vec<f32>,
}

impl CgafLayerTrace {
    /// Position of sample `s` of head `h` for query token `t` of item `b` (pose queries when
    /// `pose_query`), or None out of range.
    pub fn position(
        &self,
        pose_query: bool,
        b: usize,
        t: usize,
        h: usize,
        s: usize,
    ) -> Option<f32> {
        if b >= self.batch || t >= self.tokens || h >= self.heads || s >= self.keys {
            return None;
        }
        let v = if pose_query {
            &self.pose_to_rgb
        } else {
            &self.rgb_to_pose
        };
        v.get(((b * self.tokens + t) * self.heads + h) * self.keys + s)
            .copied()
    }
}

/// Sampled positions of every active layer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CgafTrace {
    /// One entry per active layer, in order.
    pub layers: Vec<CgafLayerTrace>,
}

fn maybe_dropout<S: Shape, E: Dtype, Dev: Device<E>, T: Tape<E, Dev>>(
    x: Tensor<S, E, Dev, T>,
    p: f64,
    train: bool,
) -> Tensor<S, E, Dev, T> {
    if train && p > 0.0 {
        x.dropout(p)
    } else {
        x
    }
}

/// One CGAF layer: both branches update from the previous layer's outputs:
/// `x + Dropout(DA(LN(x), y))`, then `x + FFN(LN(x))` with FFN = Linear(D->D4), QuickGELU,
/// Linear(D4->D).
#[derive(Clone, Debug)]
pub struct CgafLayer<
    const D: usize,
    const H: usize,
    const HK: usize,
    const D4: usize,
    E: Dtype,
    Dev: Storage<E>,
> {
    /// Pre-attention LN of the pose branch.
    pub ln_p: LayerNorm1D<D, E, Dev>,
    /// Pre-attention LN of the RGB branch.
    pub ln_r: LayerNorm1D<D, E, Dev>,
    /// Pose queries over RGB keys/values.
    pub attn_p: DeformableAttention<D, H, HK, E, Dev>,
    /// RGB queries over pose keys/values.
    pub attn_r: DeformableAttention<D, H, HK, E, Dev>,
    /// Pre-FFN LN, pose.
    pub ffn_ln_p: LayerNorm1D<D, E, Dev>,
    /// FFN first linear, pose.
    pub ffn_p1: Linear<D, D4, E, Dev>,
    /// FFN second linear, pose.
    pub ffn_p2: Linear<D4, D, E, Dev>,
    /// Pre-FFN LN, RGB.
    pub ffn_ln_r: LayerNorm1D<D, E, Dev>,
    /// FFN first linear, RGB.
    pub ffn_r1: Linear<D, D4, E, Dev>,
    /// FFN second linear, RGB.
    pub ffn_r2: Linear<D4, D, E, Dev>,
}

impl<
        const D: usize,
        const H: usize,
        const HK: usize,
        const D4: usize,
        E: NnFloat,
        Dev: Device<E>,
    > TensorCollection<E, Dev> for CgafLayer<D, H, HK, D4, E, Dev>
{
    type To<E2: Dtype, D2: Device<E2>> = CgafLayer<D, H, HK, D4, E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, E, Dev>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            (
                (
                    Self::module("ln_p", |s| &s.ln_p, |s| &mut s.ln_p),
                    Self::module("ln_r", |s| &s.ln_r, |s| &mut s.ln_r),
                    Self::module("attn_p", |s| &s.attn_p, |s| &mut s.attn_p),
                    Self::module("attn_r", |s| &s.attn_r, |s| &mut s.attn_r),
                ),
                (
                    Self::module("ffn_ln_p", |s| &s.ffn_ln_p, |s| &mut s.ffn_ln_p),
                    Self::module("ffn_p1", |s| &s.ffn_p1, |s| &mut s.ffn_p1),
                    Self::module("ffn_p2", |s| &s.ffn_p2, |s| &mut s.ffn_p2),
                ),
                (
                    Self::module("ffn_ln_r", |s| &s.ffn_ln_r, |s| &mut s.ffn_ln_r),
                    Self::module("ffn_r1", |s| &s.ffn_r1, |s| &mut s.ffn_r1),
                    Self::module("ffn_r2", |s| &s.ffn_r2, |s| &mut s.ffn_r2),
                ),
            ),
            |(
                (ln_p, ln_r, attn_p, attn_r),
                (ffn_ln_p, ffn_p1, ffn_p2),
                (ffn_ln_r, ffn_r1, ffn_r2),
            )| {
                CgafLayer {
                    ln_p,
                    ln_r,
                    attn_p,
                    attn_r,
                    ffn_ln_p,
                    ffn_p1,
                    ffn_p2,
                    ffn_ln_r,
                    ffn_r1,
                    ffn_r2,
                }
            },
        )
    }
}

/// Output of one layer: new pose and RGB tokens and the two position traces.
type LayerOut<const D: usize, E, Dev, T> = (
    Tensor<(usize, usize, Const<D>), E, Dev, T>,
    Tensor<(usize, usize, Const<D>), E, Dev, T>,
    Vec<f32>,
    Vec<f32>,
);

impl<
        const D: usize,
        const H: usize,
        const HK: usize,
        const D4: usize,
        E: NnFloat,
        Dev: Device<E>,
    > CgafLayer<D, H, HK, D4, E, Dev>
{
    /// One layer on pose `p` and RGB `r` tokens `[B, T, D]` with `k` samples per head.
    #[allow(clippy::too_many_arguments)]
    pub fn forward<T: Tape<E, Dev>>(
        &self,
        p: Tensor<(usize, usize, Const<D>), E, Dev, T>,
        r: Tensor<(usize, usize, Const<D>), E, Dev, T>,
        lens: &[usize],
        k: usize,
        reference: ReferenceOffsets,
        intra: bool,
        dropout: f64,
        train: bool,
    ) -> Result<LayerOut<D, E, Dev, T>, NnError> {
        let lp = self.ln_p.forward(p.retaped::<T>());
        let lr = self.ln_r.forward(r.retaped::<T>());
        let (qp, own_p) = if intra {
            (lp.retaped::<T>(), Some(lp))
        } else {
            (lp, None)
        };
        let (qr, own_r) = if intra {
            (lr.retaped::<T>(), Some(lr))
        } else {
            (lr, None)
        };
        let (ap, pos_p) = self
            .attn_p
            .forward(qp, r.retaped::<T>(), own_p, lens, k, reference)?;
        let (ar, pos_r) = self
            .attn_r
            .forward(qr, p.retaped::<T>(), own_r, lens, k, reference)?;
        let p1 = p + maybe_dropout(ap, dropout, train);
        let r1 = r + maybe_dropout(ar, dropout, train);
        let hp = self.ffn_p2.forward(quick_gelu(
            self.ffn_p1
                .forward(self.ffn_ln_p.forward(p1.retaped::<T>())),
        ));
        let hr = self.ffn_r2.forward(quick_gelu(
            self.ffn_r1
                .forward(self.ffn_ln_r.forward(r1.retaped::<T>())),
        ));
        Ok((p1 + hp, r1 + hr, pos_p, pos_r))
    }
}

/// CGAF: sinusoidal positions added to `f^p`, `f^r`; up to [`MAX_LAYERS`] [`CgafLayer`]s;
/// `f^v = MlpFusion(LN(P^L), LN(R^L)) + f^p + f^r`
/// (= `LN(MLP([P; R]) + P + R) + f^p + f^r`).
///
/// Const params: `D` width, `H` heads, `HK = H * KMAX` offset outputs, `D2 = 2D`, `D4 = 4D`
/// (also the FFN width). Inactive layer slots (config with fewer layers) are tied into the
/// graph with weight 0 on a 1x2-token dummy input, so every parameter receives a (zero)
/// gradient and dfdx's `UnusedParams` check stays meaningful for the active ones.
#[derive(Clone, Debug)]
pub struct Cgaf<
    const D: usize,
    const H: usize,
    const HK: usize,
    const D2: usize,
    const D4: usize,
    E: Dtype,
    Dev: Storage<E>,
> {
    /// Layer slot 0.
    pub layer0: CgafLayer<D, H, HK, D4, E, Dev>,
    /// Layer slot 1.
    pub layer1: CgafLayer<D, H, HK, D4, E, Dev>,
    /// Layer slot 2.
    pub layer2: CgafLayer<D, H, HK, D4, E, Dev>,
    /// Final LN of the pose branch (P = LN(P^L)).
    pub ln_p: LayerNorm1D<D, E, Dev>,
    /// Final LN of the RGB branch (R = LN(R^L)).
    pub ln_r: LayerNorm1D<D, E, Dev>,
    /// Output MLP fusion.
    pub fusion: MlpFusion<D, D2, D4, E, Dev>,
}

impl<
        const D: usize,
        const H: usize,
        const HK: usize,
        const D2: usize,
        const D4: usize,
        E: NnFloat,
        Dev: Device<E>,
    > TensorCollection<E, Dev> for Cgaf<D, H, HK, D2, D4, E, Dev>
{
    type To<E2: Dtype, Dv2: Device<E2>> = Cgaf<D, H, HK, D2, D4, E2, Dv2>;

    fn iter_tensors<V: ModuleVisitor<Self, E, Dev>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            (
                Self::module("layer0", |s| &s.layer0, |s| &mut s.layer0),
                Self::module("layer1", |s| &s.layer1, |s| &mut s.layer1),
                Self::module("layer2", |s| &s.layer2, |s| &mut s.layer2),
                Self::module("ln_p", |s| &s.ln_p, |s| &mut s.ln_p),
                Self::module("ln_r", |s| &s.ln_r, |s| &mut s.ln_r),
                Self::module("fusion", |s| &s.fusion, |s| &mut s.fusion),
            ),
            |(layer0, layer1, layer2, ln_p, ln_r, fusion)| Cgaf {
                layer0,
                layer1,
                layer2,
                ln_p,
                ln_r,
                fusion,
            },
        )
    }
}

impl<
        const D: usize,
        const H: usize,
        const HK: usize,
        const D2: usize,
        const D4: usize,
        E: NnFloat,
        Dev: Device<E>,
    > Cgaf<D, H, HK, D2, D4, E, Dev>
{
    /// Builds a freshly initialised module after checking the const dims.
    pub fn new(dev: &Dev) -> Result<Self, NnError> {
        Self::check_dims()?;
        Self::try_build(dev).map_err(|e| NnError::device("Cgaf::new", e))
    }

    /// Checks `D % H == 0`, `HK % H == 0`, `D2 == 2D`, `D4 == 4D`.
    pub fn check_dims() -> Result<(), NnError> {
        DeformableAttention::<D, H, HK, E, Dev>::check_dims(1)?;
        MlpFusion::<D, D2, D4, E, Dev>::check_dims()
    }

    /// Maximum keys per layer (`HK / H`).
    pub fn kmax() -> usize {
        HK / H.max(1)
    }

    fn slot(&self, i: usize) -> &CgafLayer<D, H, HK, D4, E, Dev> {
        match i {
            0 => &self.layer0,
            1 => &self.layer1,
            _ => &self.layer2,
        }
    }

    /// Fuses pose `f_p` and RGB `f_r` tokens `[B, T, D]` (same T, lengths `lens`) into
    /// `f^v [B, T, D]`; also returns the sampled positions of every active layer.
    /// Dropout is applied only when `train`.
    #[allow(clippy::type_complexity)]
    pub fn forward<T: Tape<E, Dev>>(
        &self,
        f_p: Tensor<(usize, usize, Const<D>), E, Dev, T>,
        f_r: Tensor<(usize, usize, Const<D>), E, Dev, T>,
        lens: &[usize],
        cfg: &CgafConfig,
        train: bool,
    ) -> Result<(Tensor<(usize, usize, Const<D>), E, Dev, T>, CgafTrace), NnError> {
        const OP: &str = "Cgaf::forward";
        Self::check_dims()?;
        cfg.validate(Self::kmax())?;
        let shape = *f_p.shape();
        if shape != *f_r.shape() {
            return Err(NnError::shape(
                OP,
                format!("f_p {:?} vs f_r {:?}", shape, f_r.shape()),
            ));
        }
        let (b, t, _) = shape;
        check_lengths(OP, "lens", lens, b, t, 1)?;
        let dev = f_p.device().clone();
        let pe = sinusoidal_encoding::<D, E, Dev>(&dev, b, t);
        let mut p = f_p.retaped::<T>() + pe.clone();
        let mut r = f_r.retaped::<T>() + pe;
        let mut trace = CgafTrace::default();
        for (i, &k) in cfg.keys.iter().enumerate() {
            let (p2, r2, pos_p, pos_r) = self.slot(i).forward(
                p,
                r,
                lens,
                k,
                cfg.reference,
                cfg.intra,
                cfg.dropout,
                train,
            )?;
            p = p2;
            r = r2;
            trace.layers.push(CgafLayerTrace {
                keys: k,
                heads: H,
                batch: b,
                tokens: t,
                pose_to_rgb: pos_p,
                rgb_to_pose: pos_r,
            });
        }
        let fused = self
            .fusion
            .forward(self.ln_p.forward(p), self.ln_r.forward(r))?;
        let mut out = fused + f_p + f_r;
        if cfg.keys.len() < MAX_LAYERS {
            // Zero-weighted tie of the inactive slots (see the type's doc).
            let table = sinusoidal_table(2, D);
            let vals: Vec<E> = table
                .iter()
                .enumerate()
                .map(|(i, &x)| E::from_f64(x + 0.1 * i as f64).unwrap_or_default())
                .collect();
            let dummy = dev.tensor_from_vec(vals, (1usize, 2usize, Const::<D>));
            let mut tie: Option<Tensor<(), E, Dev, T>> = None;
            for i in cfg.keys.len()..MAX_LAYERS {
                let (dp, dr, _, _) = self.slot(i).forward(
                    dummy.retaped::<T>(),
                    dummy.retaped::<T>(),
                    &[2],
                    1,
                    cfg.reference,
                    cfg.intra,
                    0.0,
                    false,
                )?;
                let s = (dp.sum::<(), _>() + dr.sum::<(), _>()) * E::default();
                tie = Some(match tie {
                    None => s,
                    Some(acc) => acc + s,
                });
            }
            if let Some(tie) = tie {
                out = out + tie.broadcast_like::<(usize, usize, Const<D>), Axes3<0, 1, 2>>(&shape);
            }
        }
        Ok((out, trace))
    }
}
