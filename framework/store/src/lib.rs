//! seds-store: the seds-lab run database (experiments, runs, typed params, append-only
//! metrics, artifacts) on SQLite (one machine) or PostgreSQL (a cluster) through sqlx.
//!
//! # Design
//! - **One handle, hidden backend.** Callers use [`Store`] (async, `Clone`) and never see
//!   sqlx types. The URL picks a [`Dialect`]: `sqlite://PATH` (or a plain path) or
//!   `postgres://USER:PASS@HOST:PORT/DB`. The SQL in `store.rs` is written once and sticks to
//!   what both engines share (`ON CONFLICT .. DO UPDATE .. WHERE`, `RETURNING`, `?` binds that
//!   `backend.rs` rewrites to `$n` for PostgreSQL); each method body is expanded per backend
//!   so both are type-checked against their own driver. Same schema, same behaviour; the
//!   integration tests run every test body on both.
//! - **SQLite discipline.** WAL (set once by the coordinator), `synchronous=NORMAL`, a
//!   60 s busy timeout, `BEGIN IMMEDIATE` for every read-then-write transaction (no
//!   "database is locked" from lock upgrades), multi-row batched metric inserts, and
//!   read-only connections (`SQLITE_OPEN_READONLY` + `PRAGMA query_only`) for queries.
//! - **PostgreSQL discipline.** Small pools (workers 2 connections), `SELECT .. FOR UPDATE`
//!   of the run row where SQLite relies on `BEGIN IMMEDIATE`, read-only sessions plus a
//!   rolled-back `BEGIN READ ONLY` transaction per statement for the query command, and the
//!   password never shown (`***`).
//! - **Migrations** are embedded and forward-only ([`migrations`], one script per dialect);
//!   only [`OpenMode::Coordinator`] applies them, in one transaction holding the write lock
//!   (SQLite `BEGIN IMMEDIATE`, PostgreSQL advisory lock). Workers only check the version; a
//!   database whose schema is newer than the binary is refused ([`StoreError::SchemaTooNew`]).
//! - **Run state machine**: PLANNED -> RUNNING -> COMPLETED | FAILED | KILLED. STALE is
//!   derived at read time (RUNNING with a heartbeat older than [`DEFAULT_STALE_AFTER`]) and
//!   never written. Claims are one conditional `UPDATE`, so exactly one claimant wins.
//! - **Metrics** are keyed (run, name, split, step). Replays are idempotent: within one claim
//!   attempt the first write wins; a later attempt overwrites. `metric_finals` keeps each
//!   metric's final value (latest attempt, largest step) so listing 10k runs is cheap.
//! - **Timestamps** are UTC unix seconds as REAL / DOUBLE PRECISION.
//!
//! The schema is documented in `docs/schema.md`, cluster use in `docs/cluster.md`.

pub(crate) mod backend;
pub mod error;
pub mod export;
pub mod migrations;
pub mod provenance;
pub mod sink;
pub mod store;
pub mod types;
pub mod url;
pub mod where_expr;

pub use error::StoreError;
pub use export::{compare_summaries, runs_to_csv};
pub use provenance::{collect_provenance, sha256_file, sha256_hex, GIT_DIFF_CAP};
pub use sink::{SinkOptions, StoreSink};
pub use store::{now_unix, OpenMode, Store, DEFAULT_BUSY_TIMEOUT, DEFAULT_STALE_AFTER};
pub use types::{
    ArtifactRow, Comparison, ExperimentRow, MetricRow, MetricSummary, ParamValue, Provenance,
    QueryResult, RunDetail, RunFilter, RunRow, RunStatus, RunSummary,
};
pub use url::{
    dialect_of, parse_db_location, parse_db_url, redact_url, resolve_db_url, resolve_db_url_from,
    DbLocation, Dialect, DB_ENV, DEFAULT_DB_URL,
};
