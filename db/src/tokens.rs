//! Personal access tokens for API clients: the `access_tokens` table (hashes only).

use crate::users::UserRow;
use crate::{Db, DbError, DbResult, dispatch};

/// A token as listed on the settings page (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct TokenUser {
    #[sqlx(flatten)]
    user: UserRow,
    token_last_used_at: Option<i64>,
}

impl Db {
    /// Stores a new token for `user_id`.
    #[tracing::instrument(skip(self, token_hash))]
    pub async fn create_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &[u8],
        now: i64,
    ) -> DbResult<TokenRow> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, TokenRow>(
                "INSERT INTO access_tokens (user_id, name, token_hash, created_at)
                 VALUES ($1, $2, $3, $4)
                 RETURNING id, name, created_at, last_used_at",
            )
            .bind(user_id)
            .bind(name)
            .bind(token_hash)
            .bind(now)
            .fetch_one(pool)
            .await
        })?)
    }

    /// The account's tokens, newest first.
    #[tracing::instrument(skip(self))]
    pub async fn list_tokens(&self, user_id: i64) -> DbResult<Vec<TokenRow>> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, TokenRow>(
                "SELECT id, name, created_at, last_used_at FROM access_tokens
                 WHERE user_id = $1 ORDER BY id DESC",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await
        })?)
    }

    /// Revokes one of the account's tokens; `NotFound` when it has no such token.
    #[tracing::instrument(skip(self))]
    pub async fn revoke_token(&self, user_id: i64, token_id: i64) -> DbResult<()> {
        let gone = dispatch!(self, |pool| {
            sqlx::query("DELETE FROM access_tokens WHERE id = $1 AND user_id = $2")
                .bind(token_id)
                .bind(user_id)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        if gone == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    /// The account a token belongs to. Its last use is recorded at minute precision: most
    /// requests of a busy client are reads only.
    #[tracing::instrument(skip_all)]
    pub async fn token_user(&self, token_hash: &[u8], now: i64) -> DbResult<UserRow> {
        let found = dispatch!(self, |pool| {
            sqlx::query_as::<_, TokenUser>(
                "SELECT u.*, t.last_used_at AS token_last_used_at
                 FROM access_tokens t JOIN users u ON u.id = t.user_id
                 WHERE t.token_hash = $1",
            )
            .bind(token_hash)
            .fetch_one(pool)
            .await
        })?;
        if found.token_last_used_at.is_none_or(|at| at < now - 60_000) {
            dispatch!(self, |pool| {
                sqlx::query("UPDATE access_tokens SET last_used_at = $2 WHERE token_hash = $1")
                    .bind(token_hash)
                    .bind(now)
                    .execute(pool)
                    .await
                    .map(|r| r.rows_affected())
            })?;
        }
        Ok(found.user)
    }

    /// The id of the account a token belongs to, without recording a use.
    #[tracing::instrument(skip_all)]
    pub async fn token_owner(&self, token_hash: &[u8]) -> DbResult<i64> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_scalar::<_, i64>("SELECT user_id FROM access_tokens WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_one(pool)
                .await
        })?)
    }
}
