//! Integration tests of seds-nn: hand-computed values, f64 finite-difference gradient checks,
//! tape-vs-gallery agreement, option errors, and the deformable attention core (f64 checks
//! w.r.t. queries, keys, values and offsets, with and without intra-modality samples, both
//! reference modes).

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

/// Random head-split inputs of `deformable_attend`: `[BH, T, Dh]` queries, and per source
/// keys, values `[BH, T, Dh]` and offsets `[BH, T*K]`.
struct AttendInputs {
    q: Tensor<(usize, usize, usize), f64, Cpu>,
    kv: Vec<[Tensor<(usize, usize, usize), f64, Cpu>; 2]>,
    off: Vec<Tensor<(usize, usize), f64, Cpu>>,
    out: Tensor<(usize, usize, usize), f64, Cpu>,
}

fn attend_inputs(
    dev: &Cpu,
    rng: &mut Rng,
    bh: usize,
    t: usize,
    dh: usize,
    k: usize,
) -> AttendInputs {
    let t3 = |rng: &mut Rng| dev.tensor_from_vec(randn(rng, bh * t * dh, 1.0), (bh, t, dh));
    let q = t3(rng);
    let kv = (0..2).map(|_| [t3(rng), t3(rng)]).collect();
    let off = (0..2)
        .map(|_| dev.tensor_from_vec(randn(rng, bh * t * k, 1.5), (bh, t * k)))
        .collect();
    let out = t3(rng);
    AttendInputs { q, kv, off, out }
}

/// Which input of `deformable_attend` a gradient check traces.
#[derive(Clone, Copy, Debug)]
enum Wrt {
    Query,
    Keys(usize),
    Values(usize),
    Offsets(usize),
}

/// `sum(deformable_attend(..).0 * out)` with one input traced (`x`) and the rest constant;
/// `n_src` sources (2 = intra-modality samples on). Own-modality samples share the first
/// source's offsets, as in seds-model's CGAF, unless `Wrt::Offsets(1)` is traced.
#[allow(clippy::too_many_arguments)]
fn attend_loss(
    inp: &AttendInputs,
    wrt: Wrt,
    x: Option<Traced<(usize, usize, usize)>>,
    xo: Option<Traced<(usize, usize)>>,
    n_src: usize,
    lens: &[usize],
    heads: usize,
    k: usize,
    reference: ReferenceOffsets,
) -> Tensor<(), f64, Cpu, Tp> {
    let mut x = x;
    let mut xo = xo;
    let mut pick3 = |hit: bool, c: &Tensor<(usize, usize, usize), f64, Cpu>| match (hit, x.take()) {
        (true, Some(t)) => t,
        (_, back) => {
            x = back;
            c.retaped::<Tp>()
        }
    };
    let q = pick3(matches!(wrt, Wrt::Query), &inp.q);
    let mut srcs = Vec::new();
    for s in 0..n_src {
        let keys = pick3(matches!(wrt, Wrt::Keys(i) if i == s), &inp.kv[s][0]);
        let values = pick3(matches!(wrt, Wrt::Values(i) if i == s), &inp.kv[s][1]);
        let offsets = match (matches!(wrt, Wrt::Offsets(i) if i == s), xo.take()) {
            (true, Some(t)) => t,
            (_, back) => {
                xo = back;
                inp.off[s].retaped::<Tp>()
            }
        };
        srcs.push(KeyValues {
            keys,
            values,
            offsets,
        });
    }
    let scale = 1.0 / (inp.q.shape().2 as f64).sqrt();
    let (ctx, pos) = deformable_attend(q, srcs, lens, heads, k, reference, scale).unwrap();
    assert_eq!(pos.len(), n_src);
    (ctx * inp.out.clone()).sum()
}

#[test]
fn deformable_attend_gradient_all_inputs() {
    let dev: Cpu = Default::default();
    let mut rng = Rng::new(8);
    let (b, h, t, dh, k) = (2usize, 2usize, 4usize, 2usize, 3usize);
    let inp = attend_inputs(&dev, &mut rng, b * h, t, dh, k);
    let lens = [4, 3];
    for n_src in [1, 2] {
        for reference in [ReferenceOffsets::Symmetric, ReferenceOffsets::Release] {
            let mut wrts = vec![Wrt::Query];
            for s in 0..n_src {
                wrts.extend([Wrt::Keys(s), Wrt::Values(s), Wrt::Offsets(s)]);
            }
            for wrt in wrts {
                let r = match wrt {
                    Wrt::Offsets(s) => check_gradient(
                        &dev,
                        &inp.off[s],
                        |o: Traced<(usize, usize)>| {
                            attend_loss(&inp, wrt, None, Some(o), n_src, &lens, h, k, reference)
                        },
                        1e-6,
                    ),
                    _ => {
                        let x0 = match wrt {
                            Wrt::Query => &inp.q,
                            Wrt::Keys(s) => &inp.kv[s][0],
                            _ => match wrt {
                                Wrt::Values(s) => &inp.kv[s][1],
                                _ => unreachable!(),
                            },
                        };
                        check_gradient(
                            &dev,
                            x0,
                            |x: Traced<(usize, usize, usize)>| {
                                attend_loss(&inp, wrt, Some(x), None, n_src, &lens, h, k, reference)
                            },
                            1e-6,
                        )
                    }
                };
                assert!(
                    r.max_err < TOL,
                    "{wrt:?} sources {n_src} {reference:?}: {}",
                    r.max_err
                );
                assert!(
                    r.analytic.iter().any(|&g| g != 0.0),
                    "{wrt:?} sources {n_src} {reference:?}: zero gradient"
                );
            }
        }
    }
}

