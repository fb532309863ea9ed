//! The SQL store: crashes, analysis jobs, reports, groups and tickets, in SQLite (the
//! embedded default, one file) or PostgreSQL (many hosts, many analyzers), chosen by URL.
//!
//! Only this crate contains SQL. One dialect serves both backends through `sqlx::Any`
//! (numbered `$N` parameters, `ON CONFLICT`, `RETURNING`), with the schema in
//! `migrations/sqlite` and `migrations/postgres`, applied at connect.
//!
//! Start with [`Store::connect`], then [`crashes`] (what the collector uploaded and the
//! job queue over it), [`groups`] (reports filed under signatures, merges and splits,
//! regrouping) and [`tickets`].
//!
//! Metrics: none of its own; callers time their calls.

pub mod crashes;
pub mod groups;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tickets;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use std::path::Path;
use std::time::Duration;

pub use crashes::JobClaim;
pub use groups::{GroupFilter, NewReport, Regroup, StoredReport};

/// What went wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no supported database or is malformed.
    #[error("bad database url {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    /// The database could not be reached or refused the connection.
    #[error("cannot connect to {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot migrate {url}: {source}")]
    Migrate {
        url: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A query failed.
    #[error("database error: {0}")]
    Sql(#[from] sqlx::Error),
    /// A stored value does not decode (a JSON column, an id).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The request names something that does not exist or cannot be done.
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which SQL server is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool plus the backend it talks to.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    url: String,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

impl Store {
    /// Connects to `sqlite://PATH` (created if missing, with its directory) or
    /// `postgres://...`, and applies the migrations.
    pub async fn connect(url: &str) -> Result<Store> {
        install_default_drivers();
        let (backend, connect_url) = normalize_url(url)?;
        let mut options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(30));
        if backend == Backend::Sqlite {
            // One writer at a time: WAL lets readers go on, busy_timeout makes writers wait
            // instead of failing with SQLITE_BUSY when several tasks share the file.
            options = options.max_connections(4).after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    Ok(())
                })
            });
        } else {
            options = options.max_connections(8);
        }
        // One direct connection first: a pool retries a refused connection until its
        // acquire timeout, while a direct attempt fails at once with the reason.
        {
            use sqlx::Connection;
            let conn = sqlx::AnyConnection::connect(&connect_url)
                .await
                .map_err(|source| StoreError::Connect {
                    url: redact(url),
                    source,
                })?;
            let _ = conn.close().await;
        }
        let pool = options
            .connect(&connect_url)
            .await
            .map_err(|source| StoreError::Connect {
                url: redact(url),
                source,
            })?;
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                url: redact(url),
                source,
            })?;
        Ok(Store {
            pool,
            backend,
            url: redact(url),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL with any password removed, for logs.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// Checks the URL and, for SQLite, creates the file's directory and asks for the file to
/// be created.
fn normalize_url(url: &str) -> Result<(Backend, String)> {
    let bad = |reason: &str| StoreError::BadUrl {
        url: redact(url),
        reason: reason.to_owned(),
    };
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        if path.is_empty() {
            return Err(bad("no file path after sqlite://"));
        }
        let dir = Path::new(path)
            .parent()
            .filter(|d| path != ":memory:" && !d.as_os_str().is_empty());
        if let Some(dir) = dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| bad(&format!("cannot create directory {}: {e}", dir.display())))?;
        }
        let query = match query {
            Some(q) if q.contains("mode=") => q.to_owned(),
            Some(q) => format!("{q}&mode=rwc"),
            None => "mode=rwc".to_owned(),
        };
        Ok((Backend::Sqlite, format!("sqlite://{path}?{query}")))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok((Backend::Postgres, url.to_owned()))
    } else {
        Err(bad(
            "expected sqlite://PATH or postgres://USER@HOST/DB (see README: configuration)",
        ))
    }
}

/// Removes the password from a URL so it can be logged.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            if userinfo.contains(':') {
                format!("{scheme}://{user}:***@{host}{path}")
            } else {
                url.to_owned()
            }
        }
        None => url.to_owned(),
    }
}

/// The current time in Unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    // Passwords never reach a log line.
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://u:secret@db:5432/x"),
            "postgres://u:***@db:5432/x"
        );
        assert_eq!(redact("postgres://u@db/x"), "postgres://u@db/x");
        assert_eq!(redact("sqlite://a.db"), "sqlite://a.db");
    }

    // Unknown schemes are refused with a reason that names the accepted forms.
    #[test]
    fn refuses_unknown_schemes() {
        let err = normalize_url("mysql://x").unwrap_err().to_string();
        assert!(err.contains("expected sqlite://"), "{err}");
        assert!(normalize_url("sqlite://").is_err());
    }

    // SQLite URLs ask for the file to be created.
    #[test]
    fn sqlite_urls_create_the_file() {
        let (b, u) = normalize_url("sqlite://:memory:").unwrap();
        assert_eq!(b, Backend::Sqlite);
        assert_eq!(u, "sqlite://:memory:?mode=rwc");
    }
}
