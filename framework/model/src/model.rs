//! The SEDS model: pose encoder, RGB projection, interaction transformers (towers), text
//! encoder, CGAF / MLP / sum fusion, and the joint objective (seds-method.md sections 3-4).
//!
//! The text encoder is bidirectional (no causal mask): it is trained from scratch, so the
//! causal mask of the CLIP release brings nothing; padding is masked in every attention.

use crate::ops::{l2norm, Mha, T0};
use crate::params::{
    host2, quick_gelu, rows, Group, Init, Lin, LinW, Ln, LnW, Params, Pid, T2, T3,
};
use crate::pose::PoseEncoder;
use crate::preset::{Dims, RGB_DIM};
use dfdx::prelude::*;
use seds_config::{Fusion, Matching, ReferenceOffsets, RunConfig, Streams};
use seds_core::Rng;
use seds_data::{TextBatch, TrainBatch, VideoBatch, UNK};
use seds_nn::{ClclOptions, KeyValues, NnError, TokenMatrix};

/// Per-forward state: dropout randomness and an optional CGAF sampling trace.
pub struct Ctx {
    /// Dropout probability (0 at evaluation).
    pub drop: f32,
    /// Randomness of dropout.
    pub rng: Rng,
    /// When `Some`, CGAF records the sampled positions of video 0 here.
    pub trace: Option<Vec<TraceEntry>>,
}

impl Ctx {
    /// Evaluation context: no dropout, no trace.
    pub fn eval() -> Self {
        Ctx {
            drop: 0.0,
            rng: Rng::new(0),
            trace: None,
        }
    }
    fn dropout<D: Device<f32>, T: Tape<f32, D>>(&mut self, dev: &D, x: T2<D, T>) -> T2<D, T> {
        if self.drop <= 0.0 {
            return x;
        }
        let (r, c) = *x.shape();
        let keep = 1.0 / (1.0 - self.drop);
        let m: Vec<f32> = (0..r * c)
            .map(|_| {
                if self.rng.uniform() < self.drop as f64 {
                    0.0
                } else {
                    keep
                }
            })
            .collect();
        x * host2(dev, m, r, c)
    }
}

/// One sampled position of the CGAF trace (video 0).
#[derive(Clone, Debug, serde::Serialize)]
pub struct TraceEntry {
    /// CGAF layer (0-based).
    pub layer: usize,
    /// `pose` (pose queries on RGB) or `rgb`.
    pub branch: &'static str,
    /// Query token position.
    pub query: usize,
    /// Head.
    pub head: usize,
    /// Sample index (samples >= keys come from the query's own modality).
    pub sample: usize,
    /// Sampled (wrapped) position.
    pub position: f32,
}

/// A pre-LN transformer block.
#[derive(Clone, Copy, Debug)]
struct Block {
    ln1: Ln,
    attn: Mha,
    ln2: Ln,
    fc1: Lin,
    fc2: Lin,
}

impl Block {
    fn new<D: Device<f32>>(
        p: &mut Params<D>,
        name: &str,
        w: usize,
        heads: usize,
        mlp: usize,
    ) -> Self {
        Block {
            ln1: Ln::new(p, &format!("{name}.ln1"), w),
            attn: Mha::new(p, &format!("{name}.attn"), w, heads),
            ln2: Ln::new(p, &format!("{name}.ln2"), w),
            fc1: Lin::new(p, &format!("{name}.fc1"), w, mlp),
            fc2: Lin::new(p, &format!("{name}.fc2"), mlp, w),
        }
    }
    fn fwd<D: Device<f32>, T: Tape<f32, D>>(
        &self,
        p: &Params<D>,
        ctx: &mut Ctx,
        x: T2<D, T>,
        b: usize,
        s: usize,
        valid: &[usize],
    ) -> T2<D, T> {
        let a = self
            .attn
            .fwd(p, self.ln1.fwd(p, x.with_empty_tape()), b, s, valid);
        let x = x + ctx.dropout(&p.dev, a);
        let m = self.fc2.fwd(
            p,
            quick_gelu(self.fc1.fwd(p, self.ln2.fwd(p, x.with_empty_tape()))),
        );
        x + ctx.dropout(&p.dev, m)
    }
}

/// Interaction transformer (opaque outside the crate): Linear to width, CLS, positions, pre-LN blocks, LN, projection.
#[derive(Clone, Debug)]
pub struct Tower {
    inp: Lin,
    cls: Pid,
    pos: Pid,
    blocks: Vec<Block>,
    ln: Ln,
    proj: Lin,
    w: usize,
}

impl Tower {
    fn new<D: Device<f32>>(p: &mut Params<D>, name: &str, input: usize, d: &Dims) -> Self {
        Tower {
            inp: Lin::new(p, &format!("{name}.in"), input, d.w),
            cls: p.add(&format!("{name}.cls"), 1, d.w, Init::Normal(0.02), false),
            pos: p.add(
                &format!("{name}.pos"),
                d.max_tokens,
                d.w,
                Init::Normal(0.01),
                false,
            ),
            blocks: (0..d.layers)
                .map(|i| Block::new(p, &format!("{name}.block{i}"), d.w, d.heads, d.mlp))
                .collect(),
            ln: Ln::new(p, &format!("{name}.ln"), d.w),
            proj: Lin::new(p, &format!("{name}.proj"), d.w, d.d),
            w: d.w,
        }
    }
    /// [`Tower::fwd`] for diagnostics and benchmarks outside the crate.
    pub fn fwd_public<D: Device<f32>, T: Tape<f32, D>>(
        &self,
        p: &Params<D>,
        ctx: &mut Ctx,
        x: T2<D, T>,
        b: usize,
        nm: usize,
        clip_len: &[usize],
    ) -> T2<D, T> {
        self.fwd(p, ctx, x, b, nm, clip_len)
    }

