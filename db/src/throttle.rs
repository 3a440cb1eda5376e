//! The sign-in throttle's shared state: fixed-window attempt counters in `login_throttle`,
//! keyed by whatever the caller chooses (a username, a client address). Living in the database
//! makes the limit hold across replicas.

use crate::{Db, DbResult, dispatch};

/// A counter's state: failures counted in the window that began at `window_start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct ThrottleWindow {
    pub window_start: i64,
    pub failures: i64,
}

impl Db {
    /// The counter for `key` if its window is still open at `now` (windows last `window_ms`).
    #[tracing::instrument(skip(self))]
    pub async fn throttle_window(
        &self,
        key: &str,
        now: i64,
        window_ms: i64,
    ) -> DbResult<Option<ThrottleWindow>> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, ThrottleWindow>(
                "SELECT window_start, failures FROM login_throttle
                 WHERE key = $1 AND window_start > $2",
            )
            .bind(key)
            .bind(now - window_ms)
            .fetch_optional(pool)
            .await
        })?)
    }

    /// Counts one attempt against `key`, opening a new window when the old one has passed, and
    /// returns the window with this attempt counted. Atomic: concurrent attempts on any replica
    /// are all counted, so comparing the returned count with a limit is race-free.
    #[tracing::instrument(skip(self))]
    pub async fn throttle_hit(
        &self,
        key: &str,
        now: i64,
        window_ms: i64,
    ) -> DbResult<ThrottleWindow> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, ThrottleWindow>(
                "INSERT INTO login_throttle (key, window_start, failures) VALUES ($1, $2, 1)
                 ON CONFLICT (key) DO UPDATE SET
                   failures = CASE WHEN login_throttle.window_start <= $3
                                   THEN 1 ELSE login_throttle.failures + 1 END,
                   window_start = CASE WHEN login_throttle.window_start <= $3
                                       THEN $2 ELSE login_throttle.window_start END
                 RETURNING window_start, failures",
            )
            .bind(key)
            .bind(now)
            .bind(now - window_ms)
            .fetch_one(pool)
            .await
        })?)
    }

    /// Takes back one attempt counted against `key` (it turned out to be legitimate). Never
    /// goes below zero.
    #[tracing::instrument(skip(self))]
    pub async fn throttle_forgive(&self, key: &str) -> DbResult<()> {
        dispatch!(self, |pool| {
            sqlx::query(
                "UPDATE login_throttle SET failures = failures - 1 WHERE key = $1 AND failures > 0",
            )
            .bind(key)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Forgets the attempts counted against `key` (after a successful sign-in).
    #[tracing::instrument(skip(self))]
    pub async fn throttle_reset(&self, key: &str) -> DbResult<()> {
        dispatch!(self, |pool| {
            sqlx::query("DELETE FROM login_throttle WHERE key = $1")
                .bind(key)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Drops counters whose window closed before `cutoff`.
    #[tracing::instrument(skip(self))]
    pub async fn throttle_prune(&self, cutoff: i64) -> DbResult<u64> {
        Ok(dispatch!(self, |pool| {
            sqlx::query("DELETE FROM login_throttle WHERE window_start <= $1")
                .bind(cutoff)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?)
    }
}
