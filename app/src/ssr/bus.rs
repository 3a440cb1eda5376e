//! The bus between replicas: in-process with one replica, Redis pub/sub with `REDIS_URL`.
//!
//! Today it carries cache invalidations ([`Event::SubjectChanged`]); the realtime work puts
//! document updates, presence and revocations on the same bus. Every message names the replica
//! that sent it, so a replica ignores its own echo (it already delivered the event locally).
//! Pub/sub may drop messages while a connection is down, so whenever the subscription
//! (re)connects, subscribers get [`Event::Resync`]: "you may have missed something; rebuild
//! from the database".

use std::time::Duration;

use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use super::RedisHandle;

/// Something that happened on some replica.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Event {
    /// A subject (its fields, tree, topics, counts or visibility) changed.
    SubjectChanged { subject_id: i64 },
    /// Messages may have been lost: drop everything derived from the database.
    Resync,
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    origin: String,
    event: Event,
}

/// A handle on the bus; cheap to clone.
#[derive(Clone)]
pub struct Bus {
    replica: String,
    local: broadcast::Sender<Event>,
    redis: Option<RedisHandle>,
}

impl Bus {
    /// How long to wait before re-subscribing after the connection drops.
    const RETRY: Duration = Duration::from_secs(1);

    /// An in-process bus, joined to the other replicas through Redis when `redis` is given
    /// (`client` opens the subscription connection).
    pub fn new(redis: Option<(RedisHandle, redis::Client)>) -> Self {
        let (local, _) = broadcast::channel(1024);
        let replica = format!("{:016x}", rand::random::<u64>());
        let bus = Self {
            replica,
            local,
            redis: redis.as_ref().map(|(handle, _)| handle.clone()),
        };
        if let Some((handle, client)) = redis {
            tokio::spawn(bus.clone().subscribe_loop(handle.key("bus"), client));
        }
        bus
    }

    /// Listens to events from this replica and, with Redis, from the others.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.local.subscribe()
    }

    /// Delivers `event` here at once and to the other replicas through Redis (best effort:
    /// when Redis is unavailable the breaker skips it, and the others resync on reconnect).
    pub async fn publish(&self, event: Event) {
        let _ = self.local.send(event.clone());
        let Some(redis) = &self.redis else { return };
        let Ok(payload) = serde_json::to_string(&Envelope {
            origin: self.replica.clone(),
            event,
        }) else {
            return;
        };
        let channel = redis.key("bus");
        redis
            .call("bus publish", |mut c| async move {
                redis::cmd("PUBLISH")
                    .arg(channel)
                    .arg(payload)
                    .query_async::<i64>(&mut c)
                    .await
            })
            .await;
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
