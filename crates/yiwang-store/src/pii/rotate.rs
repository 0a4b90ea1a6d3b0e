//! `yiwang keys rotate` and `keys status`: every encrypted column re-encrypted under the current
//! data key (and re-indexed under the current index key), one transaction per batch, while the
//! server keeps serving (every key of the ring decrypts).

use super::PII_COLUMNS;
use crate::rows::{get_i64, get_opt_str, get_str};
use crate::{PiiColumn, Store, StoreError};
use sqlx::AssertSqlSafe;
use std::collections::BTreeMap;
use yiwang_crypto::key_id_of;

/// What one `yiwang keys rotate` run did to one column.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ColumnRotation {
    pub column: String,
    /// Non-empty values looked at.
    pub scanned: u64,
    /// Values re-encrypted under the current key.
    pub reencrypted: u64,
    /// Blind indexes recomputed under the current index key.
    pub reindexed: u64,
    /// Values that cannot be decrypted with the ring (left as they are).
    pub failed: u64,
    /// Values changed by someone else during the run (already under the current key).
    pub raced: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RotateSummary {
    pub current_key: String,
    pub columns: Vec<ColumnRotation>,
}

impl RotateSummary {
    pub fn total(&self, f: impl Fn(&ColumnRotation) -> u64) -> u64 {
        self.columns.iter().map(f).sum()
    }
}

impl Store {
    /// How many stored values each data key id protects, over every encrypted column.
    pub async fn pii_key_usage(&self) -> Result<BTreeMap<String, u64>, StoreError> {
        let mut usage = BTreeMap::new();
        for col in PII_COLUMNS {
            col.checked()?;
            let mut after = i64::MIN;
            loop {
                let batch = self.scan(col, after, 1000).await?;
                let Some(last) = batch.last() else { break };
                after = last.0;
                for (_, enc, _) in &batch {
                    let id = key_id_of(enc).unwrap_or("(malformed)").to_string();
                    *usage.entry(id).or_insert(0) += 1;
                }
            }
        }
        Ok(usage)
    }

    /// `(id, enc, idx)` of up to `limit` rows with a value, after row id `after`.
    async fn scan(
        &self,
        col: &PiiColumn,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String, Option<String>)>, StoreError> {
        let idx = col.idx_column.unwrap_or("NULL");
        let sql = format!(
            "SELECT {id} AS id, {enc} AS enc, {idx} AS idx FROM {t} \
             WHERE {enc} IS NOT NULL AND {id} > $1 ORDER BY {id} LIMIT $2",
            id = col.id_column,
            enc = col.enc_column,
            t = col.table
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get_i64(r, "id")?,
                    get_str(r, "enc")?,
                    get_opt_str(r, "idx")?,
                ))
            })
            .collect()
    }

    /// Re-encrypts every value that is not under the current data key (and recomputes every
    /// blind index not under the current index key), `batch` rows per transaction. Readers keep
    /// working throughout: every key of the ring decrypts. Running it again changes nothing.
    pub async fn rotate_pii(&self, batch: usize) -> Result<RotateSummary, StoreError> {
        let keys = self.keys().ok_or(StoreError::NoKeys)?;
        let limit = i64::try_from(batch.clamp(1, 10_000)).unwrap_or(1000);
        let mut summary = RotateSummary {
            current_key: keys.current_key_id().to_string(),
            columns: Vec::new(),
        };
        for col in PII_COLUMNS {
            col.checked()?;
            let mut stats = ColumnRotation {
                column: col.name(),
                ..Default::default()
            };
            let mut after = i64::MIN;
            loop {
                let rows = self.scan(col, after, limit).await?;
                let Some(last) = rows.last() else { break };
                after = last.0;
                stats.scanned += rows.len() as u64;
                let mut tx = self.begin_write().await?;
                for (id, enc, idx) in rows {
                    let enc_stale = !keys.is_current(&enc);
                    let idx_stale = col.idx_column.is_some()
                        && !idx.as_deref().is_some_and(|i| keys.index_is_current(i));
                    if !enc_stale && !idx_stale {
                        continue;
                    }
                    let Ok(plain) = col.open(keys, id, &enc) else {
                        tracing::warn!(column = %col.name(), row = id, "cannot decrypt; left as is");
                        stats.failed += 1;
                        continue;
                    };
                    let (new_enc, new_idx) = if enc_stale {
                        col.seal(keys, id, &plain)?
                    } else {
                        (enc.clone(), col.index(keys, &plain))
                    };
                    let (t, e, i) = (col.table, col.enc_column, col.id_column);
                    // Compare-and-set: a value written meanwhile is left alone.
                    let q = match col.idx_column {
                        Some(ic) => sqlx::query(AssertSqlSafe(format!(
                            "UPDATE {t} SET {e} = $1, {ic} = $2 WHERE {i} = $3 AND {e} = $4"
                        )))
                        .bind(new_enc)
                        .bind(new_idx),
                        None => sqlx::query(AssertSqlSafe(format!(
                            "UPDATE {t} SET {e} = $1 WHERE {i} = $2 AND {e} = $3"
                        )))
                        .bind(new_enc),
                    };
                    let done = q
                        .bind(id)
                        .bind(enc)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    if done == 0 {
                        stats.raced += 1;
                    } else {
                        stats.reencrypted += u64::from(enc_stale);
                        stats.reindexed += u64::from(idx_stale);
                    }
                }
                tx.commit().await?;
            }
            summary.columns.push(stats);
        }
        Ok(summary)
    }
}
