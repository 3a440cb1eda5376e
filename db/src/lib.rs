//! Arbor's storage layer: every SQL statement the application runs, behind one [`Db`] handle
//! that speaks to SQLite (the embedded default) or Postgres (production).
//!
//! Owns: connection set-up, migrations (`migrations/sqlite`, `migrations/postgres`), and the
//! repository functions grouped by domain noun ([`users`], [`sessions`], [`tokens`],
//! [`throttle`], [`secrets`], [`subjects`], [`topics`], [`social`], [`catalogue`], [`docs`]).
//! Must not own business rules (validation, hashing, who may do
//! what): callers pass already-checked values and decide what a [`DbError`] means for the user.
//!
//! # One behaviour on two databases
//! sqlx's checked macros cannot target two databases from one call site, so queries are plain
//! runtime statements. Both backends accept the same `$1` placeholders, and the schema keeps to
//! types both share (64-bit integers, text, bytes; times as Unix milliseconds), so almost every
//! statement is written once and run through [`dispatch!`], which expands the same code once per
//! backend. Where a dialect differs, the repository function matches on the pool itself. The
//! conformance suite in `tests/conformance.rs` runs every function against both.
//!
//! # Errors
//! [`DbError`] is deliberately small: `NotFound`, `Conflict` (a unique constraint) and `Other`.
//! The HTTP edge decides the status; `Other` always becomes a generic 500 with the cause logged.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};

pub mod catalogue;
pub mod docs;
pub mod imports;
pub mod projection;
pub mod secrets;
pub mod sessions;
pub mod social;
pub mod subjects;
pub mod throttle;
pub mod tokens;
pub mod topics;
pub mod users;

/// The errors a repository function can return.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The row asked for does not exist.
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write; the payload names the constraint or column.
    #[error("conflict on {0}")]
    Conflict(String),
    /// The connection string could not be understood.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// Anything else: I/O, a broken connection, a bug in a statement.
    #[error(transparent)]
    Other(sqlx::Error),
    /// Applying migrations failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for DbError {
    /// Maps sqlx's errors onto ours: a missing row is `NotFound`, a unique violation `Conflict`.
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::RowNotFound => DbError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                DbError::Conflict(db.constraint().unwrap_or_else(|| db.message()).to_owned())
            }
            other => DbError::Other(other),
        }
    }
}

/// Result alias for repository functions.
pub type DbResult<T> = Result<T, DbError>;

/// Which database a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A cheap-to-clone handle on the connection pool.
#[derive(Clone)]
pub struct Db {
    pub(crate) pool: Pool,
}

/// Pool tuning, with defaults fit for one replica.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Largest number of connections (SQLite: readers; writes are serialised by SQLite anyway).
    pub max_connections: u32,
    /// How long a request waits for a free connection before failing.
    pub acquire_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// Pool occupancy, for `/metrics`.
#[derive(Debug, Clone, Copy)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
}

/// Runs `$body` once per backend with `$pool` bound to the concrete pool, so one statement text
/// serves both databases while each keeps its own typed driver.
macro_rules! dispatch {
    ($db:expr, |$pool:ident| $body:expr) => {
        match &$db.pool {
            $crate::Pool::Sqlite($pool) => $body,
            $crate::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use dispatch;

/// Starts a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`: the write lock is
/// taken at once, waiting up to the busy timeout, where a plain (deferred) transaction would
/// take a read snapshot first and, in WAL mode, fail at once with "database is locked" when
/// another connection committed before it could upgrade to writing (seen as a rare 500 on
/// subject creation). On Postgres it is an ordinary transaction.
pub(crate) trait BeginWrite {
    type Database: sqlx::Database;

    fn begin_write(
        &self,
    ) -> impl std::future::Future<Output = sqlx::Result<sqlx::Transaction<'static, Self::Database>>> + Send;
}

impl BeginWrite for sqlx::SqlitePool {
    type Database = sqlx::Sqlite;

    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for sqlx::PgPool {
    type Database = sqlx::Postgres;

    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        self.begin().await
    }
}

/// Checks that `url` names a database this crate can open, without connecting: the scheme,
/// and every option the driver would read from it.
pub fn check_url(url: &str) -> Result<Backend, String> {
    if url.starts_with("sqlite:") {
        SqliteConnectOptions::from_str(url).map_err(|e| e.to_string())?;
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        PgConnectOptions::from_str(url).map_err(|e| e.to_string())?;
        Ok(Backend::Postgres)
    } else {
        Err("expected sqlite://PATH or postgres://USER@HOST/DB".to_owned())
    }
}

impl Db {
    /// Connects to `url` (`sqlite://path` or `postgres://…`). A SQLite file and its parent
    /// directory are created when missing; SQLite runs in WAL mode with foreign keys on.
    pub async fn connect(url: &str, options: &DbOptions) -> DbResult<Db> {
        let pool = if url.starts_with("sqlite:") {
            let connect = SqliteConnectOptions::from_str(url)
                .map_err(|e| DbError::InvalidUrl(e.to_string()))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5));
            if let Some(parent) = connect.get_filename().parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent).map_err(|e| DbError::Other(sqlx::Error::Io(e)))?;
            }
            Pool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(options.max_connections)
                    .acquire_timeout(options.acquire_timeout)
                    .connect_with(connect)
                    .await?,
            )
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let connect =
                PgConnectOptions::from_str(url).map_err(|e| DbError::InvalidUrl(e.to_string()))?;
            Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(options.max_connections)
                    .acquire_timeout(options.acquire_timeout)
                    .connect_with(connect)
                    .await?,
            )
        } else {
            return Err(DbError::InvalidUrl(
                "expected a URL starting with sqlite:// or postgres://".into(),
            ));
        };
        Ok(Db { pool })
    }

    /// Applies the backend's pending migrations.
    pub async fn migrate(&self) -> DbResult<()> {
        match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::migrate!("../migrations/sqlite").run(pool).await?;
                // Without statistics SQLite's planner misjudges the catalogue's joins; gather
                // them where they are missing or stale, bounded in cost (SQLite's advice for
                // long-lived connections).
                sqlx::raw_sql("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;")
                    .execute(pool)
                    .await?;
            }
            Pool::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// Which backend this handle talks to.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// A round trip to the database, for readiness checks.
    pub async fn ping(&self) -> DbResult<()> {
        dispatch!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Runs one statement given at run time, as is. For administration and test set-up only
    /// (creating a throwaway database); never pass it user input.
    pub async fn execute_admin(&self, sql: &str) -> DbResult<()> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        dispatch!(self, |pool| sqlx::raw_sql(sql)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Current pool occupancy.
    pub fn pool_stats(&self) -> PoolStats {
        dispatch!(self, |pool| PoolStats {
            size: pool.size(),
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
        })
    }

    /// Closes every connection; used on shutdown so SQLite checkpoints its WAL.
    pub async fn close(&self) {
        dispatch!(self, |pool| pool.close().await)
    }
}
