//! Topics: reading the `topics` tree and the `topic_links` between topics, and storing a
//! topic's text. The tree's shape (which rows exist, where they hang) is written only by
//! [`crate::projection`], from the subject's structure document.
//!
//! Every change runs in one transaction that first writes the subject row (bumping its
//! `updated_at`). That write takes the subject's lock on both backends, so changes to one
//! subject are serialised. The subject's search text is recomputed in the same transaction.

use crate::{Backend, BeginWrite, Db, DbError, DbResult, dispatch};

/// A topic without its body: what drawing the tree needs.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TopicNodeRow {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub order_key: String,
    pub title: String,
}

/// A whole topic.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TopicRow {
    pub id: i64,
    pub subject_id: i64,
    pub parent_id: Option<i64>,
    pub order_key: String,
    pub title: String,
    pub body: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A row's place in its subject's tree.
pub trait Placed {
    fn id(&self) -> i64;
    fn parent_id(&self) -> Option<i64>;
}

impl Placed for TopicNodeRow {
    fn id(&self) -> i64 {
        self.id
    }
    fn parent_id(&self) -> Option<i64> {
        self.parent_id
    }
}

impl Placed for TopicRow {
    fn id(&self) -> i64 {
        self.id
    }
    fn parent_id(&self) -> Option<i64> {
        self.parent_id
    }
}

/// One subject's rows as a tree: the root, and each topic's children in the order the rows
/// came in (sibling order, as [`Db::topic_tree`] and [`Db::subject_topics`] list them).
pub struct ByParent<'a, R> {
    pub root: &'a R,
    children: std::collections::HashMap<i64, Vec<&'a R>>,
}

impl<'a, R: Placed> ByParent<'a, R> {
    /// `None` when no row is a root (a subject always has one).
    pub fn new(rows: &'a [R]) -> Option<Self> {
        let root = rows.iter().find(|r| r.parent_id().is_none())?;
        let mut children: std::collections::HashMap<i64, Vec<&R>> =
            std::collections::HashMap::new();
        for row in rows {
            if let Some(parent) = row.parent_id() {
                children.entry(parent).or_default().push(row);
            }
        }
        Some(ByParent { root, children })
    }

    /// The children of topic `id`, in order.
    pub fn children(&self, id: i64) -> &[&'a R] {
        self.children.get(&id).map_or(&[], Vec::as_slice)
    }
}

/// A `[[slug/Title]]` reference as stored: the target subject's slug and case-folded title.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkRef {
    pub slug: String,
    pub title_key: String,
}

/// A topic's text as written: title, markdown body, its plain text and its links.
#[derive(Debug, Clone, Copy)]
pub struct TopicContent<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub body_text: &'a str,
    pub links: &'a [LinkRef],
}

/// One end of a link between topics, as a reader may see it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LinkedTopicRow {
    pub topic_id: i64,
    pub title: String,
    pub subject_slug: String,
    pub subject_title: String,
    /// For outgoing links: the case-folded title written in the link.
    pub title_key: String,
}

/// A topic linking to another, with where it stands in the list of backlinks.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BacklinkRow {
    #[sqlx(flatten)]
    pub topic: LinkedTopicRow,
    /// In another subject than the target (listed after the target subject's own).
    pub other_subject: bool,
}

impl BacklinkRow {
    /// The cursor for the page after this row.
    pub fn cursor(&self) -> BacklinkCursor {
        BacklinkCursor {
            other_subject: self.other_subject,
            topic_id: self.topic.topic_id,
        }
    }
}

/// Where a page of backlinks starts: after this row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BacklinkCursor {
    pub other_subject: bool,
    pub topic_id: i64,
}

/// SQL for "subject `s` is visible to the user whose id is the given placeholder" (0 for
/// nobody signed in; ids start at 1).
macro_rules! visible_to {
    ($viewer:literal) => {
        concat!(
            "(s.visibility <> 'private' OR s.owner_id = ",
            $viewer,
            " OR EXISTS (SELECT 1 FROM subject_members m WHERE m.subject_id = s.id AND m.user_id = ",
            $viewer,
            "))"
        )
    };
}
pub(crate) use visible_to;

/// SQL for "subject `s` may be listed to the user whose id is the given placeholder": public,
/// or theirs, or one they are a member of. Unlisted subjects are readable by link but listed
/// nowhere else.
macro_rules! listed_to {
    ($viewer:literal) => {
        concat!(
            "(s.visibility = 'public' OR s.owner_id = ",
            $viewer,
            " OR EXISTS (SELECT 1 FROM subject_members m WHERE m.subject_id = s.id AND m.user_id = ",
            $viewer,
            "))"
        )
    };
}

/// SQL for "the id of the topic a link to title key `title_key` in subject `subject` resolves
/// to": the oldest topic with that title there, by `created_at` and then id (ids are invented
/// at random, so the smallest is not the first). One probe of `topics_title_age`, whose order
/// this is; `None` (SQL NULL) when there is no such topic.
macro_rules! oldest_titled {
    ($subject:literal, $title_key:literal) => {
        concat!(
            "(SELECT o.id FROM topics o WHERE o.subject_id = ",
            $subject,
            " AND o.title_key = ",
            $title_key,
            " ORDER BY o.created_at, o.id LIMIT 1)"
        )
    };
}

