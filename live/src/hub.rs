//! The rooms of this replica ([`Hub`]): loading a document (from its stored snapshot and log,
//! or seeded from the rows the first time), joining and leaving, handling a connection's
//! frames, acknowledging them once durable, the server's own edits, and what other replicas
//! relay. Upkeep (refreshing rows, compaction, unloading, re-checking access) is
//! [`crate::upkeep`]'s.
//!
//! **Bounded for strangers.** A handshake finds which loaded map holds a topic that has no
//! row yet through an index kept by the maps themselves (an observer on each loaded
//! structure's `nodes`), never by reading the maps; and each replica caps its open sockets per
//! client address and per account ([`crate::SocketCaps`]), refusing more before the upgrade.
//! A live structure update that takes the tree past its limits is refused before anyone sees
//! it ([`Hub::hold_tree_limits`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as SyncMutex};
use std::time::Instant;

use arbor_collab::{Access, Close, ConnId, Document, Limits, Room, TEXT};
use arbor_db::docs::{DocOwner, StoredDoc};
use arbor_map::{Extent, Structure, Tree};
use bytes::Bytes;
use tokio::sync::{Mutex, OwnedMutexGuard, mpsc};

use crate::clock::now_ms;
use crate::error::LiveError;
use crate::redis_handle::RedisHandle;
use crate::relay::{Heard, Relay, Relayed};
use crate::room::{DocKey, Live, Out, PEER_QUEUE, Peer, SignIn, Slot};
use crate::seed;
use crate::sockets::{SocketCaps, SocketPermit, Sockets};
use crate::writer::Writer;

/// Presence owners standing for other replicas have this bit set (local ids count up from 1).
const REMOTE: ConnId = 1 << 63;

/// The rooms of this replica; cheap to clone.
#[derive(Clone)]
pub struct Hub {
    pub(crate) inner: Arc<HubInner>,
}

pub(crate) struct HubInner {
    pub db: arbor_db::Db,
    pub relay: Option<Relay>,
    rooms: SyncMutex<HashMap<String, Arc<Slot>>>,
    pub writer: Writer,
    limits: Limits,
    next_conn: AtomicU64,
    /// One projection at a time per subject (see [`Hub::projection_lock`]).
    projecting: SyncMutex<HashMap<i64, Arc<Mutex<()>>>>,
    /// Topic id → the subject whose loaded structure holds it (see [`Hub::subject_holding`]).
    holding: Arc<SyncMutex<HashMap<i64, i64>>>,
    sockets: Sockets,
    /// Told the subject when one of its topics' bodies takes a change its rendered row does
    /// not have yet (see [`Hub::on_unrendered`]).
    unrendered: std::sync::OnceLock<Arc<dyn Fn(i64) + Send + Sync>>,
}

/// A connection's place in a room, for [`Hub::receive`] and [`Hub::leave`].
pub struct Seat {
    slot: Arc<Slot>,
    conn: ConnId,
}

/// What [`Hub::join`] gives a connection.
pub struct Joined {
    pub seat: Seat,
    /// Frames and instructions for the connection, in order.
    pub rx: mpsc::Receiver<Out>,
}

/// A room held by its lock (loaded).
type Held = OwnedMutexGuard<Option<Live>>;

/// A document as storage holds it (snapshot and log).
pub(crate) fn load_stored(name: &str, stored: &StoredDoc) -> Result<Document, LiveError> {
    Document::load(
        Some(&stored.snapshot),
        stored.log.iter().map(|(_, u)| u.as_slice()),
    )
    .map_err(|e| LiveError::unreadable(name, e))
}

