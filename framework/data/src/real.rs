//! Real datasets (How2Sign, PHOENIX-2014T, CSL-Daily, pose-dir): the per-source directory
//! layouts under `data.root`, the video index built from the annotation files, and the
//! per-video pipeline (pose file -> `RawPose` -> [`crate::preprocess`] -> clip starts, RGB
//! features -> clip-count check). The layouts are documented in `docs/datasets.md`.
//!
//! Effects (reading files) live in [`index`], [`process_video`] and [`load_real`]; the
//! grouping of videos into sentences ([`build_split`]) is pure.
//!
//! Video ids are the names the annotation files give (How2Sign: SENTENCE_NAME; PHOENIX: the
//! corpus `name` or caption `video_name`; CSL-Daily: the split-file `name`; pose-dir: the
//! caption `video_name`). Sentence ids group takes: videos of a split with the same sentence
//! id share one [`Sentence`] (text-to-video retrieval is over these groups).

use crate::error::DataError;
use crate::half::round_slice_f16;
use crate::preprocess::{preprocess, Preprocessed, RawFrame};
use crate::render::RawVideo;
use crate::types::{Dataset, Sentence, Split, Video, NUM_JOINTS};
use seds_config::{DataConfig, DataSource};
use seds_formats::annotations::{CaptionRecord, PhoenixEntry};
use seds_formats::{PoseFile, RawPose};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The three splits, in dataset order.
pub const SPLIT_NAMES: [&str; 3] = ["train", "dev", "test"];

/// The kind of a problem found in a real dataset (see [`crate::check::DatasetReport`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// An annotation / caption / split file is missing or malformed.
    Annotation,
    /// A video listed in the split file has no caption (CSL-Daily).
    MissingCaption,
    /// A video id appears twice in a split (the later row is ignored).
    DuplicateVideo,
    /// No pose file / OpenPose directory for the video.
    MissingPose,
    /// The pose file exists but a reader refused it (message names file and offset/line).
    UnreadablePose,
    /// No frame of the video has a detectable hand (preprocessing keeps nothing).
    EmptyHands,
    /// No RGB feature file for the video.
    MissingFeatures,
    /// The feature file exists but could not be read, or is not `(n, rgb_dim)`.
    UnreadableFeatures,
    /// The feature file's clip count differs from the pose clip count.
    CountMismatch,
}

/// Frame geometry assumed for keypoint files that do not carry their own.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameGeometry {
    /// Frame size (width, height) of OpenPose JSON keypoints, in pixels.
    pub openpose: (f32, f32),
    /// Frame size (width, height) of COCO-WholeBody `.npy` keypoint arrays, in pixels.
    pub array: (f32, f32),
    /// Frames per second of the source videos.
    pub fps: f32,
}

/// Optional `meta.json` at the dataset root overriding the source's frame geometry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootMeta {
    /// Frame width in pixels (OpenPose and array keypoints alike).
    #[serde(default)]
    pub width: Option<f32>,
    /// Frame height in pixels.
    #[serde(default)]
    pub height: Option<f32>,
    /// Frames per second.
    #[serde(default)]
    pub fps: Option<f32>,
}

/// The built-in frame geometry of a source (docs/datasets.md, "Frame sizes").
pub fn default_geometry(source: DataSource) -> FrameGeometry {
    match source {
        DataSource::How2sign => FrameGeometry {
            openpose: (1280.0, 720.0),
            array: (256.0, 256.0),
            fps: 24.0,
        },
        DataSource::Phoenix14t => FrameGeometry {
            openpose: (210.0, 260.0),
            array: (210.0, 260.0),
            fps: 25.0,
        },
        DataSource::CslDaily => FrameGeometry {
            openpose: (512.0, 512.0),
            array: (512.0, 512.0),
            fps: 30.0,
        },
        DataSource::PoseDir | DataSource::Synth => FrameGeometry {
            openpose: (256.0, 256.0),
            array: (256.0, 256.0),
            fps: 25.0,
        },
    }
}

