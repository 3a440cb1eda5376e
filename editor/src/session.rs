//! One person's copy of a live document and the y-websocket conversation about it, with no
//! DOM and no socket: what to send when the connection opens, what a frame from the server
//! changes, how an edit becomes a CRDT change, undo and redo of this person's own changes,
//! presence (name, colour, caret or selected topic) and whether every change is saved.
//!
//! A session holds either a topic's text ([`Session::new`]: an edit of the text area becomes
//! the smallest splice) or a subject's structure ([`Session::for_map`]: changes are
//! [`arbor_map::Structure`] operations, each its own undo step). The link (`link.rs`) moves
//! bytes between this and the socket, and the views (`text_view.rs`, `map_view.rs`) text and
//! changes between this and the page.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arbor_collab::{Limits, TEXT, presence_message, step1_message, step2_message, update_message};
use serde::{Deserialize, Serialize};
use yrs::branch::BranchPtr;
use yrs::encoding::read::Cursor;
use yrs::sync::{Awareness, AwarenessUpdate, Message, SyncMessage};
use yrs::undo::{Options as UndoOptions, UndoManager};
use yrs::updates::decoder::{Decode, DecoderV1};
use yrs::updates::encoder::Encode;
use yrs::{
    Assoc, Doc, GetString, IndexScope, IndexedSequence, OffsetKind, Options, Origin, ReadTxn,
    StickyIndex, Text, TextRef, Transact, Transaction, Update,
};

use arbor_collab::diff::{Splice, splice};
use arbor_map::{MapError, NodeId, Structure, Tree};

/// Milliseconds since the Unix epoch, from the page's clock (or the host's, in tests).
pub type Clock = fn() -> u64;

/// Who this person is to the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub color: String,
}

/// A caret or selection: where it starts (`anchor`) and where it ends (`head`), as positions
/// that survive concurrent edits (Yjs relative positions, the shape y-codemirror uses).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cursor16 {
    anchor: StickyIndex,
    head: StickyIndex,
}

/// A presence state as stored in the awareness table: `{user: {name, color}, cursor}` in a
/// topic, `{user, selected}` (a topic id) in a map.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PresenceState {
    user: User,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cursor: Option<Cursor16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    selected: Option<NodeId>,
}

/// Why a change to a map was not made (nothing was written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapRefusal {
    /// This person may only follow (a viewer), or the session holds a text.
    ReadOnly,
    /// The server's map has not arrived yet.
    NotSynced,
    /// The change itself was refused (see [`MapError`]).
    Map(MapError),
}

/// Someone else's caret, as UTF-16 offsets into the current text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteCaret {
    pub user: User,
    pub anchor: u32,
    pub head: u32,
}

/// What a frame from the server changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// Frames to send back.
    pub replies: Vec<Vec<u8>>,
    /// The content changed: the text, or the map.
    pub changed: bool,
    pub presence_changed: bool,
    /// The server refused a change: this connection is read-only.
    pub denied: bool,
}

/// Whether what this person typed is safe on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// The server confirmed every change (it answered a sync step 1 sent after them, which
    /// it does only once they are committed).
    All,
    /// Changes are on their way or not yet confirmed.
    Pending,
}

/// The transaction origin of this person's typing: the undo manager tracks only it, so undo
/// never touches other people's changes.
const LOCAL: &str = "local";
/// The transaction origin of changes that came from the server.
const REMOTE: &str = "remote";
/// The transaction origin of changes restored from the browser's storage.
const RESTORED: &str = "restored";

pub struct Session {
    doc: Doc,
    text: TextRef,
    /// The structure, for a map's session.
    map: Option<Structure>,
    awareness: Awareness,
    undo: UndoManager<()>,
    /// Updates made here (typing, undo, redo), to send while connected.
    outbox: Arc<Mutex<Vec<Vec<u8>>>>,
    user: User,
    read_only: bool,
    /// A connection is open and the server's sync step 1 was answered: updates may flow.
    handshaken: bool,
    /// The first sync step 2 from the server arrived: the text is the server's.
    synced: bool,
    /// Local changes made so far, counted.
    changes: u64,
    /// Local changes sent on the current connection (or confirmed on an earlier one).
    sent: u64,
    /// Local changes the server confirmed as committed.
    confirmed: u64,
    /// For each sync step 1 sent and not answered yet: the count of changes it confirms.
    awaiting: VecDeque<u64>,
    /// The caret last announced, as UTF-16 offsets.
    caret: Option<(u32, u32)>,
    /// The topic last announced as selected (a map).
    selected: Option<NodeId>,
    /// Committed changes to the document, any origin (counted by an observer).
    version: Arc<AtomicU64>,
    /// The map's tree as last resolved, and the `version` it was resolved at: resolving a
    /// thousand topics takes milliseconds, and a change's handling asks for the tree several
    /// times.
    tree_cache: Mutex<Option<(u64, Arc<Tree>)>>,
}

