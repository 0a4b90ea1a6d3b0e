//! Group commit: concurrent business writes share one transaction and one durable commit.
//!
//! The batch's case writes are written set-based (`cases::bulk`: one multi-row statement per
//! table), each still deciding alone (a stale step answers `case_changed` and writes nothing).
//! When a statement of the set fails, the set is rolled back to a savepoint and every write
//! runs alone in its own savepoint, so one bad write is rolled back alone while the others
//! commit together. A caller hears back only after
//! the shared commit returned: nothing is reported done before it is durable, and a failed
//! commit fails every write of the batch. There is no background task: the caller that takes
//! the leader lock runs everything queued so far (leader/follower), and the batch runs in a
//! spawned task holding that lock, so a request cancelled mid-batch aborts nobody's write.
//!
//! Why: on SQLite every writer otherwise takes its turn through the busy handler (which sleeps),
//! and on both backends each case would pay its own commit (an fsync) and its own turn on the
//! audit head row. One writer with one commit per batch removes all three.

use crate::audit::AuditEvent;
use crate::cases::bulk::{self, BulkWrite};
use crate::{Store, StoreError};
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

/// A write's answer: the number of the case a submission created (`None` for a step, and for
/// a draft submitted before).
pub(crate) type Output = Option<yiwang_domain::case::CaseNumber>;

struct Pending {
    write: BulkWrite,
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
    /// Queues `write` for the next batch and returns its answer once that batch's transaction
    /// has committed.
    pub(crate) async fn grouped(&self, write: BulkWrite) -> Result<Output, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.group
            .queue
            .lock()
            .map_err(|_| lost())?
            .push(Pending { write, reply });
        let mut answer = answer;
        loop {
            let guard = self.group.leader.clone().lock_owned().await;
            // While waiting, an earlier leader may have run this write.
            match answer.try_recv() {
                Ok(r) => return r,
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
                return answer.await.map_err(|_| lost())?;
            }
            let pool = self.pool.clone();
            let backend = self.backend;
            let run = tokio::spawn(async move {
                run_batch(&pool, backend, batch).await;
                drop(guard);
            });
            // A panic in the batch drops its replies; the answer below then says so.
            let _ = run.await;
            match answer.try_recv() {
                Ok(r) => return r,
                Err(oneshot::error::TryRecvError::Closed) => return Err(lost()),
                // This write was beyond MAX_BATCH: lead the next batch.
                Err(oneshot::error::TryRecvError::Empty) => continue,
            }
        }
    }
}

async fn run_batch(pool: &sqlx::AnyPool, backend: crate::Backend, batch: Vec<Pending>) {
    let tx = match crate::begin_write(pool, backend).await {
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
    let (writes, replies): (Vec<BulkWrite>, Vec<_>) =
        batch.into_iter().map(|p| (p.write, p.reply)).unzip();
    let mut done: Vec<(oneshot::Sender<_>, Result<Output, StoreError>)> =
        Vec::with_capacity(writes.len());
    let mut alone = Vec::new();
    let mut broken: Option<String> = None;
    match in_savepoint(&mut b, &writes).await {
        Ok(Ok(answers)) => {
            for ((w, reply), a) in writes.into_iter().zip(replies).zip(answers) {
                match a {
                    Some(r) => done.push((reply, r)),
                    None => alone.push((w, reply)),
                }
            }
        }
        // A statement of the set failed: every write again, alone.
        Ok(Err(_)) => alone = writes.into_iter().zip(replies).collect(),
        Err(msg) => broken = Some(msg),
    }
    for (w, reply) in alone {
        if let Some(msg) = &broken {
            let _ = reply.send(Err(StoreError::Batch(msg.clone())));
            continue;
        }
        match in_savepoint(&mut b, std::slice::from_ref(&w)).await {
            Ok(Ok(mut answers)) => {
                done.push((
                    reply,
                    answers.pop().flatten().unwrap_or_else(|| Err(lost())),
                ));
            }
            Ok(Err(e)) => done.push((reply, Err(e))),
            Err(msg) => {
                broken = Some(msg.clone());
                let _ = reply.send(Err(StoreError::Batch(msg)));
            }
        }
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

/// Runs `writes` inside a savepoint: kept when they succeed, rolled back (with their audit
/// entries) when a statement fails. The outer error means the transaction itself is unusable.
async fn in_savepoint(
    b: &mut Batch,
    writes: &[BulkWrite],
) -> Result<Result<bulk::Answers, StoreError>, String> {
    sqlx::query("SAVEPOINT grouped")
        .execute(&mut *b.tx)
        .await
        .map_err(|e| e.to_string())?;
    let mark = b.audits.len();
    let r = bulk::run(b, writes).await;
    // A single write that refused (e.g. `case_changed`) wrote nothing; rolling back is harmless.
    let failed = match &r {
        Err(_) => true,
        Ok(a) => writes.len() == 1 && matches!(a.first(), Some(Some(Err(_)))),
    };
    if failed {
        b.audits.truncate(mark);
        sqlx::query("ROLLBACK TO SAVEPOINT grouped")
            .execute(&mut *b.tx)
            .await
            .map_err(|e| e.to_string())?;
    }
    // ROLLBACK TO keeps the savepoint open; release it so they do not pile up.
    sqlx::query("RELEASE SAVEPOINT grouped")
        .execute(&mut *b.tx)
        .await
        .map_err(|e| e.to_string())?;
    Ok(r)
}