/// The geometry of a dataset root: the source defaults, overridden by `meta.json` if present.
pub fn geometry(source: DataSource, root: &Path) -> Result<FrameGeometry, DataError> {
    let mut g = default_geometry(source);
    let path = root.join("meta.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(g),
        Err(e) => return Err(DataError::io(&path, e)),
    };
    let m: RootMeta = serde_json::from_str(&text).map_err(|source| DataError::Json {
        path: path.clone(),
        source,
    })?;
    let valid = |v: f32| v.is_finite() && v > 0.0;
    for v in [m.width, m.height, m.fps].into_iter().flatten() {
        if !valid(v) {
            return Err(DataError::Config(format!(
                "{}: width, height and fps must be positive, found {v}",
                path.display()
            )));
        }
    }
    if let Some(w) = m.width {
        g.openpose.0 = w;
        g.array.0 = w;
    }
    if let Some(h) = m.height {
        g.openpose.1 = h;
        g.array.1 = h;
    }
    if let Some(f) = m.fps {
        g.fps = f;
    }
    Ok(g)
}

/// One video listed by the annotation files.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Video id (file stem of its pose and feature files).
    pub video: String,
    /// Sentence id (takes of one sentence share it).
    pub sentence_id: String,
    /// Sentence text.
    pub text: String,
    /// Gloss sequence when the annotations carry one (PHOENIX corpus), else empty.
    pub glosses: Vec<String>,
    /// Signer number (PHOENIX `SignerNN`, CSL-Daily `P<nnnn>`; 0 when unknown).
    pub signer: u32,
}

/// A problem found while indexing or processing a dataset.
#[derive(Debug)]
pub struct IndexProblem {
    /// What kind of problem.
    pub kind: ProblemKind,
    /// Split concerned (`None` for dataset-wide files such as the CSL split file).
    pub split: Option<String>,
    /// Video concerned, if any.
    pub video: Option<String>,
    /// The error, naming the file.
    pub error: DataError,
}

/// The videos of a real dataset, per split, as listed by its annotation files.
#[derive(Debug)]
pub struct DatasetIndex {
    /// The source kind.
    pub source: DataSource,
    /// The dataset root.
    pub root: PathBuf,
    /// Frame geometry for files that do not carry their own.
    pub geometry: FrameGeometry,
    /// Entries of train, dev and test (in [`SPLIT_NAMES`] order).
    pub splits: [Vec<Entry>; 3],
    /// Annotation files read (their sizes and times enter the cache key).
    pub annotation_files: Vec<PathBuf>,
    /// Problems found while indexing (annotation errors, missing captions, duplicates).
    pub problems: Vec<IndexProblem>,
}

/// Where the pose of a video lives.
#[derive(Clone, Debug, PartialEq)]
pub enum PoseLocation {
    /// An OpenPose per-frame JSON directory.
    OpenPoseDir(PathBuf),
    /// A pose-format `.pose` file.
    PoseFile(PathBuf),
    /// A COCO-WholeBody `(T, 133, 3)` `.npy` array.
    Npy(PathBuf),
}

impl PoseLocation {
    /// The path of the file or directory.
    pub fn path(&self) -> &Path {
        match self {
            PoseLocation::OpenPoseDir(p) | PoseLocation::PoseFile(p) | PoseLocation::Npy(p) => p,
        }
    }
}

/// The dataset root of a real-source configuration.
pub fn root_of(cfg: &DataConfig) -> Result<PathBuf, DataError> {
    let root = cfg.root.as_deref().ok_or_else(|| {
        DataError::Config(format!(
            "data.root must name the dataset directory for source `{}`",
            source_name(cfg.source)
        ))
    })?;
    let root = PathBuf::from(root);
    if !root.is_dir() {
        return Err(DataError::Config(format!(
            "data.root `{}` is not a directory",
            root.display()
        )));
    }
    Ok(root)
}

