//! The Redis connection a replica shares between its throttle, bus and relay, behind a
//! circuit breaker.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::{millis, now_ms};

/// A Redis connection plus the key prefix this deployment (or test) owns, behind a circuit
/// breaker: a call that fails or takes longer than [`RedisHandle::CALL_TIMEOUT`] opens the
/// breaker for [`RedisHandle::OPEN_FOR`], during which callers skip Redis at once and use their
/// fallback, instead of every request waiting on a dead server. A replica also starts while
/// Redis is down: it keeps trying to connect in the background and works without it meanwhile.
#[derive(Clone)]
pub struct RedisHandle {
    /// For connections of their own (pub/sub subscriptions).
    pub client: redis::Client,
    connection: Arc<std::sync::RwLock<Option<redis::aio::ConnectionManager>>>,
    prefix: String,
    /// Unix milliseconds until which Redis is not tried.
    open_until: Arc<std::sync::atomic::AtomicI64>,
    /// This replica's id on every channel (the bus and the relay), so it drops its own echo.
    replica: u64,
}

/// One attempt to connect, bounded in time.
async fn connect_once(
    client: redis::Client,
    config: redis::aio::ConnectionManagerConfig,
) -> Result<redis::aio::ConnectionManager, String> {
    tokio::time::timeout(
        RedisHandle::CONNECT_TIMEOUT,
        redis::aio::ConnectionManager::new_with_config(client, config),
    )
    .await
    .map_err(|_| "no answer".to_owned())?
    .map_err(|e| e.to_string())
}

impl RedisHandle {
    pub const CALL_TIMEOUT: Duration = Duration::from_millis(500);
    pub const OPEN_FOR: Duration = Duration::from_secs(5);
    const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

    /// Connects to `client`; if that fails, returns at once and keeps trying in the background.
    pub async fn connect(client: redis::Client, prefix: String) -> Self {
        let handle = Self {
            client: client.clone(),
            connection: Arc::default(),
            prefix,
            open_until: Arc::default(),
            replica: rand::random(),
        };
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Self::CONNECT_TIMEOUT))
            .set_response_timeout(Some(Self::CALL_TIMEOUT));
        match connect_once(client.clone(), config.clone()).await {
            Ok(manager) => handle.set(manager),
            Err(e) => {
                tracing::warn!(error = %e, "redis unavailable at start-up; retrying in the background");
                let background = handle.clone();
                tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(Self::CONNECT_TIMEOUT).await;
                        if let Ok(manager) = connect_once(client.clone(), config.clone()).await {
                            tracing::info!("redis connected");
                            background.set(manager);
                            return;
                        }
                    }
                });
            }
        }
        handle
    }

    fn set(&self, manager: redis::aio::ConnectionManager) {
        if let Ok(mut slot) = self.connection.write() {
            *slot = Some(manager);
        }
    }

    fn manager(&self) -> Option<redis::aio::ConnectionManager> {
        self.connection.read().ok().and_then(|slot| slot.clone())
    }

    /// This replica's id on the bus and the relay.
    pub fn replica(&self) -> u64 {
        self.replica
    }

    /// `{prefix}{key}`.
    pub fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Publishes `payload` on `channel` through the breaker; `false` when Redis did not take
    /// it.
    pub async fn publish(&self, what: &str, channel: String, payload: Vec<u8>) -> bool {
        self.call(what, |mut c| async move {
            redis::cmd("PUBLISH")
                .arg(channel)
                .arg(payload)
                .query_async::<i64>(&mut c)
                .await
        })
        .await
        .is_some()
    }

    /// Runs one Redis operation through the breaker. `None` when Redis is skipped, fails or is
    /// too slow (the caller falls back); the failure is logged once per opening.
    pub async fn call<T, F, Fut>(&self, what: &str, op: F) -> Option<T>
    where
        F: FnOnce(redis::aio::ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        use std::sync::atomic::Ordering;
        let now = now_ms();
        let open_until = self.open_until.load(Ordering::Relaxed);
        if open_until > now {
            return None;
        }
        // Half-open: after an outage only one caller probes Redis; the others keep falling
        // back until it has answered.
        if open_until != 0
            && self
                .open_until
                .compare_exchange(
                    open_until,
                    now.saturating_add(millis(Self::CALL_TIMEOUT)),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_err()
        {
            return None;
        }
        let connection = self.manager()?;
        let failure = match tokio::time::timeout(Self::CALL_TIMEOUT, op(connection)).await {
            Ok(Ok(value)) => {
                self.open_until.store(0, Ordering::Relaxed);
                return Some(value);
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("no answer within {:?}", Self::CALL_TIMEOUT),
        };
        let until = now.saturating_add(millis(Self::OPEN_FOR));
        if self.open_until.swap(until, Ordering::Relaxed) == 0 {
            tracing::warn!(error = %failure, operation = what, "redis unavailable; falling back for {:?}", Self::OPEN_FOR);
        }
        None
    }
}
