//! Room traffic between replicas: with `REDIS_URL`, Redis pub/sub, one channel per document a
//! replica has loaded (`{prefix}doc:{name}`), subscribed from just before the room is loaded
//! until it is unloaded. Messages carry the replica that sent them, so a replica drops its own
//! echo. Only durable updates are published (after their commit), and presence frames.
//!
//! Pub/sub drops whatever is sent while a subscription is down, so every time the subscription
//! (re)connects, each loaded room is repaired from the database log ([`Heard::Connected`],
//! which the hub answers by repairing every room); clients repair through the normal sync step. While
//! Redis is down, publishing is skipped at once by the [`RedisHandle`] circuit breaker and each
//! replica keeps serving its own clients; the documents whose traffic was skipped are noted,
//! and once publishing works again the others are told to repair them ([`Relayed::Repair`]),
//! which closes the gap a subscriber that never lost its own connection would not notice.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use redis::aio::PubSubSink;
use tokio::sync::mpsc;

use crate::redis_handle::RedisHandle;

/// What travels between replicas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relayed {
    /// A durable update (raw Yjs v1 bytes).
    Update(Vec<u8>),
    /// A presence frame (`[1, awareness]`).
    Presence(Vec<u8>),
    /// "Something about this document did not reach you: repair it from the database" (sent
    /// once publishing works again after a publish was skipped).
    Repair,
}

/// What the relay hears, in order.
#[derive(Debug)]
pub enum Heard {
    /// The subscription (re)connected: whatever was sent meanwhile is lost, repair every room.
    Connected,
    /// Another replica's message about document `doc`.
    Message {
        doc: String,
        origin: u64,
        message: Relayed,
    },
}

const UPDATE: u8 = 0;
const PRESENCE: u8 = 1;
const REPAIR: u8 = 2;

/// A handle on the relay; cheap to clone.
#[derive(Clone)]
pub struct Relay {
    inner: Arc<Inner>,
}

struct Inner {
    redis: RedisHandle,
    /// Documents this replica wants to hear about.
    wanted: Mutex<HashSet<String>>,
    /// The current subscription's command side, while connected.
    sink: Mutex<Option<PubSubSink>>,
    /// Documents with an update or presence that could not be published: the others are
    /// told to repair them once publishing works again.
    unsent: Mutex<HashSet<String>>,
}

fn encode(origin: u64, message: &Relayed) -> Vec<u8> {
    let (kind, bytes): (u8, &[u8]) = match message {
        Relayed::Update(b) => (UPDATE, b),
        Relayed::Presence(b) => (PRESENCE, b),
        Relayed::Repair => (REPAIR, &[]),
    };
    let mut out = Vec::with_capacity(9 + bytes.len());
    out.extend_from_slice(&origin.to_be_bytes());
    out.push(kind);
    out.extend_from_slice(bytes);
    out
}

fn decode(payload: &[u8]) -> Option<(u64, Relayed)> {
    let origin = u64::from_be_bytes(payload.get(..8)?.try_into().ok()?);
    let bytes = payload.get(9..)?.to_vec();
    match *payload.get(8)? {
        UPDATE => Some((origin, Relayed::Update(bytes))),
        PRESENCE => Some((origin, Relayed::Presence(bytes))),
        REPAIR => Some((origin, Relayed::Repair)),
        _ => None,
    }
}

impl Relay {
    const RETRY: Duration = Duration::from_secs(1);

    pub fn new(redis: RedisHandle) -> Relay {
        Relay {
            inner: Arc::new(Inner {
                redis,
                wanted: Mutex::default(),
                sink: Mutex::default(),
                unsent: Mutex::default(),
            }),
        }
    }

    fn channel(&self, doc: &str) -> String {
        self.inner.redis.key(&format!("doc:{doc}"))
    }

    fn sink(&self) -> Option<PubSubSink> {
        self.inner.sink.lock().ok().and_then(|s| s.clone())
    }

    /// Starts listening for `doc` (waits for Redis to confirm when connected).
    pub async fn watch(&self, doc: &str) {
        let new = self
            .inner
            .wanted
            .lock()
            .is_ok_and(|mut w| w.insert(doc.to_owned()));
        if new && let Some(mut sink) = self.sink() {
            let channel = self.channel(doc);
            let subscribed =
                tokio::time::timeout(RedisHandle::CALL_TIMEOUT, sink.subscribe(&channel)).await;
            if !matches!(subscribed, Ok(Ok(()))) {
                tracing::warn!(doc, "could not subscribe to a document's relay channel");
            }
        }
    }

