//! The pose encoder (seds-method.md section 3.1): per-part spatial graph convolutions over the
//! hand and body joint graphs, part max-pooling and part-graph convolutions, per-frame
//! `[left; right; body]`, two temporal conv blocks over the sequence, then one token per clip
//! from a last temporal conv block over each clip window, averaged.
//!
//! The per-clip block shares work between overlapping windows exactly: the block's convs run
//! once over the whole sequence, only the frames within the conv radius of each window's edges
//! (where the per-window zero padding differs) are recomputed, and window means come from a
//! per-video averaging matrix. [`PoseEncoder::clips_naive`] is the per-window reference.
//!
//! The release's input BatchNorm is replaced by a fixed affine map `4 (x - 0.5)` of the
//! [0, 1] coordinates (centres the inputs; missing joints map to -2), and graph/temporal conv
//! layers use Kaiming-uniform init, so features do not shrink through the stack.

use crate::params::{host2, rows, Lin, LinW, Params, T2};
use dfdx::prelude::*;
use seds_data::VideoBatch;

/// Joints of one hand.
pub const HAND_J: usize = 21;
/// Body joints (nose, L shoulder/elbow/wrist, R shoulder/elbow/wrist).
pub const BODY_J: usize = 7;
/// Radius of the widest temporal conv (kernel 5).
pub const RADIUS: usize = 2;

/// A joint graph with K adjacency subsets and its parts.
#[derive(Clone, Debug)]
pub struct Graph {
    /// Joints.
    pub j: usize,
    /// Row-normalised adjacency subsets, `(K*J, J)` row-major.
    pub a: Vec<f32>,
    /// Number of subsets.
    pub k: usize,
    /// Joints of each part (padded by repeating the first joint up to the longest part).
    pub parts: Vec<Vec<usize>>,
    /// Part-graph adjacency (self, neighbours), `(2*P, P)` row-major, row-normalised.
    pub part_a: Vec<f32>,
}

fn normalise_rows(m: &mut [f32], n: usize) {
    for row in m.chunks_mut(n) {
        let s: f32 = row.iter().sum();
        if s > 0.0 {
            row.iter_mut().for_each(|v| *v /= s);
        }
    }
}

fn build_graph(
    parent: &[Option<usize>],
    fourth: &[(usize, usize)],
    parts: Vec<Vec<usize>>,
    part_edges: &[(usize, usize)],
) -> Graph {
    let j = parent.len();
    let k = 4;
    let mut a = vec![0f32; k * j * j];
    for i in 0..j {
        a[i * j + i] = 1.0;
        if let Some(pa) = parent[i] {
            a[(j + i) * j + pa] = 1.0; // centripetal: towards the root
            a[(2 * j + pa) * j + i] = 1.0; // centrifugal: away from the root
        }
    }
    for &(x, y) in fourth {
        a[(3 * j + x) * j + y] = 1.0;
        a[(3 * j + y) * j + x] = 1.0;
    }
    normalise_rows(&mut a, j);
    let p = parts.len();
    let maxsz = parts.iter().map(|v| v.len()).max().unwrap_or(1);
    let parts = parts
        .into_iter()
        .map(|mut v| {
            let f = v[0];
            v.resize(maxsz, f);
            v
        })
        .collect();
    let mut pa = vec![0f32; 2 * p * p];
    for i in 0..p {
        pa[i * p + i] = 1.0;
    }
    for &(x, y) in part_edges {
        pa[(p + x) * p + y] = 1.0;
        pa[(p + y) * p + x] = 1.0;
    }
    normalise_rows(&mut pa, p);
    Graph {
        j,
        a,
        k,
        parts,
        part_a: pa,
    }
}

/// The hand graph: wrist root, five 4-joint fingers; 4th subset links the same joint across fingers.
pub fn hand_graph() -> Graph {
    let mut parent = vec![None; HAND_J];
    for f in 0..5 {
        for q in 0..4 {
            let jn = 1 + 4 * f + q;
            parent[jn] = Some(if q == 0 { 0 } else { jn - 1 });
        }
    }
    let mut fourth = Vec::new();
    for q in 0..4 {
        for f in 0..5 {
            for g in f + 1..5 {
                fourth.push((1 + 4 * f + q, 1 + 4 * g + q));
            }
        }
    }
    let mut parts: Vec<Vec<usize>> = (0..5).map(|f| (1 + 4 * f..5 + 4 * f).collect()).collect();
    parts.push(vec![0, 1, 5, 9, 13, 17]);
    let edges: Vec<(usize, usize)> = (0..5).map(|f| (5, f)).collect();
    build_graph(&parent, &fourth, parts, &edges)
}

