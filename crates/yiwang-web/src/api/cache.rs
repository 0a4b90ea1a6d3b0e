//! Cached JSON of published implementations. Entries are dropped when the store's catalog
//! generation moves (checked at most once a second), so several processes stay consistent.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Default)]
pub struct CatalogCache {
    generation: AtomicI64,
    checked_at_ms: AtomicI64,
    entries: RwLock<HashMap<String, bytes_like::Body>>,
}

mod bytes_like {
    pub type Body = std::sync::Arc<str>;
}

impl CatalogCache {
    /// Whether the generation needs re-reading at `now_ms`.
    pub fn stale(&self, now_ms: i64) -> bool {
        now_ms - self.checked_at_ms.load(Ordering::Relaxed) >= 1000
    }
    /// Records the store's generation; clears entries when it moved.
    pub fn observe(&self, generation: i64, now_ms: i64) {
        self.checked_at_ms.store(now_ms, Ordering::Relaxed);
        if self.generation.swap(generation, Ordering::Relaxed) != generation
            && let Ok(mut e) = self.entries.write()
        {
            e.clear();
        }
    }
    pub fn get(&self, key: &str) -> Option<std::sync::Arc<str>> {
        self.entries.read().ok()?.get(key).cloned()
    }
    pub fn put(&self, key: String, body: std::sync::Arc<str>) {
        if let Ok(mut e) = self.entries.write() {
            if e.len() > 50_000 {
                e.clear();
            }
            e.insert(key, body);
        }
    }
    /// Drops everything now (after a publish in this process).
    pub fn clear(&self) {
        if let Ok(mut e) = self.entries.write() {
            e.clear();
        }
        self.checked_at_ms.store(0, Ordering::Relaxed);
    }
}
