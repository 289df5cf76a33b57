//! Output fusions of the two video streams: the MLP fusion `LN(MLP([a; b]) + a + b)` (used by
//! CGAF's output and as the release's ablation baseline) and the plain sum.

use dfdx::nn::modules::{LayerNorm1D, Linear, UnbiasedLinear};
use dfdx::prelude::*;

use crate::error::NnError;
use crate::ops::quick_gelu;
use crate::NnFloat;

/// `f = LN(MLP([a; b]) + a + b)` with `MLP = Linear(2D->4D), QuickGELU, Linear(4D->2D),
/// QuickGELU, Linear(2D->D)`. The first Linear on the concatenation is stored split in two
/// (`l1a` with bias on `a`, `l1b` without bias on `b`): mathematically identical, no concat.
/// Const params: `D2 = 2 D`, `D4 = 4 D` (checked at forward).
#[derive(Clone, Debug)]
pub struct MlpFusion<const D: usize, const D2: usize, const D4: usize, E: Dtype, Dev: Storage<E>> {
    /// First layer, part applied to `a` (with the bias).
    pub l1a: Linear<D, D4, E, Dev>,
    /// First layer, part applied to `b` (no bias).
    pub l1b: UnbiasedLinear<D, D4, E, Dev>,
    /// Second layer 4D -> 2D.
    pub l2: Linear<D4, D2, E, Dev>,
    /// Third layer 2D -> D.
    pub l3: Linear<D2, D, E, Dev>,
    /// Output layer norm.
    pub ln: LayerNorm1D<D, E, Dev>,
}

impl<const D: usize, const D2: usize, const D4: usize, E: NnFloat, Dev: Device<E>>
    TensorCollection<E, Dev> for MlpFusion<D, D2, D4, E, Dev>
{
    type To<E2: Dtype, D2_: Device<E2>> = MlpFusion<D, D2, D4, E2, D2_>;

    fn iter_tensors<V: ModuleVisitor<Self, E, Dev>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            (
                Self::module("l1a", |s| &s.l1a, |s| &mut s.l1a),
                Self::module("l1b", |s| &s.l1b, |s| &mut s.l1b),
                Self::module("l2", |s| &s.l2, |s| &mut s.l2),
                Self::module("l3", |s| &s.l3, |s| &mut s.l3),
                Self::module("ln", |s| &s.ln, |s| &mut s.ln),
            ),
            |(l1a, l1b, l2, l3, ln)| MlpFusion {
                l1a,
                l1b,
                l2,
                l3,
                ln,
            },
        )
    }
}

impl<const D: usize, const D2: usize, const D4: usize, E: NnFloat, Dev: Device<E>>
    MlpFusion<D, D2, D4, E, Dev>
{
    /// Checks `D2 == 2 D` and `D4 == 4 D`.
    pub fn check_dims() -> Result<(), NnError> {
        if D2 != 2 * D || D4 != 4 * D {
            return Err(NnError::shape(
                "MlpFusion",
                format!("need D2 = 2D and D4 = 4D, got D = {D}, D2 = {D2}, D4 = {D4}"),
            ));
        }
        Ok(())
    }

    /// `LN(MLP([a; b]) + a + b)` on token sequences `[B, T, D]`.
    pub fn forward<T: Tape<E, Dev>>(
        &self,
        a: Tensor<(usize, usize, Const<D>), E, Dev, T>,
        b: Tensor<(usize, usize, Const<D>), E, Dev, T>,
    ) -> Result<Tensor<(usize, usize, Const<D>), E, Dev, T>, NnError> {
        Self::check_dims()?;
        if a.shape() != b.shape() {
            return Err(NnError::shape(
                "MlpFusion::forward",
                format!("a {:?} vs b {:?}", a.shape(), b.shape()),
            ));
        }
        let h = self.l1a.forward(a.retaped::<T>()) + self.l1b.forward(b.retaped::<T>());
        let h = quick_gelu(self.l2.forward(quick_gelu(h)));
        let h = self.l3.forward(h);
        Ok(self.ln.forward(h + a + b))
    }
}

/// Sum fusion `a + b`.
pub fn sum_fusion<S: Shape, E: Dtype, Dev: Device<E>, T: Tape<E, Dev>>(
    a: Tensor<S, E, Dev, T>,
    b: Tensor<S, E, Dev, T>,
) -> Tensor<S, E, Dev, T> {
    a + b
}