impl Session {
    /// A session on a topic's text.
    pub fn new(user: User, read_only: bool, clock: Clock) -> Session {
        Session::build(user, read_only, clock, false)
    }

    /// A session on a subject's structure (`subject:{id}`).
    pub fn for_map(user: User, read_only: bool, clock: Clock) -> Session {
        Session::build(user, read_only, clock, true)
    }

    fn build(user: User, read_only: bool, clock: Clock, is_map: bool) -> Session {
        let doc = Doc::with_options(Options {
            offset_kind: OffsetKind::Utf16,
            ..Options::default()
        });
        let text = doc.get_or_insert_text(TEXT);
        let map = is_map.then(|| Structure::new(&doc));
        let mut undo = UndoManager::with_options(UndoOptions {
            // Typing merges into one step per pause; each change to a map is a step.
            capture_timeout_millis: if is_map { 0 } else { 500 },
            tracked_origins: Default::default(),
            capture_transaction: None,
            timestamp: Arc::new(clock),
            init_undo_stack: Vec::new(),
            init_redo_stack: Vec::new(),
        });
        if is_map {
            undo.expand_scope(&doc, &doc.get_or_insert_map(arbor_map::NODES));
            undo.expand_scope(&doc, &doc.get_or_insert_map(arbor_map::META));
        } else {
            undo.expand_scope(&doc, &text);
        }
        undo.include_origin(Origin::from(LOCAL));

        let outbox = Arc::new(Mutex::new(Vec::new()));
        let sink = outbox.clone();
        let remote = Origin::from(REMOTE);
        let version = Arc::new(AtomicU64::new(0));
        let bump = version.clone();
        doc.observe_update_v1("outbox", move |txn, event| {
            bump.fetch_add(1, Ordering::Relaxed);
            if txn.origin() != Some(&remote) {
                sink.lock().expect("outbox").push(event.update.clone());
            }
        })
        .expect("a new document is not in a transaction");
        let awareness = Awareness::with_clock(doc.clone(), clock);
        let mut session = Session {
            doc,
            text,
            map,
            awareness,
            undo,
            outbox,
            user,
            read_only,
            handshaken: false,
            synced: false,
            changes: 0,
            sent: 0,
            confirmed: 0,
            awaiting: VecDeque::new(),
            caret: None,
            selected: None,
            version,
            tree_cache: Mutex::new(None),
        };
        session.announce();
        session
    }

    pub fn text(&self) -> String {
        self.text.get_string(&self.doc.transact())
    }

    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// The server's text has arrived (editing before it would edit an empty document).
    pub fn synced(&self) -> bool {
        self.synced
    }

    pub fn saved(&self) -> Saved {
        if self.confirmed >= self.changes {
            Saved::All
        } else {
            Saved::Pending
        }
    }

    /// Changes made here that the server has not confirmed.
    pub fn unconfirmed(&self) -> u64 {
        self.changes - self.confirmed
    }

    /// A connection opened: ask for what the server has, and say who is here.
    pub fn opened(&mut self) -> Vec<Vec<u8>> {
        self.handshaken = false;
        self.sent = self.confirmed;
        self.awaiting.clear();
        self.outbox.lock().expect("outbox").clear();
        let sv = self.doc.transact().state_vector().encode_v1();
        self.awaiting.push_back(self.sent);
        vec![step1_message(&sv), self.presence_frame()]
    }