/// The config spelling of a source (`how2sign`, `phoenix14t`, ...).
pub fn source_name(source: DataSource) -> String {
    serde_json::to_value(source)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{source:?}"))
}

fn fmt_err(e: impl std::fmt::Display) -> DataError {
    DataError::Format(e.to_string())
}

/// The first existing path of `candidates`, or a `Missing` error listing them all.
fn first_existing(what: &str, candidates: Vec<PathBuf>) -> Result<PathBuf, DataError> {
    match candidates.iter().find(|p| p.is_file()) {
        Some(p) => Ok(p.clone()),
        None => Err(DataError::Missing {
            what: what.to_string(),
            tried: candidates,
        }),
    }
}

/// Rejects video names that would escape the dataset root.
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && !Path::new(name).is_absolute()
        && !Path::new(name)
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
}

/// Leading digits after a prefix, e.g. `Signer07` -> 7 (0 when there are none).
fn trailing_number(s: &str) -> u32 {
    let digits: String = s
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().unwrap_or(0)
}

fn caption_text(r: &CaptionRecord) -> String {
    if r.text_en.trim().is_empty() {
        r.text_orig.clone()
    } else {
        r.text_en.clone()
    }
}

fn caption_entry(r: &CaptionRecord) -> Entry {
    Entry {
        video: r.video_name.clone(),
        sentence_id: r.sentence_id.clone(),
        text: caption_text(r),
        glosses: Vec::new(),
        signer: 0,
    }
}

fn phoenix_entry(p: &PhoenixEntry) -> Entry {
    Entry {
        video: p.name.clone(),
        sentence_id: p.name.clone(),
        text: p.translation.clone(),
        glosses: p.glosses().into_iter().map(str::to_string).collect(),
        signer: trailing_number(&p.speaker),
    }
}

/// Records an annotation problem of `split` (`None`: a dataset-wide file).
fn annotation_problem(idx: &mut DatasetIndex, split: Option<&str>, error: DataError) {
    idx.problems.push(IndexProblem {
        kind: ProblemKind::Annotation,
        split: split.map(str::to_string),
        video: None,
        error,
    })
}

/// Reads `root/captions/{split}.tsv` and records it in `idx.annotation_files`; a missing or
/// malformed file becomes an annotation problem of `split` (named `"{what}{split} captions"`)
/// and yields `None`.
fn read_split_captions(
    idx: &mut DatasetIndex,
    root: &Path,
    split: &str,
    what: &str,
) -> Option<Vec<CaptionRecord>> {
    let cap = root.join("captions").join(format!("{split}.tsv"));
    if !cap.is_file() {
        annotation_problem(
            idx,
            Some(split),
            DataError::Missing {
                what: format!("{what}{split} captions"),
                tried: vec![cap],
            },
        );
        return None;
    }
    idx.annotation_files.push(cap.clone());
    match seds_formats::read_caption_tsv(&cap) {
        Ok(rows) => Some(rows),
        Err(e) => {
            annotation_problem(idx, Some(split), fmt_err(e));
            None
        }
    }
}