/// The body graph over the 7 SEDS body joints; 4th subset links left/right counterparts.
pub fn body_graph() -> Graph {
    let parent = [None, Some(0), Some(1), Some(2), Some(0), Some(4), Some(5)];
    let fourth = [(1, 4), (2, 5), (3, 6)];
    let parts = vec![vec![1, 2, 3], vec![4, 5, 6], vec![0, 1, 4]];
    build_graph(&parent, &fourth, parts, &[(2, 0), (2, 1)])
}

/// One graph convolution: `relu(Lin(concat_k A_k X))`.
#[derive(Clone, Copy, Debug)]
struct Gc {
    lin: Lin,
    k: usize,
}

impl Gc {
    fn new<D: Device<f32>>(
        p: &mut Params<D>,
        name: &str,
        k: usize,
        cin: usize,
        cout: usize,
    ) -> Self {
        Gc {
            lin: Lin::new_relu(p, name, k * cin, cout),
            k,
        }
    }
    /// `x`: `(J*N, C)` (joint-major); `a`: `(K*J, J)`. Returns `(J*N, Cout)`.
    fn fwd<D: Device<f32>, T: Tape<f32, D>>(
        &self,
        p: &Params<D>,
        a: &T2<D>,
        x: T2<D, T>,
        j: usize,
    ) -> T2<D, T> {
        graph_conv(a, x, self.lin.tensors(p), j, self.k)
    }
}

/// 2-D tensor of any dtype/device.
pub type M<E, D, T = NoneTape> = Tensor<(usize, usize), E, D, T>;

/// One graph convolution, functional form: `relu([A_1 X, ..., A_K X] W + b)`.
///
/// `a`: the K row-normalised adjacency subsets stacked `(K*J, J)`; `x`: `(J*N, C)` node
/// features, joint-major (row `j*N + n`); `lin`: `W (K*C, Cout)`, `b (Cout,)`.
/// Returns `(J*N, Cout)`. Checked against central differences in f64 (tests/pose_grad.rs).
pub fn graph_conv<E: Dtype, D: Device<E>, T: Tape<E, D>>(
    a: &M<E, D>,
    x: M<E, D, T>,
    lin: LinW<E, D, T>,
    j: usize,
    k: usize,
) -> M<E, D, T> {
    let (jn, c) = *x.shape();
    let n = jn / j.max(1);
    let ax = a.retaped::<T>().matmul(x.reshape_like(&(j, n * c)));
    // (K, J, N, C) -> (J, N, K, C): the reshape materialises the permuted view.
    let ax = ax
        .reshape_like(&(k, j, n, c))
        .permute::<_, Axes4<1, 2, 0, 3>>()
        .reshape_like(&(j * n, k * c));
    lin.apply(ax).relu()
}

/// Weights of one temporal conv block (functional form of [`TBlock`]).
pub struct TBlockW<E: Dtype, D: Device<E>, T: Tape<E, D>> {
    /// Kernel-5 branch `(5F, F)`.
    pub k5: LinW<E, D, T>,
    /// Kernel-3 branch `(3F, F)`.
    pub k3: LinW<E, D, T>,
    /// 1x1 mix `(2F, F)`.
    pub mix: LinW<E, D, T>,
}

