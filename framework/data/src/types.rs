//! The in-memory dataset and batch types: the contract between the data pipeline and the model.
//!
//! Coordinates: after SEDS preprocessing every joint is (x, y) in a 256-pixel frame (hands in
//! their own normalised 256 crop, left hand mirrored; body rescaled from the frame to 256),
//! divided by 256 so values lie in [0, 1]; missing joints are (0, 0). Only (x, y) enter the model.

use serde::{Deserialize, Serialize};

/// Joints per frame in the SEDS layout: 7 body + 21 left hand + 21 right hand.
pub const NUM_JOINTS: usize = 49;
/// Coordinates per joint fed to the model (x, y).
pub const COORDS: usize = 2;
/// Token id of padding.
pub const PAD: u32 = 0;
/// Token id of the start-of-text marker.
pub const SOT: u32 = 1;
/// Token id of the end-of-text marker.
pub const EOT: u32 = 2;
/// Token id of words not in the vocabulary.
pub const UNK: u32 = 3;

/// One unique sentence of a split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sentence {
    /// Stable sentence id (e.g. `synth-train-000123` or the benchmark's id).
    pub id: String,
    /// The (English) text.
    pub text: String,
    /// The gloss sequence (SynthSign ground truth; empty when unknown for real data).
    pub glosses: Vec<String>,
}

/// One preprocessed video.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Video {
    /// Stable video id.
    pub id: String,
    /// Index of its sentence in the split's `sentences`.
    pub sentence: usize,
    /// Signer id (dataset-specific numbering).
    pub signer: u32,
    /// Number of kept frames T' (>= the clip window: short videos are padded by repeating the last frame).
    pub frames: usize,
    /// Preprocessed pose, `[frames][NUM_JOINTS][COORDS]` row-major.
    pub pose: Vec<f32>,
    /// Start frame of each clip window (at most `max_clips`, chosen by linspace when more exist).
    pub clip_starts: Vec<usize>,
    /// RGB clip features, `[clip_starts.len()][rgb_dim]` row-major, aligned 1:1 with `clip_starts`.
    pub rgb: Vec<f32>,
}

impl Video {
    /// Number of clips.
    pub fn num_clips(&self) -> usize {
        self.clip_starts.len()
    }
}

/// One split (train, dev or test).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Split {
    /// `train`, `dev` or `test`.
    pub name: String,
    /// Unique sentences.
    pub sentences: Vec<Sentence>,
    /// Videos; several may share a sentence.
    pub videos: Vec<Video>,
}

impl Split {
    /// For each video, its sentence index (the ground truth of retrieval metrics).
    pub fn video_sentence(&self) -> Vec<usize> {
        self.videos.iter().map(|v| v.sentence).collect()
    }
}

/// A whole dataset, ready for training and evaluation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// Human-readable name, e.g. `synthsign-tiny-s0`.
    pub name: String,
    /// Training split.
    pub train: Split,
    /// Dev split (model selection).
    pub dev: Split,
    /// Test split.
    pub test: Split,
    /// Dimension of the RGB clip features.
    pub rgb_dim: usize,
    /// Frames per clip window.
    pub clip_window: usize,
    /// Frame rate of the source videos.
    pub fps: f32,
}

/// A batch of videos, padded to the longest in the batch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VideoBatch {
    /// Indices of the videos in their split.
    pub video_index: Vec<usize>,
    /// Max frames over the batch (Tm).
    pub max_frames: usize,
    /// `[B][Tm][NUM_JOINTS][COORDS]`, zero-padded.
    pub pose: Vec<f32>,
    /// Valid frames per video.
    pub frame_len: Vec<usize>,
    /// Max clips over the batch (Nm).
    pub max_clips: usize,
    /// `[B][Nm]` start frame per clip (0 for padding clips).
    pub clip_starts: Vec<usize>,
    /// Valid clips per video.
    pub clip_len: Vec<usize>,
    /// `[B][Nm][rgb_dim]`, zero-padded.
    pub rgb: Vec<f32>,
    /// Dimension of the RGB features.
    pub rgb_dim: usize,
}

impl VideoBatch {
    /// Batch size.
    pub fn len(&self) -> usize {
        self.frame_len.len()
    }
    /// True for an empty batch.
    pub fn is_empty(&self) -> bool {
        self.frame_len.is_empty()
    }
}

/// A batch of tokenised texts, padded to the longest in the batch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TextBatch {
    /// Indices of the sentences in their split.
    pub sentence_index: Vec<usize>,
    /// Max tokens over the batch (L), including SOT and EOT.
    pub max_tokens: usize,
    /// `[B][L]` token ids, `PAD` after the end.
    pub tokens: Vec<u32>,
    /// Valid tokens per text (SOT..=EOT).
    pub token_len: Vec<usize>,
}

impl TextBatch {
    /// Batch size.
    pub fn len(&self) -> usize {
        self.token_len.len()
    }
    /// True for an empty batch.
    pub fn is_empty(&self) -> bool {
        self.token_len.is_empty()
    }
}

/// A training batch: row i of `video` is a take of sentence row i of `text`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainBatch {
    /// The videos.
    pub video: VideoBatch,
    /// The texts as written (used for the V2T half of the losses).
    pub text: TextBatch,
    /// The texts after random-swap augmentation (T2V half); `None` when augmentation is off.
    pub text_aug: Option<TextBatch>,
}
