//! The message log's pure chain: each entry holds the envelope, the digests of the request and
//! response bodies, both seals, its time and the hash of the entry before it; its own hash is
//! SM3 over its canonical bytes and that previous hash. Changing, removing, inserting or
//! reordering an entry breaks the chain at that entry, which [`ChainVerifier`] names.
//! Storage appends with [`append`] and checks with [`ChainVerifier`] while paging.

use crate::canon::Canon;
use crate::envelope::Envelope;
use crate::seal::{Seal, SignedRequest, SignedResponse, TrustBundle, VerifyError};
use crate::sm3;
use std::fmt;

/// Which side of the exchange wrote the entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// We asked another department (requester side).
    Out,
    /// Another department asked us (provider side).
    In,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Out => "out",
            Self::In => "in",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "out" => Some(Self::Out),
            "in" => Some(Self::In),
            _ => None,
        }
    }
}

/// What is logged for one exchange. Seals are kept as their text (`alg:key:base64`), so a refused
/// request whose seal could not even be read is logged as it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLogEntry {
    /// Unix milliseconds.
    pub at: i64,
    pub direction: Direction,
    pub envelope: Envelope,
    pub request_body_digest: [u8; 32],
    pub request_seal: String,
    /// Absent when no response was given or received (refusal, timeout).
    pub response_body_digest: Option<[u8; 32]>,
    pub response_seal: Option<String>,
    /// `ok`, or the reason of a refusal or failure (e.g. `bad-signature`, `timeout`).
    pub outcome: String,
}

/// The end of a chain: the last entry's sequence number and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tail {
    pub seq: i64,
    pub hash: [u8; 32],
}

impl Tail {
    /// Before the first entry.
    pub const GENESIS: Tail = Tail {
        seq: 0,
        hash: [0; 32],
    };
}

/// A chained entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub seq: i64,
    pub entry: NewLogEntry,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

impl LogEntry {
    /// SM3 over the entry's canonical bytes and the previous hash.
    pub fn compute_hash(seq: i64, e: &NewLogEntry, prev_hash: &[u8; 32]) -> [u8; 32] {
        let mut c = Canon::new("yiwang-exchange/log-entry/v1");
        c.i64(seq)
            .i64(e.at)
            .str(e.direction.as_str())
            .bytes(&e.envelope.canonical_bytes())
            .bytes(&e.request_body_digest)
            .str(&e.request_seal)
            .opt_str(e.response_body_digest.map(hex::encode).as_deref())
            .opt_str(e.response_seal.as_deref())
            .str(&e.outcome)
            .bytes(prev_hash);
        sm3(&c.finish())
    }

    pub fn tail(&self) -> Tail {
        Tail {
            seq: self.seq,
            hash: self.hash,
        }
    }
}

impl NewLogEntry {
    /// Re-checks the seals of a successful exchange against `bundle`: the request's by the
    /// requester, the response's (carrying this request's digest) by the provider. Entries of
    /// refusals and failures are skipped: a bad seal may be exactly why they were refused.
    pub fn check_seals(&self, bundle: &TrustBundle) -> Result<(), VerifyError> {
        if self.outcome != OUTCOME_OK {
            return Ok(());
        }
        let req = SignedRequest {
            envelope: self.envelope.clone(),
            body_digest: self.request_body_digest,
            seal: Seal::parse(&self.request_seal)?,
        };
        bundle.verify_request_seal(&req)?;
        let (Some(body_digest), Some(seal)) = (self.response_body_digest, &self.response_seal)
        else {
            return Err(VerifyError::Malformed);
        };
        let resp = SignedResponse {
            message_id: self.envelope.message_id().clone(),
            request_digest: req.digest(),
            body_digest,
            seal: Seal::parse(seal)?,
        };
        bundle.verify_response_seal(&req, &resp)
    }
}

/// The outcome of a successful exchange.
pub const OUTCOME_OK: &str = "ok";

/// Chains `entry` after `tail`.
pub fn append(tail: Tail, entry: NewLogEntry) -> LogEntry {
    let seq = tail.seq.saturating_add(1);
    let hash = LogEntry::compute_hash(seq, &entry, &tail.hash);
    LogEntry {
        seq,
        entry,
        prev_hash: tail.hash,
        hash,
    }
}

/// How a chain is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakKind {
    /// The entry's content no longer matches its hash (edited).
    Altered,
    /// The entry does not point to the entry before it (removed, inserted or reordered).
    Link,
    /// The sequence numbers skip or repeat (an entry removed).
    Gap,
    /// The stored entry cannot be read back (e.g. its envelope was edited into nonsense).
    Unreadable,
    /// The chain ends before the head that storage recorded (its last entries were removed);
    /// `seq` is the head's.
    Truncated,
    /// The retention checkpoint the check starts from is not sealed by a trusted key.
    Checkpoint,
    /// A successful exchange's request or response seal does not verify (signatures re-checked).
    Seal,
}

/// The first broken link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub struct ChainBreak {
    pub seq: i64,
    pub kind: BreakKind,
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            BreakKind::Altered => "was altered (its hash does not match its content)",
            BreakKind::Link => "does not link to the entry before it",
            BreakKind::Gap => "breaks the sequence (an entry is missing or repeated)",
            BreakKind::Unreadable => "cannot be read back",
            BreakKind::Truncated => "is recorded as the head but the log ends before it",
            BreakKind::Seal => "carries a seal that does not verify against the trust bundle",
            BreakKind::Checkpoint => "is the retention checkpoint, and its seal does not verify",
        };
        write!(f, "message log entry {} {what}", self.seq)
    }
}

/// Checks entries one by one in order, from a known tail (genesis, or a checkpoint).
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    tail: Tail,
    checked: u64,
}

impl ChainVerifier {
    pub fn new(start: Tail) -> Self {
        Self {
            tail: start,
            checked: 0,
        }
    }

    pub fn push(&mut self, e: &LogEntry) -> Result<(), ChainBreak> {
        let brk = |kind| ChainBreak { seq: e.seq, kind };
        if Some(e.seq) != self.tail.seq.checked_add(1) {
            return Err(brk(BreakKind::Gap));
        }
        if LogEntry::compute_hash(e.seq, &e.entry, &e.prev_hash) != e.hash {
            return Err(brk(BreakKind::Altered));
        }
        if e.prev_hash != self.tail.hash {
            return Err(brk(BreakKind::Link));
        }
        self.tail = e.tail();
        self.checked += 1;
        Ok(())
    }

    /// The last verified entry.
    pub fn tail(&self) -> Tail {
        self.tail
    }

    pub fn checked(&self) -> u64 {
        self.checked
    }
}

/// Checks a whole chain from `start`; the last tail, or the first broken link.
pub fn verify_chain<'a>(
    start: Tail,
    entries: impl IntoIterator<Item = &'a LogEntry>,
) -> Result<Tail, ChainBreak> {
    let mut v = ChainVerifier::new(start);
    for e in entries {
        v.push(e)?;
    }
    Ok(v.tail())
}

/// Where a retention purge cut the chain: the last purged entry's seq and hash, and when. Sealed
/// by the department's key, it lets verification start there instead of at genesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    pub tail: Tail,
    /// Unix milliseconds of the purge.
    pub at: i64,
}

impl Checkpoint {
    pub fn canonical_bytes(&self) -> Vec<u8> {
        Canon::new("yiwang-exchange/log-checkpoint/v1")
            .i64(self.tail.seq)
            .bytes(&self.tail.hash)
            .i64(self.at)
            .finish()
    }
}
