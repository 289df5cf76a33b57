//! Central finite-difference gradient checks on the Cpu device in f64, used by this crate's
//! tests and available to other crates (e.g. to check a graph convolution).

use dfdx::prelude::*;

/// Traced f64 Cpu tensor, the input type of a checked function.
pub type Traced<S> = Tensor<S, f64, Cpu, OwnedTape<f64, Cpu>>;

/// Result of a gradient check.
#[derive(Clone, Debug, PartialEq)]
pub struct GradReport {
    /// Backprop gradient.
    pub analytic: Vec<f64>,
    /// Central differences `(f(x + eps e_i) - f(x - eps e_i)) / 2 eps`.
    pub numeric: Vec<f64>,
    /// `max_i |analytic_i - numeric_i| / (1 + |numeric_i|)`.
    pub max_err: f64,
    /// Index of that maximum.
    pub worst: usize,
}

/// Compares the backprop gradient of scalar `f` at `x` against central differences.
pub fn check_gradient<S: Shape, F>(dev: &Cpu, x: &Tensor<S, f64, Cpu>, f: F, eps: f64) -> GradReport
where
    F: Fn(Traced<S>) -> Tensor<(), f64, Cpu, OwnedTape<f64, Cpu>>,
{
    let grads = f(x.leaky_trace()).backward();
    let analytic = grads.get(x).as_vec();
    let base = x.as_vec();
    let shape = *x.shape();
    let eval = |v: Vec<f64>| -> f64 { f(dev.tensor_from_vec(v, shape).leaky_trace()).array() };
    let mut numeric = Vec::with_capacity(base.len());
    for i in 0..base.len() {
        let mut p = base.clone();
        p[i] += eps;
        let mut m = base.clone();
        m[i] -= eps;
        numeric.push((eval(p) - eval(m)) / (2.0 * eps));
    }
    let (mut max_err, mut worst) = (0.0, 0);
    for (i, (a, n)) in analytic.iter().zip(&numeric).enumerate() {
        let e = (a - n).abs() / (1.0 + n.abs());
        if e > max_err || e.is_nan() {
            max_err = e;
            worst = i;
        }
    }
    GradReport {
        analytic,
        numeric,
        max_err,
        worst,
    }
}
