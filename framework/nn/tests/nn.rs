//! Integration tests of seds-nn: hand-computed values, f64 finite-difference gradient checks,
//! tape-vs-gallery agreement, option errors, and the every-parameter-gets-a-gradient check of
//! CGAF for each supported configuration.

use dfdx::optim::Sgd;
use dfdx::prelude::*;
use seds_core::Rng;
use seds_nn::gradcheck::{check_gradient, Traced};
use seds_nn::*;

type Tp = OwnedTape<f64, Cpu>;

fn randn(rng: &mut Rng, n: usize, scale: f64) -> Vec<f64> {
    (0..n).map(|_| rng.normal() * scale).collect()
}

fn seq<const D: usize>(
    dev: &Cpu,
    rng: &mut Rng,
    b: usize,
    t: usize,
) -> Tensor<(usize, usize, Const<D>), f64, Cpu> {
    dev.tensor_from_vec(randn(rng, b * t * D, 1.0), (b, t, Const::<D>))
}

fn scalar(dev: &Cpu, x: f64) -> Tensor<(), f64, Cpu> {
    dev.tensor(x)
}

const TOL: f64 = 1e-6;

// ---------------------------------------------------------------- masked softmax

#[test]
fn masked_softmax_gradient() {
    let dev: Cpu = Default::default();
    let mut rng = Rng::new(1);
    let x = dev.tensor_from_vec(randn(&mut rng, 12, 1.0), (3usize, 4usize));
    let mask = dev.tensor_from_vec(
        vec![1., 1., 0., 1., 0., 0., 0., 0., 1., 0., 0., 0.],
        (3usize, 4usize),
    );
    let c = dev.tensor_from_vec(randn(&mut rng, 12, 1.0), (3usize, 4usize));
    let r = check_gradient(
        &dev,
        &x,
        |x: Traced<(usize, usize)>| {
            (masked_softmax::<Axis<1>, _, _, _, _>(x, mask.clone()) * c.clone()).sum()
        },
        1e-6,
    );
    assert!(r.max_err < TOL, "{r:?}");
    // masked and fully-masked entries get zero gradient
    assert_eq!(r.analytic[2], 0.0);
    assert!(r.analytic[4..8].iter().all(|&g| g == 0.0));
}

// ---------------------------------------------------------------- CLCL

/// One video v = [(1,0), (0,1)] (2 tokens), one text [(1,0), pad (0,1)] (1 valid token),
/// tau = 1, lambda = 2. s = [[1, 0], [0, 1]] (rows: video tokens, cols: text tokens).
/// Masked: V2T = mean_i sum_j softmax_j s_ij s_ij over j = {0}: (1 + 0) / 2 = 0.5;
/// T2V = mean over j = {0} of sum_i softmax_i(s_i0) s_i0 = e / (e + 1) = 0.731059.
/// Release: V2T rows use both text columns: i=0: e/(e+1)*1 = 0.731059, i=1: same -> 0.731059;
/// T2V unchanged (the video has no padding). Scores are multiplied by lambda = 2.
#[test]
fn clcl_hand_computed_masked_and_release() {
    let dev: Cpu = Default::default();
    let v = dev.tensor_from_vec(vec![1.0, 0.0, 0.0, 1.0], (1usize, 2usize, Const::<2>));
    let w = dev.tensor_from_vec(vec![1.0, 0.0, 0.0, 1.0], (1usize, 2usize, Const::<2>));
    let sig = 1f64.exp() / (1f64.exp() + 1.0);
    for (masking, v2t, t2v) in [
        (InnerSoftmax::Masked, 0.5, sig),
        (InnerSoftmax::Release, sig, sig),
    ] {
        let opts = ClclOptions {
            tau: 1.0,
            masking,
            cls_as_clip: true,
        };
        let (zv, zt) =
            clcl_scores(v.clone(), &[2], w.clone(), &[1], &opts, scalar(&dev, 2.0)).unwrap();
        assert!(
            (zv.as_vec()[0] - 2.0 * v2t).abs() < 1e-9,
            "{masking:?} v2t {:?}",
            zv.as_vec()
        );
        assert!(
            (zt.as_vec()[0] - 2.0 * t2v).abs() < 1e-9,
            "{masking:?} t2v {:?}",
            zt.as_vec()
        );
    }
    // cls_as_clip = false drops video token 0: s = [[0, 1]] -> V2T = 0 (masked), T2V = 0.
    let opts = ClclOptions {
        tau: 1.0,
        masking: InnerSoftmax::Masked,
        cls_as_clip: false,
    };
    let (zv, zt) = clcl_scores(v, &[2], w, &[1], &opts, scalar(&dev, 2.0)).unwrap();
    assert!(zv.as_vec()[0].abs() < 1e-9 && zt.as_vec()[0].abs() < 1e-9);
}

