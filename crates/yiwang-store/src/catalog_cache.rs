//! Published implementations, application forms and workflow bindings kept in memory, checked
//! against the catalog generation. Every application page, upload and submission reads the
//! implementation it is for (five statements each time), its form and (on submission) its
//! workflow; catalog, form and workflow changes are rare, and every one bumps the generation.
//!
//! Freshness: this process's own catalog writes clear the cache as they commit; another
//! process's writes are seen within [`GENERATION_CHECK_MS`] (the generation is re-read at most
//! that often), the same bound the search index keeps.

use crate::catalog_read::PublishedImplementation;
use crate::form_defs::ResolvedForm;
use crate::{Store, StoreError};
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use yiwang_domain::workflow::Binding;
use yiwang_domain::{BasicCode, ImplCode};

/// How long a read of the catalog generation is trusted.
pub const GENERATION_CHECK_MS: u64 = 1_000;
/// Most entries kept per kind; that kind starts over when full.
const CAPACITY: usize = 20_000;

/// Entries of one kind, each with the generation it was read under.
type Entries<K, V> = HashMap<K, (i64, Arc<V>)>;
/// Forms and workflow bindings are looked up by implementation and standard item code.
type Pair = (String, String);

fn pair(impl_code: &ImplCode, basic_code: &BasicCode) -> Pair {
    (
        impl_code.as_str().to_string(),
        basic_code.as_str().to_string(),
    )
}

#[derive(Default)]
struct Inner {
    /// Counts clears, so a generation read that raced this process's own write is not kept.
    epoch: u64,
    /// The generation last read, and when.
    generation: Option<(i64, Instant)>,
    entries: Entries<String, PublishedImplementation>,
    forms: Entries<Pair, ResolvedForm>,
    bindings: Entries<Pair, Vec<Binding>>,
}

fn lookup<K, Q, V>(map: &Entries<K, V>, key: &Q, generation: i64) -> Option<Arc<V>>
where
    K: Borrow<Q> + Eq + Hash,
    Q: Eq + Hash + ?Sized,
{
    map.get(key)
        .filter(|(gen_of, _)| *gen_of == generation)
        .map(|(_, v)| v.clone())
}

fn keep<K: Eq + Hash, V>(map: &mut Entries<K, V>, key: K, generation: i64, v: Arc<V>) {
    if map.len() >= CAPACITY {
        map.clear();
    }
    map.insert(key, (generation, v));
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
            let epoch = g.epoch.wrapping_add(1);
            *g = Inner {
                epoch,
                ..Inner::default()
            };
        }
    }

    fn epoch(&self) -> Option<u64> {
        self.inner.lock().ok().map(|g| g.epoch)
    }

    fn fresh_generation(&self) -> Option<i64> {
        let g = self.inner.lock().ok()?;
        let (generation, at) = g.generation?;
        (at.elapsed() < Duration::from_millis(GENERATION_CHECK_MS)).then_some(generation)
    }

    /// Runs `f` on the entries under the lock (`None` when the lock is poisoned: a miss).
    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> Option<R> {
        self.inner.lock().ok().map(|mut g| f(&mut g))
    }

    fn get(&self, code: &str, generation: i64) -> Option<Arc<PublishedImplementation>> {
        self.with(|g| lookup(&g.entries, code, generation))
            .flatten()
    }

    fn put(&self, code: &str, generation: i64, p: Arc<PublishedImplementation>) {
        self.with(|g| keep(&mut g.entries, code.to_string(), generation, p));
    }

    /// Keeps the generation read from the database, unless this process changed the catalog
    /// while it was being read (`epoch` taken before the read).
    fn set_generation(&self, generation: i64, epoch: Option<u64>) {
        self.with(|g| {
            if Some(g.epoch) == epoch {
                g.generation = Some((generation, Instant::now()));
            }
        });
    }
}

impl Store {
    /// The catalog generation, read at most once per [`GENERATION_CHECK_MS`].
    async fn recent_catalog_generation(&self) -> Result<i64, StoreError> {
        if let Some(g) = self.catalog_cache.fresh_generation() {
            return Ok(g);
        }
        let epoch = self.catalog_cache.epoch();
        let g = self.catalog_generation().await?;
        self.catalog_cache.set_generation(g, epoch);
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

    /// The form an application of `impl_code` uses (see
    /// [`Store::form_definition_for_uncached`]), from memory when nothing changed since it was
    /// read.
    pub async fn form_definition_for(
        &self,
        impl_code: &ImplCode,
        basic_code: &BasicCode,
    ) -> Result<ResolvedForm, StoreError> {
        let generation = self.recent_catalog_generation().await?;
        let key = pair(impl_code, basic_code);
        let cache = &self.catalog_cache;
        if let Some(hit) = cache.with(|g| lookup(&g.forms, &key, generation)).flatten() {
            return Ok((*hit).clone());
        }
        let found = self
            .form_definition_for_uncached(impl_code, basic_code)
            .await?;
        let kept = Arc::new(found.clone());
        cache.with(|g| keep(&mut g.forms, key, generation, kept));
        Ok(found)
    }

    /// The workflow definitions bound to an implementation, its handling items or its
    /// standard item, from memory when nothing changed since they were read.
    pub async fn workflow_bindings_for(
        &self,
        impl_code: &ImplCode,
        basic_code: &BasicCode,
    ) -> Result<Vec<Binding>, StoreError> {
        Ok((*self.workflow_bindings_shared(impl_code, basic_code).await?).clone())
    }

    /// [`Store::workflow_bindings_for`] without copying the definitions (a submission copies
    /// only the one it follows).
    pub(crate) async fn workflow_bindings_shared(
        &self,
        impl_code: &ImplCode,
        basic_code: &BasicCode,
    ) -> Result<Arc<Vec<Binding>>, StoreError> {
        let generation = self.recent_catalog_generation().await?;
        let key = pair(impl_code, basic_code);
        let cache = &self.catalog_cache;
        if let Some(hit) = cache
            .with(|g| lookup(&g.bindings, &key, generation))
            .flatten()
        {
            return Ok(hit);
        }
        let found = Arc::new(
            self.workflow_bindings_for_uncached(impl_code, basic_code)
                .await?,
        );
        cache.with(|g| keep(&mut g.bindings, key, generation, found.clone()));
        Ok(found)
    }

    /// Called after this process committed a catalog change.
    pub(crate) fn catalog_changed(&self) {
        self.catalog_cache.clear();
    }
}
