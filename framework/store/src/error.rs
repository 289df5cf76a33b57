//! The crate's error type: every failure names the database, run, key or column involved.

use crate::where_expr::WhereError;

/// Everything that can go wrong in the run database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL could not be understood.
    #[error("invalid database URL '{url}': {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A worker or read-only open found no database file.
    #[error("database '{path}' does not exist; create it first with a coordinating command (e.g. `seds-lab run`), or check --db / SEDS_LAB_DB")]
    Missing {
        /// Path of the missing file.
        path: String,
    },
    /// The database was written by a newer seds-lab (schema version above what this binary knows).
    #[error("database '{path}' has schema version {found}, but this seds-lab binary only knows versions up to {supported}: it was written by a newer seds-lab; upgrade the binary (refusing to open it)")]
    SchemaTooNew {
        /// Path of the database.
        path: String,
        /// Version found in the database.
        found: i64,
        /// Newest version this binary supports.
        supported: i64,
    },
    /// The database has an older schema and this open mode may not migrate it.
    #[error("database '{path}' has schema version {found}, this binary needs {expected}; run a coordinating command (e.g. `seds-lab run`) once to migrate it")]
    SchemaTooOld {
        /// Path of the database.
        path: String,
        /// Version found in the database.
        found: i64,
        /// Version this binary expects.
        expected: i64,
    },
    /// A migration failed to apply.
    #[error("migration {version} ({name}) failed on '{path}': {source}")]
    Migration {
        /// Path of the database.
        path: String,
        /// Version of the failing migration.
        version: i64,
        /// Its name.
        name: String,
        /// The underlying error.
        #[source]
        source: sqlx::Error,
    },
    /// A write was attempted through the read-only query path.
    #[error("the query command is read-only: {detail}")]
    ReadOnlyQuery {
        /// SQLite's own message.
        detail: String,
    },
    /// A referenced run does not exist.
    #[error("run {0} does not exist")]
    NoSuchRun(i64),
    /// A referenced experiment does not exist.
    #[error("experiment '{0}' does not exist")]
    NoSuchExperiment(String),
    /// A state change that the run state machine forbids.
    #[error("run {run_id}: cannot go from {from} to {to}")]
    InvalidTransition {
        /// The run.
        run_id: i64,
        /// Its current (stored) status.
        from: String,
        /// The requested status.
        to: String,
    },
    /// A status string in the database or from the user that is not a known status.
    #[error(
        "unknown run status '{0}' (expected PLANNED, RUNNING, COMPLETED, FAILED, KILLED or STALE)"
    )]
    BadStatus(String),
    /// A stored parameter row that cannot be decoded.
    #[error("run {run_id}, param '{key}': {reason}")]
    BadParam {
        /// The run.
        run_id: i64,
        /// The parameter key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A `--where` expression that does not parse or names nothing.
    #[error(transparent)]
    Where(#[from] WhereError),
    /// Any other database error, with the operation that failed.
    #[error("{op}: {source}")]
    Db {
        /// What the store was doing.
        op: String,
        /// The underlying error.
        #[source]
        source: sqlx::Error,
    },
    /// A query result column that cannot be shown.
    #[error("column '{column}': {reason}")]
    Decode {
        /// The column name.
        column: String,
        /// What is wrong.
        reason: String,
    },
    /// A file-system error (e.g. hashing an artifact).
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Adds the name of the failing operation to a sqlx error.
pub(crate) trait DbContext<T> {
    /// Wraps the error as [`StoreError::Db`] with `op` as context.
    fn ctx(self, op: &str) -> Result<T, StoreError>;
}

impl<T> DbContext<T> for Result<T, sqlx::Error> {
    fn ctx(self, op: &str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Db {
            op: op.to_string(),
            source,
        })
    }
}
