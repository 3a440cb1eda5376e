//! Every change to a subject's tree of topics — create, edit, move, delete — goes through this
//! module, so the rules live once: the caller may edit, a subject holds at most
//! [`MAX_TOPICS`] topics nested at most [`MAX_DEPTH`] deep, the root stays, and a move never
//! puts a topic under itself. Today the SQL rows are the source of truth for the tree; the live
//! map editor will make a Yrs document the source and these rows its projection, by changing
//! this module alone. A topic's body already lives in its document (`topic:{id}`, see
//! [`super::collab`]); the `body` column is its rendered snapshot.
//!
//! After each change, the pages showing the subject (and subjects linking to or from it) are
//! invalidated through the bus.

use std::collections::BTreeSet;

use arbor_db::DbError;
use arbor_db::topics::{LinkRef, MoveOutcome, TopicContent, TopicNodeRow};

use super::access::Granted;
use super::markdown::{self, WikiLink};
use super::{AppState, now_ms, subjects};
use crate::content::{Body, Title};
use crate::error::AppError;
use crate::order_key;

/// Most topics in one subject.
pub const MAX_TOPICS: usize = 1000;
/// Deepest nesting (the root is depth 0).
pub const MAX_DEPTH: usize = 32;

/// Where a new topic goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// The last child of this topic.
    ChildOf(i64),
    /// The sibling right after this topic.
    After(i64),
}

fn require_edit(granted: &Granted) -> Result<(), AppError> {
    if granted.can_edit() {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "You may read this subject but not change it.",
        ))
    }
}

fn topic_not_found() -> AppError {
    AppError::not_found("No such topic in this subject.")
}

/// The tree's rows, with lookups the rules need.
struct Tree {
    rows: Vec<TopicNodeRow>,
}

impl Tree {
    async fn load(state: &AppState, subject_id: i64) -> Result<Self, AppError> {
        Ok(Self {
            rows: state.db().topic_tree(subject_id).await?,
        })
    }

    fn get(&self, id: i64) -> Option<&TopicNodeRow> {
        self.rows.iter().find(|r| r.id == id)
    }

    /// Children of `parent` in order, leaving out `skip`.
    fn children(&self, parent: i64, skip: Option<i64>) -> Vec<&TopicNodeRow> {
        self.rows
            .iter()
            .filter(|r| r.parent_id == Some(parent) && Some(r.id) != skip)
            .collect()
    }

    fn depth(&self, id: i64) -> usize {
        let mut depth = 0;
        let mut at = self.get(id).and_then(|r| r.parent_id);
        while let Some(parent) = at {
            depth += 1;
            if depth > self.rows.len() {
                break;
            }
            at = self.get(parent).and_then(|r| r.parent_id);
        }
        depth
    }

    /// How many levels the subtree under `id` has below it.
    fn height(&self, id: i64) -> usize {
        let mut frontier = vec![id];
        let mut height = 0;
        loop {
            let next: Vec<i64> = self
                .rows
                .iter()
                .filter(|r| r.parent_id.is_some_and(|p| frontier.contains(&p)))
                .map(|r| r.id)
                .collect();
            if next.is_empty() || height > self.rows.len() {
                return height;
            }
            height += 1;
            frontier = next;
        }
    }

    /// The key for position `index` among `parent`'s children (without `skip`); past the end
    /// means last.
    fn key_at(&self, parent: i64, index: usize, skip: Option<i64>) -> String {
        let siblings = self.children(parent, skip);
        let before = index
            .min(siblings.len())
            .checked_sub(1)
            .map(|i| siblings[i].order_key.as_str());
        let after = siblings.get(index).map(|s| s.order_key.as_str());
        order_key::between(before, after)
    }
}

/// A `[[link]]` written in subject `own_slug`, keyed by target slug and case-folded title.
pub fn link_ref(own_slug: &str, link: &WikiLink) -> LinkRef {
    LinkRef {
        slug: link.subject.as_deref().unwrap_or(own_slug).to_lowercase(),
        title_key: link.title.to_lowercase(),
    }
}

/// A body's plain text and `[[links]]`.
fn parse_body(own_slug: &str, body: &str) -> (String, Vec<LinkRef>) {
    let rendered = markdown::render(body, |_| None);
    let links: BTreeSet<LinkRef> = rendered
        .links
        .iter()
        .map(|link| link_ref(own_slug, link))
        .collect();
    (rendered.plain_text, links.into_iter().collect())
}

/// Creates a topic and returns its id.
pub async fn create_topic(
    state: &AppState,
    granted: &Granted,
    placement: Placement,
    title: &Title,
    body: &Body,
) -> Result<i64, AppError> {
    require_edit(granted)?;
    let subject = &granted.subject;
    let tree = Tree::load(state, subject.id).await?;
    if tree.rows.len() >= MAX_TOPICS {
        return Err(AppError::invalid(
            "parent_id",
            format!("A subject holds at most {MAX_TOPICS} topics."),
        ));
    }
    let (parent, key) = match placement {
        Placement::ChildOf(parent) => {
            tree.get(parent).ok_or_else(topic_not_found)?;
            (parent, tree.key_at(parent, usize::MAX, None))
        }
        Placement::After(sibling) => {
            let row = tree.get(sibling).ok_or_else(topic_not_found)?;
            let parent = row
                .parent_id
                .ok_or_else(|| AppError::invalid("after_id", "The root topic has no siblings."))?;
            let siblings = tree.children(parent, None);
            let index = siblings.iter().position(|s| s.id == sibling).unwrap_or(0) + 1;
            (parent, tree.key_at(parent, index, None))
        }
    };
    if tree.depth(parent) + 1 > MAX_DEPTH {
        return Err(AppError::invalid(
            "parent_id",
            format!("Topics nest at most {MAX_DEPTH} levels deep."),
        ));
    }
    let (text, links) = parse_body(&subject.slug, body.as_str());
    let affected = subjects::affected(state, subject).await?;
    let id = state
        .db()
        .insert_topic(
            subject.id,
            parent,
            &key,
            TopicContent {
                title: title.as_str(),
                body: body.as_str(),
                body_text: &text,
                links: &links,
            },
            now_ms(),
        )
        .await
        .map_err(|e| match e {
            DbError::NotFound => topic_not_found(),
            other => other.into(),
        })?;
    subjects::changed(state, subject, affected).await;
    Ok(id)
}