fn lock<T>(mutex: &SyncMutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Hub {
    /// A hub whose writer appends to `db`, relaying to other replicas through `redis`.
    pub fn new(
        db: arbor_db::Db,
        limits: Limits,
        caps: SocketCaps,
        redis: Option<RedisHandle>,
    ) -> Hub {
        let relay = redis.map(Relay::new);
        let hub = Hub {
            inner: Arc::new(HubInner {
                writer: Writer::spawn(db.clone()),
                db,
                relay: relay.clone(),
                rooms: SyncMutex::new(HashMap::new()),
                limits,
                next_conn: AtomicU64::new(1),
                projecting: SyncMutex::new(HashMap::new()),
                holding: Arc::default(),
                sockets: Sockets::new(caps),
                unrendered: std::sync::OnceLock::new(),
            }),
        };
        if let Some(relay) = relay {
            let mut heard = relay.spawn();
            let hub = hub.clone();
            tokio::spawn(async move {
                while let Some(heard) = heard.recv().await {
                    match heard {
                        Heard::Connected => hub.repair_all().await,
                        Heard::Message {
                            doc,
                            origin,
                            message,
                        } => hub.relayed(&doc, origin, message).await,
                    }
                }
            });
        }
        hub
    }

    /// Calls `tell` with the subject's id when a topic body of it, its rendered row up to
    /// date until then, takes a change from a connection here — before that change is
    /// acknowledged — so that caches of the subject's pages can be dropped: a page asked for
    /// after "all changes saved" is rendered afresh ([`Hub::newer_body`]). Set once, at
    /// start-up.
    pub fn on_unrendered(&self, tell: Arc<dyn Fn(i64) + Send + Sync>) {
        let _ = self.inner.unrendered.set(tell);
    }

    /// The text of topic `topic_id`'s body document when the topic's rendered row (written
    /// at `rendered_at`, Unix ms) lags it: live here with changes not yet rendered, or stored
    /// with changes logged after that. `None` when the row is current, or there is no
    /// document.
    pub async fn newer_body(
        &self,
        topic_id: i64,
        rendered_at: i64,
    ) -> Result<Option<String>, LiveError> {
        let name = DocKey::Topic(topic_id).name();
        let slot = lock(&self.inner.rooms).get(&name).cloned();
        if let Some(slot) = slot
            && let Some(live) = slot.live.lock().await.as_ref()
        {
            return Ok(live
                .unrendered
                .is_some()
                .then(|| live.room.document.text(TEXT)));
        }
        match self.inner.db.topic_doc_changed(topic_id).await? {
            Some((doc_id, changed)) if changed > rendered_at => {
                Ok(Some(self.stored_document(doc_id).await?.text(TEXT)))
            }
            _ => Ok(None),
        }
    }

    /// Sends `message` about `doc` to the other replicas, if there are any.
    async fn publish(&self, doc: &str, message: Relayed) {
        if let Some(relay) = &self.inner.relay {
            relay.publish(doc, &message).await;
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// Documents loaded in this replica.
    pub fn loaded(&self) -> usize {
        lock(&self.inner.rooms).len()
    }

    pub(crate) fn slots(&self) -> Vec<Arc<Slot>> {
        lock(&self.inner.rooms).values().cloned().collect()
    }

    /// A place for one more socket from `client` (its address) for `user_id` (0 signed out),
    /// or [`LiveError::TooManySockets`] when either is at its cap ([`SocketCaps`]).
    pub fn admit_socket(
        &self,
        client: Option<&str>,
        user_id: i64,
    ) -> Result<SocketPermit, LiveError> {
        self.inner.sockets.admit(client, user_id)
    }

    /// Keeps [`HubInner::holding`] up to date with the topics of subject `subject_id`'s
    /// structure in `document`: records those it holds now, then follows its changes.
    fn index_structure(&self, subject_id: i64, document: &Document) {
        use yrs::Map as _;
        use yrs::Observable as _;
        let holding = Arc::clone(&self.inner.holding);
        let topic_ids = |keys: &mut dyn Iterator<Item = &str>| -> Vec<i64> {
            keys.filter_map(|k| k.parse::<i64>().ok()).collect()
        };
        document.read(|doc| {
            let nodes = doc.get_or_insert_map(arbor_map::NODES);
            let held = topic_ids(&mut nodes.keys(&yrs::Transact::transact(doc)));
            {
                let mut index = lock(&holding);
                index.retain(|_, s| *s != subject_id);
                index.extend(held.into_iter().map(|id| (id, subject_id)));
            }
            nodes.observe("holding", move |txn, event| {
                let mut index = lock(&holding);
                for (key, change) in event.keys(txn) {
                    let Ok(id) = key.parse::<i64>() else { continue };
                    match change {
                        yrs::types::EntryChange::Removed(_) => {
                            index.remove(&id);
                        }
                        _ => {
                            index.insert(id, subject_id);
                        }
                    }
                }
            });
        });
    }

    /// The slot of document `key` of subject `subject_id`, loaded. The returned guard holds
    /// the room.
    async fn open(&self, key: DocKey, subject_id: i64) -> Result<(Arc<Slot>, Held), LiveError> {
        let name = key.name();
        loop {
            let slot = lock(&self.inner.rooms)
                .entry(name.clone())
                .or_insert_with(|| {
                    Arc::new(Slot {
                        name: name.clone(),
                        key,
                        subject_id,
                        live: Arc::new(Mutex::new(None)),
                    })
                })
                .clone();
            let mut live = Arc::clone(&slot.live).lock_owned().await;
            if live.is_none() {
                if !lock(&self.inner.rooms)
                    .get(&name)
                    .is_some_and(|s| Arc::ptr_eq(s, &slot))
                {
                    continue; // unloaded meanwhile: take the new slot
                }
                *live = Some(self.load(key, subject_id, &name).await?);
            }
            return Ok((slot, live));
        }
    }

    async fn load(&self, key: DocKey, subject_id: i64, name: &str) -> Result<Live, LiveError> {
        // Listen first, then read: an update another replica commits meanwhile is either in
        // what is read or arrives on the channel.
        if let Some(relay) = &self.inner.relay {
            relay.watch(name).await;
        }
        let db = &self.inner.db;
        let doc_id = match db.doc_id(name).await? {
            Some(id) => id,
            None => {
                let snapshot = seed::from_rows(db, key, subject_id)
                    .await?
                    .snapshot()
                    .map_err(|e| LiveError::unreadable(name, e))?;
                let owner = match key {
                    DocKey::Topic(id) => DocOwner::Topic(id),
                    DocKey::Subject(id) => DocOwner::Subject(id),
                };
                db.open_doc(name, owner, &snapshot, now_ms()).await?
            }
        };
        let stored = db.load_doc(doc_id).await?;
        let document = load_stored(name, &stored)?;
        if let DocKey::Subject(id) = key {
            self.index_structure(id, &document);
        }
        metrics::counter!("arbor_collab_loads_total").increment(1);
        let now = Instant::now();
        Ok(Live {
            room: Room::new(document, self.inner.limits.clone()),
            doc_id,
            peers: HashMap::new(),
            log_updates: stored.log.len(),
            log_bytes: stored.log_bytes(),
            compacting: false,
            // A structure is projected once after loading: its rows may lag (a replica that
            // died before projecting), and expired trash is purged then.
            unrendered: matches!(key, DocKey::Subject(_)).then_some((now, now)),
            empty_since: Some(now),
        })
    }

    /// Adds a connection with `access` to the room of document `key` (of subject
    /// `subject_id`); the greeting is already queued.
    ///
    /// `who` is the signed-in person as (username, display name), `None` for a signed-out
    /// reader: presence states the connection sends are stamped with it (`user.name`,
    /// `user.account`), so nobody appears under someone else's name. The connection stays
    /// while `sign_in` does.
    pub async fn join(
        &self,
        key: DocKey,
        subject_id: i64,
        access: Access,
        user_id: i64,
        sign_in: SignIn,
        who: Option<(&str, &str)>,
    ) -> Result<Joined, LiveError> {
        let (slot, mut guard) = self.open(key, subject_id).await?;
        let live = guard.as_mut().expect("open loads the room");
        let conn = self.inner.next_conn.fetch_add(1, Ordering::Relaxed);
        let (name, account) = match who {
            Some((username, display_name)) => (display_name.into(), username.into()),
            None => ("Guest".into(), serde_json::Value::Null),
        };
        let identity = serde_json::Map::from_iter([
            ("name".to_owned(), name),
            ("account".to_owned(), account),
        ]);
        live.room.presence.identify(conn, identity);
        let (tx, rx) = mpsc::channel(PEER_QUEUE);
        for frame in live.room.greeting() {
            let _ = tx.try_send(Out::Frame(Bytes::from(frame)));
        }
        live.peers.insert(
            conn,
            Peer {
                tx,
                access,
                user_id,
                sign_in,
            },
        );
        live.empty_since = None;
        metrics::gauge!("arbor_collab_connections").increment(1.0);
        drop(guard);
        Ok(Joined {
            seat: Seat { slot, conn },
            rx,
        })
    }

    /// Handles one frame from the connection in `seat`; returns how to close it, if it must
    /// be closed.
    pub async fn receive(&self, seat: &Seat, frame: &[u8]) -> Option<Close> {
        let (slot, conn) = (&seat.slot, seat.conn);
        let (mut effects, doc_id) = {
            let mut guard = slot.live.lock().await;
            let live = guard.as_mut()?;
            let Some(access) = live.peers.get(&conn).map(|p| p.access) else {
                return Some(Close {
                    code: Close::FORBIDDEN,
                    reason: "access was withdrawn".into(),
                });
            };
            let mut effects = live.room.receive(conn, access, frame, now_ms() as u64);
            if let DocKey::Subject(subject_id) = slot.key {
                self.hold_tree_limits(subject_id, live, &mut effects).await;
            }
            // Replies include an acknowledgement only when nothing accepted is still on its
            // way to storage; otherwise the ledger holds it (see `acknowledge`).
            for reply in &effects.reply {
                live.send_to(conn, reply);
            }
            if let Some(presence) = &effects.presence {
                live.broadcast(presence, None);
            }
            // Relayed to this replica's other connections at once; made durable below.
            let mut first_unrendered = false;
            if let Some(update) = &effects.update {
                live.broadcast(&arbor_collab::update_message(update), Some(conn));
                live.logged(update);
                first_unrendered = live.unrendered.is_none();
                live.changed();
            }
            if first_unrendered
                && matches!(slot.key, DocKey::Topic(_))
                && let Some(tell) = self.inner.unrendered.get()
            {
                tell(slot.subject_id);
            }
            (effects, live.doc_id)
        };
        metrics::counter!("arbor_collab_messages_total").increment(1);
        if let Some(update) = effects.update.take() {
            if !self.store(slot, doc_id, update, effects.number).await {
                return Some(Close {
                    code: 1011,
                    reason: "the update could not be saved; reconnect".into(),
                });
            }
            metrics::counter!("arbor_collab_updates_total").increment(1);
        }
        if let Some(presence) = effects.presence.take() {
            self.publish(&slot.name, Relayed::Presence(presence)).await;
        }
        if effects.reload {
            metrics::counter!("arbor_collab_reloads_total").increment(1);
            self.reload(slot, false).await;
        }
        if let Some(close) = &effects.close {
            tracing::info!(doc = %slot.name, code = close.code, reason = %close.reason, "closing a connection");
        }
        effects.close
    }

    /// Makes `update` (number `number` in the room's ledger) durable, then sends the
    /// acknowledgements that waited for it and relays it to the other replicas (which hear only
    /// of durable updates); if the write fails, the room goes back to storage and every
    /// connection to it reconnects and syncs (others may hold the update already, and bring it
    /// back once storage takes writes again). All of it runs in a task of its own, so a caller
    /// that goes away meanwhile (a client hanging up mid-request) cannot leave the ledger
    /// waiting for a number nobody resolves. `false` when the write failed.
    async fn store(&self, slot: &Arc<Slot>, doc_id: i64, update: Vec<u8>, number: u64) -> bool {
        let (hub, slot) = (self.clone(), Arc::clone(slot));
        let stored = tokio::spawn(async move {
            if !hub.inner.writer.append(doc_id, update.clone()).await {
                tracing::warn!(doc = %slot.name, "could not store an update; reloading the room");
                hub.reload(&slot, true).await;
                return false;
            }
            hub.acknowledge(&slot, number).await;
            hub.publish(&slot.name, Relayed::Update(update)).await;
            true
        });
        stored.await.unwrap_or(false)
    }

    /// Update `number` of the room in `slot` is durable: sends the acknowledgements that
    /// waited for it.
    async fn acknowledge(&self, slot: &Slot, number: u64) {
        let mut guard = slot.live.lock().await;
        if let Some(live) = guard.as_mut() {
            resolve(live, number);
        }
    }

    /// Refuses a client's structure update that takes the tree past
    /// [`arbor_map::MAX_TOPICS`] or [`arbor_map::MAX_DEPTH`] (further than it already was,
    /// see [`arbor_map::Extent::outgrown_by`]) like any update past a limit: closed with 4413,
    /// nothing applied. The update is in the room's document already (yrs cannot take it
    /// back), so the room goes back to what storage holds, where it never went, before the
    /// room's lock is let go: nobody else ever sees it. Costs one resolution of the tree per
    /// update; the reload only when a limit is passed.
    async fn hold_tree_limits(
        &self,
        subject_id: i64,
        live: &mut Live,
        effects: &mut arbor_collab::Effects,
    ) {
        let Some(update) = effects.update.take() else {
            return;
        };
        let extent = |document: &Document| {
            document.read(|doc| {
                Structure::new(doc)
                    .read(&yrs::Transact::transact(doc))
                    .map(|tree| tree.extent())
            })
        };
        let Some(after) = extent(&live.room.document) else {
            effects.update = Some(update);
            return;
        };
        if after.within_limits() {
            effects.update = Some(update);
            return;
        }
        self.inner.writer.flush().await;
        let before = match self.stored_document(live.doc_id).await {
            Ok(document) => {
                self.replace_document(DocKey::Subject(subject_id), live, document);
                extent(&live.room.document).unwrap_or_default()
            }
            Err(e) => {
                // Refused all the same; the usual reload path deals with storage.
                tracing::warn!(error = %e, "reloading a structure past its limits failed");
                effects.reload = true;
                Extent::default()
            }
        };
        match before.outgrown_by(&after) {
            // No worse than before (a map already over a limit): applied again, accepted.
            None if !effects.reload
                && live.room.document.apply(&update, &live.room.limits).is_ok() =>
            {
                effects.update = Some(update);
            }
            refusal => {
                // Never stored, so nothing waits for it.
                resolve(live, std::mem::take(&mut effects.number));
                effects.close = Some(Close {
                    code: Close::TOO_LARGE,
                    reason: refusal.map_or_else(
                        || "the update could not be applied again".to_owned(),
                        |r| r.to_string(),
                    ),
                });
            }
        }
    }

    /// Puts `document` in the room in place of the one it holds (a structure's topics are
    /// indexed anew: the old document's observer goes with it).
    fn replace_document(&self, key: DocKey, live: &mut Live, document: Document) {
        if let DocKey::Subject(subject_id) = key {
            self.index_structure(subject_id, &document);
        }
        live.room.document = document;
    }

    /// Document `doc_id` as storage holds it.
    pub(crate) async fn stored_document(&self, doc_id: i64) -> Result<Document, LiveError> {
        let stored = self.inner.db.load_doc(doc_id).await?;
        load_stored(&format!("document {doc_id}"), &stored)
    }

    /// Drops the in-memory document and loads it again from storage, once every accepted
    /// update is written. Connections stay, unless `close_all` or loading fails: then they are
    /// closed to reconnect (and sync, which hands the server whatever it lost).
    async fn reload(&self, slot: &Slot, close_all: bool) {
        self.inner.writer.flush().await;
        let mut guard = slot.live.lock().await;
        let Some(live) = guard.as_mut() else { return };
        if close_all {
            live.close_all();
            live.room.ledger.failed();
        }
        match self.stored_document(live.doc_id).await {
            Ok(document) => self.replace_document(slot.key, live, document),
            Err(e) => {
                tracing::error!(doc = %slot.name, error = %e, "reloading a document failed");
                live.close_all();
                *guard = None;
                self.unload(slot);
            }
        }
    }

    /// The connection in `seat` left: its presence is removed and broadcast.
    pub async fn leave(&self, seat: &Seat) {
        let (slot, conn) = (&seat.slot, seat.conn);
        let removal = {
            let mut guard = slot.live.lock().await;
            let Some(live) = guard.as_mut() else { return };
            live.drop_peer(conn);
            let removal = live.room.leave(conn, now_ms() as u64);
            if let Some(removal) = &removal {
                live.broadcast(removal, None);
            }
            if live.peers.is_empty() {
                live.empty_since = Some(Instant::now());
            }
            removal
        };
        if let Some(removal) = removal {
            self.publish(&slot.name, Relayed::Presence(removal)).await;
        }
    }

    /// Something another replica relayed about `doc`: applied here and passed on to this
    /// replica's connections. A gap (an update whose dependencies never arrived) is repaired
    /// from the database.
    async fn relayed(&self, doc: &str, origin: u64, message: Relayed) {
        let Some(slot) = lock(&self.inner.rooms).get(doc).cloned() else {
            return;
        };
        let mut needs_repair = false;
        {
            let mut guard = slot.live.lock().await;
            let Some(live) = guard.as_mut() else { return };
            match message {
                Relayed::Update(update) => match live.room.document.apply_stored(&update) {
                    Ok(()) => {
                        live.broadcast(&arbor_collab::update_message(&update), None);
                        live.changed();
                    }
                    Err(e) => {
                        tracing::info!(doc, error = %e, "a relayed update did not apply; repairing");
                        needs_repair = true;
                    }
                },
                Relayed::Repair => needs_repair = true,
                Relayed::Presence(frame) => {
                    // One presence owner per remote replica, apart from local connections.
                    let via = REMOTE | (origin >> 1);
                    if let Some(out) = live.room.relay_presence(via, &frame, now_ms() as u64) {
                        live.broadcast(&out, None);
                    }
                }
            }
        }
        if needs_repair {
            metrics::counter!("arbor_collab_repairs_total").increment(1);
            self.repair(&slot).await;
        }
    }

    /// Repairs every loaded room from the database (after the relay reconnects: messages may
    /// have been lost meanwhile).
    async fn repair_all(&self) {
        for slot in self.slots() {
            self.repair(&slot).await;
        }
    }

    /// Brings a room up to what the database holds and sends what was missing to its
    /// connections.
    async fn repair(&self, slot: &Slot) {
        let Some(doc_id) = slot.live.lock().await.as_ref().map(|l| l.doc_id) else {
            return;
        };
        let fresh = match self.stored_document(doc_id).await {
            Ok(fresh) => fresh,
            Err(e) => {
                tracing::warn!(doc = %slot.name, error = %e, "repair could not read the document");
                return;
            }
        };
        let mut guard = slot.live.lock().await;
        let Some(live) = guard.as_mut() else { return };
        let missing = fresh.diff(&live.room.document.state_vector());
        match missing {
            Ok(missing)
                if arbor_collab::check::update(&missing).is_ok_and(|shape| !shape.is_empty()) =>
            {
                if live.room.document.apply_stored(&missing).is_ok() {
                    live.broadcast(&arbor_collab::update_message(&missing), None);
                    live.changed();
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(doc = %slot.name, error = %e, "repair failed"),
        }
    }

    /// Makes topic `topic_id`'s text read `body` (a plain-form edit) through its document, so
    /// live editors see the change and no later snapshot refresh undoes it.
    pub async fn set_text(
        &self,
        subject_id: i64,
        topic_id: i64,
        body: &str,
    ) -> Result<(), LiveError> {
        let (slot, mut guard) = self.open(DocKey::Topic(topic_id), subject_id).await?;
        let live = guard.as_mut().expect("open loads the room");
        let update = live.room.document.replace_text(TEXT, body);
        self.commit_own(&slot, guard, update).await
    }

    /// Stores, broadcasts and relays `update`, a change the server made itself to the room
    /// `guard` holds (released before the write is awaited).
    async fn commit_own(
        &self,
        slot: &Arc<Slot>,
        mut guard: Held,
        update: Option<Vec<u8>>,
    ) -> Result<(), LiveError> {
        let Some(update) = update else { return Ok(()) };
        let live = guard.as_mut().expect("the room is loaded");
        let doc_id = live.doc_id;
        let number = live.room.ledger.accept();
        live.broadcast(&arbor_collab::update_message(&update), None);
        live.logged(&update);
        drop(guard);
        if !self.store(slot, doc_id, update, number).await {
            return Err(LiveError::NotSaved(slot.name.clone()));
        }
        Ok(())
    }

    /// Changes subject `subject_id`'s structure as the server's own edit: `edit` gets the
    /// structure, the transaction and the tree as it stands; when it fails, whatever it wrote
    /// is undone (the room goes back to storage). The change is durable when this returns
    /// `Ok` (the caller then projects it).
    pub async fn change_structure<R, E: From<LiveError>>(
        &self,
        subject_id: i64,
        edit: impl FnOnce(&Structure, &mut yrs::TransactionMut, &Tree) -> Result<R, E>,
    ) -> Result<R, E> {
        let (slot, mut guard) = self.open(DocKey::Subject(subject_id), subject_id).await?;
        let live = guard.as_mut().expect("open loads the room");
        let document = &mut live.room.document;
        let structure = document.read(Structure::new);
        let tree = document
            .read(|doc| structure.read(&yrs::Transact::transact(doc)))
            .ok_or_else(|| LiveError::unreadable(&slot.name, "the map has no root"))?;
        let (result, update) = document.change(|txn| edit(&structure, txn, &tree));
        match result {
            Ok(result) => {
                self.commit_own(&slot, guard, update).await?;
                Ok(result)
            }
            Err(e) => {
                if update.is_some() {
                    // It wrote before it failed: back to what storage holds, before the room
                    // is let go, so nobody sees half a change.
                    self.inner.writer.flush().await;
                    match self.stored_document(live.doc_id).await {
                        Ok(document) => self.replace_document(slot.key, live, document),
                        Err(_) => {
                            drop(guard);
                            self.reload(&slot, true).await;
                        }
                    }
                }
                Err(e)
            }
        }
    }

    /// Subject `subject_id`'s tree as its structure document resolves it now.
    pub async fn structure(&self, subject_id: i64) -> Result<Tree, LiveError> {
        self.change_structure(subject_id, |_, _, tree| Ok::<_, LiveError>(tree.clone()))
            .await
    }

    /// The loaded structure, if any, that holds topic `topic_id` (a topic just made in a live
    /// map, whose row the projection has not written yet): one look-up in the index the
    /// loaded structures keep.
    pub fn subject_holding(&self, topic_id: i64) -> Option<i64> {
        lock(&self.inner.holding).get(&topic_id).copied()
    }

    /// Forgets an unloaded room (called while its slot is still held, so no new room for the
    /// same document is loading yet).
    pub(crate) fn unload(&self, slot: &Slot) {
        if let DocKey::Subject(id) = slot.key {
            lock(&self.inner.holding).retain(|_, s| *s != id);
        }
        lock(&self.inner.rooms).remove(&slot.name);
    }

    /// Held while projecting `subject_id`, so this replica's projections of one subject run
    /// one at a time, each from the latest state.
    pub async fn projection_lock(&self, subject_id: i64) -> OwnedMutexGuard<()> {
        let lock = {
            let mut all = lock(&self.inner.projecting);
            all.retain(|_, lock| Arc::strong_count(lock) > 1);
            Arc::clone(all.entry(subject_id).or_default())
        };
        lock.lock_owned().await
    }

    /// Creates the body documents of topics about to be added to `subject_id` (`(id, body)`),
    /// before the topics exist anywhere: owned by the subject until a projection gives each
    /// topic its row, so whichever replica projects first finds the text.
    pub async fn seed_bodies(
        &self,
        subject_id: i64,
        bodies: &[(i64, &str)],
    ) -> Result<(), LiveError> {
        for (topic_id, body) in bodies {
            let name = DocKey::Topic(*topic_id).name();
            let snapshot = seed::body(body)
                .snapshot()
                .map_err(|e| LiveError::unreadable(&name, e))?;
            self.inner
                .db
                .open_doc(&name, DocOwner::Subject(subject_id), &snapshot, now_ms())
                .await?;
        }
        Ok(())
    }

    /// Forgets body documents seeded for topics that were then not added.
    pub async fn discard_bodies(&self, subject_id: i64, topic_ids: &[i64]) {
        for topic_id in topic_ids {
            let name = DocKey::Topic(*topic_id).name();
            if let Err(e) = self.inner.db.discard_doc(&name, subject_id).await {
                tracing::warn!(doc = %name, error = %e, "could not discard an unused body document");
            }
        }
    }

    /// The text of the body document of topic `topic_id`, waiting without a row in subject
    /// `subject_id` (a topic back from the trash, or new), if it has one there: live here, or
    /// as stored. A document another subject (or a topic row) owns is never read.
    pub async fn body_text(
        &self,
        subject_id: i64,
        topic_id: i64,
    ) -> Result<Option<String>, LiveError> {
        let name = DocKey::Topic(topic_id).name();
        let Some(doc_id) = self.inner.db.waiting_doc_id(&name, subject_id).await? else {
            return Ok(None);
        };
        let slot = lock(&self.inner.rooms).get(&name).cloned();
        if let Some(slot) = slot
            && let Some(live) = slot.live.lock().await.as_ref()
            && live.doc_id == doc_id
        {
            return Ok(Some(live.room.document.text(TEXT)));
        }
        Ok(Some(self.stored_document(doc_id).await?.text(TEXT)))
    }
}

/// Update `number` is durable (or was refused, so nothing waits for it): the acknowledgements
/// it held go out.
fn resolve(live: &mut Live, number: u64) {
    for (conn, frame) in live.room.durable(number) {
        live.send_to(conn, &frame);
    }
}
