//! The trainer: `train_run` (epochs of contrastive training, dev/test evaluation, model
//! selection, checkpoints with resume, cancellation, exports) for any size preset.
//!
//! Reproducibility: weights come from `seed`; epoch `e`'s order and takes from seds-data's
//! `epoch_plan(train, batch_size, e, seed)`; step `s`'s dropout and text augmentation from
//! `Rng::derive(seed, "step-s")`. A resumed run therefore continues exactly where the
//! checkpoint left it (also mid-epoch after a cancellation).

use crate::device::{with_device, DeviceError, DeviceFn, ModelDevice};
use crate::eval::{evaluate, metric_records, metric_values, tsv_field, write_npy, Evaluation};
use crate::model::{cap_clips, Ctx, ModelError, Seds};
use crate::optim::{schedule, OptConfig, OptState};
use crate::params::{read_safetensors, ParamIoError};
use crate::preset::{with_preset, Dims, Preset, PresetFn};
use dfdx::prelude::*;
use seds_config::{RunConfig, SelectOn};
use seds_core::{ArtifactRecord, MetricRecord, MetricSink, Rng};
use seds_data::{epoch_plan, train_batch, Dataset, Tokenizer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Name of the checkpoint file in a run directory.
pub const CHECKPOINT: &str = "checkpoint.safetensors";

/// Weights of the selected (best-on-dev) epoch, when the test split is scored only once at the
/// end (`eval.log_best_on_test = false`).
pub const BEST_WEIGHTS: &str = "best.safetensors";

/// Errors of a training run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The configuration cannot be run.
    #[error("config: {0}")]
    Config(String),
    /// The dataset cannot be used.
    #[error("data: {0}")]
    Data(String),
    /// A loss component became NaN or infinite.
    #[error("non-finite {component} = {value} at step {step}")]
    NonFinite {
        /// Global step (0-based).
        step: usize,
        /// Loss component name (`loss_tv`, ...).
        component: String,
        /// The value.
        value: f32,
    },
    /// A parameter received no (or an identically zero) gradient.
    #[error("parameter {name} received no gradient at step {step} (detached branch?)")]
    UnusedParam {
        /// Global step.
        step: usize,
        /// Parameter name.
        name: String,
    },
    /// `train.device` cannot be used by this build or on this machine.
    #[error(transparent)]
    Device(#[from] DeviceError),
    /// Checkpoint read/write failure.
    #[error(transparent)]
    Checkpoint(#[from] ParamIoError),
    /// Other file failure.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The metric sink refused a record.
    #[error("metric sink: {0}")]
    Sink(String),
    /// The cancel flag was raised; a checkpoint of the current position was saved.
    #[error("cancelled at epoch {epoch}, step {step} (checkpoint saved)")]
    Cancelled {
        /// Epoch (0-based) in progress.
        epoch: usize,
        /// Global step reached.
        step: usize,
    },
}

impl From<ModelError> for TrainError {
    fn from(e: ModelError) -> Self {
        TrainError::Config(e.to_string())
    }
}

/// Named metric values.
pub type Metrics = Vec<(String, f64)>;

/// What a finished run reports.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainOutcome {
    /// Epochs completed (including those before a resume).
    pub epochs_completed: usize,
    /// Optimisation steps done.
    pub steps: usize,
    /// Epoch chosen by model selection.
    pub selected_epoch: Option<usize>,
    /// Selection-split metrics of that epoch (dev, or test when `eval.select_on = test`).
    pub selected_metrics: Metrics,
    /// Test metrics of the selected epoch.
    pub test: Metrics,
    /// Dual-stream runs: test metrics of each stream scored alone at the selected epoch
    /// (`"pose"`, `"rgb"`; logged as splits `test_pose`, `test_rgb`).
    #[serde(default)]
    pub test_streams: Vec<(String, Metrics)>,
    /// Best-on-test epoch and metrics (for comparison with published numbers only).
    pub best_test: Option<(usize, Metrics)>,
    /// Mean `loss_total` per epoch.
    pub loss_curve: Vec<f64>,
    /// Epoch the run resumed at, if it resumed.
    pub resumed_at_epoch: Option<usize>,
    /// Learnable scalars in the model.
    pub num_params: usize,
}

/// Persistent trainer state (stored in the checkpoint metadata).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct RunState {
    epoch: usize,
    step_in_epoch: usize,
    global_step: usize,
    opt_t: u64,
    sums: BTreeMap<String, f64>,
    count: usize,
    selected_key: Option<(f64, f64)>,
    outcome: TrainOutcome,
}

