//! Accounts: the `users` table.

use crate::{BeginWrite, Db, DbError, DbResult, dispatch};

/// An account as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    /// As the person typed it.
    pub username: String,
    pub display_name: String,
    pub bio: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What creating an account needs; the caller has validated every field.
#[derive(Debug, Clone, Copy)]
pub struct NewUser<'a> {
    pub username: &'a str,
    /// The case-folded username that uniqueness is checked on.
    pub username_key: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub now: i64,
}

/// The columns of [`UserRow`], for `concat!` into statements.
macro_rules! user_columns {
    () => {
        "id, username, display_name, bio, password_hash, created_at, updated_at"
    };
}

impl Db {
    /// Creates an account. A taken username (in any letter case) is `Conflict`.
    #[tracing::instrument(skip(self, new), fields(username = new.username))]
    pub async fn create_user(&self, new: NewUser<'_>) -> DbResult<UserRow> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, UserRow>(
                "INSERT INTO users (username, username_key, display_name, bio, password_hash, created_at, updated_at)
                 VALUES ($1, $2, $3, '', $4, $5, $5)
                 RETURNING id, username, display_name, bio, password_hash, created_at, updated_at",
            )
            .bind(new.username)
            .bind(new.username_key)
            .bind(new.display_name)
            .bind(new.password_hash)
            .bind(new.now)
            .fetch_one(pool)
            .await
        })?)
    }

    /// Looks an account up by its case-folded username.
    #[tracing::instrument(skip(self))]
    pub async fn user_by_key(&self, username_key: &str) -> DbResult<UserRow> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, UserRow>(concat!(
                "SELECT ",
                user_columns!(),
                " FROM users WHERE username_key = $1"
            ))
            .bind(username_key)
            .fetch_one(pool)
            .await
        })?)
    }

    /// Looks an account up by id.
    #[tracing::instrument(skip(self))]
    pub async fn user_by_id(&self, id: i64) -> DbResult<UserRow> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, UserRow>(concat!(
                "SELECT ",
                user_columns!(),
                " FROM users WHERE id = $1"
            ))
            .bind(id)
            .fetch_one(pool)
            .await
        })?)
    }

    /// Replaces the public profile fields.
    #[tracing::instrument(skip(self, bio))]
    pub async fn update_profile(
        &self,
        id: i64,
        display_name: &str,
        bio: &str,
        now: i64,
    ) -> DbResult<UserRow> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, UserRow>(concat!(
                "UPDATE users SET display_name = $2, bio = $3, updated_at = $4 WHERE id = $1
                 RETURNING ",
                user_columns!(),
                ""
            ))
            .bind(id)
            .bind(display_name)
            .bind(bio)
            .bind(now)
            .fetch_one(pool)
            .await
        })?)
    }

    /// Stores a new password hash and, in the same transaction, ends every session of the
    /// account except `keep_session` (the one that asked for the change, if any).
    #[tracing::instrument(skip(self, password_hash, keep_session))]
    pub async fn change_password(
        &self,
        id: i64,
        password_hash: &str,
        keep_session: Option<&[u8]>,
        now: i64,
    ) -> DbResult<()> {
        let keep = keep_session.unwrap_or_default().to_vec();
        dispatch!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let updated =
                sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
                    .bind(id)
                    .bind(password_hash)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            if updated.rows_affected() == 0 {
                return Err(DbError::NotFound);
            }
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
                .bind(id)
                .bind(&keep)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Deletes an account; its sessions and tokens go with it (foreign keys cascade).
    #[tracing::instrument(skip(self))]
    pub async fn delete_user(&self, id: i64) -> DbResult<()> {
        let done = dispatch!(self, |pool| {
            sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(id)
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