    /// `x`: `(B*Nm, input)` clip features; returns `(B*(Nm+1), d)` tokens (CLS first).
    pub(crate) fn fwd<D: Device<f32>, T: Tape<f32, D>>(
        &self,
        p: &Params<D>,
        ctx: &mut Ctx,
        x: T2<D, T>,
        b: usize,
        nm: usize,
        clip_len: &[usize],
    ) -> T2<D, T> {
        let w = self.w;
        let s = nm + 1;
        let h = self.inp.fwd(p, x).reshape_like(&(b, nm, w));
        let cls = p
            .vec::<T>(self.cls)
            .broadcast_like::<_, Axes2<0, 1>>(&(b, 1, w));
        let h = (cls, h).concat_along(Axis::<1>);
        let pos = rows(&p.dev, p.get::<T>(self.pos), &(0..s).collect::<Vec<_>>());
        let mut h = (h + pos.broadcast_like::<_, Axis<0>>(&(b, s, w))).reshape_like(&(b * s, w));
        let valid: Vec<usize> = clip_len.iter().map(|&l| l + 1).collect();
        for blk in &self.blocks {
            h = blk.fwd(p, ctx, h, b, s, &valid);
        }
        self.proj.fwd(p, self.ln.fwd(p, h))
    }
}

/// Text encoder: embeddings, positions, pre-LN blocks (bidirectional, padding-masked), LN, projection.
#[derive(Clone, Debug)]
struct TextEnc {
    emb: Pid,
    pos: Pid,
    blocks: Vec<Block>,
    ln: Ln,
    proj: Lin,
    vocab: usize,
    tw: usize,
    max_words: usize,
}

impl TextEnc {
    fn new<D: Device<f32>>(p: &mut Params<D>, d: &Dims) -> Self {
        TextEnc {
            emb: p.add("text.emb", d.vocab, d.tw, Init::Normal(0.02), false),
            pos: p.add("text.pos", d.max_words, d.tw, Init::Normal(0.01), false),
            blocks: (0..d.tlayers)
                .map(|i| Block::new(p, &format!("text.block{i}"), d.tw, d.theads, d.tmlp))
                .collect(),
            ln: Ln::new(p, "text.ln", d.tw),
            proj: Lin::new(p, "text.proj", d.tw, d.d),
            vocab: d.vocab,
            tw: d.tw,
            max_words: d.max_words,
        }
    }
    /// Word tokens `(B*L, d)` (L clamped to the preset's positions).
    fn fwd<D: Device<f32>, T: Tape<f32, D>>(
        &self,
        p: &Params<D>,
        ctx: &mut Ctx,
        tb: &TextBatch,
        tape: T,
    ) -> (T2<D, T>, usize) {
        let b = tb.len();
        let l_in = tb.max_tokens;
        let l = l_in.min(self.max_words);
        let ids: Vec<usize> = (0..b)
            .flat_map(|i| (0..l).map(move |j| (i, j)))
            .map(|(i, j)| {
                let t = tb.tokens[i * l_in + j] as usize;
                if t >= self.vocab {
                    UNK as usize
                } else {
                    t
                }
            })
            .collect();
        let _ = tape;
        let emb = rows(&p.dev, p.get::<T>(self.emb), &ids).reshape_like(&(b, l, self.tw));
        let pos = rows(&p.dev, p.get::<T>(self.pos), &(0..l).collect::<Vec<_>>());
        let mut h = (emb + pos.broadcast_like::<_, Axis<0>>(&(b, l, self.tw)))
            .reshape_like(&(b * l, self.tw));
        let valid: Vec<usize> = tb.token_len.iter().map(|&v| v.min(l)).collect();
        for blk in &self.blocks {
            h = blk.fwd(p, ctx, h, b, l, &valid);
        }
        (self.proj.fwd(p, self.ln.fwd(p, h)), l)
    }
}

/// One branch of one CGAF layer (deformable attention + FFN).
#[derive(Clone, Copy, Debug)]
struct DaBranch {
    ln_q: Ln,
    q: Lin,
    k: Lin,
    v: Lin,
    off: Lin,
    out: Lin,
    ln_f: Ln,
    f1: Lin,
    f2: Lin,
}

/// Cross Gloss Attention Fusion layers plus the output MLP fusion.
#[derive(Clone, Debug)]
pub(crate) struct Cgaf {
    layers: Vec<[DaBranch; 2]>,
    keys: Vec<usize>,
    heads: usize,
    intra: bool,
    rho: ReferenceOffsets,
    ln_p: Ln,
    ln_r: Ln,
}

/// Output MLP fusion: `LN(MLP([a; b]) + a + b)`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MlpFuse {
    l1: Lin,
    l2: Lin,
    l3: Lin,
    ln: Ln,
}

