//! seds-formats: readers of real sign-language data formats.
//!
//! - [`pose`]: pose-format `.pose` files (versions 0.0, 0.1, 0.2).
//! - [`openpose`]: OpenPose per-frame JSON directories (How2Sign keypoints).
//! - [`npy`]: NumPy `.npy` / `.npz` reading (cast to f32) and an f32 `.npy` writer.
//! - [`annotations`]: How2Sign TSV, PHOENIX-2014T CSV, CSL-Daily split, caption TSVs.
//! - [`layout`]: mapping of COCO-WholeBody, OpenPose and MediaPipe layouts to the SEDS
//!   49 joints ([`RawPose`]).
//!
//! Every reader returns a typed error naming the file and the byte offset or line; none
//! panics on malformed input. The SEDS release's Python pickles are converted beforehand by
//! `scripts/convert_seds_pickles.py` (see `docs/data-formats.md`).

pub mod annotations;
pub mod layout;
pub mod npy;
pub mod openpose;
pub mod pose;

pub use annotations::{
    read_caption_tsv, read_csl_split, read_how2sign_tsv, read_phoenix_corpus, write_caption_tsv,
    AnnotationError, CaptionRecord, CslSplitEntry, How2SignSentence, PhoenixEntry, Split,
};
pub use layout::{
    detect_pose_layout, openpose_to_seds, pose_to_seds, wholebody_to_seds, LayoutError, RawPose,
    SourceLayout, SEDS_JOINTS,
};
pub use npy::{read_npy, read_npz, read_npz_array, write_npy_f32, NpyArray, NpyError};
pub use openpose::{read_openpose_dir, OpenPoseError, OpenPoseSequence};
pub use pose::{Component, PoseError, PoseFile};