/// Temporal conv block, functional form: for each requested output row (video `b`, centre
/// `t`, taps valid in `[lo, hi)`, zero outside), `relu(mix([relu(conv5 x); relu(conv3 x)]))`.
/// `x`: `(B*T, F)`, frames of video b at rows `b*T..`. Returns `(spec.len(), F)`.
pub fn tblock_rows<E: Dtype, D: Device<E>, T: Tape<E, D>>(
    x: M<E, D, T>,
    w: TBlockW<E, D, T>,
    t_len: usize,
    spec: &[ConvRow],
) -> M<E, D, T> {
    let (bt, f) = *x.shape();
    let dev = x.device().clone();
    let zero: M<E, D> = dev.zeros_like(&(1, f));
    let xp = (x, zero).concat_along(Axis::<0>);
    let idx = |r: usize| -> Vec<usize> {
        let mut v = Vec::with_capacity(spec.len() * (2 * r + 1));
        for s in spec {
            for d in -(r as i64)..=(r as i64) {
                let u = s.t as i64 + d;
                v.push(if u >= s.lo as i64 && u < s.hi as i64 {
                    s.b * t_len + u as usize
                } else {
                    bt
                });
            }
        }
        v
    };
    let n = spec.len();
    let gather = |t: M<E, D, T>, r: usize| {
        let i = idx(r);
        let it = dev.tensor_from_vec(i, (n * (2 * r + 1),));
        t.gather(it).reshape_like(&(n, (2 * r + 1) * f))
    };
    let g5 = gather(xp.retaped::<T>(), 2);
    let g3 = gather(xp, 1);
    let h = (w.k5.apply(g5).relu(), w.k3.apply(g3).relu()).concat_along(Axis::<1>);
    w.mix.apply(h).relu()
}

/// Clip tokens `(B*Nm, F)` from frame features `x` `(B*Tm, F)`: for each clip window of
/// `window` frames starting at `clip_starts[b*Nm + c]`, the mean over the window of
/// `x + block(x)`, where `block` is a temporal conv block whose taps are zero-padded at the
/// window's edges. Work is shared between overlapping windows exactly: `block` runs once over
/// each whole sequence, only the rows within [`RADIUS`] of each window's edges (where the
/// per-window padding differs) are recomputed, and window means are per-video averaging
/// matrices. `block(x, spec)` returns one row per [`ConvRow`].
#[allow(clippy::too_many_arguments)]
pub fn shared_window_clips<E: Dtype, D: Device<E>, T: Tape<E, D>>(
    x: M<E, D, T>,
    block: impl FnOnce(M<E, D, T>, &[ConvRow]) -> M<E, D, T>,
    frame_len: &[usize],
    max_frames: usize,
    clip_starts: &[usize],
    max_clips: usize,
    window: usize,
) -> M<E, D, T> {
    let (b, tm, nm) = (frame_len.len(), max_frames, max_clips);
    let f = x.shape().1;
    let dev = x.device().clone();
    let r = RADIUS.min(window);
    let edges: Vec<usize> = (0..window).filter(|&o| o < r || o + r >= window).collect();
    let mut spec: Vec<ConvRow> = (0..b)
        .flat_map(|bi| {
            (0..tm).map(move |t| ConvRow {
                b: bi,
                t,
                lo: 0,
                hi: frame_len[bi],
            })
        })
        .collect();
    let mut ax = vec![E::default(); b * nm * tm];
    let mut ah = vec![E::default(); b * nm * tm];
    let inv = 1.0 / window as f64;
    let inv_e = E::from_f64(inv).unwrap_or_default();
    for bi in 0..b {
        for c in 0..nm {
            let s = clip_starts[bi * nm + c];
            for o in 0..window {
                let t = s + o;
                if t < tm {
                    ax[(bi * nm + c) * tm + t] += inv_e;
                    if !edges.contains(&o) {
                        ah[(bi * nm + c) * tm + t] += inv_e;
                    }
                }
            }
            for &o in &edges {
                spec.push(ConvRow {
                    b: bi,
                    t: s + o,
                    lo: s,
                    hi: (s + window).min(frame_len[bi].max(s + 1)),
                });
            }
        }
    }
    let h = block(x.retaped::<T>(), &spec);
    let n_g = b * tm;
    let ne = edges.len();
    let hg = h
        .retaped::<T>()
        .slice((0..n_g, ..))
        .reshape_like(&(b, tm, f));
    let he = h
        .slice((n_g..n_g + b * nm * ne, ..))
        .reshape_like(&(b * nm, ne, f))
        .sum::<_, Axis<1>>()
        * inv_e;
    let axt = dev.tensor_from_vec(ax, (b, nm, tm));
    let aht = dev.tensor_from_vec(ah, (b, nm, tm));
    let xs = axt
        .retaped::<T>()
        .matmul(x.reshape_like(&(b, tm, f)))
        .reshape_like(&(b * nm, f));
    let hs = aht.retaped::<T>().matmul(hg).reshape_like(&(b * nm, f));
    xs + hs + he
}