#[test]
fn clcl_scale_invariance_and_errors() {
    let dev: Cpu = Default::default();
    let mut rng = Rng::new(2);
    let v = seq::<3>(&dev, &mut rng, 2, 4);
    let w = seq::<3>(&dev, &mut rng, 3, 5);
    let opts = ClclOptions::default();
    let (a, _) = clcl_scores(
        v.clone(),
        &[4, 2],
        w.clone(),
        &[5, 1, 3],
        &opts,
        scalar(&dev, 1.0),
    )
    .unwrap();
    // tokens are L2-normalised inside: scaling the video changes nothing
    let (b, _) = clcl_scores(
        v.clone() * 7.0,
        &[4, 2],
        w.clone(),
        &[5, 1, 3],
        &opts,
        scalar(&dev, 1.0),
    )
    .unwrap();
    for (x, y) in a.as_vec().iter().zip(b.as_vec()) {
        assert!((x - y).abs() < 1e-12);
    }
    assert_eq!(a.shape(), &(2, 3));
    // padding content does not matter when masked
    let mut vv = v.as_vec();
    for x in &mut vv[(4 + 2) * 3..] {
        *x = 100.0;
    }
    let v2 = dev.tensor_from_vec(vv, (2usize, 4usize, Const::<3>));
    let (c, _) = clcl_scores(v2, &[4, 2], w.clone(), &[5, 1, 3], &opts, scalar(&dev, 1.0)).unwrap();
    for (x, y) in a.as_vec().iter().zip(c.as_vec()) {
        assert!((x - y).abs() < 1e-12);
    }
    let err = clcl_scores(
        v.clone(),
        &[4],
        w.clone(),
        &[5, 1, 3],
        &opts,
        scalar(&dev, 1.0),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            NnError::Lengths {
                arg: "video_len",
                ..
            }
        ),
        "{err}"
    );
    let err = clcl_scores(
        v.clone(),
        &[4, 5],
        w.clone(),
        &[5, 1, 3],
        &opts,
        scalar(&dev, 1.0),
    )
    .unwrap_err();
    assert!(err.to_string().contains("item 1 has length 5"), "{err}");
    let bad = ClclOptions { tau: 0.0, ..opts };
    assert!(clcl_scores(v, &[4, 2], w, &[5, 1, 3], &bad, scalar(&dev, 1.0)).is_err());
}

