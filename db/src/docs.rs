//! Live documents: a snapshot per document plus the log of updates accepted since.
//!
//! The bytes are opaque here (Yjs v1 updates checked by `arbor-collab` before they arrive).
//! Appends come in batches, one transaction each, so many updates share one commit (group
//! commit). Compaction replaces the snapshot and deletes exactly the log rows it folded in,
//! guarded by a version number: an update written meanwhile is never deleted unread, and of two
//! replicas compacting at once only one wins.

use crate::{BeginWrite, Db, DbError, DbResult, dispatch};

/// What a document's home is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocOwner {
    Topic(i64),
    Subject(i64),
}

/// A stored document as loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDoc {
    pub id: i64,
    pub snapshot: Vec<u8>,
    pub version: i64,
    /// `(log id, update)` in write order.
    pub log: Vec<(i64, Vec<u8>)>,
}

impl StoredDoc {
    /// Bytes held in the log.
    pub fn log_bytes(&self) -> usize {
        self.log.iter().map(|(_, u)| u.len()).sum()
    }
}

impl Db {
    /// The id of document `name`, creating it with `seed` as its snapshot when it does not
    /// exist yet (when two replicas race, the first seed wins and both get its id).
    #[tracing::instrument(skip(self, seed))]
    pub async fn open_doc(
        &self,
        name: &str,
        owner: DocOwner,
        seed: &[u8],
        now: i64,
    ) -> DbResult<i64> {
        let (topic, subject) = match owner {
            DocOwner::Topic(id) => (Some(id), None),
            DocOwner::Subject(id) => (None, Some(id)),
        };
        Ok(dispatch!(self, |pool| {
            sqlx::query(
                "INSERT INTO docs (name, topic_id, subject_id, snapshot, created_at, compacted_at)
                 VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(topic)
            .bind(subject)
            .bind(seed)
            .bind(now)
            .execute(pool)
            .await?;
            sqlx::query_scalar::<_, i64>("SELECT id FROM docs WHERE name = $1")
                .bind(name)
                .fetch_one(pool)
                .await
        })?)
    }

    /// Whether document `name` exists (has ever been opened).
    #[tracing::instrument(skip(self))]
    pub async fn doc_id(&self, name: &str) -> DbResult<Option<i64>> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_scalar::<_, i64>("SELECT id FROM docs WHERE name = $1")
                .bind(name)
                .fetch_optional(pool)
                .await
        })?)
    }

    /// Document `name`, if it belongs to subject `subject_id` and to no topic row (the body of
    /// a topic in the subject's trash, or seeded for one about to be added).
    #[tracing::instrument(skip(self))]
    pub async fn waiting_doc_id(&self, name: &str, subject_id: i64) -> DbResult<Option<i64>> {
        Ok(dispatch!(self, |pool| {
            sqlx::query_scalar::<_, i64>(
                "SELECT id FROM docs WHERE name = $1 AND subject_id = $2 AND topic_id IS NULL",
            )
            .bind(name)
            .bind(subject_id)
            .fetch_optional(pool)
            .await
        })?)
    }

    /// Topic `topic_id`'s body document, with when its content last changed in storage (Unix
    /// ms: its newest logged update, or its last compaction), if it has one.
    #[tracing::instrument(skip(self))]
    pub async fn topic_doc_changed(&self, topic_id: i64) -> DbResult<Option<(i64, i64)>> {
        let row = dispatch!(self, |pool| {
            sqlx::query_as::<_, (i64, i64, Option<i64>)>(
                "SELECT d.id, d.compacted_at,
                        (SELECT MAX(u.created_at) FROM doc_updates u WHERE u.doc_id = d.id)
                 FROM docs d WHERE d.topic_id = $1",
            )
            .bind(topic_id)
            .fetch_optional(pool)
            .await
        })?;
        Ok(row.map(|(id, compacted, logged)| (id, logged.unwrap_or(compacted).max(compacted))))
    }

    /// Deletes document `name` if it belongs to subject `subject_id` and to no topic (a body
    /// seeded for a topic that was then not created).
    #[tracing::instrument(skip(self))]
    pub async fn discard_doc(&self, name: &str, subject_id: i64) -> DbResult<()> {
        dispatch!(self, |pool| {
            sqlx::query("DELETE FROM docs WHERE name = $1 AND subject_id = $2 AND topic_id IS NULL")
                .bind(name)
                .bind(subject_id)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// A document's snapshot and log.
    #[tracing::instrument(skip(self))]
    pub async fn load_doc(&self, id: i64) -> DbResult<StoredDoc> {
        Ok(dispatch!(self, |pool| {
            let mut tx = pool.begin().await?;
            let (snapshot, version) = sqlx::query_as::<_, (Vec<u8>, i64)>(
                "SELECT snapshot, version FROM docs WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(DbError::NotFound)?;
            let log = sqlx::query_as::<_, (i64, Vec<u8>)>(
                "SELECT id, data FROM doc_updates WHERE doc_id = $1 ORDER BY id",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, DbError>(StoredDoc {
                id,
                snapshot,
                version,
                log,
            })
        })?)
    }

    /// Appends `(doc id, update)` pairs in one transaction: when this returns `Ok`, all of
    /// them are durable; on `Err`, none is.
    #[tracing::instrument(skip_all, fields(updates = updates.len()))]
    pub async fn append_updates(&self, updates: &[(i64, &[u8])], now: i64) -> DbResult<()> {
        Ok(dispatch!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            for (doc, data) in updates {
                sqlx::query(
                    "INSERT INTO doc_updates (doc_id, data, created_at) VALUES ($1, $2, $3)",
                )
                .bind(doc)
                .bind(*data)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await
        })?)
    }

    /// Replaces the snapshot of a document loaded at `loaded.version` with `snapshot` (which
    /// holds everything in `loaded`) and deletes the log rows `loaded` read. `Ok(false)` when
    /// another compaction got there first (nothing changed).
    #[tracing::instrument(skip(self, loaded, snapshot), fields(doc = loaded.id))]
    pub async fn compact_doc(
        &self,
        loaded: &StoredDoc,
        snapshot: &[u8],
        now: i64,
    ) -> DbResult<bool> {
        Ok(dispatch!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE docs SET snapshot = $1, version = version + 1, compacted_at = $2
                 WHERE id = $3 AND version = $4",
            )
            .bind(snapshot)
            .bind(now)
            .bind(loaded.id)
            .bind(loaded.version)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Ok::<_, DbError>(false);
            }
            for chunk in loaded.log.chunks(500) {
                let list = (0..chunk.len())
                    .map(|i| format!("${}", i + 2))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!("DELETE FROM doc_updates WHERE doc_id = $1 AND id IN ({list})");
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(loaded.id);
                for (id, _) in chunk {
                    query = query.bind(id);
                }
                query.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<_, DbError>(true)
        })?)
    }
}