    /// The connection closed: nothing in flight will be answered, and the others' presence
    /// is stale.
    pub fn closed(&mut self) {
        self.handshaken = false;
        self.awaiting.clear();
        self.outbox.lock().expect("outbox").clear();
        let own = self.awareness.client_id();
        let others: Vec<_> = self
            .awareness
            .iter()
            .map(|(id, _)| id)
            .filter(|id| *id != own)
            .collect();
        for id in others {
            self.awareness.remove_state(id);
        }
    }

    /// Handles one frame from the server.
    pub fn receive(&mut self, frame: &[u8]) -> Received {
        let mut out = Received::default();
        let message = match Message::decode(&mut DecoderV1::new(Cursor::new(frame))) {
            Ok(message) => message,
            Err(_) => return out,
        };
        match message {
            Message::Sync(SyncMessage::SyncStep1(sv)) => {
                // Everything the server lacks, offline edits included, in one update.
                let update = self.doc.transact().encode_state_as_update_v1(&sv);
                self.outbox.lock().expect("outbox").clear();
                if !self.read_only {
                    out.replies.push(step2_message(&update));
                    self.sent = self.changes;
                }
                self.handshaken = true;
                if self.sent > self.awaiting.back().copied().unwrap_or(self.confirmed) {
                    out.replies.push(self.confirm_request());
                }
            }
            Message::Sync(SyncMessage::SyncStep2(update)) => {
                out.changed = self.apply_remote(&update);
                self.synced = true;
                if let Some(upto) = self.awaiting.pop_front() {
                    self.confirmed = self.confirmed.max(upto);
                }
            }
            Message::Sync(SyncMessage::Update(update)) => {
                out.changed = self.apply_remote(&update);
            }
            Message::Awareness(update) => {
                out.presence_changed = self.awareness.apply_update(update).is_ok();
            }
            Message::Auth(Some(_)) => {
                self.read_only = true;
                out.denied = true;
            }
            Message::AwarenessQuery => out.replies.push(self.presence_frame()),
            Message::Auth(None) | Message::Custom(..) => {}
        }
        out
    }

    fn apply_remote(&mut self, update: &[u8]) -> bool {
        let Ok(update) = Update::decode_v1(update) else {
            return false;
        };
        let before = self.content();
        {
            let mut txn = self.doc.transact_mut_with(REMOTE);
            if txn.apply_update(update).is_err() {
                return false;
            }
        }
        self.content() != before
    }

    /// What the person sees: the text, or the map's tree.
    fn content(&self) -> (String, Option<Arc<Tree>>) {
        (self.text(), self.tree())
    }

    /// The map's tree as this copy resolves it (`None` for a text, or before the map arrived):
    /// the same `Arc` until the document changes.
    pub fn tree(&self) -> Option<Arc<Tree>> {
        let map = self.map.as_ref()?;
        let version = self.version.load(Ordering::Relaxed);
        let mut cache = self.tree_cache.lock().expect("tree cache");
        if let Some((at, tree)) = cache.as_ref()
            && *at == version
        {
            return Some(tree.clone());
        }
        let tree = Arc::new(map.read(&self.doc.transact())?);
        *cache = Some((version, tree.clone()));
        Some(tree)
    }

    /// Changes the map as this person: `change` gets the structure and a transaction, and
    /// writes nothing when it fails. Returns its result and the frames to send.
    pub fn change_map<R>(
        &mut self,
        change: impl FnOnce(&Structure, &mut yrs::TransactionMut) -> Result<R, MapError>,
    ) -> Result<(R, Vec<Vec<u8>>), MapRefusal> {
        let Some(map) = self.map.as_ref().filter(|_| !self.read_only) else {
            return Err(MapRefusal::ReadOnly);
        };
        if !self.synced {
            return Err(MapRefusal::NotSynced);
        }
        let result = {
            let mut txn = self.doc.transact_mut_with(LOCAL);
            change(map, &mut txn)
        };
        let result = result.map_err(MapRefusal::Map)?;
        Ok((result, self.local_change()))
    }

    /// The topic this person has selected in the map: a presence frame if it changed.
    pub fn select(&mut self, node: Option<NodeId>) -> Option<Vec<u8>> {
        if self.selected == node {
            return None;
        }
        self.selected = node;
        self.announce();
        Some(self.presence_frame())
    }

    /// The topics the others have selected in the map, with who selected them.
    pub fn selections(&self) -> Vec<(User, NodeId)> {
        self.others()
            .into_iter()
            .filter_map(|state| Some((state.user, state.selected?)))
            .collect()
    }

