//! The [`Store`]: opening (with migrations and version checks) and every read and write of the
//! run database, on SQLite or PostgreSQL. All SQL lives here and is written once: it sticks to
//! the SQL both engines share (`ON CONFLICT ... DO UPDATE ... WHERE`, `RETURNING`, `?` binds
//! that [`crate::backend`] rewrites to `$n` for PostgreSQL). Each method body is expanded once
//! per backend by the `on_pool!` macro, so both are type-checked against their own driver.
//! Dialect differences are confined to: connection set-up, the schema-version probe, the
//! write-transaction start (`BEGIN IMMEDIATE` vs `BEGIN` + row locks), the migration lock and
//! the read-only query path.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::AssertSqlSafe;

use seds_core::MetricRecord;

use crate::backend::{pg_json, sqlite_json, to_dollar, RowGet};
use crate::error::{DbContext, StoreError};
use crate::export::compare_summaries;
use crate::migrations::{self, VersionCheck};
use crate::types::*;
use crate::url::{parse_db_location, DbLocation, Dialect};
use crate::where_expr::{self, EvalRow, Value};

/// How a process opens the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// The coordinating process: creates the file (WAL) and applies migrations.
    Coordinator,
    /// A worker: the database must exist at exactly this binary's schema version.
    Worker,
    /// Queries and reports: read-only connections; the schema must match.
    ReadOnly,
}

/// Default age after which a RUNNING run's heartbeat makes it STALE.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(120);
/// Default SQLite busy timeout (how long a writer waits for the lock).
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(60);
/// Rows per multi-row INSERT statement (8 binds each, well under both engines' bind limits).
const INSERT_CHUNK: usize = 500;
/// PostgreSQL error code of a write inside a read-only transaction.
const PG_READ_ONLY_SQL_TRANSACTION: &str = "25006";

/// Current time as UTC unix seconds.
pub fn now_unix() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The connection pools of one backend.
#[derive(Clone, Debug)]
enum Backend {
    Sqlite {
        pool: SqlitePool,
        ro: Arc<tokio::sync::OnceCell<SqlitePool>>,
    },
    Postgres {
        pool: PgPool,
        ro: Arc<tokio::sync::OnceCell<PgPool>>,
        opts: PgConnectOptions,
    },
}

/// Expands `$body` once per backend with `$pool` bound to that backend's main pool.
macro_rules! on_pool {
    ($self:expr, $pool:ident => $body:expr) => {
        match &$self.backend {
            Backend::Sqlite { pool: $pool, .. } => $body,
            Backend::Postgres { pool: $pool, .. } => $body,
        }
    };
}

/// Handle on the run database. Cheap to clone (shares the connection pools).
///
/// The backend is hidden: callers only see async methods with the same semantics on SQLite
/// and PostgreSQL; the URL picks the [`Dialect`].
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
    path: PathBuf,
    mode: OpenMode,
    dialect: Dialect,
    stale_after_s: f64,
    busy_timeout: Duration,
}

const RUN_COLS: &str =
    "r.id, r.experiment_id, r.cell, r.config_hash, r.config_json, r.seed, r.status, \
    r.attempt, r.created_at, r.started_at, r.heartbeat_at, r.finished_at, r.message, r.run_dir, \
    r.git_commit, r.git_dirty, r.git_diff, r.version, r.cargo_lock_sha256, r.host, r.cpu_model, \
    r.cores, r.memory_bytes, r.gpu, r.pid, r.slurm_job";

