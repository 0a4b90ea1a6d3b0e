//! Throttling and lockout of sign-in attempts, shared by every process through the database.
//!
//! Counters are keyed by account (`account:<username>`, whether or not the account exists, so the
//! answers do not reveal which usernames are real) and by client address (`addr:<address>`).
//! An account key that reaches its limit is locked until an administrator unlocks it; an address
//! key only blocks until its window ends. Every failure is written to the audit log in the same
//! transaction as the counter.

use crate::audit::{AuditEvent, append_in};
use crate::rows::{get_i64, get_opt_i64, get_str};
use crate::{Store, StoreError};
use yiwang_domain::policy::Principal;

/// A limit: `limit` failures within `window_ms`; `lock` makes reaching it a lasting lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    pub limit: i64,
    pub window_ms: i64,
    pub lock: bool,
}

/// Whether another attempt may be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// Locked until an administrator unlocks it.
    Locked,
    /// Too many failures; try again after this many milliseconds.
    Limited {
        retry_after_ms: i64,
    },
}

pub fn account_key(username: &str) -> String {
    format!("account:{username}")
}

pub fn address_key(client: &str) -> String {
    format!("addr:{client}")
}

/// An account that is locked, for the administrators' list.
#[derive(Debug, Clone)]
pub struct LockedAccount {
    pub principal: Principal,
    pub locked_at: i64,
}

/// One failed attempt to record: who was named, from where, at which step, when.
#[derive(Debug, Clone)]
pub struct Failure<'a> {
    pub username: &'a str,
    pub user_id: Option<i64>,
    pub client: &'a str,
    /// `password`, `totp`, `locked`, `throttled`…
    pub reason: &'a str,
    pub now_ms: i64,
}

fn gate_of(
    window_start: i64,
    failures: i64,
    locked_at: Option<i64>,
    t: Throttle,
    now: i64,
) -> Gate {
    if locked_at.is_some() {
        return Gate::Locked;
    }
    let window_end = window_start + t.window_ms;
    if failures >= t.limit && window_end > now {
        Gate::Limited {
            retry_after_ms: window_end - now,
        }
    } else {
        Gate::Open
    }
}

impl Store {
    /// The current gate of `key` (no write).
    pub async fn throttle_gate(
        &self,
        key: &str,
        t: Throttle,
        now_ms: i64,
    ) -> Result<Gate, StoreError> {
        let row = sqlx::query(
            "SELECT window_start, failures, locked_at FROM auth_throttle WHERE throttle_key = $1",
        )
        .bind(key.to_string())
        .fetch_optional(&self.pool)
        .await?;
        match row {
            None => Ok(Gate::Open),
            Some(r) => Ok(gate_of(
                get_i64(&r, "window_start")?,
                get_i64(&r, "failures")?,
                get_opt_i64(&r, "locked_at")?,
                t,
                now_ms,
            )),
        }
    }

