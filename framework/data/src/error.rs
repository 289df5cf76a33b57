//! The typed error of the data crate: every variant names the file, line, key or item at fault.

use std::path::PathBuf;

/// Errors of data loading, generation, caching and preprocessing.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// An I/O operation on `path` failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// File or directory involved.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A caption TSV is malformed.
    #[error("{file}:{line}: {msg}")]
    Tsv {
        /// The TSV file.
        file: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        msg: String,
    },
    /// A cache file is corrupt, truncated or stale.
    #[error("cache {path} is unusable: {reason}")]
    Cache {
        /// The cache file.
        path: PathBuf,
        /// What is wrong (checksum mismatch, truncated at offset ..., version ...).
        reason: String,
    },
    /// The configuration cannot be served by this crate.
    #[error("data config: {0}")]
    Config(String),
    /// The requested data source has no reader yet.
    #[error("data source `{0}` is not implemented yet in seds-data")]
    NotImplemented(String),
    /// Preprocessing input is malformed (e.g. zero frame size).
    #[error("preprocess: {0}")]
    Preprocess(String),
    /// No frame survived the hand-presence filter.
    #[error("preprocess: no frame of {total} has a detectable hand")]
    NoFrames {
        /// Number of input frames (after subsampling).
        total: usize,
    },
    /// A video id is not part of the named split.
    #[error("video `{id}` not found in split `{split}`")]
    UnknownVideo {
        /// Split name.
        split: String,
        /// Requested video id.
        id: String,
    },
    /// A real-dataset file could not be read; the message comes from the seds-formats reader
    /// and names the file and the line or byte offset.
    #[error("{0}")]
    Format(String),
    /// A file a real dataset needs does not exist.
    #[error("{what} not found; looked for {}", tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    Missing {
        /// What was looked for (e.g. `pose of video X`).
        what: String,
        /// Every path tried, in lookup order.
        tried: Vec<PathBuf>,
    },
    /// The RGB feature file of a video does not match its pose clips.
    #[error("{path}: {detail}")]
    Features {
        /// The feature file.
        path: PathBuf,
        /// What does not match (clip count or feature width, both values given).
        detail: String,
    },
    /// A problem of one video of a real dataset (wraps the underlying error).
    #[error("video `{video}` ({split}): {source}")]
    Video {
        /// Split name.
        split: String,
        /// Video id.
        video: String,
        /// What went wrong.
        #[source]
        source: Box<DataError>,
    },
    /// A JSON manifest could not be (de)serialised.
    #[error("manifest {path}: {source}")]
    Json {
        /// The manifest file.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: serde_json::Error,
    },
}

impl DataError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }
}