#[test]
fn clcl_gradient_all_modes() {
    let dev: Cpu = Default::default();
    let mut rng = Rng::new(3);
    let v = seq::<3>(&dev, &mut rng, 2, 4);
    let w = seq::<3>(&dev, &mut rng, 2, 3);
    let cv = dev.tensor_from_vec(randn(&mut rng, 4, 1.0), (2usize, 2usize));
    let ct = dev.tensor_from_vec(randn(&mut rng, 4, 1.0), (2usize, 2usize));
    for masking in [InnerSoftmax::Masked, InnerSoftmax::Release] {
        for cls_as_clip in [true, false] {
            let opts = ClclOptions {
                tau: 0.3,
                masking,
                cls_as_clip,
            };
            let f = |v: Traced<(usize, usize, Const<3>)>| {
                let (zv, zt) = clcl_scores(
                    v,
                    &[4, 3],
                    w.retaped::<Tp>(),
                    &[3, 2],
                    &opts,
                    scalar(&dev, 1.5).retaped::<Tp>(),
                )
                .unwrap();
                (zv * cv.clone()).sum() + (zt * ct.clone()).sum()
            };
            let r = check_gradient(&dev, &v, f, 1e-6);
            assert!(
                r.max_err < TOL,
                "video {masking:?} {cls_as_clip}: {}",
                r.max_err
            );
            let g = |w: Traced<(usize, usize, Const<3>)>| {
                let (zv, zt) = clcl_scores(
                    v.retaped::<Tp>(),
                    &[4, 3],
                    w,
                    &[3, 2],
                    &opts,
                    scalar(&dev, 1.5).retaped::<Tp>(),
                )
                .unwrap();
                (zv * cv.clone()).sum() + (zt * ct.clone()).sum()
            };
            let r = check_gradient(&dev, &w, g, 1e-6);
            assert!(
                r.max_err < TOL,
                "text {masking:?} {cls_as_clip}: {}",
                r.max_err
            );
        }
    }
    // gradient into the (log) logit scale through logit_scale(): d/dp exp(p) * S
    let p = scalar(&dev, 0.3);
    let opts = ClclOptions::default();
    let h = |p: Traced<()>| {
        let lam = logit_scale(p, 100.0);
        let (zv, zt) = clcl_scores(
            v.retaped::<Tp>(),
            &[4, 3],
            w.retaped::<Tp>(),
            &[3, 2],
            &opts,
            lam,
        )
        .unwrap();
        (zv * cv.clone()).sum() + (zt * ct.clone()).sum()
    };
    let r = check_gradient(&dev, &p, h, 1e-6);
    assert!(r.max_err < TOL && r.analytic[0] != 0.0, "{r:?}");
}

#[test]
fn gallery_matches_taped_scores() {
    let dev: Cpu = Default::default();
    let mut rng = Rng::new(4);
    const D: usize = 5;
    let (bv, nv, bt, nt) = (3usize, 6usize, 4usize, 4usize);
    let vlen = [6, 3, 2];
    let tlen = [4, 1, 2, 3];
    let vv = randn(&mut rng, bv * nv * D, 1.0);
    let tv = randn(&mut rng, bt * nt * D, 1.0);
    let v = dev.tensor_from_vec(
        vv.iter().map(|&x| x as f32).collect::<Vec<_>>(),
        (bv, nv, Const::<D>),
    );
    let w = dev.tensor_from_vec(
        tv.iter().map(|&x| x as f32).collect::<Vec<_>>(),
        (bt, nt, Const::<D>),
    );
    let videos: Vec<TokenMatrix> = (0..bv)
        .map(|a| {
            TokenMatrix::new(
                vv[a * nv * D..(a + 1) * nv * D]
                    .iter()
                    .map(|&x| x as f32)
                    .collect(),
                nv,
                D,
                vlen[a],
            )
            .unwrap()
        })
        .collect();
    let texts: Vec<TokenMatrix> = (0..bt)
        .map(|b| {
            TokenMatrix::new(
                tv[b * nt * D..(b + 1) * nt * D]
                    .iter()
                    .map(|&x| x as f32)
                    .collect(),
                nt,
                D,
                tlen[b],
            )
            .unwrap()
        })
        .collect();
    for masking in [InnerSoftmax::Masked, InnerSoftmax::Release] {
        for cls_as_clip in [true, false] {
            let opts = ClclOptions {
                tau: 0.07,
                masking,
                cls_as_clip,
            };
            let (zv, zt) = clcl_scores(
                v.clone(),
                &vlen,
                w.clone(),
                &tlen,
                &opts,
                dev.tensor(50.0f32),
            )
            .unwrap();
            let (zv, zt) = (zv.as_vec(), zt.as_vec());
            for block in [1, 3, 100] {
                let g = clcl_gallery_scores(&videos, &texts, &opts, 50.0, block).unwrap();
                assert_eq!(g.len(), bv * bt);
                for i in 0..bv * bt {
                    let want = 0.5 * (zv[i] + zt[i]);
                    assert!(
                        (g[i] - want).abs() < 1e-3 * (1.0 + want.abs()),
                        "{masking:?} {cls_as_clip} {block} [{i}] {} vs {want}",
                        g[i]
                    );
                }
            }
        }
    }
    // errors: block 0, dim mismatch, bad constructor
    assert!(clcl_gallery_scores(&videos, &texts, &ClclOptions::default(), 1.0, 0).is_err());
    let odd = vec![TokenMatrix::all_valid(vec![1.0; 8], 4).unwrap()];
    assert!(matches!(
        clcl_gallery_scores(&videos, &odd, &ClclOptions::default(), 1.0, 4),
        Err(NnError::Shape { .. })
    ));
    assert!(TokenMatrix::new(vec![1.0; 7], 2, 4, 2).is_err());
    assert!(TokenMatrix::new(vec![1.0; 8], 2, 4, 0).is_err());
}

