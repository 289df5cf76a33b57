//! f64 finite-difference gradient checks (seds-nn's `check_gradient`) of the pose encoder's
//! custom pieces, through their functional forms: the graph convolution, the temporal conv
//! block and the shared-window per-clip block; plus hand-computed values.

use dfdx::prelude::*;
use seds_core::Rng;
use seds_model::params::{linear, LinW};
use seds_model::pose::{
    graph_conv, hand_graph, shared_window_clips, tblock_rows, ConvRow, TBlockW, M,
};
use seds_nn::gradcheck::{check_gradient, Traced};

type OT = OwnedTape<f64, Cpu>;

fn rand(dev: &Cpu, rng: &mut Rng, r: usize, c: usize, s: f64) -> M<f64, Cpu> {
    dev.tensor_from_vec((0..r * c).map(|_| rng.normal() * s).collect(), (r, c))
}

fn randv(dev: &Cpu, rng: &mut Rng, n: usize, s: f64) -> Tensor<(usize,), f64, Cpu> {
    dev.tensor_from_vec((0..n).map(|_| rng.normal() * s).collect(), (n,))
}

/// Fixed random projection to a scalar, so every output element matters.
fn project(y: M<f64, Cpu, OT>, r: &M<f64, Cpu>) -> Tensor<(), f64, Cpu, OT> {
    (y * r.clone()).sum::<(), _>()
}

fn lin_const(w: &M<f64, Cpu>, b: &Tensor<(usize,), f64, Cpu>) -> LinW<f64, Cpu, OT> {
    LinW {
        w: w.retaped::<OT>(),
        b: b.retaped::<OT>(),
    }
}

const TOL: f64 = 1e-6;

#[test]
fn graph_conv_hand_value() {
    let dev = Cpu::default();
    // K = 1, J = 2, N = 1, C = 1: A = [[0.5, 0.5], [0, 1]], x = [1, 3], W = [[2]], b = [-1]
    // -> A x = [2, 3] -> 2 (A x) - 1 = [3, 5]; with b = -7: relu([-3, -1]) = [0, 0].
    let a: M<f64, Cpu> = dev.tensor_from_vec(vec![0.5, 0.5, 0.0, 1.0], (2, 2));
    let x: M<f64, Cpu> = dev.tensor_from_vec(vec![1.0, 3.0], (2, 1));
    let w: M<f64, Cpu> = dev.tensor_from_vec(vec![2.0], (1, 1));
    for (bias, want) in [(-1.0, [3.0, 5.0]), (-7.0, [0.0, 0.0])] {
        let b = dev.tensor_from_vec(vec![bias], (1,));
        let y = graph_conv(&a, x.clone(), LinW { w: w.clone(), b }, 2, 1);
        assert_eq!(y.as_vec(), want.to_vec());
    }
    // K = 2 subsets interleave per node: row (j, n) = [A_1 x; A_2 x] W.
    let a2: M<f64, Cpu> = dev.tensor_from_vec(vec![1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0], (4, 2));
    let w2: M<f64, Cpu> = dev.tensor_from_vec(vec![1.0, 10.0], (2, 1));
    let b0 = dev.tensor_from_vec(vec![0.0], (1,));
    let y = graph_conv(&a2, x, LinW { w: w2, b: b0 }, 2, 2);
    // node 0: [x0, x1] . [1, 10] = 1 + 30 = 31; node 1: [x1, x0] . [1, 10] = 3 + 10 = 13.
    assert_eq!(y.as_vec(), vec![31.0, 13.0]);
}

