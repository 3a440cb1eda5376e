//! Every change to a subject's tree of topics — create, rename, move, delete, restore — goes
//! through this module and, from here, through the subject's structure document
//! (`subject:{id}`, [`arbor_map::Structure`]), the tree's one source of truth: the JSON API,
//! the forms, the demo seed and the live map editor all write there. The `topics` rows are its
//! projection ([`project`]), refreshed at once after a change made here and shortly after a
//! change made live (see `arbor_live`), for pages, search and links.
//!
//! The rules live here once: the caller may edit, a subject holds at most [`MAX_TOPICS`] topics
//! nested at most [`MAX_DEPTH`] deep, the root stays, and a move never puts a topic under
//! itself (concurrent moves that would are resolved by the map's one resolution function).
//! Deleted subtrees wait in the trash for [`TRASH_DAYS`] days, restorable whole. A topic's body
//! lives in its own document (`topic:{id}`); the `body` column is its rendered snapshot.
//!
//! After each change, the pages showing the subject (and subjects linking to or from it) are
//! invalidated through the bus.

use std::collections::{BTreeSet, HashMap, HashSet};

use arbor_db::DbError;
use arbor_db::projection::{FreshText, InTrash, PlacedTopic, TreeProjection};
use arbor_db::subjects::SubjectRow;
use arbor_db::topics::{LinkRef, TopicContent};
use arbor_map::{MapError, NodeId, Tree};

use crate::ServiceError;
use crate::access::Granted;
use crate::changes::{self, Touches};
use crate::markdown::{self, WikiLink};
use crate::{Services, now_ms};
use arbor_types::content::{Body, Title, TrashItem};

pub use arbor_map::{MAX_DEPTH, MAX_TOPICS};
/// Days a deleted subtree stays restorable; it is purged at the first projection after that.
pub const TRASH_DAYS: i64 = 30;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Where a new topic goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// The last child of this topic.
    ChildOf(i64),
    /// The sibling right after this topic.
    After(i64),
}

fn require_edit(granted: &Granted) -> Result<(), ServiceError> {
    if granted.can_edit() {
        Ok(())
    } else {
        Err(ServiceError::forbidden(
            "You may read this subject but not change it.",
        ))
    }
}

fn topic_not_found() -> ServiceError {
    ServiceError::not_found("No such topic in this subject.")
}

fn from_map(error: MapError) -> ServiceError {
    match error {
        MapError::NoSuchNode(_) => topic_not_found(),
        MapError::Root => ServiceError::invalid(
            "id",
            "The root topic cannot be moved or deleted; delete the subject instead.",
        ),
        MapError::Cycle(_) => ServiceError::invalid(
            "parent_id",
            "A topic cannot move under itself or one of its own subtopics.",
        ),
        MapError::NotDeleted(_) => ServiceError::not_found("No such topic in the trash."),
        MapError::TooMany(_) => ServiceError::invalid(
            "id",
            format!("A subject holds at most {MAX_TOPICS} topics; restoring this would pass that."),
        ),
        MapError::TooDeep(_) => ServiceError::invalid(
            "id",
            format!("Topics nest at most {MAX_DEPTH} levels deep; restoring this would pass that."),
        ),
        MapError::Empty | MapError::Exists(_) | MapError::ParentUnknown(..) => {
            ServiceError::internal(anyhow::anyhow!(
                "the subject's map refused a change: {error}"
            ))
        }
    }
}

/// A new topic's id (a new subject's root too): random among [`arbor_map::INVENTED_IDS`], as
/// any writer (the live editor too) makes one without asking. The tables' own sequences are
/// never used for topics, so no id a client writes can move them.
pub fn new_topic_id() -> i64 {
    rand::random_range(arbor_map::INVENTED_IDS)
}

/// The `order_key` the projection stores for the `index`th child: the document's own keys
/// order siblings there; the rows only need to sort the same way on every backend.
pub fn position_key(index: usize) -> String {
    format!("{index:06}")
}

fn too_deep() -> ServiceError {
    ServiceError::invalid(
        "parent_id",
        format!("Topics nest at most {MAX_DEPTH} levels deep."),
    )
}

/// A `[[link]]` written in subject `own_slug`, keyed by target slug and case-folded title.
pub fn link_ref(own_slug: &str, link: &WikiLink) -> LinkRef {
    LinkRef {
        slug: link.subject.as_deref().unwrap_or(own_slug).to_lowercase(),
        title_key: link.title.to_lowercase(),
    }
}

