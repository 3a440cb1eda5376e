//! A second, one-connection handle for the read-only bookkeeping `arbor-db` has no call for:
//! row counts and the empty-database check. Writes never go through it.

use std::str::FromStr;

use anyhow::Result;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{PgPool, SqlitePool};

pub enum Raw {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Raw {
    /// Connects to a database `arbor_db::Db::connect` has already opened (and so created).
    pub async fn connect(url: &str) -> Result<Raw> {
        Ok(if url.starts_with("sqlite:") {
            Raw::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(SqliteConnectOptions::from_str(url)?)
                    .await?,
            )
        } else {
            Raw::Postgres(
                PgPoolOptions::new()
                    .max_connections(1)
                    .connect_with(PgConnectOptions::from_str(url)?)
                    .await?,
            )
        })
    }

    /// The one integer `sql` (a fixed statement) returns.
    pub async fn scalar(&self, sql: &'static str) -> Result<i64> {
        Ok(match self {
            Raw::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
            Raw::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await?,
        })
    }

    pub async fn close(&self) {
        match self {
            Raw::Sqlite(pool) => pool.close().await,
            Raw::Postgres(pool) => pool.close().await,
        }
    }
}
