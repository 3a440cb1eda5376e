//! Presence (the y-protocols "awareness" states): who is here, their caret and colour.
//!
//! The server keeps its own table rather than trusting clients: each state is checked JSON of
//! bounded size, owned by the connection that created it (another connection's states for
//! that client id are ignored while it holds one, so nobody can move or erase someone else's
//! caret), removed (and the removal broadcast) when that connection closes or falls silent
//! for [`PRESENCE_TIMEOUT_MS`], and a connection may hold only a few client ids. Who a
//! connection is comes from the server ([`Presence::identify`]): those fields overwrite the
//! state's `user` object, so nobody can appear under someone else's name. Each connection's
//! presence frames are rate-limited ([`Presence::admit`]): frames beyond its budget are
//! dropped unapplied and unrelayed.

use std::collections::HashMap;
use std::sync::Arc;

use crate::wire::{Reader, Writer};
use crate::{ConnId, Limits, Malformed, check};

/// A client that has not renewed its presence for this long is gone (stock clients renew every
/// 15 s).
pub const PRESENCE_TIMEOUT_MS: u64 = 30_000;

/// How long a removed client's clock is remembered, so a late stale state cannot revive it.
const FORGET_MS: u64 = 10 * 60_000;

#[derive(Debug)]
struct Entry {
    clock: u32,
    state: Option<Arc<str>>,
    conn: ConnId,
    seen_ms: u64,
}

/// What is left of a connection's presence budget: frames and bytes, refilled continuously
/// at [`Limits::presence_frames_per_second`] and [`Limits::presence_bytes_per_second`] up to
/// their bursts.
#[derive(Debug)]
struct Budget {
    frames: f64,
    bytes: f64,
    at_ms: u64,
}

/// The presence states of one document.
#[derive(Debug, Default)]
pub struct Presence {
    entries: HashMap<u64, Entry>,
    /// The server's word on who each connection is: fields set in every state it sends.
    identities: HashMap<ConnId, serde_json::Map<String, serde_json::Value>>,
    budgets: HashMap<ConnId, Budget>,
}

/// Encodes `(client, clock, state)` triples as one awareness update.
fn encode<'a>(changes: impl IntoIterator<Item = (u64, u32, Option<&'a str>)>) -> Option<Vec<u8>> {
    let changes: Vec<_> = changes.into_iter().collect();
    if changes.is_empty() {
        return None;
    }
    let mut w = Writer::default();
    w.var_u64(changes.len() as u64);
    for (client, clock, state) in changes {
        w.var_u64(client)
            .var_u64(u64::from(clock))
            .buf(state.unwrap_or("null").as_bytes());
    }
    Some(w.0)
}

impl Presence {
    /// Applies an awareness update from `conn`; returns the update to send to every
    /// connection (the sender included, as stock clients expect), holding the entries that
    /// changed something.
    /// Whether a presence frame of `bytes` from `conn` fits its budget now (and takes it
    /// from the budget if so); a frame that does not is to be dropped unread.
    pub fn admit(&mut self, conn: ConnId, bytes: usize, now_ms: u64, limits: &Limits) -> bool {
        let (frame_burst, byte_burst) = (
            f64::from(limits.presence_frame_burst),
            limits.presence_byte_burst as f64,
        );
        let budget = self.budgets.entry(conn).or_insert(Budget {
            frames: frame_burst,
            bytes: byte_burst,
            at_ms: now_ms,
        });
        let seconds = now_ms.saturating_sub(budget.at_ms) as f64 / 1_000.0;
        budget.at_ms = budget.at_ms.max(now_ms);
        budget.frames = (budget.frames + seconds * f64::from(limits.presence_frames_per_second))
            .min(frame_burst);
        budget.bytes =
            (budget.bytes + seconds * limits.presence_bytes_per_second as f64).min(byte_burst);
        let cost = bytes as f64;
        if budget.frames < 1.0 || budget.bytes < cost {
            return false;
        }
        budget.frames -= 1.0;
        budget.bytes -= cost;
        true
    }

