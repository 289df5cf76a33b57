//! The typed schema of one resolved run configuration (what a single grid cell trains).
//!
//! Every section rejects unknown keys. Defaults follow ../shared/docs/seds-method.md
//! ("clean" choices where the paper and the release differ; the release's quirks are switches).
//! This file is the contract between the config DSL, the data pipeline and the model:
//! add a field here, give it a default and a doc comment, and validate it in `validate.rs`.

use serde::{Deserialize, Serialize};

/// A fully resolved configuration of one run (one cell of an experiment grid, one seed).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Training seed of this run (weight init, shuffling, augmentation).
    #[serde(default)]
    pub seed: u64,
    /// Where the data comes from and how it is preprocessed.
    #[serde(default)]
    pub data: DataConfig,
    /// Architecture switches.
    #[serde(default)]
    pub model: ModelConfig,
    /// Objective switches and weights.
    #[serde(default)]
    pub loss: LossConfig,
    /// Optimisation.
    #[serde(default)]
    pub train: TrainConfig,
    /// Evaluation protocol and exports.
    #[serde(default)]
    pub eval: EvalConfig,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            seed: 0,
            data: DataConfig::default(),
            model: ModelConfig::default(),
            loss: LossConfig::default(),
            train: TrainConfig::default(),
            eval: EvalConfig::default(),
        }
    }
}

/// Data source kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataSource {
    /// The SynthSign generator.
    Synth,
    /// How2Sign directory layout (realigned TSV + OpenPose JSON + features).
    How2sign,
    /// PHOENIX-2014T layout (corpus CSV + pose + features).
    Phoenix14t,
    /// CSL-Daily layout (split file + pose + features).
    CslDaily,
    /// A directory of per-video pose files (.pose/.npy) with a caption TSV.
    PoseDir,
}

/// SynthSign size presets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SynthPreset {
    /// A few hundred videos: unit and CLI tests.
    Tiny,
    /// About 3,000 / 300 / 300 videos: CPU experiments.
    Small,
    /// PHOENIX-2014T sizes, from real captions.
    PhoenixLike,
}

/// `[data]`: the dataset and its preprocessing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// Where the data comes from.
    pub source: DataSource,
    /// SynthSign preset (source = "synth").
    pub preset: SynthPreset,
    /// SynthSign generation seed (independent of the training seed).
    pub synth_seed: u64,
    /// Optional caption TSV directory (train/dev/test.tsv) for SynthSign real-caption mode.
    pub captions: Option<String>,
    /// Test on signers never seen in training (SynthSign).
    pub unseen_signers: bool,
    /// Root directory of a real dataset (source != "synth").
    pub root: Option<String>,
    /// Cache directory for generated data (not part of a run's identity).
    pub cache_dir: String,
    /// Frames per gloss-level clip window.
    pub clip_window: usize,
    /// Stride between clip windows, in frames.
    pub clip_stride: usize,
    /// Maximum clips per video (window starts chosen by linspace when exceeded).
    pub max_clips: usize,
    /// Maximum text tokens (long sentences are subsampled uniformly).
    pub max_words: usize,
    /// Random swap of two words in the T2V half of the text (augmentation).
    pub text_augment: bool,
    /// Probability of the random swap.
    pub swap_prob: f64,
    /// Dimension of the (real or simulated) offline RGB clip features.
    pub rgb_dim: usize,
    /// Explicit SynthSign sizes overriding the preset's (source = "synth").
    pub sizes: SynthSizes,
}

/// Optional explicit SynthSign sizes; each `None` keeps the preset's value.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SynthSizes {
    /// Unique training sentences.
    pub train_sentences: Option<usize>,
    /// Unique dev sentences.
    pub dev_sentences: Option<usize>,
    /// Unique test sentences.
    pub test_sentences: Option<usize>,
    /// Videos (signers/takes) per sentence.
    pub takes_per_sentence: Option<usize>,
    /// Number of distinct signers.
    pub signers: Option<usize>,
    /// Size of the gloss vocabulary (built-in grammar mode).
    pub glosses: Option<usize>,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig {
            source: DataSource::Synth,
            preset: SynthPreset::Tiny,
            synth_seed: 0,
            captions: None,
            unseen_signers: false,
            root: None,
            cache_dir: "runs/cache".into(),
            clip_window: 16,
            clip_stride: 1,
            max_clips: 64,
            max_words: 32,
            text_augment: true,
            swap_prob: 0.5,
            rgb_dim: 1024,
            sizes: SynthSizes::default(),
        }
    }
}

/// Model size presets (compile-time shapes in seds-model).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelSize {
    /// Seconds per epoch on 2 cores; tests.
    Tiny,
    /// CPU experiments.
    Small,
    /// The release's dims; GPU work.
    Paper,
}

/// Which video streams the model uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Streams {
    /// Pose keypoints only.
    Pose,
    /// Offline RGB clip features only.
    Rgb,
    /// Both, fused.
    Dual,
}

/// How the two streams are fused (dual stream only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fusion {
    /// Cross Gloss Attention Fusion followed by the output MLP fusion.
    Cgaf,
    /// Output MLP fusion only (the release's ablation baseline).
    Mlp,
    /// Element-wise sum of the two streams' tokens.
    Sum,
    /// No fusion (single stream).
    None,
}

/// Reference offsets rho of the deformable attention.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReferenceOffsets {
    /// Centred: -(K-1)/2 ..= (K-1)/2.
    Symmetric,
    /// The release's integer-division artefact: -K/2-1 ..= K/2-1 (e.g. -3..1 for K = 5).
    Release,
}