// ---------------------------------------------------------------- InfoNCE

fn lse(xs: &[f64]) -> f64 {
    xs.iter().map(|x| x.exp()).sum::<f64>().ln()
}

#[test]
fn infonce_hand_computed() {
    let dev: Cpu = Default::default();
    let m = |v: Vec<f64>| dev.tensor_from_vec(v, (2usize, 2usize));
    // Z = I for both: every CE = -log(e / (e + 1)) = log(1 + e^-1) = 0.3132617; L = same.
    let l = infonce_dual(m(vec![1., 0., 0., 1.]), m(vec![1., 0., 0., 1.]), 0.5)
        .unwrap()
        .array();
    assert!((l - 0.31326168751822286).abs() < 1e-12, "{l}");
    // Z_v2t = [[2, 0], [1, 0]], Z_t2v = 0.
    // CE(Zv) (rows): row 0: -(2 - lse(2, 0)), row 1: -(0 - lse(1, 0)); mean = 0.720095.
    // CE(Zv^T) (cols): col 0 at a=0: -(2 - lse(2, 1)), col 1 at a=1: -(0 - lse(0, 0)); mean = 0.503204.
    // CE(0) = log 2 either way.
    let ce_rows = ((lse(&[2., 0.]) - 2.) + lse(&[1., 0.])) / 2.;
    let ce_cols = ((lse(&[2., 1.]) - 2.) + lse(&[0., 0.])) / 2.;
    assert!((ce_rows - 0.720095).abs() < 1e-6 && (ce_cols - 0.503204).abs() < 1e-6);
    let ln2 = 2f64.ln();
    for (d, want) in [
        (1.0, 0.5 * (ce_rows + ln2)),
        (0.0, 0.5 * (ce_cols + ln2)),
        (0.5, 0.5 * (0.5 * ce_rows + 0.5 * ce_cols + ln2)),
    ] {
        let l = infonce_dual(m(vec![2., 0., 1., 0.]), m(vec![0.; 4]), d)
            .unwrap()
            .array();
        assert!((l - want).abs() < 1e-12, "d = {d}: {l} vs {want}");
    }
    // Z_t2v enters transposed with weight d: swapping roles with Z_t2v = Zv^T, d = 1 gives CE(Zv).
    let l = infonce_dual(m(vec![0.; 4]), m(vec![2., 1., 0., 0.]), 1.0)
        .unwrap()
        .array();
    assert!((l - 0.5 * (ln2 + ce_rows)).abs() < 1e-12, "{l}");
    assert!(infonce_dual(
        m(vec![0.; 4]),
        dev.tensor_from_vec(vec![0.; 6], (2usize, 3usize)),
        0.5
    )
    .is_err());
    assert!(infonce_dual(m(vec![0.; 4]), m(vec![0.; 4]), 1.5).is_err());
}

