//! The structure of a subject — its tree of topics — as a Yrs document (`subject:{id}`), and
//! the one function that turns any state of that document into a valid tree. The server, the
//! JSON API and the browser's map editor all write through [`Structure`], and all read through
//! [`Structure::read`], so every replica and client derives the same tree from the same
//! document; and the map's layout and drawing ([`draw`]), so the subject page, the exports and
//! the editor show the same picture, and the same tree to assistive technology
//! ([`treeview`]), with what changed between two states in words ([`changes`]) and what part
//! of the map is on screen ([`viewport`]: pan, zoom, fit, for the reader's and the editor's
//! map alike). No I/O; builds for the host and for wasm32.
//!
//! Schema (see docs/collaboration.md, "The subject's structure"):
//! - map `meta`: `root` → the root topic's id;
//! - map `nodes`: topic id (decimal string) → map with `title` (`Y.Text`, so two people renaming
//!   one node merge characters), `place` (one value, so a move is atomic: `parent` id, `order`
//!   key among siblings, `from` the parent before the move, `stamp` a counter higher than every
//!   stamp the writer had seen) and, once deleted, `deleted` (when, Unix ms).
//!
//! Reading never fails on what a peer wrote: malformed entries (ids that are not
//! [`is_topic_id`] among them) are skipped, a node whose parent is unknown hangs under the
//! root, and concurrent moves that close a cycle (A under B here, B under A there) are undone
//! one at a time, the latest move of the cycle first, back to where it came from (or to the
//! root). Deleted nodes and everything under them leave the tree for the trash, whole, and can
//! be restored.

pub mod changes;
pub mod draw;
pub mod order;
pub mod treeview;
pub mod viewport;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use yrs::{
    Any, Doc, GetString, Map, MapPrelim, MapRef, Number, Out, ReadTxn, Text, TextPrelim,
    TransactionMut,
};

pub const NODES: &str = "nodes";
pub const META: &str = "meta";
const ROOT: &str = "root";
const TITLE: &str = "title";
const PLACE: &str = "place";
const DELETED: &str = "deleted";

/// A topic id.
pub type NodeId = i64;

/// The ids any writer may invent for a new topic, without asking anyone (the browser too,
/// offline): [2³², 2⁵²), which JavaScript numbers hold exactly. The server makes its own the
/// same way; ids below are the database ids of topics made before, and a projection gives a
/// row only to an id that already has one in the subject or lies here (see
/// docs/collaboration.md, "Ids").
pub const INVENTED_IDS: std::ops::Range<NodeId> = (1 << 32)..(1 << 52);

/// Whether `id` can name a topic at all: positive, and exact as a JavaScript number. Reading
/// skips entries named otherwise.
pub fn is_topic_id(id: NodeId) -> bool {
    (1..(1 << 53)).contains(&id)
}

/// A valid tree derived from the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    pub root: NodeId,
    /// Every node in the tree (not the trash), the root included.
    pub nodes: BTreeMap<NodeId, Node>,
    /// The deleted subtrees, by the id of their top node.
    pub trash: BTreeMap<NodeId, Trashed>,
}

/// A deleted subtree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trashed {
    /// When its top node was deleted (Unix ms, as the deleting writer's clock said).
    pub at: i64,
    /// Every node of the subtree, its top included, in id order.
    pub members: Vec<NodeId>,
    /// Each member's title as the document holds it: the server keeps the titles of what
    /// is in the trash elsewhere and clears them here (see docs/collaboration.md, "Trash"),
    /// so usually empty.
    pub titles: BTreeMap<NodeId, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// `None` for the root.
    pub parent: Option<NodeId>,
    /// In order: by order key, then id.
    pub children: Vec<NodeId>,
    pub title: String,
}

/// Most topics in one subject, the root included. Every writer checks it before adding
/// (the server's API and import, and the live editor), and the server refuses a live
/// client's update that passes it ([`Extent::outgrown_by`]); concurrent adds on different
/// replicas can still pass it a little, and the protocol's limit on a document's map keys
/// (`arbor_collab::Limits::max_root_keys`) bounds even that.
pub const MAX_TOPICS: usize = 1000;
/// Deepest nesting (the root is depth 0), checked like [`MAX_TOPICS`].
pub const MAX_DEPTH: usize = 32;