#[test]
fn graph_conv_gradients_match_finite_differences() {
    let dev = Cpu::default();
    let mut rng = Rng::new(3);
    let g = hand_graph();
    let a: M<f64, Cpu> =
        dev.tensor_from_vec(g.a.iter().map(|&v| v as f64).collect(), (g.k * g.j, g.j));
    let (n, c, co) = (2, 3, 4);
    let x = rand(&dev, &mut rng, g.j * n, c, 1.0);
    let w = rand(&dev, &mut rng, g.k * c, co, 0.5);
    let b = randv(&dev, &mut rng, co, 0.1);
    let r = rand(&dev, &mut rng, g.j * n, co, 1.0);
    let (j, k) = (g.j, g.k);
    let rep = check_gradient(
        &dev,
        &x,
        |x: Traced<_>| project(graph_conv(&a, x, lin_const(&w, &b), j, k), &r),
        1e-6,
    );
    assert!(rep.max_err < TOL, "d/dx: {rep:?}");
    let rep = check_gradient(
        &dev,
        &w,
        |w: Traced<_>| {
            let lin = LinW {
                w,
                b: b.retaped::<OT>(),
            };
            project(graph_conv(&a, x.retaped::<OT>(), lin, j, k), &r)
        },
        1e-6,
    );
    assert!(rep.max_err < TOL, "d/dW: {rep:?}");
}

fn block_weights(
    dev: &Cpu,
    rng: &mut Rng,
    f: usize,
) -> [(M<f64, Cpu>, Tensor<(usize,), f64, Cpu>); 3] {
    [
        (rand(dev, rng, 5 * f, f, 0.5), randv(dev, rng, f, 0.2)),
        (rand(dev, rng, 3 * f, f, 0.5), randv(dev, rng, f, 0.2)),
        (rand(dev, rng, 2 * f, f, 0.5), randv(dev, rng, f, 0.2)),
    ]
}

fn tb(ws: &[(M<f64, Cpu>, Tensor<(usize,), f64, Cpu>); 3]) -> TBlockW<f64, Cpu, OT> {
    TBlockW {
        k5: lin_const(&ws[0].0, &ws[0].1),
        k3: lin_const(&ws[1].0, &ws[1].1),
        mix: lin_const(&ws[2].0, &ws[2].1),
    }
}

#[test]
fn temporal_block_zero_pads_outside_the_tap_range() {
    let dev = Cpu::default();
    // F = 1; k5 sums its taps, k3 takes the centre tap, mix adds both branches.
    let x: M<f64, Cpu> = dev.tensor_from_vec(vec![1.0, 2.0, 3.0, 4.0], (4, 1));
    let z = dev.tensor_from_vec(vec![0.0], (1,));
    let w = TBlockW {
        k5: LinW {
            w: dev.tensor_from_vec(vec![1.0; 5], (5, 1)),
            b: z.clone(),
        },
        k3: LinW {
            w: dev.tensor_from_vec(vec![0.0, 1.0, 0.0], (3, 1)),
            b: z.clone(),
        },
        mix: LinW {
            w: dev.tensor_from_vec(vec![1.0, 1.0], (2, 1)),
            b: z,
        },
    };
    let spec = [
        ConvRow {
            b: 0,
            t: 0,
            lo: 0,
            hi: 4,
        }, // taps 0..=2 -> 1+2+3 = 6, centre 1 -> 7
        ConvRow {
            b: 0,
            t: 2,
            lo: 1,
            hi: 3,
        }, // taps 1, 2 -> 5, centre 3 -> 8
        ConvRow {
            b: 0,
            t: 3,
            lo: 0,
            hi: 4,
        }, // taps 1..=3 -> 9, centre 4 -> 13
    ];
    let y = tblock_rows(x, w, 4, &spec);
    assert_eq!(y.as_vec(), vec![7.0, 8.0, 13.0]);
}

#[test]
fn temporal_block_gradients_match_finite_differences() {
    let dev = Cpu::default();
    let mut rng = Rng::new(5);
    let (b, t, f) = (2, 6, 3);
    let x = rand(&dev, &mut rng, b * t, f, 1.0);
    let ws = block_weights(&dev, &mut rng, f);
    let spec: Vec<ConvRow> = (0..b)
        .flat_map(|bi| {
            (0..t).map(move |ti| ConvRow {
                b: bi,
                t: ti,
                lo: if ti > 3 { 2 } else { 0 },
                hi: if bi == 1 { 4 } else { t },
            })
        })
        .collect();
    let r = rand(&dev, &mut rng, spec.len(), f, 1.0);
    let rep = check_gradient(
        &dev,
        &x,
        |x: Traced<_>| project(tblock_rows(x, tb(&ws), t, &spec), &r),
        1e-6,
    );
    assert!(rep.max_err < TOL, "d/dx: {rep:?}");
    let rep = check_gradient(
        &dev,
        &ws[0].0,
        |w: Traced<_>| {
            let mut blk = tb(&ws);
            blk.k5.w = w;
            project(tblock_rows(x.retaped::<OT>(), blk, t, &spec), &r)
        },
        1e-6,
    );
    assert!(rep.max_err < TOL, "d/dW5: {rep:?}");
}

