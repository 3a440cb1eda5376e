//! Subjects: the `subjects`, `subject_tags` and `subject_members` tables, and the subject's
//! search text.

use crate::{BeginWrite, Db, DbError, DbResult, dispatch};

/// A subject as shown anywhere: with its owner's names and its counters.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SubjectRow {
    pub id: i64,
    pub slug: String,
    pub owner_id: i64,
    pub owner_username: String,
    pub owner_display_name: String,
    pub title: String,
    pub summary: String,
    /// Normalised tags, space-separated.
    pub tags: String,
    /// `public`, `unlisted` or `private`.
    pub visibility: String,
    pub like_count: i64,
    pub save_count: i64,
    pub view_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub published_at: Option<i64>,
}

/// The columns of a [`SubjectRow`]; the subject is `s`, its owner `u`.
macro_rules! subject_columns {
    () => {
        "s.id, s.slug, s.owner_id, u.username AS owner_username,
         u.display_name AS owner_display_name, s.title, s.summary, s.tags, s.visibility,
         s.like_count, s.save_count, s.view_count, s.created_at, s.updated_at, s.published_at"
    };
}
pub(crate) use subject_columns;

/// The `SELECT … FROM` that yields [`SubjectRow`]s.
macro_rules! subject_select {
    () => {
        concat!(
            "SELECT ",
            $crate::subjects::subject_columns!(),
            " FROM subjects s JOIN users u ON u.id = s.owner_id "
        )
    };
}
pub(crate) use subject_select;

/// What creating a subject needs; every field already checked by the caller.
#[derive(Debug, Clone, Copy)]
pub struct NewSubject<'a> {
    pub slug: &'a str,
    pub owner_id: i64,
    pub title: &'a str,
    pub summary: &'a str,
    pub tags: &'a [String],
    pub visibility: &'a str,
    /// The root topic's id, chosen by the caller in the space of invented ids (never the
    /// table's own sequence, which a projected id could have moved).
    pub root_id: i64,
    /// The root topic's order key.
    pub root_order_key: &'a str,
    pub now: i64,
}

/// The editable fields of a subject.
#[derive(Debug, Clone, Copy)]
pub struct SubjectUpdate<'a> {
    pub title: &'a str,
    pub summary: &'a str,
    pub tags: &'a [String],
    pub visibility: &'a str,
    pub now: i64,
}

/// A collaborator of a subject.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MemberRow {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    /// `editor` or `viewer`.
    pub role: String,
    pub created_at: i64,
}

/// The search token standing for `tag` in the full-text index: `t` and the tag's UTF-8 bytes
/// in hex, one word to every tokenizer and never a word people type. Indexed beside the text
/// (`subjects.tag_tokens`), so "these words and this tag" is one index intersection.
pub fn tag_token(tag: &str) -> String {
    let mut token = String::with_capacity(1 + 2 * tag.len());
    token.push('t');
    for byte in tag.bytes() {
        token.push_str(&format!("{byte:02x}"));
    }
    token
}