#[test]
fn infonce_gradient() {
    let dev: Cpu = Default::default();
    let mut rng = Rng::new(5);
    let a = dev.tensor_from_vec(randn(&mut rng, 9, 2.0), (3usize, 3usize));
    let b = dev.tensor_from_vec(randn(&mut rng, 9, 2.0), (3usize, 3usize));
    for d in [0.0, 0.3, 1.0] {
        let r = check_gradient(
            &dev,
            &a,
            |a: Traced<(usize, usize)>| infonce_dual(a, b.retaped::<Tp>(), d).unwrap(),
            1e-6,
        );
        assert!(r.max_err < TOL, "{r:?}");
        let r = check_gradient(
            &dev,
            &b,
            |b: Traced<(usize, usize)>| infonce_dual(a.retaped::<Tp>(), b, d).unwrap(),
            1e-6,
        );
        assert!(r.max_err < TOL, "{r:?}");
    }
}

// ---------------------------------------------------------------- matching

/// B = 1, T = 2, pose = rgb = [(1,0), (0,1)], tau = 1, lambda = 1: V = I, each diagonal
/// term is V_ii softmax([1, 0])_0 = e / (e + 1); mean = 0.731059, sum = 1.462117.
#[test]
fn matching_hand_computed() {
    let dev: Cpu = Default::default();
    let x = dev.tensor_from_vec(vec![1.0, 0.0, 0.0, 1.0], (1usize, 2usize, Const::<2>));
    let sig = 1f64.exp() / (1f64.exp() + 1.0);
    let (p2r, r2p) = matching_scores(
        x.clone(),
        x.clone(),
        &[2],
        1.0,
        scalar(&dev, 1.0),
        Matching::Mean,
    )
    .unwrap();
    assert!((p2r.as_vec()[0] - sig).abs() < 1e-9 && (r2p.as_vec()[0] - sig).abs() < 1e-9);
    let (p2r, _) = matching_scores(
        x.clone(),
        x.clone(),
        &[2],
        1.0,
        scalar(&dev, 1.0),
        Matching::Sum,
    )
    .unwrap();
    assert!(
        (p2r.as_vec()[0] - 2.0 * sig).abs() < 1e-9,
        "{:?}",
        p2r.as_vec()
    );
    // length 1: only token 0, softmax over {0}: V_00 * 1 = 1
    let (p2r, _) = matching_scores(
        x.clone(),
        x.clone(),
        &[1],
        1.0,
        scalar(&dev, 1.0),
        Matching::Mean,
    )
    .unwrap();
    assert!((p2r.as_vec()[0] - 1.0).abs() < 1e-9);
    assert!(matching_loss(
        x.clone(),
        x.clone(),
        &[2],
        1.0,
        scalar(&dev, 1.0),
        Matching::Off,
        0.5
    )
    .is_err());
    assert!(matching_loss(
        x.clone(),
        x,
        &[3],
        1.0,
        scalar(&dev, 1.0),
        Matching::Mean,
        0.5
    )
    .is_err());
}

#[test]
fn matching_gradient() {
    let dev: Cpu = Default::default();
    let mut rng = Rng::new(6);
    let p = seq::<3>(&dev, &mut rng, 3, 4);
    let r = seq::<3>(&dev, &mut rng, 3, 4);
    let lens = [4, 2, 3];
    for mode in [Matching::Mean, Matching::Sum] {
        let rep = check_gradient(
            &dev,
            &p,
            |p: Traced<(usize, usize, Const<3>)>| {
                matching_loss(
                    p,
                    r.retaped::<Tp>(),
                    &lens,
                    0.2,
                    scalar(&dev, 3.0).retaped::<Tp>(),
                    mode,
                    0.5,
                )
                .unwrap()
            },
            1e-6,
        );
        assert!(rep.max_err < TOL, "{mode:?} pose {}", rep.max_err);
        let rep = check_gradient(
            &dev,
            &r,
            |r: Traced<(usize, usize, Const<3>)>| {
                matching_loss(
                    p.retaped::<Tp>(),
                    r,
                    &lens,
                    0.2,
                    scalar(&dev, 3.0).retaped::<Tp>(),
                    mode,
                    0.5,
                )
                .unwrap()
            },
            1e-6,
        );
        assert!(rep.max_err < TOL, "{mode:?} rgb {}", rep.max_err);
    }
}

// ---------------------------------------------------------------- deformable sampling