impl Tree {
    /// How deep `id` is (the root is 0).
    pub fn depth(&self, id: NodeId) -> usize {
        let mut depth = 0;
        let mut at = self.nodes.get(&id).and_then(|n| n.parent);
        while let Some(parent) = at {
            depth += 1;
            at = self.nodes.get(&parent).and_then(|n| n.parent);
        }
        depth
    }

    /// How many levels the subtree under `id` has below it.
    pub fn height(&self, id: NodeId) -> usize {
        let mut deepest = 0;
        let mut stack = vec![(id, 0)];
        while let Some((at, below)) = stack.pop() {
            deepest = deepest.max(below);
            if let Some(node) = self.nodes.get(&at) {
                stack.extend(node.children.iter().map(|c| (*c, below + 1)));
            }
        }
        deepest
    }

    /// Whether topic `id` (with its subtree), or a new topic when `None`, may go under
    /// `parent` without nesting deeper than [`MAX_DEPTH`].
    pub fn fits_under(&self, id: Option<NodeId>, parent: NodeId) -> bool {
        let below = id.map_or(0, |id| self.height(id));
        self.depth(parent) + 1 + below <= MAX_DEPTH
    }

    /// How far the tree goes, to hold it to the limits.
    pub fn extent(&self) -> Extent {
        Extent {
            topics: self.nodes.len(),
            depth: self.height(self.root),
        }
    }

    /// Whether `node` is `ancestor` or lies under it.
    pub fn is_within(&self, node: NodeId, ancestor: NodeId) -> bool {
        let mut at = Some(node);
        while let Some(n) = at {
            if n == ancestor {
                return true;
            }
            at = self.nodes.get(&n).and_then(|n| n.parent);
        }
        false
    }
}

/// How many topics a tree has (the root included) and how deep it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Extent {
    pub topics: usize,
    pub depth: usize,
}

impl Extent {
    /// Whether it keeps to [`MAX_TOPICS`] and [`MAX_DEPTH`].
    pub fn within_limits(&self) -> bool {
        Extent::default().outgrown_by(self).is_none()
    }

    /// Why going from `self` to `after` breaks a limit, if it does: past [`MAX_TOPICS`] or
    /// [`MAX_DEPTH`], further than `self` already was (a tree over a limit — concurrent adds
    /// on two replicas — may still be renamed, pruned or rearranged within its extent).
    pub fn outgrown_by(&self, after: &Extent) -> Option<MapError> {
        if after.topics > MAX_TOPICS && after.topics > self.topics {
            Some(MapError::TooMany(MAX_TOPICS))
        } else if after.depth > MAX_DEPTH && after.depth > self.depth {
            Some(MapError::TooDeep(MAX_DEPTH))
        } else {
            None
        }
    }
}

/// Why a change was refused; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    #[error("the map has not been created")]
    Empty,
    #[error("no topic {0} in the map")]
    NoSuchNode(NodeId),
    #[error("topic {0} is already in the map")]
    Exists(NodeId),
    #[error("the root topic cannot be moved or deleted")]
    Root,
    #[error("topic {0} cannot move under itself or its own subtree")]
    Cycle(NodeId),
    #[error("topic {0} is not in the trash")]
    NotDeleted(NodeId),
    #[error("topic {0} comes before its parent {1}")]
    ParentUnknown(NodeId, NodeId),
    #[error("a subject holds at most {0} topics")]
    TooMany(usize),
    #[error("topics nest at most {0} levels deep")]
    TooDeep(usize),
}

/// Where a node sits, as written (one `place` value).
#[derive(Debug, Clone, PartialEq)]
struct Place {
    parent: NodeId,
    order: String,
    from: NodeId,
    stamp: f64,
}

impl Place {
    fn parse(value: &Any) -> Option<Place> {
        let Any::Map(map) = value else { return None };
        let number = |key: &str| match map.get(key) {
            Some(Any::Number(n)) => n.as_f64().filter(|n| n.is_finite()),
            _ => None,
        };
        let order = match map.get("order") {
            Some(Any::String(s)) => s.to_string(),
            _ => String::new(),
        };
        Some(Place {
            parent: number("parent")? as NodeId,
            order,
            from: number("from").unwrap_or(0.0) as NodeId,
            stamp: number("stamp").unwrap_or(0.0),
        })
    }