impl MlpFuse {
    fn new<D: Device<f32>>(p: &mut Params<D>, d: &Dims) -> Self {
        MlpFuse {
            l1: Lin::new(p, "fuse.l1", d.d2, d.d4),
            l2: Lin::new(p, "fuse.l2", d.d4, d.d2),
            l3: Lin::new(p, "fuse.l3", d.d2, d.d),
            ln: Ln::new(p, "fuse.ln", d.d),
        }
    }
    fn fwd<D: Device<f32>, T: Tape<f32, D>>(
        &self,
        p: &Params<D>,
        a: T2<D, T>,
        b: T2<D, T>,
    ) -> T2<D, T> {
        let w = MlpFuseW {
            l1: self.l1.tensors::<D, T>(p),
            l2: self.l2.tensors::<D, T>(p),
            l3: self.l3.tensors::<D, T>(p),
            ln: self.ln.tensors::<D, T>(p),
        };
        mlp_fusion(w, a, b)
    }
}

/// Weights of the output MLP fusion as tensors: `l1: (2d, 4d)`, `l2: (4d, 2d)`,
/// `l3: (2d, d)`, `ln: (d,)`.
pub struct MlpFuseW<E: Dtype, D: Device<E>, T: Tape<E, D>> {
    /// First layer on the concatenation `[a; b]`.
    pub l1: LinW<E, D, T>,
    /// Second layer.
    pub l2: LinW<E, D, T>,
    /// Third layer, back to width d.
    pub l3: LinW<E, D, T>,
    /// Output layer norm.
    pub ln: LnW<E, D, T>,
}

/// The output MLP fusion `LN(MLP([a; b]) + a + b)` on rows `a, b: (n, d)`, with
/// `MLP = l3(QuickGELU(l2(QuickGELU(l1(.)))))`; any dtype/device (the functional form behind
/// the model's fusion, checked in f64 by the tests).
pub fn mlp_fusion<E: Dtype, D: Device<E>, T: Tape<E, D>>(
    w: MlpFuseW<E, D, T>,
    a: Tensor<(usize, usize), E, D, T>,
    b: Tensor<(usize, usize), E, D, T>,
) -> Tensor<(usize, usize), E, D, T> {
    let cat = (a.with_empty_tape(), b.with_empty_tape()).concat_along(Axis::<1>);
    let m =
        w.l3.apply(quick_gelu(w.l2.apply(quick_gelu(w.l1.apply(cat)))));
    w.ln.apply(m + a + b)
}

impl Cgaf {
    fn new<D: Device<f32>>(
        p: &mut Params<D>,
        d: &Dims,
        keys: &[usize],
        intra: bool,
        rho: ReferenceOffsets,
    ) -> Self {
        let h = d.cgaf_heads;
        let layers = keys
            .iter()
            .enumerate()
            .map(|(li, &k)| {
                let mk = |p: &mut Params<D>, br: &str| {
                    let n = format!("cgaf.l{li}.{br}");
                    // One offset per head and sample; own-modality samples (intra) sit at the
                    // same positions (seds-nn's deformable attention).
                    let off = Lin::new(p, &format!("{n}.off"), d.d, h * k);
                    DaBranch {
                        ln_q: Ln::new(p, &format!("{n}.ln_q"), d.d),
                        q: Lin::new(p, &format!("{n}.q"), d.d, d.d),
                        k: Lin::new(p, &format!("{n}.k"), d.d, d.d),
                        v: Lin::new(p, &format!("{n}.v"), d.d, d.d),
                        off,
                        out: Lin::new(p, &format!("{n}.out"), d.d, d.d),
                        ln_f: Ln::new(p, &format!("{n}.ln_f"), d.d),
                        f1: Lin::new(p, &format!("{n}.f1"), d.d, d.cgaf_ffn),
                        f2: Lin::new(p, &format!("{n}.f2"), d.cgaf_ffn, d.d),
                    }
                };
                [mk(p, "pose"), mk(p, "rgb")]
            })
            .collect();
        Cgaf {
            layers,
            keys: keys.to_vec(),
            heads: h,
            intra,
            rho,
            ln_p: Ln::new(p, "cgaf.ln_p", d.d),
            ln_r: Ln::new(p, "cgaf.ln_r", d.d),
        }
    }