/// A body's plain text and `[[links]]`.
async fn parse_body(own_slug: &str, body: &str) -> Result<(String, Vec<LinkRef>), ServiceError> {
    let rendered = markdown::scan_pooled(body.to_owned()).await?;
    let links: BTreeSet<LinkRef> = rendered
        .links
        .iter()
        .map(|link| link_ref(own_slug, link))
        .collect();
    Ok((rendered.plain_text, links.into_iter().collect()))
}

/// A title as written live, made fit for a row: one line, at most [`Title::MAX`] characters,
/// never empty.
fn row_title(title: &str) -> String {
    let line: String = title
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(Title::MAX)
        .collect();
    if line.is_empty() {
        "Untitled".to_owned()
    } else {
        line
    }
}

/// Creates a topic and returns its id.
pub async fn create_topic(
    state: &Services,
    granted: &Granted,
    placement: Placement,
    title: &Title,
    body: &Body,
) -> Result<i64, ServiceError> {
    require_edit(granted)?;
    let id = new_topic_id();
    let hub = state.collab();
    let subject = &granted.subject;
    if !body.as_str().is_empty() {
        hub.seed_bodies(subject.id, &[(id, body.as_str())]).await?;
    }
    let added = hub
        .change_structure(subject.id, |structure, txn, tree| {
            if tree.nodes.len() >= MAX_TOPICS {
                return Err(ServiceError::invalid(
                    "parent_id",
                    format!("A subject holds at most {MAX_TOPICS} topics."),
                ));
            }
            let (parent, index) = match placement {
                Placement::ChildOf(parent) => {
                    tree.nodes.get(&parent).ok_or_else(topic_not_found)?;
                    (parent, usize::MAX)
                }
                Placement::After(sibling) => {
                    let node = tree.nodes.get(&sibling).ok_or_else(topic_not_found)?;
                    let parent = node.parent.ok_or_else(|| {
                        ServiceError::invalid("after_id", "The root topic has no siblings.")
                    })?;
                    let index = tree.nodes[&parent]
                        .children
                        .iter()
                        .position(|c| *c == sibling)
                        .map_or(usize::MAX, |i| i + 1);
                    (parent, index)
                }
            };
            if !tree.fits_under(None, parent) {
                return Err(too_deep());
            }
            structure
                .add(txn, id, parent, index, title.as_str())
                .map_err(from_map)
        })
        .await;
    if let Err(e) = added {
        hub.discard_bodies(subject.id, &[id]).await;
        return Err(e);
    }
    project(state, subject).await?;
    Ok(id)
}

/// Changes a topic's title and/or body (absent: unchanged). A new title goes through the
/// subject's structure document and a new body through the topic's own document (as the
/// server's own edits), so people editing live see the change and nothing later undoes it.
pub async fn edit_topic(
    state: &Services,
    granted: &Granted,
    id: i64,
    title: Option<&Title>,
    body: Option<&Body>,
) -> Result<(), ServiceError> {
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
    if let Some(title) = title {
        state
            .collab()
            .change_structure(subject.id, |structure, txn, _| {
                structure.rename(txn, id, title.as_str()).map_err(from_map)
            })
            .await?;
        project(state, subject).await?;
    }
    if let Some(body) = body {
        state
            .collab()
            .set_text(subject.id, current.id, body.as_str())
            .await?;
        let title = title.map_or(current.title.as_str(), Title::as_str);
        write_topic(state, subject, id, title, body.as_str()).await?;
    }
    Ok(())
}

/// Stores `text`, the current text of a topic's live document, as its rendered snapshot
/// (body, search text, links), and announces the change.
pub async fn store_body(
    state: &Services,
    subject_id: i64,
    topic_id: i64,
    text: &str,
) -> Result<(), ServiceError> {
    let subject = state.db().subject_by_id(subject_id).await?;
    let current = state.db().topic(subject_id, topic_id).await?;
    if current.body == text {
        return Ok(());
    }
    write_topic(state, &subject, topic_id, &current.title, text).await
}

async fn write_topic(
    state: &Services,
    subject: &SubjectRow,
    id: i64,
    title: &str,
    body: &str,
) -> Result<(), ServiceError> {
    let (text, links) = parse_body(&subject.slug, body).await?;
    let affected = changes::affected(state, subject).await?;
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
    changes::changed(state, subject, affected, Touches::Content).await;
    Ok(())
}

