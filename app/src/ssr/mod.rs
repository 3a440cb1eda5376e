//! The server side of the app: state shared by every request, and the services (accounts,
//! subjects, the tree, the catalogue) that both the server functions (pages) and the JSON API
//! (`server/`) call, so each rule lives once; plus the bus between replicas and the page cache.

pub mod access;
pub mod accounts;
pub mod auth;
pub mod blocking;
pub mod bus;
pub mod catalogue;
pub mod collab;
pub mod markdown;
pub mod page;
pub mod page_cache;
pub mod passwords;
pub mod relay;
pub mod secrets;
pub mod subjects;
pub mod throttle;
pub mod transfer;
pub mod tree;

use std::sync::Arc;
use std::time::Duration;

use arbor_db::Db;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;

/// Session and sign-in policy, from the server's configuration.
#[derive(Debug, Clone)]
pub struct AuthPolicy {
    /// Mark the session cookie `Secure` (the public URL is https).
    pub secure_cookies: bool,
    /// A session unused for this long lapses.
    pub session_idle: Duration,
    /// A session lapses this long after sign-in, used or not.
    pub session_absolute: Duration,
    /// The sign-in throttle's window.
    pub throttle_window: Duration,
    /// Failed sign-ins allowed per username per window.
    pub max_failures_per_user: u32,
    /// Failed sign-ins allowed per client address per window.
    pub max_failures_per_client: u32,
    /// Sign-up attempts allowed per client address per window.
    pub max_signups_per_client: u32,
    /// Live-editing sockets open at once per replica, per client address and per account.
    pub max_sockets: collab::SocketCaps,
}

impl Default for AuthPolicy {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_idle: Duration::from_secs(14 * 24 * 3600),
            session_absolute: Duration::from_secs(60 * 24 * 3600),
            throttle_window: Duration::from_secs(15 * 60),
            max_failures_per_user: 10,
            max_failures_per_client: 100,
            max_signups_per_client: 20,
            max_sockets: collab::SocketCaps::default(),
        }
    }
}

/// Everything a request handler may need; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
    leptos_options: LeptosOptions,
}

struct Inner {
    db: Db,
    redis: Option<RedisHandle>,
    policy: AuthPolicy,
    throttle: throttle::Throttle,
    bus: bus::Bus,
    pages: Arc<page_cache::PageCache>,
    views: subjects::RecentViews,
    collab: collab::Hub,
    png_exports: transfer::PngExports,
}

/// How long a cached page may be served without a change event (see [`page_cache`]).
pub const PAGE_CACHE_TTL: Duration = Duration::from_secs(600);
/// Most pages cached per replica.
pub const PAGE_CACHE_ENTRIES: usize = 5_000;

impl AppState {
    pub fn new(
        db: Db,
        redis: Option<RedisHandle>,
        policy: AuthPolicy,
        page_cache_bytes: usize,
        leptos_options: LeptosOptions,
    ) -> Self {
        let throttle = throttle::Throttle::new(db.clone(), redis.clone(), &policy);
        let bus = bus::Bus::new(redis.clone().map(|r| {
            let client = r.client.clone();
            (r, client)
        }));
        let pages = Arc::new(page_cache::PageCache::new(page_cache::Budget {
            ttl: PAGE_CACHE_TTL,
            max_entries: PAGE_CACHE_ENTRIES,
            max_bytes: page_cache_bytes,
        }));
        pages.follow(&bus);
        let collab = collab::Hub::new(
            db.clone(),
            arbor_collab::Limits::default(),
            policy.max_sockets,
            redis.clone(),
        );
        Self {
            inner: Arc::new(Inner {
                db,
                redis,
                policy,
                throttle,
                bus,
                pages,
                views: subjects::RecentViews::default(),
                collab,
                png_exports: transfer::PngExports::default(),
            }),
            leptos_options,
        }
    }

    /// The bus between replicas.
    pub fn bus(&self) -> &bus::Bus {
        &self.inner.bus
    }

    /// The PNG exports of this replica (slots, queue, recent ones).
    pub fn png_exports(&self) -> &transfer::PngExports {
        &self.inner.png_exports
    }

    /// The live documents of this replica.
    pub fn collab(&self) -> &collab::Hub {
        &self.inner.collab
    }

    /// The cache of public pages.
    pub fn pages(&self) -> &page_cache::PageCache {
        &self.inner.pages
    }

    /// Views this replica counted recently.
    pub fn views(&self) -> &subjects::RecentViews {
        &self.inner.views
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// The Redis connection, when `REDIS_URL` is configured.
    pub fn redis(&self) -> Option<&RedisHandle> {
        self.inner.redis.as_ref()
    }

    pub fn policy(&self) -> &AuthPolicy {
        &self.inner.policy
    }

    pub fn throttle(&self) -> &throttle::Throttle {
        &self.inner.throttle
    }

    pub fn leptos_options(&self) -> &LeptosOptions {
        &self.leptos_options
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

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

    /// `{prefix}{key}`.
    pub fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
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

/// Milliseconds since the Unix epoch: the one clock the storage layer is given.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(millis)
        .unwrap_or(0)
}

/// A duration in whole milliseconds, as the storage layer counts time.
pub fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl AuthPolicy {
    /// Sessions last seen before this moment have lapsed from idleness.
    pub fn idle_cutoff(&self, now: i64) -> i64 {
        now.saturating_sub(millis(self.session_idle))
    }
}

/// The state of the current request, inside a server function or a page render.
pub fn state() -> Result<AppState, crate::error::AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        crate::error::AppError::internal(anyhow::anyhow!("AppState missing from context"))
    })
}