/// `[model]`: architecture.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// Size preset (chooses compile-time dims).
    pub size: ModelSize,
    /// Streams used.
    pub streams: Streams,
    /// Fusion of the two streams.
    pub fusion: Fusion,
    /// Keys (samples) per CGAF layer; the length is the number of CGAF layers.
    pub cgaf_keys: Vec<usize>,
    /// Also sample keys from the query's own modality in CGAF.
    pub intra_modality: bool,
    /// Reference offsets of the deformable attention.
    pub reference_offsets: ReferenceOffsets,
    /// Dropout probability (0 disables).
    pub dropout: f64,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            size: ModelSize::Tiny,
            streams: Streams::Dual,
            fusion: Fusion::Cgaf,
            cgaf_keys: vec![5, 3],
            intra_modality: false,
            reference_offsets: ReferenceOffsets::Symmetric,
            dropout: 0.1,
        }
    }
}

/// Masking of the CLCL inner softmax.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InnerSoftmax {
    /// Padding tokens are excluded from the inner softmax (clean default).
    Masked,
    /// The release's behaviour: padding tokens take part.
    Release,
}

/// Pose-RGB fine-grained matching loss mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Matching {
    /// No matching loss.
    Off,
    /// Mean over valid clips (clean default).
    Mean,
    /// Sum over valid clips (the release).
    Sum,
}

/// `[loss]`: objectives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LossConfig {
    /// Weight of the single-stream text-video losses L_tp + L_tr.
    pub alpha: f64,
    /// Weight of the Pose-RGB matching loss L_pr.
    pub beta: f64,
    /// Temperature of the CLCL inner softmax.
    pub tau: f64,
    /// Dual-mix d between a score matrix and its transpose in each InfoNCE.
    pub dual_mix: f64,
    /// Inner-softmax masking.
    pub inner_softmax: InnerSoftmax,
    /// Whether the CLS token counts as a clip token in CLCL scoring.
    pub cls_as_clip: bool,
    /// Matching loss mode.
    pub matching: Matching,
    /// Initial value of the learnable logit scale lambda. Default 1/0.07 (CLIP's from-scratch
    /// initialisation); the release starts at 100 because its towers are pretrained CLIP, and
    /// 100 collapses training from scratch.
    pub logit_scale_init: f64,
    /// Upper clamp of lambda.
    pub logit_scale_max: f64,
}

impl Default for LossConfig {
    fn default() -> Self {
        LossConfig {
            alpha: 0.8,
            beta: 0.4,
            tau: 0.07,
            dual_mix: 0.5,
            inner_softmax: InnerSoftmax::Masked,
            cls_as_clip: true,
            matching: Matching::Mean,
            logit_scale_init: 1.0 / 0.07,
            logit_scale_max: 100.0,
        }
    }
}

/// Optimiser choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Optimizer {
    /// The release's BertAdam: Adam without bias correction, decoupled weight decay.
    Bertadam,
    /// AdamW with bias correction.
    Adamw,
}

/// `[train]`: optimisation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Number of epochs.
    pub epochs: usize,
    /// Batch size (sentences per step).
    pub batch_size: usize,
    /// Optimiser.
    pub optimizer: Optimizer,
    /// Learning rate of the pose encoder and CGAF.
    pub lr: f64,
    /// Learning rate of the interaction transformers and the text encoder.
    pub lr_towers: f64,
    /// Decoupled weight decay (non-bias weights).
    pub weight_decay: f64,
    /// Warm-up fraction of all steps (then cosine decay).
    pub warmup: f64,
    /// Global gradient-norm clip (0 disables).
    pub grad_clip: f64,
    /// Device: "cpu", "cuda" or "cuda:N".
    pub device: String,
    /// Worker threads for CPU kernels (0 = all cores).
    pub threads: usize,
    /// Evaluate on dev every this many epochs.
    pub eval_every: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 10,
            batch_size: 32,
            optimizer: Optimizer::Bertadam,
            lr: 1e-3,
            lr_towers: 5e-4,
            weight_decay: 0.001,
            warmup: 0.1,
            grad_clip: 1.0,
            device: "cpu".into(),
            threads: 0,
            eval_every: 1,
        }
    }
}

/// Split used for model selection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SelectOn {
    /// Select the epoch with the best dev score (seds-lab's default).
    Dev,
    /// Select on test (the release's practice; reported as such).
    Test,
}

/// `[eval]`: evaluation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvalConfig {
    /// Split for model selection.
    pub select_on: SelectOn,
    /// Videos x sentences scored per gallery block.
    pub gallery_batch: usize,
    /// Also log best-on-test metrics (split `test_best`, labelled as such).
    pub log_best_on_test: bool,
    /// Write the test score matrix, its row/column TSVs and pooled embeddings.
    pub export_scores: bool,
}

impl Default for EvalConfig {
    fn default() -> Self {
        EvalConfig {
            select_on: SelectOn::Dev,
            gallery_batch: 64,
            log_best_on_test: true,
            export_scores: true,
        }
    }
}

/// Dotted key paths that do not change what a run computes and are excluded from its hash.
pub const HASH_EXCLUDED_KEYS: &[&str] = &[
    "data.cache_dir",
    "train.threads",
    "train.eval_every",
    "eval.gallery_batch",
    "eval.export_scores",
    "train.device",
];
