//! Live documents in this replica: the rooms clients edit together (`topic:{id}` bodies and
//! `subject:{id}` structures), the group-commit writer that makes their updates durable, and
//! the upkeep that refreshes topic snapshots and subject projections, compacts logs, expires
//! presence, re-checks access and sign-ins and unloads idle rooms.
//!
//! **Bounded for strangers.** A handshake finds which loaded map holds a topic that has no
//! row yet through an index kept by the maps themselves (an observer on each loaded
//! structure's `nodes`), never by reading the maps; and each replica caps its open sockets per
//! client address and per account ([`SocketCaps`]), refusing more before the upgrade.
//!
//! **Sign-ins are re-checked.** Each connection remembers the session or token it was opened
//! with; when a sign-in of an account ends (signing out, a revoked token, a password change,
//! a deleted account: [`Event::SignInRevoked`] on the bus, or [`Event::Resync`] after missed
//! events), its connections whose sign-in is no longer valid are closed with
//! [`Close::UNAUTHENTICATED`].
//!
//! The protocol itself (what a message does, limits, permissions) is `arbor_collab`'s; this
//! module supplies storage, fan-out and time, and holds structures to the tree's limits
//! (`hold_tree_limits`). The websocket transport is the server crate's.
//!
//! **Acknowledged means durable.** An accepted update is relayed to this replica's other
//! connections at once and appended to the log by the group-commit writer; other replicas hear
//! of it only once it is committed. The y-websocket protocol's one question and answer is the
//! sync step: the server answers a client's sync step 1 only once everything it has accepted
//! so far is committed, so a stock client's `synced` state means "all I sent before is on
//! disk". Until then the client holds its edits, and every (re)connect makes it send whatever
//! the server lacks, so an update lost to a crash between relay and commit comes back from a
//! client that has it. If a write fails, the room is reloaded from storage and every
//! connection to it is closed to reconnect and sync for the same reason.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex as SyncMutex};
use std::time::{Duration, Instant};

use arbor_collab::{Access, Close, ConnId, Document, Limits, Room, TEXT};
use arbor_db::DbError;
use arbor_db::docs::DocOwner;
use arbor_db::subjects::SubjectRow;
use arbor_db::topics::TopicRow;
use arbor_map::{Extent, Structure, Tree};
use axum::body::Bytes;
use tokio::sync::{Mutex, mpsc, oneshot};

use super::access::{self, Need};
use super::bus::Event;
use super::relay::{Relay, Relayed};
use super::{AppState, now_ms};
use crate::error::AppError;

/// Frames queued for one connection before it counts as too slow and is dropped.
pub const PEER_QUEUE: usize = 512;
/// Updates written in one transaction at most.
const BATCH: usize = 256;
/// A topic's rendered snapshot is refreshed this long after the last change…
const RENDER_QUIET: Duration = Duration::from_secs(2);
/// …or this long after the first unrendered one, whichever comes first.
const RENDER_AT_MOST: Duration = Duration::from_secs(10);
/// A subject's rows follow a live change to its structure this long after the last change…
const PROJECT_QUIET: Duration = Duration::from_millis(400);
/// …or this long after the first unprojected one.
const PROJECT_AT_MOST: Duration = Duration::from_secs(2);
/// The log is folded into the snapshot after this many updates or bytes.
const COMPACT_UPDATES: usize = 200;
const COMPACT_BYTES: usize = 512 << 10;
/// A room nobody is connected to stays loaded this long.
const UNLOAD_AFTER: Duration = Duration::from_secs(30);
/// Presence owners standing for other replicas have this bit set (local ids count up from 1).
const REMOTE: ConnId = 1 << 63;
/// How often upkeep runs.
const UPKEEP_EVERY: Duration = Duration::from_millis(500);

/// A frame or instruction for one connection.
#[derive(Debug, Clone)]
pub enum Out {
    Frame(Bytes),
    Close(Close),
}

struct Peer {
    tx: mpsc::Sender<Out>,
    access: Access,
    /// 0 for a signed-out reader.
    user_id: i64,
    sign_in: SignIn,
}

/// What a connection was opened with, which must stay valid for it to stay open.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SignIn {
    SignedOut,
    /// A session cookie: the session's hash.
    Session(Vec<u8>),
    /// A personal access token (`?token=` or a bearer header): its hash.
    Token(Vec<u8>),
}

/// Most open sockets per replica from one client address, and of one account.
#[derive(Debug, Clone, Copy)]
pub struct SocketCaps {
    pub per_client: usize,
    pub per_user: usize,
}

impl Default for SocketCaps {
    fn default() -> Self {
        SocketCaps {
            per_client: 256,
            per_user: 32,
        }
    }
}

