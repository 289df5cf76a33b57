//! f64 finite-difference gradient checks (seds-nn's `check_gradient`) of the model's output
//! MLP fusion `LN(MLP([a; b]) + a + b)` through its functional form `mlp_fusion`, with
//! respect to both streams and to weights of every kind (dense weight, bias, LN gain); plus a
//! hand-computed value.

use dfdx::prelude::*;
use seds_core::Rng;
use seds_model::model::{mlp_fusion, MlpFuseW};
use seds_model::params::{LinW, LnW};
use seds_nn::gradcheck::{check_gradient, Traced};

type OT = OwnedTape<f64, Cpu>;
type M<T = NoneTape> = Tensor<(usize, usize), f64, Cpu, T>;
type V<T = NoneTape> = Tensor<(usize,), f64, Cpu, T>;

const TOL: f64 = 1e-6;

fn rand(dev: &Cpu, rng: &mut Rng, r: usize, c: usize, s: f64) -> M {
    dev.tensor_from_vec((0..r * c).map(|_| rng.normal() * s).collect(), (r, c))
}

fn randv(dev: &Cpu, rng: &mut Rng, n: usize, s: f64, mean: f64) -> V {
    dev.tensor_from_vec((0..n).map(|_| mean + rng.normal() * s).collect(), (n,))
}

/// Constant weights of one fusion: `[(w1, b1), (w2, b2), (w3, b3)]` and `(g, b)`.
struct Weights {
    lin: [(M, V); 3],
    ln: (V, V),
}

fn weights(dev: &Cpu, rng: &mut Rng, d: usize) -> Weights {
    let mut lin = |i: usize, o: usize| (rand(dev, rng, i, o, 0.5), randv(dev, rng, o, 0.2, 0.0));
    let lin = [lin(2 * d, 4 * d), lin(4 * d, 2 * d), lin(2 * d, d)];
    let ln = (randv(dev, rng, d, 0.3, 1.0), randv(dev, rng, d, 0.3, 0.0));
    Weights { lin, ln }
}

/// Which weight a check traces.
#[derive(Clone, Copy, Debug)]
enum Wrt {
    None,
    W1,
    B3,
    Gain,
}

fn taped(w: &Weights, wrt: Wrt, m: Option<M<OT>>, v: Option<V<OT>>) -> MlpFuseW<f64, Cpu, OT> {
    let lw = |(w, b): &(M, V)| LinW {
        w: w.retaped::<OT>(),
        b: b.retaped::<OT>(),
    };
    let mut out = MlpFuseW {
        l1: lw(&w.lin[0]),
        l2: lw(&w.lin[1]),
        l3: lw(&w.lin[2]),
        ln: LnW {
            g: w.ln.0.retaped::<OT>(),
            b: w.ln.1.retaped::<OT>(),
        },
    };
    match (wrt, m, v) {
        (Wrt::W1, Some(m), _) => out.l1.w = m,
        (Wrt::B3, _, Some(v)) => out.l3.b = v,
        (Wrt::Gain, _, Some(v)) => out.ln.g = v,
        _ => {}
    }
    out
}

fn project(y: M<OT>, r: &M) -> Tensor<(), f64, Cpu, OT> {
    (y * r.clone()).sum::<(), _>()
}

#[test]
fn mlp_fusion_gradients_match_finite_differences() {
    let dev = Cpu::default();
    let mut rng = Rng::new(21);
    let (n, d) = (5, 3);
    let w = weights(&dev, &mut rng, d);
    let a = rand(&dev, &mut rng, n, d, 1.0);
    let b = rand(&dev, &mut rng, n, d, 1.0);
    let r = rand(&dev, &mut rng, n, d, 1.0);
    let rep = check_gradient(
        &dev,
        &a,
        |a: Traced<_>| {
            project(
                mlp_fusion(taped(&w, Wrt::None, None, None), a, b.retaped::<OT>()),
                &r,
            )
        },
        1e-6,
    );
    assert!(rep.max_err < TOL, "d/da: {rep:?}");
    let rep = check_gradient(
        &dev,
        &b,
        |b: Traced<_>| {
            project(
                mlp_fusion(taped(&w, Wrt::None, None, None), a.retaped::<OT>(), b),
                &r,
            )
        },
        1e-6,
    );
    assert!(rep.max_err < TOL, "d/db: {rep:?}");
    let rep = check_gradient(
        &dev,
        &w.lin[0].0,
        |m: Traced<_>| {
            let fw = taped(&w, Wrt::W1, Some(m), None);
            project(mlp_fusion(fw, a.retaped::<OT>(), b.retaped::<OT>()), &r)
        },
        1e-6,
    );
    assert!(rep.max_err < TOL, "d/dW1: {rep:?}");
    for (wrt, x0) in [(Wrt::B3, &w.lin[2].1), (Wrt::Gain, &w.ln.0)] {
        let rep = check_gradient(
            &dev,
            x0,
            |v: Traced<(usize,)>| {
                let fw = taped(&w, wrt, None, Some(v));
                project(mlp_fusion(fw, a.retaped::<OT>(), b.retaped::<OT>()), &r)
            },
            1e-6,
        );
        assert!(rep.max_err < TOL, "{wrt:?}: {rep:?}");
        assert!(rep.analytic.iter().any(|&g| g != 0.0), "{wrt:?}: zero");
    }
}

/// d = 2, one row, all MLP weights and biases zero (QuickGELU(0) = 0, so MLP = 0):
/// `LN(a + b)` with a + b = [1, 3] -> mean 2, var 1 -> [-1, 1] / sqrt(1 + 1e-5);
/// gain [2, 1], bias [0, 10] -> [-2 / s, 10 + 1 / s].
#[test]
fn mlp_fusion_with_zero_mlp_is_layer_norm_of_the_sum() {
    let dev = Cpu::default();
    let z = |r: usize, c: usize| -> M { dev.zeros_like(&(r, c)) };
    let zv = |n: usize| -> V { dev.zeros_like(&(n,)) };
    let w = MlpFuseW {
        l1: LinW {
            w: z(4, 8),
            b: zv(8),
        },
        l2: LinW {
            w: z(8, 4),
            b: zv(4),
        },
        l3: LinW {
            w: z(4, 2),
            b: zv(2),
        },
        ln: LnW {
            g: dev.tensor_from_vec(vec![2.0, 1.0], (2,)),
            b: dev.tensor_from_vec(vec![0.0, 10.0], (2,)),
        },
    };
    let a: M = dev.tensor_from_vec(vec![1.0, 1.0], (1, 2));
    let b: M = dev.tensor_from_vec(vec![0.0, 2.0], (1, 2));
    let y = mlp_fusion(w, a, b).as_vec();
    let s = (1.0f64 + 1e-5).sqrt();
    let want = [-2.0 / s, 10.0 + 1.0 / s];
    assert!(
        (y[0] - want[0]).abs() < 1e-9 && (y[1] - want[1]).abs() < 1e-9,
        "{y:?} vs {want:?}"
    );
}