/// One head, Dh = 1, K = 1, zero offsets, symmetric reference (rho = 0): every token samples
/// itself. keys [1, 2], values [10, 20], q = [1, 1], scale 1: softmax over one sample is 1, so
/// the context is the value itself. With a second (intra) source keys [0, 0], values [0, 4]:
/// t = 0: logits [1, 0] -> 10 e / (e + 1); t = 1: logits [2, 0] -> (20 e^2 + 4) / (e^2 + 1).
#[test]
fn deformable_attend_hand_computed_and_errors() {
    let dev: Cpu = Default::default();
    let t3 = |v: Vec<f64>| dev.tensor_from_vec(v, (1usize, 2usize, 1usize));
    let zero = dev.tensor_from_vec(vec![0.0, 0.0], (1usize, 2usize));
    let src = |k: Vec<f64>, v: Vec<f64>| KeyValues {
        keys: t3(k),
        values: t3(v),
        offsets: zero.clone(),
    };
    let sym = ReferenceOffsets::Symmetric;
    let q = t3(vec![1.0, 1.0]);
    let (ctx, pos) = deformable_attend(
        q.clone(),
        vec![src(vec![1., 2.], vec![10., 20.])],
        &[2],
        1,
        1,
        sym,
        1.0,
    )
    .unwrap();
    assert_eq!(ctx.as_vec(), vec![10.0, 20.0]);
    assert_eq!(pos, vec![vec![0.0, 1.0]]);
    let (ctx, pos) = deformable_attend(
        q.clone(),
        vec![
            src(vec![1., 2.], vec![10., 20.]),
            src(vec![0., 0.], vec![0., 4.]),
        ],
        &[2],
        1,
        1,
        sym,
        1.0,
    )
    .unwrap();
    let (e, e2) = (1f64.exp(), 2f64.exp());
    let want = [10.0 * e / (e + 1.0), (20.0 * e2 + 4.0) / (e2 + 1.0)];
    let got = ctx.as_vec();
    assert!(
        (got[0] - want[0]).abs() < 1e-12 && (got[1] - want[1]).abs() < 1e-12,
        "{got:?} vs {want:?}"
    );
    assert_eq!(pos.len(), 2);
    // errors: no sources, k = 0, heads not dividing B*H, offsets of the wrong width, lengths
    let attend = |sources, lens: &[usize], heads, k| {
        deformable_attend(q.clone(), sources, lens, heads, k, sym, 1.0).map(|_| ())
    };
    assert!(matches!(
        attend(vec![], &[2], 1, 1),
        Err(NnError::Shape { .. })
    ));
    assert!(matches!(
        attend(vec![src(vec![1., 2.], vec![10., 20.])], &[2], 1, 0),
        Err(NnError::Shape { .. })
    ));
    assert!(matches!(
        attend(vec![src(vec![1., 2.], vec![10., 20.])], &[2], 2, 1),
        Err(NnError::Shape { .. })
    ));
    assert!(matches!(
        attend(vec![src(vec![1., 2.], vec![10., 20.])], &[2], 1, 2),
        Err(NnError::Shape { .. })
    ));
    assert!(matches!(
        attend(vec![src(vec![1., 2.], vec![10., 20.])], &[3], 1, 1),
        Err(NnError::Lengths { .. })
    ));
    let mut bad = src(vec![1., 2.], vec![10., 20.]);
    bad.offsets = dev.tensor_from_vec(vec![f64::NAN, 0.0], (1usize, 2usize));
    assert!(matches!(
        attend(vec![bad], &[2], 1, 1),
        Err(NnError::NonFinite { .. })
    ));
}

#[test]
fn sum_fusion_adds() {
    let dev: Cpu = Default::default();
    let mut rng = Rng::new(11);
    let a = seq::<4>(&dev, &mut rng, 2, 3);
    let b = seq::<4>(&dev, &mut rng, 2, 3);
    let s = sum_fusion(a.clone(), b.clone()).as_vec();
    for ((s, a), b) in s.iter().zip(a.as_vec()).zip(b.as_vec()) {
        assert_eq!(*s, a + b);
    }
}

#[test]
fn split_and_merge_heads_round_trip() {
    let dev: Cpu = Default::default();
    // [B = 1, T = 2, D = 4], 2 heads: head h of token t holds columns 2h..2h+2.
    let x = dev.tensor_from_vec(
        vec![0., 1., 2., 3., 4., 5., 6., 7.],
        (1usize, 2usize, 4usize),
    );
    let s = split_heads(x.clone(), 2);
    assert_eq!(s.shape(), &(2, 2, 2));
    assert_eq!(s.as_vec(), vec![0., 1., 4., 5., 2., 3., 6., 7.]);
    assert_eq!(merge_heads(s, 2, 4usize).as_vec(), x.as_vec());
}
