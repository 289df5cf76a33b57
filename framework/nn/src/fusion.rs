//! Output fusion of the two video streams that needs no parameters: the plain sum (the MLP
//! fusion `LN(MLP([a; b]) + a + b)` lives in seds-model, over its parameter store).

use dfdx::prelude::*;

/// Sum fusion `a + b`.
pub fn sum_fusion<S: Shape, E: Dtype, Dev: Device<E>, T: Tape<E, Dev>>(
    a: Tensor<S, E, Dev, T>,
    b: Tensor<S, E, Dev, T>,
) -> Tensor<S, E, Dev, T> {
    a + b
}
