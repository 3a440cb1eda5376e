//! `arbor-collab` owns the live-editing protocol core, with no network or file I/O: reading
//! y-websocket messages from untrusted bytes ([`check`], `wire`), the in-memory document
//! ([`Document`]), presence ([`Presence`]), and what one client message does to a document
//! shared by many connections ([`Room::receive`]): the replies to send back, the update to make
//! durable and broadcast, the presence change to broadcast, or the reason to close. Permission
//! checks and size limits live here too; the server supplies sockets, storage and time.
//!
//! The wire format is y-websocket's (Yjs 13, lib0 encoding): one message per websocket frame,
//! `[0, 0, sv]` sync step 1, `[0, 1, update]` sync step 2, `[0, 2, update]` update,
//! `[1, awareness]`, `[2, 0, reason]` permission denied, `[3]` query awareness.

#![forbid(unsafe_code)]

pub mod check;
pub mod diff;
mod document;
mod ledger;
mod presence;
mod wire;

pub use document::{Document, Refusal, TEXT};
pub use ledger::Ledger;
pub use presence::{PRESENCE_TIMEOUT_MS, Presence};

use wire::{Reader, Writer};

/// Client bytes that do not follow the protocol, and what was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(pub &'static str);

/// One connection to a document, unique within the process.
pub type ConnId = u64;

/// What a connection may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Sync and see presence; updates are refused.
    ReadOnly,
    ReadWrite,
}

/// Size limits, per message and per document.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest websocket frame read at all.
    pub max_frame: usize,
    /// Largest update (sync step 2 or update payload).
    pub max_update: usize,
    /// Largest document (its encoded state, estimated from the updates it took).
    pub max_document: usize,
    /// Largest [`TEXT`] (UTF-8 bytes): an update that could take it past this is refused,
    /// deletions never are.
    pub max_text: usize,
    /// Most keys in a document's root maps together. In a subject's structure that is its
    /// topics, live and deleted (the trash keeps them 30 days): the server holds live ones
    /// to 1,000 (`arbor_map::MAX_TOPICS`), and this bounds the rest.
    pub max_root_keys: usize,
    /// Largest presence state of one client (JSON bytes).
    pub max_presence_state: usize,
    pub max_presence_per_connection: usize,
    pub max_presence_per_document: usize,
    /// Presence frames one connection may send per second, sustained…
    pub presence_frames_per_second: u32,
    /// …and at once after a quiet spell; frames beyond are dropped.
    pub presence_frame_burst: u32,
    /// Presence bytes one connection may send per second, sustained…
    pub presence_bytes_per_second: usize,
    /// …and at once after a quiet spell.
    pub presence_byte_burst: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame: 2 << 20,
            max_update: 1 << 20,
            max_document: 8 << 20,
            max_text: 100_000,
            max_root_keys: 10_000,
            max_presence_state: 4 << 10,
            max_presence_per_connection: 4,
            max_presence_per_document: 1_000,
            presence_frames_per_second: 30,
            presence_frame_burst: 60,
            presence_bytes_per_second: 32 << 10,
            presence_byte_burst: 128 << 10,
        }
    }
}

/// Why a connection is closed. Codes 4400–4499 tell stock y-websocket clients not to
/// reconnect; others reconnect with backoff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    pub code: u16,
    pub reason: String,
}

impl Close {
    pub const MALFORMED: u16 = 4400;
    pub const FORBIDDEN: u16 = 4403;
    pub const TOO_LARGE: u16 = 4413;
    /// The server dropped its copy of the document; the client reconnects and syncs again.
    pub const RELOAD: u16 = 1012;
    /// A read-only connection's holder may edit now: the client reconnects (stock clients do
    /// so on their own) and comes back read-write; a page built for reading says to reload.
    pub const PROMOTED: u16 = 4001;
    /// The sign-in the connection was opened with ended (signed out, token revoked, password
    /// changed, account deleted).
    pub const UNAUTHENTICATED: u16 = 4401;

    fn new(code: u16, reason: impl Into<String>) -> Close {
        Close {
            code,
            reason: reason.into(),
        }
    }
}

impl From<Refusal> for Close {
    fn from(refusal: Refusal) -> Close {
        let code = match refusal {
            Refusal::Malformed(_) => Close::MALFORMED,
            Refusal::TooLarge(_)
            | Refusal::DocumentFull(_)
            | Refusal::TextFull(_)
            | Refusal::MapFull(_) => Close::TOO_LARGE,
            // Also what an honest client meets when an update outruns the one it depends on
            // (typed during the handshake after offline edits): it reconnects and its sync
            // step 2 then carries everything in order.
            Refusal::Corrupt => Close::RELOAD,
        };
        Close::new(code, refusal.to_string())
    }
}

