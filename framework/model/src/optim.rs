//! Optimisers over the parameter store: the release's BertAdam (Adam without bias correction,
//! decoupled weight decay on non-bias weights) and AdamW (with bias correction), per-group
//! learning rates, warm-up + cosine schedule, global gradient-norm clipping, and the
//! unused-parameter check (a parameter whose gradient is missing or identically zero).
//!
//! dfdx's own optimisers need const-shaped `TensorCollection` modules, which this crate's
//! runtime-shaped store is not; the AdamW here follows dfdx's AdamW equations.

use crate::params::{Group, Params};
use dfdx::shapes::HasShape;
use dfdx::tensor_ops::Device;
use seds_config::Optimizer;

/// Optimiser hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OptConfig {
    /// Which update rule.
    pub kind: Optimizer,
    /// Beta 1.
    pub beta1: f32,
    /// Beta 2.
    pub beta2: f32,
    /// Epsilon.
    pub eps: f32,
    /// Decoupled weight decay (non-bias weights only).
    pub weight_decay: f32,
    /// Global gradient-norm clip (0 disables).
    pub clip: f32,
}

/// Moment estimates per parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct OptState {
    /// First moments.
    pub m: Vec<Vec<f32>>,
    /// Second moments.
    pub v: Vec<Vec<f32>>,
    /// Updates done.
    pub t: u64,
}

/// The global gradient norm before clipping.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepInfo {
    /// Global L2 norm of all gradients.
    pub grad_norm: f32,
}

impl OptState {
    /// Zero state for `p` (any device).
    pub fn new<D: Device<f32>>(p: &Params<D>) -> Self {
        let sizes: Vec<usize> = p
            .list
            .iter()
            .map(|q| q.tensor.shape().0 * q.tensor.shape().1)
            .collect();
        OptState {
            m: sizes.iter().map(|&n| vec![0.0; n]).collect(),
            v: sizes.iter().map(|&n| vec![0.0; n]).collect(),
            t: 0,
        }
    }

    /// One update from per-parameter gradients (same order as `p.list`). The update runs on
    /// host vectors; the new values are copied back to the parameters' device.
    pub fn step<D: Device<f32>>(
        &mut self,
        p: &mut Params<D>,
        grads: &mut [Vec<f32>],
        lr_fast: f32,
        lr_towers: f32,
        c: &OptConfig,
    ) -> StepInfo {
        let norm = grads
            .iter()
            .flatten()
            .map(|g| (*g as f64) * (*g as f64))
            .sum::<f64>()
            .sqrt() as f32;
        if c.clip > 0.0 && norm > c.clip {
            let s = c.clip / (norm + 1e-6);
            grads.iter_mut().flatten().for_each(|g| *g *= s);
        }
        self.t += 1;
        let (bc1, bc2) = match c.kind {
            Optimizer::Adamw => (
                1.0 - c.beta1.powi(self.t as i32),
                1.0 - c.beta2.powi(self.t as i32),
            ),
            Optimizer::Bertadam => (1.0, 1.0),
        };
        for (i, q) in p.list.iter_mut().enumerate() {
            let lr = if q.group == Group::Fast {
                lr_fast
            } else {
                lr_towers
            };
            let wd = if q.decay { c.weight_decay } else { 0.0 };
            let mut w = q.tensor.as_vec();
            let (m, v, g) = (&mut self.m[i], &mut self.v[i], &grads[i]);
            for k in 0..w.len() {
                m[k] = c.beta1 * m[k] + (1.0 - c.beta1) * g[k];
                v[k] = c.beta2 * v[k] + (1.0 - c.beta2) * g[k] * g[k];
                let upd = (m[k] / bc1) / ((v[k] / bc2).sqrt() + c.eps) + wd * w[k];
                w[k] -= lr * upd;
            }
            q.tensor.copy_from(&w);
        }
        StepInfo { grad_norm: norm }
    }
}

/// Learning-rate multiplier at `step` (0-based) of `total`: linear warm-up over
/// `warmup * total` steps, then cosine decay to 0.
pub fn schedule(step: usize, total: usize, warmup: f64) -> f64 {
    let total = total.max(1) as f64;
    let w = (warmup * total).floor();
    let s = step as f64;
    if s < w {
        (s + 1.0) / w
    } else {
        let prog = if total > w {
            (s - w) / (total - w)
        } else {
            1.0
        };
        0.5 * (1.0 + (std::f64::consts::PI * prog.min(1.0)).cos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::Init;
    use dfdx::prelude::Cpu;

    #[test]
    fn bertadam_first_step_matches_hand_value_and_adamw_differs() {
        let mut p = Params::new(Cpu::default(), 0);
        p.add("w", 1, 2, Init::Const(1.0), true);
        p.add("b", 1, 1, Init::Const(1.0), false);
        let c = OptConfig {
            kind: Optimizer::Bertadam,
            beta1: 0.9,
            beta2: 0.98,
            eps: 1e-6,
            weight_decay: 0.1,
            clip: 0.0,
        };
        let mut st = OptState::new(&p);
        let mut g = vec![vec![0.5, -1.0], vec![2.0]];
        st.step(&mut p, &mut g, 0.1, 0.1, &c);
        // m = 0.1 g, v = 0.02 g^2 -> m/sqrt(v) = 0.1/sqrt(0.02) sign(g) = 0.70711 sign(g).
        let w = p.list[0].tensor.as_vec();
        let r = 0.1 / 0.02f32.sqrt();
        assert!((w[0] - (1.0 - 0.1 * (r + 0.1))).abs() < 1e-5, "{w:?}");
        assert!((w[1] - (1.0 - 0.1 * (-r + 0.1))).abs() < 1e-5);
        let b = p.list[1].tensor.as_vec()[0];
        assert!((b - (1.0 - 0.1 * r)).abs() < 1e-5, "bias has no decay");
        // AdamW: bias-corrected first step is sign(g) exactly.
        let mut p2 = Params::new(Cpu::default(), 0);
        p2.add("b", 1, 1, Init::Const(1.0), false);
        let mut st2 = OptState::new(&p2);
        st2.step(
            &mut p2,
            &mut [vec![2.0]],
            0.1,
            0.1,
            &OptConfig {
                kind: Optimizer::Adamw,
                ..c
            },
        );
        assert!((p2.list[0].tensor.as_vec()[0] - 0.9).abs() < 1e-4);
    }

    #[test]
    fn clipping_and_schedule() {
        let mut p = Params::new(Cpu::default(), 0);
        p.add("b", 1, 2, Init::Zeros, false);
        let c = OptConfig {
            kind: Optimizer::Bertadam,
            beta1: 0.0,
            beta2: 0.0,
            eps: 0.0,
            weight_decay: 0.0,
            clip: 1.0,
        };
        let mut st = OptState::new(&p);
        let info = st.step(&mut p, &mut [vec![3.0, 4.0]], 1.0, 1.0, &c);
        assert!((info.grad_norm - 5.0).abs() < 1e-6);
        assert_eq!(schedule(0, 100, 0.1), 0.1);
        assert_eq!(schedule(9, 100, 0.1), 1.0);
        assert!((schedule(10, 100, 0.1) - 1.0).abs() < 1e-12);
        assert!((schedule(55, 100, 0.1) - 0.5).abs() < 1e-12);
        assert_eq!(schedule(0, 10, 0.0), 1.0);
    }
}
