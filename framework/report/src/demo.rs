//! Synthetic material for tests, docs and `--demo` reports: a signing skeleton sequence in the
//! 49-joint layout and a realistic [`ReportInput`] (alpha/beta sweeps in the style of the
//! paper's Figure 5, a fusion ablation, a missing cell, a partially finished cell, training
//! histories, per-query ranks and every extra figure).

use crate::charts::skeleton::{Frame49, LEFT_HAND, RIGHT_HAND};
use crate::input::*;
use seds_core::{RetrievalMetrics, Rng};
use std::collections::BTreeMap;
use std::f32::consts::PI;

/// Writes one 21-joint hand starting at `wrist`, pointing along `angle` (radians, image
/// coordinates), fingers spread by `spread` and curled by `curl` (radians per segment).
/// `mirror` flips the thumb side (left vs right hand).
fn hand(
    frame: &mut Frame49,
    base: usize,
    wrist: (f32, f32),
    angle: f32,
    spread: f32,
    curl: f32,
    mirror: bool,
) {
    let sgn = if mirror { -1.0 } else { 1.0 };
    frame[base] = [wrist.0, wrist.1, 1.0];
    // (angle offset, first-knuckle distance, segment lengths)
    let fingers: [(f32, f32, [f32; 4]); 5] = [
        (-1.0 * sgn, 6.0, [9.0, 8.0, 7.0, 6.0]),    // thumb
        (-0.35 * sgn, 20.0, [10.0, 7.0, 6.0, 5.0]), // index
        (-0.08 * sgn, 21.0, [11.0, 8.0, 6.0, 5.0]), // middle
        (0.2 * sgn, 20.0, [10.0, 7.0, 6.0, 5.0]),   // ring
        (0.45 * sgn, 18.0, [8.0, 6.0, 5.0, 4.0]),   // pinky
    ];
    for (f, &(off, knuckle, segs)) in fingers.iter().enumerate() {
        let a0 = angle + off * spread;
        let mut p = (
            wrist.0 + knuckle * 0.5 * a0.cos(),
            wrist.1 + knuckle * 0.5 * a0.sin(),
        );
        let mut a = a0;
        for (s, len) in segs.iter().enumerate() {
            if s > 0 {
                a += curl * sgn * if f == 0 { 0.5 } else { 1.0 };
            }
            let l = if s == 0 {
                knuckle * 0.5 + len * 0.2
            } else {
                *len
            };
            p = (p.0 + l * a.cos(), p.1 + l * a.sin());
            frame[base + 1 + 4 * f + s] = [p.0, p.1, 1.0];
        }
    }
}

/// A synthetic signer: `n` frames of a person (about 420 x 420 px, facing the camera) whose
/// hands move in front of the chest, rotate and open/close. Frame 3 (if present) misses the
/// right hand's pinky (confidence 0) to exercise omission.
pub fn synthetic_signer(n: usize, seed: u64) -> Vec<Frame49> {
    let mut rng = Rng::new(seed);
    let phase = rng.range_f64(0.0, 6.28) as f32;
    let speed = rng.range_f64(0.35, 0.6) as f32;
    (0..n)
        .map(|t| {
            let tt = t as f32 * speed + phase;
            let mut f: Frame49 = [[0.0; 3]; 49];
            let (cx, sy) = (210.0f32, 150.0f32);
            f[0] = [cx + 3.0 * tt.sin(), 70.0, 1.0]; // nose
                                                     // Signer's left appears on the image's right.
            f[1] = [cx + 70.0, sy, 1.0];
            f[4] = [cx - 70.0, sy, 1.0];
            let lw = (cx + 40.0 + 30.0 * tt.cos(), 215.0 + 35.0 * (1.3 * tt).sin());
            let rw = (cx - 35.0 + 35.0 * (0.8 * tt).sin(), 190.0 + 40.0 * tt.cos());
            f[2] = [cx + 105.0, 255.0 + 10.0 * tt.sin(), 1.0];
            f[5] = [cx - 105.0, 250.0 - 10.0 * tt.cos(), 1.0];
            f[3] = [lw.0, lw.1, 1.0];
            f[6] = [rw.0, rw.1, 1.0];
            // Hands point up and inwards, opening and closing.
            let la = -PI / 2.0 - 0.5 + 0.4 * (0.9 * tt).sin();
            let ra = -PI / 2.0 + 0.5 + 0.4 * (0.7 * tt).cos();
            hand(
                &mut f,
                LEFT_HAND,
                lw,
                la,
                1.0 + 0.3 * tt.sin(),
                0.25 + 0.25 * (1.1 * tt).sin(),
                false,
            );
            hand(
                &mut f,
                RIGHT_HAND,
                rw,
                ra,
                1.0 + 0.3 * tt.cos(),
                0.25 + 0.25 * (0.9 * tt).cos(),
                true,
            );
            if t == 3 {
                for j in 17..21 {
                    f[RIGHT_HAND + j][2] = 0.0;
                }
            }
            f
        })
        .collect()
}

