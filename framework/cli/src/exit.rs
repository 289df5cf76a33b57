//! Exit codes of the seds-lab binary and the error type that maps onto them.
//!
//! The codes are stable and documented in the README; scripts may rely on them.

use std::fmt;
use std::process::ExitCode;

/// Documented exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// Everything requested succeeded.
    Ok = 0,
    /// Any error not covered below.
    Other = 1,
    /// Invalid experiment configuration.
    InvalidConfig = 3,
    /// At least one cell failed (or was killed by a signal).
    CellsFailed = 4,
    /// Interrupted by Ctrl-C / SIGTERM.
    Interrupted = 5,
    /// The run database could not be opened, migrated or queried.
    Database = 6,
    /// A dataset could not be generated, read or validated.
    Data = 7,
}

impl From<Code> for ExitCode {
    fn from(c: Code) -> ExitCode {
        ExitCode::from(c as u8)
    }
}

/// An error with the exit code it maps to.
#[derive(Debug)]
pub struct CliError {
    /// The exit code.
    pub code: Code,
    /// The message (may span several lines, e.g. every config error).
    pub message: String,
}

impl CliError {
    /// An error with an explicit code.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        CliError {
            code,
            message: message.into(),
        }
    }
    /// A database error.
    pub fn db(e: impl fmt::Display) -> Self {
        Self::new(Code::Database, format!("run database: {e}"))
    }
    /// A data error.
    pub fn data(e: impl fmt::Display) -> Self {
        Self::new(Code::Data, e.to_string())
    }
    /// Any other error.
    pub fn other(e: impl fmt::Display) -> Self {
        Self::new(Code::Other, e.to_string())
    }
    /// The exit code.
    pub fn exit_code(&self) -> Code {
        self.code
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<seds_config::ConfigErrors> for CliError {
    fn from(e: seds_config::ConfigErrors) -> Self {
        let n = e.len();
        CliError::new(
            Code::InvalidConfig,
            format!(
                "invalid configuration ({n} error{}):\n{e}",
                if n == 1 { "" } else { "s" }
            ),
        )
    }
}

impl From<seds_store::StoreError> for CliError {
    fn from(e: seds_store::StoreError) -> Self {
        CliError::db(e)
    }
}

/// Result of a command: the exit code to return on success paths too.
pub type CmdResult = Result<Code, CliError>;
