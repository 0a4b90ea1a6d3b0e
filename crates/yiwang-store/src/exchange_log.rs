//! The exchange message log (issue #16): appends chained by `yiwang_exchange::log`, reads by
//! range, and the offline check of the whole chain. The head row serialises appenders, so two
//! processes writing at once still form one chain.

use crate::rows::{get_i64, get_opt_i64, get_opt_str, get_str};
use crate::{Backend, Store, StoreError};
use sqlx::any::AnyRow;
use yiwang_domain::codes::CreditCode;
use yiwang_exchange::log::{BreakKind, ChainBreak, ChainVerifier, Checkpoint, Tail};
use yiwang_exchange::{
    Direction, Envelope, LogEntry, NewLogEntry, Replayed, Seal, SealKey, TrustBundle, append,
    check_window,
};

/// Rows read per page while verifying.
const PAGE: i64 = 5_000;

const COLUMNS: &str = "seq, at, direction, message_id, envelope, request_body_digest, request_seal, \
     response_body_digest, response_seal, outcome, prev_hash, hash";

/// What [`Store::exchange_log_verify`] checks beyond the chain.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogVerifyOptions<'a> {
    /// The published keys.
    pub bundle: Option<&'a TrustBundle>,
    /// The department owning this log: with `bundle`, the checkpoint's seal is checked.
    pub owner: Option<&'a CreditCode>,
    /// With `bundle`, re-check every successful exchange's request and response seals.
    pub signatures: bool,
}

/// The result of checking the stored chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeLogReport {
    /// Entries whose hash and link were checked.
    pub checked: u64,
    /// Where checking started: genesis, or the retention checkpoint.
    pub start: Tail,
    /// The head as recorded.
    pub head_seq: i64,
    /// Whether the checkpoint's seal verified; `None` when there is no checkpoint or no trust
    /// bundle was given.
    pub checkpoint_sealed: Option<bool>,
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
    let request_body_digest = digest(&get_str(row, "request_body_digest")?);
    let response_body_digest = match get_opt_str(row, "response_body_digest")? {
        None => Some(None),
        Some(h) => digest(&h).map(Some),
    };
    let prev_hash = digest(&get_str(row, "prev_hash")?);
    let hash = digest(&get_str(row, "hash")?);
    let (
        Some(envelope),
        Some(direction),
        Some(request_body_digest),
        Some(response_body_digest),
        Some(prev_hash),
        Some(hash),
    ) = (
        envelope,
        direction,
        request_body_digest,
        response_body_digest,
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
            request_body_digest,
            request_seal: get_str(row, "request_seal")?,
            response_body_digest,
            response_seal: get_opt_str(row, "response_seal")?,
            outcome: get_str(row, "outcome")?,
        },
        prev_hash,
        hash,
    }))
}