    fn to_any(&self) -> Any {
        let map: HashMap<String, Any> = [
            ("parent".to_owned(), Any::Number(Number::Int(self.parent))),
            ("order".to_owned(), Any::String(self.order.as_str().into())),
            ("from".to_owned(), Any::Number(Number::Int(self.from))),
            ("stamp".to_owned(), Any::Number(Number::try_i64(self.stamp))),
        ]
        .into();
        Any::Map(Arc::new(map))
    }
}

/// One entry of `nodes`, as read.
#[derive(Clone)]
struct Raw {
    place: Option<Place>,
    title: String,
    /// When it was deleted (Unix ms).
    deleted: Option<i64>,
}

/// The structure of one subject inside a Yrs document. The document must use UTF-16 offsets
/// (`OffsetKind::Utf16`), as every Arbor document does, so titles agree with JavaScript.
pub struct Structure {
    nodes: MapRef,
    meta: MapRef,
    client: u64,
}

impl Structure {
    pub fn new(doc: &Doc) -> Structure {
        Structure {
            nodes: doc.get_or_insert_map(NODES),
            meta: doc.get_or_insert_map(META),
            client: doc.client_id().get(),
        }
    }

    /// Creates the map with its root (once, by whoever creates the subject).
    pub fn init(&self, txn: &mut TransactionMut, root: NodeId, title: &str) {
        self.meta.insert(txn, ROOT, Any::Number(Number::Int(root)));
        let node = self
            .nodes
            .insert(txn, root.to_string(), MapPrelim::default());
        node.insert(txn, TITLE, TextPrelim::new(title));
    }

    /// Creates the map with its root and `nodes` as `(id, parent, title)`, each parent listed
    /// before its children and siblings in order (for a subject whose tree existed before its
    /// document did). Nothing is written if a node is refused.
    pub fn seed(
        &self,
        txn: &mut TransactionMut,
        root: NodeId,
        title: &str,
        nodes: &[(NodeId, NodeId, &str)],
    ) -> Result<(), MapError> {
        Self::check_appended(&HashSet::from([root]), |_| false, nodes)?;
        self.init(txn, root, title);
        self.append(txn, nodes)
    }

    /// Refuses a list of new nodes that names an existing id (`exists`), repeats an id, or
    /// lists a child before its parent (`known`: the nodes already in the tree).
    fn check_appended(
        known: &HashSet<NodeId>,
        exists: impl Fn(NodeId) -> bool,
        nodes: &[(NodeId, NodeId, &str)],
    ) -> Result<(), MapError> {
        let mut added: HashSet<NodeId> = HashSet::new();
        for (id, parent, _) in nodes {
            if !known.contains(parent) && !added.contains(parent) {
                return Err(MapError::ParentUnknown(*id, *parent));
            }
            if exists(*id) || known.contains(id) || !added.insert(*id) {
                return Err(MapError::Exists(*id));
            }
        }
        Ok(())
    }

    /// Adds `nodes` as `(id, parent, title)`, each the last child of its parent so far, parents
    /// before their children (a parent may be in the tree or earlier in `nodes`). The
    /// document is read once for all of them, so adding a thousand topics (an import) is one
    /// pass, not one per topic. Nothing is written if a node is refused.
    pub fn append(
        &self,
        txn: &mut TransactionMut,
        nodes: &[(NodeId, NodeId, &str)],
    ) -> Result<(), MapError> {
        let (tree, raw) = self.state(txn).ok_or(MapError::Empty)?;
        let known: HashSet<NodeId> = tree.nodes.keys().copied().collect();
        Self::check_appended(&known, |id| raw.contains_key(&id), nodes)?;
        let key_of = |id: &NodeId| {
            raw.get(id)
                .and_then(|r| r.place.as_ref())
                .map(|p| p.order.clone())
                .filter(|k| order::is_key(k))
        };
        let mut last: HashMap<NodeId, Option<String>> = HashMap::new();
        let first_stamp = Self::next_stamp(&raw);
        for (i, (id, parent, title)) in nodes.iter().enumerate() {
            let before = last
                .entry(*parent)
                .or_insert_with(|| {
                    tree.nodes
                        .get(parent)
                        .and_then(|n| n.children.last())
                        .and_then(key_of)
                })
                .clone();
            // Only a key a peer made as long as keys go leaves no room above it: the new
            // topic then shares it (ids order the tie).
            let order = order::between(before.as_deref(), None, self.client)
                .or_else(|| before.clone())
                .unwrap_or_default();
            last.insert(*parent, Some(order.clone()));
            let place = Place {
                parent: *parent,
                order,
                from: 0,
                stamp: first_stamp + i as f64,
            };
            let node = self.nodes.insert(txn, id.to_string(), MapPrelim::default());
            node.insert(txn, TITLE, TextPrelim::new(*title));
            node.insert(txn, PLACE, place.to_any());
        }
        Ok(())
    }

