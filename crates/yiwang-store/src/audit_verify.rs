//! Checking the whole audit chain: every entry's hash is recomputed, every link to the previous
//! entry checked, sequence numbers must run 1..=n without gaps, and the chain head must name
//! the last entry. The first problem found is reported precisely.

use crate::audit::{AUDIT_ALG, AuditEntry, AuditEvent, GENESIS_HASH, entry_digest};
use crate::rows::{get_i64, get_str};
use crate::{Backend, Store, StoreError};
use std::fmt;

/// Entries fetched per keyset page.
const PAGE: i64 = 20_000;

/// What kind of tampering (or damage) was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// An entry's stored hash is not the hash of its contents: it was altered.
    Altered,
    /// One or more entries are missing between two others (or at the start).
    Deleted,
    /// An entry does not link to the one before it: entries were reordered or swapped.
    Reordered,
    /// The head records more entries than the log holds: entries at the end were removed.
    Truncated,
    /// The head's hash does not match the last entry: the end of the log was replaced.
    HeadMismatch,
    /// Entries exist after the head: they were added outside the chain.
    Unanchored,
    /// An entry names a digest algorithm this version does not know.
    UnknownAlgorithm,
}

impl ProblemKind {
    pub fn key(self) -> &'static str {
        match self {
            ProblemKind::Altered => "altered",
            ProblemKind::Deleted => "deleted",
            ProblemKind::Reordered => "reordered",
            ProblemKind::Truncated => "truncated",
            ProblemKind::HeadMismatch => "head_mismatch",
            ProblemKind::Unanchored => "unanchored",
            ProblemKind::UnknownAlgorithm => "unknown_algorithm",
        }
    }
}

/// The first problem in the chain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuditProblem {
    pub kind: ProblemKind,
    /// The sequence number where the chain breaks (see `Display` for each kind's meaning).
    pub seq: i64,
    pub detail: String,
}

impl fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.seq;
        match self.kind {
            ProblemKind::Altered => write!(f, "entry {s} was altered: {}", self.detail),
            ProblemKind::Deleted => write!(f, "entries missing after {s}: {}", self.detail),
            ProblemKind::Reordered => {
                write!(
                    f,
                    "entry {s} does not follow entry {}: {}",
                    s - 1,
                    self.detail
                )
            }
            ProblemKind::Truncated => write!(f, "log truncated after entry {s}: {}", self.detail),
            ProblemKind::HeadMismatch => {
                write!(f, "chain head does not match entry {s}: {}", self.detail)
            }
            ProblemKind::Unanchored => {
                write!(f, "entry {s} lies beyond the chain head: {}", self.detail)
            }
            ProblemKind::UnknownAlgorithm => {
                write!(f, "entry {s} uses an unknown algorithm: {}", self.detail)
            }
        }
    }
}

/// The outcome of [`Store::audit_verify`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    /// Entries checked before the first problem (all of them when the chain is intact).
    pub entries: u64,
    pub head_seq: i64,
    pub head_hash: String,
    pub problem: Option<AuditProblem>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// Walks entries in order; keeps the last stored hash for the link check.
struct Walker {
    expect_seq: i64,
    prev_hash: String,
    checked: u64,
}

impl Walker {
    fn start() -> Self {
        Self {
            expect_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
            checked: 0,
        }
    }

    /// Checks one page in order; `bad_hash` is the index of its first entry whose contents do
    /// not match its hash (computed beforehand, off this task).
    fn page(&mut self, page: &[AuditEntry], bad_hash: Option<usize>) -> Option<AuditProblem> {
        for (i, e) in page.iter().enumerate() {
            if e.seq != self.expect_seq {
                let last = self.expect_seq - 1;
                return Some(AuditProblem {
                    kind: ProblemKind::Deleted,
                    seq: last,
                    detail: format!(
                        "expected entry {} next, found entry {} ({} missing)",
                        self.expect_seq,
                        e.seq,
                        e.seq - self.expect_seq
                    ),
                });
            }
            if e.prev_hash != self.prev_hash {
                return Some(AuditProblem {
                    kind: ProblemKind::Reordered,
                    seq: e.seq,
                    detail: "its previous-entry hash differs from that entry's hash".to_string(),
                });
            }
            if e.alg != AUDIT_ALG {
                return Some(AuditProblem {
                    kind: ProblemKind::UnknownAlgorithm,
                    seq: e.seq,
                    detail: e.alg.clone(),
                });
            }
            if bad_hash == Some(i) {
                return Some(AuditProblem {
                    kind: ProblemKind::Altered,
                    seq: e.seq,
                    detail: "its contents do not match its hash".to_string(),
                });
            }
            self.prev_hash.clone_from(&e.hash);
            self.expect_seq += 1;
            self.checked += 1;
        }
        None
    }
}