    pub fn apply(
        &mut self,
        conn: ConnId,
        bytes: &[u8],
        now_ms: u64,
        limits: &Limits,
    ) -> Result<Option<Vec<u8>>, Malformed> {
        check::awareness(bytes, limits.max_presence_state)?;
        let mut r = Reader::new(bytes);
        let n = r.count(3)?;
        let mut accepted: Vec<(u64, u32, Option<Arc<str>>)> = Vec::with_capacity(n);
        for _ in 0..n {
            let client = r.var_u64()?;
            let clock = r.var_u32()?;
            let text = r.string()?;
            let state: Option<Arc<str>> = (text.trim() != "null").then(|| self.stamp(conn, text));
            let owned = self
                .entries
                .iter()
                .filter(|(id, e)| e.conn == conn && e.state.is_some() && **id != client)
                .count();
            match self.entries.get_mut(&client) {
                // Another connection's: not this one's to change.
                Some(entry) if entry.conn != conn && entry.state.is_some() => {}
                Some(entry) => {
                    if state.is_some()
                        && entry.conn != conn
                        && owned >= limits.max_presence_per_connection
                    {
                        return Err(Malformed("too many presence states on one connection"));
                    }
                    let removal = entry.clock == clock && state.is_none() && entry.state.is_some();
                    if entry.clock < clock || removal {
                        entry.clock = clock;
                        entry.state = state.clone();
                        entry.conn = conn;
                        entry.seen_ms = now_ms;
                        accepted.push((client, clock, state));
                    } else if entry.clock == clock && entry.conn == conn {
                        entry.seen_ms = now_ms;
                    }
                }
                None => {
                    if state.is_some() && owned >= limits.max_presence_per_connection {
                        return Err(Malformed("too many presence states on one connection"));
                    }
                    if self.entries.len() >= limits.max_presence_per_document {
                        self.forget(now_ms);
                        if self.entries.len() >= limits.max_presence_per_document {
                            continue;
                        }
                    }
                    self.entries.insert(
                        client,
                        Entry {
                            clock,
                            state: state.clone(),
                            conn,
                            seen_ms: now_ms,
                        },
                    );
                    accepted.push((client, clock, state));
                }
            }
        }
        Ok(encode(accepted.iter().map(|(client, clock, state)| {
            (*client, *clock, state.as_deref())
        })))
    }

    /// Sets who `conn` is (for example `{"name": …, "account": …}`): from now on these fields
    /// replace those of the `user` object in every state it sends.
    pub fn identify(&mut self, conn: ConnId, user: serde_json::Map<String, serde_json::Value>) {
        self.identities.insert(conn, user);
    }

    /// `state` with the sender's identity written into its `user` object (a state that is
    /// not a JSON object is kept as it is: it names nobody).
    fn stamp(&self, conn: ConnId, state: &str) -> Arc<str> {
        let Some(identity) = self.identities.get(&conn) else {
            return Arc::from(state);
        };
        let Ok(serde_json::Value::Object(mut object)) = serde_json::from_str(state) else {
            return Arc::from(state);
        };
        let user = object
            .entry("user")
            .or_insert_with(|| serde_json::Value::Object(Default::default()));
        if !user.is_object() {
            *user = serde_json::Value::Object(Default::default());
        }
        if let Some(user) = user.as_object_mut() {
            for (key, value) in identity {
                user.insert(key.clone(), value.clone());
            }
        }
        Arc::from(serde_json::Value::Object(object).to_string())
    }

    /// Every present client's state, for a connection that just arrived (or asked).
    pub fn snapshot(&self) -> Option<Vec<u8>> {
        encode(self.entries.iter().filter_map(|(client, e)| {
            e.state
                .as_deref()
                .map(|state| (*client, e.clock, Some(state)))
        }))
    }

    /// Removes what `conn` held; returns the removal to broadcast.
    pub fn disconnect(&mut self, conn: ConnId, now_ms: u64) -> Option<Vec<u8>> {
        self.identities.remove(&conn);
        self.budgets.remove(&conn);
        self.remove_where(now_ms, |e| e.conn == conn)
    }

    /// Removes states not renewed for [`PRESENCE_TIMEOUT_MS`]; returns the removal to
    /// broadcast.
    pub fn expire(&mut self, now_ms: u64) -> Option<Vec<u8>> {
        self.forget(now_ms);
        self.remove_where(now_ms, |e| {
            e.seen_ms.saturating_add(PRESENCE_TIMEOUT_MS) <= now_ms
        })
    }

    /// Client ids with a state.
    pub fn present(&self) -> usize {
        self.entries.values().filter(|e| e.state.is_some()).count()
    }

    fn remove_where(&mut self, now_ms: u64, gone: impl Fn(&Entry) -> bool) -> Option<Vec<u8>> {
        let mut removed = Vec::new();
        for (client, entry) in &mut self.entries {
            if entry.state.is_some() && gone(entry) {
                entry.state = None;
                entry.clock = entry.clock.saturating_add(1);
                entry.seen_ms = now_ms;
                removed.push((*client, entry.clock));
            }
        }
        encode(removed.into_iter().map(|(c, clock)| (c, clock, None)))
    }

    /// Drops removed clients' clocks after [`FORGET_MS`].
    fn forget(&mut self, now_ms: u64) {
        self.entries
            .retain(|_, e| e.state.is_some() || e.seen_ms.saturating_add(FORGET_MS) > now_ms);
    }
}