/// A row that must read back (range reads): an altered one is an error naming it.
fn readable(r: &AnyRow) -> Result<LogEntry, StoreError> {
    entry_of(r)?.ok_or_else(|| {
        StoreError::Corrupt(format!(
            "exchange log entry {} cannot be read back",
            get_i64(r, "seq").unwrap_or(-1)
        ))
    })
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
    .bind(hex::encode(n.request_body_digest))
    .bind(n.request_seal.clone())
    .bind(n.response_body_digest.map(hex::encode))
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
        rows.iter().map(readable).collect()
    }

    /// The entries of one message (both directions, requests and refusals), in order. An entry
    /// that cannot be read back is an error, as in [`Store::exchange_log_range`].
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
        rows.iter().map(readable).collect()
    }

    /// Checks the whole stored chain from the retention checkpoint (or genesis) to the head:
    /// every hash, every link, no gap, nothing missing at the end; per `opts`, the checkpoint's
    /// seal and every successful exchange's seals too. `progress` gets the count of entries
    /// checked after each page.
    pub async fn exchange_log_verify(
        &self,
        opts: &LogVerifyOptions<'_>,
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
        let cp = last_checkpoint(&mut tx).await?;
        let start = cp.as_ref().map_or(Tail::GENESIS, |(c, _)| c.tail);
        let mut checkpoint_sealed = None;
        let mut problem = None;
        if let (Some((c, seal)), Some(bundle), Some(owner)) = (&cp, opts.bundle, opts.owner) {
            let ok = Seal::parse(seal)
                .and_then(|seal| bundle.verify_checkpoint(c, &seal, owner))
                .is_ok();
            checkpoint_sealed = Some(ok);
            if !ok {
                problem = Some(ChainBreak {
                    seq: c.tail.seq,
                    kind: BreakKind::Checkpoint,
                });
            }
        }
        let mut v = ChainVerifier::new(start);
        if problem.is_none() {
            let seals = opts.bundle.filter(|_| opts.signatures);
            problem = walk(&mut tx, &mut v, head_seq, seals, progress).await?;
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
            checkpoint_sealed,
            problem,
        })
    }

    /// The provider's replay guard shared by all its processes: accepts `envelope` at `now_ms`
    /// if it is within the window and its id is new for its requester, and records it; forgets
    /// ids older than the window in the same transaction.
    pub async fn exchange_first_use(
        &self,
        envelope: &Envelope,
        now_ms: i64,
        window_ms: i64,
        skew_ms: i64,
    ) -> Result<Result<(), Replayed>, StoreError> {
        if let Err(r) = check_window(envelope, now_ms, window_ms, skew_ms) {
            return Ok(Err(r));
        }
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM exchange_seen WHERE created_at < $1")
            .bind(now_ms.saturating_sub(window_ms))
            .execute(&mut *tx)
            .await?;
        let added = sqlx::query(
            "INSERT INTO exchange_seen (requester, message_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (requester, message_id) DO NOTHING",
        )
        .bind(envelope.requester().org.as_str().to_string())
        .bind(envelope.message_id().as_str().to_string())
        .bind(envelope.created_at())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(if added == 1 {
            Ok(())
        } else {
            Err(Replayed::Seen)
        })
    }

    /// Retention: removes the entries older than `before_ms` (from the oldest up to the first
    /// younger one, so nothing younger is ever removed), after checking that part of the chain,
    /// and leaves a checkpoint at the cut sealed with `key`, from which `verify` goes on. One
    /// transaction: the checkpoint and the removal commit together or not at all.
    pub async fn exchange_log_purge(
        &self,
        before_ms: i64,
        now_ms: i64,
        key: &SealKey,
    ) -> Result<PurgeSummary, StoreError> {
        let mut tx = self.begin_write().await?;
        let head = sqlx::query("SELECT seq FROM exchange_log_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let head_seq = get_i64(&head, "seq")?;
        let young = sqlx::query("SELECT MIN(seq) AS s FROM exchange_log WHERE at >= $1")
            .bind(before_ms)
            .fetch_one(&mut *tx)
            .await?;
        let cut = get_opt_i64(&young, "s")?.map_or(head_seq, |s| s - 1);
        let start = last_checkpoint(&mut tx)
            .await?
            .map_or(Tail::GENESIS, |(c, _)| c.tail);
        if cut <= start.seq {
            return Ok(PurgeSummary {
                purged: 0,
                checkpoint: None,
            });
        }
        // Never seal over a broken chain: that would make tampering look legitimate.
        let mut v = ChainVerifier::new(start);
        if let Some(b) = walk(&mut tx, &mut v, cut, None, &mut |_| {}).await? {
            return Err(StoreError::Corrupt(b.to_string()));
        }
        if v.tail().seq != cut {
            return Err(StoreError::Corrupt(format!(
                "message log entries before {cut} are missing"
            )));
        }
        let cp = Checkpoint {
            tail: v.tail(),
            at: now_ms,
        };
        let seal = key.sign_checkpoint(&cp);
        sqlx::query(
            "INSERT INTO exchange_log_checkpoint (seq, hash, at, seal) VALUES ($1, $2, $3, $4)",
        )
        .bind(cp.tail.seq)
        .bind(hex::encode(cp.tail.hash))
        .bind(cp.at)
        .bind(seal.to_string())
        .execute(&mut *tx)
        .await?;
        let purged = sqlx::query("DELETE FROM exchange_log WHERE seq <= $1")
            .bind(cut)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(PurgeSummary {
            purged,
            checkpoint: Some(cp),
        })
    }
}

/// What a retention purge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgeSummary {
    pub purged: u64,
    /// The new checkpoint; `None` when nothing was old enough.
    pub checkpoint: Option<Checkpoint>,
}

/// The latest checkpoint and its seal's text.
async fn last_checkpoint(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
) -> Result<Option<(Checkpoint, String)>, StoreError> {
    let row = sqlx::query(
        "SELECT seq, hash, at, seal FROM exchange_log_checkpoint ORDER BY seq DESC LIMIT 1",
    )
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let hash = digest(&get_str(&r, "hash")?)
        .ok_or_else(|| StoreError::Corrupt("exchange log checkpoint hash".into()))?;
    Ok(Some((
        Checkpoint {
            tail: Tail {
                seq: get_i64(&r, "seq")?,
                hash,
            },
            at: get_i64(&r, "at")?,
        },
        get_str(&r, "seal")?,
    )))
}

/// Feeds the entries after `v`'s tail up to `upto` into `v`, page by page; the first break.
async fn walk(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    v: &mut ChainVerifier,
    upto: i64,
    seals: Option<&TrustBundle>,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Option<ChainBreak>, StoreError> {
    loop {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM exchange_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3"
        )))
        .bind(v.tail().seq)
        .bind(upto)
        .bind(PAGE)
        .fetch_all(&mut **tx)
        .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        for r in &rows {
            let Some(e) = entry_of(r)? else {
                return Ok(Some(ChainBreak {
                    seq: get_i64(r, "seq")?,
                    kind: BreakKind::Unreadable,
                }));
            };
            if let Err(b) = v.push(&e) {
                return Ok(Some(b));
            }
            if let Some(bundle) = seals
                && e.entry.check_seals(bundle).is_err()
            {
                return Ok(Some(ChainBreak {
                    seq: e.seq,
                    kind: BreakKind::Seal,
                }));
            }
        }
        progress(v.checked());
    }
}