/// How long a client refused for too many sockets is told to wait.
const SOCKETS_RETRY_AFTER_SECS: u64 = 30;

/// Open sockets of this replica, by client address and by account.
#[derive(Default)]
struct SocketCounts {
    per_client: HashMap<String, usize>,
    per_user: HashMap<i64, usize>,
}

/// A socket's place under the caps, given back when dropped.
pub struct SocketPermit {
    hub: Hub,
    client: Option<String>,
    user_id: i64,
}

impl Drop for SocketPermit {
    fn drop(&mut self) {
        let mut counts = self.hub.sockets();
        fn release<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: K) {
            if let std::collections::hash_map::Entry::Occupied(mut n) = map.entry(key) {
                *n.get_mut() -= 1;
                if *n.get() == 0 {
                    n.remove();
                }
            }
        }
        if let Some(client) = self.client.take() {
            release(&mut counts.per_client, client);
        }
        if self.user_id != 0 {
            release(&mut counts.per_user, self.user_id);
        }
    }
}

/// One loaded document and its connections.
struct Live {
    room: Room,
    doc_id: i64,
    peers: HashMap<ConnId, Peer>,
    /// Updates and bytes in the stored log (since the last compaction).
    log_updates: usize,
    log_bytes: usize,
    compacting: bool,
    /// First and last change not yet in the topic's rendered snapshot (or the subject's
    /// rows).
    unrendered: Option<(Instant, Instant)>,
    empty_since: Option<Instant>,
}

/// What a live document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocKey {
    /// `topic:{id}`: a topic's markdown body, the root `Y.Text` [`TEXT`].
    Topic(i64),
    /// `subject:{id}`: a subject's structure ([`arbor_map`]).
    Subject(i64),
}

impl DocKey {
    /// The key a document name stands for.
    pub fn parse(name: &str) -> Option<DocKey> {
        let (kind, id) = name.split_once(':')?;
        let id = id.parse::<i64>().ok().filter(|id| *id > 0)?;
        match kind {
            "topic" => Some(DocKey::Topic(id)),
            "subject" => Some(DocKey::Subject(id)),
            _ => None,
        }
    }

    pub fn name(self) -> String {
        match self {
            DocKey::Topic(id) => format!("topic:{id}"),
            DocKey::Subject(id) => format!("subject:{id}"),
        }
    }
}

/// A room's slot; `live` is `None` once unloaded (a connection holding a stale slot retries).
pub struct Slot {
    name: String,
    key: DocKey,
    /// The subject the document belongs to (itself, for a structure).
    subject_id: i64,
    live: Arc<Mutex<Option<Live>>>,
}

enum Write {
    Append {
        doc: i64,
        data: Vec<u8>,
        done: oneshot::Sender<bool>,
    },
    /// Answered once everything queued before it is written (or failed).
    Flush(oneshot::Sender<()>),
}

/// The rooms of this replica; cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<HubInner>,
}

struct HubInner {
    db: arbor_db::Db,
    relay: Option<Relay>,
    rooms: SyncMutex<HashMap<String, Arc<Slot>>>,
    writer: mpsc::Sender<Write>,
    limits: Limits,
    next_conn: AtomicU64,
    /// One projection at a time per subject (see [`Hub::projection_lock`]).
    projecting: SyncMutex<HashMap<i64, Arc<Mutex<()>>>>,
    /// Topic id → the subject whose loaded structure holds it (see [`Hub::subject_holding`]).
    holding: Arc<SyncMutex<HashMap<i64, i64>>>,
    caps: SocketCaps,
    sockets: SyncMutex<SocketCounts>,
}

/// A connection's place in a room, as [`Hub::join`] returns it.
pub struct Joined {
    pub slot: Arc<Slot>,
    pub conn: ConnId,
    pub rx: mpsc::Receiver<Out>,
}

/// Sends `out` to a peer; `false` when its queue is full or gone (drop it).
fn offer(peer: &Peer, out: Out) -> bool {
    peer.tx.try_send(out).is_ok()
}

impl Live {
    /// Sends `frame` to every peer but `except`, dropping peers that cannot keep up.
    fn broadcast(&mut self, frame: &[u8], except: Option<ConnId>) {
        let frame = Bytes::copy_from_slice(frame);
        let slow: Vec<ConnId> = self
            .peers
            .iter()
            .filter(|(id, _)| Some(**id) != except)
            .filter(|(_, peer)| !offer(peer, Out::Frame(frame.clone())))
            .map(|(id, _)| *id)
            .collect();
        for id in slow {
            // Dropping its sender ends the connection's queue: it closes as too slow.
            self.drop_peer(id);
            metrics::counter!("arbor_collab_slow_peers_total").increment(1);
        }
    }

