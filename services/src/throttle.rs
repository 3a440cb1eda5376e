//! Throttling of password guesses and sign-ups. Attempts are counted per key (a username, a
//! client address) in fixed windows, *before* the password is checked, so parallel guesses
//! cannot all slip past a limit while the slow hash runs; an attempt that turns out to be
//! legitimate is taken back. A key over its limit is refused with 429 until its window closes.
//!
//! The counts live in the database, or in Redis when it is configured, so every replica sees
//! the same limit. A legitimate attempt is forgiven where it is found; if Redis came or went
//! between the attempt and its forgiveness, the other store may be decremented instead: that
//! can cost at most one counted failure per successful sign-in. If Redis stops answering, the database carries on the counting rather than
//! letting guesses through unthrottled (attempts counted there during an outage are not carried
//! back into Redis; a window is short, so this costs an attacker at most one extra window).

use std::time::Duration;

use arbor_db::Db;

use crate::ServiceError;
use crate::{AuthPolicy, RedisHandle, now_ms};

/// What attempts are counted against, and how many a window allows.
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
    signups_per_client: u32,
}

impl Throttle {
    pub fn new(db: Db, redis: Option<RedisHandle>, policy: &AuthPolicy) -> Self {
        Self {
            db,
            redis,
            window: policy.throttle_window,
            per_user: policy.max_failures_per_user,
            per_client: policy.max_failures_per_client,
            signups_per_client: policy.max_signups_per_client,
        }
    }

    /// The keys a password check is counted against: the account, and the client (an IPv6
    /// client by its /64 network, since one host usually holds a whole /64).
    pub fn password_keys(&self, username_key: &str, client: Option<&str>) -> Vec<Key> {
        let mut keys = vec![Key {
            name: format!("user:{username_key}"),
            limit: self.per_user,
        }];
        if let Some(client) = client {
            keys.push(Key {
                name: format!("client:{}", client_network(client)),
                limit: self.per_client,
            });
        }
        keys
    }

    /// The key sign-ups from one client are counted against.
    pub fn signup_keys(&self, client: Option<&str>) -> Vec<Key> {
        client
            .map(|client| Key {
                name: format!("signup:{}", client_network(client)),
                limit: self.signups_per_client,
            })
            .into_iter()
            .collect()
    }

    fn window_ms(&self) -> i64 {
        crate::millis(self.window)
    }

    fn refuse(&self, key: &Key, count: i64, window_start: i64) -> ServiceError {
        let retry_ms = (window_start + self.window_ms() - now_ms()).max(0);
        tracing::info!(key = %key.name, count, "throttled");
        ServiceError::throttled(u64::try_from(retry_ms).unwrap_or(0).div_ceil(1000))
    }

    /// A cheap early refusal when a key has already used up its window (nothing is counted).
    pub async fn check(&self, keys: &[Key]) -> Result<(), ServiceError> {
        for key in keys {
            let (count, window_start) = match self.redis_read(key).await {
                Some(state) => state,
                None => self
                    .db
                    .throttle_window(&key.name, now_ms(), self.window_ms())
                    .await?
                    .map_or((0, 0), |w| (w.failures, w.window_start)),
            };
            if count >= i64::from(key.limit) {
                return Err(self.refuse(key, count, window_start));
            }
        }
        Ok(())
    }

    /// Counts one attempt against every key; `Err(429)` when that takes any key over its limit.
    pub async fn attempt(&self, keys: &[Key]) -> Result<(), ServiceError> {
        let mut over = None;
        for key in keys {
            let (count, window_start) = match self.redis_hit(key).await {
                Some(state) => state,
                None => {
                    let w = self
                        .db
                        .throttle_hit(&key.name, now_ms(), self.window_ms())
                        .await?;
                    (w.failures, w.window_start)
                }
            };
            if count > i64::from(key.limit) && over.is_none() {
                over = Some(self.refuse(key, count, window_start));
            }
        }
        over.map_or(Ok(()), Err)
    }

