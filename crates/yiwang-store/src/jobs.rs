//! A job queue in the database: enqueued inside business transactions, claimed by any number of
//! worker processes on one database, retried with a time chosen by the caller, never lost.
//!
//! Claiming is one statement: on PostgreSQL the candidate row is picked with
//! `FOR UPDATE SKIP LOCKED` (two workers never wait for or take the same job); on SQLite the
//! single `UPDATE … RETURNING` runs under the database's write lock. A claimed job carries a
//! lease (`due_at` of a running job); a worker that dies lets the lease expire and the job is
//! claimed again, so handlers must be idempotent. `complete` and `fail` only act while the caller
//! still holds the lease it claimed (same worker, same attempt).

use crate::rows::{get_i64, get_opt_i64, get_opt_str, get_str, parse_stored};
use crate::{Backend, Store, StoreError};
use serde_json::Value;
use sqlx::AssertSqlSafe;
use yiwang_domain::ErrorCode;

/// Longest stored error text (characters).
const MAX_ERROR_CHARS: usize = 1000;
const MAX_KIND_CHARS: usize = 100;
const MAX_DEDUP_CHARS: usize = 200;

/// Lifecycle of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Done,
    /// Given up after its last failure.
    Dead,
}

impl JobState {
    pub fn key(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }
    pub fn from_key(k: &str) -> Option<Self> {
        Some(match k {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "done" => JobState::Done,
            "dead" => JobState::Dead,
            _ => return None,
        })
    }
}

/// A job as stored. A claimed job has `state == Running`, `attempts` counting this attempt, and
/// `due_at` = the end of its lease.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: Value,
    pub dedup_key: Option<String>,
    pub state: JobState,
    pub due_at: i64,
    pub attempts: i64,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    /// The run time first asked for.
    pub scheduled_at: i64,
    pub finished_at: Option<i64>,
}

const COLUMNS: &str = "id, kind, payload, dedup_key, state, due_at, attempts, locked_by, \
                       last_error, scheduled_at, finished_at";

fn job_from(row: &sqlx::any::AnyRow) -> Result<Job, StoreError> {
    let payload = get_str(row, "payload")?;
    let state = get_str(row, "state")?;
    Ok(Job {
        id: get_i64(row, "id")?,
        kind: get_str(row, "kind")?,
        payload: parse_stored("payload", &payload, |s| serde_json::from_str(s))?,
        dedup_key: get_opt_str(row, "dedup_key")?,
        state: parse_stored("state", &state, |s| JobState::from_key(s).ok_or(()))?,
        due_at: get_i64(row, "due_at")?,
        attempts: get_i64(row, "attempts")?,
        locked_by: get_opt_str(row, "locked_by")?,
        last_error: get_opt_str(row, "last_error")?,
        scheduled_at: get_i64(row, "scheduled_at")?,
        finished_at: get_opt_i64(row, "finished_at")?,
    })
}

pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        s.chars().take(max).collect()
    }
}

/// Enqueues a job inside `tx` (so it exists exactly when the business fact commits). Returns
/// the job's id; with a `dedup_key` already used (by a job still kept, in any state) nothing is
/// added and the existing job's id is returned.
pub async fn enqueue_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    kind: &str,
    payload: &Value,
    run_at_ms: i64,
    dedup_key: Option<&str>,
) -> Result<i64, StoreError> {
    if kind.trim().is_empty() || kind.chars().count() > MAX_KIND_CHARS {
        return Err(ErrorCode::InvalidInput.into());
    }
    if dedup_key.is_some_and(|k| k.is_empty() || k.chars().count() > MAX_DEDUP_CHARS) {
        return Err(ErrorCode::InvalidInput.into());
    }
    let text = serde_json::to_string(payload).map_err(|_| ErrorCode::InvalidInput)?;
    let row = sqlx::query(
        "INSERT INTO jobs (kind, payload, dedup_key, state, due_at, attempts, scheduled_at) \
         VALUES ($1, $2, $3, 'queued', $4, 0, $4) \
         ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
    )
    .bind(kind)
    .bind(text)
    .bind(dedup_key)
    .bind(run_at_ms)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(r) = row {
        return get_i64(&r, "id");
    }
    let existing = sqlx::query("SELECT id FROM jobs WHERE dedup_key = $1")
        .bind(dedup_key)
        .fetch_one(&mut **tx)
        .await?;
    get_i64(&existing, "id")
}

/// Marks a claimed job done inside the handler's own transaction (so its effect and its
/// completion commit together). `false` when the lease was lost (the job was claimed again).
pub async fn complete_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    job: &Job,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let res = sqlx::query(
        "UPDATE jobs SET state = 'done', finished_at = $1, locked_by = NULL \
         WHERE id = $2 AND state = 'running' AND attempts = $3 AND locked_by = $4",
    )
    .bind(now_ms)
    .bind(job.id)
    .bind(job.attempts)
    .bind(job.locked_by.as_deref())
    .execute(&mut **tx)
    .await?;
    Ok(res.rows_affected() == 1)
}

