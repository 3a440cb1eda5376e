//! What readers do with subjects and authors: likes, saves, views and follows, and the lists
//! built from them (the feed, saved subjects, trending).
//!
//! A counter on the subject row changes in the same transaction as the row that justifies it
//! and only when that row really appeared or went, so counts are exact under any concurrency
//! and cannot go negative.

use crate::subjects::{SubjectRow, subject_columns, subject_select};
use crate::{BeginWrite, Db, DbError, DbResult, dispatch};

/// Which per-user mark on a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Like,
    Save,
}

impl Mark {
    fn insert(self) -> &'static str {
        match self {
            Mark::Like => {
                "INSERT INTO likes (user_id, subject_id, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING"
            }
            Mark::Save => {
                "INSERT INTO saves (user_id, subject_id, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING"
            }
        }
    }

    fn delete(self) -> &'static str {
        match self {
            Mark::Like => "DELETE FROM likes WHERE user_id = $1 AND subject_id = $2",
            Mark::Save => "DELETE FROM saves WHERE user_id = $1 AND subject_id = $2",
        }
    }

    fn bump(self, up: bool) -> &'static str {
        match (self, up) {
            (Mark::Like, true) => "UPDATE subjects SET like_count = like_count + 1 WHERE id = $1",
            (Mark::Like, false) => "UPDATE subjects SET like_count = like_count - 1 WHERE id = $1",
            (Mark::Save, true) => "UPDATE subjects SET save_count = save_count + 1 WHERE id = $1",
            (Mark::Save, false) => "UPDATE subjects SET save_count = save_count - 1 WHERE id = $1",
        }
    }
}

/// A reader's marks on one subject.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Marks {
    pub liked: bool,
    pub saved: bool,
}

/// Follower and following counts of a person.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FollowCounts {
    pub followers: i64,
    pub following: i64,
}

/// A position in a list ordered by (time, id) descending: the last item seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeCursor {
    pub at: i64,
    pub id: i64,
}

