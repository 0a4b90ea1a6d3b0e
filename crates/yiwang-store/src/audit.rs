//! The tamper-evident audit log. Every entry stores the hash of the previous one, so altering,
//! deleting or reordering entries breaks the chain. Entries are appended inside the same
//! transaction as the business write they record, so a rolled-back write leaves no entry.
//! Checking the chain lives in `audit_verify`.

use crate::rows::{get_i64, get_str};
use crate::{Store, StoreError};
use sm3::{Digest, Sm3};
use sqlx::Row;
use yiwang_domain::policy::Principal;

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Digest algorithm of new entries (recorded per entry so others stay possible).
pub const AUDIT_ALG: &str = "sm3";

/// What happened, by whom, to what.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct AuditEvent {
    pub actor_id: Option<i64>,
    /// Username, or `system` / `anonymous`.
    pub actor: String,
    /// A stable key such as `login.success`, `catalog.publish`.
    pub action: String,
    /// What was acted on, e.g. `implementation:1112…` or `user:zhangsan`.
    pub object: String,
    pub detail: String,
    /// Client address, when known.
    pub client: String,
}

/// Who performs an audited write: a signed-in account, or the system (command line, demo loader).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Actor {
    pub id: Option<i64>,
    /// Username, or `system`.
    pub name: String,
    /// Client address for web requests (empty when unknown); `cli:<os user>` for the command line.
    pub client: String,
}

impl Actor {
    /// The platform itself (demo loading, maintenance), with where it was started from.
    pub fn system(client: impl Into<String>) -> Self {
        Self {
            id: None,
            name: "system".to_string(),
            client: client.into(),
        }
    }

    /// A signed-in staff member; `client` is the request's address, or empty when unknown.
    pub fn principal(p: &Principal, client: impl Into<String>) -> Self {
        Self {
            id: Some(p.user_id),
            name: p.username.clone(),
            client: client.into(),
        }
    }

    /// The event this actor performs.
    pub fn event(
        &self,
        action: impl Into<String>,
        object: impl Into<String>,
        detail: impl Into<String>,
    ) -> AuditEvent {
        AuditEvent {
            actor_id: self.id,
            actor: self.name.clone(),
            action: action.into(),
            object: object.into(),
            detail: detail.into(),
            client: self.client.clone(),
        }
    }
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: i64,
    pub event: AuditEvent,
    pub alg: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// Recomputes this entry's hash from its stored fields.
    pub fn recomputed_hash(&self) -> String {
        entry_hash(&self.alg, self.seq, self.at, &self.event, &self.prev_hash)
    }
}

fn field(h: &mut Sm3, s: &str) {
    h.update((s.len() as u64).to_be_bytes());
    h.update(s.as_bytes());
}

/// The entry hash: SM3 over the algorithm name, the previous hash and every field, each
/// length-prefixed; hex. The name is covered so an entry cannot be relabelled with another
/// algorithm once several are known.
pub fn entry_hash(alg: &str, seq: i64, at: i64, e: &AuditEvent, prev_hash: &str) -> String {
    hex::encode(entry_digest(alg, seq, at, e, prev_hash))
}

/// [`entry_hash`] as bytes.
pub fn entry_digest(alg: &str, seq: i64, at: i64, e: &AuditEvent, prev_hash: &str) -> [u8; 32] {
    let mut h = Sm3::new();
    field(&mut h, alg);
    field(&mut h, prev_hash);
    h.update(seq.to_be_bytes());
    h.update(at.to_be_bytes());
    h.update(e.actor_id.unwrap_or(-1).to_be_bytes());
    for s in [&e.actor, &e.action, &e.object, &e.detail, &e.client] {
        field(&mut h, s);
    }
    h.finalize().into()
}

/// Benchmark baselines only (cargo feature `baseline`): a switch that skips audit entries, so a
/// benchmark can measure what auditing costs by running the same load with and without it.
/// Without the feature the switch does not exist and the check is a constant `false`.
pub mod baseline {
    #[cfg(feature = "baseline")]
    static UNAUDITED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

