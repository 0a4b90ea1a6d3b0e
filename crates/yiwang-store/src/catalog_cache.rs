//! Published implementations kept in memory, keyed by code and checked against the catalog
//! generation. Every application page, upload and submission reads the implementation it is
//! for (five statements each time); catalog changes are rare.
//!
//! Freshness: this process's own catalog writes clear the cache as they commit; another
//! process's writes are seen within [`GENERATION_CHECK_MS`] (the generation is re-read at most
//! that often), the same bound the search index keeps.

use crate::catalog_read::PublishedImplementation;
use crate::{Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use yiwang_domain::ImplCode;

/// How long a read of the catalog generation is trusted.
pub const GENERATION_CHECK_MS: u64 = 1_000;
/// Most implementations kept; the cache starts over when full.
const CAPACITY: usize = 20_000;

#[derive(Default)]
struct Inner {
    /// The generation last read, and when.
    generation: Option<(i64, Instant)>,
    entries: HashMap<String, (i64, Arc<PublishedImplementation>)>,
}

#[derive(Default)]
pub(crate) struct CatalogCache {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for CatalogCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogCache").finish_non_exhaustive()
    }
}

impl CatalogCache {
    /// Forgets everything (called after this process changed the catalog).
    pub(crate) fn clear(&self) {
        if let Ok(mut g) = self.inner.lock() {
            *g = Inner::default();
        }
    }

    fn fresh_generation(&self) -> Option<i64> {
        let g = self.inner.lock().ok()?;
        let (generation, at) = g.generation?;
        (at.elapsed() < Duration::from_millis(GENERATION_CHECK_MS)).then_some(generation)
    }

    fn get(&self, code: &str, generation: i64) -> Option<Arc<PublishedImplementation>> {
        let g = self.inner.lock().ok()?;
        g.entries
            .get(code)
            .filter(|(gen_of, _)| *gen_of == generation)
            .map(|(_, p)| p.clone())
    }

    fn put(&self, code: &str, generation: i64, p: Arc<PublishedImplementation>) {
        if let Ok(mut g) = self.inner.lock() {
            if g.entries.len() >= CAPACITY {
                g.entries.clear();
            }
            g.entries.insert(code.to_string(), (generation, p));
        }
    }

    fn set_generation(&self, generation: i64) {
        if let Ok(mut g) = self.inner.lock() {
            g.generation = Some((generation, Instant::now()));
        }
    }
}

impl Store {
    /// The catalog generation, read at most once per [`GENERATION_CHECK_MS`].
    async fn recent_catalog_generation(&self) -> Result<i64, StoreError> {
        if let Some(g) = self.catalog_cache.fresh_generation() {
            return Ok(g);
        }
        let g = self.catalog_generation().await?;
        self.catalog_cache.set_generation(g);
        Ok(g)
    }

    /// The published version of an implementation, from memory when the catalog has not
    /// changed since it was read.
    pub async fn published_implementation(
        &self,
        code: &ImplCode,
    ) -> Result<Option<PublishedImplementation>, StoreError> {
        let generation = self.recent_catalog_generation().await?;
        if let Some(hit) = self.catalog_cache.get(code.as_str(), generation) {
            return Ok(Some((*hit).clone()));
        }
        let found = self.published_implementation_uncached(code).await?;
        if let Some(p) = &found {
            self.catalog_cache
                .put(code.as_str(), generation, Arc::new(p.clone()));
        }
        Ok(found)
    }

    /// Called after this process committed a catalog change.
    pub(crate) fn catalog_changed(&self) {
        self.catalog_cache.clear();
    }
}
