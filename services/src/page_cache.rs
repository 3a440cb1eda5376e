//! The in-process cache of public subject and topic pages, as rendered for signed-out readers.
//!
//! Entries are tagged with the subjects whose content they show and dropped when the bus says
//! one of those changed (on every replica, with Redis), or everything on a resync. A render
//! that started before an invalidation is not stored (a generation counter), so a stale page
//! cannot be cached after the change that made it stale. Entries also expire after a time, a
//! bound on anything that changes without a subject event (an author's display name).
//!
//! Pages carry a per-response CSP nonce; the cache stores the page split at the nonce and
//! joins it with a fresh one on every hit, so nonces are never reused.
//!
//! The cache is bounded twice: by entries and by bytes (keys and pages together). When either
//! would be exceeded, the oldest entries go first; a page larger than an eighth of the byte
//! budget is never stored. Keys are canonical paths (the server redirects any other spelling of
//! a page's path before it could be stored), so URL variants cannot multiply entries.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hashlink::LinkedHashMap;
use tokio::sync::broadcast;

use arbor_live::bus::{Bus, Event};

/// A cached page.
#[derive(Debug, Clone)]
pub struct CachedPage {
    pub subject_id: i64,
    /// The page's validator: a hash of its content, without the nonce.
    pub etag: String,
    parts: Vec<String>,
    stored: Instant,
}

impl CachedPage {
    /// What the entry costs the cache, its key included.
    fn weight(&self, key: &str) -> usize {
        key.len() + self.parts.iter().map(String::len).sum::<usize>()
    }

    /// The page with `nonce` wherever the render had its own.
    pub fn body(&self, nonce: &str) -> String {
        self.parts.join(nonce)
    }
}

/// Splits a page rendered with `nonce` at each occurrence of it.
pub fn split_at_nonce(body: &str, nonce: &str) -> Vec<String> {
    if nonce.is_empty() {
        vec![body.to_owned()]
    } else {
        body.split(nonce).map(str::to_owned).collect()
    }
}

