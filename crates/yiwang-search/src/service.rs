//! The search service of a running process: opens (or builds) the index under the data
//! directory, notices catalog publications and edited search data through the store's
//! generations (checked at most every half second), and applies them: a publication
//! incrementally, a change of terms or life events by a rebuild.

use crate::engine::{Engine, SearchError};
use crate::life_event::{LifeEvent, SEED_LIFE_EVENTS, parse_seed};
use crate::terms::{SEED_TERMS, Term, TermKind, parse_terms};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;
use yiwang_store::{SearchSeed, Store};

/// How often the generations are re-read, at most.
pub const CHECK_EVERY_MS: i64 = 500;
/// Past this many changed implementations a publication rebuilds the index.
const INCREMENTAL_MAX: usize = 2_000;

/// What is kept beside an on-disk index to reopen it without rebuilding.
#[derive(Debug, Serialize, Deserialize)]
struct DiskState {
    index_dir: String,
    catalog_generation: i64,
    data_generation: i64,
    words: Vec<String>,
    versions: HashMap<String, i64>,
}

/// Figures of a full rebuild.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReindexStats {
    pub docs: usize,
    /// Reading the catalog from the database.
    pub load_secs: f64,
    /// Segmenting and indexing.
    pub index_secs: f64,
}

impl ReindexStats {
    pub fn docs_per_sec(&self) -> f64 {
        self.docs as f64 / (self.load_secs + self.index_secs).max(1e-9)
    }
}

#[derive(Default)]
struct Seen {
    catalog: i64,
    data: i64,
}

/// One per process; cheap to share (`Arc`).
pub struct SearchService {
    dir: Option<PathBuf>,
    engine: RwLock<Option<Arc<Engine>>>,
    seen: tokio::sync::Mutex<Seen>,
    checked_at_ms: AtomicI64,
}

impl std::fmt::Debug for SearchService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchService")
            .field("dir", &self.dir)
            .finish()
    }
}

/// The shipped seed in the store's terms.
pub fn seed() -> SearchSeed {
    let terms = parse_terms(SEED_TERMS).unwrap_or_default();
    let events = parse_seed(SEED_LIFE_EVENTS).unwrap_or_default();
    SearchSeed {
        terms: terms
            .into_iter()
            .map(|t| (t.kind.key().to_string(), t.phrase, t.expansion))
            .collect(),
        life_events: events
            .into_iter()
            .map(|e| {
                let json = serde_json::to_string(&e).unwrap_or_default();
                (e.code, e.name, e.region, json)
            })
            .collect(),
    }
}

/// The search data in the store (seeded on first use), checked: invalid rows are skipped.
pub async fn load_search_data(
    store: &Store,
    now_ms: i64,
) -> Result<(Vec<Term>, Vec<LifeEvent>), SearchError> {
    store.seed_search_data(&seed(), now_ms).await?;
    let terms = store
        .search_terms()
        .await?
        .into_iter()
        .filter_map(|r| {
            let kind = TermKind::from_key(&r.kind)?;
            Term::checked(kind, &r.phrase, &r.expansion).ok()
        })
        .collect();
    let mut events = Vec::new();
    for r in store.life_events().await? {
        match LifeEvent::parse(&r.definition) {
            Ok(e) => events.push(e),
            Err(p) => tracing::warn!(code = %r.code, problems = ?p, "life event skipped"),
        }
    }
    Ok((terms, events))
}

fn join_err(e: tokio::task::JoinError) -> SearchError {
    SearchError::State(format!("indexing task: {e}"))
}

impl SearchService {
    /// An index kept in memory (tests, tools), built on first use.
    pub fn in_memory() -> Self {
        Self {
            dir: None,
            engine: RwLock::new(None),
            seen: tokio::sync::Mutex::new(Seen::default()),
            checked_at_ms: AtomicI64::new(0),
        }
    }