/// Spatial + part graph stack for one body part type (hands share one); the adjacency
/// matrices live on the model's device.
#[derive(Clone, Debug)]
struct PartNet<D: Device<f32>> {
    g: Graph,
    a: T2<D>,
    pa: T2<D>,
    spatial: Vec<Gc>,
    part: Vec<Gc>,
}

impl<D: Device<f32>> PartNet<D> {
    fn new(p: &mut Params<D>, name: &str, g: Graph, chans: &[usize], part: &[usize]) -> Self {
        let a = host2(&p.dev, g.a.clone(), g.k * g.j, g.j);
        let np = g.parts.len();
        let pa = host2(&p.dev, g.part_a.clone(), 2 * np, np);
        let mut spatial = Vec::new();
        let mut cin = 2;
        for (i, &c) in chans.iter().enumerate() {
            spatial.push(Gc::new(p, &format!("{name}.gc{i}"), g.k, cin, c));
            cin = c;
        }
        let mut pgc = Vec::new();
        for (i, &c) in part.iter().enumerate() {
            pgc.push(Gc::new(p, &format!("{name}.pgc{i}"), 2, cin, c));
            cin = c;
        }
        PartNet {
            g,
            a,
            pa,
            spatial,
            part: pgc,
        }
    }

    /// `x`: `(J*N, 2)` joint-major; returns `(N, C_part)`.
    fn fwd<T: Tape<f32, D>>(&self, p: &Params<D>, mut x: T2<D, T>, n: usize) -> T2<D, T> {
        let j = self.g.j;
        for gc in &self.spatial {
            x = gc.fwd(p, &self.a, x, j);
        }
        let c = x.shape().1;
        let np = self.g.parts.len();
        let sz = self.g.parts[0].len();
        let idx: Vec<usize> = self.g.parts.iter().flatten().copied().collect();
        let pooled = rows(&p.dev, x.reshape_like(&(j, n * c)), &idx)
            .reshape_like(&(np, sz, n * c))
            .max::<_, Axis<1>>();
        let mut y = pooled.reshape_like(&(np * n, c));
        for gc in &self.part {
            y = gc.fwd(p, &self.pa, y, np);
        }
        let c2 = y.shape().1;
        y.reshape_like(&(np, n * c2))
            .max::<_, Axis<0>>()
            .reshape_like(&(n, c2))
    }
}

/// A temporal conv block: `relu(mix([relu(conv5 x); relu(conv3 x)]))` (residual added by callers).
#[derive(Clone, Copy, Debug)]
pub struct TBlock {
    c5: Lin,
    c3: Lin,
    mix: Lin,
}

/// One output row of a temporal conv: video `b`, centre frame `t`, taps valid in `[lo, hi)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvRow {
    /// Video in the batch.
    pub b: usize,
    /// Centre frame.
    pub t: usize,
    /// First frame a tap may read.
    pub lo: usize,
    /// One past the last frame a tap may read.
    pub hi: usize,
}

impl TBlock {
    fn new<D: Device<f32>>(p: &mut Params<D>, name: &str, f: usize) -> Self {
        TBlock {
            c5: Lin::new_relu(p, &format!("{name}.k5"), 5 * f, f),
            c3: Lin::new_relu(p, &format!("{name}.k3"), 3 * f, f),
            mix: Lin::new(p, &format!("{name}.mix"), 2 * f, f),
        }
    }

    /// The block's output at each requested row (see [`tblock_rows`]); `x`: `(B*T, F)`,
    /// frames of video b at rows `b*T..`.
    pub fn rows<D: Device<f32>, T: Tape<f32, D>>(
        &self,
        p: &Params<D>,
        x: T2<D, T>,
        t_len: usize,
        spec: &[ConvRow],
    ) -> T2<D, T> {
        tblock_rows(x, self.weights(p), t_len, spec)
    }

    /// The block's weights with tape `T`.
    pub fn weights<D: Device<f32>, T: Tape<f32, D>>(&self, p: &Params<D>) -> TBlockW<f32, D, T> {
        TBlockW {
            k5: self.c5.tensors(p),
            k3: self.c3.tensors(p),
            mix: self.mix.tensors(p),
        }
    }
}

