//! One loaded document and its connections: the names of documents ([`DocKey`]), what a
//! connection was opened with ([`SignIn`]), what is sent to it ([`Out`]), and the fan-out
//! within one room (slow connections are dropped, never waited for).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use arbor_collab::{Access, Close, ConnId, Room};
use bytes::Bytes;
use tokio::sync::{Mutex, mpsc};

use crate::clock::now_ms;

/// Frames queued for one connection before it counts as too slow and is dropped.
pub(crate) const PEER_QUEUE: usize = 512;

/// What a live document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocKey {
    /// `topic:{id}`: a topic's markdown body, the root `Y.Text` [`arbor_collab::TEXT`].
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

/// A frame or instruction for one connection.
#[derive(Debug, Clone)]
pub enum Out {
    Frame(Bytes),
    Close(Close),
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

pub(crate) struct Peer {
    pub tx: mpsc::Sender<Out>,
    pub access: Access,
    /// 0 for a signed-out reader.
    pub user_id: i64,
    pub sign_in: SignIn,
}

/// One loaded document and its connections.
pub(crate) struct Live {
    /// The document, its presence, and its ledger of updates on their way to storage.
    pub room: Room,
    pub doc_id: i64,
    pub peers: HashMap<ConnId, Peer>,
    /// Updates and bytes in the stored log (since the last compaction).
    pub log_updates: usize,
    pub log_bytes: usize,
    pub compacting: bool,
    /// First and last change not yet in the topic's rendered snapshot (or the subject's
    /// rows).
    pub unrendered: Option<(Instant, Instant)>,
    pub empty_since: Option<Instant>,
}

/// A room's slot; `live` is `None` once unloaded (a connection holding a stale slot retries).
pub(crate) struct Slot {
    pub name: String,
    pub key: DocKey,
    /// The subject the document belongs to (itself, for a structure).
    pub subject_id: i64,
    pub live: Arc<Mutex<Option<Live>>>,
}

/// Sends `out` to a peer; `false` when its queue is full or gone (drop it).
fn offer(peer: &Peer, out: Out) -> bool {
    peer.tx.try_send(out).is_ok()
}

impl Live {
    /// Sends `frame` to every peer but `except`, dropping peers that cannot keep up.
    pub fn broadcast(&mut self, frame: &[u8], except: Option<ConnId>) {
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
    pub fn drop_peer(&mut self, conn: ConnId) -> Option<Peer> {
        let peer = self.peers.remove(&conn);
        if peer.is_some() {
            metrics::gauge!("arbor_collab_connections").decrement(1.0);
        }
        peer
    }

    /// Closes one connection with `close` and tells the others it left.
    pub fn eject(&mut self, conn: ConnId, close: Close) {
        if let Some(peer) = self.drop_peer(conn) {
            let _ = peer.tx.try_send(Out::Close(close));
        }
        if let Some(removal) = self.room.leave(conn, now_ms() as u64) {
            self.broadcast(&removal, None);
        }
    }

    /// Closes every connection, to reconnect and sync.
    pub fn close_all(&mut self) {
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
    pub fn changed(&mut self) {
        let now = Instant::now();
        self.unrendered = Some(
            self.unrendered
                .map_or((now, now), |(first, _)| (first, now)),
        );
    }

    /// Notes an update appended to the stored log.
    pub fn logged(&mut self, update: &[u8]) {
        self.log_updates += 1;
        self.log_bytes += update.len();
    }

    pub fn send_to(&mut self, conn: ConnId, frame: &[u8]) {
        if let Some(peer) = self.peers.get(&conn)
            && !offer(peer, Out::Frame(Bytes::copy_from_slice(frame)))
        {
            self.drop_peer(conn);
            metrics::counter!("arbor_collab_slow_peers_total").increment(1);
        }
    }
}