    /// Deformable attention of queries `xq` (already normalised) over `y` (and `xs` when
    /// intra): the projections come from the store, the sampling and attention core is
    /// seds-nn's [`seds_nn::deformable_attend`].
    #[allow(clippy::too_many_arguments)]
    fn da<D: Device<f32>, T: Tape<f32, D>>(
        &self,
        p: &Params<D>,
        ctx: &mut Ctx,
        br: &DaBranch,
        xq: T2<D, T>,
        y: T2<D, T>,
        xs: Option<T2<D, T>>,
        b: usize,
        n: usize,
        lens: &[usize],
        layer: usize,
        name: &'static str,
    ) -> Result<T2<D, T>, NnError> {
        let dd = br.q.o;
        let h = self.heads;
        let dh = dd / h;
        let k = self.keys[layer];
        let split = |t: T2<D, T>| seds_nn::split_heads(t.reshape_like(&(b, n, dd)), h);
        let off = br
            .off
            .fwd(p, xq.with_empty_tape())
            .reshape_like(&(b, n, h, k))
            .permute::<_, Axes4<0, 2, 1, 3>>()
            .reshape_like(&(b * h, n * k));
        let kv = |src: T2<D, T>, offsets| KeyValues {
            keys: split(br.k.fwd(p, src.with_empty_tape())),
            values: split(br.v.fwd(p, src)),
            offsets,
        };
        let sources = match xs {
            None => vec![kv(y, off)],
            Some(x) => vec![kv(y, off.with_empty_tape()), kv(x, off)],
        };
        let q = split(br.q.fwd(p, xq));
        let (o, positions) =
            seds_nn::deformable_attend(q, sources, lens, h, k, self.rho, 1.0 / (dh as f64).sqrt())?;
        if let Some(tr) = ctx.trace.as_mut() {
            // positions[src] laid out [B, T, H, K]; video 0 only.
            for (si, pos) in positions.iter().enumerate() {
                for t in 0..n {
                    for m in 0..h {
                        for s in 0..k {
                            tr.push(TraceEntry {
                                layer,
                                branch: name,
                                query: t,
                                head: m,
                                sample: si * k + s,
                                position: pos[(t * h + m) * k + s],
                            });
                        }
                    }
                }
            }
        }
        let o = seds_nn::merge_heads(o, h, dd).reshape_like(&(b * n, dd));
        let o = br.out.fwd(p, o);
        Ok(ctx.dropout(&p.dev, o))
    }

    /// Fused tokens `(B*N, d)` from stream tokens (N = clips + 1).
    fn fwd<D: Device<f32>, T: Tape<f32, D>>(
        &self,
        p: &Params<D>,
        ctx: &mut Ctx,
        fuse: &MlpFuse,
        fp: T2<D, T>,
        fr: T2<D, T>,
        b: usize,
        n: usize,
        lens: &[usize],
    ) -> Result<T2<D, T>, NnError> {
        let dd = fp.shape().1;
        let table: Vec<f32> = seds_nn::sinusoidal_table(n, dd)
            .into_iter()
            .map(|v| v as f32)
            .collect();
        let pe = host2(&p.dev, table, n, dd)
            .broadcast_like::<_, Axis<0>>(&(b, n, dd))
            .reshape_like(&(b * n, dd));
        let mut x = fp + pe.clone();
        let mut y = fr + pe;
        for (li, [bp, brr]) in self.layers.iter().enumerate() {
            let nx = {
                let q = bp.ln_q.fwd(p, x.with_empty_tape());
                let xs = if self.intra {
                    Some(x.with_empty_tape())
                } else {
                    None
                };
                let a = self.da(
                    p,
                    ctx,
                    bp,
                    q,
                    y.with_empty_tape(),
                    xs,
                    b,
                    n,
                    lens,
                    li,
                    "pose",
                )?;
                let x1 = x.with_empty_tape() + a;
                let f = bp.f2.fwd(
                    p,
                    quick_gelu(bp.f1.fwd(p, bp.ln_f.fwd(p, x1.with_empty_tape()))),
                );
                x1 + ctx.dropout(&p.dev, f)
            };
            let ny = {
                let q = brr.ln_q.fwd(p, y.with_empty_tape());
                let ys = if self.intra {
                    Some(y.with_empty_tape())
                } else {
                    None
                };
                let a = self.da(p, ctx, brr, q, x, ys, b, n, lens, li, "rgb")?;
                let y1 = y + a;
                let f = brr.f2.fwd(
                    p,
                    quick_gelu(brr.f1.fwd(p, brr.ln_f.fwd(p, y1.with_empty_tape()))),
                );
                y1 + ctx.dropout(&p.dev, f)
            };
            x = nx;
            y = ny;
        }
        Ok(fuse.fwd(p, self.ln_p.fwd(p, x), self.ln_r.fwd(p, y)))
    }
}

/// Errors of model construction and forward passes.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A configuration the model cannot run.
    #[error("model config: {0}")]
    Config(String),
    /// A seds-nn operation refused its inputs (shapes, lengths, options).
    #[error(transparent)]
    Nn(#[from] NnError),
}

/// The whole SEDS model for one preset and configuration, on device `D` (default the CPU;
/// [`Seds::new`] builds it there, [`Seds::new_on`] on any dfdx device).
#[derive(Clone, Debug)]
pub struct Seds<D: Device<f32> = Cpu> {
    /// Parameters.
    pub params: Params<D>,
    /// Dims of the preset.
    pub dims: Dims,
    pub(crate) pose: Option<(PoseEncoder<D>, Tower)>,
    pub(crate) rgb: Option<Tower>,
    text: TextEnc,
    pub(crate) cgaf: Option<Cgaf>,
    pub(crate) fuse: Option<MlpFuse>,
    logit: Pid,
    cfg: RunConfig,
    /// Clip window in frames.
    pub window: usize,
}

/// Loss components of one step (`None` when the configuration has no such term).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LossParts {
    /// Total objective.
    pub total: f32,
    /// L_tv (fused stream).
    pub tv: Option<f32>,
    /// L_tp (pose stream).
    pub tp: Option<f32>,
    /// L_tr (RGB stream).
    pub tr: Option<f32>,
    /// L_pr (pose-RGB matching).
    pub pr: Option<f32>,
}