    /// Stops listening for `doc`.
    pub async fn unwatch(&self, doc: &str) {
        let removed = self.inner.wanted.lock().is_ok_and(|mut w| w.remove(doc));
        if removed && let Some(mut sink) = self.sink() {
            let channel = self.channel(doc);
            let _ =
                tokio::time::timeout(RedisHandle::CALL_TIMEOUT, sink.unsubscribe(&channel)).await;
        }
    }

    /// Sends `message` about `doc` to the other replicas. While Redis is down it is skipped
    /// (and the document noted, see [`Relay::flush_unsent`]).
    pub async fn publish(&self, doc: &str, message: &Relayed) {
        if !self.send(doc, message).await {
            metrics::counter!("arbor_collab_relay_skipped_total").increment(1);
            if let Ok(mut unsent) = self.inner.unsent.lock() {
                unsent.insert(doc.to_owned());
            }
        }
    }

    async fn send(&self, doc: &str, message: &Relayed) -> bool {
        let payload = encode(self.inner.redis.replica(), message);
        self.inner
            .redis
            .publish("relay publish", self.channel(doc), payload)
            .await
    }

    /// Tells the other replicas to repair every document whose traffic could not be
    /// published, once publishing works again (called by the hub's upkeep).
    pub async fn flush_unsent(&self) {
        let docs: Vec<String> = match self.inner.unsent.lock() {
            Ok(mut unsent) if !unsent.is_empty() => unsent.drain().collect(),
            _ => return,
        };
        for (i, doc) in docs.iter().enumerate() {
            if !self.send(doc, &Relayed::Repair).await {
                if let Ok(mut unsent) = self.inner.unsent.lock() {
                    unsent.extend(docs[i..].iter().cloned());
                }
                return;
            }
        }
    }

    /// Keeps a subscription open for as long as the process runs; what it hears comes out of
    /// the returned channel, in order.
    pub fn spawn(&self) -> mpsc::Receiver<Heard> {
        let (heard, out) = mpsc::channel(1024);
        let relay = self.clone();
        tokio::spawn(async move {
            let prefix = relay.inner.redis.key("doc:");
            loop {
                match relay.inner.redis.client.get_async_pubsub().await {
                    Ok(pubsub) => {
                        let (mut sink, mut stream) = pubsub.split();
                        let wanted: Vec<String> = relay
                            .inner
                            .wanted
                            .lock()
                            .map(|w| w.iter().cloned().collect())
                            .unwrap_or_default();
                        let mut ok = true;
                        for doc in &wanted {
                            ok &= sink.subscribe(relay.channel(doc)).await.is_ok();
                        }
                        if ok {
                            if let Ok(mut slot) = relay.inner.sink.lock() {
                                *slot = Some(sink);
                            }
                            tracing::info!("collaboration relay subscribed to redis");
                            metrics::gauge!("arbor_collab_relay_connected").set(1.0);
                            if heard.send(Heard::Connected).await.is_err() {
                                return;
                            }
                            while let Some(message) = stream.next().await {
                                let channel = message.get_channel_name();
                                let Some(doc) = channel.strip_prefix(&prefix) else {
                                    continue;
                                };
                                match decode(message.get_payload_bytes()) {
                                    Some((origin, _)) if origin == relay.inner.redis.replica() => {}
                                    Some((origin, message)) => {
                                        let doc = doc.to_owned();
                                        if heard
                                            .send(Heard::Message {
                                                doc,
                                                origin,
                                                message,
                                            })
                                            .await
                                            .is_err()
                                        {
                                            return;
                                        }
                                    }
                                    None => tracing::warn!(doc, "unreadable relay message"),
                                }
                            }
                            if let Ok(mut slot) = relay.inner.sink.lock() {
                                *slot = None;
                            }
                            metrics::gauge!("arbor_collab_relay_connected").set(0.0);
                            tracing::warn!("collaboration relay lost redis; reconnecting");
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, "collaboration relay cannot reach redis"),
                }
                tokio::time::sleep(Self::RETRY).await;
            }
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_garbage_is_refused() {
        for message in [Relayed::Update(vec![1, 2, 3]), Relayed::Presence(vec![])] {
            assert_eq!(decode(&encode(42, &message)), Some((42, message)));
        }
        assert_eq!(
            decode(&encode(7, &Relayed::Repair)),
            Some((7, Relayed::Repair))
        );
        assert_eq!(decode(&[1, 2, 3]), None);
        assert_eq!(decode(&[0, 0, 0, 0, 0, 0, 0, 1, 9, 1]), None);
    }
}