/// Index of the first entry whose stored hash differs from the recomputed one.
fn first_bad_hash(page: &[AuditEntry]) -> Option<usize> {
    page.iter().position(|e| {
        let mut stored = [0u8; 32];
        hex::decode_to_slice(&e.hash, &mut stored).is_err()
            || entry_digest(&e.alg, e.seq, e.at, &e.event, &e.prev_hash) != stored
    })
}

/// One page of entries as a single JSON text, so the driver moves one value per page instead of
/// eleven per entry (per-row overhead dominated the check otherwise).
fn page_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "SELECT json_group_array(json_array(seq, at, actor_id, actor, action, object, detail, \
             client, alg, prev_hash, hash)) AS page FROM \
             (SELECT * FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq)"
        }
        Backend::Postgres => {
            "SELECT json_agg(json_build_array(seq, at, actor_id, actor, action, object, detail, \
             client, alg, prev_hash, hash) ORDER BY seq)::text AS page \
             FROM audit_log WHERE seq > $1 AND seq <= $2"
        }
    }
}

type RawEntry = (
    i64,
    i64,
    Option<i64>,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

/// Decodes a page and puts it in sequence order.
fn parse_page(json: &str, lo: i64) -> Result<Vec<AuditEntry>, StoreError> {
    let raw: Vec<RawEntry> = serde_json::from_str(json)
        .map_err(|e| StoreError::Corrupt(format!("audit entries after {lo}: {e}")))?;
    let mut page: Vec<AuditEntry> = raw
        .into_iter()
        .map(
            |(seq, at, actor_id, actor, action, object, detail, client, alg, prev_hash, hash)| {
                AuditEntry {
                    seq,
                    at,
                    event: AuditEvent {
                        actor_id,
                        actor,
                        action,
                        object,
                        detail,
                        client,
                    },
                    alg,
                    prev_hash,
                    hash,
                }
            },
        )
        .collect();
    page.sort_unstable_by_key(|e| e.seq);
    Ok(page)
}

/// A page fetched, decoded and hashed: its entries and the index of the first bad hash.
type Checked = Result<(Vec<AuditEntry>, Option<usize>), StoreError>;

fn join_error(e: tokio::task::JoinError) -> StoreError {
    StoreError::Corrupt(format!("verify task: {e}"))
}

/// Fetches entries `lo+1..=hi` as one JSON text, then decodes and hashes them on a blocking
/// thread. Several pages run at once; only the link checks need sequence order.
fn check_page(store: Store, lo: i64, hi: i64) -> tokio::task::JoinHandle<Checked> {
    tokio::spawn(async move {
        let row = sqlx::query(page_sql(store.backend))
            .bind(lo)
            .bind(hi)
            .fetch_one(&store.pool)
            .await?;
        let json: Option<String> = sqlx::Row::try_get(&row, "page")?;
        drop(row);
        tokio::task::spawn_blocking(move || {
            let page = parse_page(json.as_deref().unwrap_or("[]"), lo)?;
            let bad = first_bad_hash(&page);
            Ok((page, bad))
        })
        .await
        .map_err(join_error)?
    })
}

impl Store {
    /// Checks the whole audit chain in sequence order, in one read snapshot, and reports the
    /// first problem. `progress` receives the number of entries checked so far after each page.
    /// An `Err` means the check could not run (database trouble), not that the chain is broken.
    pub async fn audit_verify(
        &self,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<VerifyReport, StoreError> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            // One snapshot for the head and every page, so appends during the check don't matter.
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let head_seq = get_i64(&head, "seq")?;
        let head_hash = get_str(&head, "hash")?;
        let mut w = Walker::start();
        let mut problem = None;
        // Entries up to the head never change legitimately, so pages may be read on other
        // connections; the head and the check for entries beyond it share one snapshot.
        let window = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(2, 8);
        let mut pending = std::collections::VecDeque::new();
        let mut lo = 0;
        loop {
            while pending.len() < window && lo < head_seq {
                let hi = (lo + PAGE).min(head_seq);
                pending.push_back(check_page(self.clone(), lo, hi));
                lo = hi;
            }
            let Some(next) = pending.pop_front() else {
                break;
            };
            let (page, bad) = next.await.map_err(join_error)??;
            problem = w.page(&page, bad);
            progress(w.checked);
            if problem.is_some() {
                for j in pending {
                    j.abort();
                }
                break;
            }
        }
        let last_seq = w.expect_seq - 1;
        if problem.is_none() && last_seq < head_seq {
            problem = Some(AuditProblem {
                kind: ProblemKind::Truncated,
                seq: last_seq,
                detail: format!(
                    "the head records {head_seq} entries, the log ends at {last_seq} ({} missing)",
                    head_seq - last_seq
                ),
            });
        }
        if problem.is_none() && w.prev_hash != head_hash {
            problem = Some(AuditProblem {
                kind: ProblemKind::HeadMismatch,
                seq: last_seq,
                detail: "the head's hash is not the last entry's hash".to_string(),
            });
        }
        if problem.is_none() {
            let beyond = sqlx::query(
                "SELECT MIN(seq) AS first, COUNT(*) AS n FROM audit_log WHERE seq > $1 OR seq < 1",
            )
            .bind(head_seq)
            .fetch_one(&mut *tx)
            .await?;
            let n = get_i64(&beyond, "n")?;
            if n > 0 {
                let first: Option<i64> = sqlx::Row::try_get(&beyond, "first")?;
                problem = Some(AuditProblem {
                    kind: ProblemKind::Unanchored,
                    seq: first.unwrap_or(head_seq + 1),
                    detail: format!("{n} entr(ies) outside 1..={head_seq}"),
                });
            }
        }
        tx.rollback().await?;
        Ok(VerifyReport {
            entries: w.checked,
            head_seq,
            head_hash,
            problem,
        })
    }
}

/// A published checkpoint of the chain: the hash entry `seq` had when it was anchored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
}