/// Ranks of `n` queries whose R@1 is about `p1` (fraction); misses spread over ranks 2..50.
fn synth_ranks(rng: &mut Rng, n: usize, p1: f64) -> Vec<usize> {
    (0..n)
        .map(|_| {
            if rng.bernoulli(p1) {
                1
            } else {
                // geometric-ish tail
                let mut r = 2;
                while r < 50 && rng.bernoulli(0.78) {
                    r += 1;
                }
                r
            }
        })
        .collect()
}

fn synth_run(
    rng: &mut Rng,
    run_id: i64,
    seed: u64,
    t2v_p: f64,
    v2t_p: f64,
    queries: usize,
    epochs: i64,
) -> RunInput {
    let t2v = synth_ranks(rng, queries, t2v_p);
    let v2t = synth_ranks(rng, queries, v2t_p);
    let mut final_metrics = BTreeMap::new();
    for (dir, ranks) in [("t2v", &t2v), ("v2t", &v2t)] {
        for (name, v) in RetrievalMetrics::from_ranks(ranks).named() {
            final_metrics.insert(format!("test.{dir}_{name}"), v);
        }
    }
    let mut history = Vec::new();
    let comps = [
        ("loss_tv", 4.2),
        ("loss_tp", 4.4),
        ("loss_tr", 4.5),
        ("loss_pr", 2.2),
    ];
    for e in 0..epochs {
        let decay = (-(e as f64) / 4.0).exp();
        let mut total = 0.0;
        for (name, start) in comps {
            let v = start * (0.25 + 0.75 * decay) + 0.05 * rng.normal();
            total += v;
            history.push((format!("train.{name}"), e, v));
        }
        history.push(("train.loss_total".to_string(), e, total));
        let grow = 1.0 - decay;
        history.push((
            "dev.t2v_r1".to_string(),
            e,
            100.0 * t2v_p * grow + rng.normal(),
        ));
        history.push((
            "dev.v2t_r1".to_string(),
            e,
            100.0 * v2t_p * grow + rng.normal(),
        ));
    }
    RunInput {
        run_id,
        seed,
        status: "COMPLETED".into(),
        final_metrics,
        history,
        t2v_ranks: t2v,
        v2t_ranks: v2t,
        git_commit: Some("3f9c2a1d8e7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a".into()),
        git_dirty: run_id % 5 == 0,
        host: Some("node-a".into()),
        duration_s: Some(600.0 + 37.0 * (run_id % 7) as f64),
        log_path: None,
    }
}

