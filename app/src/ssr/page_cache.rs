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

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::broadcast;

use super::bus::{Bus, Event};

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

/// The cache; shared by every request of a replica.
pub struct PageCache {
    entries: Mutex<HashMap<String, CachedPage>>,
    generation: AtomicU64,
    ttl: Duration,
    max_entries: usize,
}

/// The generation a render started in; pass it back to [`PageCache::store`].
#[derive(Debug, Clone, Copy)]
pub struct Generation(u64);

impl PageCache {
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        Self {
            entries: Mutex::default(),
            generation: AtomicU64::new(0),
            ttl,
            max_entries,
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
                    Ok(Event::SubjectChanged { subject_id }) => cache.invalidate(subject_id),
                    Ok(Event::Resync) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        cache.clear()
                    }
                    Ok(Event::SignInRevoked { .. }) => {}
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
            .get(key)
            .filter(|page| page.stored.elapsed() < self.ttl)
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
        if self.generation.load(Ordering::SeqCst) != since.0 {
            return Some(page);
        }
        if entries.len() >= self.max_entries {
            let ttl = self.ttl;
            entries.retain(|_, p| p.stored.elapsed() < ttl);
            if entries.len() >= self.max_entries
                && let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, p)| p.stored)
                    .map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(key, page.clone());
        Some(page)
    }

    /// Drops every page showing `subject_id`.
    pub fn invalidate(&self, subject_id: i64) {
        if let Ok(mut entries) = self.entries.lock() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            entries.retain(|_, page| page.subject_id != subject_id);
        }
    }

    /// Drops everything.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            entries.clear();
        }
    }

    /// How many pages are cached.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
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
        let cache = PageCache::new(Duration::from_secs(60), 2);
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
}
