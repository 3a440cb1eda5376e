//! The sign-in throttle: failed sign-ins are counted per username and per client address in
//! fixed windows; a key over its limit is refused with 429 until its window closes. The counts
//! live in the database, or in Redis when it is configured, so every replica sees the same
//! limit. If Redis stops answering, the database carries on the counting rather than letting
//! guesses through unthrottled (failures counted there during an outage are not carried back
//! into Redis; a window is short, so this costs an attacker at most one extra window).

use std::time::Duration;

use arbor_db::Db;
use redis::AsyncCommands;

use super::{AuthPolicy, RedisHandle, now_ms};
use crate::error::AppError;

/// One thing failures are counted against.
#[derive(Debug, Clone)]
pub struct Key {
    name: String,
    limit: u32,
}

#[derive(Clone)]
pub struct Throttle {
    db: Db,
    redis: Option<RedisHandle>,
    window: Duration,
    per_user: u32,
    per_client: u32,
}

impl Throttle {
    pub fn new(db: Db, redis: Option<RedisHandle>, policy: &AuthPolicy) -> Self {
        Self {
            db,
            redis,
            window: policy.throttle_window,
            per_user: policy.max_failures_per_user,
            per_client: policy.max_failures_per_client,
        }
    }

    /// The keys a sign-in attempt is counted against.
    pub fn keys(&self, username_key: &str, client: Option<&str>) -> Vec<Key> {
        let mut keys = vec![Key {
            name: format!("user:{username_key}"),
            limit: self.per_user,
        }];
        if let Some(client) = client {
            keys.push(Key {
                name: format!("client:{client}"),
                limit: self.per_client,
            });
        }
        keys
    }

    fn window_ms(&self) -> i64 {
        i64::try_from(self.window.as_millis()).unwrap_or(i64::MAX)
    }

    /// `Err(429)` if any key has used up its failures in the current window.
    pub async fn check(&self, keys: &[Key]) -> Result<(), AppError> {
        for key in keys {
            let (failures, retry_ms) = match self.redis_state(key).await {
                Some(state) => state,
                None => {
                    let now = now_ms();
                    match self
                        .db
                        .throttle_window(&key.name, now, self.window_ms())
                        .await?
                    {
                        Some(w) => (w.failures, w.window_start + self.window_ms() - now),
                        None => (0, 0),
                    }
                }
            };
            if failures >= i64::from(key.limit) {
                let secs = u64::try_from(retry_ms.max(0)).unwrap_or(0).div_ceil(1000);
                tracing::info!(key = %key.name, failures, "sign-in throttled");
                return Err(AppError::throttled(secs));
            }
        }
        Ok(())
    }

    /// Counts one failure against every key.
    pub async fn fail(&self, keys: &[Key]) -> Result<(), AppError> {
        for key in keys {
            if !self.redis_fail(key).await {
                self.db
                    .throttle_fail(&key.name, now_ms(), self.window_ms())
                    .await?;
            }
        }
        Ok(())
    }

    /// Forgets the failures counted against a username after it signed in.
    pub async fn reset_user(&self, username_key: &str) -> Result<(), AppError> {
        let name = format!("user:{username_key}");
        if let Some(redis) = &self.redis {
            let key = redis.key(&format!("throttle:{name}"));
            redis
                .call("throttle reset", |mut con| async move {
                    con.del::<_, ()>(&key).await
                })
                .await;
        }
        self.db.throttle_reset(&name).await?;
        Ok(())
    }

    /// Removes closed windows from the database.
    pub async fn prune(&self) -> Result<u64, AppError> {
        Ok(self.db.throttle_prune(now_ms() - self.window_ms()).await?)
    }

    /// `(failures, ms until the window closes)` from Redis; `None` when Redis is not
    /// configured or not answering (the database is asked instead).
    async fn redis_state(&self, key: &Key) -> Option<(i64, i64)> {
        let redis = self.redis.as_ref()?;
        let rkey = redis.key(&format!("throttle:{}", key.name));
        redis
            .call("throttle read", |mut con| async move {
                redis::pipe()
                    .get(&rkey)
                    .pttl(&rkey)
                    .query_async::<(Option<i64>, i64)>(&mut con)
                    .await
            })
            .await
            .map(|(failures, ttl)| (failures.unwrap_or(0), ttl.max(0)))
    }

    /// Counts a failure in Redis; `false` when that was not possible.
    async fn redis_fail(&self, key: &Key) -> bool {
        let Some(redis) = self.redis.as_ref() else {
            return false;
        };
        let rkey = redis.key(&format!("throttle:{}", key.name));
        let window_ms = self.window_ms();
        // INCR, then give the key an expiry only if it has none (a new window).
        redis
            .call("throttle count", |mut con| async move {
                redis::pipe()
                    .atomic()
                    .incr(&rkey, 1)
                    .cmd("PEXPIRE")
                    .arg(&rkey)
                    .arg(window_ms)
                    .arg("NX")
                    .query_async::<(i64, i64)>(&mut con)
                    .await
            })
            .await
            .is_some()
    }
}