/// A realistic report input: cells `alpha=*` (beta 0.4), `beta=*` (alpha 0.8), fusion
/// variants `fusion=mlp|sum`, a never-run cell `fusion=none` and a cell with one of three
/// seeds finished; three seeds, `queries` test queries, 12 epochs of history, all extras.
pub fn demo_input(seed: u64, queries: usize) -> ReportInput {
    let mut rng = Rng::new(seed);
    let mut cells = Vec::new();
    let mut run_id = 0i64;
    let quality = |alpha: f64, beta: f64, fusion: &str| -> (f64, f64) {
        let a = 0.5 - 0.12 * (alpha - 0.8).powi(2) - 0.08 * (beta - 0.4).powi(2);
        let f = match fusion {
            "cgaf" => 0.0,
            "mlp" => -0.04,
            "sum" => -0.07,
            _ => -0.1,
        };
        (a + f, a + f - 0.04)
    };
    let mut push =
        |name: String, alpha: f64, beta: f64, fusion: &str, seeds: usize, done: usize| {
            let mut axes = BTreeMap::new();
            axes.insert("loss.alpha".to_string(), AxisValue::Number(alpha));
            axes.insert("loss.beta".to_string(), AxisValue::Number(beta));
            axes.insert(
                "model.fusion".to_string(),
                AxisValue::Text(fusion.to_string()),
            );
            let mut params: BTreeMap<String, String> = axes
                .iter()
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect();
            params.insert("train.epochs".into(), "12".into());
            params.insert("data.dataset".into(), "synthsign".into());
            let (t2v_p, v2t_p) = quality(alpha, beta, fusion);
            let mut runs = Vec::new();
            for s in 0..seeds {
                run_id += 1;
                if s < done {
                    runs.push(synth_run(
                        &mut rng,
                        run_id,
                        42 + s as u64,
                        t2v_p,
                        v2t_p,
                        queries,
                        12,
                    ));
                } else {
                    runs.push(RunInput {
                        run_id,
                        seed: 42 + s as u64,
                        status: "RUNNING".into(),
                        host: Some("node-b".into()),
                        ..Default::default()
                    });
                }
            }
            cells.push(CellInput {
                name,
                params,
                axes,
                runs,
            });
        };
    for a in [0.0, 0.2, 0.4, 0.6, 0.8, 1.0] {
        push(format!("alpha={a}"), a, 0.4, "cgaf", 3, 3);
    }
    for b in [0.0, 0.2, 0.6, 0.8, 1.0] {
        push(format!("beta={b}"), 0.8, b, "cgaf", 3, 3);
    }
    push("fusion=mlp".into(), 0.8, 0.4, "mlp", 3, 3);
    push("fusion=sum".into(), 0.8, 0.4, "sum", 3, 1);
    push("fusion=none".into(), 0.8, 0.4, "none", 0, 0);

    // Similarity matrix: 12 videos x 12 sentences, the diagonal mostly wins.
    let n = 12;
    let values: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| {
                    if i == j {
                        0.55 + 0.2 * rng.uniform()
                    } else {
                        0.15 + 0.45 * rng.uniform()
                    }
                })
                .collect()
        })
        .collect();
    let similarity = Heatmap {
        title: "Similarity on 12 test pairs (alpha=0.8, seed 42)".into(),
        row_labels: (0..n).map(|i| format!("vid{:03}", i * 7)).collect(),
        col_labels: (0..n).map(|i| format!("s{:03}", i * 7)).collect(),
        values,
        correct: (0..n).map(Some).collect(),
        row_axis: None,
        col_axis: None,
    };
    // CGAF offsets: K = 5 then 3, symmetric reference offsets plus learned drift.
    let n_clips = 24;
    let layer = |layer: usize, k: usize, rng: &mut Rng| {
        let half = (k / 2) as f64;
        let mk = |rng: &mut Rng, drift: f64| -> Vec<Vec<f64>> {
            (0..n_clips)
                .map(|t| {
                    (0..k)
                        .map(|kk| {
                            let u =
                                t as f64 + (kk as f64 - half) * 1.3 + drift + 0.6 * rng.normal();
                            u.rem_euclid(n_clips as f64)
                        })
                        .collect()
                })
                .collect()
        };
        CgafLayerSampling {
            layer,
            pose_to_rgb: mk(rng, 0.8),
            rgb_to_pose: mk(rng, -0.5),
        }
    };
    let cgaf = CgafSampling {
        video: "vid014".into(),
        n_clips,
        layers: vec![layer(1, 5, &mut rng), layer(2, 3, &mut rng)],
    };
    let queries_txt = [
        "we are going to learn how to make a simple paper airplane",
        "the weather will be cold and rainy in the north tomorrow",
        "put the dough in the oven for twenty minutes",
    ];
    let examples = queries_txt
        .iter()
        .enumerate()
        .map(|(qi, q)| {
            let correct_at = [0usize, 2, 9][qi];
            let top = (0..5)
                .map(|r| {
                    let frames = synthetic_signer(40, 100 + (qi * 10 + r) as u64);
                    let idx = [0usize, 12, 24, 36];
                    RetrievedVideo {
                        video: format!("vid{:03}", 20 + qi * 10 + r),
                        score: 0.8 - 0.06 * r as f64,
                        correct: r == correct_at,
                        caption: Some(if r == correct_at {
                            q.to_string()
                        } else {
                            format!("another sentence number {r}")
                        }),
                        keyframes: idx.iter().map(|&i| frames[i].to_vec()).collect(),
                        frame_indices: idx.to_vec(),
                    }
                })
                .collect();
            RetrievalExample {
                query: q.to_string(),
                correct_rank: if correct_at >= 5 {
                    Some(correct_at + 1)
                } else {
                    None
                },
                top,
            }
        })
        .collect();
    ReportInput {
        experiment: "fig5-alpha-beta".into(),
        description: Some(
            "Synthetic demo: Figure 5 style sweeps of alpha and beta plus a fusion ablation."
                .into(),
        ),
        reference: Some("alpha=0.8".into()),
        cells,
        swept: vec![
            "loss.alpha".into(),
            "loss.beta".into(),
            "model.fusion".into(),
        ],
        extras: Extras {
            similarity: Some(similarity),
            cgaf: Some(cgaf),
            examples,
        },
    }
}