    /// Counts a failure against the account and the address and audits it; returns the gates
    /// after counting (account, address).
    pub async fn record_login_failure(
        &self,
        f: &Failure<'_>,
        account: Throttle,
        address: Throttle,
    ) -> Result<(Gate, Gate), StoreError> {
        let mut tx = self.begin_write().await?;
        let a = bump(&mut tx, &account_key(f.username), account, f.now_ms).await?;
        let b = bump(&mut tx, &address_key(f.client), address, f.now_ms).await?;
        append_in(
            &mut tx,
            f.now_ms,
            &AuditEvent {
                actor_id: f.user_id,
                actor: f.username.to_string(),
                action: "login.failure".into(),
                object: format!("user:{}", f.username),
                detail: f.reason.to_string(),
                client: f.client.to_string(),
            },
        )
        .await?;
        if a.1 {
            append_in(
                &mut tx,
                f.now_ms,
                &AuditEvent {
                    actor_id: f.user_id,
                    actor: f.username.to_string(),
                    action: "login.locked".into(),
                    object: format!("user:{}", f.username),
                    detail: format!("{} failures", account.limit),
                    client: f.client.to_string(),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok((a.0, b.0))
    }

    /// Forgets the failures of a key that is not locked (after a complete sign-in).
    pub async fn throttle_clear(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM auth_throttle WHERE throttle_key = $1 AND locked_at IS NULL")
            .bind(key.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Lifts the lock (and the failure count) of an existing account; `false` if there is no
    /// such account. `actor` names the administrator (or `system` for the command line).
    pub async fn unlock_account(
        &self,
        username: &str,
        actor_id: Option<i64>,
        actor: &str,
        client: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let staff = sqlx::query("SELECT id FROM users WHERE username = $1")
            .bind(username.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        // Applicants are named by their handle (`applicant-<id>`), never by personal data.
        let applicant = !staff
            && sqlx::query("SELECT id FROM applicants WHERE handle = $1")
                .bind(username.to_string())
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
        if !staff && !applicant {
            return Ok(false);
        }
        let object = if staff {
            format!("user:{username}")
        } else {
            format!("applicant:{username}")
        };
        sqlx::query("DELETE FROM auth_throttle WHERE throttle_key = $1")
            .bind(account_key(username))
            .execute(&mut *tx)
            .await?;
        append_in(
            &mut tx,
            now_ms,
            &AuditEvent {
                actor_id,
                actor: actor.to_string(),
                action: "account.unlock".into(),
                object,
                detail: String::new(),
                client: client.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Existing accounts that are locked, oldest lock first.
    pub async fn locked_accounts(&self) -> Result<Vec<LockedAccount>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, t.locked_at FROM auth_throttle t JOIN users u \
             ON t.throttle_key = 'account:' || u.username \
             WHERE t.locked_at IS NOT NULL ORDER BY t.locked_at, u.id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            if let Some(principal) = self.principal(get_i64(r, "id")?).await? {
                out.push(LockedAccount {
                    principal,
                    locked_at: get_i64(r, "locked_at")?,
                });
            }
        }
        Ok(out)
    }

    /// Whether the account `username` is locked.
    pub async fn account_locked(&self, username: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT locked_at FROM auth_throttle WHERE throttle_key = $1")
            .bind(account_key(username))
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => get_opt_i64(&r, "locked_at")?.is_some(),
            None => false,
        })
    }

    /// The id of an account by username (enabled or not).
    pub async fn user_id_by_username(&self, username: &str) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT id FROM users WHERE username = $1")
            .bind(username.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| get_i64(&r, "id")).transpose()
    }
}

/// Counts one failure of `key` inside `tx`; returns the gate after counting and whether this
/// failure locked the key.
async fn bump(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    key: &str,
    t: Throttle,
    now_ms: i64,
) -> Result<(Gate, bool), StoreError> {
    let row = sqlx::query(
        "INSERT INTO auth_throttle (throttle_key, window_start, failures) VALUES ($1, $2, 1) \
         ON CONFLICT (throttle_key) DO UPDATE SET \
         failures = CASE WHEN auth_throttle.window_start <= $3 THEN 1 ELSE auth_throttle.failures + 1 END, \
         window_start = CASE WHEN auth_throttle.window_start <= $3 THEN $2 ELSE auth_throttle.window_start END \
         RETURNING throttle_key, window_start, failures, locked_at",
    )
    .bind(key.to_string())
    .bind(now_ms)
    .bind(now_ms - t.window_ms)
    .fetch_one(&mut **tx)
    .await?;
    let _ = get_str(&row, "throttle_key")?;
    let window_start = get_i64(&row, "window_start")?;
    let failures = get_i64(&row, "failures")?;
    let mut locked_at = get_opt_i64(&row, "locked_at")?;
    let mut newly_locked = false;
    if t.lock && locked_at.is_none() && failures >= t.limit {
        sqlx::query("UPDATE auth_throttle SET locked_at = $1 WHERE throttle_key = $2")
            .bind(now_ms)
            .bind(key.to_string())
            .execute(&mut **tx)
            .await?;
        locked_at = Some(now_ms);
        newly_locked = true;
    }
    Ok((
        gate_of(window_start, failures, locked_at, t, now_ms),
        newly_locked,
    ))
}

impl Store {
    /// Counts one attempt against `key` (e.g. registrations from one address) and returns the
    /// gate after counting; no audit entry (the caller audits what succeeded).
    pub async fn count_attempt(
        &self,
        key: &str,
        t: Throttle,
        now_ms: i64,
    ) -> Result<Gate, StoreError> {
        let mut tx = self.begin_write().await?;
        let (gate, _) = bump(&mut tx, key, t, now_ms).await?;
        tx.commit().await?;
        Ok(gate)
    }
}