#[test]
fn reference_offsets_values() {
    use ReferenceOffsets::*;
    assert_eq!(reference_offsets(5, Symmetric), vec![-2., -1., 0., 1., 2.]);
    assert_eq!(reference_offsets(3, Symmetric), vec![-1., 0., 1.]);
    assert_eq!(reference_offsets(5, Release), vec![-3., -2., -1., 0., 1.]);
    assert_eq!(reference_offsets(3, Release), vec![-2., -1., 0.]);
    assert_eq!(
        reference_offsets(7, Release),
        vec![-4., -3., -2., -1., 0., 1., 2.]
    );
    assert_eq!(reference_offsets(4, Symmetric), vec![-1.5, -0.5, 0.5, 1.5]);
}

/// seq = [10, 20, 30] (one head, Dh = 1), K = 1, rho = 0, deltas [0.25, -1.5, 0.75]:
/// u = [0.25, 2.5 (wrapped from -0.5), 2.75]; values 12.5, 0.5*30 + 0.5*10 = 20,
/// 0.25*30 + 0.75*10 = 15. With length 2 the second token wraps -0.5 -> 1.5: 0.5*20 + 0.5*10.
#[test]
fn deformable_sample_hand_computed() {
    let dev: Cpu = Default::default();
    let s = dev.tensor_from_vec(vec![10.0, 20.0, 30.0], (1usize, 3usize, 1usize));
    let off = dev.tensor_from_vec(vec![0.25, -1.5, 0.75], (1usize, 3usize));
    let (y, pos) = deformable_sample(
        s.clone(),
        off.clone(),
        &[3],
        1,
        1,
        ReferenceOffsets::Symmetric,
    )
    .unwrap();
    assert_eq!(y.as_vec(), vec![12.5, 20.0, 15.0]);
    assert_eq!(pos, vec![0.25, 2.5, 2.75]);
    let (y, pos) = deformable_sample(
        s.clone(),
        off.clone(),
        &[2],
        1,
        1,
        ReferenceOffsets::Symmetric,
    )
    .unwrap();
    assert_eq!(&y.as_vec()[..2], &[12.5, 15.0]);
    assert_eq!(&pos[..2], &[0.25, 1.5]);
    // Release reference for K = 1 is rho = -1: u = t - 1 + delta -> [-0.75 -> 2.25, -1.5 -> 1.5, 1.75]
    let (y, _) = deformable_sample(s.clone(), off, &[3], 1, 1, ReferenceOffsets::Release).unwrap();
    assert_eq!(
        y.as_vec(),
        vec![0.75 * 30.0 + 0.25 * 10.0, 25.0, 0.25 * 20.0 + 0.75 * 30.0]
    );
    let nan = dev.tensor_from_vec(vec![f64::NAN, 0.0, 0.0], (1usize, 3usize));
    assert!(matches!(
        deformable_sample(s, nan, &[3], 1, 1, ReferenceOffsets::Symmetric),
        Err(NnError::NonFinite { .. })
    ));
}

#[test]
fn deformable_sample_gradient_inputs_and_offsets() {
    let dev: Cpu = Default::default();
    let mut rng = Rng::new(7);
    let (b, h, t, dh, k) = (2usize, 2usize, 5usize, 3usize, 3usize);
    let s = dev.tensor_from_vec(randn(&mut rng, b * h * t * dh, 1.0), (b * h, t, dh));
    let off = dev.tensor_from_vec(randn(&mut rng, b * h * t * k, 1.5), (b * h, t * k));
    let c = dev.tensor_from_vec(randn(&mut rng, b * h * t * k * dh, 1.0), (b * h, t * k, dh));
    let lens = [5, 3];
    for reference in [ReferenceOffsets::Symmetric, ReferenceOffsets::Release] {
        let r = check_gradient(
            &dev,
            &s,
            |s: Traced<(usize, usize, usize)>| {
                (deformable_sample(s, off.retaped::<Tp>(), &lens, h, k, reference)
                    .unwrap()
                    .0
                    * c.clone())
                .sum()
            },
            1e-6,
        );
        assert!(r.max_err < TOL, "seq {reference:?} {}", r.max_err);
        let r = check_gradient(
            &dev,
            &off,
            |o: Traced<(usize, usize)>| {
                (deformable_sample(s.retaped::<Tp>(), o, &lens, h, k, reference)
                    .unwrap()
                    .0
                    * c.clone())
                .sum()
            },
            1e-6,
        );
        assert!(r.max_err < TOL, "offsets {reference:?} {}", r.max_err);
        assert!(r.analytic.iter().any(|&g| g != 0.0));
    }
}