/// Where the stored chain disagrees with an anchor kept outside the database.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AnchorMismatch {
    pub seq: i64,
    pub anchored: String,
    /// The stored hash, or `None` when the entry is gone.
    pub stored: Option<String>,
}

impl Anchor {
    /// `seq hash [anything]`, one per line of an anchor file.
    pub fn parse_line(line: &str) -> Option<Self> {
        let mut it = line.split_whitespace();
        let seq = it.next()?.parse().ok()?;
        let hash = it.next()?;
        (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then(|| Anchor {
            seq,
            hash: hash.to_ascii_lowercase(),
        })
    }
}

impl Store {
    /// The chain head: the last sequence number and its hash (what an anchor records).
    pub async fn audit_head(&self) -> Result<Anchor, StoreError> {
        let r = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(Anchor {
            seq: get_i64(&r, "seq")?,
            hash: get_str(&r, "hash")?,
        })
    }

    /// Checks anchors kept outside the database against the stored chain. A chain rewritten as
    /// a whole (every hash recomputed) passes `audit_verify`, but not its old anchors.
    pub async fn audit_check_anchors(
        &self,
        anchors: &[Anchor],
    ) -> Result<Vec<AnchorMismatch>, StoreError> {
        let mut out = Vec::new();
        for a in anchors.iter().filter(|a| a.seq > 0) {
            let row = sqlx::query("SELECT hash FROM audit_log WHERE seq = $1")
                .bind(a.seq)
                .fetch_optional(&self.pool)
                .await?;
            let stored = row.map(|r| get_str(&r, "hash")).transpose()?;
            if stored.as_deref() != Some(a.hash.as_str()) {
                out.push(AnchorMismatch {
                    seq: a.seq,
                    anchored: a.hash.clone(),
                    stored,
                });
            }
        }
        Ok(out)
    }
}
