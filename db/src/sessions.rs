//! Browser sessions: the `sessions` table. Only a hash of each session token is stored.

use crate::users::UserRow;
use crate::{Db, DbResult, dispatch};

/// A live session joined with its account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionUser {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub session_created_at: i64,
    pub session_last_seen_at: i64,
    pub session_expires_at: i64,
}

/// A session as listed to its owner (the token hash identifies it, never leaves the server).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    pub token_hash: Vec<u8>,
    pub created_at: i64,
    pub last_seen_at: i64,
}

impl Db {
    /// The account's live sessions, most recently used first.
    #[tracing::instrument(skip(self))]
    pub async fn list_sessions(
        &self,
        user_id: i64,
        now: i64,
        idle_cutoff: i64,
    ) -> DbResult<Vec<SessionRow>> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, SessionRow>(
                "SELECT token_hash, created_at, last_seen_at FROM sessions
                 WHERE user_id = $1 AND expires_at > $2 AND last_seen_at > $3
                 ORDER BY last_seen_at DESC, created_at DESC",
            )
            .bind(user_id)
            .bind(now)
            .bind(idle_cutoff)
            .fetch_all(pool)
            .await
        })?)
    }

    /// Ends every session of the account except `keep`; returns how many ended.
    #[tracing::instrument(skip(self, keep))]
    pub async fn delete_other_sessions(&self, user_id: i64, keep: Option<&[u8]>) -> DbResult<u64> {
        let keep = keep.unwrap_or_default().to_vec();
        Ok(dispatch!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
                .bind(user_id)
                .bind(&keep)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?)
    }

    /// Stores a new session for `user_id` that lapses at `expires_at` at the latest.
    #[tracing::instrument(skip(self, token_hash))]
    pub async fn create_session(
        &self,
        token_hash: &[u8],
        user_id: i64,
        now: i64,
        expires_at: i64,
    ) -> DbResult<()> {
        dispatch!(self, |pool| {
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at)
                 VALUES ($1, $2, $3, $3, $4)",
            )
            .bind(token_hash)
            .bind(user_id)
            .bind(now)
            .bind(expires_at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// The account behind a session that has neither passed its absolute expiry nor been idle
    /// since before `idle_cutoff`. `NotFound` for unknown or lapsed sessions.
    #[tracing::instrument(skip_all)]
    pub async fn session_user(
        &self,
        token_hash: &[u8],
        now: i64,
        idle_cutoff: i64,
    ) -> DbResult<SessionUser> {
        const SQL: &str = concat!(
            "SELECT ",
            "u.*, ",
            "s.created_at AS session_created_at, s.last_seen_at AS session_last_seen_at, ",
            "s.expires_at AS session_expires_at ",
            "FROM sessions s JOIN users u ON u.id = s.user_id ",
            "WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3"
        );
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, SessionUser>(SQL)
                .bind(token_hash)
                .bind(now)
                .bind(idle_cutoff)
                .fetch_one(pool)
                .await
        })?)
    }

    /// Records activity on a session, which pushes back its idle expiry.
    #[tracing::instrument(skip_all)]
    pub async fn touch_session(&self, token_hash: &[u8], now: i64) -> DbResult<()> {
        dispatch!(self, |pool| {
            sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
                .bind(token_hash)
                .bind(now)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Ends one session. Ending a session that does not exist is not an error.
    #[tracing::instrument(skip_all)]
    pub async fn delete_session(&self, token_hash: &[u8]) -> DbResult<()> {
        dispatch!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// How many sessions of an account have not passed their absolute expiry.
    #[tracing::instrument(skip(self))]
    pub async fn count_sessions(&self, user_id: i64, now: i64) -> DbResult<i64> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND expires_at > $2",
            )
            .bind(user_id)
            .bind(now)
            .fetch_one(pool)
            .await
        })?)
    }

    /// Removes sessions past their absolute expiry or idle since before `idle_cutoff`; returns
    /// how many went.
    #[tracing::instrument(skip(self))]
    pub async fn delete_expired_sessions(&self, now: i64, idle_cutoff: i64) -> DbResult<u64> {
        Ok(dispatch!(self, |pool| {
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
                .bind(now)
                .bind(idle_cutoff)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?)
    }
}