/// What one client message leads to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Effects {
    /// Frames for the sender only.
    pub reply: Vec<Vec<u8>>,
    /// An accepted update (raw v1 bytes): make it durable, then send
    /// [`update_message`] of it to the other connections.
    pub update: Option<Vec<u8>>,
    /// The update's number in the room's [`Ledger`]: once it is durable, pass it to
    /// [`Room::durable`] (0 when there is no update).
    pub number: u64,
    /// A presence frame for every connection, the sender included.
    pub presence: Option<Vec<u8>>,
    /// Close the sender's connection.
    pub close: Option<Close>,
    /// The document may be damaged: drop it from memory and load it again from storage
    /// (the update that caused it was not accepted).
    pub reload: bool,
}

const MSG_SYNC: u64 = 0;
const MSG_AWARENESS: u64 = 1;
const MSG_AUTH: u64 = 2;
const MSG_QUERY_AWARENESS: u64 = 3;
const SYNC_STEP_1: u64 = 0;
const SYNC_STEP_2: u64 = 1;
const SYNC_UPDATE: u64 = 2;

fn sync_message(kind: u64, payload: &[u8]) -> Vec<u8> {
    let mut w = Writer::default();
    w.var_u64(MSG_SYNC).var_u64(kind).buf(payload);
    w.0
}

/// `[0, 0, state vector]`: sync step 1.
pub fn step1_message(state_vector: &[u8]) -> Vec<u8> {
    sync_message(SYNC_STEP_1, state_vector)
}

/// `[0, 1, update]`: sync step 2.
pub fn step2_message(update: &[u8]) -> Vec<u8> {
    sync_message(SYNC_STEP_2, update)
}

/// `[0, 2, update]`: an update for the other connections.
pub fn update_message(update: &[u8]) -> Vec<u8> {
    sync_message(SYNC_UPDATE, update)
}

/// `[1, awareness]`: a presence frame.
pub fn presence_message(update: &[u8]) -> Vec<u8> {
    let mut w = Writer::default();
    w.var_u64(MSG_AWARENESS).buf(update);
    w.0
}

/// `[2, 0, reason]`: permission denied.
pub fn denied_message(reason: &str) -> Vec<u8> {
    let mut w = Writer::default();
    w.var_u64(MSG_AUTH).var_u64(0).buf(reason.as_bytes());
    w.0
}

/// Runs arbitrary bytes through the whole message pipeline — split into frames, decoded,
/// checked, applied, answered, the document encoded again — as two connections (one
/// read-write, one read-only) would, reloading the document whenever the core asks. The fuzz
/// target (`collab/fuzz`) calls it, and `tests/fuzz_corpus.rs` replays its corpus and every
/// crash it found through it in CI. Frames are taken as `[len, bytes…]` (one length byte).
pub fn exercise(data: &[u8]) {
    let mut room = Room::default();
    let mut stored: Vec<Vec<u8>> = Vec::new();
    let mut rest = data;
    let mut now = 0;
    while let Some((&len, tail)) = rest.split_first() {
        let take = usize::from(len).min(tail.len());
        let (frame, next) = tail.split_at(take);
        rest = next;
        now += 1_000;
        let (conn, access) = if len.is_multiple_of(2) {
            (1, Access::ReadWrite)
        } else {
            (2, Access::ReadOnly)
        };
        let effects = room.receive(conn, access, frame, now);
        if let Some(update) = effects.update {
            stored.push(update);
            let _ = room.durable(effects.number);
        }
        if effects.reload {
            let document = Document::load(None, stored.iter().map(Vec::as_slice))
                .expect("accepted updates load again");
            room.document = document;
        }
        let _ = room.expire(now);
    }
    let _ = room.greeting();
    let _ = room.document.text(TEXT);
    if let Ok(snapshot) = room.document.snapshot() {
        let again = Document::load(Some(&snapshot), []).expect("a snapshot loads again");
        assert_eq!(again.text(TEXT), room.document.text(TEXT));
    }
    let _ = room.leave(1, now);
}

/// A document with the people editing it.
#[derive(Debug, Default)]
pub struct Room {
    pub document: Document,
    pub presence: Presence,
    pub limits: Limits,
    /// Accepted updates on their way to storage, and the acknowledgements waiting for them.
    pub ledger: Ledger,
}

impl Room {
    pub fn new(document: Document, limits: Limits) -> Room {
        Room {
            document,
            presence: Presence::default(),
            limits,
            ledger: Ledger::default(),
        }
    }

