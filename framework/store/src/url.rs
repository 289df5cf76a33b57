//! Database location: resolving `--db` / `SEDS_LAB_DB` / the default, and parsing the URL into
//! a [`Dialect`] and a location (a SQLite file path, or a PostgreSQL URL).

use std::path::PathBuf;

use crate::error::StoreError;

/// Environment variable that overrides the default database location.
pub const DB_ENV: &str = "SEDS_LAB_DB";
/// Default database URL (relative to the working directory).
pub const DEFAULT_DB_URL: &str = "sqlite://runs/seds-lab.db";

/// Which database engine a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// An embedded SQLite file: one machine only (never share it over NFS).
    Sqlite,
    /// A PostgreSQL server (`postgres://` or `postgresql://`): safe for many machines.
    Postgres,
}

impl Dialect {
    /// Lower-case name (`sqlite`, `postgres`).
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }

    /// Whether processes on several machines may share this database (false for SQLite).
    pub fn is_shared_across_hosts(self) -> bool {
        self == Dialect::Postgres
    }
}

/// A parsed database location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbLocation {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL server.
    Postgres {
        /// The URL to connect with (password included).
        url: String,
        /// The URL with its password replaced by `***`, for messages.
        display: String,
    },
}

impl DbLocation {
    /// The dialect of this location.
    pub fn dialect(&self) -> Dialect {
        match self {
            DbLocation::Sqlite(_) => Dialect::Sqlite,
            DbLocation::Postgres { .. } => Dialect::Postgres,
        }
    }

    /// Printable form (file path, or URL without its password).
    pub fn display(&self) -> String {
        match self {
            DbLocation::Sqlite(p) => p.display().to_string(),
            DbLocation::Postgres { display, .. } => display.clone(),
        }
    }
}

/// Picks the database URL: explicit flag, else `SEDS_LAB_DB`, else [`DEFAULT_DB_URL`]. A plain
/// path becomes `sqlite://PATH`. Empty strings count as absent.
pub fn resolve_db_url(flag: Option<&str>) -> String {
    let env = std::env::var(DB_ENV).ok();
    resolve_db_url_from(flag, env.as_deref())
}

/// Pure core of [`resolve_db_url`] with the environment value passed in.
pub fn resolve_db_url_from(flag: Option<&str>, env: Option<&str>) -> String {
    let pick = flag
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .or(env.map(str::trim).filter(|s| !s.is_empty()));
    match pick {
        None => DEFAULT_DB_URL.to_string(),
        Some(s) if s.contains("://") || s.starts_with("sqlite:") => s.to_string(),
        Some(path) => format!("sqlite://{path}"),
    }
}

/// Replaces the password of a `scheme://user:password@host/...` URL with `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// Parses a database URL into a [`DbLocation`].
///
/// SQLite: `sqlite://relative/path.db`, `sqlite:///absolute/path.db`, `sqlite:path.db` and plain
/// paths (a `?query` part is ignored; in-memory databases are rejected because workers in other
/// processes must share the file). PostgreSQL: `postgres://user:pass@host:port/db` or
/// `postgresql://...` (checked for a host and a database name). Other schemes are rejected.
pub fn parse_db_location(url: &str) -> Result<DbLocation, StoreError> {
    let bad = |reason: &str| StoreError::BadUrl {
        url: redact_url(url),
        reason: reason.to_string(),
    };
    let trimmed = url.trim();
    let rest = if let Some(r) = trimmed.strip_prefix("sqlite://") {
        r
    } else if let Some(r) = trimmed.strip_prefix("sqlite:") {
        r
    } else if let Some((scheme, after)) = trimmed.split_once("://") {
        if scheme != "postgres" && scheme != "postgresql" {
            return Err(bad(&format!(
                "unsupported scheme '{scheme}' (use sqlite://PATH for one machine or postgres://USER:PASSWORD@HOST:PORT/DATABASE for a cluster)"
            )));
        }
        let authority = after.split(['/', '?']).next().unwrap_or("");
        let host = authority.rsplit('@').next().unwrap_or("");
        if host.is_empty() || host.starts_with(':') {
            return Err(bad(
                "no host (e.g. postgres://user:pass@127.0.0.1:5432/seds)",
            ));
        }
        let db = after[authority.len()..]
            .strip_prefix('/')
            .map(|p| p.split('?').next().unwrap_or(""))
            .unwrap_or("");
        if db.is_empty() {
            return Err(bad(
                "no database name (e.g. postgres://user:pass@host:5432/seds)",
            ));
        }
        return Ok(DbLocation::Postgres {
            url: trimmed.to_string(),
            display: redact_url(trimmed),
        });
    } else {
        trimmed
    };
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() {
        return Err(bad("no file path"));
    }
    if path == ":memory:" || path.starts_with("file::memory:") {
        return Err(bad(
            "in-memory databases are not supported (workers in other processes must share the file)",
        ));
    }
    Ok(DbLocation::Sqlite(PathBuf::from(path)))
}