    /// Whether `value` is within the largest text the server takes (UTF-8 bytes, as it
    /// counts); shrinking is always allowed.
    pub fn fits(&self, value: &str) -> bool {
        value.len() <= Limits::default().max_text || value.len() <= self.text().len()
    }

    /// The text area now holds `value`: records the difference from the document as this
    /// person's change. Returns the frames to send (none while offline or before the
    /// handshake: the next sync step 2 carries the change).
    pub fn edit(&mut self, value: &str) -> Vec<Vec<u8>> {
        if self.read_only || !self.synced {
            return Vec::new();
        }
        let current = self.text();
        let Some(Splice {
            start,
            removed,
            inserted,
        }) = splice(&current, value)
        else {
            return Vec::new();
        };
        {
            let mut txn = self.doc.transact_mut_with(LOCAL);
            if removed > 0 {
                self.text.remove_range(&mut txn, start, removed);
            }
            if !inserted.is_empty() {
                self.text.insert(&mut txn, start, inserted);
            }
        }
        self.local_change()
    }

    /// The whole document as one update: what the page keeps in the browser's storage while
    /// changes are unconfirmed, so closing the tab offline loses nothing.
    pub fn export(&self) -> Vec<u8> {
        self.doc
            .transact()
            .encode_state_as_update_v1(&Default::default())
    }

    /// Takes back a document [`Session::export`]ed by an earlier page: its changes count as
    /// this person's unconfirmed ones (undo does not reach them) and travel in the next sync
    /// step 2. Returns whether the bytes were a document.
    pub fn import(&mut self, update: &[u8]) -> bool {
        if self.read_only {
            return false;
        }
        let Ok(update) = Update::decode_v1(update) else {
            return false;
        };
        let applied = self
            .doc
            .transact_mut_with(RESTORED)
            .apply_update(update)
            .is_ok();
        if applied {
            self.local_change();
        }
        applied
    }

    /// Undoes this person's last change (others' changes stay): the frames to send, or
    /// `None` if there was nothing to undo.
    pub fn undo(&mut self) -> Option<Vec<Vec<u8>>> {
        (!self.read_only && self.undo.undo_blocking()).then(|| self.local_change())
    }

    pub fn redo(&mut self) -> Option<Vec<Vec<u8>>> {
        (!self.read_only && self.undo.redo_blocking()).then(|| self.local_change())
    }

    pub fn can_undo(&self) -> bool {
        !self.read_only && self.undo.can_undo()
    }

    pub fn can_redo(&self) -> bool {
        !self.read_only && self.undo.can_redo()
    }

    fn local_change(&mut self) -> Vec<Vec<u8>> {
        self.changes += 1;
        let updates = std::mem::take(&mut *self.outbox.lock().expect("outbox"));
        if !self.handshaken {
            return Vec::new();
        }
        self.sent = self.changes;
        updates.iter().map(|u| update_message(u)).collect()
    }

    /// A sync step 1 whose answer confirms the changes sent so far, if any are unconfirmed
    /// and not already asked about.
    pub fn confirm(&mut self) -> Option<Vec<u8>> {
        let asked = self.awaiting.back().copied().unwrap_or(self.confirmed);
        (self.handshaken && self.sent > asked).then(|| self.confirm_request())
    }

    fn confirm_request(&mut self) -> Vec<u8> {
        self.awaiting.push_back(self.sent);
        step1_message(&self.doc.transact().state_vector().encode_v1())
    }

    /// Where the caret is now (UTF-16 offsets into the text): a presence frame if it moved.
    pub fn move_caret(&mut self, anchor: u32, head: u32) -> Option<Vec<u8>> {
        if self.caret == Some((anchor, head)) {
            return None;
        }
        self.caret = Some((anchor, head));
        self.announce();
        Some(self.presence_frame())
    }

    /// Presence again, so the server does not expire it (it forgets a silent client after
    /// 30 s).
    pub fn renew(&mut self) -> Vec<u8> {
        self.announce();
        self.presence_frame()
    }

    /// Leaving: a presence frame that removes this person at once.
    pub fn leave(&mut self) -> Vec<u8> {
        self.awareness.clean_local_state();
        self.presence_frame()
    }