impl LossParts {
    /// `(metric name, value)` of each present component, total first.
    pub fn named(&self) -> Vec<(&'static str, f32)> {
        let mut v = vec![("loss_total", self.total)];
        for (n, x) in [
            ("loss_tv", self.tv),
            ("loss_tp", self.tp),
            ("loss_tr", self.tr),
            ("loss_pr", self.pr),
        ] {
            if let Some(x) = x {
                v.push((n, x));
            }
        }
        v
    }
}

/// Video-side tokens of a batch, L2-normalised, `(B, N, d)` (N = clips + 1, CLS first),
/// with the valid tokens of each video (CLS included; `loss.cls_as_clip = false` drops the
/// CLS inside seds-nn's scoring).
pub struct VideoTokens<D: Device<f32> = Cpu, T: Tape<f32, D> = NoneTape> {
    /// Scored tokens (fused for dual, else the single stream).
    pub tokens: T3<D, T>,
    /// Valid tokens per video, `clip_len + 1`.
    pub lens: Vec<usize>,
}

/// Scoring tokens of a batch together with the per-stream tokens of a dual-stream model.
pub struct StreamTokens<D: Device<f32> = Cpu> {
    /// What retrieval scores: fused for dual, else the single stream.
    pub fused: VideoTokens<D>,
    /// Dual-stream only: the pose and RGB stream tokens alone; empty for one stream.
    pub streams: Vec<VideoTokens<D>>,
}

/// Host token matrices (one per batch item) of a `(B, N, d)` tensor (any device) with valid
/// lengths.
pub fn token_matrices<D: Device<f32>>(
    t: &T3<D>,
    lens: &[usize],
) -> Result<Vec<TokenMatrix>, NnError> {
    let (b, n, d) = *t.shape();
    let v = t.as_vec();
    (0..b)
        .map(|i| {
            TokenMatrix::new(
                v[i * n * d..(i + 1) * n * d].to_vec(),
                n,
                d,
                lens.get(i).copied().unwrap_or(0).min(n),
            )
        })
        .collect()
}

/// Caps a batch at `max` clips per video (an integer-linspace subset `k (n - 1) / (max - 1)`
/// of the clips of longer videos), so clip tokens fit the towers' position table.
pub fn cap_clips(mut vb: VideoBatch, max: usize) -> VideoBatch {
    let max = max.max(1);
    if vb.max_clips <= max {
        return vb;
    }
    let (b, nm, rd) = (vb.len(), vb.max_clips, vb.rgb_dim);
    let mut starts = vec![0usize; b * max];
    let mut rgb = vec![0f32; b * max * rd];
    for bi in 0..b {
        let n = vb.clip_len[bi];
        let keep = seds_data::tokenizer::subsample(n, max);
        for (c, &k) in keep.iter().enumerate() {
            starts[bi * max + c] = vb.clip_starts[bi * nm + k];
            let src = (bi * nm + k) * rd;
            rgb[(bi * max + c) * rd..(bi * max + c + 1) * rd]
                .copy_from_slice(&vb.rgb[src..src + rd]);
        }
        vb.clip_len[bi] = keep.len();
    }
    vb.max_clips = max;
    vb.clip_starts = starts;
    vb.rgb = rgb;
    vb
}

impl Seds<Cpu> {
    /// Builds the model on the CPU (device seeded with `cfg.seed`); errors on configurations it
    /// cannot run.
    pub fn new(
        dims: Dims,
        cfg: &RunConfig,
        rgb_dim: usize,
        window: usize,
    ) -> Result<Self, ModelError> {
        Seds::new_on(Cpu::seed_from_u64(cfg.seed), dims, cfg, rgb_dim, window)
    }
}