/// Keeps the test evaluation of the selected epoch in `out` (fused and per-stream metrics)
/// and writes its exports when `eval.export_scores`; returns the exported artifacts.
fn keep_test(
    out: &mut TrainOutcome,
    test: &Evaluation,
    split: &seds_data::Split,
    cfg: &RunConfig,
    run_dir: &Path,
    traced: bool,
) -> Result<Vec<ArtifactRecord>, TrainError> {
    out.test = metric_values(&test.ranks);
    out.test_streams = test.stream_metrics();
    if cfg.eval.export_scores {
        write_exports(run_dir, split, test, traced)
    } else {
        Ok(Vec::new())
    }
}

fn sel_key(m: &Metrics) -> (f64, f64) {
    let g = |n: &str| {
        m.iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| *v)
            .unwrap_or(0.0)
    };
    (g("t2v_r1"), g("rsum"))
}

#[derive(Clone, Copy)]
struct Job<'a> {
    cfg: &'a RunConfig,
    data: &'a Dataset,
    run_dir: &'a Path,
    sink: &'a dyn MetricSink,
    cancel: &'a AtomicBool,
}

/// A [`Job`] on an opened device, dispatched over the preset.
struct JobOn<'a, D> {
    dev: D,
    job: Job<'a>,
}

impl<D: ModelDevice> PresetFn for JobOn<'_, D> {
    type Out = Result<TrainOutcome, TrainError>;
    fn run<P: Preset>(self) -> Self::Out {
        train_dims(self.dev, Dims::of::<P>(), self.job)
    }
}

impl DeviceFn for Job<'_> {
    type Out = Result<TrainOutcome, TrainError>;
    fn run<D: ModelDevice>(self, dev: D) -> Self::Out {
        with_preset(self.cfg.model.size, JobOn { dev, job: self })
    }
}

/// Trains one run on `train.device` ("cpu", "cuda" or "cuda:N"; opened here, seeded with
/// `seed`). Resumes from `run_dir/checkpoint.safetensors` when present.
pub fn train_run(
    cfg: &RunConfig,
    data: &Dataset,
    run_dir: &Path,
    sink: &dyn MetricSink,
    cancel: &AtomicBool,
) -> Result<TrainOutcome, TrainError> {
    let job = Job {
        cfg,
        data,
        run_dir,
        sink,
        cancel,
    };
    with_device(&cfg.train.device, cfg.seed, job)?
}

/// Refuses devices this build cannot train on (unknown names; CUDA without the `cuda`
/// feature), with what to do instead. Opens nothing: a missing GPU shows up when the run
/// starts.
pub fn check_device(device: &str) -> Result<(), TrainError> {
    crate::device::check_device(device)?;
    Ok(())
}

/// Builds the model of a run (preset from `model.size`) on the CPU and the tokenizer from the
/// train split.
pub fn build_model(cfg: &RunConfig, data: &Dataset) -> Result<(Seds, Tokenizer), TrainError> {
    struct B<'a>(&'a RunConfig, &'a Dataset);
    impl PresetFn for B<'_> {
        type Out = Result<(Seds, Tokenizer), TrainError>;
        fn run<P: Preset>(self) -> Self::Out {
            build_dims(
                Cpu::seed_from_u64(self.0.seed),
                Dims::of::<P>(),
                self.0,
                self.1,
            )
        }
    }
    with_preset(cfg.model.size, B(cfg, data))
}