/// The claim statement shared by jobs and the outbox: pick the oldest due row (waiting, or
/// active under an expired lease) and take it, in one statement. On PostgreSQL the candidate is
/// locked with `FOR UPDATE SKIP LOCKED`. Placeholders: `$1` now, then those of `set`/`extra`.
pub(crate) struct ClaimSql<'a> {
    pub table: &'a str,
    pub status_col: &'a str,
    pub waiting: &'a str,
    pub active: &'a str,
    /// The `SET` list (must move the row to `active` and its `due_at` to the lease end).
    pub set: &'a str,
    /// Extra candidate filter, starting with ` AND`, or empty.
    pub extra: &'a str,
    pub returning: &'a str,
}

impl ClaimSql<'_> {
    pub fn build(&self, backend: Backend) -> String {
        let lock = match backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let ClaimSql {
            table,
            status_col: st,
            waiting,
            active,
            set,
            extra,
            returning,
        } = self;
        format!(
            "UPDATE {table} SET {set} WHERE id = (SELECT id FROM {table} \
             WHERE {st} IN ('{waiting}', '{active}') AND due_at <= $1{extra} \
             ORDER BY due_at, id LIMIT 1{lock}) \
             AND {st} IN ('{waiting}', '{active}') AND due_at <= $1 RETURNING {returning}"
        )
    }
}

impl Store {
    /// Enqueues a job in its own transaction (see [`enqueue_in`]).
    pub async fn enqueue_job(
        &self,
        kind: &str,
        payload: &Value,
        run_at_ms: i64,
        dedup_key: Option<&str>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = enqueue_in(&mut tx, kind, payload, run_at_ms, dedup_key).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Claims the oldest job due at `now_ms` (queued, or running under an expired lease) for
    /// `worker`, for `lease_ms`. Safe with many workers and processes on one database: each
    /// job is handed to one of them.
    pub async fn claim_job(
        &self,
        now_ms: i64,
        lease_ms: i64,
        worker: &str,
    ) -> Result<Option<Job>, StoreError> {
        let sql = ClaimSql {
            table: "jobs",
            status_col: "state",
            waiting: "queued",
            active: "running",
            set: "state = 'running', due_at = $2, locked_by = $3, attempts = attempts + 1",
            extra: "",
            returning: COLUMNS,
        }
        .build(self.backend);
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(now_ms)
            .bind(now_ms.saturating_add(lease_ms.max(1)))
            .bind(worker)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from).transpose()
    }

    /// Marks a claimed job done. `false` when the lease was lost meanwhile.
    pub async fn complete_job(&self, job: &Job, now_ms: i64) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let done = complete_in(&mut tx, job, now_ms).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Records a failed attempt: the job runs again at `retry_at_ms`, or with `None` is given up
    /// (state `dead`, kept for inspection). `false` when the lease was lost meanwhile.
    pub async fn fail_job(
        &self,
        job: &Job,
        error: &str,
        retry_at_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let (state, due, finished) = match retry_at_ms {
            Some(at) => ("queued", at, None),
            None => ("dead", now_ms, Some(now_ms)),
        };
        let res = sqlx::query(
            "UPDATE jobs SET state = $1, due_at = $2, finished_at = $3, last_error = $4, \
             locked_by = NULL \
             WHERE id = $5 AND state = 'running' AND attempts = $6 AND locked_by = $7",
        )
        .bind(state)
        .bind(due)
        .bind(finished)
        .bind(clip(error, MAX_ERROR_CHARS))
        .bind(job.id)
        .bind(job.attempts)
        .bind(job.locked_by.as_deref())
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected() == 1)
    }

    /// One job by id (for inspection and tests).
    pub async fn job(&self, id: i64) -> Result<Option<Job>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from).transpose()
    }

    /// Jobs of one kind, newest first, at most `limit` (for inspection and tests).
    pub async fn jobs_of_kind(&self, kind: &str, limit: i64) -> Result<Vec<Job>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM jobs WHERE kind = $1 ORDER BY id DESC LIMIT $2");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(kind)
            .bind(limit.clamp(1, 1000))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_from).collect()
    }

    /// Deletes finished jobs (done or dead) that finished before `before_ms`; returns how
    /// many. A dedup key is remembered as long as its job is kept, so keep finished jobs longer
    /// than any retry of the business action that enqueues them.
    pub async fn purge_finished_jobs(&self, before_ms: i64) -> Result<u64, StoreError> {
        let res =
            sqlx::query("DELETE FROM jobs WHERE state IN ('done', 'dead') AND finished_at < $1")
                .bind(before_ms)
                .execute(&self.pool)
                .await?;
        Ok(res.rows_affected())
    }
}