/// Reads the annotation files of `cfg`'s source and lists the videos of each split.
/// Annotation problems do not stop indexing: they are collected in `problems`.
pub fn index(cfg: &DataConfig) -> Result<DatasetIndex, DataError> {
    let root = root_of(cfg)?;
    let geometry = geometry(cfg.source, &root)?;
    let mut idx = DatasetIndex {
        source: cfg.source,
        root: root.clone(),
        geometry,
        splits: Default::default(),
        annotation_files: Vec::new(),
        problems: Vec::new(),
    };
    match cfg.source {
        DataSource::Synth => {
            return Err(DataError::Config(
                "the synth source has no dataset directory to index".into(),
            ))
        }
        DataSource::How2sign => {
            for (si, (split, file_split)) in
                SPLIT_NAMES.iter().zip(["train", "val", "test"]).enumerate()
            {
                let ann = root.join("annotations");
                let found = first_existing(
                    &format!("How2Sign {split} annotations"),
                    vec![
                        ann.join(format!("how2sign_realigned_{file_split}.csv")),
                        ann.join(format!("how2sign_{file_split}.csv")),
                    ],
                );
                let path = match found {
                    Ok(p) => p,
                    Err(e) => {
                        annotation_problem(&mut idx, Some(split), e);
                        continue;
                    }
                };
                idx.annotation_files.push(path.clone());
                match seds_formats::read_how2sign_tsv(&path) {
                    Ok(rows) => {
                        idx.splits[si] = rows
                            .iter()
                            .map(|r| Entry {
                                video: r.sentence_name.clone(),
                                sentence_id: r.sentence_id.clone(),
                                text: r.sentence.clone(),
                                glosses: Vec::new(),
                                signer: 0,
                            })
                            .collect()
                    }
                    Err(e) => annotation_problem(&mut idx, Some(split), fmt_err(e)),
                }
            }
        }
        DataSource::Phoenix14t => {
            for (si, split) in SPLIT_NAMES.iter().enumerate() {
                let cap = root.join("captions").join(format!("{split}.tsv"));
                let corpus = root
                    .join("annotations")
                    .join(format!("PHOENIX-2014-T.{split}.corpus.csv"));
                let corpus_rows = if corpus.is_file() {
                    idx.annotation_files.push(corpus.clone());
                    match seds_formats::read_phoenix_corpus(&corpus) {
                        Ok(rows) => Some(rows),
                        Err(e) => {
                            annotation_problem(&mut idx, Some(split), fmt_err(e));
                            continue;
                        }
                    }
                } else {
                    None
                };
                if cap.is_file() {
                    idx.annotation_files.push(cap.clone());
                    let by_name: BTreeMap<&str, &PhoenixEntry> = corpus_rows
                        .iter()
                        .flatten()
                        .map(|p| (p.name.as_str(), p))
                        .collect();
                    match seds_formats::read_caption_tsv(&cap) {
                        Ok(rows) => {
                            idx.splits[si] = rows
                                .iter()
                                .map(|r| {
                                    let mut e = caption_entry(r);
                                    if let Some(p) = by_name.get(r.video_name.as_str()) {
                                        e.glosses = phoenix_entry(p).glosses;
                                        e.signer = trailing_number(&p.speaker);
                                    }
                                    e
                                })
                                .collect()
                        }
                        Err(e) => annotation_problem(&mut idx, Some(split), fmt_err(e)),
                    }
                } else if let Some(rows) = corpus_rows {
                    idx.splits[si] = rows.iter().map(phoenix_entry).collect();
                } else {
                    annotation_problem(
                        &mut idx,
                        Some(split),
                        DataError::Missing {
                            what: format!("PHOENIX-2014T {split} annotations"),
                            tried: vec![cap, corpus],
                        },
                    );
                }
            }
        }
        DataSource::CslDaily => {
            let mut captions: BTreeMap<String, CaptionRecord> = BTreeMap::new();
            for split in SPLIT_NAMES {
                if let Some(rows) = read_split_captions(&mut idx, &root, split, "CSL-Daily ") {
                    captions.extend(rows.into_iter().map(|r| (r.video_name.clone(), r)))
                }
            }
            let split_file = root.join("sentence_label").join("split_1.txt");
            if !split_file.is_file() {
                annotation_problem(
                    &mut idx,
                    None,
                    DataError::Missing {
                        what: "CSL-Daily split file".into(),
                        tried: vec![split_file],
                    },
                );
            } else {
                idx.annotation_files.push(split_file.clone());
                match seds_formats::read_csl_split(&split_file) {
                    Ok(rows) => {
                        for r in rows {
                            let si = SPLIT_NAMES
                                .iter()
                                .position(|s| *s == r.split.as_str())
                                .unwrap_or(0);
                            match captions.get(&r.name) {
                                Some(c) => idx.splits[si].push(Entry {
                                    signer: r.signer,
                                    ..caption_entry(c)
                                }),
                                None => idx.problems.push(IndexProblem {
                                    kind: ProblemKind::MissingCaption,
                                    split: Some(SPLIT_NAMES[si].to_string()),
                                    video: Some(r.name.clone()),
                                    error: DataError::Missing {
                                        what: format!("caption of video `{}`", r.name),
                                        tried: vec![root.join("captions")],
                                    },
                                }),
                            }
                        }
                    }
                    Err(e) => annotation_problem(&mut idx, None, fmt_err(e)),
                }
            }
        }
        DataSource::PoseDir => {
            for (si, split) in SPLIT_NAMES.iter().enumerate() {
                if let Some(rows) = read_split_captions(&mut idx, &root, split, "") {
                    idx.splits[si] = rows.iter().map(caption_entry).collect();
                }
            }
        }
    }
    // Duplicates and unsafe names.
    for (si, split) in SPLIT_NAMES.iter().enumerate() {
        let mut seen = std::collections::BTreeSet::new();
        let entries = std::mem::take(&mut idx.splits[si]);
        for e in entries {
            if !safe_name(&e.video) {
                idx.problems.push(IndexProblem {
                    kind: ProblemKind::Annotation,
                    split: Some(split.to_string()),
                    video: Some(e.video.clone()),
                    error: DataError::Config(format!(
                        "video name `{}` is empty, absolute or contains `..`",
                        e.video
                    )),
                });
            } else if !seen.insert(e.video.clone()) {
                idx.problems.push(IndexProblem {
                    kind: ProblemKind::DuplicateVideo,
                    split: Some(split.to_string()),
                    video: Some(e.video.clone()),
                    error: DataError::Config(format!(
                        "video `{}` is listed more than once in split {split}; later rows are ignored",
                        e.video
                    )),
                });
            } else {
                idx.splits[si].push(e);
            }
        }
    }
    Ok(idx)
}