    /// An index under `dir` (e.g. `<data>/search`), reopened at start when still current.
    pub fn on_disk(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: Some(dir.into()),
            ..Self::in_memory()
        }
    }

    fn current(&self) -> Option<Arc<Engine>> {
        self.engine.read().ok().and_then(|e| e.clone())
    }

    fn install(&self, e: Arc<Engine>) {
        if let Ok(mut slot) = self.engine.write() {
            *slot = Some(e);
        }
    }

    /// The engine, built or opened on first use and brought up to date when the store's
    /// generations moved (checked at most every [`CHECK_EVERY_MS`]). While another request
    /// is updating, the previous snapshot answers.
    pub async fn engine(&self, store: &Store, now_ms: i64) -> Result<Arc<Engine>, SearchError> {
        if let Some(e) = self.current() {
            if now_ms - self.checked_at_ms.load(Ordering::Relaxed) < CHECK_EVERY_MS {
                return Ok(e);
            }
            let Ok(mut seen) = self.seen.try_lock() else {
                return Ok(e);
            };
            self.checked_at_ms.store(now_ms, Ordering::Relaxed);
            self.update(store, &mut seen, now_ms).await?;
            return Ok(self.current().unwrap_or(e));
        }
        let mut seen = self.seen.lock().await;
        if let Some(e) = self.current() {
            return Ok(e);
        }
        self.checked_at_ms.store(now_ms, Ordering::Relaxed);
        if !self.reopen(store, &mut seen, now_ms).await? {
            self.rebuild(store, &mut seen, now_ms).await?;
        }
        self.current()
            .ok_or_else(|| SearchError::State("no index".into()))
    }

    /// Rebuilds the whole index now (`yiwang search reindex`).
    pub async fn reindex(&self, store: &Store, now_ms: i64) -> Result<ReindexStats, SearchError> {
        let mut seen = self.seen.lock().await;
        self.rebuild(store, &mut seen, now_ms).await
    }

    /// Checks the generations now and applies what changed.
    pub async fn refresh(&self, store: &Store, now_ms: i64) -> Result<(), SearchError> {
        if self.current().is_none() {
            self.engine(store, now_ms).await?;
            return Ok(());
        }
        let mut seen = self.seen.lock().await;
        self.checked_at_ms.store(now_ms, Ordering::Relaxed);
        self.update(store, &mut seen, now_ms).await
    }

    async fn update(&self, store: &Store, seen: &mut Seen, now_ms: i64) -> Result<(), SearchError> {
        let data = store.search_data_generation().await?;
        if data != seen.data {
            self.rebuild(store, seen, now_ms).await?;
            return Ok(());
        }
        let catalog = store.catalog_generation().await?;
        if catalog == seen.catalog {
            return Ok(());
        }
        let Some(engine) = self.current() else {
            self.rebuild(store, seen, now_ms).await?;
            return Ok(());
        };
        let now: HashMap<String, i64> = store.published_versions().await?.into_iter().collect();
        let had = engine.versions();
        let changed: Vec<&String> = now
            .iter()
            .filter(|(c, v)| had.get(*c) != Some(*v))
            .map(|(c, _)| c)
            .collect();
        let removed: Vec<String> = had
            .keys()
            .filter(|c| !now.contains_key(*c))
            .cloned()
            .collect();
        if changed.len() > INCREMENTAL_MAX {
            self.rebuild(store, seen, now_ms).await?;
            return Ok(());
        }
        let mut upserts = Vec::with_capacity(changed.len());
        for c in changed {
            let Ok(code) = yiwang_domain::ImplCode::parse(c) else {
                continue;
            };
            if let Some(p) = store.published_implementation(&code).await? {
                upserts.push(yiwang_store::IndexedImplementation::from(&p));
            }
        }
        let e = engine.clone();
        tokio::task::spawn_blocking(move || e.apply(&upserts, &removed))
            .await
            .map_err(join_err)??;
        seen.catalog = catalog;
        self.save_state(&engine, seen);
        Ok(())
    }

    async fn rebuild(
        &self,
        store: &Store,
        seen: &mut Seen,
        now_ms: i64,
    ) -> Result<ReindexStats, SearchError> {
        let started = Instant::now();
        // Generations first: a change that lands while loading is seen again next time.
        let data = store.search_data_generation().await?;
        let catalog = store.catalog_generation().await?;
        let ((terms, events), docs) = tokio::try_join!(load_search_data(store, now_ms), async {
            Ok(store.published_for_index().await?)
        })?;
        let load_secs = started.elapsed().as_secs_f64();
        let n = docs.len();
        let dir = self.dir.as_ref().map(|d| {
            // A new directory per build: the clock's millisecond and a process-wide sequence.
            static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let seq = SEQ.fetch_add(1, Ordering::Relaxed);
            d.join(format!("index-{now_ms}-{seq}"))
        });
        let t = Instant::now();
        let engine = tokio::task::spawn_blocking(move || {
            Engine::build(dir.as_deref(), docs, &terms, events)
        })
        .await
        .map_err(join_err)??;
        let index_secs = t.elapsed().as_secs_f64();
        let engine = Arc::new(engine);
        self.install(engine.clone());
        seen.catalog = catalog;
        seen.data = data;
        self.save_state(&engine, seen);
        Ok(ReindexStats {
            docs: n,
            load_secs,
            index_secs,
        })
    }

    /// Reopens the on-disk index when its generations are the store's.
    async fn reopen(
        &self,
        store: &Store,
        seen: &mut Seen,
        now_ms: i64,
    ) -> Result<bool, SearchError> {
        let Some(dir) = &self.dir else {
            return Ok(false);
        };
        let Ok(text) = std::fs::read_to_string(dir.join("state.json")) else {
            return Ok(false);
        };
        let Ok(state) = serde_json::from_str::<DiskState>(&text) else {
            return Ok(false);
        };
        let data = store.search_data_generation().await?;
        if state.data_generation != data {
            return Ok(false);
        }
        let (terms, events) = load_search_data(store, now_ms).await?;
        let index_dir = dir.join(&state.index_dir);
        let opened = tokio::task::spawn_blocking(move || {
            Engine::open(&index_dir, state.words, state.versions, &terms, events)
        })
        .await
        .map_err(join_err)?;
        match opened {
            Ok(Some(e)) => {
                self.install(Arc::new(e));
                seen.data = data;
                seen.catalog = state.catalog_generation;
                // Catch up with publications made while the process was down.
                self.update(store, seen, now_ms).await?;
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(e) => {
                tracing::warn!(error = %e, "search index not reopened; rebuilding");
                Ok(false)
            }
        }
    }

    fn save_state(&self, engine: &Engine, seen: &Seen) {
        let Some(dir) = &self.dir else { return };
        let Some(index_dir) = engine_dir(engine) else {
            return;
        };
        let state = DiskState {
            index_dir: index_dir.clone(),
            catalog_generation: seen.catalog,
            data_generation: seen.data,
            words: engine.words().to_vec(),
            versions: engine.versions(),
        };
        let write = || -> std::io::Result<()> {
            let tmp = dir.join("state.json.tmp");
            std::fs::write(&tmp, serde_json::to_vec(&state).unwrap_or_default())?;
            std::fs::rename(&tmp, dir.join("state.json"))?;
            // Older index directories are no longer needed.
            for entry in std::fs::read_dir(dir)? {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().to_string();
                if name.starts_with("index-") && name != index_dir {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
            Ok(())
        };
        if let Err(e) = write() {
            tracing::warn!(error = %e, "search index state not saved");
        }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }
}

/// The directory name of an on-disk engine's index.
fn engine_dir(engine: &Engine) -> Option<String> {
    engine.dir_name().map(str::to_string)
}