/// Splits a database URL into its dialect and location: the SQLite file path, or for
/// PostgreSQL the URL with its password hidden (see [`parse_db_location`]).
pub fn parse_db_url(url: &str) -> Result<(Dialect, PathBuf), StoreError> {
    let loc = parse_db_location(url)?;
    Ok(match loc {
        DbLocation::Sqlite(p) => (Dialect::Sqlite, p),
        DbLocation::Postgres { display, .. } => (Dialect::Postgres, PathBuf::from(display)),
    })
}

/// The dialect a database URL names (after [`resolve_db_url`]).
pub fn dialect_of(url: &str) -> Result<Dialect, StoreError> {
    Ok(parse_db_location(url)?.dialect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolution_order_flag_env_default() {
        assert_eq!(
            resolve_db_url_from(Some("a.db"), Some("b.db")),
            "sqlite://a.db"
        );
        assert_eq!(
            resolve_db_url_from(None, Some("/x/b.db")),
            "sqlite:///x/b.db"
        );
        assert_eq!(
            resolve_db_url_from(Some(""), Some("sqlite://c.db")),
            "sqlite://c.db"
        );
        assert_eq!(
            resolve_db_url_from(None, Some("postgres://u:p@h/db")),
            "postgres://u:p@h/db"
        );
        assert_eq!(resolve_db_url_from(None, None), DEFAULT_DB_URL);
        assert_eq!(resolve_db_url_from(None, Some("  ")), DEFAULT_DB_URL);
    }

    #[test]
    fn parsing_urls() {
        let p = |u: &str| parse_db_url(u).unwrap().1;
        assert_eq!(
            p("sqlite://runs/seds-lab.db"),
            PathBuf::from("runs/seds-lab.db")
        );
        assert_eq!(p("sqlite:///abs/x.db"), PathBuf::from("/abs/x.db"));
        assert_eq!(p("sqlite:x.db?mode=rwc"), PathBuf::from("x.db"));
        assert_eq!(p("plain/path.db"), PathBuf::from("plain/path.db"));
        let e = parse_db_url("mysql://host/db").unwrap_err().to_string();
        assert!(e.contains("unsupported scheme 'mysql'"), "{e}");
        assert!(parse_db_url("sqlite::memory:").is_err());
        assert!(parse_db_url("sqlite://").is_err());
    }

    #[test]
    fn postgres_urls() {
        let loc = parse_db_location("postgres://ci:secret@127.0.0.1:5433/ci").unwrap();
        assert_eq!(
            loc,
            DbLocation::Postgres {
                url: "postgres://ci:secret@127.0.0.1:5433/ci".into(),
                display: "postgres://ci:***@127.0.0.1:5433/ci".into(),
            }
        );
        assert_eq!(loc.dialect(), Dialect::Postgres);
        assert_eq!(
            dialect_of("postgresql://h/db?sslmode=disable").unwrap(),
            Dialect::Postgres
        );
        assert_eq!(dialect_of("runs/x.db").unwrap(), Dialect::Sqlite);
        let (d, shown) = parse_db_url("postgres://u:pw@h:1/d").unwrap();
        assert_eq!(
            (d, shown),
            (Dialect::Postgres, PathBuf::from("postgres://u:***@h:1/d"))
        );
        // Errors never show the password.
        let e = parse_db_location("postgres://u:pw@h:1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no database name") && !e.contains("pw"), "{e}");
        let e = parse_db_location("postgres:///db").unwrap_err().to_string();
        assert!(e.contains("no host"), "{e}");
        assert_eq!(redact_url("postgres://u@h/d"), "postgres://u@h/d");
        assert_eq!(redact_url("postgres://u:p@ss@h/d"), "postgres://u:***@h/d");
        assert!(!Dialect::Sqlite.is_shared_across_hosts());
        assert!(Dialect::Postgres.is_shared_across_hosts());
    }
}