/// Moves a topic under `new_parent` at `index` among its children (absent or too large: last).
pub async fn move_topic(
    state: &Services,
    granted: &Granted,
    id: i64,
    new_parent: i64,
    index: Option<usize>,
) -> Result<(), ServiceError> {
    require_edit(granted)?;
    state
        .collab()
        .change_structure(granted.subject.id, |structure, txn, tree| {
            if id == tree.root {
                return Err(from_map(MapError::Root));
            }
            tree.nodes.get(&id).ok_or_else(topic_not_found)?;
            if !tree.nodes.contains_key(&new_parent) {
                return Err(ServiceError::not_found(
                    "No such parent topic in this subject.",
                ));
            }
            if !tree.is_within(new_parent, id) && !tree.fits_under(Some(id), new_parent) {
                return Err(too_deep());
            }
            structure
                .move_to(txn, id, new_parent, index.unwrap_or(usize::MAX))
                .map_err(from_map)
        })
        .await?;
    project(state, &granted.subject).await
}

/// Sends a topic and everything under it to the trash; returns how many topics went.
pub async fn delete_topic(
    state: &Services,
    granted: &Granted,
    id: i64,
) -> Result<u64, ServiceError> {
    require_edit(granted)?;
    let gone = state
        .collab()
        .change_structure(granted.subject.id, |structure, txn, tree| {
            if id == tree.root {
                return Err(ServiceError::invalid(
                    "id",
                    "The root topic cannot be deleted; delete the subject instead.",
                ));
            }
            tree.nodes.get(&id).ok_or_else(topic_not_found)?;
            let mut count = 0_u64;
            let mut stack = vec![id];
            while let Some(at) = stack.pop() {
                count += 1;
                stack.extend(&tree.nodes[&at].children);
            }
            structure.delete(txn, id, now_ms()).map_err(from_map)?;
            Ok(count)
        })
        .await?;
    project(state, &granted.subject).await?;
    Ok(gone)
}

/// Brings a deleted subtree back where it was (or under the root, if its parent went since).
pub async fn restore_topic(
    state: &Services,
    granted: &Granted,
    id: i64,
) -> Result<(), ServiceError> {
    require_edit(granted)?;
    state
        .collab()
        .change_structure(granted.subject.id, |structure, txn, tree| {
            if !tree.trash.contains_key(&id) {
                return Err(from_map(MapError::NotDeleted(id)));
            }
            structure.restore(txn, id).map_err(from_map)
        })
        .await?;
    project(state, &granted.subject).await
}

/// What waits in a subject's trash, most recently deleted first.
pub async fn trash(state: &Services, granted: &Granted) -> Result<Vec<TrashItem>, ServiceError> {
    require_edit(granted)?;
    let tree = state.collab().structure(granted.subject.id).await?;
    let titles: HashMap<i64, String> = state
        .db()
        .trashed_topics(granted.subject.id)
        .await?
        .into_iter()
        .map(|row| (row.id, row.title))
        .collect();
    let mut entries: Vec<TrashItem> = tree
        .trash
        .iter()
        .map(|(id, trashed)| TrashItem {
            id: *id,
            title: titles
                .get(id)
                .cloned()
                .unwrap_or_else(|| "Untitled".to_owned()),
            deleted_at: trashed.at,
            topics: trashed.members.len(),
        })
        .collect();
    entries.sort_by(|a, b| b.deleted_at.cmp(&a.deleted_at).then(a.id.cmp(&b.id)));
    Ok(entries)
}

/// Makes the subject's `topics` rows match its structure document, purging trash older than
/// [`TRASH_DAYS`] first. Projections of one subject run one at a time in this replica, each
/// from the document as it is when it starts; across replicas the database serialises them,
/// and each replica projects again after every change it hears of, so the rows end at the
/// converged tree.
pub async fn project(state: &Services, subject: &SubjectRow) -> Result<(), ServiceError> {
    let hub = state.collab();
    let _one_at_a_time = hub.projection_lock(subject.id).await;
    purge_expired(state, subject).await?;
    keep_trash_titles(state, subject).await?;
    for _ in 0..3 {
        let tree = hub.structure(subject.id).await?;
        let projection = prepare(state, subject, &tree).await?;
        let affected = changes::affected(state, subject).await?;
        let done = state
            .db()
            .project_tree(subject.id, &projection, now_ms())
            .await?;
        if done.stale {
            continue;
        }
        if !done.foreign.is_empty() {
            tracing::warn!(
                subject = subject.id,
                topics = ?done.foreign,
                "the map names foreign topic ids (another subject's, or ids no writer may invent); they are left out of the pages"
            );
        }
        if done.changes > 0 {
            metrics::counter!("arbor_map_projections_total").increment(1);
            // Topics gone from the rows: their live readers must leave.
            let touches = if done.removed > 0 {
                Touches::Access
            } else {
                Touches::Content
            };
            changes::changed(state, subject, affected, touches).await;
        }
        return keep_trash_titles(state, subject).await;
    }
    Err(ServiceError::internal(anyhow::anyhow!(
        "subject {}'s rows kept changing under its projection",
        subject.id
    )))
}

