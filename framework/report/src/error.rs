//! The crate's error type: every variant names the file, chart or input item at fault.

use std::path::PathBuf;

/// Everything that can go wrong while writing a report or a figure.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file or directory could not be created or written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The path being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// plotters failed while drawing a chart.
    #[error("drawing chart '{chart}' failed: {message}")]
    Draw {
        /// The chart's file stem.
        chart: String,
        /// plotters' message.
        message: String,
    },
    /// The embedded font could not be registered.
    #[error("cannot register the embedded font: {0}")]
    Font(String),
    /// The input is inconsistent (wrong shape, bad index).
    #[error("invalid report input at {location}: {message}")]
    InvalidInput {
        /// Where in the input, e.g. `extras.similarity.values[3]`.
        location: String,
        /// What is wrong.
        message: String,
    },
}

impl ReportError {
    /// An [`ReportError::InvalidInput`] from anything printable.
    pub(crate) fn invalid(location: impl Into<String>, message: impl Into<String>) -> Self {
        ReportError::InvalidInput {
            location: location.into(),
            message: message.into(),
        }
    }

    /// An [`ReportError::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ReportError::Io {
            path: path.into(),
            source,
        }
    }
}