    /// What a new connection is sent first, as separate frames (as stock servers do): sync
    /// step 1 with the server's state vector, then the current presence if anyone is here.
    pub fn greeting(&self) -> Vec<Vec<u8>> {
        let mut frames = vec![step1_message(&self.document.state_vector())];
        frames.extend(self.presence.snapshot().map(|p| presence_message(&p)));
        frames
    }

    /// Update `number` (from [`Effects::number`] or [`Ledger::accept`]) is durable: returns
    /// the acknowledgements that may be sent now, to their connections.
    pub fn durable(&mut self, number: u64) -> Vec<(ConnId, Vec<u8>)> {
        self.ledger.durable(number)
    }

    /// Handles one frame from connection `conn`.
    pub fn receive(&mut self, conn: ConnId, access: Access, frame: &[u8], now_ms: u64) -> Effects {
        match self.dispatch(conn, access, frame, now_ms) {
            Ok(effects) => effects,
            Err(refusal) => Effects {
                reload: refusal == Refusal::Corrupt,
                close: Some(Close::from(refusal)),
                ..Effects::default()
            },
        }
    }

    fn dispatch(
        &mut self,
        conn: ConnId,
        access: Access,
        frame: &[u8],
        now_ms: u64,
    ) -> Result<Effects, Refusal> {
        if frame.len() > self.limits.max_frame {
            return Err(Refusal::TooLarge(self.limits.max_frame));
        }
        let mut r = Reader::new(frame);
        let mut effects = Effects::default();
        match r.var_u64()? {
            MSG_SYNC => {
                let kind = r.var_u64()?;
                let payload = r.buf()?;
                r.end()?;
                match kind {
                    SYNC_STEP_1 => {
                        // The answer is the acknowledgement: held until durable.
                        let diff = self.document.diff(payload)?;
                        effects
                            .reply
                            .extend(self.ledger.hold(conn, step2_message(&diff)));
                    }
                    SYNC_STEP_2 | SYNC_UPDATE => {
                        if access == Access::ReadOnly {
                            // Still checked, so a read-only peer cannot send garbage either.
                            if !check::update(payload)?.is_empty() {
                                effects.reply.push(denied_message("read-only"));
                            }
                        } else if self.document.apply(payload, &self.limits)? {
                            effects.update = Some(payload.to_vec());
                            effects.number = self.ledger.accept();
                        }
                    }
                    _ => return Err(Malformed("unknown sync message").into()),
                }
            }
            MSG_AWARENESS => {
                let payload = r.buf()?;
                r.end()?;
                // Beyond the connection's budget: dropped without being looked at.
                if self.presence.admit(conn, frame.len(), now_ms, &self.limits) {
                    effects.presence = self
                        .presence
                        .apply(conn, payload, now_ms, &self.limits)?
                        .map(|p| presence_message(&p));
                }
            }
            MSG_QUERY_AWARENESS => {
                r.end()?;
                effects
                    .reply
                    .extend(self.presence.snapshot().map(|p| presence_message(&p)));
            }
            // Clients do not authenticate in-band; their auth messages are ignored.
            MSG_AUTH => {}
            _ => return Err(Malformed("unknown message type").into()),
        }
        Ok(effects)
    }

    /// A presence frame another replica relayed, on behalf of its connections (`via`, one id
    /// per replica, so the per-connection limit applies per document instead); returns the
    /// frame to broadcast to this replica's connections.
    pub fn relay_presence(&mut self, via: ConnId, frame: &[u8], now_ms: u64) -> Option<Vec<u8>> {
        let mut r = Reader::new(frame);
        if r.var_u64().ok()? != MSG_AWARENESS {
            return None;
        }
        let payload = r.buf().ok()?;
        r.end().ok()?;
        let limits = Limits {
            max_presence_per_connection: self.limits.max_presence_per_document,
            ..self.limits.clone()
        };
        self.presence
            .apply(via, payload, now_ms, &limits)
            .ok()
            .flatten()
            .map(|p| presence_message(&p))
    }

    /// A connection left: the presence removal to broadcast, if it had any.
    pub fn leave(&mut self, conn: ConnId, now_ms: u64) -> Option<Vec<u8>> {
        self.ledger.forget(conn);
        self.presence
            .disconnect(conn, now_ms)
            .map(|p| presence_message(&p))
    }

    /// Silent clients' presence removal to broadcast, if any expired.
    pub fn expire(&mut self, now_ms: u64) -> Option<Vec<u8>> {
        self.presence.expire(now_ms).map(|p| presence_message(&p))
    }
}