fn tag_tokens(tags: &[String]) -> String {
    tags.iter()
        .map(|t| tag_token(t))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Db {
    /// Creates a subject and its root topic (titled like the subject). A taken slug is
    /// `Conflict("slug")`; a taken root id is a `Conflict` too (the caller draws again).
    #[tracing::instrument(skip(self, new), fields(slug = new.slug))]
    pub async fn create_subject(&self, new: NewSubject<'_>) -> DbResult<SubjectRow> {
        let tags = new.tags.join(" ");
        let tokens = tag_tokens(new.tags);
        let published = (new.visibility != "private").then_some(new.now);
        let id = dispatch!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let inserted: Result<i64, _> = sqlx::query_scalar(
                "INSERT INTO subjects (slug, owner_id, title, summary, tags, visibility,
                                       created_at, updated_at, published_at, tag_tokens)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9) RETURNING id",
            )
            .bind(new.slug)
            .bind(new.owner_id)
            .bind(new.title)
            .bind(new.summary)
            .bind(&tags)
            .bind(new.visibility)
            .bind(new.now)
            .bind(published)
            .bind(&tokens)
            .fetch_one(&mut *tx)
            .await;
            let id = match inserted {
                Ok(id) => id,
                Err(e) => {
                    // Rolled back here and now, so the connection goes back to the pool clean
                    // before the caller retries with another slug.
                    tx.rollback().await?;
                    return Err(match DbError::from(e) {
                        DbError::Conflict(_) => DbError::Conflict("slug".into()),
                        other => other,
                    });
                }
            };
            for tag in new.tags {
                sqlx::query("INSERT INTO subject_tags (subject_id, tag) VALUES ($1, $2)")
                    .bind(id)
                    .bind(tag)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(
                "INSERT INTO topics (id, subject_id, parent_id, order_key, title, title_key,
                                     created_at, updated_at)
                 VALUES ($6, $1, NULL, $2, $3, $4, $5, $5)",
            )
            .bind(id)
            .bind(new.root_order_key)
            .bind(new.title)
            .bind(new.title.to_lowercase())
            .bind(new.now)
            .bind(new.root_id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<i64, DbError>(id)
        })?;
        self.reindex_subject(id).await?;
        self.subject_by_id(id).await
    }

    /// A subject by id.
    #[tracing::instrument(skip(self))]
    pub async fn subject_by_id(&self, id: i64) -> DbResult<SubjectRow> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, SubjectRow>(concat!(subject_select!(), "WHERE s.id = $1"))
                .bind(id)
                .fetch_one(pool)
                .await
        })?)
    }

    /// A subject by slug.
    #[tracing::instrument(skip(self))]
    pub async fn subject_by_slug(&self, slug: &str) -> DbResult<SubjectRow> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, SubjectRow>(concat!(subject_select!(), "WHERE s.slug = $1"))
                .bind(slug)
                .fetch_one(pool)
                .await
        })?)
    }

    /// Whether a slug is taken.
    #[tracing::instrument(skip(self))]
    pub async fn slug_exists(&self, slug: &str) -> DbResult<bool> {
        let n: i64 = dispatch!(self, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM subjects WHERE slug = $1")
                .bind(slug)
                .fetch_one(pool)
                .await
        })?;
        Ok(n > 0)
    }

    /// Replaces the editable fields; `published_at` is set the first time the subject leaves
    /// `private`.
    #[tracing::instrument(skip(self, update))]
    pub async fn update_subject(&self, id: i64, update: SubjectUpdate<'_>) -> DbResult<()> {
        let tags = update.tags.join(" ");
        let tokens = tag_tokens(update.tags);
        dispatch!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE subjects SET title = $2, summary = $3, tags = $4, visibility = $5,
                        updated_at = $6, tag_tokens = $7,
                        published_at = CASE WHEN published_at IS NULL AND $5 <> 'private'
                                            THEN $6 ELSE published_at END
                 WHERE id = $1",
            )
            .bind(id)
            .bind(update.title)
            .bind(update.summary)
            .bind(&tags)
            .bind(update.visibility)
            .bind(update.now)
            .bind(&tokens)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(DbError::NotFound);
            }
            sqlx::query("DELETE FROM subject_tags WHERE subject_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            for tag in update.tags {
                sqlx::query("INSERT INTO subject_tags (subject_id, tag) VALUES ($1, $2)")
                    .bind(id)
                    .bind(tag)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok::<(), DbError>(())
        })?;
        self.reindex_subject(id).await
    }

    /// Deletes a subject and everything under it (topics, links, likes, saves, views,
    /// collaborators).
    #[tracing::instrument(skip(self))]
    pub async fn delete_subject(&self, id: i64) -> DbResult<()> {
        let done = dispatch!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            // Topics first, leaves before parents is not needed: the parent key cascades, but
            // deleting by subject in one statement keeps the cascade shallow.
            sqlx::query("UPDATE topics SET parent_id = NULL WHERE subject_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM topics WHERE subject_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let done = sqlx::query("DELETE FROM subjects WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Ok::<u64, DbError>(done)
        })?;
        if done == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    /// Recomputes the subject's search text from its fields and every topic's title and text.
    #[tracing::instrument(skip(self))]
    pub async fn reindex_subject(&self, id: i64) -> DbResult<()> {
        let statement = crate::topics::reindex_statement(self.backend());
        dispatch!(self, |pool| sqlx::query(statement)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Marks the subject as changed now (its page and feed position depend on it);
    /// `NotFound` if there is no such subject.
    #[tracing::instrument(skip(self))]
    pub async fn touch_subject(&self, id: i64, now: i64) -> DbResult<()> {
        let done = dispatch!(self, |pool| {
            sqlx::query("UPDATE subjects SET updated_at = $2 WHERE id = $1")
                .bind(id)
                .bind(now)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    /// The role `user_id` holds on a subject as collaborator (`editor`/`viewer`), if any.
    #[tracing::instrument(skip(self))]
    pub async fn member_role(&self, subject_id: i64, user_id: i64) -> DbResult<Option<String>> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_scalar(
                "SELECT role FROM subject_members WHERE subject_id = $1 AND user_id = $2",
            )
            .bind(subject_id)
            .bind(user_id)
            .fetch_optional(pool)
            .await
        })?)
    }

    /// Adds a collaborator or changes their role.
    #[tracing::instrument(skip(self))]
    pub async fn set_member(
        &self,
        subject_id: i64,
        user_id: i64,
        role: &str,
        now: i64,
    ) -> DbResult<()> {
        dispatch!(self, |pool| {
            sqlx::query(
                "INSERT INTO subject_members (subject_id, user_id, role, created_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (subject_id, user_id) DO UPDATE SET role = excluded.role",
            )
            .bind(subject_id)
            .bind(user_id)
            .bind(role)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// Removes a collaborator; `NotFound` if they were not one.
    #[tracing::instrument(skip(self))]
    pub async fn remove_member(&self, subject_id: i64, user_id: i64) -> DbResult<()> {
        let done = dispatch!(self, |pool| {
            sqlx::query("DELETE FROM subject_members WHERE subject_id = $1 AND user_id = $2")
                .bind(subject_id)
                .bind(user_id)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    /// A subject's collaborators, in the order they were invited.
    #[tracing::instrument(skip(self))]
    pub async fn members(&self, subject_id: i64) -> DbResult<Vec<MemberRow>> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, MemberRow>(
                "SELECT m.user_id, u.username, u.display_name, m.role, m.created_at
                 FROM subject_members m JOIN users u ON u.id = m.user_id
                 WHERE m.subject_id = $1 ORDER BY m.created_at, m.user_id",
            )
            .bind(subject_id)
            .fetch_all(pool)
            .await
        })?)
    }
}