    /// Turns skipping audit entries on or off for the whole process (benchmarks only).
    #[cfg(feature = "baseline")]
    pub fn set_unaudited(on: bool) {
        UNAUDITED.store(on, std::sync::atomic::Ordering::SeqCst);
    }

    #[cfg(feature = "baseline")]
    pub(crate) fn unaudited() -> bool {
        UNAUDITED.load(std::sync::atomic::Ordering::Relaxed)
    }

    #[cfg(not(feature = "baseline"))]
    pub(crate) const fn unaudited() -> bool {
        false
    }
}

/// Appends `event` inside `tx`. The head row update serialises appenders; call this late in a
/// long transaction so the head is held briefly.
pub async fn append_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    at: i64,
    event: &AuditEvent,
) -> Result<i64, StoreError> {
    if baseline::unaudited() {
        return Ok(0);
    }
    let head = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut **tx)
        .await?;
    let seq = get_i64(&head, "seq")?;
    let prev = get_str(&head, "hash")?;
    let hash = entry_hash(AUDIT_ALG, seq, at, event, &prev);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor_id, actor, action, object, detail, client, alg, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(seq)
    .bind(at)
    .bind(event.actor_id)
    .bind(event.actor.clone())
    .bind(event.action.clone())
    .bind(event.object.clone())
    .bind(event.detail.clone())
    .bind(event.client.clone())
    .bind(AUDIT_ALG)
    .bind(prev)
    .bind(hash.clone())
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(hash)
        .execute(&mut **tx)
        .await?;
    Ok(seq)
}

/// Appends many events inside `tx` at once, in order: the head moves once, the entries go in
/// with multi-row inserts (a group commit appends its whole batch this way, so the head is held
/// only for these statements and the commit).
pub async fn append_many_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    events: &[(i64, AuditEvent)],
) -> Result<(), StoreError> {
    if baseline::unaudited() || events.is_empty() {
        return Ok(());
    }
    let n = i64::try_from(events.len()).map_err(|_| StoreError::Corrupt("batch size".into()))?;
    let head = sqlx::query("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
        .bind(n)
        .fetch_one(&mut **tx)
        .await?;
    let mut seq = get_i64(&head, "seq")? - n;
    let mut prev = get_str(&head, "hash")?;
    // 11 values a row; 100 rows a statement stays far below every backend's parameter limit.
    for chunk in events.chunks(100) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|r| {
                let cols: Vec<String> = (1..=11).map(|c| format!("${}", r * 11 + c)).collect();
                format!("({})", cols.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO audit_log (seq, at, actor_id, actor, action, object, detail, client, alg, prev_hash, hash) \
             VALUES {}",
            rows.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (at, event) in chunk {
            seq += 1;
            let hash = entry_hash(AUDIT_ALG, seq, *at, event, &prev);
            q = q
                .bind(seq)
                .bind(*at)
                .bind(event.actor_id)
                .bind(event.actor.clone())
                .bind(event.action.clone())
                .bind(event.object.clone())
                .bind(event.detail.clone())
                .bind(event.client.clone())
                .bind(AUDIT_ALG)
                .bind(std::mem::replace(&mut prev, hash.clone()))
                .bind(hash);
        }
        q.execute(&mut **tx).await?;
    }
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(prev)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A short, bounded description of a list of codes for an entry's detail: the count, the first
/// `CODES_SHOWN` codes, and an SM3 digest over all of them (one per line) so the entry still
/// commits to the full list.
pub fn codes_summary(codes: &[String]) -> serde_json::Value {
    let mut h = Sm3::new();
    for c in codes {
        h.update(c.as_bytes());
        h.update(b"\n");
    }
    serde_json::json!({
        "count": codes.len(),
        "codes": codes.iter().take(CODES_SHOWN).collect::<Vec<_>>(),
        "codes_sm3": hex::encode(h.finalize()),
    })
}

/// Codes listed verbatim in an entry's detail; longer lists are covered by the digest.
pub const CODES_SHOWN: usize = 200;

/// Which entries to list: by actor and/or object prefix, after a sequence number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor_id: Option<i64>,
    /// Entries whose object starts with this, e.g. `user:` or `implementation:1112…`.
    pub object_prefix: Option<String>,
    /// Entries about this case: object `case:<number>` or `case:<number>:…` (served by an
    /// index, unlike a prefix).
    pub case_number: Option<String>,
    /// Only entries with a larger sequence number (0 for the start); pass the last `seq` of the
    /// previous page to get the next one.
    pub after_seq: i64,
    /// When set, list newest first, only entries with a smaller sequence number (the
    /// `after_seq` cursor is then ignored): the audit page's "earlier entries".
    pub before_seq: Option<i64>,
    /// At most this many entries (clamped to 1..=1000).
    pub limit: i64,
}

pub(crate) const ENTRY_COLUMNS: &str =
    "seq, at, actor_id, actor, action, object, detail, client, alg, prev_hash, hash";

/// Decodes a row selected with [`ENTRY_COLUMNS`], by position.
pub(crate) fn entry_from(row: &sqlx::any::AnyRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        seq: row.try_get(0)?,
        at: row.try_get(1)?,
        event: AuditEvent {
            actor_id: row.try_get(2)?,
            actor: row.try_get(3)?,
            action: row.try_get(4)?,
            object: row.try_get(5)?,
            detail: row.try_get(6)?,
            client: row.try_get(7)?,
        },
        alg: row.try_get(8)?,
        prev_hash: row.try_get(9)?,
        hash: row.try_get(10)?,
    })
}