impl<D: Device<f32>> Seds<D> {
    /// Builds the model on `dev`; errors on configurations it cannot run. The initial
    /// parameter values are drawn on the host from `cfg.seed`, so they are the same on every
    /// device.
    pub fn new_on(
        dev: D,
        dims: Dims,
        cfg: &RunConfig,
        rgb_dim: usize,
        window: usize,
    ) -> Result<Self, ModelError> {
        dims.check().map_err(ModelError::Config)?;
        let m = &cfg.model;
        let uses_rgb = m.streams != Streams::Pose;
        if uses_rgb && rgb_dim != RGB_DIM {
            return Err(ModelError::Config(format!(
                "data.rgb_dim is {rgb_dim}, but every preset expects {RGB_DIM}-d RGB clip features"
            )));
        }
        if m.streams == Streams::Dual && m.fusion == Fusion::None {
            return Err(ModelError::Config("model.fusion = \"none\" needs a single stream (model.streams = \"pose\" or \"rgb\")".into()));
        }
        if m.fusion == Fusion::Cgaf
            && m.streams == Streams::Dual
            && (m.cgaf_keys.is_empty() || m.cgaf_keys.contains(&0))
        {
            return Err(ModelError::Config(format!(
                "model.cgaf_keys must be non-empty with keys >= 1, got {:?}",
                m.cgaf_keys
            )));
        }
        if window == 0 {
            return Err(ModelError::Config("clip window is 0".into()));
        }
        let mut p = Params::new(dev, cfg.seed);
        p.set_group(Group::Fast);
        let pose_enc = if m.streams != Streams::Rgb {
            Some(PoseEncoder::new(&mut p, &dims.gcn, &[dims.part, dims.part]))
        } else {
            None
        };
        let dual = m.streams == Streams::Dual;
        let cgaf = if dual && m.fusion == Fusion::Cgaf {
            Some(Cgaf::new(
                &mut p,
                &dims,
                &m.cgaf_keys,
                m.intra_modality,
                m.reference_offsets,
            ))
        } else {
            None
        };
        let fuse = if dual && matches!(m.fusion, Fusion::Cgaf | Fusion::Mlp) {
            Some(MlpFuse::new(&mut p, &dims))
        } else {
            None
        };
        p.set_group(Group::Towers);
        let pose = pose_enc.map(|e| {
            let t = Tower::new(&mut p, "pose_tower", e.f, &dims);
            (e, t)
        });
        let rgb = if uses_rgb {
            Some(Tower::new(&mut p, "rgb_tower", RGB_DIM, &dims))
        } else {
            None
        };
        let text = TextEnc::new(&mut p, &dims);
        let logit = p.add(
            "logit_scale",
            1,
            1,
            Init::Const((cfg.loss.logit_scale_init as f32).ln()),
            false,
        );
        Ok(Seds {
            params: p,
            dims,
            pose,
            rgb,
            text,
            cgaf,
            fuse,
            logit,
            cfg: cfg.clone(),
            window,
        })
    }

    /// A copy of this model on `dev`: same configuration, structure and pose input
    /// standardisation; every parameter value is copied through host vectors, so both models
    /// hold bit-identical weights (the CPU-vs-device agreement check relies on it).
    pub fn to_device<D2: Device<f32>>(&self, dev: D2) -> Result<Seds<D2>, ModelError> {
        let mut m = Seds::new_on(dev, self.dims, &self.cfg, RGB_DIM, self.window)?;
        m.params
            .copy_values_from(&self.params)
            .map_err(ModelError::Config)?;
        if let Some(n) = self.pose_norm() {
            m.set_pose_norm(n.clone());
        }
        Ok(m)
    }

    /// The pose encoder and pose tower (panics on an RGB-only model; tests and benchmarks).
    pub fn pose_parts(&self) -> (&PoseEncoder<D>, &Tower) {
        let (e, t) = self.pose.as_ref().expect("model has a pose stream");
        (e, t)
    }

    /// Max text tokens per sentence (SOT/EOT included): `data.max_words` capped by the preset.
    pub fn max_words(&self) -> usize {
        self.cfg.data.max_words.min(self.dims.max_words).max(3)
    }

    /// Sets the pose input standardisation (no-op for an RGB-only model).
    pub fn set_pose_norm(&mut self, norm: crate::pose::PoseNorm) {
        if let Some((e, _)) = self.pose.as_mut() {
            e.norm = norm;
        }
    }

    /// The pose input standardisation, if the model has a pose stream.
    pub fn pose_norm(&self) -> Option<&crate::pose::PoseNorm> {
        self.pose.as_ref().map(|(e, _)| &e.norm)
    }

    /// The configuration the model was built with.
    pub fn config(&self) -> &RunConfig {
        &self.cfg
    }

    /// Clamps the logit scale to `ln(logit_scale_max)` (after each optimiser step).
    pub fn clamp_logit_scale(&mut self) {
        let max = (self.cfg.loss.logit_scale_max as f32).ln();
        let t = &mut self.params.list[self.logit.0].tensor;
        let v = t.as_vec()[0];
        if v > max {
            t.copy_from(&[max]);
        }
    }

    /// Current lambda = exp(logit_scale).
    pub fn logit_scale(&self) -> f32 {
        self.params.list[self.logit.0].tensor.as_vec()[0].exp()
    }

    /// lambda = min(exp(logit_scale), logit_scale_max) with tape (seds-nn's `logit_scale`).
    fn lambda<T: Tape<f32, D>>(&self) -> T0<D, T> {
        seds_nn::logit_scale(
            self.params.vec::<T>(self.logit).reshape_like(&()),
            self.cfg.loss.logit_scale_max,
        )
    }

    fn video_lens(vb: &VideoBatch) -> Vec<usize> {
        vb.clip_len.iter().map(|&l| l + 1).collect()
    }

    /// seds-nn CLCL options of the configuration (tau, inner-softmax masking, CLS as clip).
    pub fn clcl_options(&self) -> ClclOptions {
        ClclOptions {
            tau: self.cfg.loss.tau,
            masking: self.cfg.loss.inner_softmax,
            cls_as_clip: self.cfg.loss.cls_as_clip,
        }
    }