/// Changes a topic's title and/or body (absent: unchanged). A new body goes through the
/// topic's live document first (as the server's own edit), so people editing it live see the
/// change and the next snapshot refresh keeps it.
pub async fn edit_topic(
    state: &AppState,
    granted: &Granted,
    id: i64,
    title: Option<&Title>,
    body: Option<&Body>,
) -> Result<(), AppError> {
    require_edit(granted)?;
    let subject = &granted.subject;
    let current = state
        .db()
        .topic(subject.id, id)
        .await
        .map_err(|e| match e {
            DbError::NotFound => topic_not_found(),
            other => other.into(),
        })?;
    if let Some(body) = body {
        state.collab().set_text(&current, body.as_str()).await?;
    }
    let title = title.map_or(current.title.as_str(), Title::as_str);
    let body = body.map_or(current.body.as_str(), Body::as_str);
    write_topic(state, subject, id, title, body).await
}

/// Stores `text`, the current text of a topic's live document, as its rendered snapshot
/// (body, search text, links), and announces the change.
pub async fn store_body(
    state: &AppState,
    subject_id: i64,
    topic_id: i64,
    text: &str,
) -> Result<(), AppError> {
    let subject = state.db().subject_by_id(subject_id).await?;
    let current = state.db().topic(subject_id, topic_id).await?;
    if current.body == text {
        return Ok(());
    }
    write_topic(state, &subject, topic_id, &current.title, text).await
}

async fn write_topic(
    state: &AppState,
    subject: &arbor_db::subjects::SubjectRow,
    id: i64,
    title: &str,
    body: &str,
) -> Result<(), AppError> {
    let (text, links) = parse_body(&subject.slug, body);
    let affected = subjects::affected(state, subject).await?;
    state
        .db()
        .update_topic(
            subject.id,
            id,
            TopicContent {
                title,
                body,
                body_text: &text,
                links: &links,
            },
            now_ms(),
        )
        .await
        .map_err(|e| match e {
            DbError::NotFound => topic_not_found(),
            other => other.into(),
        })?;
    subjects::changed(state, subject, affected).await;
    Ok(())
}

/// Moves a topic under `new_parent` at `index` among its children (absent or too large: last).
pub async fn move_topic(
    state: &AppState,
    granted: &Granted,
    id: i64,
    new_parent: i64,
    index: Option<usize>,
) -> Result<(), AppError> {
    require_edit(granted)?;
    let subject = &granted.subject;
    let tree = Tree::load(state, subject.id).await?;
    let row = tree.get(id).ok_or_else(topic_not_found)?;
    if row.parent_id.is_none() {
        return Err(AppError::invalid("id", "The root topic cannot be moved."));
    }
    tree.get(new_parent)
        .ok_or_else(|| AppError::not_found("No such parent topic in this subject."))?;
    if tree.depth(new_parent) + 1 + tree.height(id) > MAX_DEPTH {
        return Err(AppError::invalid(
            "parent_id",
            format!("Topics nest at most {MAX_DEPTH} levels deep."),
        ));
    }
    let key = tree.key_at(new_parent, index.unwrap_or(usize::MAX), Some(id));
    let affected = subjects::affected(state, subject).await?;
    match state
        .db()
        .move_topic(subject.id, id, new_parent, &key, now_ms())
        .await?
    {
        MoveOutcome::Moved => {
            subjects::changed(state, subject, affected).await;
            Ok(())
        }
        MoveOutcome::Cycle => Err(AppError::invalid(
            "parent_id",
            "A topic cannot move under itself or one of its own subtopics.",
        )),
        MoveOutcome::NotFound => Err(topic_not_found()),
    }
}

/// Deletes a topic and everything under it; returns how many topics went.
pub async fn delete_topic(state: &AppState, granted: &Granted, id: i64) -> Result<u64, AppError> {
    require_edit(granted)?;
    let subject = &granted.subject;
    let row = state
        .db()
        .topic(subject.id, id)
        .await
        .map_err(|e| match e {
            DbError::NotFound => topic_not_found(),
            other => other.into(),
        })?;
    if row.parent_id.is_none() {
        return Err(AppError::invalid(
            "id",
            "The root topic cannot be deleted; delete the subject instead.",
        ));
    }
    let affected = subjects::affected(state, subject).await?;
    let gone = state
        .db()
        .delete_topic(subject.id, id, now_ms())
        .await
        .map_err(|e| match e {
            DbError::NotFound => topic_not_found(),
            other => other.into(),
        })?;
    subjects::changed(state, subject, affected).await;
    Ok(gone)
}
