//! Refusing replayed requests. A provider accepts a message id once per requesting department,
//! and only within a window around the message's own creation time (deadlines count from the
//! message timestamp, as in OOTS), so the set of ids it must remember stays bounded.

use crate::envelope::{Envelope, MessageId};
use std::collections::HashMap;
use yiwang_domain::codes::CreditCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Replayed {
    #[error("this message id was already used by this requester")]
    Seen,
    #[error("the message is older than the replay window")]
    Stale,
    #[error("the message is dated in the future beyond the allowed clock skew")]
    Future,
}

/// Records first uses of message ids. A store-backed guard (shared by several processes) will
/// implement the same trait.
pub trait ReplayGuard {
    /// Accepts `envelope` at `now_ms` if its id is new for its requester and its time is within
    /// the window; records it.
    fn first_use(&mut self, envelope: &Envelope, now_ms: i64) -> Result<(), Replayed>;
}

/// The window rule alone (shared by every guard): refuses a message dated more than `skew_ms`
/// ahead of `now_ms` or more than `window_ms` behind it.
pub fn check_window(
    envelope: &Envelope,
    now_ms: i64,
    window_ms: i64,
    skew_ms: i64,
) -> Result<(), Replayed> {
    let at = envelope.created_at();
    if at > now_ms.saturating_add(skew_ms) {
        return Err(Replayed::Future);
    }
    if at < now_ms.saturating_sub(window_ms) {
        return Err(Replayed::Stale);
    }
    Ok(())
}

/// An in-memory guard: ids seen within the last `window_ms`, forgotten after.
#[derive(Debug, Clone)]
pub struct SeenIds {
    window_ms: i64,
    skew_ms: i64,
    seen: HashMap<(CreditCode, MessageId), i64>,
}

impl SeenIds {
    pub fn new(window_ms: i64, skew_ms: i64) -> Self {
        Self {
            window_ms,
            skew_ms,
            seen: HashMap::new(),
        }
    }
}

impl ReplayGuard for SeenIds {
    fn first_use(&mut self, envelope: &Envelope, now_ms: i64) -> Result<(), Replayed> {
        check_window(envelope, now_ms, self.window_ms, self.skew_ms)?;
        let at = envelope.created_at();
        let oldest = now_ms.saturating_sub(self.window_ms);
        // Anything older than the window would be refused as stale anyway.
        self.seen.retain(|_, t| *t >= oldest);
        let key = (
            envelope.requester().org.clone(),
            envelope.message_id().clone(),
        );
        if self.seen.contains_key(&key) {
            return Err(Replayed::Seen);
        }
        self.seen.insert(key, at);
        Ok(())
    }
}