/// Per-window reference: mean over each window of `x + block(x)` with the window's padding.
fn naive_clips(
    x: &M<f64, Cpu>,
    ws: &[(M<f64, Cpu>, Tensor<(usize,), f64, Cpu>); 3],
    lens: &[usize],
    tm: usize,
    starts: &[usize],
    nm: usize,
    window: usize,
) -> Vec<f64> {
    let f = x.shape().1;
    let xv = x.as_vec();
    let mut out = Vec::new();
    for (bi, _) in lens.iter().enumerate() {
        for c in 0..nm {
            let s = starts[bi * nm + c];
            let spec: Vec<ConvRow> = (0..window)
                .map(|o| ConvRow {
                    b: bi,
                    t: s + o,
                    lo: s,
                    hi: (s + window).min(lens[bi].max(s + 1)),
                })
                .collect();
            let blk = TBlockW {
                k5: LinW {
                    w: ws[0].0.clone(),
                    b: ws[0].1.clone(),
                },
                k3: LinW {
                    w: ws[1].0.clone(),
                    b: ws[1].1.clone(),
                },
                mix: LinW {
                    w: ws[2].0.clone(),
                    b: ws[2].1.clone(),
                },
            };
            let h = tblock_rows(x.clone(), blk, tm, &spec).as_vec();
            let mut acc = vec![0.0; f];
            for o in 0..window {
                let t = (s + o).min(tm - 1);
                for k in 0..f {
                    acc[k] += (xv[(bi * tm + t) * f + k] + h[o * f + k]) / window as f64;
                }
            }
            out.extend(acc);
        }
    }
    out
}

#[test]
fn shared_window_clips_match_naive_and_finite_differences() {
    let dev = Cpu::default();
    let mut rng = Rng::new(8);
    let (tm, f, window, nm) = (9, 2, 5, 3);
    let lens = [9, 7];
    let starts = [0, 2, 4, 0, 1, 2];
    let x = rand(&dev, &mut rng, 2 * tm, f, 1.0);
    let ws = block_weights(&dev, &mut rng, f);
    let run = |x: M<f64, Cpu, OT>, blk: TBlockW<f64, Cpu, OT>| {
        shared_window_clips(
            x,
            |x, spec| tblock_rows(x, blk, tm, spec),
            &lens,
            tm,
            &starts,
            nm,
            window,
        )
    };
    let got = run(x.retaped::<OT>(), tb(&ws)).as_vec();
    let want = naive_clips(&x, &ws, &lens, tm, &starts, nm, window);
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 1e-12, "{got:?} vs {want:?}");
    }
    let r = rand(&dev, &mut rng, 2 * nm, f, 1.0);
    let rep = check_gradient(&dev, &x, |x: Traced<_>| project(run(x, tb(&ws)), &r), 1e-6);
    assert!(rep.max_err < TOL, "d/dx: {rep:?}");
    let rep = check_gradient(
        &dev,
        &ws[2].0,
        |w: Traced<_>| {
            let mut blk = tb(&ws);
            blk.mix.w = w;
            project(run(x.retaped::<OT>(), blk), &r)
        },
        1e-6,
    );
    assert!(rep.max_err < TOL, "d/dWmix: {rep:?}");
}

#[test]
fn linear_is_x_w_plus_b() {
    let dev = Cpu::default();
    let x: M<f64, Cpu> = dev.tensor_from_vec(vec![1.0, 2.0], (1, 2));
    let w: M<f64, Cpu> = dev.tensor_from_vec(vec![1.0, 0.0, 0.5, 2.0], (2, 2));
    let b = dev.tensor_from_vec(vec![0.25, -1.0], (2,));
    assert_eq!(linear(x, w, b).as_vec(), vec![2.25, 3.0]);
}
