//! Cached JSON of published implementations. Entries are dropped when the store's catalog
//! generation moves (checked at most once a second), so several processes stay consistent.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

/// Most entries kept; past that the cache starts over (the catalog of a province fits).
const MAX_ENTRIES: usize = 50_000;

#[derive(Default)]
pub struct CatalogCache {
    generation: AtomicI64,
    checked_at_ms: AtomicI64,
    entries: RwLock<HashMap<String, Arc<str>>>,
}

impl CatalogCache {
    /// Whether the generation needs re-reading at `now_ms`.
    pub fn stale(&self, now_ms: i64) -> bool {
        now_ms - self.checked_at_ms.load(Ordering::Relaxed) >= 1000
    }
    /// Records the store's generation; clears entries when it moved.
    pub fn observe(&self, generation: i64, now_ms: i64) {
        self.checked_at_ms.store(now_ms, Ordering::Relaxed);
        if self.generation.load(Ordering::Acquire) == generation {
            return;
        }
        // The swap happens under the write lock so that `put_for` (which checks the generation
        // under the same lock) can never insert an entry of the old generation after the clear.
        if let Ok(mut e) = self.entries.write() {
            self.generation.store(generation, Ordering::Release);
            e.clear();
        }
    }
    /// Re-reads the store's catalog generation when the last check is a second old, dropping
    /// every entry if it moved. Call before `get`; remember `generation()` before a load and
    /// store its result with `put_for`.
    pub async fn refresh(
        &self,
        store: &yiwang_store::Store,
        now_ms: i64,
    ) -> Result<(), yiwang_store::StoreError> {
        if self.stale(now_ms) {
            let generation = store.catalog_generation().await?;
            self.observe(generation, now_ms);
        }
        Ok(())
    }
    /// The generation entries currently belong to.
    pub fn generation(&self) -> i64 {
        self.generation.load(Ordering::Acquire)
    }
    pub fn get(&self, key: &str) -> Option<Arc<str>> {
        self.entries.read().ok()?.get(key).cloned()
    }
    pub fn put(&self, key: String, body: Arc<str>) {
        if let Ok(mut e) = self.entries.write() {
            Self::insert(&mut e, key, body);
        }
    }
    /// Inserts `body`, read while the cache was at `generation`, unless the generation has
    /// moved since: then the body may be outdated and is not kept.
    pub fn put_for(&self, generation: i64, key: &str, body: Arc<str>) {
        if let Ok(mut e) = self.entries.write()
            && self.generation.load(Ordering::Acquire) == generation
        {
            Self::insert(&mut e, key.to_string(), body);
        }
    }
    fn insert(e: &mut HashMap<String, Arc<str>>, key: String, body: Arc<str>) {
        if e.len() >= MAX_ENTRIES {
            e.clear();
        }
        e.insert(key, body);
    }
    /// Drops everything now (after a publish in this process).
    pub fn clear(&self) {
        if let Ok(mut e) = self.entries.write() {
            e.clear();
        }
        self.checked_at_ms.store(0, Ordering::Relaxed);
    }
    pub fn len(&self) -> usize {
        self.entries.read().map(|e| e.len()).unwrap_or(0)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_moves_drop_entries() {
        let c = CatalogCache::default();
        assert!(c.stale(5_000));
        c.observe(1, 5_000);
        assert!(!c.stale(5_999));
        assert!(c.stale(6_000));
        c.put("a".into(), "1".into());
        c.observe(1, 6_000);
        assert_eq!(c.get("a").as_deref(), Some("1"));
        c.observe(2, 7_000);
        assert!(c.get("a").is_none());
    }

    #[test]
    fn late_puts_of_an_old_generation_are_dropped() {
        let c = CatalogCache::default();
        c.observe(3, 1_000);
        let g = c.generation();
        c.observe(4, 2_000);
        c.put_for(g, "x", "old".into());
        assert!(c.get("x").is_none());
        c.put_for(c.generation(), "x", "new".into());
        assert_eq!(c.get("x").as_deref(), Some("new"));
        c.clear();
        assert!(c.is_empty());
        assert!(c.stale(2_001));
    }
}
