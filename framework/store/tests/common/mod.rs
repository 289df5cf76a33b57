//! Test fixture shared by the store's integration tests: one fresh, empty database per test on
//! either backend, so every test body runs against SQLite AND PostgreSQL.
//!
//! - SQLite: a file in a temporary directory.
//! - PostgreSQL: a fresh schema in the database named by `SEDS_TEST_PG_URL` (selected with the
//!   URL parameter `options[search_path]=...`), dropped when the test body returns. When
//!   `SEDS_TEST_PG_URL` is unset the PostgreSQL variant SKIPS with a message on stderr (start
//!   the services with `scripts/ci/start-services.sh` and source `/tmp/seds-services.env`).
//!
//! `dual_test!(name, body)` expands to `name::sqlite` and `name::postgres`, each calling
//! `body(db: Db)` (an async fn); `dual_test_sync!` does the same for blocking bodies.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

use seds_store::Dialect;

/// Environment variable naming the PostgreSQL server for tests.
pub const PG_ENV: &str = "SEDS_TEST_PG_URL";

/// One empty test database.
pub struct Db {
    /// URL to give `Store::open`.
    pub url: String,
    /// Backend.
    pub dialect: Dialect,
    /// SQLite: the temporary directory holding the file.
    pub dir: tempfile::TempDir,
    /// PostgreSQL: the schema created for this test.
    pub schema: Option<String>,
    base_url: Option<String>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl Db {
    /// A fresh SQLite database (the file does not exist yet: `sub/seds-lab.db` in a temp dir).
    pub fn sqlite() -> Db {
        let dir = tempfile::tempdir().expect("temp dir");
        Db {
            url: format!("sqlite://{}", dir.path().join("sub/seds-lab.db").display()),
            dialect: Dialect::Sqlite,
            dir,
            schema: None,
            base_url: None,
        }
    }

    /// A fresh, empty schema on the test PostgreSQL server, or None (with a SKIP message)
    /// when `SEDS_TEST_PG_URL` is unset.
    pub async fn postgres(test: &str) -> Option<Db> {
        let Some(base) = std::env::var(PG_ENV).ok().filter(|s| !s.trim().is_empty()) else {
            eprintln!(
                "SKIP {test} on PostgreSQL: {PG_ENV} is not set (run scripts/ci/start-services.sh \
                 and `source /tmp/seds-services.env`)"
            );
            return None;
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let schema = format!(
            "t_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            nanos
        );
        let pool = sqlx::PgPool::connect(&base)
            .await
            .unwrap_or_else(|e| panic!("{PG_ENV} is set but PostgreSQL is unreachable: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&pool)
            .await
            .expect("create test schema");
        pool.close().await;
        let sep = if base.contains('?') { '&' } else { '?' };
        Some(Db {
            url: format!("{base}{sep}options[search_path]={schema}"),
            dialect: Dialect::Postgres,
            dir: tempfile::tempdir().expect("temp dir"),
            schema: Some(schema),
            base_url: Some(base),
        })
    }

    /// Executes SQL directly, bypassing the store (to age heartbeats, plant future versions...).
    pub async fn exec_raw(&self, sql: &str) {
        match self.dialect {
            Dialect::Sqlite => {
                let opts = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(self.dir.path().join("sub/seds-lab.db"));
                let pool = sqlx::SqlitePool::connect_with(opts)
                    .await
                    .expect("raw sqlite");
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                    .execute(&pool)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                pool.close().await;
            }
            Dialect::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url)
                    .await
                    .expect("raw postgres");
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
                    .execute(&pool)
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                pool.close().await;
            }
        }
    }

    /// Drops the PostgreSQL schema (no-op for SQLite, whose directory is deleted on drop).
    pub async fn cleanup(&self) {
        if let (Some(base), Some(schema)) = (&self.base_url, &self.schema) {
            if let Ok(pool) = sqlx::PgPool::connect(base).await {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE"
                )))
                .execute(&pool)
                .await;
                pool.close().await;
            }
        }
    }
}

/// One async test body, run once per backend.
#[allow(unused_macros)]
macro_rules! dual_test {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                let db = $crate::common::Db::sqlite();
                super::$body(&db).await;
            }

            #[tokio::test]
            async fn postgres() {
                let Some(db) =
                    $crate::common::Db::postgres(concat!(stringify!($name), "::postgres")).await
                else {
                    return;
                };
                super::$body(&db).await;
                db.cleanup().await;
            }
        }
    };
}

/// One blocking test body (it builds its own runtimes), run once per backend.
#[allow(unused_macros)]
macro_rules! dual_test_sync {
    ($name:ident, $body:ident) => {
        mod $name {
            #[test]
            fn sqlite() {
                let db = $crate::common::Db::sqlite();
                super::$body(&db);
            }

            #[test]
            fn postgres() {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                let Some(db) = rt.block_on($crate::common::Db::postgres(concat!(
                    stringify!($name),
                    "::postgres"
                ))) else {
                    return;
                };
                super::$body(&db);
                rt.block_on(db.cleanup());
            }
        }
    };
}