fn build_dims<D: Device<f32>>(
    dev: D,
    dims: Dims,
    cfg: &RunConfig,
    data: &Dataset,
) -> Result<(Seds<D>, Tokenizer), TrainError> {
    let window = if data.clip_window > 0 {
        data.clip_window
    } else {
        cfg.data.clip_window
    };
    let mut model = Seds::new_on(dev, dims, cfg, data.rgb_dim, window)?;
    model.set_pose_norm(crate::pose::PoseNorm::from_split(&data.train));
    let tok = Tokenizer::from_split(&data.train);
    Ok((model, tok))
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> TrainError + '_ {
    move |source| TrainError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn save_checkpoint<D: Device<f32>>(
    path: &Path,
    model: &Seds<D>,
    opt: &OptState,
    st: &RunState,
    cfg_json: &str,
) -> Result<(), TrainError> {
    let mut extra = Vec::new();
    for (i, p) in model.params.list.iter().enumerate() {
        let shape = vec![p.tensor.shape().0, p.tensor.shape().1];
        extra.push((format!("opt.m.{}", p.name), shape.clone(), opt.m[i].clone()));
        extra.push((format!("opt.v.{}", p.name), shape, opt.v[i].clone()));
    }
    let mut meta = BTreeMap::new();
    meta.insert(
        "state".to_string(),
        serde_json::to_string(st).unwrap_or_default(),
    );
    meta.insert("config".to_string(), cfg_json.to_string());
    if let Some(n) = model.pose_norm() {
        meta.insert(
            "pose_norm".to_string(),
            serde_json::to_string(n).unwrap_or_default(),
        );
    }
    model.params.save(path, &extra, &meta)?;
    Ok(())
}

fn load_checkpoint<D: Device<f32>>(
    path: &Path,
    model: &mut Seds<D>,
    opt: &mut OptState,
    cfg_json: &str,
) -> Result<RunState, TrainError> {
    let (tensors, meta) = model.params.load(path)?;
    let bad = |msg: String| {
        TrainError::Checkpoint(ParamIoError::Format {
            path: path.display().to_string(),
            msg,
        })
    };
    if meta.get("config").map(|s| s.as_str()) != Some(cfg_json) {
        return Err(bad(
            "checkpoint was written by a different configuration".into()
        ));
    }
    let st: RunState = serde_json::from_str(meta.get("state").map(|s| s.as_str()).unwrap_or(""))
        .map_err(|e| bad(format!("state: {e}")))?;
    if let Some(n) = meta.get("pose_norm") {
        let n: crate::pose::PoseNorm =
            serde_json::from_str(n).map_err(|e| bad(format!("pose_norm: {e}")))?;
        if n.mean.len() != n.inv_std.len()
            || n.mean.len() != seds_data::NUM_JOINTS * seds_data::COORDS
        {
            return Err(bad(format!("pose_norm has {} channels", n.mean.len())));
        }
        model.set_pose_norm(n);
    }
    for (i, p) in model.params.list.iter().enumerate() {
        for (kind, dst) in [("m", &mut opt.m[i]), ("v", &mut opt.v[i])] {
            let (_, v) = tensors
                .get(&format!("opt.{kind}.{}", p.name))
                .ok_or_else(|| bad(format!("missing opt.{kind}.{}", p.name)))?;
            if v.len() != dst.len() {
                return Err(bad(format!(
                    "opt.{kind}.{} has {} values, expected {}",
                    p.name,
                    v.len(),
                    dst.len()
                )));
            }
            dst.copy_from_slice(v);
        }
    }
    opt.t = st.opt_t;
    Ok(st)
}

/// Reads the trainer state stored in a checkpoint (epoch, step) without building a model.
pub fn checkpoint_position(path: &Path) -> Result<(usize, usize), TrainError> {
    let (_, meta) = read_safetensors(path)?;
    let st: RunState = serde_json::from_str(meta.get("state").map(|s| s.as_str()).unwrap_or(""))
        .map_err(|e| {
            TrainError::Checkpoint(ParamIoError::Format {
                path: path.display().to_string(),
                msg: format!("state: {e}"),
            })
        })?;
    Ok((st.epoch, st.global_step))
}

fn write_exports(
    dir: &Path,
    split: &seds_data::Split,
    ev: &Evaluation,
    traced: bool,
) -> Result<Vec<ArtifactRecord>, TrainError> {
    let mut arts = Vec::new();
    let mut put = |name: &str,
                   kind: &str,
                   body: Box<dyn Fn(&Path) -> std::io::Result<()> + '_>|
     -> Result<(), TrainError> {
        let p = dir.join(name);
        body(&p).map_err(io_err(&p))?;
        arts.push(ArtifactRecord {
            kind: kind.into(),
            path: p,
        });
        Ok(())
    };
    let (nv, ns) = (split.videos.len(), ev.n_sentences);
    put(
        "scores_test.npy",
        "scores",
        Box::new(|p| write_npy(p, nv, ns, &ev.scores)),
    )?;
    put(
        "rows.tsv",
        "scores",
        Box::new(|p| {
            let s: String = split
                .videos
                .iter()
                .map(|v| {
                    format!(
                        "{}\t{}\n",
                        tsv_field(&v.id),
                        tsv_field(&split.sentences[v.sentence].id)
                    )
                })
                .collect();
            std::fs::write(p, format!("video_id\tsentence_id\n{s}"))
        }),
    )?;
    put(
        "cols.tsv",
        "scores",
        Box::new(|p| {
            let s: String = split
                .sentences
                .iter()
                .map(|x| format!("{}\t{}\n", tsv_field(&x.id), tsv_field(&x.text)))
                .collect();
            std::fs::write(p, format!("sentence_id\ttext\n{s}"))
        }),
    )?;
    put(
        "video_emb.npy",
        "embeddings",
        Box::new(|p| write_npy(p, nv, ev.d, &ev.video_emb)),
    )?;
    put(
        "text_emb.npy",
        "embeddings",
        Box::new(|p| write_npy(p, ns, ev.d, &ev.text_emb)),
    )?;
    put(
        "ranks_t2v.tsv",
        "ranks",
        Box::new(|p| {
            let s: String = ev
                .ranks
                .t2v_sentences
                .iter()
                .zip(&ev.ranks.t2v)
                .map(|(&q, r)| format!("{}\t{r}\n", tsv_field(&split.sentences[q].id)))
                .collect();
            std::fs::write(p, format!("sentence_id\trank\n{s}"))
        }),
    )?;
    put(
        "ranks_v2t.tsv",
        "ranks",
        Box::new(|p| {
            let s: String = split
                .videos
                .iter()
                .zip(&ev.ranks.v2t)
                .map(|(v, r)| {
                    format!(
                        "{}\t{}\t{r}\n",
                        tsv_field(&v.id),
                        tsv_field(&split.sentences[v.sentence].id)
                    )
                })
                .collect();
            std::fs::write(p, format!("video_id\tsentence_id\trank\n{s}"))
        }),
    )?;
    if traced {
        let vid = split
            .videos
            .first()
            .map(|v| v.id.clone())
            .unwrap_or_default();
        put(
            "cgaf_trace.json",
            "trace",
            Box::new(|p| {
                let j = serde_json::json!({"video_id": vid, "samples": ev.trace});
                std::fs::write(p, serde_json::to_string(&j).unwrap_or_default())
            }),
        )?;
    }
    Ok(arts)
}

fn check_data(cfg: &RunConfig, data: &Dataset) -> Result<(), TrainError> {
    if data.train.videos.is_empty() {
        return Err(TrainError::Data(format!(
            "dataset {}: the train split has no videos",
            data.name
        )));
    }
    if data.test.videos.is_empty() {
        return Err(TrainError::Data(format!(
            "dataset {}: the test split has no videos",
            data.name
        )));
    }
    if cfg.eval.select_on == SelectOn::Dev && data.dev.videos.is_empty() {
        return Err(TrainError::Data(format!(
            "dataset {}: eval.select_on = \"dev\" but the dev split has no videos",
            data.name
        )));
    }
    for split in [&data.train, &data.dev, &data.test] {
        for v in &split.videos {
            if v.sentence >= split.sentences.len() {
                return Err(TrainError::Data(format!(
                    "{} video {}: sentence index {} out of range",
                    split.name, v.id, v.sentence
                )));
            }
            if v.num_clips() == 0 || v.frames == 0 {
                return Err(TrainError::Data(format!(
                    "{} video {}: no clips or frames",
                    split.name, v.id
                )));
            }
            if v.clip_starts.iter().any(|&s| s + 1 > v.frames) {
                return Err(TrainError::Data(format!(
                    "{} video {}: a clip starts after the last frame",
                    split.name, v.id
                )));
            }
        }
    }
    Ok(())
}

fn train_dims<D: ModelDevice>(
    dev: D,
    dims: Dims,
    job: Job<'_>,
) -> Result<TrainOutcome, TrainError> {
    let Job {
        cfg,
        data,
        run_dir,
        sink,
        cancel,
    } = job;
    check_data(cfg, data)?;
    std::fs::create_dir_all(run_dir).map_err(io_err(run_dir))?;
    let (mut model, tok) = build_dims(dev, dims, cfg, data)?;
    let max_clips = cfg.data.max_clips.min(dims.max_tokens - 1);
    let oc = OptConfig {
        kind: cfg.train.optimizer,
        beta1: 0.9,
        beta2: 0.98,
        eps: 1e-6,
        weight_decay: cfg.train.weight_decay as f32,
        clip: cfg.train.grad_clip as f32,
    };
    let mut opt = OptState::new(&model.params);
    let cfg_json = serde_json::to_string(cfg).unwrap_or_default();
    let ckpt: PathBuf = run_dir.join(CHECKPOINT);
    let mut st = RunState::default();
    if ckpt.exists() {
        st = load_checkpoint(&ckpt, &mut model, &mut opt, &cfg_json)?;
        st.outcome.resumed_at_epoch = Some(st.epoch);
    }
    st.outcome.num_params = model.params.num_scalars();
    let epochs = cfg.train.epochs;
    let bs = cfg.train.batch_size;
    let steps_per_epoch = epoch_plan(&data.train, bs, 0, cfg.seed).len();
    if steps_per_epoch == 0 {
        return Err(TrainError::Data(format!(
            "train split has fewer than 2 sentences with videos (batch size {bs})"
        )));
    }
    let total = epochs * steps_per_epoch;
    let data_cfg = cfg.data.clone();
    let sink_err = TrainError::Sink;
    let traced = model.config().model.fusion == seds_config::Fusion::Cgaf
        && model.config().model.streams == seds_config::Streams::Dual;
    let mut artifacts: Vec<ArtifactRecord> = Vec::new();
    let gb = cfg.eval.gallery_batch;
    // The test split is scored every epoch only when it is needed every epoch: to select on
    // it, or to log best-on-test. Otherwise once, at the end, with the selected weights.
    let test_each_epoch = cfg.eval.select_on == SelectOn::Test || cfg.eval.log_best_on_test;
    let best_path = run_dir.join(BEST_WEIGHTS);
    while st.epoch < epochs {
        let epoch = st.epoch;
        let plan = epoch_plan(&data.train, bs, epoch, cfg.seed);
        let mut lr_now = 0.0;
        for (si, idx) in plan.iter().enumerate().skip(st.step_in_epoch) {
            if cancel.load(Ordering::SeqCst) {
                st.step_in_epoch = si;
                st.opt_t = opt.t;
                save_checkpoint(&ckpt, &model, &opt, &st, &cfg_json)?;
                return Err(TrainError::Cancelled {
                    epoch,
                    step: st.global_step,
                });
            }
            let gs = st.global_step;
            let mut ctx = Ctx {
                drop: cfg.model.dropout as f32,
                rng: Rng::derive(cfg.seed, &format!("step-{gs}")),
                trace: None,
            };
            let mut batch = train_batch(&data.train, &tok, &data_cfg, idx, &mut ctx.rng);
            batch.video = cap_clips(batch.video, max_clips);
            let (loss, parts) = model.loss(&mut ctx, &batch)?;
            for (name, v) in parts.named() {
                if !v.is_finite() {
                    return Err(TrainError::NonFinite {
                        step: gs,
                        component: name.into(),
                        value: v,
                    });
                }
            }
            let mut grads = loss.backward();
            let mut g = Vec::with_capacity(model.params.list.len());
            for p in &model.params.list {
                grads
                    .try_alloc_for(&p.tensor)
                    .map_err(|e| TrainError::Config(format!("{e:?}")))?;
                let v = grads.get(&p.tensor).as_vec();
                if v.iter().all(|&x| x == 0.0) {
                    return Err(TrainError::UnusedParam {
                        step: gs,
                        name: p.name.clone(),
                    });
                }
                g.push(v);
            }
            drop(grads);
            let mult = schedule(gs, total, cfg.train.warmup);
            lr_now = cfg.train.lr * mult;
            opt.step(
                &mut model.params,
                &mut g,
                lr_now as f32,
                (cfg.train.lr_towers * mult) as f32,
                &oc,
            );
            model.clamp_logit_scale();
            for (name, v) in parts.named() {
                *st.sums.entry(name.to_string()).or_default() += v as f64;
            }
            st.count += 1;
            st.global_step += 1;
            st.step_in_epoch = si + 1;
            sink.progress(epoch, epochs, si + 1, plan.len(), parts.total as f64);
        }
        // End of epoch: train metrics.
        let step = st.global_step as i64;
        let ep = epoch as i64;
        let mut recs: Vec<MetricRecord> = st
            .sums
            .iter()
            .map(|(n, s)| MetricRecord {
                name: n.clone(),
                split: "train".into(),
                step,
                epoch: ep,
                value: s / st.count.max(1) as f64,
            })
            .collect();
        if let Some(r) = recs.iter().find(|r| r.name == "loss_total") {
            st.outcome.loss_curve.push(r.value);
        }
        recs.push(MetricRecord {
            name: "lr".into(),
            split: "train".into(),
            step,
            epoch: ep,
            value: lr_now,
        });
        recs.push(MetricRecord {
            name: "logit_scale".into(),
            split: "train".into(),
            step,
            epoch: ep,
            value: model.logit_scale() as f64,
        });
        sink.log_metrics(&recs).map_err(sink_err)?;
        st.sums.clear();
        st.count = 0;
        let every = cfg.train.eval_every.max(1);
        if (epoch + 1) % every == 0 || epoch + 1 == epochs {
            let test = if test_each_epoch {
                Some(evaluate(&model, &data.test, &tok, gb, max_clips, traced)?)
            } else {
                None
            };
            let sel = match &test {
                Some(t) if cfg.eval.select_on == SelectOn::Test => metric_values(&t.ranks),
                _ => {
                    let dev = evaluate(&model, &data.dev, &tok, gb, max_clips, false)?;
                    sink.log_metrics(&dev.records_with_streams("dev", step, ep))
                        .map_err(sink_err)?;
                    metric_values(&dev.ranks)
                }
            };
            let key = sel_key(&sel);
            if st.selected_key.is_none_or(|k| key > k) {
                st.selected_key = Some(key);
                st.outcome.selected_epoch = Some(epoch);
                st.outcome.selected_metrics = sel;
                match &test {
                    Some(t) => {
                        artifacts = keep_test(&mut st.outcome, t, &data.test, cfg, run_dir, traced)?
                    }
                    // Test is scored after training with these weights.
                    None => model.params.save(&best_path, &[], &BTreeMap::new())?,
                }
            }
            if let Some(t) = &test {
                let tm = metric_values(&t.ranks);
                let better_test = st
                    .outcome
                    .best_test
                    .as_ref()
                    .is_none_or(|(_, m)| sel_key(&tm) > sel_key(m));
                if better_test {
                    st.outcome.best_test = Some((epoch, tm));
                }
            }
        }
        st.epoch += 1;
        st.step_in_epoch = 0;
        st.outcome.epochs_completed = st.epoch;
        st.outcome.steps = st.global_step;
        st.opt_t = opt.t;
        save_checkpoint(&ckpt, &model, &opt, &st, &cfg_json)?;
    }
    if !test_each_epoch && st.outcome.selected_epoch.is_some() && st.outcome.test.is_empty() {
        model.params.load(&best_path)?;
        let test = evaluate(&model, &data.test, &tok, gb, max_clips, traced)?;
        artifacts = keep_test(&mut st.outcome, &test, &data.test, cfg, run_dir, traced)?;
    }
    // Final logging: test metrics of the selected epoch (fused, then each stream alone),
    // best-on-test, artifacts.
    let gs = st.global_step as i64;
    if let Some(e) = st.outcome.selected_epoch {
        let mut recs = metric_records("test", gs, e as i64, &st.outcome.test);
        for (name, m) in &st.outcome.test_streams {
            recs.extend(metric_records(&format!("test_{name}"), gs, e as i64, m));
        }
        sink.log_metrics(&recs).map_err(sink_err)?;
    }
    if cfg.eval.log_best_on_test {
        if let Some((e, m)) = &st.outcome.best_test {
            let recs = metric_records("test_best", gs, *e as i64, m);
            sink.log_metrics(&recs).map_err(sink_err)?;
        }
    }
    if artifacts.is_empty() && cfg.eval.export_scores && st.outcome.selected_epoch.is_some() {
        // Resumed after the selected epoch: its exports are already on disk.
        for (f, kind) in [
            ("scores_test.npy", "scores"),
            ("rows.tsv", "scores"),
            ("cols.tsv", "scores"),
            ("video_emb.npy", "embeddings"),
            ("text_emb.npy", "embeddings"),
            ("ranks_t2v.tsv", "ranks"),
            ("ranks_v2t.tsv", "ranks"),
            ("cgaf_trace.json", "trace"),
        ] {
            let p = run_dir.join(f);
            if p.exists() {
                artifacts.push(ArtifactRecord {
                    kind: kind.into(),
                    path: p,
                });
            }
        }
    }
    artifacts.push(ArtifactRecord {
        kind: "checkpoint".into(),
        path: ckpt,
    });
    if best_path.exists() {
        artifacts.push(ArtifactRecord {
            kind: "checkpoint".into(),
            path: best_path,
        });
    }
    for a in &artifacts {
        sink.log_artifact(a).map_err(sink_err)?;
    }
    Ok(st.outcome)
}