    /// Forgets a connection (its task sees its queue end, or its close instruction).
    fn drop_peer(&mut self, conn: ConnId) -> Option<Peer> {
        let peer = self.peers.remove(&conn);
        if peer.is_some() {
            metrics::gauge!("arbor_collab_connections").decrement(1.0);
        }
        peer
    }

    /// Closes one connection with `close` and tells the others it left.
    fn eject(&mut self, conn: ConnId, close: Close) {
        if let Some(peer) = self.drop_peer(conn) {
            let _ = peer.tx.try_send(Out::Close(close));
        }
        if let Some(removal) = self.room.leave(conn, now_ms() as u64) {
            self.broadcast(&removal, None);
        }
    }

    /// Closes every connection, to reconnect and sync.
    fn close_all(&mut self) {
        let all: Vec<ConnId> = self.peers.keys().copied().collect();
        for conn in all {
            if let Some(peer) = self.drop_peer(conn) {
                let _ = peer.tx.try_send(Out::Close(Close {
                    code: 1011,
                    reason: "the document is being repaired; reconnect".into(),
                }));
            }
        }
    }

    /// Notes a change not yet in the topic's rendered snapshot.
    fn changed(&mut self) {
        let now = Instant::now();
        self.unrendered = Some(
            self.unrendered
                .map_or((now, now), |(first, _)| (first, now)),
        );
    }

    fn send_to(&mut self, conn: ConnId, frame: &[u8]) {
        if let Some(peer) = self.peers.get(&conn)
            && !offer(peer, Out::Frame(Bytes::copy_from_slice(frame)))
        {
            self.drop_peer(conn);
            metrics::counter!("arbor_collab_slow_peers_total").increment(1);
        }
    }
}

impl Hub {
    /// A hub whose writer appends to `db`, relaying to other replicas through `redis`.
    pub fn new(
        db: arbor_db::Db,
        limits: Limits,
        caps: SocketCaps,
        redis: Option<super::RedisHandle>,
    ) -> Hub {
        let (writer, requests) = mpsc::channel(4 * BATCH);
        tokio::spawn(write_loop(db.clone(), requests));
        let relay = redis.map(Relay::new);
        let hub = Hub {
            inner: Arc::new(HubInner {
                db,
                relay: relay.clone(),
                rooms: SyncMutex::new(HashMap::new()),
                writer,
                limits,
                next_conn: AtomicU64::new(1),
                projecting: SyncMutex::new(HashMap::new()),
                holding: Arc::default(),
                caps,
                sockets: SyncMutex::default(),
            }),
        };
        if let Some(relay) = relay {
            relay.spawn(hub.clone());
        }
        hub
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
        self.rooms().len()
    }

