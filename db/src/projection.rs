//! The `topics` rows of a subject as a projection of its structure document: one transaction
//! makes the rows match a resolved tree (insert, move, rename, trash, purge), and the trash
//! (`topic_trash`) keeps what left the tree until it comes back or is purged.
//!
//! The caller resolves the tree from the document and prepares the text of topics that have no
//! row (new ones, or ones coming back from the trash), since reading a live body document is
//! not this crate's business. The transaction locks the subject row first, so projections of
//! one subject are serialised across replicas; if it finds a topic without a row that the
//! caller did not prepare (another replica moved it to the trash meanwhile), it changes nothing
//! and answers [`Projected::Stale`] for the caller to prepare again.
//!
//! Ids are not trusted: a topic gets a row only if its id has one in the subject already (or a
//! trash row), or lies among the ids writers invent and nothing of another subject holds it
//! (a row, a trash row, a body document); anything else is foreign and left out, with its
//! subtree.

use std::collections::{HashMap, HashSet};

use crate::topics::{LinkRef, reindex_statement};
use crate::{BeginWrite, Db, DbError, DbResult, dispatch};

/// A topic where the tree puts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedTopic {
    pub id: i64,
    /// `None` for the root.
    pub parent_id: Option<i64>,
    pub order_key: String,
    pub title: String,
}

/// The text of a topic that gets a row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FreshText {
    pub body: String,
    pub body_text: String,
    pub links: Vec<LinkRef>,
}

/// A topic the tree has in its trash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InTrash {
    pub id: i64,
    /// When its subtree was deleted (Unix ms).
    pub deleted_at: i64,
    /// Its title as the document holds it, made fit for a row; `None` once the document no
    /// longer holds it (the trash row keeps it then).
    pub title: Option<String>,
}

/// What a subject's rows should become.
#[derive(Debug, Clone, Default)]
pub struct TreeProjection {
    /// Every topic of the tree, the root first and each parent before its children.
    pub nodes: Vec<PlacedTopic>,
    /// Text for topics that have no row yet.
    pub fresh: HashMap<i64, FreshText>,
    /// Every topic in the trash. Each gets a trash row (its title, and its last body if it
    /// had a row); rows of topics neither in the tree nor in the trash are deleted for good,
    /// with their documents.
    pub trashed: Vec<InTrash>,
    /// The ids a topic without a row here may take (the ids writers invent); any other id is
    /// foreign.
    pub new_ids: std::ops::Range<i64>,
}

/// What a projection did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Projected {
    /// Rows inserted, updated, trashed and deleted (0: nothing to do, nothing written).
    pub changes: usize,
    /// Topic rows deleted (trashed or gone), among the changes: their live documents' readers
    /// must re-check.
    pub removed: usize,
    /// Topics of the tree that were not projected because their id is foreign (with
    /// everything under them): it has no row here and lies outside the new ids, or has a
    /// row, a trash row or a body document of another subject.
    pub foreign: Vec<i64>,
    /// A topic of the tree has no row and no prepared text: nothing was written; prepare
    /// again.
    pub stale: bool,
}

/// A topic in the trash.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TrashedTopicRow {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub trashed_at: i64,
}

fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

