//! The exchange message log (issue #16): appends chained by `yiwang_exchange::log`, reads by
//! range, and the offline check of the whole chain. The head row serialises appenders, so two
//! processes writing at once still form one chain.

use crate::rows::{get_i64, get_opt_str, get_str};
use crate::{Backend, Store, StoreError};
use sqlx::any::AnyRow;
use yiwang_exchange::log::{BreakKind, ChainBreak, ChainVerifier, Tail};
use yiwang_exchange::{Direction, Envelope, LogEntry, NewLogEntry, append};

/// Rows read per page while verifying.
const PAGE: i64 = 5_000;

const COLUMNS: &str = "seq, at, direction, message_id, envelope, request_digest, request_seal, \
     response_digest, response_seal, outcome, prev_hash, hash";

/// The result of checking the stored chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeLogReport {
    /// Entries whose hash and link were checked.
    pub checked: u64,
    /// Where checking started: genesis, or the retention checkpoint.
    pub start: Tail,
    /// The head as recorded.
    pub head_seq: i64,
    /// The first broken entry, if any.
    pub problem: Option<ChainBreak>,
}

impl ExchangeLogReport {
    pub fn ok(&self) -> bool {
        self.problem.is_none()
    }
}

fn digest(hex_str: &str) -> Option<[u8; 32]> {
    hex::decode(hex_str).ok()?.try_into().ok()
}

/// A stored row back as a chained entry; `None` when any column was altered into something
/// that is not a valid value.
fn entry_of(row: &AnyRow) -> Result<Option<LogEntry>, StoreError> {
    let envelope = Envelope::from_json(&get_str(row, "envelope")?).ok();
    let direction = Direction::parse(&get_str(row, "direction")?);
    let request_digest = digest(&get_str(row, "request_digest")?);
    let response_digest = match get_opt_str(row, "response_digest")? {
        None => Some(None),
        Some(h) => digest(&h).map(Some),
    };
    let prev_hash = digest(&get_str(row, "prev_hash")?);
    let hash = digest(&get_str(row, "hash")?);
    let (
        Some(envelope),
        Some(direction),
        Some(request_digest),
        Some(response_digest),
        Some(prev_hash),
        Some(hash),
    ) = (
        envelope,
        direction,
        request_digest,
        response_digest,
        prev_hash,
        hash,
    )
    else {
        return Ok(None);
    };
    // The message id column is an index copy of the envelope's; a difference is tampering.
    if get_str(row, "message_id")? != envelope.message_id().as_str() {
        return Ok(None);
    }
    Ok(Some(LogEntry {
        seq: get_i64(row, "seq")?,
        entry: NewLogEntry {
            at: get_i64(row, "at")?,
            direction,
            envelope,
            request_digest,
            request_seal: get_str(row, "request_seal")?,
            response_digest,
            response_seal: get_opt_str(row, "response_seal")?,
            outcome: get_str(row, "outcome")?,
        },
        prev_hash,
        hash,
    }))
}

/// Appends `entry` inside `tx` (so the exchange's business write and its log entry commit
/// together) and returns it chained.
pub async fn append_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    entry: NewLogEntry,
) -> Result<LogEntry, StoreError> {
    // Moving the head first takes its row lock: appenders queue here, not at the insert.
    let head =
        sqlx::query("UPDATE exchange_log_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut **tx)
            .await?;
    let seq = get_i64(&head, "seq")?;
    let prev = digest(&get_str(&head, "hash")?)
        .ok_or_else(|| StoreError::Corrupt("exchange log head hash".into()))?;
    let e = append(
        Tail {
            seq: seq - 1,
            hash: prev,
        },
        entry,
    );
    let n = &e.entry;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO exchange_log ({COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    )))
    .bind(e.seq)
    .bind(n.at)
    .bind(n.direction.as_str())
    .bind(n.envelope.message_id().as_str().to_string())
    .bind(n.envelope.to_json())
    .bind(hex::encode(n.request_digest))
    .bind(n.request_seal.clone())
    .bind(n.response_digest.map(hex::encode))
    .bind(n.response_seal.clone())
    .bind(n.outcome.clone())
    .bind(hex::encode(e.prev_hash))
    .bind(hex::encode(e.hash))
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE exchange_log_head SET hash = $1 WHERE id = 1")
        .bind(hex::encode(e.hash))
        .execute(&mut **tx)
        .await?;
    Ok(e)
}

impl Store {
    /// Appends one exchange to the log in its own transaction.
    pub async fn exchange_log_append(&self, entry: NewLogEntry) -> Result<LogEntry, StoreError> {
        let mut tx = self.begin_write().await?;
        let e = append_in(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(e)
    }

    /// Entries with `after_seq < seq`, in order, at most `limit`. An entry that cannot be read
    /// back is an error here; [`Store::exchange_log_verify`] names it instead.
    pub async fn exchange_log_range(
        &self,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<LogEntry>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM exchange_log WHERE seq > $1 ORDER BY seq LIMIT $2"
        )))
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                entry_of(r)?.ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "exchange log entry {} cannot be read back",
                        get_i64(r, "seq").unwrap_or(-1)
                    ))
                })
            })
            .collect()
    }

    /// The entries of one message (both directions, requests and refusals), in order.
    pub async fn exchange_log_of_message(
        &self,
        message_id: &yiwang_exchange::MessageId,
    ) -> Result<Vec<LogEntry>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM exchange_log WHERE message_id = $1 ORDER BY seq"
        )))
        .bind(message_id.as_str().to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            if let Some(e) = entry_of(r)? {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// Checks the whole stored chain from the retention checkpoint (or genesis) to the head:
    /// every hash, every link, no gap, nothing missing at the end. `progress` gets the count of
    /// entries checked after each page.
    pub async fn exchange_log_verify(
        &self,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<ExchangeLogReport, StoreError> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            // One snapshot for the head and every page, so appends during the check don't matter.
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        let head = sqlx::query("SELECT seq FROM exchange_log_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let head_seq = get_i64(&head, "seq")?;
        let cp =
            sqlx::query("SELECT seq, hash FROM exchange_log_checkpoint ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?;
        let start = match cp {
            None => Tail::GENESIS,
            Some(r) => Tail {
                seq: get_i64(&r, "seq")?,
                hash: digest(&get_str(&r, "hash")?)
                    .ok_or_else(|| StoreError::Corrupt("exchange log checkpoint".into()))?,
            },
        };
        let mut v = ChainVerifier::new(start);
        let mut problem = None;
        'pages: loop {
            let after = v.tail().seq;
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM exchange_log WHERE seq > $1 ORDER BY seq LIMIT $2"
            )))
            .bind(after)
            .bind(PAGE)
            .fetch_all(&mut *tx)
            .await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let Some(e) = entry_of(r)? else {
                    problem = Some(ChainBreak {
                        seq: get_i64(r, "seq")?,
                        kind: BreakKind::Unreadable,
                    });
                    break 'pages;
                };
                if let Err(b) = v.push(&e) {
                    problem = Some(b);
                    break 'pages;
                }
            }
            progress(v.checked());
        }
        tx.commit().await?;
        if problem.is_none() && v.tail().seq != head_seq {
            problem = Some(ChainBreak {
                seq: head_seq,
                kind: BreakKind::Truncated,
            });
        }
        Ok(ExchangeLogReport {
            checked: v.checked(),
            start,
            head_seq,
            problem,
        })
    }
}
