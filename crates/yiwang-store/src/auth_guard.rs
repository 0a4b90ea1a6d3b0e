//! Throttling and lockout of sign-in attempts, shared by every process through the database.
//!
//! Counters are keyed by account (`account:<username>`, whether or not the account exists, so the
//! answers do not reveal which usernames are real) and by client address (`addr:<address>`).
//!
//! An attempt is *reserved* before the password or code is checked: one statement counts it
//! only while the key is neither locked nor at its limit, so parallel requests can never get
//! more real checks than the limit. A wrong answer keeps the reservation as a failure (and the
//! failure that reaches the limit locks an account key); a right one gives it back.
//!
//! A lock ends by itself: the first lasts fifteen minutes, each further lock in a row twice as
//! long (at most a day). A complete sign-in, a password reset or an administrator starts over.
//! An address key only blocks until its window ends. Every failure is written to the audit log
//! in the same transaction as the lock.

use crate::audit::{AuditEvent, append_in};
use crate::rows::{get_i64, get_opt_i64, get_str};
use crate::{Store, StoreError};
use yiwang_domain::policy::Principal;

/// A limit: `limit` failures within `window_ms`; `lock` makes reaching it a lock.
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
    /// Locked; the lock ends after this many milliseconds (or when lifted).
    Locked {
        retry_after_ms: i64,
    },
    /// Too many failures; try again after this many milliseconds.
    Limited {
        retry_after_ms: i64,
    },
}

impl Gate {
    pub fn is_locked(self) -> bool {
        matches!(self, Gate::Locked { .. })
    }
}

/// How long the lock number `n` (0 = the first in a row) lasts: 15 minutes, doubled each time,
/// at most a day.
pub const LOCK_MS: [i64; 8] = [
    900_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000, 57_600_000, 86_400_000,
];

/// `locked_until` of a lock taken at `$1` given the key's `lock_count`, in SQL.
fn lock_end_sql() -> String {
    let mut s = String::from("$1 + CASE lock_count");
    for (n, ms) in LOCK_MS.iter().enumerate() {
        s.push_str(&format!(" WHEN {n} THEN {ms}"));
    }
    s.push_str(&format!(" ELSE {} END", LOCK_MS[LOCK_MS.len() - 1]));
    s
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
    pub locked_until: i64,
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
    locked_until: Option<i64>,
    t: Throttle,
    now: i64,
) -> Gate {
    if let Some(until) = locked_until.filter(|u| *u > now) {
        return Gate::Locked {
            retry_after_ms: until - now,
        };
    }
    let window_end = window_start + t.window_ms;
    let lock_over = locked_until.is_some();
    if failures >= t.limit && window_end > now && !lock_over {
        Gate::Limited {
            retry_after_ms: window_end - now,
        }
    } else {
        Gate::Open
    }
}

/// Why a reservation was refused, read after the fact (a race may have opened the key again
/// meanwhile: then "wait a moment").
fn refused(g: Gate) -> Gate {
    match g {
        Gate::Open => Gate::Limited {
            retry_after_ms: 1_000,
        },
        other => other,
    }
}

/// The columns a gate is computed from.
const GATE_COLUMNS: &str = "window_start, failures, locked_until";

fn gate_of_row(r: &sqlx::any::AnyRow, t: Throttle, now: i64) -> Result<Gate, StoreError> {
    Ok(gate_of(
        get_i64(r, "window_start")?,
        get_i64(r, "failures")?,
        get_opt_i64(r, "locked_until")?,
        t,
        now,
    ))
}

/// One attempt to reserve: whose account (the throttle name), from where, when.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub username: &'a str,
    pub user_id: Option<i64>,
    pub client: &'a str,
    pub now_ms: i64,
}

/// A locked applicant account, for the administrators' list (named by its handle only).
#[derive(Debug, Clone)]
pub struct LockedApplicant {
    pub handle: String,
    /// The surname and stars (a person) or the organisation's name.
    pub masked_name: String,
    pub locked_at: i64,
    pub locked_until: i64,
}