    fn raw<T: ReadTxn>(&self, txn: &T) -> (Option<NodeId>, BTreeMap<NodeId, Raw>) {
        let root = match self.meta.get(txn, ROOT) {
            Some(Out::Any(Any::Number(n))) => n.as_i64().filter(|id| is_topic_id(*id)),
            _ => None,
        };
        let mut raw = BTreeMap::new();
        for (key, value) in self.nodes.iter(txn) {
            let (Ok(id), Out::YMap(node)) = (key.parse::<NodeId>(), value) else {
                continue;
            };
            if !is_topic_id(id) {
                continue;
            }
            let title = match node.get(txn, TITLE) {
                Some(Out::YText(text)) => text.get_string(txn),
                _ => String::new(),
            };
            let place = match node.get(txn, PLACE) {
                Some(Out::Any(any)) => Place::parse(&any),
                _ => None,
            };
            let deleted = match node.get(txn, DELETED) {
                Some(Out::Any(Any::Number(n))) => Some(n.as_f64().unwrap_or(0.0) as i64),
                _ => None,
            };
            raw.insert(
                id,
                Raw {
                    place,
                    title,
                    deleted,
                },
            );
        }
        (root, raw)
    }

    /// The tree this state of the document stands for (`None` before [`Structure::init`]).
    pub fn read<T: ReadTxn>(&self, txn: &T) -> Option<Tree> {
        self.state(txn).map(|(tree, _)| tree)
    }

    /// The tree and the entries it was resolved from (one read for a change to use).
    fn state<T: ReadTxn>(&self, txn: &T) -> Option<(Tree, BTreeMap<NodeId, Raw>)> {
        let (root, raw) = self.raw(txn);
        resolve(root?, &raw).map(|tree| (tree, raw))
    }

    fn node(&self, txn: &TransactionMut, id: NodeId) -> Option<MapRef> {
        match self.nodes.get(txn, &id.to_string()) {
            Some(Out::YMap(node)) => Some(node),
            _ => None,
        }
    }

    /// A stamp above every stamp in the document.
    fn next_stamp(raw: &BTreeMap<NodeId, Raw>) -> f64 {
        raw.values()
            .filter_map(|r| r.place.as_ref().map(|p| p.stamp))
            .fold(0.0, f64::max)
            + 1.0
    }

    /// The order key for position `index` among the children of `parent`, leaving `moving`
    /// out of the count.
    fn order_at(
        &self,
        (tree, raw): &(Tree, BTreeMap<NodeId, Raw>),
        parent: NodeId,
        index: usize,
        moving: Option<NodeId>,
    ) -> String {
        let keys: Vec<&str> = tree.nodes[&parent]
            .children
            .iter()
            .filter(|c| Some(**c) != moving)
            .map(|c| {
                raw.get(c)
                    .and_then(|r| r.place.as_ref())
                    .map_or("", |p| p.order.as_str())
            })
            .collect();
        let index = index.min(keys.len());
        let valid = |k: &&&str| order::is_key(k);
        let before = index.checked_sub(1).and_then(|i| keys.get(i)).filter(valid);
        let after = keys.get(index).filter(valid);
        order::between(before.copied(), after.copied(), self.client)
            .or_else(|| order::between(before.copied(), None, self.client))
            .unwrap_or_else(|| "V".to_owned())
    }

    /// Adds topic `id` as child number `index` of `parent` (past the end: last).
    pub fn add(
        &self,
        txn: &mut TransactionMut,
        id: NodeId,
        parent: NodeId,
        index: usize,
        title: &str,
    ) -> Result<(), MapError> {
        let state = self.state(txn).ok_or(MapError::Empty)?;
        if self.node(txn, id).is_some() {
            return Err(MapError::Exists(id));
        }
        if !state.0.nodes.contains_key(&parent) {
            return Err(MapError::NoSuchNode(parent));
        }
        let place = Place {
            parent,
            order: self.order_at(&state, parent, index, None),
            from: 0,
            stamp: Self::next_stamp(&state.1),
        };
        let node = self.nodes.insert(txn, id.to_string(), MapPrelim::default());
        node.insert(txn, TITLE, TextPrelim::new(title));
        node.insert(txn, PLACE, place.to_any());
        Ok(())
    }