    /// The attempt was legitimate (the password was right): the account's count starts over
    /// and the client gets its attempt back.
    pub async fn forgive(&self, keys: &[Key]) -> Result<(), ServiceError> {
        for key in keys {
            if key.name.starts_with("user:") {
                self.redis_op(key, "throttle reset", |mut con, rkey| async move {
                    redis::cmd("DEL")
                        .arg(rkey)
                        .query_async::<()>(&mut con)
                        .await
                })
                .await;
                self.db.throttle_reset(&key.name).await?;
            } else if self
                .redis_op(key, "throttle forgive", |mut con, rkey| async move {
                    redis::cmd("EVAL")
                        .arg(FORGIVE_SCRIPT)
                        .arg(1)
                        .arg(rkey)
                        .query_async::<i64>(&mut con)
                        .await
                })
                .await
                .is_none()
            {
                self.db.throttle_forgive(&key.name).await?;
            }
        }
        Ok(())
    }

    /// Removes closed windows from the database.
    pub async fn prune(&self) -> Result<u64, ServiceError> {
        Ok(self.db.throttle_prune(now_ms() - self.window_ms()).await?)
    }

    /// Runs `op` on Redis for `key` through the circuit breaker; `None` when Redis is not
    /// configured or not answering.
    async fn redis_op<T, F, Fut>(&self, key: &Key, what: &str, op: F) -> Option<T>
    where
        F: FnOnce(redis::aio::ConnectionManager, String) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let redis = self.redis.as_ref()?;
        let rkey = redis.key(&format!("throttle:{}", key.name));
        redis.call(what, |con| op(con, rkey)).await
    }

    /// `(count, window start)` from Redis.
    async fn redis_read(&self, key: &Key) -> Option<(i64, i64)> {
        let window_ms = self.window_ms();
        self.redis_op(key, "throttle read", |mut con, rkey| async move {
            redis::pipe()
                .get(&rkey)
                .pttl(&rkey)
                .query_async::<(Option<i64>, i64)>(&mut con)
                .await
        })
        .await
        .map(|(count, ttl)| (count.unwrap_or(0), now_ms() + ttl.max(0) - window_ms))
    }

    /// Counts an attempt in Redis: INCR, and an expiry on a key that has none (a new window).
    /// Returns `(count, window start)`.
    async fn redis_hit(&self, key: &Key) -> Option<(i64, i64)> {
        let window_ms = self.window_ms();
        self.redis_op(key, "throttle count", |mut con, rkey| async move {
            redis::cmd("EVAL")
                .arg(HIT_SCRIPT)
                .arg(1)
                .arg(rkey)
                .arg(window_ms)
                .query_async::<(i64, i64)>(&mut con)
                .await
        })
        .await
        .map(|(count, ttl)| (count, now_ms() + ttl.max(0) - window_ms))
    }
}

/// Counts one attempt and gives a new counter its window (works on Redis 6 too, which lacks
/// `PEXPIRE … NX`); returns the count and the milliseconds left in the window.
const HIT_SCRIPT: &str = "local n = redis.call('INCR', KEYS[1]) \
     if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end \
     return {n, redis.call('PTTL', KEYS[1])}";

/// The address throttles count against: IPv4 as it is, IPv6 by its /64 network.
fn client_network(client: &str) -> String {
    match client.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        _ => client.to_owned(),
    }
}

/// Decrements a counter that exists and is above zero (never creates one, never goes negative).
const FORGIVE_SCRIPT: &str = "local n = tonumber(redis.call('GET', KEYS[1]) or '0') \
     if n > 0 then return redis.call('DECR', KEYS[1]) end return 0";

#[cfg(test)]
mod tests {
    #[test]
    fn ipv6_clients_are_counted_by_network() {
        use super::client_network;
        assert_eq!(client_network("203.0.113.9"), "203.0.113.9");
        assert_eq!(client_network("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(client_network("2001:db8:1:2:bbbb::7"), "2001:db8:1:2::/64");
        assert_eq!(client_network("::ffff:198.51.100.4"), "198.51.100.4");
        assert_eq!(client_network("not an address"), "not an address");
    }
}