impl Db {
    /// Sets (`on`) or clears a like or save; returns whether anything changed. Setting twice
    /// or clearing twice is a no-op, so the calls are idempotent.
    #[tracing::instrument(skip(self))]
    pub async fn set_mark(
        &self,
        mark: Mark,
        user_id: i64,
        subject_id: i64,
        on: bool,
        now: i64,
    ) -> DbResult<bool> {
        dispatch!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let changed = if on {
                sqlx::query(mark.insert())
                    .bind(user_id)
                    .bind(subject_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
            } else {
                sqlx::query(mark.delete())
                    .bind(user_id)
                    .bind(subject_id)
                    .execute(&mut *tx)
                    .await?
            }
            .rows_affected()
                > 0;
            if changed {
                sqlx::query(mark.bump(on))
                    .bind(subject_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<bool, DbError>(changed)
        })
    }

    /// Whether `user_id` likes and saves the subject.
    #[tracing::instrument(skip(self))]
    pub async fn marks(&self, user_id: i64, subject_id: i64) -> DbResult<Marks> {
        let (liked, saved): (bool, bool) = dispatch!(self, |pool| {
            sqlx::query_as(
                "SELECT EXISTS (SELECT 1 FROM likes WHERE user_id = $1 AND subject_id = $2),
                        EXISTS (SELECT 1 FROM saves WHERE user_id = $1 AND subject_id = $2)",
            )
            .bind(user_id)
            .bind(subject_id)
            .fetch_one(pool)
            .await
        })?;
        Ok(Marks { liked, saved })
    }

    /// Counts a view by `viewer` unless they were counted within `window_ms`; returns whether
    /// it counted.
    #[tracing::instrument(skip(self))]
    pub async fn record_view(
        &self,
        subject_id: i64,
        viewer: &str,
        now: i64,
        window_ms: i64,
    ) -> DbResult<bool> {
        dispatch!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let counted = sqlx::query(
                "INSERT INTO subject_views (subject_id, viewer, counted_at) VALUES ($1, $2, $3)
                 ON CONFLICT (subject_id, viewer) DO UPDATE SET counted_at = excluded.counted_at
                 WHERE subject_views.counted_at <= $4",
            )
            .bind(subject_id)
            .bind(viewer)
            .bind(now)
            .bind(now - window_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                > 0;
            if counted {
                sqlx::query("UPDATE subjects SET view_count = view_count + 1 WHERE id = $1")
                    .bind(subject_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<bool, DbError>(counted)
        })
    }

    /// Follows (`on`) or unfollows a person; returns whether anything changed.
    #[tracing::instrument(skip(self))]
    pub async fn set_follow(
        &self,
        follower_id: i64,
        followee_id: i64,
        on: bool,
        now: i64,
    ) -> DbResult<bool> {
        let done = dispatch!(self, |pool| {
            if on {
                sqlx::query(
                    "INSERT INTO follows (follower_id, followee_id, created_at)
                     VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(follower_id)
                .bind(followee_id)
                .bind(now)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
            } else {
                sqlx::query("DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2")
                    .bind(follower_id)
                    .bind(followee_id)
                    .execute(pool)
                    .await
                    .map(|r| r.rows_affected())
            }
        })?;
        Ok(done > 0)
    }

    /// Whether `follower_id` follows `followee_id`.
    #[tracing::instrument(skip(self))]
    pub async fn follows(&self, follower_id: i64, followee_id: i64) -> DbResult<bool> {
        let n: i64 = dispatch!(self, |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM follows WHERE follower_id = $1 AND followee_id = $2",
            )
            .bind(follower_id)
            .bind(followee_id)
            .fetch_one(pool)
            .await
        })?;
        Ok(n > 0)
    }

    /// How many people follow `user_id`, and how many it follows.
    #[tracing::instrument(skip(self))]
    pub async fn follow_counts(&self, user_id: i64) -> DbResult<FollowCounts> {
        let (followers, following): (i64, i64) = dispatch!(self, |pool| {
            sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM follows WHERE followee_id = $1),
                        (SELECT COUNT(*) FROM follows WHERE follower_id = $1)",
            )
            .bind(user_id)
            .fetch_one(pool)
            .await
        })?;
        Ok(FollowCounts {
            followers,
            following,
        })
    }

    /// Public subjects by the people `user_id` follows, most recently updated first, after
    /// `cursor` (`updated_at`, id).
    #[tracing::instrument(skip(self))]
    pub async fn feed(
        &self,
        user_id: i64,
        cursor: Option<TimeCursor>,
        limit: i64,
    ) -> DbResult<Vec<SubjectRow>> {
        let (at, id) = cursor.map_or((i64::MAX, i64::MAX), |c| (c.at, c.id));
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, SubjectRow>(concat!(
                subject_select!(),
                "JOIN follows f ON f.followee_id = s.owner_id AND f.follower_id = $1
                 WHERE s.visibility = 'public'
                   AND (s.updated_at, s.id) < ($2, $3)
                 ORDER BY s.updated_at DESC, s.id DESC LIMIT $4"
            ))
            .bind(user_id)
            .bind(at)
            .bind(id)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?)
    }

    /// The subjects `user_id` saved and may still see, most recently saved first, after
    /// `cursor` (save time, subject id).
    #[tracing::instrument(skip(self))]
    pub async fn saved_subjects(
        &self,
        user_id: i64,
        cursor: Option<TimeCursor>,
        limit: i64,
    ) -> DbResult<Vec<(SubjectRow, i64)>> {
        #[derive(sqlx::FromRow)]
        struct Saved {
            #[sqlx(flatten)]
            subject: SubjectRow,
            saved_at: i64,
        }
        let (at, id) = cursor.map_or((i64::MAX, i64::MAX), |c| (c.at, c.id));
        let rows = dispatch!(self, |pool| {
            sqlx::query_as::<_, Saved>(concat!(
                "SELECT ",
                subject_columns!(),
                ", v.created_at AS saved_at
                 FROM subjects s JOIN users u ON u.id = s.owner_id
                 JOIN saves v ON v.subject_id = s.id AND v.user_id = $1
                 WHERE ",
                crate::topics::visible_to!("$1"),
                " AND (v.created_at, s.id) < ($2, $3)
                 ORDER BY v.created_at DESC, s.id DESC LIMIT $4"
            ))
            .bind(user_id)
            .bind(at)
            .bind(id)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows.into_iter().map(|r| (r.subject, r.saved_at)).collect())
    }
}