    /// Renames topic `id`: only the changed characters are replaced, so a concurrent rename
    /// elsewhere in the title merges.
    pub fn rename(
        &self,
        txn: &mut TransactionMut,
        id: NodeId,
        title: &str,
    ) -> Result<(), MapError> {
        let node = self.node(txn, id).ok_or(MapError::NoSuchNode(id))?;
        let text = match node.get(txn, TITLE) {
            Some(Out::YText(text)) => text,
            _ => node.insert(txn, TITLE, TextPrelim::new("")),
        };
        let old = text.get_string(txn);
        if let Some(change) = arbor_collab::diff::splice(&old, title) {
            text.remove_range(txn, change.start, change.removed);
            text.insert(txn, change.start, change.inserted);
        }
        Ok(())
    }

    /// Moves topic `id` to child number `index` of `parent`; refused when that would put it
    /// under itself (as this replica sees the tree).
    pub fn move_to(
        &self,
        txn: &mut TransactionMut,
        id: NodeId,
        parent: NodeId,
        index: usize,
    ) -> Result<(), MapError> {
        let state = self.state(txn).ok_or(MapError::Empty)?;
        let tree = &state.0;
        if id == tree.root {
            return Err(MapError::Root);
        }
        let current = tree.nodes.get(&id).ok_or(MapError::NoSuchNode(id))?;
        if !tree.nodes.contains_key(&parent) {
            return Err(MapError::NoSuchNode(parent));
        }
        if tree.is_within(parent, id) {
            return Err(MapError::Cycle(id));
        }
        let place = Place {
            parent,
            order: self.order_at(&state, parent, index, Some(id)),
            from: current.parent.unwrap_or(0),
            stamp: Self::next_stamp(&state.1),
        };
        let node = self.node(txn, id).ok_or(MapError::NoSuchNode(id))?;
        node.insert(txn, PLACE, place.to_any());
        Ok(())
    }

    /// Sends topic `id` and its subtree to the trash (`now`: Unix ms).
    pub fn delete(&self, txn: &mut TransactionMut, id: NodeId, now: i64) -> Result<(), MapError> {
        let tree = self.read(txn).ok_or(MapError::Empty)?;
        if id == tree.root {
            return Err(MapError::Root);
        }
        if !tree.nodes.contains_key(&id) {
            return Err(MapError::NoSuchNode(id));
        }
        let node = self.node(txn, id).ok_or(MapError::NoSuchNode(id))?;
        node.insert(txn, DELETED, Any::Number(Number::Int(now)));
        Ok(())
    }

    /// Brings a deleted subtree back where it was, unless the tree would then break a limit
    /// (further than it already does, see [`Extent::outgrown_by`]).
    pub fn restore(&self, txn: &mut TransactionMut, id: NodeId) -> Result<(), MapError> {
        let (tree, mut raw) = self.state(txn).ok_or(MapError::Empty)?;
        if let Some(entry) = raw.get_mut(&id) {
            entry.deleted = None;
        }
        let after = resolve(tree.root, &raw).ok_or(MapError::Empty)?;
        if let Some(broken) = tree.extent().outgrown_by(&after.extent()) {
            return Err(broken);
        }
        let node = self.node(txn, id).ok_or(MapError::NoSuchNode(id))?;
        if node.remove(txn, DELETED).is_none() {
            return Err(MapError::NotDeleted(id));
        }
        Ok(())
    }

    /// Forgets deleted nodes for good (the trash is emptied of them); `ids` must all be in
    /// the trash, or nothing is removed.
    pub fn purge(&self, txn: &mut TransactionMut, ids: &[NodeId]) -> Result<(), MapError> {
        let tree = self.read(txn).ok_or(MapError::Empty)?;
        let trashed: BTreeSet<NodeId> = tree
            .trash
            .values()
            .flat_map(|t| t.members.iter().copied())
            .collect();
        if let Some(live) = ids.iter().find(|id| !trashed.contains(id)) {
            return Err(MapError::NotDeleted(*live));
        }
        for id in ids {
            self.nodes.remove(txn, &id.to_string());
        }
        Ok(())
    }
}

