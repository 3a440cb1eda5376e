//! Arbor's services: the rules of accounts, subjects, the tree of topics, the catalogue,
//! imports and exports, and who may do what ([`access`]), called by the pages' server functions
//! (`arbor-app`) and by the JSON API (`arbor`'s `server/`) alike, so each rule lives once. Also
//! the page cache and the sign-in throttle, and [`live`], what the services offer the live side
//! (`arbor-live`: rooms, the bus between replicas).
//!
//! No HTTP framework and no Leptos here (CI checks it with `cargo tree`): a service takes the
//! [`Services`] state and parsed inputs (`arbor_types::model`), and returns a typed
//! [`ServiceError`] that the edges turn into what a person is told, logging an internal cause
//! exactly once.

pub mod access;
pub mod accounts;
pub mod auth;
pub mod blocking;
pub mod catalogue;
pub mod changes;
mod error;
pub mod live;
pub mod markdown;
pub mod page_cache;
pub mod passwords;
pub mod secrets;
pub mod subjects;
pub mod throttle;
pub mod transfer;
pub mod tree;

pub use error::{ServiceError, ServiceResult};

use std::sync::Arc;
use std::time::Duration;

use arbor_db::Db;
use arbor_live::bus::Bus;
use arbor_live::{Hub, SocketCaps};
pub use arbor_live::{RedisHandle, millis, now_ms};

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
    pub max_sockets: SocketCaps,
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
            max_sockets: SocketCaps::default(),
        }
    }
}

/// Everything a service may need (storage, Redis, policy, the bus, the live rooms, caches);
/// cheap to clone.
#[derive(Clone)]
pub struct Services {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    redis: Option<RedisHandle>,
    policy: AuthPolicy,
    throttle: throttle::Throttle,
    bus: Bus,
    pages: Arc<page_cache::PageCache>,
    views: subjects::RecentViews,
    collab: Hub,
    png_exports: transfer::PngExports,
}

/// How long a cached page may be served without a change event (see [`page_cache`]).
pub const PAGE_CACHE_TTL: Duration = Duration::from_secs(600);
/// Most pages cached per replica.
pub const PAGE_CACHE_ENTRIES: usize = 5_000;

impl Services {
    pub fn new(
        db: Db,
        redis: Option<RedisHandle>,
        policy: AuthPolicy,
        page_cache_bytes: usize,
    ) -> Self {
        let throttle = throttle::Throttle::new(db.clone(), redis.clone(), &policy);
        let bus = Bus::new(redis.clone());
        let pages = Arc::new(page_cache::PageCache::new(page_cache::Budget {
            ttl: PAGE_CACHE_TTL,
            max_entries: PAGE_CACHE_ENTRIES,
            max_bytes: page_cache_bytes,
        }));
        pages.follow(&bus);
        let collab = Hub::new(
            db.clone(),
            arbor_collab::Limits::default(),
            policy.max_sockets,
            redis.clone(),
        );
        // A topic's body changed ahead of its rendered row: this replica's cached pages of
        // the subject go before the change is acknowledged, the other replicas' over the bus.
        {
            let (pages, bus) = (pages.clone(), bus.clone());
            collab.on_unrendered(Arc::new(move |subject_id| {
                pages.invalidate(subject_id);
                let bus = bus.clone();
                tokio::spawn(async move {
                    bus.publish(arbor_live::bus::Event::SubjectChanged { subject_id })
                        .await;
                });
            }));
        }
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
        }
    }

    /// The bus between replicas.
    pub fn bus(&self) -> &Bus {
        &self.inner.bus
    }

    /// The PNG exports of this replica (slots, queue, recent ones).
    pub fn png_exports(&self) -> &transfer::PngExports {
        &self.inner.png_exports
    }

    /// The live documents of this replica.
    pub fn collab(&self) -> &Hub {
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
}

impl AuthPolicy {
    /// Sessions last seen before this moment have lapsed from idleness.
    pub fn idle_cutoff(&self, now: i64) -> i64 {
        now.saturating_sub(millis(self.session_idle))
    }
}