/// Finds the pose of `video`: `openpose/<video>/`, then `pose/<video>.pose`, then
/// `pose/<video>.npy`.
pub fn locate_pose(root: &Path, video: &str) -> Result<PoseLocation, DataError> {
    let dir = root.join("openpose").join(video);
    let pose = root.join("pose").join(format!("{video}.pose"));
    let npy = root.join("pose").join(format!("{video}.npy"));
    if dir.is_dir() {
        Ok(PoseLocation::OpenPoseDir(dir))
    } else if pose.is_file() {
        Ok(PoseLocation::PoseFile(pose))
    } else if npy.is_file() {
        Ok(PoseLocation::Npy(npy))
    } else {
        Err(DataError::Missing {
            what: format!("pose of video `{video}`"),
            tried: vec![dir, pose, npy],
        })
    }
}

/// The feature file of `video`: `features/<video>.npy`.
pub fn features_path(root: &Path, video: &str) -> PathBuf {
    root.join("features").join(format!("{video}.npy"))
}

/// Reads a located pose and maps it to the SEDS joints (frame geometry from `g` for files
/// that do not carry their own).
pub fn read_pose(loc: &PoseLocation, g: &FrameGeometry) -> Result<RawPose, DataError> {
    match loc {
        PoseLocation::OpenPoseDir(dir) => {
            let seq = seds_formats::read_openpose_dir(dir).map_err(fmt_err)?;
            Ok(seds_formats::openpose_to_seds(
                &seq,
                g.fps,
                g.openpose.0,
                g.openpose.1,
            ))
        }
        PoseLocation::PoseFile(p) => {
            let pf = PoseFile::read(p).map_err(fmt_err)?;
            seds_formats::pose_to_seds(&pf, 0, &p.display().to_string()).map_err(fmt_err)
        }
        PoseLocation::Npy(p) => {
            let arr = seds_formats::npy::read_wholebody_keypoints(p).map_err(fmt_err)?;
            seds_formats::wholebody_to_seds(
                &arr,
                g.fps,
                g.array.0,
                g.array.1,
                &p.display().to_string(),
            )
            .map_err(fmt_err)
        }
    }
}

