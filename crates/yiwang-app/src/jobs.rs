//! The background-job runner: handlers registered by kind, jobs claimed from the database queue
//! (`yiwang_store::jobs`), failures retried with capped exponential backoff, and a loop that runs
//! every background pass (jobs, the notification dispatcher, …) until asked to stop.
//!
//! Register a handler with a closure:
//!
//! ```text
//! runner.register("case.escalate_overdue", move |job: Job, now_ms: i64| {
//!     let store = store.clone();
//!     async move { escalate(&store, &job.payload, now_ms).await.map_err(JobError::from) }
//! });
//! ```
//!
//! Handlers must be idempotent: a job whose worker dies is claimed again when its lease ends.
//! A handler that wants its effect and its completion in one transaction calls
//! `yiwang_store::jobs::complete_in` itself (the runner's own completion then finds nothing to do).

use crate::clock::Clock;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use yiwang_store::{Job, Store, StoreError};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How a handler failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Worth trying again later (receiver down, database busy…).
    #[error("{0}")]
    Retry(String),
    /// Will never succeed: the job is given up at once.
    #[error("{0}")]
    GiveUp(String),
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        JobError::Retry(e.to_string())
    }
}

/// Work for one job kind. Closures `Fn(Job, i64) -> impl Future<Output = Result<(), JobError>>`
/// implement it.
pub trait JobHandler: Send + Sync + 'static {
    fn run(&self, job: Job, now_ms: i64) -> BoxFuture<'static, Result<(), JobError>>;
}

impl<F, Fut> JobHandler for F
where
    F: Fn(Job, i64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), JobError>> + Send + 'static,
{
    fn run(&self, job: Job, now_ms: i64) -> BoxFuture<'static, Result<(), JobError>> {
        Box::pin(self(job, now_ms))
    }
}

/// Retry timing: `base · 2^(attempt-1)`, at most `cap`, plus up to 10 % spread derived from the
/// id (so a receiver coming back is not hit by every message at once); given up after
/// `max_attempts` attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base_ms: i64,
    pub cap_ms: i64,
    pub max_attempts: i64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base_ms: 10_000,
            cap_ms: 3_600_000,
            max_attempts: 12,
        }
    }
}

impl Backoff {
    /// Delay after failed attempt number `attempt` (1 = the first).
    pub fn delay_ms(&self, attempt: i64, salt: i64) -> i64 {
        let shift = u32::try_from(attempt.saturating_sub(1).clamp(0, 40)).unwrap_or(40);
        let raw = self.base_ms.max(1).saturating_mul(1i64 << shift);
        let delay = raw.min(self.cap_ms.max(1));
        let spread = delay / 10;
        let jitter = if spread > 0 {
            salt.wrapping_mul(7919).rem_euclid(spread)
        } else {
            0
        };
        delay.saturating_add(jitter)
    }

    /// When to try again after failed attempt `attempt`, or `None` to give up.
    pub fn retry_at(&self, attempt: i64, now_ms: i64, salt: i64) -> Option<i64> {
        (attempt < self.max_attempts).then(|| now_ms.saturating_add(self.delay_ms(attempt, salt)))
    }
}

/// A name for this process's workers in lease records: `<pid>-<n>`.
pub fn worker_name(role: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{role}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// One round of some background work: does what is due at `now_ms`, returns how many items it
/// handled. The loop in [`spawn`] calls each pass in turn.
pub trait Pass: Send + Sync + 'static {
    fn name(&self) -> &str;
    fn run_once(&self, now_ms: i64) -> BoxFuture<'_, Result<usize, StoreError>>;
    /// Most items one call handles (a pass that handled this many is called again at once).
    fn batch(&self) -> usize;
}

struct Registered {
    handler: Arc<dyn JobHandler>,
    backoff: Backoff,
}

/// Runs queued jobs with the handlers registered for their kinds.
pub struct JobRunner {
    store: Store,
    handlers: HashMap<String, Registered>,
    /// Kinds run once per period: `(kind, period_ms)`.
    schedules: Vec<(String, i64)>,
    /// Retry timing for jobs of a kind nobody registered (another version may know it).
    unknown_backoff: Backoff,
    worker: String,
    lease_ms: i64,
    batch: usize,
}