#[test]
fn deformable_attention_gradient() {
    let dev: Cpu = Default::default();
    let mut rng = Rng::new(8);
    let attn = DeformableAttention::<4, 2, 8, f64, Cpu>::try_build(&dev).unwrap();
    let x = seq::<4>(&dev, &mut rng, 2, 4);
    let y = seq::<4>(&dev, &mut rng, 2, 4);
    let c = seq::<4>(&dev, &mut rng, 2, 4);
    let lens = [4, 3];
    for intra in [false, true] {
        let r = check_gradient(
            &dev,
            &x,
            |x: Traced<(usize, usize, Const<4>)>| {
                let own = intra.then(|| x.retaped::<Tp>());
                (attn
                    .forward(
                        x,
                        y.retaped::<Tp>(),
                        own,
                        &lens,
                        3,
                        ReferenceOffsets::Symmetric,
                    )
                    .unwrap()
                    .0
                    * c.clone())
                .sum()
            },
            1e-6,
        );
        assert!(r.max_err < TOL, "query intra={intra}: {}", r.max_err);
        let r = check_gradient(
            &dev,
            &y,
            |y: Traced<(usize, usize, Const<4>)>| {
                (attn
                    .forward(
                        x.retaped::<Tp>(),
                        y,
                        None,
                        &lens,
                        3,
                        ReferenceOffsets::Release,
                    )
                    .unwrap()
                    .0
                    * c.clone())
                .sum()
            },
            1e-6,
        );
        assert!(r.max_err < TOL, "kv: {}", r.max_err);
    }
    // keys beyond KMAX = 8 / 2 = 4
    let err = attn
        .forward(
            x.clone(),
            y.clone(),
            None,
            &lens,
            5,
            ReferenceOffsets::Symmetric,
        )
        .unwrap_err();
    assert!(matches!(err, NnError::Option { arg: "keys", .. }), "{err}");
    let err = attn
        .forward(x, y, None, &[4, 5], 3, ReferenceOffsets::Symmetric)
        .unwrap_err();
    assert!(matches!(err, NnError::Lengths { .. }), "{err}");
}

// ---------------------------------------------------------------- CGAF

type TestCgaf = Cgaf<8, 2, 16, 16, 32, f32, Cpu>;