impl Store {
    /// Appends one event in its own transaction (for events with no other write, e.g. a failed login).
    pub async fn audit(&self, at: i64, event: &AuditEvent) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let seq = append_in(&mut tx, at, event).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Appends several events in one transaction (one business fact recorded per data subject,
    /// e.g. a feed page read: one entry per case whose personal data it carried).
    pub async fn audit_many(&self, events: &[(i64, AuditEvent)]) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        append_many_in(&mut tx, events).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Entries in sequence order matching `filter`, one page at a time.
    pub async fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        let limit = filter.limit.clamp(1, 1000);
        let prefix = filter.object_prefix.clone().unwrap_or_default();
        // A case's entries: the `case_ref` index narrows to them (and pages by `seq`).
        let case = if filter.case_number.is_some() {
            " AND case_ref = $6"
        } else {
            ""
        };
        // `substr` rather than LIKE: SQLite's LIKE ignores ASCII case and both treat `%`/`_`.
        // Both directions are keyset scans of the primary key.
        let (sql, cursor) = match filter.before_seq {
            None => (
                format!(
                    "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq > $1{case} \
                     AND ($2 = 0 OR actor_id = $3) \
                     AND ($4 = '' OR substr(object, 1, length($4)) = $4) \
                     ORDER BY seq LIMIT $5"
                ),
                filter.after_seq,
            ),
            Some(before) => (
                format!(
                    "SELECT {ENTRY_COLUMNS} FROM audit_log WHERE seq < $1{case} \
                     AND ($2 = 0 OR actor_id = $3) \
                     AND ($4 = '' OR substr(object, 1, length($4)) = $4) \
                     ORDER BY seq DESC LIMIT $5"
                ),
                before,
            ),
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(cursor)
            .bind(i64::from(filter.actor_id.is_some()))
            .bind(filter.actor_id.unwrap_or(0))
            .bind(prefix)
            .bind(limit);
        if let Some(n) = &filter.case_number {
            q = q.bind(format!("case:{n}"));
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(entry_from).collect()
    }

    /// How many entries the log holds.
    pub async fn audit_count(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM audit_log")
            .fetch_one(&self.pool)
            .await?;
        get_i64(&row, "n")
    }
}
