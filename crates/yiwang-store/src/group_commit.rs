//! Group commit: concurrent business writes share one transaction and one durable commit.
//!
//! Each write runs in its own savepoint, so one that fails (a version conflict, a refused
//! step) is rolled back alone while the others commit together. A caller hears back only after
//! the shared commit returned: nothing is reported done before it is durable, and a failed
//! commit fails every write of the batch. There is no background task: the caller that takes
//! the leader lock runs everything queued so far (leader/follower), and the batch runs in a
//! spawned task holding that lock, so a request cancelled mid-batch aborts nobody's write.
//!
//! Why: on SQLite every writer otherwise takes its turn through the busy handler (which sleeps),
//! and on both backends each case would pay its own commit (an fsync) and its own turn on the
//! audit head row. One writer with one commit per batch removes all three.

use crate::audit::AuditEvent;
use crate::{Store, StoreError};
use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// The shared transaction a grouped write runs in (inside its own savepoint).
pub type WriteTx = sqlx::Transaction<'static, sqlx::Any>;

/// What a grouped write gets: the shared transaction, and the batch's audit entries, appended
/// together just before the commit (the audit head is then held for three statements a batch
/// rather than three a write). A write that fails takes its entries with it.
pub struct Batch {
    pub tx: WriteTx,
    audits: Vec<(i64, AuditEvent)>,
}

impl Batch {
    /// Records `event` at `at` in the audit log, in this write's order, with the batch.
    pub fn audit(&mut self, at: i64, event: AuditEvent) {
        self.audits.push((at, event));
    }
}

/// A write's future, borrowing the batch.
pub type WriteFuture<'t, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 't>>;

type Output = Box<dyn Any + Send>;
type Work = Box<dyn for<'t> FnOnce(&'t mut Batch) -> WriteFuture<'t, Output> + Send>;

struct Pending {
    work: Work,
    reply: oneshot::Sender<Result<Output, StoreError>>,
}

/// Most writes in one transaction; more wait for the next batch.
pub const MAX_BATCH: usize = 256;

/// The queue of writes waiting for a leader, and the leader lock. One per store (shared by its
/// clones).
#[derive(Default)]
pub struct GroupCommit {
    queue: Mutex<Vec<Pending>>,
    leader: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit").finish_non_exhaustive()
    }
}

fn lost() -> StoreError {
    StoreError::Batch("the batch ended without an answer".into())
}

impl Store {
    /// Runs `work` in a savepoint of a shared transaction and returns its result once that
    /// transaction has committed. `work` must not use the pool for writes (it would wait for
    /// the lock the batch holds); reads through the pool see only committed data.
    pub(crate) async fn grouped<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut Batch) -> WriteFuture<'t, T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let work: Work = Box::new(move |b: &mut Batch| -> WriteFuture<'_, Output> {
            let fut = work(b);
            Box::pin(async move { fut.await.map(|v| Box::new(v) as Output) })
        });
        self.group
            .queue
            .lock()
            .map_err(|_| lost())?
            .push(Pending { work, reply });
        let mut answer = answer;
        loop {
            let guard = self.group.leader.clone().lock_owned().await;
            // While waiting, an earlier leader may have run this write.
            match answer.try_recv() {
                Ok(r) => return downcast(r),
                Err(oneshot::error::TryRecvError::Closed) => return Err(lost()),
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
            let batch: Vec<Pending> = {
                let mut q = self.group.queue.lock().map_err(|_| lost())?;
                let n = q.len().min(MAX_BATCH);
                q.drain(..n).collect()
            };
            if batch.is_empty() {
                // Taken by a leader whose batch has not answered yet; wait for it.
                drop(guard);
                return downcast(answer.await.map_err(|_| lost())?);
            }
            let pool = self.pool.clone();
            let run = tokio::spawn(async move {
                run_batch(&pool, batch).await;
                drop(guard);
            });
            // A panic in the batch drops its replies; the answer below then says so.
            let _ = run.await;
            match answer.try_recv() {
                Ok(r) => return downcast(r),
                Err(oneshot::error::TryRecvError::Closed) => return Err(lost()),
                // This write was beyond MAX_BATCH: lead the next batch.
                Err(oneshot::error::TryRecvError::Empty) => continue,
            }
        }
    }
}

fn downcast<T: 'static>(r: Result<Output, StoreError>) -> Result<T, StoreError> {
    r.and_then(|b| {
        b.downcast::<T>()
            .map(|b| *b)
            .map_err(|_| StoreError::Batch("unexpected answer type".into()))
    })
}

async fn run_batch(pool: &sqlx::AnyPool, batch: Vec<Pending>) {
    let tx = match pool.begin().await {
        Ok(tx) => tx,
        Err(e) => {
            let msg = e.to_string();
            for p in batch {
                let _ = p.reply.send(Err(StoreError::Batch(msg.clone())));
            }
            return;
        }
    };
    let mut b = Batch {
        tx,
        audits: Vec::new(),
    };
    let mut done: Vec<(oneshot::Sender<_>, Result<Output, StoreError>)> =
        Vec::with_capacity(batch.len());
    let mut broken: Option<String> = None;
    for p in batch {
        if let Some(msg) = &broken {
            let _ = p.reply.send(Err(StoreError::Batch(msg.clone())));
            continue;
        }
        if let Err(e) = sqlx::query("SAVEPOINT grouped").execute(&mut *b.tx).await {
            broken = Some(e.to_string());
            let _ = p.reply.send(Err(e.into()));
            continue;
        }
        let mark = b.audits.len();
        let r = (p.work)(&mut b).await;
        if r.is_err() {
            b.audits.truncate(mark);
        }
        let end = if r.is_ok() {
            "RELEASE SAVEPOINT grouped"
        } else {
            "ROLLBACK TO SAVEPOINT grouped"
        };
        let mut closed = sqlx::query(end).execute(&mut *b.tx).await.map(|_| ());
        if r.is_err() && closed.is_ok() {
            // ROLLBACK TO keeps the savepoint open; release it so they do not pile up.
            closed = sqlx::query("RELEASE SAVEPOINT grouped")
                .execute(&mut *b.tx)
                .await
                .map(|_| ());
        }
        if let Err(e) = closed {
            broken = Some(e.to_string());
        }
        done.push((p.reply, r));
    }
    if broken.is_none()
        && let Err(e) = crate::audit::append_many_in(&mut b.tx, &b.audits).await
    {
        broken = Some(e.to_string());
    }
    let committed = match broken {
        Some(msg) => Err(msg),
        None => b.tx.commit().await.map_err(|e| e.to_string()),
    };
    for (reply, r) in done {
        let r = match (&committed, r) {
            (Ok(()), r) => r,
            // A write that failed on its own keeps its own error.
            (Err(_), Err(e)) => Err(e),
            (Err(msg), Ok(_)) => Err(StoreError::Batch(msg.clone())),
        };
        let _ = reply.send(r);
    }
}