    /// Stream tokens `(pose, rgb)` as `(B*N, d)` rows (unnormalised).
    #[allow(clippy::type_complexity)]
    pub fn stream_tokens<T: Tape<f32, D>>(
        &self,
        ctx: &mut Ctx,
        vb: &VideoBatch,
        tape: T,
    ) -> (Option<T2<D, T>>, Option<T2<D, T>>) {
        let (b, nm) = (vb.len(), vb.max_clips);
        let mut tape = Some(tape);
        let fp = self.pose.as_ref().map(|(enc, tower)| {
            let x = enc.frames(&self.params, vb, tape.take().unwrap_or_default());
            let c = enc.clips(&self.params, vb, x, self.window);
            tower.fwd(&self.params, ctx, c, b, nm, &vb.clip_len)
        });
        let fr = self.rgb.as_ref().map(|tower| {
            let x = host2(&self.params.dev, vb.rgb.clone(), b * nm, vb.rgb_dim)
                .put_tape(tape.take().unwrap_or_default());
            tower.fwd(&self.params, ctx, x, b, nm, &vb.clip_len)
        });
        (fp, fr)
    }

    /// Fused tokens from stream tokens (dual stream).
    pub(crate) fn fused<T: Tape<f32, D>>(
        &self,
        ctx: &mut Ctx,
        fp: T2<D, T>,
        fr: T2<D, T>,
        vb: &VideoBatch,
    ) -> Result<T2<D, T>, ModelError> {
        let (b, n) = (vb.len(), vb.max_clips + 1);
        let lens = Self::video_lens(vb);
        Ok(match (&self.cgaf, &self.fuse) {
            (Some(c), Some(f)) => {
                let (fp2, fr2) = (fp.with_empty_tape(), fr.with_empty_tape());
                c.fwd(&self.params, ctx, f, fp, fr, b, n, &lens)? + fp2 + fr2
            }
            (None, Some(f)) => f.fwd(&self.params, fp, fr),
            _ => seds_nn::sum_fusion(fp, fr),
        })
    }

    /// Normalised scoring tokens of a video batch (fused for dual) for retrieval.
    pub fn video_tokens(
        &self,
        ctx: &mut Ctx,
        vb: &VideoBatch,
    ) -> Result<VideoTokens<D>, ModelError> {
        Ok(self.scoring_tokens(ctx, vb, false)?.fused)
    }

    /// Like [`Seds::video_tokens`], and for dual-stream models also the normalised tokens
    /// of each stream alone (pose, then RGB) from the same forward pass.
    pub fn video_tokens_with_streams(
        &self,
        ctx: &mut Ctx,
        vb: &VideoBatch,
    ) -> Result<StreamTokens<D>, ModelError> {
        self.scoring_tokens(ctx, vb, true)
    }

    /// Scoring tokens of a video batch; the per-stream tokens of a dual-stream model are
    /// normalised only when `with_streams`.
    fn scoring_tokens(
        &self,
        ctx: &mut Ctx,
        vb: &VideoBatch,
        with_streams: bool,
    ) -> Result<StreamTokens<D>, ModelError> {
        let (b, n, d) = (vb.len(), vb.max_clips + 1, self.dims.d);
        let norm = |t: T2<D>| VideoTokens {
            tokens: l2norm(t).reshape_like(&(b, n, d)),
            lens: Self::video_lens(vb),
        };
        let (fp, fr) = self.stream_tokens(ctx, vb, NoneTape);
        Ok(match (fp, fr) {
            (Some(p), Some(r)) => {
                let streams = if with_streams {
                    vec![norm(p.clone()), norm(r.clone())]
                } else {
                    Vec::new()
                };
                StreamTokens {
                    fused: norm(self.fused(ctx, p, r, vb)?),
                    streams,
                }
            }
            (Some(t), None) | (None, Some(t)) => StreamTokens {
                fused: norm(t),
                streams: Vec::new(),
            },
            (None, None) => return Err(ModelError::Config("model has no stream".into())),
        })
    }

    /// Normalised word tokens `(B, L, d)` and their valid lengths.
    pub fn text_tokens<T: Tape<f32, D>>(
        &self,
        ctx: &mut Ctx,
        tb: &TextBatch,
        tape: T,
    ) -> (T3<D, T>, Vec<usize>) {
        let (w, l) = self.text.fwd(&self.params, ctx, tb, tape);
        let b = tb.len();
        let lens = tb.token_len.iter().map(|&v| v.clamp(1, l.max(1))).collect();
        (l2norm(w).reshape_like(&(b, l, self.dims.d)), lens)
    }

    /// Retrieval scores, row-major `videos x texts` = `0.5 (Z_v2t + Z_t2v)` with the current
    /// lambda, from seds-nn's gallery scorer (no tape; `block` videos x texts per tile).
    pub fn score(
        &self,
        v: &VideoTokens<D>,
        w: &T3<D>,
        wlens: &[usize],
        block: usize,
    ) -> Result<Vec<f32>, ModelError> {
        let vm = token_matrices(&v.tokens, &v.lens)?;
        let tm = token_matrices(w, wlens)?;
        Ok(seds_nn::clcl_gallery_scores(
            &vm,
            &tm,
            &self.clcl_options(),
            self.logit_scale(),
            block.max(1),
        )?)
    }