#[test]
fn cgaf_every_parameter_gets_a_gradient() {
    let dev: Cpu = Default::default();
    let mut rng = Rng::new(9);
    let mut model = TestCgaf::new(&dev).unwrap();
    let (b, t) = (2usize, 5usize);
    let mk = |rng: &mut Rng| {
        dev.tensor_from_vec(
            randn(rng, b * t * 8, 1.0)
                .into_iter()
                .map(|x| x as f32)
                .collect::<Vec<_>>(),
            (b, t, Const::<8>),
        )
    };
    let fp = mk(&mut rng);
    let fr = mk(&mut rng);
    let c = mk(&mut rng);
    let lens = [5, 3];
    let mut opt = Sgd::new(
        &model,
        SgdConfig {
            lr: 1e-3,
            momentum: None,
            weight_decay: None,
        },
    );
    for keys in [vec![5, 3], vec![3], vec![7, 5, 3]] {
        for intra in [false, true] {
            for reference in [ReferenceOffsets::Symmetric, ReferenceOffsets::Release] {
                let cfg = CgafConfig {
                    keys: keys.clone(),
                    intra,
                    reference,
                    dropout: 0.1,
                };
                // leaky_trace (not alloc_grads, which pre-allocates every gradient) so that a
                // parameter the forward pass never touched really has no gradient.
                let (out, trace) = model
                    .forward(
                        fp.leaky_trace(),
                        fr.retaped::<OwnedTape<f32, Cpu>>(),
                        &lens,
                        &cfg,
                        true,
                    )
                    .unwrap();
                assert_eq!(out.shape(), &(b, t, Const::<8>));
                assert_eq!(trace.layers.len(), keys.len());
                for (l, k) in trace.layers.iter().zip(&keys) {
                    assert_eq!(l.pose_to_rgb.len(), b * t * 2 * k);
                    assert_eq!(l.rgb_to_pose.len(), b * t * 2 * k);
                    // positions lie inside each item's valid length
                    for bi in 0..b {
                        for ti in 0..t {
                            for s in 0..*k {
                                let u = l.position(true, bi, ti, 1, s).unwrap();
                                assert!(u >= 0.0 && u < lens[bi] as f32, "{u}");
                            }
                        }
                    }
                }
                let loss: Tensor<(), f32, Cpu, _> = (out * c.clone()).sum();
                assert!(loss.as_vec()[0].is_finite());
                let g = loss.backward();
                opt.update(&mut model, &g)
                    .unwrap_or_else(|e| panic!("keys {keys:?} intra {intra} {reference:?}: {e:?}"));
            }
        }
    }
}

#[test]
fn cgaf_config_errors_and_eval_determinism() {
    let dev: Cpu = Default::default();
    let mut rng = Rng::new(10);
    let model = TestCgaf::new(&dev).unwrap();
    let x = dev.tensor_from_vec(
        randn(&mut rng, 2 * 4 * 8, 1.0)
            .into_iter()
            .map(|x| x as f32)
            .collect::<Vec<_>>(),
        (2usize, 4usize, Const::<8>),
    );
    let mut cfg = CgafConfig::default();
    let (a, _) = model
        .forward(x.clone(), x.clone(), &[4, 2], &cfg, false)
        .unwrap();
    let (b, _) = model
        .forward(x.clone(), x.clone(), &[4, 2], &cfg, false)
        .unwrap();
    assert_eq!(a.as_vec(), b.as_vec());
    cfg.keys = vec![9];
    assert!(matches!(
        model.forward(x.clone(), x.clone(), &[4, 2], &cfg, false),
        Err(NnError::Option { arg: "keys", .. })
    ));
    cfg.keys = vec![3, 3, 3, 3];
    assert!(model
        .forward(x.clone(), x.clone(), &[4, 2], &cfg, false)
        .is_err());
    cfg.keys = vec![];
    assert!(model
        .forward(x.clone(), x.clone(), &[4, 2], &cfg, false)
        .is_err());
    cfg.keys = vec![3];
    assert!(model.forward(x.clone(), x, &[4, 0], &cfg, false).is_err());
    // bad const relation D2 != 2D
    assert!(Cgaf::<8, 2, 16, 12, 32, f32, Cpu>::new(&dev).is_err());
    let m = seds_config::schema::ModelConfig::default();
    let c = CgafConfig::from_model(&m);
    assert_eq!(c.keys, vec![5, 3]);
}

#[test]
fn mlp_fusion_gradient_and_sum() {
    let dev: Cpu = Default::default();
    let mut rng = Rng::new(11);
    let f = MlpFusion::<4, 8, 16, f64, Cpu>::try_build(&dev).unwrap();
    let a = seq::<4>(&dev, &mut rng, 2, 3);
    let b = seq::<4>(&dev, &mut rng, 2, 3);
    let c = seq::<4>(&dev, &mut rng, 2, 3);
    let r = check_gradient(
        &dev,
        &a,
        |a: Traced<(usize, usize, Const<4>)>| {
            (f.forward(a, b.retaped::<Tp>()).unwrap() * c.clone()).sum()
        },
        1e-6,
    );
    assert!(r.max_err < TOL, "{}", r.max_err);
    let s = sum_fusion(a.clone(), b.clone()).as_vec();
    assert_eq!(s[0], a.as_vec()[0] + b.as_vec()[0]);
}
