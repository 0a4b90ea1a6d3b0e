//! The tamper-evident audit log. Every entry stores the hash of the previous one, so altering,
//! deleting or reordering entries breaks the chain. Entries are appended inside the same
//! transaction as the business write they record.

use crate::rows::{get_i64, get_str};
use crate::{Store, StoreError};
use sm3::{Digest, Sm3};

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

fn field(h: &mut Sm3, s: &str) {
    h.update((s.len() as u64).to_be_bytes());
    h.update(s.as_bytes());
}

/// The entry hash: SM3 over the previous hash and every field, each length-prefixed.
pub fn entry_hash(seq: i64, at: i64, e: &AuditEvent, prev_hash: &str) -> String {
    let mut h = Sm3::new();
    field(&mut h, prev_hash);
    h.update(seq.to_be_bytes());
    h.update(at.to_be_bytes());
    h.update(e.actor_id.unwrap_or(-1).to_be_bytes());
    for s in [&e.actor, &e.action, &e.object, &e.detail, &e.client] {
        field(&mut h, s);
    }
    hex::encode(h.finalize())
}

/// Appends `event` inside `tx`.
pub async fn append_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    at: i64,
    event: &AuditEvent,
) -> Result<i64, StoreError> {
    let head = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut **tx)
        .await?;
    let seq = get_i64(&head, "seq")?;
    let prev = get_str(&head, "hash")?;
    let hash = entry_hash(seq, at, event, &prev);
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

impl Store {
    /// Appends one event in its own transaction (for events with no other write, e.g. a failed login).
    pub async fn audit(&self, at: i64, event: &AuditEvent) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let seq = append_in(&mut tx, at, event).await?;
        tx.commit().await?;
        Ok(seq)
    }
}
