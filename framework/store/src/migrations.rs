//! Embedded, forward-only schema migrations and the schema-version check.
//!
//! Applied versions are recorded in `schema_migrations` (both dialects) and, on SQLite, mirrored
//! into `PRAGMA user_version` for generic SQLite tools. Only the coordinating process migrates,
//! inside one transaction that first takes the database's write lock (SQLite `BEGIN IMMEDIATE`;
//! PostgreSQL `pg_advisory_xact_lock`), so two coordinators racing cannot both apply. Each
//! migration has one script per dialect: same tables and constraints, dialect-specific types.

/// One migration: version, name, SQL.
pub struct Migration {
    /// Strictly increasing version.
    pub version: i64,
    /// Short name.
    pub name: &'static str,
    /// SQL script for SQLite (several statements).
    pub sql: &'static str,
    /// The same migration for PostgreSQL.
    pub sql_postgres: &'static str,
}

/// All migrations this binary knows, oldest first.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "initial",
    sql: include_str!("../migrations/0001_initial.sql"),
    sql_postgres: include_str!("../migrations/postgres/0001_initial.sql"),
}];

/// Key of the PostgreSQL advisory lock held while migrating (any fixed 64-bit number).
pub const PG_MIGRATION_LOCK: i64 = 0x5345_4453_4c41_4201;

/// The schema version this binary writes and expects.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map(|m| m.version).unwrap_or(0)
}

/// SQL creating the bookkeeping table (idempotent).
pub const CREATE_MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (\
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)";

/// PostgreSQL spelling of [`CREATE_MIGRATIONS_TABLE`] (64-bit integer and float columns).
pub const CREATE_MIGRATIONS_TABLE_PG: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (\
    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)";

/// What to do given the version found in a database.
#[derive(Debug, PartialEq, Eq)]
pub enum VersionCheck {
    /// Up to date.
    Current,
    /// Older: these migration versions must run.
    NeedsMigration(Vec<i64>),
    /// Newer than this binary: refuse.
    TooNew,
}

/// Pure decision from the applied version (0 = empty database).
pub fn check_version(found: i64) -> VersionCheck {
    let latest = latest_version();
    if found > latest {
        VersionCheck::TooNew
    } else if found == latest {
        VersionCheck::Current
    } else {
        VersionCheck::NeedsMigration(
            MIGRATIONS
                .iter()
                .filter(|m| m.version > found)
                .map(|m| m.version)
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_decisions() {
        assert_eq!(check_version(0), VersionCheck::NeedsMigration(vec![1]));
        assert_eq!(check_version(latest_version()), VersionCheck::Current);
        assert_eq!(check_version(latest_version() + 1), VersionCheck::TooNew);
        let versions: Vec<i64> = MIGRATIONS.iter().map(|m| m.version).collect();
        assert!(versions.windows(2).all(|w| w[0] < w[1]));
    }

    /// Both scripts of a migration create the same tables, columns and indexes.
    #[test]
    fn dialect_scripts_define_the_same_schema() {
        fn shape(sql: &str) -> Vec<String> {
            let mut out = Vec::new();
            let mut table = String::new();
            for line in sql.lines().map(str::trim) {
                if line.starts_with("--") || line.is_empty() {
                    continue;
                }
                let words: Vec<&str> = line.split_whitespace().collect();
                if line.starts_with("CREATE TABLE") {
                    table = words[2].to_string();
                    out.push(format!("table {table}"));
                } else if line.starts_with("CREATE INDEX") {
                    out.push(line.to_string());
                } else if words.len() > 1
                    && words[0].chars().all(|c| c.is_ascii_lowercase() || c == '_')
                {
                    out.push(format!("{table}.{}", words[0]));
                } else if line.starts_with("UNIQUE") || line.starts_with("PRIMARY KEY") {
                    out.push(format!("{table}: {line}"));
                }
            }
            out
        }
        for m in MIGRATIONS {
            let a = shape(m.sql);
            assert!(a.len() > 40, "{a:?}");
            assert_eq!(a, shape(m.sql_postgres), "migration {}", m.version);
        }
    }
}
