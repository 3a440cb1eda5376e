//! The upkeep of loaded rooms, every [`UPKEEP_EVERY`] and on bus events: refreshing the rows
//! derived from a document once it goes quiet ([`Rows`]), compacting logs, expiring presence,
//! unloading idle rooms, and re-checking who may stay connected ([`Permissions`]) when the
//! bus says access changed or a sign-in ended — never for content changes, so a like or an
//! edit touches no socket.
//!
//! **Sign-ins are re-checked.** Each connection remembers the session or token it was opened
//! with; when a sign-in of an account ends (signing out, a revoked token, a password change,
//! a deleted account: [`Event::SignInRevoked`] on the bus, or [`Event::Resync`] after missed
//! events), its connections whose sign-in is no longer valid are closed with
//! [`Close::UNAUTHENTICATED`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arbor_collab::{Access, Close, ConnId, TEXT};
use tokio::sync::broadcast::error::RecvError;

use crate::bus::{Bus, Event};
use crate::clock::now_ms;
use crate::error::LiveError;
use crate::host::{Permissions, Rows, Settled};
use crate::hub::{Hub, load_stored};
use crate::room::{DocKey, Out, SignIn, Slot};

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
/// How often upkeep runs.
const UPKEEP_EVERY: Duration = Duration::from_millis(500);

impl Hub {
    /// Runs upkeep every [`UPKEEP_EVERY`] and on `bus` events, until the handle is aborted.
    pub fn spawn_upkeep(
        &self,
        bus: &Bus,
        permissions: Arc<dyn Permissions>,
        rows: Arc<dyn Rows>,
    ) -> tokio::task::JoinHandle<()> {
        let hub = self.clone();
        let mut events = bus.subscribe();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(UPKEEP_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = every.tick() => hub.upkeep(rows.as_ref()).await,
                    event = events.recv() => match event {
                        Ok(Event::AccessChanged { subject_id }) => {
                            hub.recheck(permissions.as_ref(), Some(subject_id)).await;
                        }
                        Ok(Event::SubjectChanged { .. }) => {}
                        Ok(Event::SignInRevoked { user_id }) => {
                            hub.recheck_sign_ins(permissions.as_ref(), Some(user_id)).await;
                        }
                        Ok(Event::Resync) | Err(RecvError::Lagged(_)) => {
                            hub.recheck_sign_ins(permissions.as_ref(), None).await;
                            hub.recheck(permissions.as_ref(), None).await;
                        }
                        Err(RecvError::Closed) => break,
                    },
                }
            }
        })
    }

    /// Before the process stops: refreshes every row that lags its document and waits for
    /// pending writes. (The log already holds every accepted update.)
    pub async fn shutdown(&self, rows: &dyn Rows) {
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
            if let Err(e) = rows.settle(slot.key, slot.subject_id, &text).await {
                tracing::warn!(doc = %slot.name, error = %e, "refreshing the rows of a document at exit failed");
            }
        }
        self.inner.writer.flush().await;
    }

    async fn upkeep(&self, rows: &dyn Rows) {
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
            if let Some(text) = render {
                match rows.settle(slot.key, slot.subject_id, &text).await {
                    Ok(Settled::Done | Settled::Gone) => {}
                    Err(e) => {
                        tracing::warn!(doc = %slot.name, error = %e, "refreshing the rows of a document failed; retrying");
                        if let Some(live) = slot.live.lock().await.as_mut() {
                            live.unrendered.get_or_insert((now, now));
                        }
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
            let mut document = load_stored(&slot.name, &stored)?;
            let snapshot = document
                .snapshot()
                .map_err(|e| LiveError::unreadable(&slot.name, e))?;
            let won = self
                .inner
                .db
                .compact_doc(&stored, &snapshot, now_ms())
                .await?;
            Ok::<_, LiveError>(won.then_some((stored.log.len(), stored.log_bytes())))
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

    /// Re-checks, for rooms of `subject_id` (all rooms when `None`), that the document still
    /// exists and what each connection may do: a role change takes effect on open sockets, and
    /// people who lost access are disconnected.
    async fn recheck(&self, permissions: &dyn Permissions, subject_id: Option<i64>) {
        for slot in self.slots() {
            if subject_id.is_some_and(|s| s != slot.subject_id) {
                continue;
            }
            let users: Vec<(ConnId, i64)> = match slot.live.lock().await.as_ref() {
                Some(live) => live.peers.iter().map(|(c, p)| (*c, p.user_id)).collect(),
                None => continue,
            };
            metrics::counter!("arbor_collab_access_rechecks_total").increment(1);
            let decided: Vec<(ConnId, Option<Access>)> = match permissions
                .levels(slot.key, slot.subject_id)
                .await
            {
                Ok(Some(level)) => users.into_iter().map(|(c, u)| (c, level(u))).collect(),
                Ok(None) => users.into_iter().map(|(c, _)| (c, None)).collect(),
                Err(e) => {
                    tracing::warn!(error = %e, "could not re-check access; keeping connections");
                    continue;
                }
            };
            let mut guard = slot.live.lock().await;
            let Some(live) = guard.as_mut() else { continue };
            for (conn, access) in decided {
                let Some(access) = access else {
                    live.eject(
                        conn,
                        Close {
                            code: Close::FORBIDDEN,
                            reason: "access was withdrawn".into(),
                        },
                    );
                    continue;
                };
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

    /// Closes the connections, of account `user_id` (of every account when `None`), whose
    /// session or token is no longer valid; a sign-in that cannot be checked now is kept.
    async fn recheck_sign_ins(&self, permissions: &dyn Permissions, user_id: Option<i64>) {
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
        let mut valid: HashMap<SignIn, bool> = HashMap::new();
        for (slot, conn, sign_in) in held {
            let still = match valid.get(&sign_in) {
                Some(still) => *still,
                None => {
                    let still = permissions.signed_in(&sign_in).await.unwrap_or_else(|e| {
                        tracing::warn!(error = %e, "could not re-check a sign-in; keeping its connections");
                        true
                    });
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