impl Store {
    /// The current gate of `key` (no write).
    pub async fn throttle_gate(
        &self,
        key: &str,
        t: Throttle,
        now_ms: i64,
    ) -> Result<Gate, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {GATE_COLUMNS} FROM auth_throttle WHERE throttle_key = $1"
        )))
        .bind(key.to_string())
        .fetch_optional(&self.pool)
        .await?;
        match row {
            None => Ok(Gate::Open),
            Some(r) => gate_of_row(&r, t, now_ms),
        }
    }

    /// Reserves one attempt against `key` in one statement: counted only while the key is not
    /// locked and below its limit (a window that ended, or a lock that ended, starts over).
    /// `Gate::Open` when reserved; otherwise why not (nothing counted).
    pub async fn reserve_attempt(
        &self,
        key: &str,
        t: Throttle,
        now_ms: i64,
    ) -> Result<Gate, StoreError> {
        let fresh = "(auth_throttle.window_start <= $3 OR auth_throttle.locked_until <= $2)";
        let sql = format!(
            "INSERT INTO auth_throttle (throttle_key, window_start, failures, lock_count) \
             VALUES ($1, $2, 1, 0) ON CONFLICT (throttle_key) DO UPDATE SET \
             failures = CASE WHEN {fresh} THEN 1 ELSE auth_throttle.failures + 1 END, \
             window_start = CASE WHEN {fresh} THEN $2 ELSE auth_throttle.window_start END, \
             locked_at = CASE WHEN auth_throttle.locked_until <= $2 THEN NULL ELSE auth_throttle.locked_at END, \
             locked_until = CASE WHEN auth_throttle.locked_until <= $2 THEN NULL ELSE auth_throttle.locked_until END \
             WHERE (auth_throttle.locked_until IS NULL OR auth_throttle.locked_until <= $2) \
             AND ({fresh} OR auth_throttle.failures < $4) \
             RETURNING failures"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(key.to_string())
            .bind(now_ms)
            .bind(now_ms - t.window_ms)
            .bind(t.limit)
            .fetch_optional(&self.pool)
            .await?;
        if row.is_some() {
            return Ok(Gate::Open);
        }
        Ok(refused(self.throttle_gate(key, t, now_ms).await?))
    }

    /// Reserves an attempt for the client address, then for the account. `Gate::Open` when
    /// both are reserved; otherwise the refusal, audited as a failure (`throttled` or
    /// `locked`). A refused account still costs the address its reservation, so a locked
    /// account is no free guessing ground.
    pub async fn begin_attempt(
        &self,
        a: &Attempt<'_>,
        account: Throttle,
        address: Throttle,
    ) -> Result<Gate, StoreError> {
        let addr = self
            .reserve_attempt(&address_key(a.client), address, a.now_ms)
            .await?;
        let gate = if addr == Gate::Open {
            self.reserve_attempt(&account_key(a.username), account, a.now_ms)
                .await?
        } else {
            addr
        };
        if gate != Gate::Open {
            let reason = if gate.is_locked() {
                "locked"
            } else {
                "throttled"
            };
            let e = failure_event(a.username, a.user_id, a.client, "login.failure", reason);
            self.audit(a.now_ms, &e).await?;
        }
        Ok(gate)
    }

    /// A reserved attempt failed: it stays counted; the failure that reaches the limit locks
    /// the account (for the next delay in the row). Audited. Returns the gates after (account,
    /// address).
    pub async fn attempt_failed(
        &self,
        f: &Failure<'_>,
        account: Throttle,
        address: Throttle,
    ) -> Result<(Gate, Gate), StoreError> {
        let key = account_key(f.username);
        let mut tx = self.begin_write().await?;
        // The write comes first, so the transaction holds the write lock from its start.
        let locked = if account.lock {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE auth_throttle SET locked_at = $1, locked_until = {}, \
                 lock_count = lock_count + 1 WHERE throttle_key = $2 AND failures >= $3 \
                 AND (locked_until IS NULL OR locked_until <= $1) RETURNING lock_count",
                lock_end_sql()
            )))
            .bind(f.now_ms)
            .bind(key.clone())
            .bind(account.limit)
            .fetch_optional(&mut *tx)
            .await?
        } else {
            None
        };
        let e = failure_event(f.username, f.user_id, f.client, "login.failure", f.reason);
        append_in(&mut tx, f.now_ms, &e).await?;
        if let Some(r) = &locked {
            let n = get_i64(r, "lock_count")?;
            let detail = format!("{} failures; lock {n}", account.limit);
            let e = failure_event(f.username, f.user_id, f.client, "login.locked", &detail);
            append_in(&mut tx, f.now_ms, &e).await?;
        }
        tx.commit().await?;
        Ok((
            self.throttle_gate(&key, account, f.now_ms).await?,
            self.throttle_gate(&address_key(f.client), address, f.now_ms)
                .await?,
        ))
    }

    /// A reserved attempt succeeded: gives the reservation back to each key.
    pub async fn release_attempt(&self, keys: &[&str]) -> Result<(), StoreError> {
        for key in keys {
            sqlx::query(
                "UPDATE auth_throttle SET failures = failures - 1 \
                 WHERE throttle_key = $1 AND failures > 0",
            )
            .bind(key.to_string())
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    /// Counts a failure against the account and the address and audits it; returns the gates
    /// after counting (account, address). (Without a reservation: for attempts that were
    /// refused before any check, and for tools.)
    pub async fn record_login_failure(
        &self,
        f: &Failure<'_>,
        account: Throttle,
        address: Throttle,
    ) -> Result<(Gate, Gate), StoreError> {
        let mut tx = self.begin_write().await?;
        let a = bump(&mut tx, &account_key(f.username), account, f.now_ms).await?;
        let b = bump(&mut tx, &address_key(f.client), address, f.now_ms).await?;
        let e = failure_event(f.username, f.user_id, f.client, "login.failure", f.reason);
        append_in(&mut tx, f.now_ms, &e).await?;
        if a.1 {
            let detail = format!("{} failures", account.limit);
            let e = failure_event(f.username, f.user_id, f.client, "login.locked", &detail);
            append_in(&mut tx, f.now_ms, &e).await?;
        }
        tx.commit().await?;
        Ok((a.0, b.0))
    }

    /// Forgets the failures (and the run of locks) of a key that is not locked now (after a
    /// complete sign-in).
    pub async fn throttle_clear(&self, key: &str, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM auth_throttle WHERE throttle_key = $1 \
             AND (locked_until IS NULL OR locked_until <= $2)",
        )
        .bind(key.to_string())
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Lifts the lock (and the failure count) of an existing account — staff by username,
    /// applicant by handle; `false` if there is no such account. `actor` names the
    /// administrator (or `system` for the command line).
    pub async fn unlock_account(
        &self,
        username: &str,
        actor_id: Option<i64>,
        actor: &str,
        client: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let staff = sqlx::query("SELECT id FROM users WHERE username = $1")
            .bind(username.to_string())
            .fetch_optional(&self.pool)
            .await?
            .is_some();
        // Applicants are named by their handle (`applicant-<id>`), never by personal data.
        let applicant = !staff
            && sqlx::query("SELECT id FROM applicants WHERE handle = $1")
                .bind(username.to_string())
                .fetch_optional(&self.pool)
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
        let mut tx = self.begin_write().await?;
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

    /// Staff accounts locked at `now_ms`, oldest lock first.
    pub async fn locked_accounts(&self, now_ms: i64) -> Result<Vec<LockedAccount>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, t.locked_at, t.locked_until FROM auth_throttle t JOIN users u \
             ON t.throttle_key = 'account:' || u.username \
             WHERE t.locked_until > $1 ORDER BY t.locked_at, u.id",
        )
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            if let Some(principal) = self.principal(get_i64(r, "id")?).await? {
                out.push(LockedAccount {
                    principal,
                    locked_at: get_opt_i64(r, "locked_at")?.unwrap_or(now_ms),
                    locked_until: get_i64(r, "locked_until")?,
                });
            }
        }
        Ok(out)
    }

    /// Applicant accounts locked at `now_ms`, oldest lock first.
    pub async fn locked_applicants(&self, now_ms: i64) -> Result<Vec<LockedApplicant>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.id, a.handle, a.kind, a.display_name, a.legal_rep, t.locked_at, \
             t.locked_until FROM auth_throttle t JOIN applicants a \
             ON t.throttle_key = 'account:' || a.handle \
             WHERE t.locked_until > $1 ORDER BY t.locked_at, a.id",
        )
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let a = crate::applicants::applicant_of(r)?;
            out.push(LockedApplicant {
                masked_name: a.masked_name(),
                handle: a.handle,
                locked_at: get_opt_i64(r, "locked_at")?.unwrap_or(now_ms),
                locked_until: get_i64(r, "locked_until")?,
            });
        }
        Ok(out)
    }

    /// Whether the account `username` (staff username or applicant handle) is locked at
    /// `now_ms`.
    pub async fn account_locked(&self, username: &str, now_ms: i64) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT locked_until FROM auth_throttle WHERE throttle_key = $1")
            .bind(account_key(username))
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => get_opt_i64(&r, "locked_until")?.is_some_and(|u| u > now_ms),
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