impl Db {
    /// Makes subject `subject_id`'s rows match `projection` in one transaction; the subject's
    /// `updated_at` becomes `now` only when something changed.
    #[tracing::instrument(skip(self, projection), fields(nodes = projection.nodes.len()))]
    pub async fn project_tree(
        &self,
        subject_id: i64,
        projection: &TreeProjection,
        now: i64,
    ) -> DbResult<Projected> {
        let backend = self.backend();
        Ok(dispatch!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            // Takes the subject's lock without changing it.
            let locked = sqlx::query("UPDATE subjects SET updated_at = updated_at WHERE id = $1")
                .bind(subject_id)
                .execute(&mut *tx)
                .await?;
            if locked.rows_affected() == 0 {
                return Err(DbError::NotFound);
            }
            let rows: HashMap<i64, (Option<i64>, String, String)> =
                sqlx::query_as::<_, (i64, Option<i64>, String, String)>(
                    "SELECT id, parent_id, order_key, title FROM topics WHERE subject_id = $1",
                )
                .bind(subject_id)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|(id, parent, key, title)| (id, (parent, key, title)))
                .collect();
            let mut outcome = Projected::default();

            let waiting: HashSet<i64> =
                sqlx::query_scalar("SELECT id FROM topic_trash WHERE subject_id = $1")
                    .bind(subject_id)
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .collect();
            // An id without a row or trash row here is foreign unless it is a new one that
            // nothing of another subject holds: such ids are never touched, their text never
            // read.
            let unknown: Vec<i64> = projection
                .nodes
                .iter()
                .map(|n| n.id)
                .chain(projection.trashed.iter().map(|t| t.id))
                .filter(|id| !rows.contains_key(id) && !waiting.contains(id))
                .collect();
            let mut foreign: HashSet<i64> = unknown
                .iter()
                .copied()
                .filter(|id| !projection.new_ids.contains(id))
                .collect();
            for chunk in unknown.chunks(500) {
                // Integers from the resolved tree, not text from anyone.
                let list = id_list(chunk);
                let names = chunk
                    .iter()
                    .map(|id| format!("'topic:{id}'"))
                    .collect::<Vec<_>>()
                    .join(",");
                let taken: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT id FROM topics WHERE id IN ({list})
                     UNION SELECT id FROM topic_trash WHERE id IN ({list})"
                )))
                .fetch_all(&mut *tx)
                .await?;
                foreign.extend(taken);
                let documents: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT name FROM docs WHERE name IN ({names})
                     AND (subject_id IS NULL OR subject_id <> $1)"
                )))
                .bind(subject_id)
                .fetch_all(&mut *tx)
                .await?;
                foreign.extend(
                    documents
                        .iter()
                        .filter_map(|name| name.strip_prefix("topic:")?.parse::<i64>().ok()),
                );
            }
            let in_tree = projection.nodes.iter().map(|n| n.id);
            if in_tree
                .filter(|id| !rows.contains_key(id))
                .any(|id| !foreign.contains(&id) && !projection.fresh.contains_key(&id))
            {
                outcome.stale = true;
                return Ok::<_, DbError>(outcome);
            }

            let mut kept: HashSet<i64> = HashSet::new();
            for node in &projection.nodes {
                let skip = foreign.contains(&node.id)
                    || node.parent_id.is_some_and(|p| !kept.contains(&p));
                if skip {
                    outcome.foreign.push(node.id);
                    continue;
                }
                kept.insert(node.id);
                match rows.get(&node.id) {
                    Some((parent, key, title))
                        if *parent == node.parent_id
                            && *key == node.order_key
                            && *title == node.title => {}
                    Some(_) => {
                        sqlx::query(
                            "UPDATE topics SET parent_id = $2, order_key = $3, title = $4,
                                               title_key = $5, updated_at = $6
                             WHERE id = $1",
                        )
                        .bind(node.id)
                        .bind(node.parent_id)
                        .bind(&node.order_key)
                        .bind(&node.title)
                        .bind(node.title.to_lowercase())
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        outcome.changes += 1;
                    }
                    None => {
                        let text = &projection.fresh[&node.id];
                        sqlx::query(
                            "INSERT INTO topics (id, subject_id, parent_id, order_key, title,
                                                 title_key, body, body_text, created_at, updated_at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
                        )
                        .bind(node.id)
                        .bind(subject_id)
                        .bind(node.parent_id)
                        .bind(&node.order_key)
                        .bind(&node.title)
                        .bind(node.title.to_lowercase())
                        .bind(&text.body)
                        .bind(&text.body_text)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        for link in &text.links {
                            sqlx::query(
                                "INSERT INTO topic_links (from_topic_id, to_slug, to_title_key)
                                 VALUES ($1, $2, $3)",
                            )
                            .bind(node.id)
                            .bind(&link.slug)
                            .bind(&link.title_key)
                            .execute(&mut *tx)
                            .await?;
                        }
                        // Back from the trash: its body document belongs to the topic again.
                        sqlx::query("DELETE FROM topic_trash WHERE id = $1 AND subject_id = $2")
                            .bind(node.id)
                            .bind(subject_id)
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query(
                            "UPDATE docs SET topic_id = $1, subject_id = NULL
                             WHERE name = $2 AND subject_id = $3 AND topic_id IS NULL",
                        )
                        .bind(node.id)
                        .bind(format!("topic:{}", node.id))
                        .bind(subject_id)
                        .execute(&mut *tx)
                        .await?;
                        outcome.changes += 1;
                    }
                }
            }

            // Rows that left the tree: to the trash (with the document's title, if it still
            // holds one), or gone for good.
            let trashed: HashMap<i64, &InTrash> =
                projection.trashed.iter().map(|t| (t.id, t)).collect();
            let mut gone: Vec<i64> = rows
                .keys()
                .copied()
                .filter(|id| !kept.contains(id))
                .collect();
            gone.sort_unstable();
            for id in &gone {
                match trashed.get(id) {
                    Some(t) => {
                        sqlx::query(
                            "INSERT INTO topic_trash (id, subject_id, title, body, trashed_at)
                             SELECT id, subject_id, COALESCE($3, title), body, $2 FROM topics
                             WHERE id = $1
                             ON CONFLICT (id) DO UPDATE SET title = excluded.title,
                                 body = excluded.body, trashed_at = excluded.trashed_at
                             WHERE topic_trash.subject_id = excluded.subject_id",
                        )
                        .bind(id)
                        .bind(t.deleted_at)
                        .bind(t.title.as_deref())
                        .execute(&mut *tx)
                        .await?;
                        sqlx::query(
                            "UPDATE docs SET subject_id = $2, topic_id = NULL WHERE topic_id = $1",
                        )
                        .bind(id)
                        .bind(subject_id)
                        .execute(&mut *tx)
                        .await?;
                    }
                    None => {
                        sqlx::query("DELETE FROM docs WHERE topic_id = $1")
                            .bind(id)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
            for chunk in gone.chunks(500) {
                // Detached first, so the delete needs no deep cascade.
                let list = id_list(chunk);
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE topics SET parent_id = NULL WHERE id IN ({list})"
                )))
                .execute(&mut *tx)
                .await?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM topics WHERE id IN ({list})"
                )))
                .execute(&mut *tx)
                .await?;
            }
            outcome.changes += gone.len();
            outcome.removed += gone.len();

            // Topics deleted before they had a row: a trash row keeps their title, so the
            // document need not (their body, if any, waits in its document).
            for t in &projection.trashed {
                let new = !rows.contains_key(&t.id) && !waiting.contains(&t.id);
                let Some(title) = t
                    .title
                    .as_deref()
                    .filter(|_| new && !foreign.contains(&t.id))
                else {
                    continue;
                };
                sqlx::query(
                    "INSERT INTO topic_trash (id, subject_id, title, body, trashed_at)
                     VALUES ($1, $2, $3, '', $4)",
                )
                .bind(t.id)
                .bind(subject_id)
                .bind(title)
                .bind(t.deleted_at)
                .execute(&mut *tx)
                .await?;
                outcome.changes += 1;
            }

            // Trash the document no longer holds: purged for good.
            let purged: Vec<i64> = waiting
                .into_iter()
                .filter(|id| !trashed.contains_key(id) && !kept.contains(id))
                .collect();
            for id in &purged {
                sqlx::query("DELETE FROM topic_trash WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "DELETE FROM docs WHERE name = $1 AND subject_id = $2 AND topic_id IS NULL",
                )
                .bind(format!("topic:{id}"))
                .bind(subject_id)
                .execute(&mut *tx)
                .await?;
            }
            outcome.changes += purged.len();

            if outcome.changes > 0 {
                sqlx::query("UPDATE subjects SET updated_at = $2 WHERE id = $1")
                    .bind(subject_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(reindex_statement(backend))
                    .bind(subject_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
            Ok::<_, DbError>(outcome)
        })?)
    }

    /// The `(id, title)` of every topic waiting in a subject's trash.
    #[tracing::instrument(skip(self))]
    pub async fn trashed_titles(&self, subject_id: i64) -> DbResult<Vec<(i64, String)>> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, (i64, String)>(
                "SELECT id, title FROM topic_trash WHERE subject_id = $1",
            )
            .bind(subject_id)
            .fetch_all(pool)
            .await
        })?)
    }

    /// The topics waiting in a subject's trash, most recently deleted first.
    #[tracing::instrument(skip(self))]
    pub async fn trashed_topics(&self, subject_id: i64) -> DbResult<Vec<TrashedTopicRow>> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_as::<_, TrashedTopicRow>(
                "SELECT id, title, body, trashed_at FROM topic_trash
                 WHERE subject_id = $1 ORDER BY trashed_at DESC, id",
            )
            .bind(subject_id)
            .fetch_all(pool)
            .await
        })?)
    }
}