/// Per-channel standardisation of the pose input, `(x - mean) * inv_std` for each of the
/// `NUM_JOINTS * 2` (joint, coordinate) channels; a missing joint (both coordinates exactly 0,
/// as preprocessing writes low-confidence hand joints) maps to 0, the channel mean.
///
/// This plays the role of the release's input ("data") BatchNorm with statistics fixed from
/// the training split ([`PoseNorm::from_split`]): the raw coordinates are dominated by the
/// mean pose (per-video mean vectors have cosine ~0.92 across videos on SynthSign tiny), so
/// without centring per channel the between-video signal is a small fraction of the input.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PoseNorm {
    /// Channel means.
    pub mean: Vec<f32>,
    /// Channel inverse standard deviations.
    pub inv_std: Vec<f32>,
}

impl PoseNorm {
    /// The data-independent map `4 (x - 0.5)` for coordinates in [0, 1].
    pub fn fixed() -> Self {
        let n = seds_data::NUM_JOINTS * seds_data::COORDS;
        PoseNorm {
            mean: vec![0.5; n],
            inv_std: vec![4.0; n],
        }
    }

    /// Statistics of the present joints of every frame of `split` (channels never present
    /// keep mean 0.5 and a unit-ish scale; standard deviations are floored at 0.01).
    pub fn from_split(split: &seds_data::Split) -> Self {
        let nj = seds_data::NUM_JOINTS;
        let n = nj * 2;
        let (mut s, mut ss, mut c) = (vec![0f64; n], vec![0f64; n], vec![0f64; n]);
        for v in &split.videos {
            for fr in v.pose.chunks_exact(n) {
                for j in 0..nj {
                    let (x, y) = (fr[2 * j], fr[2 * j + 1]);
                    if x == 0.0 && y == 0.0 {
                        continue;
                    }
                    for (k, val) in [(2 * j, x), (2 * j + 1, y)] {
                        s[k] += val as f64;
                        ss[k] += (val as f64) * (val as f64);
                        c[k] += 1.0;
                    }
                }
            }
        }
        let mut out = PoseNorm::fixed();
        for k in 0..n {
            if c[k] >= 2.0 {
                let m = s[k] / c[k];
                let var = (ss[k] / c[k] - m * m).max(0.0);
                out.mean[k] = m as f32;
                out.inv_std[k] = (1.0 / var.sqrt().max(0.01)) as f32;
            }
        }
        out
    }
}

/// Pose encoder parameters (graph adjacencies on device `D`, default the CPU).
#[derive(Clone, Debug)]
pub struct PoseEncoder<D: Device<f32> = Cpu> {
    /// Input standardisation (see [`PoseNorm`]).
    pub norm: PoseNorm,
    hand: PartNet<D>,
    body: PartNet<D>,
    seq: [TBlock; 2],
    clip: TBlock,
    /// Frame/clip feature width (3 x part channels).
    pub f: usize,
}

/// Frame masks and sizes of a batch.
fn frame_mask(vb: &VideoBatch) -> Vec<f32> {
    let tm = vb.max_frames;
    let mut m = vec![0f32; vb.len() * tm];
    for (b, &l) in vb.frame_len.iter().enumerate() {
        for t in 0..l.min(tm) {
            m[b * tm + t] = 1.0;
        }
    }
    m
}

impl<D: Device<f32>> PoseEncoder<D> {
    /// New encoder with spatial channels `chans` (3 values) and part channels `part` (2 values).
    pub fn new(p: &mut Params<D>, chans: &[usize], part: &[usize]) -> Self {
        let hand = PartNet::new(p, "pose.hand", hand_graph(), chans, part);
        let body = PartNet::new(p, "pose.body", body_graph(), chans, part);
        let f = 3 * part[part.len() - 1];
        let seq = [
            TBlock::new(p, "pose.seq0", f),
            TBlock::new(p, "pose.seq1", f),
        ];
        let clip = TBlock::new(p, "pose.clip", f);
        PoseEncoder {
            norm: PoseNorm::fixed(),
            hand,
            body,
            seq,
            clip,
            f,
        }
    }

