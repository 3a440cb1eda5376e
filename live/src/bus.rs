//! The bus between replicas: in-process with one replica, Redis pub/sub with `REDIS_URL`.
//!
//! It carries what pages show ([`Event::SubjectChanged`]: caches drop the subject), who may
//! do what ([`Event::AccessChanged`]: caches drop it and live connections re-check their
//! access), and ended sign-ins ([`Event::SignInRevoked`]). Content and access are separate
//! events on purpose: a like or an edit changes what a page shows and touches no socket, while
//! a role change must reach every live connection of the subject. Every message names the
//! replica that sent it, so a replica ignores its own echo (it already delivered the event
//! locally).
//!
//! Nothing is lost for good while Redis is unreachable, from either side:
//! - a replica whose subscription drops may miss messages, so whenever it (re)connects, its
//!   subscribers get [`Event::Resync`]: "you may have missed something; rebuild from the
//!   database";
//! - a replica that cannot publish (Redis down for it, or its breaker open) keeps the events
//!   it could not send and sends them again every [`Bus::RESEND_EVERY`] until Redis takes
//!   them, so the others, whose own subscription never dropped, hear of them then. At most
//!   [`Bus::UNSENT_MAX`] are kept; beyond that they are replaced by one [`Event::Resync`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::redis_handle::RedisHandle;

/// Something that happened on some replica.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Event {
    /// What a subject's pages show changed (its fields, tree, topics or counts).
    SubjectChanged { subject_id: i64 },
    /// Who may do what with a subject changed (its visibility or collaborators), or it or some
    /// of its topics went away: as [`Event::SubjectChanged`], and live connections re-check.
    AccessChanged { subject_id: i64 },
    /// A sign-in of this account ended (signed out, a token revoked, the password changed,
    /// the account deleted): its live connections re-check theirs.
    SignInRevoked { user_id: i64 },
    /// Messages may have been lost: drop everything derived from the database.
    Resync,
}

impl Event {
    /// The subject whose pages this event makes stale, if it names one.
    pub fn stale_subject(&self) -> Option<i64> {
        match self {
            Event::SubjectChanged { subject_id } | Event::AccessChanged { subject_id } => {
                Some(*subject_id)
            }
            Event::SignInRevoked { .. } | Event::Resync => None,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    /// The sender's replica id, as 16 hex digits (the wire form older replicas also read).
    origin: String,
    event: Event,
}

/// A handle on the bus; cheap to clone.
#[derive(Clone)]
pub struct Bus {
    replica: String,
    local: broadcast::Sender<Event>,
    redis: Option<RedisHandle>,
    /// Events Redis did not take yet, oldest first.
    unsent: Arc<Mutex<Vec<Event>>>,
}

impl Bus {
    /// How long to wait before re-subscribing after the connection drops.
    const RETRY: Duration = Duration::from_secs(1);
    /// How often events Redis did not take are offered again.
    pub const RESEND_EVERY: Duration = Duration::from_millis(500);
    /// Most events kept for sending again.
    pub const UNSENT_MAX: usize = 256;

    /// An in-process bus, joined to the other replicas through Redis when `redis` is given.
    pub fn new(redis: Option<RedisHandle>) -> Self {
        let (local, _) = broadcast::channel(1024);
        let bus = Self {
            replica: format!("{:016x}", redis.as_ref().map_or(0, RedisHandle::replica)),
            local,
            redis: redis.clone(),
            unsent: Arc::default(),
        };
        if let Some(handle) = redis {
            tokio::spawn(
                bus.clone()
                    .subscribe_loop(handle.key("bus"), handle.client.clone()),
            );
            tokio::spawn(bus.clone().resend_loop());
        }
        bus
    }

    /// Listens to events from this replica and, with Redis, from the others.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.local.subscribe()
    }

    /// Delivers `event` here at once and to the other replicas through Redis; when Redis does
    /// not take it, it is sent again later (see the module docs).
    pub async fn publish(&self, event: Event) {
        let _ = self.local.send(event.clone());
        if self.redis.is_some() && !self.send(&event).await {
            metrics::counter!("arbor_bus_unsent_total").increment(1);
            self.keep_unsent([event]);
        }
    }

    /// Publishes `event` to the other replicas; `false` when Redis did not take it.
    async fn send(&self, event: &Event) -> bool {
        let Some(redis) = &self.redis else {
            return true;
        };
        let Ok(payload) = serde_json::to_string(&Envelope {
            origin: self.replica.clone(),
            event: event.clone(),
        }) else {
            return true;
        };
        redis
            .publish("bus publish", redis.key("bus"), payload.into_bytes())
            .await
    }

    /// Keeps `events` for sending again, once each, at most [`Bus::UNSENT_MAX`].
    fn keep_unsent(&self, events: impl IntoIterator<Item = Event>) {
        let mut unsent = self
            .unsent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for event in events {
            if unsent.contains(&Event::Resync) || unsent.contains(&event) {
                continue;
            }
            if unsent.len() >= Self::UNSENT_MAX {
                *unsent = vec![Event::Resync];
            } else {
                unsent.push(event);
            }
        }
    }

    /// Offers the events Redis did not take again, every [`Bus::RESEND_EVERY`], in order.
    async fn resend_loop(self) {
        let mut every = tokio::time::interval(Self::RESEND_EVERY);
        loop {
            every.tick().await;
            let pending = std::mem::take(
                &mut *self
                    .unsent
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
            for (i, event) in pending.iter().enumerate() {
                if !self.send(event).await {
                    // Newer ones noted meanwhile go after these.
                    let newer = std::mem::replace(
                        &mut *self
                            .unsent
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner),
                        pending[i..].to_vec(),
                    );
                    self.keep_unsent(newer);
                    break;
                }
            }
        }
    }

    async fn subscribe_loop(self, channel: String, client: redis::Client) {
        loop {
            match client.get_async_pubsub().await {
                Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                    Ok(()) => {
                        tracing::info!("bus subscribed to redis");
                        let _ = self.local.send(Event::Resync);
                        let mut messages = pubsub.on_message();
                        while let Some(message) = messages.next().await {
                            let Ok(payload) = message.get_payload::<String>() else {
                                continue;
                            };
                            match serde_json::from_str::<Envelope>(&payload) {
                                Ok(envelope) if envelope.origin != self.replica => {
                                    let _ = self.local.send(envelope.event);
                                }
                                Ok(_) => {}
                                Err(e) => tracing::warn!(error = %e, "unreadable bus message"),
                            }
                        }
                        tracing::warn!("bus lost its redis subscription; reconnecting");
                    }
                    Err(e) => tracing::warn!(error = %e, "bus could not subscribe"),
                },
                Err(e) => tracing::debug!(error = %e, "bus could not reach redis"),
            }
            tokio::time::sleep(Self::RETRY).await;
        }
    }
}