impl JobRunner {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            handlers: HashMap::new(),
            schedules: Vec::new(),
            unknown_backoff: Backoff::default(),
            worker: worker_name("jobs"),
            lease_ms: 5 * 60_000,
            batch: 100,
        }
    }

    /// How long a claimed job is this worker's; a handler still running then is cut off and
    /// the job retried.
    pub fn lease_ms(mut self, ms: i64) -> Self {
        self.lease_ms = ms.max(1);
        self
    }

    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch = n.max(1);
        self
    }

    /// Registers the handler of `kind` with the default [`Backoff`].
    pub fn register(&mut self, kind: &str, handler: impl JobHandler) -> &mut Self {
        self.register_with(kind, Backoff::default(), handler)
    }

    pub fn register_with(
        &mut self,
        kind: &str,
        backoff: Backoff,
        handler: impl JobHandler,
    ) -> &mut Self {
        self.handlers.insert(
            kind.to_string(),
            Registered {
                handler: Arc::new(handler),
                backoff,
            },
        );
        self
    }

    /// Registers `kind` to run once every `period_ms` (at the start of each period), by one
    /// worker among all processes: each round enqueues the job of the current period under the
    /// dedup key `every:<kind>:<period number>`. For scans such as "escalate overdue cases".
    pub fn every(&mut self, kind: &str, period_ms: i64, handler: impl JobHandler) -> &mut Self {
        self.schedules.push((kind.to_string(), period_ms.max(1)));
        self.register(kind, handler)
    }

    async fn enqueue_scheduled(&self, now_ms: i64) -> Result<(), StoreError> {
        for (kind, period) in &self.schedules {
            let slot = now_ms.div_euclid(*period);
            let key = format!("every:{kind}:{slot}");
            let payload = serde_json::json!({ "period_start_ms": slot.saturating_mul(*period) });
            self.store
                .enqueue_job(kind, &payload, slot.saturating_mul(*period), Some(&key))
                .await?;
        }
        Ok(())
    }

    pub fn kinds(&self) -> Vec<&str> {
        let mut k: Vec<&str> = self.handlers.keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }

    /// Runs the jobs due at `now_ms` (at most one batch); returns how many were run.
    pub async fn run_once(&self, now_ms: i64) -> Result<usize, StoreError> {
        self.enqueue_scheduled(now_ms).await?;
        let mut processed = 0;
        while processed < self.batch {
            let Some(job) = self
                .store
                .claim_job(now_ms, self.lease_ms, &self.worker)
                .await?
            else {
                break;
            };
            processed += 1;
            self.run_job(job, now_ms).await?;
        }
        Ok(processed)
    }

    async fn run_job(&self, job: Job, now_ms: i64) -> Result<(), StoreError> {
        let Some(reg) = self.handlers.get(&job.kind) else {
            let err = format!("no handler for job kind {}", job.kind);
            tracing::warn!(job = job.id, kind = %job.kind, "{err}");
            let retry = self.unknown_backoff.retry_at(job.attempts, now_ms, job.id);
            self.store.fail_job(&job, &err, retry, now_ms).await?;
            return Ok(());
        };
        // In a task of its own: a panicking handler fails its job, not the runner; a handler
        // outliving its lease is cut off.
        let fut = reg.handler.run(job.clone(), now_ms);
        let limit = Duration::from_millis(u64::try_from(self.lease_ms).unwrap_or(u64::MAX));
        let task = tokio::spawn(fut);
        let abort = task.abort_handle();
        let outcome = match tokio::time::timeout(limit, task).await {
            Ok(Ok(r)) => r,
            Ok(Err(join)) => Err(JobError::Retry(format!("handler failed: {join}"))),
            Err(_) => {
                abort.abort();
                Err(JobError::Retry("handler timed out".into()))
            }
        };
        match outcome {
            Ok(()) => {
                self.store.complete_job(&job, now_ms).await?;
            }
            Err(JobError::Retry(e)) => {
                let retry = reg.backoff.retry_at(job.attempts, now_ms, job.id);
                if retry.is_none() {
                    tracing::warn!(job = job.id, kind = %job.kind, error = %e, "job given up");
                }
                self.store.fail_job(&job, &e, retry, now_ms).await?;
            }
            Err(JobError::GiveUp(e)) => {
                tracing::warn!(job = job.id, kind = %job.kind, error = %e, "job given up");
                self.store.fail_job(&job, &e, None, now_ms).await?;
            }
        }
        Ok(())
    }
}

impl Pass for JobRunner {
    fn name(&self) -> &str {
        "jobs"
    }
    fn run_once(&self, now_ms: i64) -> BoxFuture<'_, Result<usize, StoreError>> {
        Box::pin(JobRunner::run_once(self, now_ms))
    }
    fn batch(&self) -> usize {
        self.batch
    }
}

/// The running background loop; [`Background::stop`] ends it after the pass in progress.
pub struct Background {
    stop: tokio::sync::watch::Sender<bool>,
    handle: tokio::task::JoinHandle<()>,
}

impl Background {
    /// Asks the loop to stop and waits until the item in progress is finished and recorded.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.handle.await;
    }
}

/// Runs every pass in turn with the clock's time, again at once while some pass had a full
/// batch, else after `poll`; until [`Background::stop`].
pub fn spawn(passes: Vec<Arc<dyn Pass>>, clock: Arc<dyn Clock>, poll: Duration) -> Background {
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let handle = tokio::spawn(async move {
        loop {
            let mut busy = false;
            for p in &passes {
                if *stopped.borrow() {
                    return;
                }
                match p.run_once(clock.now_ms()).await {
                    Ok(n) => busy |= n >= p.batch(),
                    Err(e) => {
                        tracing::error!(pass = p.name(), error = %e, "background pass failed")
                    }
                }
            }
            if busy {
                tokio::task::yield_now().await;
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = stopped.changed() => return,
            }
        }
    });
    Background { stop, handle }
}