    fn rooms(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Slot>>> {
        self.inner
            .rooms
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn sockets(&self) -> std::sync::MutexGuard<'_, SocketCounts> {
        self.inner
            .sockets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A place for one more socket from `client` (its address) for `user_id` (0 signed out),
    /// or 429 when either is at its cap ([`SocketCaps`]).
    pub fn admit_socket(
        &self,
        client: Option<&str>,
        user_id: i64,
    ) -> Result<SocketPermit, AppError> {
        let caps = self.inner.caps;
        let mut counts = self.sockets();
        let by_client = client.map_or(0, |c| counts.per_client.get(c).copied().unwrap_or(0));
        let by_user = counts.per_user.get(&user_id).copied().unwrap_or(0);
        if by_client >= caps.per_client || (user_id != 0 && by_user >= caps.per_user) {
            metrics::counter!("arbor_collab_sockets_refused_total").increment(1);
            return Err(AppError {
                retry_after: Some(SOCKETS_RETRY_AFTER_SECS),
                ..AppError::new(
                    crate::error::ErrorCode::Throttled,
                    "Too many live connections at once; close one or try again later.",
                )
            });
        }
        if let Some(client) = client {
            *counts.per_client.entry(client.to_owned()).or_default() += 1;
        }
        if user_id != 0 {
            *counts.per_user.entry(user_id).or_default() += 1;
        }
        drop(counts);
        Ok(SocketPermit {
            hub: self.clone(),
            client: client.map(str::to_owned),
            user_id,
        })
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
                let mut index = holding
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                index.retain(|_, s| *s != subject_id);
                index.extend(held.into_iter().map(|id| (id, subject_id)));
            }
            nodes.observe("holding", move |txn, event| {
                let mut index = holding
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
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

    /// Makes `data` durable; `false` when the write failed.
    async fn append(&self, doc: i64, data: Vec<u8>) -> bool {
        let (done, wait) = oneshot::channel();
        if self
            .inner
            .writer
            .send(Write::Append { doc, data, done })
            .await
            .is_err()
        {
            return false;
        }
        wait.await.unwrap_or(false)
    }

    /// Waits until every append queued so far is written (or failed).
    async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.inner.writer.send(Write::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// The slot of document `key` of subject `subject_id`, loaded (seeded from the rows the
    /// first time: a topic's body, a subject's tree). The returned guard holds the room.
    async fn open(
        &self,
        key: DocKey,
        subject_id: i64,
    ) -> Result<(Arc<Slot>, tokio::sync::OwnedMutexGuard<Option<Live>>), AppError> {
        let name = key.name();
        loop {
            let slot = {
                let mut rooms = self.rooms();
                rooms
                    .entry(name.clone())
                    .or_insert_with(|| {
                        Arc::new(Slot {
                            name: name.clone(),
                            key,
                            subject_id,
                            live: Arc::new(Mutex::new(None)),
                        })
                    })
                    .clone()
            };
            let mut live = Arc::clone(&slot.live).lock_owned().await;
            if live.is_none() {
                if !self
                    .rooms()
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

    /// The first state of a document that has never been stored, from the rows.
    async fn seed(&self, key: DocKey, subject_id: i64) -> Result<Document, AppError> {
        let db = &self.inner.db;
        let mut seed = Document::default();
        match key {
            DocKey::Topic(id) => {
                let topic = db.topic(subject_id, id).await?;
                seed.replace_text(TEXT, &topic.body);
            }
            DocKey::Subject(id) => {
                let rows = db.topic_tree(id).await?;
                let structure = seed.read(Structure::new);
                seed.change(|txn| super::tree::seed(&structure, txn, &rows))
                    .0?;
            }
        }
        Ok(seed)
    }

    async fn load(&self, key: DocKey, subject_id: i64, name: &str) -> Result<Live, AppError> {
        // Listen first, then read: an update another replica commits meanwhile is either in
        // what is read or arrives on the channel.
        if let Some(relay) = &self.inner.relay {
            relay.watch(name).await;
        }
        let db = &self.inner.db;
        let doc_id = match db.doc_id(name).await? {
            Some(id) => id,
            None => {
                let snapshot = self
                    .seed(key, subject_id)
                    .await?
                    .snapshot()
                    .map_err(|e| AppError::internal(anyhow::anyhow!("seeding {name}: {e}")))?;
                let owner = match key {
                    DocKey::Topic(id) => DocOwner::Topic(id),
                    DocKey::Subject(id) => DocOwner::Subject(id),
                };
                db.open_doc(name, owner, &snapshot, now_ms()).await?
            }
        };
        let stored = db.load_doc(doc_id).await?;
        let document = Document::load(
            Some(&stored.snapshot),
            stored.log.iter().map(|(_, u)| u.as_slice()),
        )
        .map_err(|e| AppError::internal(anyhow::anyhow!("loading {name}: {e}")))?;
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
    ) -> Result<Joined, AppError> {
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
        Ok(Joined { slot, conn, rx })
    }

    /// Handles one frame from `conn`; returns how to close it, if it must be closed.
    pub async fn receive(&self, slot: &Slot, conn: ConnId, frame: &[u8]) -> Option<Close> {
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
            // Sync step 2 answers the client's sync step 1; it waits until everything accepted
            // so far is durable (see the module docs: that is the acknowledgement).
            let (acks, replies): (Vec<_>, Vec<_>) = effects
                .reply
                .drain(..)
                .partition(|r| r.starts_with(&[0, 1]));
            effects.reply = acks;
            for reply in &replies {
                live.send_to(conn, reply);
            }
            if let Some(presence) = &effects.presence {
                live.broadcast(presence, None);
            }
            // Relayed to this replica's other connections at once; made durable below.
            if let Some(update) = &effects.update {
                live.broadcast(&arbor_collab::update_message(update), Some(conn));
                live.log_updates += 1;
                live.log_bytes += update.len();
                live.changed();
            }
            (effects, live.doc_id)
        };
        metrics::counter!("arbor_collab_messages_total").increment(1);
        if let Some(update) = effects.update.take() {
            if !self.append(doc_id, update.clone()).await {
                tracing::warn!(doc = %slot.name, "could not store an update; reloading the room");
                // Others may hold the update already: every connection reconnects and syncs,
                // which brings it back as soon as storage takes writes again.
                self.reload(slot, true).await;
                return Some(Close {
                    code: 1011,
                    reason: "the update could not be saved; reconnect".into(),
                });
            }
            // Other replicas hear only of durable updates.
            self.publish(&slot.name, Relayed::Update(update)).await;
            metrics::counter!("arbor_collab_updates_total").increment(1);
        }
        if !effects.reply.is_empty() {
            self.flush().await;
            let mut guard = slot.live.lock().await;
            if let Some(live) = guard.as_mut() {
                for ack in &effects.reply {
                    live.send_to(conn, ack);
                }
            }
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
        self.flush().await;
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

    /// A document as storage holds it (snapshot and log).
    async fn stored_document(&self, doc_id: i64) -> Result<Document, String> {
        let stored = self
            .inner
            .db
            .load_doc(doc_id)
            .await
            .map_err(|e| e.to_string())?;
        Document::load(
            Some(&stored.snapshot),
            stored.log.iter().map(|(_, u)| u.as_slice()),
        )
        .map_err(|e| e.to_string())
    }

    /// Drops the in-memory document and loads it again from storage, once every accepted
    /// update is written. Connections stay, unless `close_all` or loading fails: then they are
    /// closed to reconnect (and sync, which hands the server whatever it lost).
    async fn reload(&self, slot: &Slot, close_all: bool) {
        self.flush().await;
        let mut guard = slot.live.lock().await;
        let Some(live) = guard.as_mut() else { return };
        if close_all {
            live.close_all();
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

    /// `conn` left: its presence is removed and broadcast.
    pub async fn leave(&self, slot: &Slot, conn: ConnId) {
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
    pub async fn relayed(&self, doc: &str, origin: u64, message: Relayed) {
        let Some(slot) = self.rooms().get(doc).cloned() else {
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
    pub async fn repair_all(&self) {
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
        let stored = match self.inner.db.load_doc(doc_id).await {
            Ok(stored) => stored,
            Err(e) => {
                tracing::warn!(doc = %slot.name, error = %e, "repair could not read the log");
                return;
            }
        };
        let fresh = match Document::load(
            Some(&stored.snapshot),
            stored.log.iter().map(|(_, u)| u.as_slice()),
        ) {
            Ok(fresh) => fresh,
            Err(e) => {
                tracing::error!(doc = %slot.name, error = %e, "repair could not load the log");
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

    /// Makes `topic`'s text read `body` (a plain-form edit) through its document, so live
    /// editors see the change and no later snapshot refresh undoes it.
    pub async fn set_text(&self, topic: &TopicRow, body: &str) -> Result<(), AppError> {
        let (slot, mut guard) = self.open(DocKey::Topic(topic.id), topic.subject_id).await?;
        let live = guard.as_mut().expect("open loads the room");
        let update = live.room.document.replace_text(TEXT, body);
        self.commit_own(&slot, guard, update).await
    }

    /// Stores, broadcasts and relays `update`, a change the server made itself to the room
    /// `guard` holds (released before the write is awaited).
    async fn commit_own(
        &self,
        slot: &Slot,
        mut guard: tokio::sync::OwnedMutexGuard<Option<Live>>,
        update: Option<Vec<u8>>,
    ) -> Result<(), AppError> {
        let Some(update) = update else { return Ok(()) };
        let live = guard.as_mut().expect("the room is loaded");
        let doc_id = live.doc_id;
        live.broadcast(&arbor_collab::update_message(&update), None);
        live.log_updates += 1;
        live.log_bytes += update.len();
        drop(guard);
        if !self.append(doc_id, update.clone()).await {
            self.reload(slot, true).await;
            return Err(AppError::internal(anyhow::anyhow!(
                "could not save a change to {}",
                slot.name
            )));
        }
        self.publish(&slot.name, Relayed::Update(update)).await;
        Ok(())
    }

    /// Changes `subject`'s structure as the server's own edit: `edit` gets the structure,
    /// the transaction and the tree as it stands; when it fails, whatever it wrote is undone
    /// (the room goes back to storage). The change is durable when this returns `Ok` (the
    /// caller then projects it).
    pub async fn change_structure<R>(
        &self,
        subject: &SubjectRow,
        edit: impl FnOnce(&Structure, &mut yrs::TransactionMut, &Tree) -> Result<R, AppError>,
    ) -> Result<R, AppError> {
        let (slot, mut guard) = self.open(DocKey::Subject(subject.id), subject.id).await?;
        let live = guard.as_mut().expect("open loads the room");
        let document = &mut live.room.document;
        let structure = document.read(Structure::new);
        let tree = document
            .read(|doc| structure.read(&yrs::Transact::transact(doc)))
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("{} has no root", slot.name)))?;
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
                    self.flush().await;
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

    /// `subject`'s tree as its structure document resolves it now.
    pub async fn structure(&self, subject: &SubjectRow) -> Result<Tree, AppError> {
        self.change_structure(subject, |_, _, tree| Ok(tree.clone()))
            .await
    }

    /// The loaded structure, if any, that holds topic `topic_id` (a topic just made in a live
    /// map, whose row the projection has not written yet): one look-up in the index the
    /// loaded structures keep.
    pub fn subject_holding(&self, topic_id: i64) -> Option<i64> {
        self.inner
            .holding
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&topic_id)
            .copied()
    }

    /// Forgets an unloaded room (called while its slot is still held, so no new room for the
    /// same document is loading yet).
    fn unload(&self, slot: &Slot) {
        if let DocKey::Subject(id) = slot.key {
            self.inner
                .holding
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .retain(|_, s| *s != id);
        }
        self.rooms().remove(&slot.name);
    }

    /// Held while projecting `subject_id`, so this replica's projections of one subject run
    /// one at a time, each from the latest state.
    pub async fn projection_lock(&self, subject_id: i64) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut all = self
                .inner
                .projecting
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
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
    ) -> Result<(), AppError> {
        for (topic_id, body) in bodies {
            let mut document = Document::default();
            document.replace_text(TEXT, body);
            let snapshot = document
                .snapshot()
                .map_err(|e| AppError::internal(anyhow::anyhow!("seeding a body: {e}")))?;
            let name = DocKey::Topic(*topic_id).name();
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
    ) -> Result<Option<String>, AppError> {
        let name = DocKey::Topic(topic_id).name();
        let Some(doc_id) = self.inner.db.waiting_doc_id(&name, subject_id).await? else {
            return Ok(None);
        };
        let slot = self.rooms().get(&name).cloned();
        if let Some(slot) = slot
            && let Some(live) = slot.live.lock().await.as_ref()
            && live.doc_id == doc_id
        {
            return Ok(Some(live.room.document.text(TEXT)));
        }
        let stored = self.inner.db.load_doc(doc_id).await?;
        let document = Document::load(
            Some(&stored.snapshot),
            stored.log.iter().map(|(_, u)| u.as_slice()),
        )
        .map_err(|e| AppError::internal(anyhow::anyhow!("loading {name}: {e}")))?;
        Ok(Some(document.text(TEXT)))
    }

    /// Before the process stops: refreshes every topic snapshot and subject projection that
    /// lags its document and waits for pending writes. (The log already holds every accepted
    /// update.)
    pub async fn shutdown(&self, state: &AppState) {
        for slot in self.slots() {
            let text = {
                let mut guard = slot.live.lock().await;
                match guard.as_mut() {
                    Some(live) if live.unrendered.is_some() => {
                        live.unrendered = None;
                        live.room.document.text(TEXT)
                    }
                    _ => continue,
                }
            };
            if let Err(e) = self.refresh(state, &slot, &text).await {
                tracing::warn!(doc = %slot.name, error = %e, "refreshing the rows of a document at exit failed");
            }
        }
        self.flush().await;
    }

    /// Brings the rows up to a document: a topic's rendered snapshot (`text` is its body), a
    /// subject's projection.
    async fn refresh(&self, state: &AppState, slot: &Slot, text: &str) -> Result<(), AppError> {
        match slot.key {
            DocKey::Topic(id) => super::tree::store_body(state, slot.subject_id, id, text).await,
            DocKey::Subject(id) => {
                let subject = state.db().subject_by_id(id).await?;
                super::tree::project(state, &subject).await
            }
        }
    }

    /// Runs upkeep every [`UPKEEP_EVERY`] and on bus events, until the handle is aborted.
    pub fn spawn_upkeep(&self, state: AppState) -> tokio::task::JoinHandle<()> {
        let hub = self.clone();
        let mut events = state.bus().subscribe();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(UPKEEP_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = every.tick() => hub.upkeep(&state).await,
                    event = events.recv() => match event {
                        Ok(Event::SubjectChanged { subject_id }) => {
                            hub.recheck(&state, Some(subject_id)).await;
                        }
                        Ok(Event::SignInRevoked { user_id }) => {
                            hub.recheck_sign_ins(&state, Some(user_id)).await;
                        }
                        Ok(Event::Resync) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                            hub.recheck_sign_ins(&state, None).await;
                            hub.recheck(&state, None).await;
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    },
                }
            }
        })
    }

    fn slots(&self) -> Vec<Arc<Slot>> {
        self.rooms().values().cloned().collect()
    }

    async fn upkeep(&self, state: &AppState) {
        if let Some(relay) = &self.inner.relay {
            relay.flush_unsent().await;
        }
        let now = Instant::now();
        for slot in self.slots() {
            let mut render = None;
            let mut compact = None;
            {
                let mut guard = slot.live.lock().await;
                let Some(live) = guard.as_mut() else { continue };
                if let Some(removal) = live.room.expire(now_ms() as u64) {
                    live.broadcast(&removal, None);
                }
                let (quiet, at_most) = match slot.key {
                    DocKey::Topic(_) => (RENDER_QUIET, RENDER_AT_MOST),
                    DocKey::Subject(_) => (PROJECT_QUIET, PROJECT_AT_MOST),
                };
                if let Some((first, last)) = live.unrendered
                    && (now - last >= quiet || now - first >= at_most || live.peers.is_empty())
                {
                    live.unrendered = None;
                    render = Some(live.room.document.text(TEXT));
                }
                if !live.compacting
                    && (live.log_updates >= COMPACT_UPDATES || live.log_bytes >= COMPACT_BYTES)
                {
                    live.compacting = true;
                    compact = Some(live.doc_id);
                }
                if render.is_none()
                    && live.unrendered.is_none()
                    && !live.compacting
                    && live.empty_since.is_some_and(|t| now - t >= UNLOAD_AFTER)
                {
                    // Unsubscribed while the room is still held, so a connection arriving
                    // meanwhile loads a new room that subscribes again after this.
                    if let Some(relay) = &self.inner.relay {
                        relay.unwatch(&slot.name).await;
                    }
                    *guard = None;
                    self.unload(&slot);
                    metrics::counter!("arbor_collab_unloads_total").increment(1);
                    continue;
                }
            }
            if let Some(text) = render
                && let Err(e) = self.refresh(state, &slot, &text).await
            {
                // A deleted topic has no snapshot to refresh; anything else is tried again.
                if e.code != crate::error::ErrorCode::NotFound {
                    tracing::warn!(doc = %slot.name, error = %e, "refreshing a topic snapshot failed");
                    if let Some(live) = slot.live.lock().await.as_mut() {
                        live.unrendered.get_or_insert((now, now));
                    }
                }
            }
            if let Some(doc_id) = compact {
                let hub = self.clone();
                tokio::spawn(async move { hub.compact(&slot, doc_id).await });
            }
        }
    }

    /// Folds the stored log into the snapshot, from storage alone (the log may hold updates
    /// another replica wrote that this one never saw).
    async fn compact(&self, slot: &Slot, doc_id: i64) {
        let outcome = async {
            let stored = self.inner.db.load_doc(doc_id).await?;
            let mut document = Document::load(
                Some(&stored.snapshot),
                stored.log.iter().map(|(_, u)| u.as_slice()),
            )
            .map_err(|e| AppError::internal(anyhow::anyhow!("compacting: {e}")))?;
            let snapshot = document
                .snapshot()
                .map_err(|e| AppError::internal(anyhow::anyhow!("compacting: {e}")))?;
            let won = self
                .inner
                .db
                .compact_doc(&stored, &snapshot, now_ms())
                .await?;
            Ok::<_, AppError>(won.then_some((stored.log.len(), stored.log_bytes())))
        }
        .await;
        let mut guard = slot.live.lock().await;
        let Some(live) = guard.as_mut() else { return };
        live.compacting = false;
        match outcome {
            Ok(Some((updates, bytes))) => {
                live.log_updates = live.log_updates.saturating_sub(updates);
                live.log_bytes = live.log_bytes.saturating_sub(bytes);
                metrics::counter!("arbor_collab_compactions_total").increment(1);
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(doc = %slot.name, error = %e, "compaction failed"),
        }
    }

    /// Re-checks, for rooms of `subject_id` (all rooms when `None`), that the topic (or
    /// subject) still exists and what each connection may do: a role change takes effect on
    /// open sockets, and people who lost access are disconnected.
    async fn recheck(&self, state: &AppState, subject_id: Option<i64>) {
        for slot in self.slots() {
            if subject_id.is_some_and(|s| s != slot.subject_id) {
                continue;
            }
            let users: Vec<(ConnId, i64)> = match slot.live.lock().await.as_ref() {
                Some(live) => live.peers.iter().map(|(c, p)| (*c, p.user_id)).collect(),
                None => continue,
            };
            let exists = match slot.key {
                DocKey::Topic(id) => match state.db().topic_by_id(id).await {
                    Ok(topic) => Ok(topic.subject_id == slot.subject_id),
                    Err(DbError::NotFound) => Ok(false),
                    Err(e) => Err(e),
                },
                DocKey::Subject(_) => Ok(true),
            };
            let subject = match exists {
                Ok(true) => match state.db().subject_by_id(slot.subject_id).await {
                    Ok(subject) => Ok(Some(subject)),
                    Err(DbError::NotFound) => Ok(None),
                    Err(e) => Err(e),
                },
                Ok(false) => Ok(None),
                Err(e) => Err(e),
            };
            let subject = match subject {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "could not re-check access; keeping connections");
                    continue;
                }
            };
            let decided: Vec<(ConnId, Option<Need>)> = match &subject {
                Some(subject) => match access::user_levels(state, subject).await {
                    Ok(level) => users.into_iter().map(|(c, u)| (c, level(u))).collect(),
                    Err(e) => {
                        tracing::warn!(error = %e, "could not re-check access; keeping connections");
                        continue;
                    }
                },
                None => users.into_iter().map(|(c, _)| (c, None)).collect(),
            };
            let mut guard = slot.live.lock().await;
            let Some(live) = guard.as_mut() else { continue };
            for (conn, level) in decided {
                match level {
                    None => live.eject(
                        conn,
                        Close {
                            code: Close::FORBIDDEN,
                            reason: "access was withdrawn".into(),
                        },
                    ),
                    Some(level) => {
                        let access = access_for(level);
                        let Some(peer) = live.peers.get_mut(&conn) else {
                            continue;
                        };
                        if peer.access == Access::ReadOnly && access == Access::ReadWrite {
                            // y-websocket has no message for "you may write now": the client
                            // reconnects, read-write, and a page built for reading says so.
                            live.eject(
                                conn,
                                Close {
                                    code: Close::PROMOTED,
                                    reason: "you may edit now; reconnect".into(),
                                },
                            );
                            continue;
                        }
                        if peer.access == Access::ReadWrite && access == Access::ReadOnly {
                            // Tells the client at once, before it types into a refusal.
                            let denied = arbor_collab::denied_message("read-only");
                            let _ = peer.tx.try_send(Out::Frame(denied.into()));
                        }
                        peer.access = access;
                    }
                }
            }
        }
    }

    /// Closes the connections, of account `user_id` (of every account when `None`), whose
    /// session or token is no longer valid; a sign-in that cannot be checked now is kept.
    async fn recheck_sign_ins(&self, state: &AppState, user_id: Option<i64>) {
        let mut held: Vec<(Arc<Slot>, ConnId, SignIn)> = Vec::new();
        for slot in self.slots() {
            if let Some(live) = slot.live.lock().await.as_ref() {
                held.extend(
                    live.peers
                        .iter()
                        .filter(|(_, p)| p.sign_in != SignIn::SignedOut)
                        .filter(|(_, p)| user_id.is_none_or(|u| u == p.user_id))
                        .map(|(conn, p)| (Arc::clone(&slot), *conn, p.sign_in.clone())),
                );
            }
        }
        let now = now_ms();
        let mut valid: HashMap<SignIn, bool> = HashMap::new();
        for (slot, conn, sign_in) in held {
            let still = match valid.get(&sign_in) {
                Some(still) => *still,
                None => {
                    let found = match &sign_in {
                        SignIn::SignedOut => Ok(()),
                        SignIn::Session(hash) => state
                            .db()
                            .session_user(hash, now, state.policy().idle_cutoff(now))
                            .await
                            .map(drop),
                        SignIn::Token(hash) => state.db().token_user(hash, now).await.map(drop),
                    };
                    let still = match found {
                        Ok(()) => true,
                        Err(DbError::NotFound) => false,
                        Err(e) => {
                            tracing::warn!(error = %e, "could not re-check a sign-in; keeping its connections");
                            true
                        }
                    };
                    valid.insert(sign_in, still);
                    still
                }
            };
            if !still && let Some(live) = slot.live.lock().await.as_mut() {
                live.eject(
                    conn,
                    Close {
                        code: Close::UNAUTHENTICATED,
                        reason: "the sign-in ended; sign in again".into(),
                    },
                );
            }
        }
    }
}

/// What a level of access lets a connection do.
pub fn access_for(level: Need) -> Access {
    if level >= Need::Edit {
        Access::ReadWrite
    } else {
        Access::ReadOnly
    }
}

/// Group commit: takes every append queued at the moment, writes them in one transaction,
/// then answers each; a flush is answered once the appends before it are answered.
async fn write_loop(db: arbor_db::Db, mut requests: mpsc::Receiver<Write>) {
    while let Some(first) = requests.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match requests.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let appends: Vec<(i64, &[u8])> = batch
            .iter()
            .filter_map(|w| match w {
                Write::Append { doc, data, .. } => Some((*doc, data.as_slice())),
                Write::Flush(_) => None,
            })
            .collect();
        let ok = if appends.is_empty() {
            true
        } else {
            let started = Instant::now();
            let written = db.append_updates(&appends, now_ms()).await;
            metrics::histogram!("arbor_collab_batch_updates").record(appends.len() as f64);
            metrics::histogram!("arbor_collab_commit_seconds")
                .record(started.elapsed().as_secs_f64());
            if let Err(e) = &written {
                tracing::error!(error = %e, updates = appends.len(), "appending updates failed");
            }
            written.is_ok()
        };
        for write in batch {
            match write {
                Write::Append { done, .. } => {
                    let _ = done.send(ok);
                }
                Write::Flush(done) => {
                    let _ = done.send(());
                }
            }
        }
    }
}
