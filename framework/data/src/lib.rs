//! seds-data: SynthSign, SEDS preprocessing, tokenizer and batching.
//!
//! - [`types`]: the dataset and batch types the model consumes (the contract with seds-model).
//! - [`preprocess`]: the SEDS pose preprocessing, pure, shared with real-data readers.
//! - [`lexicon`], [`signer`], [`render`], [`rgb`], [`synth`]: the SynthSign generative model
//!   (documented in docs/synthsign.md).
//! - [`captions`]: real-caption TSVs and gloss derivation.
//! - [`cache`]: the on-disk cache (the only module with file effects besides caption reading).
//! - [`real`], [`realcache`], [`check`]: real datasets (How2Sign, PHOENIX-2014T, CSL-Daily,
//!   pose-dir) read through seds-formats, their cache, and `data check` (docs/datasets.md).
//! - [`fixtures`]: small valid real-dataset directories for tests.
//! - [`tokenizer`], [`batching`]: text tokens and train/eval batches.
//! - [`stats`], [`baselines`]: dataset statistics and reference scorers for sanity checks.

pub mod baselines;
pub mod batching;
pub mod cache;
pub mod captions;
pub mod check;
pub mod error;
pub mod fixtures;
pub mod half;
pub mod lexicon;
pub mod preprocess;
pub mod real;
pub mod realcache;
pub mod render;
pub mod rgb;
pub mod signer;
pub mod stats;
pub mod synth;
pub mod tokenizer;
pub mod types;

pub use batching::{epoch_plan, text_batch, train_batch, train_batches, video_batch};
pub use cache::{load_or_generate, CacheStatus};
pub use check::{check_dataset, DatasetReport, Problem, SplitCheck};
pub use error::DataError;
pub use fixtures::write_how2sign_fixture;
pub use preprocess::{preprocess, Preprocessed, RawFrame};
pub use real::ProblemKind;
pub use render::RawVideo;
pub use stats::{stats, DatasetStats, Dist, SplitStats};
pub use synth::{generate, synth_raw_video, GENERATOR_VERSION};
pub use tokenizer::Tokenizer;
pub use types::*;

use seds_config::{DataConfig, DataSource};

/// Loads the dataset a run trains on: SynthSign from its cache (generated and cached on a
/// miss, rebuilt when stale or corrupt), or a real dataset from `data.root` through its
/// cache (see [`realcache`]); a real dataset with any problem is an error naming the video.
pub fn load_dataset(cfg: &DataConfig) -> Result<Dataset, DataError> {
    load_dataset_with_status(cfg).map(|(ds, _)| ds)
}

/// [`load_dataset`], also saying whether the cache was hit.
pub fn load_dataset_with_status(cfg: &DataConfig) -> Result<(Dataset, CacheStatus), DataError> {
    match cfg.source {
        DataSource::Synth => load_or_generate(cfg),
        _ => realcache::load_real(cfg),
    }
}

/// The raw frames of a video for drawing (`data show`): SynthSign re-generates them, real
/// sources read the video's pose file (49 SEDS joints in source pixels, no preprocessing).
pub fn raw_frames(cfg: &DataConfig, split: &str, video_id: &str) -> Result<RawVideo, DataError> {
    match cfg.source {
        DataSource::Synth => synth_raw_video(cfg, split, video_id),
        _ => real::real_raw_frames(cfg, split, video_id),
    }
}
