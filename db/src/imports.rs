//! A subject's import history: each import's file as uploaded and what it changed (opaque
//! JSON here, written by the app), so the file can be downloaded again and the subject rolled
//! back to the state before the import, once.

use crate::{Db, DbError, DbResult, dispatch};

/// An import as recorded.
#[derive(Debug, Clone, Copy)]
pub struct NewImport<'a> {
    pub subject_id: i64,
    pub user_id: i64,
    pub format: &'a str,
    pub filename: &'a str,
    pub source: &'a str,
    pub topics: i64,
    pub undo: &'a str,
    pub now: i64,
}

/// An import as listed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ImportRow {
    pub id: i64,
    /// Who imported (absent once their account is deleted).
    pub username: Option<String>,
    pub format: String,
    pub filename: String,
    pub topics: i64,
    pub created_at: i64,
    pub rolled_back_at: Option<i64>,
}

/// An import's file.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ImportSource {
    pub format: String,
    pub filename: String,
    pub source: String,
}

impl Db {
    /// Records an import; returns its id.
    #[tracing::instrument(skip(self, import), fields(subject = import.subject_id))]
    pub async fn record_import(&self, import: NewImport<'_>) -> DbResult<i64> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO subject_imports (subject_id, user_id, format, filename, source,
                                              topics, undo, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(import.subject_id)
            .bind(import.user_id)
            .bind(import.format)
            .bind(import.filename)
            .bind(import.source)
            .bind(import.topics)
            .bind(import.undo)
            .bind(import.now)
            .fetch_one(pool)
            .await
        })?)
    }

    /// A subject's imports, newest first.
    #[tracing::instrument(skip(self))]
    pub async fn imports(&self, subject_id: i64) -> DbResult<Vec<ImportRow>> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, ImportRow>(
                "SELECT i.id, u.username, i.format, i.filename, i.topics, i.created_at,
                        i.rolled_back_at
                 FROM subject_imports i LEFT JOIN users u ON u.id = i.user_id
                 WHERE i.subject_id = $1 ORDER BY i.id DESC",
            )
            .bind(subject_id)
            .fetch_all(pool)
            .await
        })?)
    }

    /// An import's file; `NotFound` if it is not one of this subject's.
    #[tracing::instrument(skip(self))]
    pub async fn import_source(&self, subject_id: i64, id: i64) -> DbResult<ImportSource> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, ImportSource>(
                "SELECT format, filename, source FROM subject_imports
                 WHERE id = $1 AND subject_id = $2",
            )
            .bind(id)
            .bind(subject_id)
            .fetch_one(pool)
            .await
        })?)
    }

    /// Claims an import for rolling back, returning what it changed: `Conflict` when it was
    /// rolled back already (or is being), `NotFound` if it is not this subject's. Exactly one
    /// of several concurrent claims wins.
    #[tracing::instrument(skip(self))]
    pub async fn claim_rollback(&self, subject_id: i64, id: i64, now: i64) -> DbResult<String> {
        Ok(dispatch!(self, |pool| {
            let undo: Option<String> = sqlx::query_scalar(
                "UPDATE subject_imports SET rolled_back_at = $3
                 WHERE id = $1 AND subject_id = $2 AND rolled_back_at IS NULL RETURNING undo",
            )
            .bind(id)
            .bind(subject_id)
            .bind(now)
            .fetch_optional(pool)
            .await?;
            match undo {
                Some(undo) => Ok(undo),
                None => {
                    let exists: Option<i64> = sqlx::query_scalar(
                        "SELECT id FROM subject_imports WHERE id = $1 AND subject_id = $2",
                    )
                    .bind(id)
                    .bind(subject_id)
                    .fetch_optional(pool)
                    .await?;
                    Err(match exists {
                        Some(_) => DbError::Conflict("rolled back already".into()),
                        None => DbError::NotFound,
                    })
                }
            }
        })?)
    }

    /// Gives a claim back (the rollback could not be done); `NotFound` if the import is not
    /// this subject's (or is gone).
    #[tracing::instrument(skip(self))]
    pub async fn release_rollback(&self, subject_id: i64, id: i64) -> DbResult<()> {
        let done = dispatch!(self, |pool| {
            sqlx::query(
                "UPDATE subject_imports SET rolled_back_at = NULL WHERE id = $1 AND subject_id = $2",
            )
            .bind(id)
            .bind(subject_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }
}