/// The frames of a [`RawPose`] as [`RawFrame`]s.
pub fn raw_pose_frames(p: &RawPose) -> Vec<RawFrame> {
    p.joints
        .chunks_exact(NUM_JOINTS)
        .map(|c| {
            let mut f = [[0f32; 3]; NUM_JOINTS];
            f.copy_from_slice(c);
            f
        })
        .collect()
}

/// The outcome of processing one video: the preprocessed pose (when readable), the RGB
/// features (when readable), and every problem found.
#[derive(Debug, Default)]
pub struct VideoOutcome {
    /// Preprocessed pose.
    pub pose: Option<Preprocessed>,
    /// RGB features `[n][rgb_dim]` and n.
    pub rgb: Option<(usize, Vec<f32>)>,
    /// Problems (several when independent: e.g. missing pose and missing features).
    pub problems: Vec<(ProblemKind, DataError)>,
}

/// Reads and preprocesses one video's pose and features and checks that their clip counts
/// agree. Never stops early: independent problems are all reported.
pub fn process_video(
    root: &Path,
    g: &FrameGeometry,
    video: &str,
    cfg: &DataConfig,
) -> VideoOutcome {
    let mut out = VideoOutcome::default();
    match locate_pose(root, video) {
        Err(e) => out.problems.push((ProblemKind::MissingPose, e)),
        Ok(loc) => match read_pose(&loc, g) {
            Err(e) => out.problems.push((ProblemKind::UnreadablePose, e)),
            Ok(raw) => {
                let frames = raw_pose_frames(&raw);
                match preprocess(&frames, raw.width, raw.height, cfg) {
                    Ok(p) => out.pose = Some(p),
                    Err(DataError::NoFrames { total }) => out.problems.push((
                        ProblemKind::EmptyHands,
                        DataError::Format(format!(
                            "{}: no frame of {total} has a detectable hand",
                            loc.path().display()
                        )),
                    )),
                    Err(e) => out.problems.push((
                        ProblemKind::UnreadablePose,
                        DataError::Format(format!("{}: {e}", loc.path().display())),
                    )),
                }
            }
        },
    }
    let fpath = features_path(root, video);
    if !fpath.is_file() {
        out.problems.push((
            ProblemKind::MissingFeatures,
            DataError::Missing {
                what: format!("RGB features of video `{video}`"),
                tried: vec![fpath.clone()],
            },
        ));
    } else {
        match seds_formats::read_npy(&fpath) {
            Err(e) => out
                .problems
                .push((ProblemKind::UnreadableFeatures, fmt_err(e))),
            Ok(a) if a.shape.len() != 2 || a.shape[1] != cfg.rgb_dim => out.problems.push((
                ProblemKind::UnreadableFeatures,
                DataError::Features {
                    path: fpath.clone(),
                    detail: format!(
                        "expected shape (n, {}) (data.rgb_dim), found {:?}",
                        cfg.rgb_dim, a.shape
                    ),
                },
            )),
            Ok(a) => out.rgb = Some((a.shape[0], a.data)),
        }
    }
    if let (Some(p), Some((n, _))) = (&out.pose, &out.rgb) {
        if p.clip_starts.len() != *n {
            out.problems.push((
                ProblemKind::CountMismatch,
                DataError::Features {
                    path: fpath,
                    detail: format!(
                        "{n} feature rows but the pose gives {} clips (window {}, stride {}, max {}); features must be computed on the same windows",
                        p.clip_starts.len(),
                        cfg.clip_window,
                        cfg.clip_stride,
                        cfg.max_clips
                    ),
                },
            ));
        }
    }
    out
}