    /// Per-frame features after the two sequence blocks: `(B*Tm, F)`, zero on padding frames.
    pub fn frames<T: Tape<f32, D>>(&self, p: &Params<D>, vb: &VideoBatch, tape: T) -> T2<D, T> {
        let (b, tm) = (vb.len(), vb.max_frames);
        let n = b * tm;
        let nj = seds_data::NUM_JOINTS;
        let pn = &self.norm;
        let pose = &vb.pose;
        // Channel (joint, coord) of frame `fr`, standardised; missing joints (0, 0) -> 0.
        let norm = |i: usize| -> f32 {
            let j = i / 2;
            if pose[2 * j] == 0.0 && pose[2 * j + 1] == 0.0 {
                0.0
            } else {
                let ch = i % (nj * 2);
                (pose[i] - pn.mean[ch]) * pn.inv_std[ch]
            }
        };
        // Hands stacked: left frames then right frames, joint-major (J, 2N, 2).
        let mut hands = vec![0f32; HAND_J * 2 * n * 2];
        let mut body = vec![0f32; BODY_J * n * 2];
        for fr in 0..n {
            for j in 0..HAND_J {
                for c in 0..2 {
                    hands[(j * 2 * n + fr) * 2 + c] = norm((fr * nj + BODY_J + j) * 2 + c);
                    hands[(j * 2 * n + n + fr) * 2 + c] =
                        norm((fr * nj + BODY_J + HAND_J + j) * 2 + c);
                }
            }
            for j in 0..BODY_J {
                for c in 0..2 {
                    body[(j * n + fr) * 2 + c] = norm((fr * nj + j) * 2 + c);
                }
            }
        }
        let hx = host2(&p.dev, hands, HAND_J * 2 * n, 2).put_tape(tape);
        let bx = host2(&p.dev, body, BODY_J * n, 2).retaped::<T>();
        let h = self.hand.fwd(p, hx, 2 * n); // (2N, C) left rows then right rows
        let c = h.shape().1;
        let h = h
            .reshape_like(&(2, n, c))
            .permute::<_, Axes3<1, 0, 2>>()
            .reshape_like(&(n, 2 * c));
        let bd = self.body.fwd(p, bx, n);
        let mut x = (h, bd).concat_along(Axis::<1>);
        let mask: Tensor<(usize,), f32, D> = p.dev.tensor_from_vec(frame_mask(vb), (n,));
        let spec: Vec<ConvRow> = (0..b)
            .flat_map(|bi| {
                (0..tm).map(move |t| ConvRow {
                    b: bi,
                    t,
                    lo: 0,
                    hi: vb.frame_len[bi],
                })
            })
            .collect();
        for blk in &self.seq {
            let h = blk.rows(p, x.with_empty_tape(), tm, &spec);
            x = (x + h) * mask.clone().broadcast_like::<_, Axis<1>>(&(n, self.f));
        }
        x
    }

    /// Clip tokens `(B*Nm, F)` from frame features, sharing work between overlapping
    /// windows ([`shared_window_clips`] with this encoder's clip block).
    pub fn clips<T: Tape<f32, D>>(
        &self,
        p: &Params<D>,
        vb: &VideoBatch,
        x: T2<D, T>,
        window: usize,
    ) -> T2<D, T> {
        let tm = vb.max_frames;
        shared_window_clips(
            x,
            |x, spec| self.clip.rows(p, x, tm, spec),
            &vb.frame_len,
            tm,
            &vb.clip_starts,
            vb.max_clips,
            window,
        )
    }

    /// Reference per-window computation of [`PoseEncoder::clips`] (tests, benchmarks).
    pub fn clips_naive<T: Tape<f32, D>>(
        &self,
        p: &Params<D>,
        vb: &VideoBatch,
        x: T2<D, T>,
        window: usize,
    ) -> T2<D, T> {
        let (b, tm, nm) = (vb.len(), vb.max_frames, vb.max_clips);
        let mut spec = Vec::new();
        let mut idx = Vec::new();
        for bi in 0..b {
            for c in 0..nm {
                let s = vb.clip_starts[bi * nm + c];
                for o in 0..window {
                    spec.push(ConvRow {
                        b: bi,
                        t: s + o,
                        lo: s,
                        hi: (s + window).min(vb.frame_len[bi].max(s + 1)),
                    });
                    idx.push(bi * tm + (s + o).min(tm - 1));
                }
            }
        }
        let h = self.clip.rows(p, x.with_empty_tape(), tm, &spec);
        let xw = rows(&p.dev, x, &idx);
        (xw + h)
            .reshape_like(&(b * nm, window, self.f))
            .sum::<_, Axis<1>>()
            * (1.0 / window as f32)
    }
}