/// The statement that recomputes subject `$1`'s search text (at most 400,000 characters).
pub(crate) fn reindex_statement(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "UPDATE subjects SET search_text = substr(
                title || ' ' || summary || ' ' || tags || ' ' || COALESCE(
                    (SELECT group_concat(title || ' ' || body_text, ' ')
                     FROM topics WHERE subject_id = $1), ''),
                1, 400000)
             WHERE id = $1"
        }
        Backend::Postgres => {
            "UPDATE subjects SET search_text = left(
                title || ' ' || summary || ' ' || tags || ' ' || COALESCE(
                    (SELECT string_agg(title || ' ' || body_text, ' ' ORDER BY id)
                     FROM topics WHERE subject_id = $1), ''),
                400000)
             WHERE id = $1"
        }
    }
}

/// Runs `$body` inside a transaction `$tx` that has locked subject `$subject` (bumping its
/// `updated_at` to `$now`) and recomputes its search text before committing. `$body` returns
/// `Result<T, DbError>`; an `Err` rolls everything back.
macro_rules! tree_change {
    ($db:expr, $subject:expr, $now:expr, |$tx:ident| $body:expr) => {{
        let backend = $db.backend();
        dispatch!($db, |pool| {
            let mut $tx = pool.begin_write().await?;
            let locked = sqlx::query("UPDATE subjects SET updated_at = $2 WHERE id = $1")
                .bind($subject)
                .bind($now)
                .execute(&mut *$tx)
                .await?;
            if locked.rows_affected() == 0 {
                return Err(DbError::NotFound);
            }
            let result = $body;
            match result {
                Ok(value) => {
                    sqlx::query(reindex_statement(backend))
                        .bind($subject)
                        .execute(&mut *$tx)
                        .await?;
                    $tx.commit().await?;
                    Ok::<_, DbError>(value)
                }
                Err(e) => Err(e),
            }
        })
    }};
}

/// Stores topic `$id`'s links inside transaction `$tx`.
macro_rules! insert_links {
    ($tx:ident, $id:expr, $links:expr) => {
        for link in $links {
            sqlx::query(
                "INSERT INTO topic_links (from_topic_id, to_slug, to_title_key)
                 VALUES ($1, $2, $3)",
            )
            .bind($id)
            .bind(&link.slug)
            .bind(&link.title_key)
            .execute(&mut *$tx)
            .await?;
        }
    };
}

