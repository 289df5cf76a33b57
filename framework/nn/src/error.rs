//! Typed errors of seds-nn: every variant names the function and the offending argument.

/// Errors returned by seds-nn operations (bad shapes, lengths or options; never device OOM).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NnError {
    /// A lengths slice does not match the batch, or a length is out of range.
    #[error("{op}: bad lengths `{arg}`: {detail}")]
    Lengths {
        /// Operation that rejected the input.
        op: &'static str,
        /// Argument name.
        arg: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// Tensor shapes are inconsistent.
    #[error("{op}: bad shape: {detail}")]
    Shape {
        /// Operation that rejected the input.
        op: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// An option value is out of range (k = 0, tau <= 0, ...).
    #[error("{op}: bad option `{arg}`: {detail}")]
    Option {
        /// Operation that rejected the option.
        op: &'static str,
        /// Option name.
        arg: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// A value that must be finite is not (e.g. a NaN offset after a diverged step).
    #[error("{op}: non-finite value in {what}")]
    NonFinite {
        /// Operation that found it.
        op: &'static str,
        /// Which quantity.
        what: &'static str,
    },
}

impl NnError {
    pub(crate) fn lengths(op: &'static str, arg: &'static str, detail: impl Into<String>) -> Self {
        NnError::Lengths {
            op,
            arg,
            detail: detail.into(),
        }
    }
    pub(crate) fn shape(op: &'static str, detail: impl Into<String>) -> Self {
        NnError::Shape {
            op,
            detail: detail.into(),
        }
    }
    pub(crate) fn option(op: &'static str, arg: &'static str, detail: impl Into<String>) -> Self {
        NnError::Option {
            op,
            arg,
            detail: detail.into(),
        }
    }
}

/// Checks a lengths slice: `lens.len() == batch` and `min <= len <= tokens` for each.
pub(crate) fn check_lengths(
    op: &'static str,
    arg: &'static str,
    lens: &[usize],
    batch: usize,
    tokens: usize,
    min: usize,
) -> Result<(), NnError> {
    if lens.len() != batch {
        return Err(NnError::lengths(
            op,
            arg,
            format!("{} lengths for a batch of {batch}", lens.len()),
        ));
    }
    for (i, &l) in lens.iter().enumerate() {
        if l < min || l > tokens {
            return Err(NnError::lengths(
                op,
                arg,
                format!("item {i} has length {l}, expected {min}..={tokens}"),
            ));
        }
    }
    Ok(())
}