/// Keeps the titles of what waits in the trash out of the structure document, which every
/// reader of the subject syncs: a trashed topic whose title the trash table holds has it
/// cleared in the document, and a topic back from the trash (in the tree, its trash row not yet
/// projected away) whose title is empty gets the kept one back. Runs before a projection (so a
/// restored topic's row gets its title) and after it (for what it just trashed).
async fn keep_trash_titles(state: &Services, subject: &SubjectRow) -> Result<(), ServiceError> {
    let kept: HashMap<i64, String> = state
        .db()
        .trashed_titles(subject.id)
        .await?
        .into_iter()
        .collect();
    if kept.is_empty() {
        return Ok(());
    }
    state
        .collab()
        .change_structure(subject.id, |structure, txn, tree| {
            let held = tree.trash.values().flat_map(|t| &t.titles);
            for (id, title) in held {
                if !title.is_empty() && kept.contains_key(id) {
                    structure.rename(txn, *id, "").map_err(from_map)?;
                }
            }
            for (id, node) in &tree.nodes {
                if let Some(title) = kept.get(id).filter(|_| node.title.is_empty()) {
                    structure.rename(txn, *id, title).map_err(from_map)?;
                }
            }
            Ok(())
        })
        .await
}

/// Forgets subtrees deleted more than [`TRASH_DAYS`] ago.
async fn purge_expired(state: &Services, subject: &SubjectRow) -> Result<(), ServiceError> {
    let cutoff = now_ms() - TRASH_DAYS * DAY_MS;
    state
        .collab()
        .change_structure(subject.id, |structure, txn, tree| {
            let expired: Vec<NodeId> = tree
                .trash
                .values()
                .filter(|t| t.at < cutoff)
                .flat_map(|t| t.members.iter().copied())
                .collect();
            if expired.is_empty() {
                return Ok(());
            }
            structure.purge(txn, &expired).map_err(from_map)
        })
        .await
}

/// The rows `tree` stands for, with the text of every topic that has no row yet: its body
/// document's text if it has one (a topic back from the trash), else what the trash kept,
/// else empty (a new topic).
async fn prepare(
    state: &Services,
    subject: &SubjectRow,
    tree: &Tree,
) -> Result<TreeProjection, ServiceError> {
    let rows: HashSet<i64> = state
        .db()
        .topic_tree(subject.id)
        .await?
        .into_iter()
        .map(|row| row.id)
        .collect();
    let mut nodes = Vec::with_capacity(tree.nodes.len());
    let mut queue = std::collections::VecDeque::from([(tree.root, None, 0)]);
    while let Some((id, parent_id, index)) = queue.pop_front() {
        let node = &tree.nodes[&id];
        nodes.push(PlacedTopic {
            id,
            parent_id,
            order_key: position_key(index),
            title: row_title(&node.title),
        });
        queue.extend(
            node.children
                .iter()
                .enumerate()
                .map(|(i, child)| (*child, Some(id), i)),
        );
    }
    let fresh_ids: Vec<i64> = nodes
        .iter()
        .map(|n| n.id)
        .filter(|id| !rows.contains(id))
        .collect();
    let mut fresh = HashMap::new();
    if !fresh_ids.is_empty() {
        let kept: HashMap<i64, String> = state
            .db()
            .trashed_topics(subject.id)
            .await?
            .into_iter()
            .map(|row| (row.id, row.body))
            .collect();
        for id in fresh_ids {
            let body = match state.collab().body_text(subject.id, id).await? {
                Some(text) => text,
                None => kept.get(&id).cloned().unwrap_or_default(),
            };
            let (body_text, links) = parse_body(&subject.slug, &body).await?;
            fresh.insert(
                id,
                FreshText {
                    body,
                    body_text,
                    links,
                },
            );
        }
    }
    let trashed = tree
        .trash
        .values()
        .flat_map(|t| {
            t.titles.iter().map(|(id, title)| InTrash {
                id: *id,
                deleted_at: t.at,
                title: (!title.trim().is_empty()).then(|| row_title(title)),
            })
        })
        .collect();
    Ok(TreeProjection {
        nodes,
        fresh,
        trashed,
        new_ids: arbor_map::INVENTED_IDS,
    })
}