    /// Stream loss L^x (seds-nn's `clcl_scores` + `infonce_dual`) from video tokens `x`
    /// `(B*N, d)` against the original texts (V2T half) and the augmented ones (T2V half).
    #[allow(clippy::too_many_arguments)]
    fn stream_loss(
        &self,
        x: T2<D, OwnedTape<f32, D>>,
        vlens: &[usize],
        w: T3<D, OwnedTape<f32, D>>,
        wa: Option<T3<D, OwnedTape<f32, D>>>,
        wl: &[usize],
        wal: &[usize],
    ) -> Result<T0<D, OwnedTape<f32, D>>, ModelError> {
        let (b, n, d) = (vlens.len(), x.shape().0 / vlens.len().max(1), self.dims.d);
        let x = x.reshape_like(&(b, n, d));
        let o = self.clcl_options();
        let (v2t, t2v) = match wa {
            None => seds_nn::clcl_scores(x, vlens, w, wl, &o, self.lambda())?,
            Some(wa) => {
                let (v2t, _) =
                    seds_nn::clcl_scores(x.with_empty_tape(), vlens, w, wl, &o, self.lambda())?;
                let (_, t2v) = seds_nn::clcl_scores(x, vlens, wa, wal, &o, self.lambda())?;
                (v2t, t2v)
            }
        };
        Ok(seds_nn::infonce_dual(v2t, t2v, self.cfg.loss.dual_mix)?)
    }

    /// Pose-RGB matching loss L_pr (seds-nn's `matching_scores` + `infonce_dual`) on the clip
    /// tokens of `f^p`, `f^r` (the CLS is left out: each clip should prefer the RGB clip of
    /// the same time step).
    fn matching_loss(
        &self,
        p: T2<D, OwnedTape<f32, D>>,
        r: T2<D, OwnedTape<f32, D>>,
        vb: &VideoBatch,
    ) -> Result<T0<D, OwnedTape<f32, D>>, ModelError> {
        let (b, n, d) = (vb.len(), vb.max_clips + 1, self.dims.d);
        let clips = |t: T2<D, OwnedTape<f32, D>>| t.reshape_like(&(b, n, d)).slice((.., 1.., ..));
        let lens: Vec<usize> = vb.clip_len.iter().map(|&l| l.max(1)).collect();
        let lc = &self.cfg.loss;
        let (p2r, r2p) = seds_nn::matching_scores(
            clips(p),
            clips(r),
            &lens,
            lc.tau,
            self.lambda(),
            lc.matching,
        )?;
        Ok(seds_nn::infonce_dual(p2r, r2p, lc.dual_mix)?)
    }

    /// Forward pass of a training batch: the total objective (with tape) and its components.
    pub fn loss(
        &self,
        ctx: &mut Ctx,
        batch: &TrainBatch,
    ) -> Result<(T0<D, OwnedTape<f32, D>>, LossParts), ModelError> {
        let vb = &batch.video;
        let lc = &self.cfg.loss;
        let (fp, fr) = self.stream_tokens(ctx, vb, OwnedTape::default());
        let vl = Self::video_lens(vb);
        // Texts: each stream needs its own copy; the original (with tape) is used once below.
        let (w, wl) = self.text_tokens(ctx, &batch.text, OwnedTape::default());
        let aug = batch
            .text_aug
            .as_ref()
            .map(|ta| self.text_tokens(ctx, ta, OwnedTape::default()));
        let (wa, wal) = match aug {
            Some((t, l)) => (Some(t), l),
            None => (None, wl.clone()),
        };
        let val = |t: &T0<D, OwnedTape<f32, D>>| t.as_vec()[0];
        let wcopy = |w: &T3<D, OwnedTape<f32, D>>, wa: &Option<T3<D, OwnedTape<f32, D>>>| {
            (
                w.with_empty_tape(),
                wa.as_ref().map(|t| t.with_empty_tape()),
            )
        };
        let single = |l: T0<D, OwnedTape<f32, D>>, pose: bool| {
            let v = val(&l);
            let parts = LossParts {
                total: v,
                tp: pose.then_some(v),
                tr: (!pose).then_some(v),
                ..Default::default()
            };
            Ok((l, parts))
        };
        match (fp, fr) {
            (Some(p), Some(r)) => {
                let alpha = lc.alpha as f32;
                let beta = lc.beta as f32;
                let (w1, wa1) = wcopy(&w, &wa);
                let (w2, wa2) = wcopy(&w, &wa);
                let ltp = self.stream_loss(p.with_empty_tape(), &vl, w1, wa1, &wl, &wal)?;
                let ltr = self.stream_loss(r.with_empty_tape(), &vl, w2, wa2, &wl, &wal)?;
                let lpr = if lc.matching != Matching::Off {
                    Some(self.matching_loss(p.with_empty_tape(), r.with_empty_tape(), vb)?)
                } else {
                    None
                };
                let fv = self.fused(ctx, p, r, vb)?;
                let ltv = self.stream_loss(fv, &vl, w, wa, &wl, &wal)?;
                let mut parts = LossParts {
                    tv: Some(val(&ltv)),
                    tp: Some(val(&ltp)),
                    tr: Some(val(&ltr)),
                    ..Default::default()
                };
                let mut total = ltv + (ltp + ltr) * alpha;
                if let Some(l) = lpr {
                    parts.pr = Some(val(&l));
                    total = total + l * beta;
                }
                parts.total = val(&total);
                Ok((total, parts))
            }
            (Some(p), None) => single(self.stream_loss(p, &vl, w, wa, &wl, &wal)?, true),
            (None, Some(r)) => single(self.stream_loss(r, &vl, w, wa, &wl, &wal)?, false),
            (None, None) => Err(ModelError::Config("model has no stream".into())),
        }
    }
}