impl Db {
    /// Every topic of a subject, without bodies, in sibling order.
    #[tracing::instrument(skip(self))]
    pub async fn topic_tree(&self, subject_id: i64) -> DbResult<Vec<TopicNodeRow>> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, TopicNodeRow>(
                "SELECT id, parent_id, order_key, title FROM topics
                 WHERE subject_id = $1 ORDER BY order_key, id",
            )
            .bind(subject_id)
            .fetch_all(pool)
            .await
        })?)
    }

    /// Every topic of a subject with its body, in sibling order (for exports).
    #[tracing::instrument(skip(self))]
    pub async fn subject_topics(&self, subject_id: i64) -> DbResult<Vec<TopicRow>> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, TopicRow>(
                "SELECT id, subject_id, parent_id, order_key, title, body, created_at, updated_at
                 FROM topics WHERE subject_id = $1 ORDER BY order_key, id",
            )
            .bind(subject_id)
            .fetch_all(pool)
            .await
        })?)
    }

    /// One topic of a subject; `NotFound` if it is not in that subject.
    #[tracing::instrument(skip(self))]
    pub async fn topic(&self, subject_id: i64, id: i64) -> DbResult<TopicRow> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, TopicRow>(
                "SELECT id, subject_id, parent_id, order_key, title, body, created_at, updated_at
                 FROM topics WHERE id = $1 AND subject_id = $2",
            )
            .bind(id)
            .bind(subject_id)
            .fetch_one(pool)
            .await
        })?)
    }

    /// A topic by id alone, whatever its subject.
    #[tracing::instrument(skip(self))]
    pub async fn topic_by_id(&self, id: i64) -> DbResult<TopicRow> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, TopicRow>(
                "SELECT id, subject_id, parent_id, order_key, title, body, created_at, updated_at
                 FROM topics WHERE id = $1",
            )
            .bind(id)
            .fetch_one(pool)
            .await
        })?)
    }

    /// The topic a `[[slug/Title]]` link leads to, if `viewer` may see it: the oldest topic of
    /// that title in that subject, as stored links resolve.
    #[tracing::instrument(skip(self))]
    pub async fn link_target(&self, link: &LinkRef, viewer: i64) -> DbResult<Option<i64>> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_scalar::<_, i64>(concat!(
                "SELECT t.id FROM subjects s JOIN topics t ON t.id = ",
                oldest_titled!("s.id", "$2"),
                " WHERE s.slug = $1 AND ",
                visible_to!("$3")
            ))
            .bind(&link.slug)
            .bind(&link.title_key)
            .bind(viewer)
            .fetch_optional(pool)
            .await
        })?)
    }

    /// Replaces a topic's title, body and links.
    #[tracing::instrument(skip(self, content))]
    pub async fn update_topic(
        &self,
        subject_id: i64,
        id: i64,
        content: TopicContent<'_>,
        now: i64,
    ) -> DbResult<()> {
        tree_change!(self, subject_id, now, |tx| {
            async {
                let done = sqlx::query(
                    "UPDATE topics SET title = $3, title_key = $4, body = $5, body_text = $6,
                                       updated_at = $7
                     WHERE id = $1 AND subject_id = $2",
                )
                .bind(id)
                .bind(subject_id)
                .bind(content.title)
                .bind(content.title.to_lowercase())
                .bind(content.body)
                .bind(content.body_text)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(DbError::NotFound);
                }
                sqlx::query("DELETE FROM topic_links WHERE from_topic_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                insert_links!(tx, id, content.links);
                Ok(())
            }
            .await
        })
    }

    /// The targets of a topic's links that exist and that `viewer` (0: nobody signed in) may
    /// see. A title resolves to the oldest topic with that title in the target subject.
    #[tracing::instrument(skip(self))]
    pub async fn outgoing_links(
        &self,
        topic_id: i64,
        viewer: i64,
    ) -> DbResult<Vec<LinkedTopicRow>> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, LinkedTopicRow>(concat!(
                "SELECT t.id AS topic_id, t.title, s.slug AS subject_slug,
                        s.title AS subject_title, l.to_title_key AS title_key
                 FROM topic_links l
                 JOIN subjects s ON s.slug = l.to_slug
                 JOIN topics t ON t.id = ",
                oldest_titled!("s.id", "l.to_title_key"),
                " WHERE l.from_topic_id = $1 AND ",
                visible_to!("$2"),
                " ORDER BY s.slug, t.title"
            ))
            .bind(topic_id)
            .bind(viewer)
            .fetch_all(pool)
            .await
        })?)
    }

    /// Topics that link to `topic_id`, if it is the topic its title resolves to: those of its
    /// own subject (whoever reads the topic may read them), and those of other subjects listed
    /// to `viewer` — public ones, and any they own or are a member of, never another's
    /// unlisted or private subject. This subject's first, then by topic id; at most `limit`,
    /// after the cursor `after` (the last row of the previous page).
    #[tracing::instrument(skip(self))]
    pub async fn backlinks(
        &self,
        subject_id: i64,
        topic_id: i64,
        viewer: i64,
        after: Option<BacklinkCursor>,
        limit: u32,
    ) -> DbResult<Vec<BacklinkRow>> {
        let after = after.unwrap_or(BacklinkCursor {
            other_subject: false,
            topic_id: i64::MIN,
        });
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, BacklinkRow>(concat!(
                "SELECT * FROM (
                   SELECT f.id AS topic_id, f.title, s.slug AS subject_slug,
                          s.title AS subject_title, l.to_title_key AS title_key,
                          s.id <> target.subject_id AS other_subject
                   FROM topics target
                   JOIN subjects ts ON ts.id = target.subject_id
                   JOIN topic_links l ON l.to_slug = ts.slug AND l.to_title_key = target.title_key
                   JOIN topics f ON f.id = l.from_topic_id
                   JOIN subjects s ON s.id = f.subject_id
                   WHERE target.id = $1 AND target.subject_id = $3 AND f.id <> target.id
                     AND target.id = ",
                oldest_titled!("target.subject_id", "target.title_key"),
                " AND (s.id = target.subject_id OR ",
                listed_to!("$2"),
                ")) b
                 WHERE (b.other_subject, b.topic_id) > ($4, $5)
                 ORDER BY b.other_subject, b.topic_id
                 LIMIT $6"
            ))
            .bind(topic_id)
            .bind(viewer)
            .bind(subject_id)
            .bind(after.other_subject)
            .bind(after.topic_id)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
        })?)
    }

    /// Subjects whose pages show something of subject `subject_id`: those with topics linking
    /// to it, and those its topics link to (their backlinks).
    #[tracing::instrument(skip(self))]
    pub async fn related_subjects(&self, subject_id: i64) -> DbResult<Vec<i64>> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_scalar(
                "SELECT f.subject_id FROM subjects me
                 JOIN topic_links l ON l.to_slug = me.slug
                 JOIN topics f ON f.id = l.from_topic_id
                 WHERE me.id = $1
                 UNION
                 SELECT s.id FROM topics f
                 JOIN topic_links l ON l.from_topic_id = f.id
                 JOIN subjects s ON s.slug = l.to_slug
                 WHERE f.subject_id = $1",
            )
            .bind(subject_id)
            .fetch_all(pool)
            .await
        })?)
    }
}