/// Prefix of the throttle names of applicant numbers without an account.
pub const UNKNOWN_APPLICANT: &str = "applicant-unknown";

fn failure_event(
    username: &str,
    user_id: Option<i64>,
    client: &str,
    action: &str,
    detail: &str,
) -> AuditEvent {
    // The append-only log never keeps a digest of a number nobody registered.
    let username = if username.starts_with(UNKNOWN_APPLICANT) {
        UNKNOWN_APPLICANT
    } else {
        username
    };
    AuditEvent {
        actor_id: user_id,
        actor: username.to_string(),
        action: action.into(),
        object: format!("user:{username}"),
        detail: detail.to_string(),
        client: client.to_string(),
    }
}

/// Counts one failure of `key` inside `tx` (a window or a lock that ended starts over); returns
/// the gate after counting and whether this failure locked the key.
async fn bump(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    key: &str,
    t: Throttle,
    now_ms: i64,
) -> Result<(Gate, bool), StoreError> {
    let fresh = "(auth_throttle.window_start <= $3 OR auth_throttle.locked_until <= $2)";
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO auth_throttle (throttle_key, window_start, failures, lock_count) \
         VALUES ($1, $2, 1, 0) ON CONFLICT (throttle_key) DO UPDATE SET \
         failures = CASE WHEN {fresh} THEN 1 ELSE auth_throttle.failures + 1 END, \
         window_start = CASE WHEN {fresh} THEN $2 ELSE auth_throttle.window_start END, \
         locked_at = CASE WHEN auth_throttle.locked_until <= $2 THEN NULL ELSE auth_throttle.locked_at END, \
         locked_until = CASE WHEN auth_throttle.locked_until <= $2 THEN NULL ELSE auth_throttle.locked_until END \
         RETURNING throttle_key, {GATE_COLUMNS}"
    )))
    .bind(key.to_string())
    .bind(now_ms)
    .bind(now_ms - t.window_ms)
    .fetch_one(&mut **tx)
    .await?;
    let _ = get_str(&row, "throttle_key")?;
    let failures = get_i64(&row, "failures")?;
    let mut newly_locked = false;
    if t.lock && get_opt_i64(&row, "locked_until")?.is_none() && failures >= t.limit {
        newly_locked = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE auth_throttle SET locked_at = $1, locked_until = {}, \
             lock_count = lock_count + 1 WHERE throttle_key = $2 RETURNING lock_count",
            lock_end_sql()
        )))
        .bind(now_ms)
        .bind(key.to_string())
        .fetch_optional(&mut **tx)
        .await?
        .is_some();
    }
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {GATE_COLUMNS} FROM auth_throttle WHERE throttle_key = $1"
    )))
    .bind(key.to_string())
    .fetch_one(&mut **tx)
    .await?;
    Ok((gate_of_row(&row, t, now_ms)?, newly_locked))
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