    fn announce(&mut self) {
        let cursor = self.caret.and_then(|(anchor, head)| {
            let txn = self.doc.transact();
            Some(Cursor16 {
                anchor: self.sticky(&txn, anchor)?,
                head: self.sticky(&txn, head)?,
            })
        });
        let state = PresenceState {
            user: self.user.clone(),
            cursor,
            selected: self.selected,
        };
        let json = serde_json::to_string(&state).expect("presence is JSON");
        self.awareness.set_local_state_raw(json);
    }

    fn presence_frame(&self) -> Vec<u8> {
        let own = self.awareness.client_id();
        let update: AwarenessUpdate = self
            .awareness
            .update_with_clients([own])
            .expect("own presence is present");
        presence_message(&update.encode_v1())
    }

    /// The others' presence states, in client id order (the same on every screen).
    fn others(&self) -> Vec<PresenceState> {
        let own = self.awareness.client_id();
        let mut others: Vec<(u64, PresenceState)> = self
            .awareness
            .iter()
            .filter(|(id, _)| *id != own)
            .filter_map(|(id, state)| {
                let mut state: PresenceState = serde_json::from_str(&state.data?).ok()?;
                state.user = shown(state.user);
                Some((id.get(), state))
            })
            .collect();
        others.sort_by_key(|(id, _)| *id);
        others.into_iter().map(|(_, state)| state).collect()
    }

    /// Everyone here (this person first), with their colours.
    pub fn people(&self) -> Vec<User> {
        let mut people = vec![self.user.clone()];
        people.extend(self.others().into_iter().map(|state| state.user));
        people
    }

    /// The others' carets and selections in the current text.
    pub fn carets(&self) -> Vec<RemoteCaret> {
        let others = self.others();
        let txn = self.doc.transact();
        others
            .into_iter()
            .filter_map(|state| {
                let cursor = state.cursor?;
                Some(RemoteCaret {
                    user: state.user,
                    anchor: cursor.anchor.get_offset(&txn)?.index,
                    head: cursor.head.get_offset(&txn)?.index,
                })
            })
            .collect()
    }

    /// Positions that follow the text through remote changes: taken before applying them,
    /// resolved after (so the local caret stays where the person left it).
    pub fn pin(&self, offsets: [u32; 2]) -> Option<[StickyIndex; 2]> {
        let txn = self.doc.transact();
        Some([
            self.sticky(&txn, offsets[0])?,
            self.sticky(&txn, offsets[1])?,
        ])
    }

    /// A position that stays before the character now at `offset`; at the very end of the
    /// text (where yrs has no character to follow), the end of the text.
    fn sticky(&self, txn: &Transaction, offset: u32) -> Option<StickyIndex> {
        let len = self.text.len(txn);
        if offset >= len {
            let branch: &yrs::branch::Branch = self.text.as_ref();
            let branch = BranchPtr::from(branch);
            return Some(StickyIndex::new(
                IndexScope::from_branch(branch),
                Assoc::After,
            ));
        }
        self.text.sticky_index(txn, offset, Assoc::After)
    }

    pub fn unpin(&self, pins: &[StickyIndex; 2]) -> Option<[u32; 2]> {
        let txn = self.doc.transact();
        Some([
            pins[0].get_offset(&txn)?.index,
            pins[1].get_offset(&txn)?.index,
        ])
    }
}

/// A remote person as shown: their colour only if it is a plain `#rrggbb` (it goes into a
/// style property), else the one their name gives.
fn shown(user: User) -> User {
    let plain = user.color.len() == 7
        && user.color.starts_with('#')
        && user.color[1..].bytes().all(|b| b.is_ascii_hexdigit());
    if plain {
        user
    } else {
        User {
            color: color_for(&user.name),
            name: user.name,
        }
    }
}

/// A colour for a name: the same on every screen, from a palette readable on light and dark
/// backgrounds.
pub fn color_for(name: &str) -> String {
    const PALETTE: [&str; 8] = [
        "#e11d48", "#2563eb", "#059669", "#d97706", "#7c3aed", "#0891b2", "#c026d3", "#65a30d",
    ];
    let hash = name.bytes().fold(2166136261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16777619)
    });
    PALETTE[hash as usize % PALETTE.len()].to_owned()
}