fn sql(s: String) -> AssertSqlSafe<String> {
    AssertSqlSafe(s)
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// `SELECT {cols} FROM {table} x JOIN runs r .. JOIN experiments e .. {where_sql}`: the
/// detail rows (params, final metrics; aliased `x`) of the runs `list_runs` selects with
/// `where_sql`, bound with the same filter values.
fn run_details_sql(cols: &str, table: &str, where_sql: &str) -> String {
    format!(
        "SELECT {cols} FROM {table} x JOIN runs r ON r.id = x.run_id \
         JOIN experiments e ON e.id = r.experiment_id {where_sql}"
    )
}

/// The detail row's `run_id` and its summary's position in `index`; `None` for a run that
/// was dropped after the SQL (status filter).
fn summary_slot<R: RowGet>(
    row: &R,
    index: &BTreeMap<i64, usize>,
    op: &str,
) -> Result<Option<(i64, usize)>, StoreError> {
    let run_id = row.i64_("run_id").ctx(op)?;
    Ok(index.get(&run_id).map(|&i| (run_id, i)))
}

/// Binds the values of a [`RunFilter`]'s SQL conditions (experiment name, then run ids).
macro_rules! bind_filter {
    ($q:expr, $filter:expr) => {{
        let mut q = $q;
        if let Some(name) = &$filter.experiment {
            q = q.bind(name.clone());
        }
        for id in &$filter.run_ids {
            q = q.bind(*id);
        }
        q
    }};
}

impl Store {
    /// Opens the database at `url` (see [`crate::resolve_db_url`]) in the given mode.
    pub async fn open(url: &str, mode: OpenMode) -> Result<Store, StoreError> {
        Self::open_with(url, mode, DEFAULT_BUSY_TIMEOUT).await
    }

    /// Like [`Store::open`] with an explicit busy timeout (SQLite lock wait; for PostgreSQL
    /// the pool's connection-acquire timeout).
    pub async fn open_with(
        url: &str,
        mode: OpenMode,
        busy_timeout: Duration,
    ) -> Result<Store, StoreError> {
        let (backend, path, dialect) = match parse_db_location(url)? {
            DbLocation::Sqlite(path) => {
                let pool = Self::connect_sqlite(&path, mode, busy_timeout).await?;
                let ro = Arc::new(tokio::sync::OnceCell::new());
                if mode == OpenMode::ReadOnly {
                    let _ = ro.set(pool.clone());
                }
                (Backend::Sqlite { pool, ro }, path, Dialect::Sqlite)
            }
            DbLocation::Postgres { url, display } => {
                let opts = PgConnectOptions::from_str(&url)
                    .map_err(|e| StoreError::BadUrl {
                        url: display.clone(),
                        reason: e.to_string(),
                    })?
                    .application_name("seds-lab");
                let ro = Arc::new(tokio::sync::OnceCell::new());
                let pool = if mode == OpenMode::ReadOnly {
                    let p = Self::connect_pg_ro(&opts, &display, busy_timeout).await?;
                    let _ = ro.set(p.clone());
                    p
                } else {
                    // Workers keep few connections: a Slurm array can start many of them.
                    let max = if mode == OpenMode::Coordinator { 4 } else { 2 };
                    PgPoolOptions::new()
                        .max_connections(max)
                        .min_connections(0)
                        .acquire_timeout(busy_timeout)
                        .idle_timeout(Duration::from_secs(60))
                        .connect_with(opts.clone())
                        .await
                        .map_err(|e| pg_connect_error(e, &display))?
                };
                (
                    Backend::Postgres { pool, ro, opts },
                    PathBuf::from(display),
                    Dialect::Postgres,
                )
            }
        };
        let store = Store {
            backend,
            path,
            mode,
            dialect,
            stale_after_s: DEFAULT_STALE_AFTER.as_secs_f64(),
            busy_timeout,
        };
        match mode {
            OpenMode::Coordinator => store.migrate().await?,
            _ => store.check_schema().await?,
        }
        Ok(store)
    }

    async fn connect_sqlite(
        path: &PathBuf,
        mode: OpenMode,
        busy_timeout: Duration,
    ) -> Result<SqlitePool, StoreError> {
        let path_s = path.display().to_string();
        if mode == OpenMode::Coordinator {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|source| StoreError::Io {
                    path: parent.display().to_string(),
                    source,
                })?;
            }
        } else if !path.exists() {
            return Err(StoreError::Missing { path: path_s });
        }
        if mode == OpenMode::ReadOnly {
            return Self::connect_sqlite_ro(path, busy_timeout).await;
        }
        let mut opts = SqliteConnectOptions::new()
            .filename(path)
            .busy_timeout(busy_timeout)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true);
        if mode == OpenMode::Coordinator {
            opts = opts
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal);
        }
        // Switching a new file to WAL needs an exclusive lock, and SQLite reports SQLITE_BUSY
        // for it at once instead of waiting out the busy timeout: when several coordinators
        // create the same database at the same moment, retry for up to the busy timeout.
        let deadline = std::time::Instant::now() + busy_timeout;
        loop {
            let attempt = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(opts.clone())
                .await;
            match attempt {
                Err(e) if is_sqlite_busy(&e) && std::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                other => return other.ctx(&format!("opening database '{path_s}'")),
            }
        }
    }

    async fn connect_sqlite_ro(
        path: &PathBuf,
        busy_timeout: Duration,
    ) -> Result<SqlitePool, StoreError> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .busy_timeout(busy_timeout)
            .pragma("query_only", "ON");
        SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(opts)
            .await
            .ctx(&format!("opening '{}' read-only", path.display()))
    }

    /// A PostgreSQL pool whose sessions default to read-only transactions.
    async fn connect_pg_ro(
        opts: &PgConnectOptions,
        display: &str,
        busy_timeout: Duration,
    ) -> Result<PgPool, StoreError> {
        PgPoolOptions::new()
            .max_connections(2)
            .min_connections(0)
            .acquire_timeout(busy_timeout)
            .idle_timeout(Duration::from_secs(60))
            .connect_with(
                opts.clone()
                    .options([("default_transaction_read_only", "on")]),
            )
            .await
            .map_err(|e| pg_connect_error(e, display))
    }

    /// Sets the heartbeat age after which a RUNNING run counts as STALE.
    pub fn with_stale_after(mut self, d: Duration) -> Store {
        self.stale_after_s = d.as_secs_f64();
        self
    }

    /// The stale threshold in seconds.
    pub fn stale_after_s(&self) -> f64 {
        self.stale_after_s
    }

    /// Location of the database: the SQLite file, or the PostgreSQL URL without its password.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The open mode.
    pub fn mode(&self) -> OpenMode {
        self.mode
    }

    /// The backend dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Closes the pools (waits for connections to finish).
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite { pool, ro } => {
                pool.close().await;
                if let Some(ro) = ro.get() {
                    ro.close().await;
                }
            }
            Backend::Postgres { pool, ro, .. } => {
                pool.close().await;
                if let Some(ro) = ro.get() {
                    ro.close().await;
                }
            }
        }
    }

    fn path_s(&self) -> String {
        self.path.display().to_string()
    }

    /// The statement text for this backend (`?` -> `$n` on PostgreSQL).
    fn q(&self, s: &str) -> AssertSqlSafe<String> {
        match self.dialect {
            Dialect::Sqlite => AssertSqlSafe(s.to_string()),
            Dialect::Postgres => AssertSqlSafe(to_dollar(s)),
        }
    }

    /// Start of a read-then-write transaction: SQLite takes the write lock at once
    /// (`BEGIN IMMEDIATE`); PostgreSQL locks the rows it reads (see [`Store::for_update`]).
    fn begin_write(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::Postgres => "BEGIN",
        }
    }

    /// Row-lock suffix for a SELECT inside a write transaction (empty on SQLite, whose
    /// `BEGIN IMMEDIATE` already serialises writers).
    fn for_update(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// The schema version found, or `None` for PostgreSQL when the database has no seds-lab
    /// tables at all (an empty database).
    async fn probe_version(&self) -> Result<Option<i64>, StoreError> {
        let op = "reading the schema version";
        match &self.backend {
            Backend::Sqlite { pool, .. } => {
                let has_table: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
                )
                .fetch_one(pool)
                .await
                .ctx(op)?;
                let mut found = 0;
                if has_table > 0 {
                    found = sqlx::query_scalar::<_, Option<i64>>(
                        "SELECT MAX(version) FROM schema_migrations",
                    )
                    .fetch_one(pool)
                    .await
                    .ctx(op)?
                    .unwrap_or(0);
                }
                let user_version: i64 = sqlx::query_scalar("PRAGMA user_version")
                    .fetch_one(pool)
                    .await
                    .ctx("reading PRAGMA user_version")?;
                Ok(Some(found.max(user_version)))
            }
            Backend::Postgres { pool, .. } => {
                let has_table: bool =
                    sqlx::query_scalar("SELECT to_regclass('schema_migrations') IS NOT NULL")
                        .fetch_one(pool)
                        .await
                        .ctx(op)?;
                if !has_table {
                    return Ok(None);
                }
                let found = sqlx::query_scalar::<_, Option<i64>>(
                    "SELECT MAX(version) FROM schema_migrations",
                )
                .fetch_one(pool)
                .await
                .ctx(op)?
                .unwrap_or(0);
                Ok(Some(found))
            }
        }
    }

    async fn found_version(&self) -> Result<i64, StoreError> {
        Ok(self.probe_version().await?.unwrap_or(0))
    }

    async fn check_schema(&self) -> Result<(), StoreError> {
        let Some(found) = self.probe_version().await? else {
            // An empty PostgreSQL database: like a missing SQLite file.
            return Err(StoreError::Missing {
                path: self.path_s(),
            });
        };
        match migrations::check_version(found) {
            VersionCheck::Current => Ok(()),
            VersionCheck::TooNew => Err(StoreError::SchemaTooNew {
                path: self.path_s(),
                found,
                supported: migrations::latest_version(),
            }),
            VersionCheck::NeedsMigration(_) => Err(StoreError::SchemaTooOld {
                path: self.path_s(),
                found,
                expected: migrations::latest_version(),
            }),
        }
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        // Cheap check first so a newer database is refused before taking the write lock.
        let found = self.found_version().await?;
        if migrations::check_version(found) == VersionCheck::Current {
            return Ok(());
        }
        if migrations::check_version(found) == VersionCheck::TooNew {
            return Err(StoreError::SchemaTooNew {
                path: self.path_s(),
                found,
                supported: migrations::latest_version(),
            });
        }
        let pg = self.dialect == Dialect::Postgres;
        on_pool!(self, pool => {
            let mut tx = pool
                .begin_with(self.begin_write())
                .await
                .ctx("starting the migration transaction")?;
            if pg {
                // Serialises coordinators on this database until commit (DDL is transactional).
                sqlx::query(self.q("SELECT pg_advisory_xact_lock(?)"))
                    .bind(migrations::PG_MIGRATION_LOCK)
                    .execute(&mut *tx)
                    .await
                    .ctx("taking the migration lock")?;
            }
            let create = if pg {
                migrations::CREATE_MIGRATIONS_TABLE_PG
            } else {
                migrations::CREATE_MIGRATIONS_TABLE
            };
            sqlx::query(create)
                .execute(&mut *tx)
                .await
                .ctx("creating schema_migrations")?;
            // Re-read under the lock: another coordinator may have migrated meanwhile.
            let found: i64 =
                sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(version) FROM schema_migrations")
                    .fetch_one(&mut *tx)
                    .await
                    .ctx("reading the schema version")?
                    .unwrap_or(0);
            match migrations::check_version(found) {
                VersionCheck::Current => {}
                VersionCheck::TooNew => {
                    return Err(StoreError::SchemaTooNew {
                        path: self.path_s(),
                        found,
                        supported: migrations::latest_version(),
                    })
                }
                VersionCheck::NeedsMigration(versions) => {
                    for m in migrations::MIGRATIONS
                        .iter()
                        .filter(|m| versions.contains(&m.version))
                    {
                        let wrap = |source| StoreError::Migration {
                            path: self.path_s(),
                            version: m.version,
                            name: m.name.to_string(),
                            source,
                        };
                        let script = if pg { m.sql_postgres } else { m.sql };
                        sqlx::raw_sql(script).execute(&mut *tx).await.map_err(wrap)?;
                        sqlx::query(self.q(
                            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                        ))
                        .bind(m.version)
                        .bind(m.name)
                        .bind(now_unix())
                        .execute(&mut *tx)
                        .await
                        .map_err(wrap)?;
                    }
                    if !pg {
                        sqlx::query(sql(format!(
                            "PRAGMA user_version = {}",
                            migrations::latest_version()
                        )))
                        .execute(&mut *tx)
                        .await
                        .ctx("setting PRAGMA user_version")?;
                    }
                }
            }
            tx.commit().await.ctx("committing migrations")?;
            Ok(())
        })
    }

    /// The schema version recorded in the database.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        self.found_version().await
    }

    // ----------------------------------------------------------------- experiments

    /// Inserts or updates an experiment by name (file and content refreshed); returns its id.
    pub async fn upsert_experiment(
        &self,
        name: &str,
        file: &str,
        content: &str,
    ) -> Result<i64, StoreError> {
        let now = now_unix();
        let sha = crate::provenance::sha256_hex(content.as_bytes());
        on_pool!(self, pool => sqlx::query_scalar(self.q(
            "INSERT INTO experiments (name, file, content, content_sha256, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET file = excluded.file, content = excluded.content, \
             content_sha256 = excluded.content_sha256, updated_at = excluded.updated_at \
             RETURNING id",
        ))
        .bind(name)
        .bind(file)
        .bind(content)
        .bind(&sha)
        .bind(now)
        .bind(now)
        .fetch_one(pool)
        .await
        .ctx(&format!("saving experiment '{name}'")))
    }

    /// Looks an experiment up by name.
    pub async fn experiment_by_name(
        &self,
        name: &str,
    ) -> Result<Option<ExperimentRow>, StoreError> {
        on_pool!(self, pool => {
            let row = sqlx::query(self.q("SELECT * FROM experiments WHERE name = ?"))
                .bind(name)
                .fetch_optional(pool)
                .await
                .ctx(&format!("reading experiment '{name}'"))?;
            row.map(|r| experiment_from_row(&r)).transpose()
        })
    }

    /// All experiments, by id.
    pub async fn list_experiments(&self) -> Result<Vec<ExperimentRow>, StoreError> {
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT * FROM experiments ORDER BY id")
                .fetch_all(pool)
                .await
                .ctx("listing experiments")?;
            rows.iter().map(experiment_from_row).collect()
        })
    }

    // ----------------------------------------------------------------- runs

    /// Inserts a PLANNED run for (experiment, config hash) with its params unless one exists;
    /// returns the (new or existing) run.
    pub async fn ensure_run(
        &self,
        experiment_id: i64,
        cell: &str,
        hash: &str,
        config_json: &str,
        seed: i64,
        params: &[(String, ParamValue)],
    ) -> Result<RunRow, StoreError> {
        let op = format!("planning run '{cell}' ({hash})");
        on_pool!(self, pool => {
            let mut tx = pool.begin_with(self.begin_write()).await.ctx(&op)?;
            let inserted: Option<i64> = sqlx::query_scalar(self.q(
                "INSERT INTO runs (experiment_id, cell, config_hash, config_json, seed, status, created_at) \
                 VALUES (?, ?, ?, ?, ?, 'PLANNED', ?) \
                 ON CONFLICT (experiment_id, config_hash) DO NOTHING RETURNING id",
            ))
            .bind(experiment_id)
            .bind(cell)
            .bind(hash)
            .bind(config_json)
            .bind(seed)
            .bind(now_unix())
            .fetch_optional(&mut *tx)
            .await
            .ctx(&op)?;
            if let Some(run_id) = inserted {
                for chunk in params.chunks(INSERT_CHUNK) {
                    let q = format!(
                        "INSERT INTO params (run_id, key, value_type, value_text, value_num) VALUES {}",
                        vec!["(?, ?, ?, ?, ?)"; chunk.len()].join(", ")
                    );
                    let mut query = sqlx::query(self.q(&q));
                    for (k, v) in chunk {
                        query = query
                            .bind(run_id)
                            .bind(k.as_str())
                            .bind(v.type_name())
                            .bind(v.to_text())
                            .bind(v.to_num());
                    }
                    query.execute(&mut *tx).await.ctx(&op)?;
                }
            }
            let row = sqlx::query(self.q(&format!(
                "SELECT {RUN_COLS} FROM runs r WHERE r.experiment_id = ? AND r.config_hash = ?"
            )))
            .bind(experiment_id)
            .bind(hash)
            .fetch_one(&mut *tx)
            .await
            .ctx(&op)?;
            tx.commit().await.ctx(&op)?;
            run_from_row(&row, now_unix(), self.stale_after_s)
        })
    }

    /// The oldest COMPLETED run with this config hash in any experiment other than
    /// `except_experiment`: a run whose results another experiment can reuse.
    pub async fn completed_run_elsewhere(
        &self,
        hash: &str,
        except_experiment: i64,
    ) -> Result<Option<RunRow>, StoreError> {
        on_pool!(self, pool => {
            let row = sqlx::query(self.q(&format!(
                "SELECT {RUN_COLS} FROM runs r WHERE r.config_hash = ? AND r.status = 'COMPLETED' \
                 AND r.experiment_id <> ? ORDER BY r.id LIMIT 1"
            )))
            .bind(hash)
            .bind(except_experiment)
            .fetch_optional(pool)
            .await
            .ctx(&format!("looking up completed runs of config {hash}"))?;
            row.map(|r| run_from_row(&r, now_unix(), self.stale_after_s))
                .transpose()
        })
    }

    /// Records the results of COMPLETED run `source` as those of run `target`, which must be
    /// a never-started PLANNED run with the same config hash: status, timings, provenance and
    /// run directory are copied, and so are its metric history, final metrics and artifact
    /// rows; the message says where they came from. One transaction. Returns false (and
    /// changes nothing) when `target` has started meanwhile or `source` is not a completed
    /// run of the same configuration.
    pub async fn reuse_completed_run(&self, target: i64, source: i64) -> Result<bool, StoreError> {
        let op = format!("reusing run {source} for run {target}");
        let message = format!("reused: identical configuration already completed as run {source}");
        on_pool!(self, pool => {
            let mut tx = pool.begin_with(self.begin_write()).await.ctx(&op)?;
            let changed = sqlx::query(self.q(
                "UPDATE runs SET (status, attempt, started_at, heartbeat_at, finished_at, run_dir, \
                   git_commit, git_dirty, git_diff, version, cargo_lock_sha256, host, cpu_model, \
                   cores, memory_bytes, gpu, slurm_job) = \
                 (SELECT status, attempt, started_at, heartbeat_at, finished_at, run_dir, \
                   git_commit, git_dirty, git_diff, version, cargo_lock_sha256, host, cpu_model, \
                   cores, memory_bytes, gpu, slurm_job FROM runs s WHERE s.id = ?), message = ? \
                 WHERE id = ? AND status = 'PLANNED' AND attempt = 0 AND EXISTS \
                   (SELECT 1 FROM runs s WHERE s.id = ? AND s.status = 'COMPLETED' \
                    AND s.config_hash = runs.config_hash)",
            ))
            .bind(source)
            .bind(&message)
            .bind(target)
            .bind(source)
            .execute(&mut *tx)
            .await
            .ctx(&op)?
            .rows_affected();
            if changed != 1 {
                tx.rollback().await.ctx(&op)?;
                return Ok(false);
            }
            for q in [
                "INSERT INTO metrics (run_id, name, split, step, epoch, value, wall_time, attempt) \
                 SELECT ?, name, split, step, epoch, value, wall_time, attempt FROM metrics WHERE run_id = ?",
                "INSERT INTO metric_finals (run_id, name, split, step, epoch, value, attempt) \
                 SELECT ?, name, split, step, epoch, value, attempt FROM metric_finals WHERE run_id = ?",
                "INSERT INTO artifacts (run_id, kind, path, sha256, bytes, created_at) \
                 SELECT ?, kind, path, sha256, bytes, created_at FROM artifacts WHERE run_id = ?",
            ] {
                sqlx::query(self.q(q))
                    .bind(target)
                    .bind(source)
                    .execute(&mut *tx)
                    .await
                    .ctx(&op)?;
            }
            tx.commit().await.ctx(&op)?;
            Ok(true)
        })
    }

    /// One run by id.
    pub async fn run(&self, run_id: i64) -> Result<RunRow, StoreError> {
        on_pool!(self, pool => {
            let row = sqlx::query(self.q(&format!("SELECT {RUN_COLS} FROM runs r WHERE r.id = ?")))
                .bind(run_id)
                .fetch_optional(pool)
                .await
                .ctx(&format!("reading run {run_id}"))?
                .ok_or(StoreError::NoSuchRun(run_id))?;
            run_from_row(&row, now_unix(), self.stale_after_s)
        })
    }

    /// All runs of an experiment, by id.
    pub async fn runs_of_experiment(&self, experiment_id: i64) -> Result<Vec<RunRow>, StoreError> {
        on_pool!(self, pool => {
            let rows = sqlx::query(self.q(&format!(
                "SELECT {RUN_COLS} FROM runs r WHERE r.experiment_id = ? ORDER BY r.id"
            )))
            .bind(experiment_id)
            .fetch_all(pool)
            .await
            .ctx(&format!("listing runs of experiment {experiment_id}"))?;
            let now = now_unix();
            rows.iter()
                .map(|r| run_from_row(r, now, self.stale_after_s))
                .collect()
        })
    }

    /// Atomically moves a run to RUNNING if it is PLANNED, FAILED, KILLED or STALE (or
    /// COMPLETED with `force`), recording provenance and the run directory and bumping
    /// `attempt`. Returns false when another process holds it (or it is completed).
    ///
    /// One conditional `UPDATE`: on SQLite writers are serialised; on PostgreSQL a concurrent
    /// claimant waits for the row lock and then re-checks the condition on the new row
    /// version, so in both cases exactly one claimant wins.
    pub async fn claim_run(
        &self,
        run_id: i64,
        provenance: &Provenance,
        run_dir: &str,
        force: bool,
    ) -> Result<bool, StoreError> {
        let now = now_unix();
        let p = provenance;
        let res = on_pool!(self, pool => sqlx::query(self.q(
            "UPDATE runs SET status = 'RUNNING', attempt = attempt + 1, started_at = ?, \
             heartbeat_at = ?, finished_at = NULL, message = NULL, run_dir = ?, git_commit = ?, \
             git_dirty = ?, git_diff = ?, version = ?, cargo_lock_sha256 = ?, host = ?, \
             cpu_model = ?, cores = ?, memory_bytes = ?, gpu = ?, pid = ?, slurm_job = ? \
             WHERE id = ? AND (status IN ('PLANNED', 'FAILED', 'KILLED') \
               OR (status = 'RUNNING' AND (heartbeat_at IS NULL OR heartbeat_at < ?)) \
               OR (? AND status = 'COMPLETED'))",
        ))
        .bind(now)
        .bind(now)
        .bind(run_dir)
        .bind(&p.git_commit)
        .bind(p.git_dirty)
        .bind(&p.git_diff)
        .bind(&p.version)
        .bind(&p.cargo_lock_sha256)
        .bind(&p.host)
        .bind(&p.cpu_model)
        .bind(p.cores)
        .bind(p.memory_bytes)
        .bind(&p.gpu)
        .bind(p.pid)
        .bind(&p.slurm_job)
        .bind(run_id)
        .bind(now - self.stale_after_s)
        .bind(force)
        .execute(pool)
        .await
        .ctx(&format!("claiming run {run_id}"))?
        .rows_affected());
        if res == 1 {
            return Ok(true);
        }
        self.run(run_id).await?; // NoSuchRun if absent
        Ok(false)
    }

    /// Refreshes the heartbeat of a RUNNING run.
    pub async fn heartbeat(&self, run_id: i64) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query(self.q(
            "UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'RUNNING'",
        ))
        .bind(now_unix())
        .bind(run_id)
        .execute(pool)
        .await
        .ctx(&format!("heartbeat of run {run_id}"))?
        .rows_affected());
        Ok(())
    }

    /// Finishes a RUNNING run as COMPLETED, FAILED or KILLED with an optional message.
    /// Any other current state is an [`StoreError::InvalidTransition`] (finished runs are immutable).
    pub async fn finish_run(
        &self,
        run_id: i64,
        status: RunStatus,
        message: Option<&str>,
    ) -> Result<(), StoreError> {
        if !status.is_finished() {
            let cur = self.run(run_id).await?;
            return Err(StoreError::InvalidTransition {
                run_id,
                from: cur.stored_status.to_string(),
                to: status.to_string(),
            });
        }
        let now = now_unix();
        let changed = on_pool!(self, pool => sqlx::query(self.q(
            "UPDATE runs SET status = ?, finished_at = ?, heartbeat_at = ?, message = ? \
             WHERE id = ? AND status = 'RUNNING'",
        ))
        .bind(status.as_str())
        .bind(now)
        .bind(now)
        .bind(message)
        .bind(run_id)
        .execute(pool)
        .await
        .ctx(&format!("finishing run {run_id}"))?
        .rows_affected());
        if changed == 1 {
            return Ok(());
        }
        let cur = self.run(run_id).await?;
        Err(StoreError::InvalidTransition {
            run_id,
            from: cur.stored_status.to_string(),
            to: status.to_string(),
        })
    }

    /// Marks the given runs KILLED with `reason`, touching only those still RUNNING (also
    /// STALE ones). Returns how many changed. One short statement: safe from a signal path.
    pub async fn mark_killed(&self, run_ids: &[i64], reason: &str) -> Result<u64, StoreError> {
        let now = now_unix();
        let mut changed = 0;
        for chunk in run_ids.chunks(INSERT_CHUNK) {
            let q = format!(
                "UPDATE runs SET status = 'KILLED', finished_at = ?, message = ? \
                 WHERE status = 'RUNNING' AND id IN ({})",
                placeholders(chunk.len())
            );
            changed += on_pool!(self, pool => {
                let mut query = sqlx::query(self.q(&q)).bind(now).bind(reason);
                for id in chunk {
                    query = query.bind(*id);
                }
                query
                    .execute(pool)
                    .await
                    .ctx("marking runs KILLED")?
                    .rows_affected()
            });
        }
        Ok(changed)
    }

    // ----------------------------------------------------------------- metrics, artifacts

    /// Appends metric rows (wall time = now) in one write transaction.
    /// See [`Store::log_metrics_at`] for the replay policy.
    pub async fn log_metrics(
        &self,
        run_id: i64,
        records: &[MetricRecord],
    ) -> Result<(), StoreError> {
        let now = now_unix();
        let timed: Vec<(&MetricRecord, f64)> = records.iter().map(|r| (r, now)).collect();
        self.log_metrics_at(run_id, &timed).await
    }

    /// Appends metric rows with their own wall times, batched in one write transaction
    /// (SQLite `BEGIN IMMEDIATE`; PostgreSQL locks the run row), and refreshes the heartbeat.
    ///
    /// Replay policy (idempotent): the key is (run, name, split, step). A row with the same key
    /// from the same claim attempt is ignored (first write wins, also within one batch); a row
    /// from a later attempt replaces the older attempt's value. Logging to a COMPLETED run is
    /// refused.
    pub async fn log_metrics_at(
        &self,
        run_id: i64,
        records: &[(&MetricRecord, f64)],
    ) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        // First write wins inside the batch too (PostgreSQL refuses to upsert one key twice
        // in a single statement, so duplicates are dropped here for both engines).
        let mut seen = std::collections::HashSet::with_capacity(records.len());
        let records: Vec<(&MetricRecord, f64)> = records
            .iter()
            .filter(|(r, _)| seen.insert((r.name.as_str(), r.split.as_str(), r.step)))
            .copied()
            .collect();
        let op = format!("logging {} metric rows for run {run_id}", records.len());
        on_pool!(self, pool => {
            let mut tx = pool.begin_with(self.begin_write()).await.ctx(&op)?;
            let row = sqlx::query(self.q(&format!(
                "SELECT status, attempt FROM runs WHERE id = ?{}",
                self.for_update()
            )))
            .bind(run_id)
            .fetch_optional(&mut *tx)
            .await
            .ctx(&op)?
            .ok_or(StoreError::NoSuchRun(run_id))?;
            let status: String = row.str_("status").ctx(&op)?;
            let attempt: i64 = row.i64_("attempt").ctx(&op)?;
            if status == "COMPLETED" {
                return Err(StoreError::InvalidTransition {
                    run_id,
                    from: status,
                    to: "logging metrics".into(),
                });
            }
            for chunk in records.chunks(INSERT_CHUNK) {
                let q = format!(
                    "INSERT INTO metrics (run_id, name, split, step, epoch, value, wall_time, attempt) VALUES {} \
                     ON CONFLICT (run_id, name, split, step) DO UPDATE SET epoch = excluded.epoch, \
                     value = excluded.value, wall_time = excluded.wall_time, attempt = excluded.attempt \
                     WHERE excluded.attempt > metrics.attempt",
                    vec!["(?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ")
                );
                let mut query = sqlx::query(self.q(&q));
                for (r, t) in chunk {
                    query = query
                        .bind(run_id)
                        .bind(r.name.as_str())
                        .bind(r.split.as_str())
                        .bind(r.step)
                        .bind(r.epoch)
                        .bind(r.value)
                        .bind(*t)
                        .bind(attempt);
                }
                query.execute(&mut *tx).await.ctx(&op)?;
            }
            // Final values: per (split, name) the largest step of this batch (first one on ties).
            let mut finals: BTreeMap<(&str, &str), &MetricRecord> = BTreeMap::new();
            for (r, _) in &records {
                let e = finals
                    .entry((r.split.as_str(), r.name.as_str()))
                    .or_insert(r);
                if r.step > e.step {
                    *e = r;
                }
            }
            let finals: Vec<&MetricRecord> = finals.into_values().collect();
            for chunk in finals.chunks(INSERT_CHUNK) {
                let q = format!(
                    "INSERT INTO metric_finals (run_id, name, split, step, epoch, value, attempt) VALUES {} \
                     ON CONFLICT (run_id, split, name) DO UPDATE SET step = excluded.step, \
                     epoch = excluded.epoch, value = excluded.value, attempt = excluded.attempt \
                     WHERE excluded.attempt > metric_finals.attempt \
                     OR (excluded.attempt = metric_finals.attempt AND excluded.step > metric_finals.step)",
                    vec!["(?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ")
                );
                let mut query = sqlx::query(self.q(&q));
                for r in chunk {
                    query = query
                        .bind(run_id)
                        .bind(r.name.as_str())
                        .bind(r.split.as_str())
                        .bind(r.step)
                        .bind(r.epoch)
                        .bind(r.value)
                        .bind(attempt);
                }
                query.execute(&mut *tx).await.ctx(&op)?;
            }
            sqlx::query(self.q("UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'RUNNING'"))
                .bind(now_unix())
                .bind(run_id)
                .execute(&mut *tx)
                .await
                .ctx(&op)?;
            tx.commit().await.ctx(&op)?;
            Ok(())
        })
    }

    /// Records (or updates, keyed by run, kind and path) a produced file.
    pub async fn log_artifact(
        &self,
        run_id: i64,
        kind: &str,
        path: &str,
        sha256: &str,
        bytes: i64,
    ) -> Result<(), StoreError> {
        self.run(run_id).await?;
        on_pool!(self, pool => sqlx::query(self.q(
            "INSERT INTO artifacts (run_id, kind, path, sha256, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (run_id, kind, path) DO UPDATE SET sha256 = excluded.sha256, \
             bytes = excluded.bytes, created_at = excluded.created_at",
        ))
        .bind(run_id)
        .bind(kind)
        .bind(path)
        .bind(sha256)
        .bind(bytes)
        .bind(now_unix())
        .execute(pool)
        .await
        .ctx(&format!("recording artifact '{path}' of run {run_id}"))?
        .rows_affected());
        Ok(())
    }

    /// Links a log file that is still being written (e.g. the Slurm task's output file) to a
    /// run: an artifact of kind `kind` (`log` or `slurm_log`) with an empty hash and size 0.
    pub async fn link_log(&self, run_id: i64, kind: &str, path: &str) -> Result<(), StoreError> {
        self.log_artifact(run_id, kind, path, "", 0).await
    }

    /// Metric rows of a run, optionally one name and/or split, ordered by split, name, step.
    pub async fn metric_history(
        &self,
        run_id: i64,
        name: Option<&str>,
        split: Option<&str>,
    ) -> Result<Vec<MetricRow>, StoreError> {
        let op = "decoding metric rows";
        on_pool!(self, pool => {
            let rows = sqlx::query(self.q(
                "SELECT run_id, name, split, step, epoch, value, wall_time, attempt FROM metrics \
                 WHERE run_id = ? AND (? IS NULL OR name = ?) AND (? IS NULL OR split = ?) \
                 ORDER BY split, name, step",
            ))
            .bind(run_id)
            .bind(name)
            .bind(name)
            .bind(split)
            .bind(split)
            .fetch_all(pool)
            .await
            .ctx(&format!("reading metric history of run {run_id}"))?;
            rows.iter()
                .map(|r| {
                    Ok(MetricRow {
                        run_id: r.i64_("run_id").ctx(op)?,
                        name: r.str_("name").ctx(op)?,
                        split: r.str_("split").ctx(op)?,
                        step: r.i64_("step").ctx(op)?,
                        epoch: r.i64_("epoch").ctx(op)?,
                        value: r.f64_("value").ctx(op)?,
                        wall_time: r.f64_("wall_time").ctx(op)?,
                        attempt: r.i64_("attempt").ctx(op)?,
                    })
                })
                .collect()
        })
    }

    // ----------------------------------------------------------------- queries

    /// Runs with params and final metrics, filtered by experiment, visible status, ids and a
    /// `--where` expression (parsed before any database access; unknown names are errors).
    pub async fn list_runs(&self, filter: &RunFilter) -> Result<Vec<RunSummary>, StoreError> {
        let expr = filter
            .where_expr
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(where_expr::parse)
            .transpose()?;
        if let Some(name) = &filter.experiment {
            if self.experiment_by_name(name).await?.is_none() {
                return Err(StoreError::NoSuchExperiment(name.clone()));
            }
        }
        let mut conds = Vec::new();
        if filter.experiment.is_some() {
            conds.push("e.name = ?".to_string());
        }
        if !filter.run_ids.is_empty() {
            conds.push(format!("r.id IN ({})", placeholders(filter.run_ids.len())));
        }
        let where_sql = if conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conds.join(" AND "))
        };
        let op = "listing runs";
        let now = now_unix();
        let mut summaries = Vec::new();
        let mut index = BTreeMap::new();
        on_pool!(self, pool => {
            let rows = bind_filter!(sqlx::query(self.q(&format!(
                "SELECT {RUN_COLS}, e.name AS experiment_name FROM runs r \
                 JOIN experiments e ON e.id = r.experiment_id {where_sql} ORDER BY r.id"
            ))), filter)
            .fetch_all(pool)
            .await
            .ctx(op)?;
            summaries.reserve(rows.len());
            for row in &rows {
                let run = run_from_row(row, now, self.stale_after_s)?;
                if !filter.statuses.is_empty() && !filter.statuses.contains(&run.status) {
                    continue;
                }
                index.insert(run.id, summaries.len());
                summaries.push(RunSummary {
                    experiment: row.str_("experiment_name").ctx(op)?,
                    run,
                    params: BTreeMap::new(),
                    finals: BTreeMap::new(),
                });
            }
            if summaries.is_empty() {
                return Ok(summaries);
            }
            let op = "reading params";
            let params = bind_filter!(sqlx::query(self.q(&run_details_sql(
                "x.run_id AS run_id, x.key AS key, x.value_type AS value_type, \
                 x.value_text AS value_text",
                "params",
                &where_sql,
            ))), filter)
            .fetch_all(pool)
            .await
            .ctx(op)?;
            for p in &params {
                let Some((run_id, i)) = summary_slot(p, &index, op)? else {
                    continue;
                };
                let key = p.str_("key").ctx(op)?;
                let ty = p.str_("value_type").ctx(op)?;
                let text = p.str_("value_text").ctx(op)?;
                let value =
                    ParamValue::from_columns(&ty, &text).map_err(|reason| StoreError::BadParam {
                        run_id,
                        key: key.clone(),
                        reason,
                    })?;
                summaries[i].params.insert(key, value);
            }
            let op = "reading final metrics";
            let finals = bind_filter!(sqlx::query(self.q(&run_details_sql(
                "x.run_id AS run_id, x.split AS split, x.name AS name, x.value AS value",
                "metric_finals",
                &where_sql,
            ))), filter)
            .fetch_all(pool)
            .await
            .ctx(op)?;
            for f in &finals {
                let Some((_, i)) = summary_slot(f, &index, op)? else {
                    continue;
                };
                let split = f.str_("split").ctx(op)?;
                let name = f.str_("name").ctx(op)?;
                let value = f.f64_("value").ctx(op)?;
                summaries[i].finals.insert(format!("{split}.{name}"), value);
            }
        });
        let Some(expr) = expr else {
            return Ok(summaries);
        };
        let keep: Vec<bool> = {
            let eval_rows: Vec<EvalRow<'_>> = summaries.iter().map(eval_row).collect();
            where_expr::check_identifiers(&expr, &eval_rows)?;
            eval_rows.iter().map(|r| expr.eval(r)).collect()
        };
        Ok(summaries
            .into_iter()
            .zip(keep)
            .filter_map(|(s, k)| k.then_some(s))
            .collect())
    }

    /// Everything about one run: summary, metric history summary, artifacts, log path (the
    /// `log` artifact, else the `slurm_log` one).
    pub async fn run_detail(&self, run_id: i64) -> Result<RunDetail, StoreError> {
        let summary = self
            .list_runs(&RunFilter {
                run_ids: vec![run_id],
                ..Default::default()
            })
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NoSuchRun(run_id))?;
        let op = format!("summarising metrics of run {run_id}");
        let mut history = Vec::new();
        let artifacts = on_pool!(self, pool => {
            let rows = sqlx::query(self.q(
                "SELECT m.split AS split, m.name AS name, COUNT(*) AS n, MIN(m.step) AS first_step, \
                 MAX(m.step) AS last_step, MIN(m.value) AS min_v, MAX(m.value) AS max_v \
                 FROM metrics m WHERE m.run_id = ? GROUP BY m.split, m.name ORDER BY m.split, m.name",
            ))
            .bind(run_id)
            .fetch_all(pool)
            .await
            .ctx(&op)?;
            for r in &rows {
                let split = r.str_("split").ctx(&op)?;
                let name = r.str_("name").ctx(&op)?;
                let last = summary
                    .finals
                    .get(&format!("{split}.{name}"))
                    .copied()
                    .unwrap_or(f64::NAN);
                history.push(MetricSummary {
                    count: r.i64_("n").ctx(&op)?,
                    first_step: r.i64_("first_step").ctx(&op)?,
                    last_step: r.i64_("last_step").ctx(&op)?,
                    min: r.f64_("min_v").ctx(&op)?,
                    max: r.f64_("max_v").ctx(&op)?,
                    split,
                    name,
                    last,
                });
            }
            let rows = sqlx::query(self.q("SELECT * FROM artifacts WHERE run_id = ? ORDER BY id"))
                .bind(run_id)
                .fetch_all(pool)
                .await
                .ctx(&format!("reading artifacts of run {run_id}"))?;
            let op = "decoding artifacts";
            rows.iter()
                .map(|r| {
                    Ok(ArtifactRow {
                        id: r.i64_("id").ctx(op)?,
                        run_id: r.i64_("run_id").ctx(op)?,
                        kind: r.str_("kind").ctx(op)?,
                        path: r.str_("path").ctx(op)?,
                        sha256: r.str_("sha256").ctx(op)?,
                        bytes: r.i64_("bytes").ctx(op)?,
                        created_at: r.f64_("created_at").ctx(op)?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?
        });
        let log_path = artifacts
            .iter()
            .find(|a| a.kind == "log")
            .or_else(|| artifacts.iter().find(|a| a.kind == "slurm_log"))
            .map(|a| a.path.clone());
        Ok(RunDetail {
            summary,
            history,
            artifacts,
            log_path,
        })
    }

    /// Compares runs (in the order given): differing and common params, final metrics side by side.
    pub async fn compare_runs(&self, run_ids: &[i64]) -> Result<Comparison, StoreError> {
        let all = self
            .list_runs(&RunFilter {
                run_ids: run_ids.to_vec(),
                ..Default::default()
            })
            .await?;
        let mut ordered = Vec::with_capacity(run_ids.len());
        for id in run_ids {
            let s = all
                .iter()
                .find(|s| s.run.id == *id)
                .ok_or(StoreError::NoSuchRun(*id))?;
            ordered.push(s.clone());
        }
        Ok(compare_summaries(ordered))
    }

    /// All runs with params and final metrics (for `export`).
    pub async fn export_runs(&self) -> Result<Vec<RunSummary>, StoreError> {
        self.list_runs(&RunFilter::default()).await
    }

    /// Runs arbitrary SQL (one statement) on a read-only connection; writes fail with
    /// [`StoreError::ReadOnlyQuery`] ("the query command is read-only").
    ///
    /// SQLite: a `SQLITE_OPEN_READONLY` connection with `PRAGMA query_only`. PostgreSQL: a
    /// session defaulting to read-only transactions, the statement inside `BEGIN READ ONLY`,
    /// always rolled back (so even a `SET` cannot leave the session writable).
    pub async fn query_readonly(&self, sql_text: &str) -> Result<QueryResult, StoreError> {
        use sqlx::{Column, Row};
        let (columns, rows) = match &self.backend {
            Backend::Sqlite { ro, .. } => {
                let ro = ro
                    .get_or_try_init(|| Self::connect_sqlite_ro(&self.path, self.busy_timeout))
                    .await?;
                let rows = sqlx::query(sql(sql_text.to_string()))
                    .fetch_all(ro)
                    .await
                    .map_err(map_query_error)?;
                let columns: Vec<String> = rows
                    .first()
                    .map(|r| r.columns().iter().map(|c| c.name().to_string()).collect())
                    .unwrap_or_default();
                let mut out = Vec::with_capacity(rows.len());
                for row in &rows {
                    out.push(
                        (0..columns.len())
                            .map(|i| sqlite_json(row, i))
                            .collect::<Result<Vec<_>, _>>()?,
                    );
                }
                (columns, out)
            }
            Backend::Postgres { ro, opts, .. } => {
                let display = self.path_s();
                let ro = ro
                    .get_or_try_init(|| Self::connect_pg_ro(opts, &display, self.busy_timeout))
                    .await?;
                let mut tx = ro
                    .begin_with("BEGIN READ ONLY")
                    .await
                    .ctx("starting a read-only transaction")?;
                let fetched = sqlx::query(sql(sql_text.to_string()))
                    .fetch_all(&mut *tx)
                    .await;
                let _ = tx.rollback().await;
                let rows = fetched.map_err(map_query_error)?;
                let columns: Vec<String> = rows
                    .first()
                    .map(|r| r.columns().iter().map(|c| c.name().to_string()).collect())
                    .unwrap_or_default();
                let mut out = Vec::with_capacity(rows.len());
                for row in &rows {
                    out.push(
                        (0..columns.len())
                            .map(|i| pg_json(row, i))
                            .collect::<Result<Vec<_>, _>>()?,
                    );
                }
                (columns, out)
            }
        };
        Ok(QueryResult { columns, rows })
    }
}

/// Maps a connection failure to PostgreSQL to an error that names the server (never the
/// password) and hints at the usual causes.
fn pg_connect_error(e: sqlx::Error, display: &str) -> StoreError {
    let hint = match e.as_database_error().and_then(|d| d.code()) {
        Some(code) if code == "3D000" => {
            " (the database does not exist: create it first, e.g. `createdb -O ROLE NAME`; see docs/cluster.md)"
        }
        Some(code) if code == "28P01" || code == "28000" => {
            " (authentication failed: check the user and password in the URL)"
        }
        _ => " (is the server running and reachable? see docs/cluster.md)",
    };
    StoreError::Db {
        op: format!("connecting to PostgreSQL '{display}'{hint}"),
        source: e,
    }
}

fn map_query_error(e: sqlx::Error) -> StoreError {
    if let Some(db) = e.as_database_error() {
        let code = db.code().map(|c| c.to_string()).unwrap_or_default();
        let msg = db.message().to_string();
        let sqlite_readonly = code.parse::<i64>().map(|c| c & 0xff == 8).unwrap_or(false);
        if sqlite_readonly
            || code == PG_READ_ONLY_SQL_TRANSACTION
            || msg.contains("readonly")
            || msg.contains("read-only")
        {
            return StoreError::ReadOnlyQuery { detail: msg };
        }
    }
    StoreError::Db {
        op: "running the query".into(),
        source: e,
    }
}

fn experiment_from_row(r: &impl RowGet) -> Result<ExperimentRow, StoreError> {
    let op = "decoding an experiment row";
    Ok(ExperimentRow {
        id: r.i64_("id").ctx(op)?,
        name: r.str_("name").ctx(op)?,
        file: r.str_("file").ctx(op)?,
        content: r.str_("content").ctx(op)?,
        content_sha256: r.str_("content_sha256").ctx(op)?,
        created_at: r.f64_("created_at").ctx(op)?,
        updated_at: r.f64_("updated_at").ctx(op)?,
    })
}

fn run_from_row(r: &impl RowGet, now: f64, stale_after_s: f64) -> Result<RunRow, StoreError> {
    let op = "decoding a run row";
    let stored = RunStatus::parse(&r.str_("status").ctx(op)?)?;
    let heartbeat_at = r.opt_f64("heartbeat_at").ctx(op)?;
    Ok(RunRow {
        id: r.i64_("id").ctx(op)?,
        experiment_id: r.i64_("experiment_id").ctx(op)?,
        cell: r.str_("cell").ctx(op)?,
        config_hash: r.str_("config_hash").ctx(op)?,
        config_json: r.str_("config_json").ctx(op)?,
        seed: r.i64_("seed").ctx(op)?,
        status: RunStatus::derive(stored, heartbeat_at, now, stale_after_s),
        stored_status: stored,
        attempt: r.i64_("attempt").ctx(op)?,
        created_at: r.f64_("created_at").ctx(op)?,
        started_at: r.opt_f64("started_at").ctx(op)?,
        heartbeat_at,
        finished_at: r.opt_f64("finished_at").ctx(op)?,
        message: r.opt_str("message").ctx(op)?,
        run_dir: r.opt_str("run_dir").ctx(op)?,
        provenance: Provenance {
            git_commit: r.opt_str("git_commit").ctx(op)?,
            git_dirty: r.opt_bool("git_dirty").ctx(op)?,
            git_diff: r.opt_str("git_diff").ctx(op)?,
            version: r.opt_str("version").ctx(op)?,
            cargo_lock_sha256: r.opt_str("cargo_lock_sha256").ctx(op)?,
            host: r.opt_str("host").ctx(op)?,
            cpu_model: r.opt_str("cpu_model").ctx(op)?,
            cores: r.opt_i64("cores").ctx(op)?,
            memory_bytes: r.opt_i64("memory_bytes").ctx(op)?,
            gpu: r.opt_str("gpu").ctx(op)?,
            pid: r.opt_i64("pid").ctx(op)?,
            slurm_job: r.opt_str("slurm_job").ctx(op)?,
        },
    })
}

/// Builds the evaluation view of a summary for `--where`.
pub fn eval_row(s: &RunSummary) -> EvalRow<'_> {
    let mut columns = BTreeMap::new();
    columns.insert("status", Value::Str(s.run.status.as_str().to_string()));
    columns.insert("cell", Value::Str(s.run.cell.clone()));
    columns.insert("seed", Value::Num(s.run.seed as f64));
    columns.insert("id", Value::Num(s.run.id as f64));
    columns.insert("experiment", Value::Str(s.experiment.clone()));
    EvalRow {
        columns,
        params: &s.params,
        finals: &s.finals,
    }
}

/// True for SQLite's "database is locked" / "database is busy" errors (codes 5 and 6).
fn is_sqlite_busy(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            matches!(
                d.code().as_deref(),
                Some("5") | Some("6") | Some("517") | Some("261")
            ) || d.message().contains("locked")
                || d.message().contains("busy")
        }
        _ => false,
    }
}