/// The one resolution: any set of entries to a valid tree, the same wherever it runs (every
/// choice below is a function of the entries alone, taken in id order).
fn resolve(root: NodeId, raw: &BTreeMap<NodeId, Raw>) -> Option<Tree> {
    if !raw.contains_key(&root) {
        return None;
    }
    // Each node's parent as written; unknown or self parents (and missing places) hang the
    // node under the root.
    let mut parent: BTreeMap<NodeId, NodeId> = raw
        .iter()
        .filter(|(id, _)| **id != root)
        .map(|(id, r)| {
            let p = r
                .place
                .as_ref()
                .map(|p| p.parent)
                .filter(|p| *p != *id && raw.contains_key(p))
                .unwrap_or(root);
            (*id, p)
        })
        .collect();
    let stamp = |id: NodeId| raw[&id].place.as_ref().map_or(0.0, |p| p.stamp);
    let mut undone: HashSet<NodeId> = HashSet::new();
    loop {
        let cycles = cycles(root, &parent);
        if cycles.is_empty() {
            break;
        }
        for cycle in cycles {
            // The latest move of the cycle is undone: back where it came from, or (if that
            // was undone before, or is gone) under the root.
            let loser = *cycle
                .iter()
                .max_by(|a, b| stamp(**a).total_cmp(&stamp(**b)).then(a.cmp(b)))
                .expect("a cycle has nodes");
            let from = raw[&loser].place.as_ref().map_or(root, |p| p.from);
            let back = if undone.insert(loser) && from != loser && raw.contains_key(&from) {
                from
            } else {
                root
            };
            parent.insert(loser, back);
        }
    }
    // Every node now reaches the root. Going down from it, a deleted node takes itself and
    // everything under it to the trash.
    let order = |id: &NodeId| raw[id].place.as_ref().map_or("", |p| p.order.as_str());
    let mut children: BTreeMap<NodeId, Vec<NodeId>> = BTreeMap::new();
    for (id, p) in &parent {
        children.entry(*p).or_default().push(*id);
    }
    for kids in children.values_mut() {
        kids.sort_by(|a, b| order(a).cmp(order(b)).then(a.cmp(b)));
    }
    let mut nodes = BTreeMap::new();
    let mut trash: BTreeMap<NodeId, Trashed> = BTreeMap::new();
    let mut stack: Vec<(NodeId, Option<NodeId>)> = vec![(root, None)];
    while let Some((id, deleted_above)) = stack.pop() {
        let top = deleted_above.or((id != root && raw[&id].deleted.is_some()).then_some(id));
        let kids = children.remove(&id).unwrap_or_default();
        stack.extend(kids.iter().map(|k| (*k, top)));
        match top {
            Some(top) => {
                let trashed = trash.entry(top).or_insert_with(|| Trashed {
                    at: raw[&top].deleted.unwrap_or(0),
                    members: Vec::new(),
                    titles: BTreeMap::new(),
                });
                trashed.members.push(id);
                trashed.titles.insert(id, raw[&id].title.clone());
            }
            None => {
                let node = Node {
                    parent: parent.get(&id).copied(),
                    children: kids,
                    title: raw[&id].title.clone(),
                };
                nodes.insert(id, node);
            }
        }
    }
    for trashed in trash.values_mut() {
        trashed.members.sort();
    }
    // A live node's children include deleted ones until here.
    let live: BTreeSet<NodeId> = nodes.keys().copied().collect();
    for node in nodes.values_mut() {
        node.children.retain(|c| live.contains(c));
    }
    Some(Tree { root, nodes, trash })
}

/// The cycles among the parent links (nodes that never reach the root), each once.
fn cycles(root: NodeId, parent: &BTreeMap<NodeId, NodeId>) -> Vec<Vec<NodeId>> {
    // 0: not seen, 1: on the current walk, 2: done.
    let mut state: HashMap<NodeId, u8> = HashMap::new();
    let mut found = Vec::new();
    for start in parent.keys() {
        let mut walk = Vec::new();
        let mut at = *start;
        loop {
            match state.get(&at).copied().unwrap_or(0) {
                2 => break,
                1 => {
                    let from = walk.iter().position(|n| *n == at).expect("on the walk");
                    found.push(walk[from..].to_vec());
                    break;
                }
                _ => {}
            }
            if at == root {
                break;
            }
            state.insert(at, 1);
            walk.push(at);
            at = parent[&at];
        }
        for n in walk {
            state.insert(n, 2);
        }
    }
    found
}