/// Groups entries into sentences (first appearance order; a sentence's text and glosses
/// are those of its first video) and builds the split. Pure.
pub fn build_split(name: &str, entries: &[Entry], videos: Vec<Video>) -> Split {
    let mut sentence_of: BTreeMap<&str, usize> = BTreeMap::new();
    let mut sentences = Vec::new();
    let mut out_videos = Vec::with_capacity(videos.len());
    for (e, mut v) in entries.iter().zip(videos) {
        let si = *sentence_of
            .entry(e.sentence_id.as_str())
            .or_insert_with(|| {
                sentences.push(Sentence {
                    id: e.sentence_id.clone(),
                    text: e.text.clone(),
                    glosses: e.glosses.clone(),
                });
                sentences.len() - 1
            });
        v.sentence = si;
        out_videos.push(v);
    }
    Split {
        name: name.to_string(),
        sentences,
        videos: out_videos,
    }
}

/// Turns a clean [`VideoOutcome`] into a [`Video`] (values rounded to f16, as the cache
/// stores them), or the first problem as an error naming the video.
fn outcome_to_video(split: &str, e: &Entry, o: VideoOutcome) -> Result<Video, DataError> {
    let wrap = |source: DataError| DataError::Video {
        split: split.to_string(),
        video: e.video.clone(),
        source: Box::new(source),
    };
    if let Some((_, err)) = o.problems.into_iter().next() {
        return Err(wrap(err));
    }
    let (Some(p), Some((_, mut rgb))) = (o.pose, o.rgb) else {
        return Err(wrap(DataError::Config("pose or features missing".into())));
    };
    let mut pose = p.pose;
    round_slice_f16(&mut pose);
    round_slice_f16(&mut rgb);
    Ok(Video {
        id: e.video.clone(),
        sentence: 0,
        signer: e.signer,
        frames: p.frames,
        pose,
        clip_starts: p.clip_starts,
        rgb,
    })
}

/// Loads a real dataset from its directory, without the cache. Stops at the first problem
/// with an error naming the split and video (run `seds-lab data check` to list them all).
pub fn load_real_uncached(cfg: &DataConfig) -> Result<Dataset, DataError> {
    let idx = index(cfg)?;
    if let Some(p) = idx.problems.into_iter().next() {
        return Err(match (p.split, p.video) {
            (Some(split), Some(video)) => DataError::Video {
                split,
                video,
                source: Box::new(p.error),
            },
            _ => p.error,
        });
    }
    let mut splits = Vec::with_capacity(3);
    for (si, name) in SPLIT_NAMES.iter().enumerate() {
        let entries = &idx.splits[si];
        let mut videos = Vec::with_capacity(entries.len());
        for e in entries {
            let o = process_video(&idx.root, &idx.geometry, &e.video, cfg);
            videos.push(outcome_to_video(name, e, o)?);
        }
        splits.push(build_split(name, entries, videos));
    }
    let mut it = splits.into_iter();
    let root_name = idx
        .root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Dataset {
        name: format!("{}-{root_name}", source_name(cfg.source)),
        train: it.next().unwrap_or_default(),
        dev: it.next().unwrap_or_default(),
        test: it.next().unwrap_or_default(),
        rgb_dim: cfg.rgb_dim,
        clip_window: cfg.clip_window,
        fps: idx.geometry.fps,
    })
}

/// The raw (unpreprocessed) frames of one video of a real dataset, for drawing.
pub fn real_raw_frames(
    cfg: &DataConfig,
    split: &str,
    video_id: &str,
) -> Result<RawVideo, DataError> {
    let idx = index(cfg)?;
    let unknown = || DataError::UnknownVideo {
        split: split.to_string(),
        id: video_id.to_string(),
    };
    let si = SPLIT_NAMES
        .iter()
        .position(|s| *s == split || (split == "val" && *s == "dev"))
        .ok_or_else(unknown)?;
    if !idx.splits[si].iter().any(|e| e.video == video_id) {
        return Err(unknown());
    }
    let loc = locate_pose(&idx.root, video_id)?;
    let raw = read_pose(&loc, &idx.geometry)?;
    Ok(RawVideo {
        width: raw.width.max(0.0).round() as u32,
        height: raw.height.max(0.0).round() as u32,
        fps: raw.fps,
        frames: raw_pose_frames(&raw),
    })
}