/// A strong validator for a page split at its nonce: the same content gives the same tag
/// whatever nonce each response carried.
pub fn etag_of(parts: &[String]) -> String {
    use sha2::Digest as _;
    let mut hash = sha2::Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0u8]);
    }
    let digest = hash.finalize();
    format!(
        "\"{}\"",
        digest[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

/// How large the cache may grow.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// How long a page may be served without a change event.
    pub ttl: Duration,
    /// Most pages held.
    pub max_entries: usize,
    /// Most bytes held, keys and pages together.
    pub max_bytes: usize,
}

/// The entries, oldest first, and what they weigh.
#[derive(Default)]
struct Entries {
    pages: LinkedHashMap<String, CachedPage>,
    bytes: usize,
}

impl Entries {
    fn remove(&mut self, key: &str) {
        if let Some(page) = self.pages.remove(key) {
            self.bytes -= page.weight(key);
        }
    }

    fn retain(&mut self, keep: impl Fn(&CachedPage) -> bool) {
        let mut bytes = 0;
        self.pages.retain(|key, page| {
            let kept = keep(page);
            if kept {
                bytes += page.weight(key);
            }
            kept
        });
        self.bytes = bytes;
    }
}

/// The cache; shared by every request of a replica.
pub struct PageCache {
    entries: Mutex<Entries>,
    generation: AtomicU64,
    budget: Budget,
}

/// The generation a render started in; pass it back to [`PageCache::store`].
#[derive(Debug, Clone, Copy)]
pub struct Generation(u64);

impl PageCache {
    pub fn new(budget: Budget) -> Self {
        Self {
            entries: Mutex::default(),
            generation: AtomicU64::new(0),
            budget,
        }
    }

    /// Drops entries as the bus reports changes; runs until the bus closes.
    pub fn follow(self: &std::sync::Arc<Self>, bus: &Bus) {
        let mut events = bus.subscribe();
        let cache = std::sync::Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                let event = events.recv().await;
                let Some(cache) = cache.upgrade() else { return };
                match event {
                    Ok(Event::Resync) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        cache.clear()
                    }
                    Ok(event) => {
                        if let Some(subject_id) = event.stale_subject() {
                            cache.invalidate(subject_id);
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
    }

    /// The current generation, taken before rendering a page that may be stored.
    pub fn generation(&self) -> Generation {
        Generation(self.generation.load(Ordering::SeqCst))
    }

    /// The fresh entry for `key`, if any.
    pub fn get(&self, key: &str) -> Option<CachedPage> {
        let entries = self.entries.lock().ok()?;
        entries
            .pages
            .get(key)
            .filter(|page| page.stored.elapsed() < self.budget.ttl)
            .cloned()
    }

    /// Stores a page rendered with `nonce`, unless something changed since `since`.
    pub fn store(
        &self,
        key: String,
        subject_id: i64,
        body: &str,
        nonce: &str,
        since: Generation,
    ) -> Option<CachedPage> {
        let parts = split_at_nonce(body, nonce);
        let etag = etag_of(&parts);
        let page = CachedPage {
            subject_id,
            etag,
            parts,
            stored: Instant::now(),
        };
        let mut entries = self.entries.lock().ok()?;
        let weight = page.weight(&key);
        if self.generation.load(Ordering::SeqCst) != since.0 || weight > self.budget.max_bytes / 8 {
            return Some(page);
        }
        // Re-stored pages move to the back, so the front is always the oldest (expired ones
        // included: they go first).
        entries.remove(&key);
        while entries.pages.len() >= self.budget.max_entries
            || entries.bytes + weight > self.budget.max_bytes
        {
            let Some(oldest) = entries.pages.front().map(|(k, _)| k.clone()) else {
                break;
            };
            entries.remove(&oldest);
        }
        entries.bytes += weight;
        entries.pages.insert(key, page.clone());
        Some(page)
    }

    /// Drops every page showing `subject_id`.
    pub fn invalidate(&self, subject_id: i64) {
        if let Ok(mut entries) = self.entries.lock() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            entries.retain(|page| page.subject_id != subject_id);
        }
    }

    /// Drops everything.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            *entries = Entries::default();
        }
    }

    /// How many pages are cached.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.pages.len()).unwrap_or(0)
    }

    /// How many bytes the cached pages and their keys take.
    pub fn bytes(&self) -> usize {
        self.entries.lock().map(|e| e.bytes).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_renders_are_not_stored_and_nonces_are_fresh() {
        let cache = PageCache::new(Budget {
            ttl: Duration::from_secs(60),
            max_entries: 2,
            max_bytes: 1 << 20,
        });
        let before = cache.generation();
        cache.invalidate(7);
        cache.store("/s/a".into(), 7, "x", "", before);
        assert!(
            cache.get("/s/a").is_none(),
            "a render older than the change is dropped"
        );

        let now = cache.generation();
        let page = cache
            .store(
                "/s/a".into(),
                7,
                "<script nonce=\"N1\">1</script>N1",
                "N1",
                now,
            )
            .unwrap();
        assert_eq!(page.body("N2"), "<script nonce=\"N2\">1</script>N2");
        let again = cache
            .store(
                "/s/a".into(),
                7,
                "<script nonce=\"N3\">1</script>N3",
                "N3",
                now,
            )
            .unwrap();
        assert_eq!(page.etag, again.etag, "the validator ignores the nonce");

        cache.store("/s/b".into(), 8, "b", "", now);
        cache.store("/s/c".into(), 9, "c", "", now);
        assert_eq!(cache.len(), 2, "bounded");
        cache.invalidate(9);
        assert!(cache.get("/s/c").is_none());
    }

    #[test]
    fn the_byte_budget_holds_oldest_first() {
        let cache = PageCache::new(Budget {
            ttl: Duration::from_secs(60),
            max_entries: 100,
            max_bytes: 8_000,
        });
        let now = cache.generation();
        let page = "p".repeat(989); // with its 11-byte key, 1,000 bytes
        for i in 0..20 {
            cache.store(format!("/s/{i:08}"), i, &page, "", now);
            assert!(cache.bytes() <= 8_000, "{} bytes after {i}", cache.bytes());
        }
        assert_eq!(cache.len(), 8, "eight pages of 1,000 bytes fit");
        assert!(cache.get("/s/00000011").is_none(), "the oldest went first");
        assert!(cache.get("/s/00000019").is_some());
        assert!(
            cache
                .store("/s/big".into(), 1, &"b".repeat(1_001), "", now)
                .is_some()
                && cache.get("/s/big").is_none(),
            "a page over an eighth of the budget is served, not stored"
        );
        cache.store("/s/00000019".into(), 19, "short", "", now);
        assert_eq!(
            cache.bytes(),
            7 * 1_000 + 11 + 5,
            "re-storing replaces the weight"
        );
        cache.invalidate(19);
        assert_eq!(cache.bytes(), 7 * 1_000);
        cache.clear();
        assert_eq!((cache.len(), cache.bytes()), (0, 0));
    }
}
