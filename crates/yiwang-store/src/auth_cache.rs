//! API tokens and sessions kept in memory for a moment. Every API request with a bearer token
//! reads its token row, and every staff or applicant request reads its session (three
//! statements for staff: session, account, grants); a client usually sends several requests a
//! second with the same credential.
//!
//! Entries are keyed by the stored digest (never the raw secret) and trusted for at most
//! [`AUTH_CACHE_MS`]. A hit re-applies every check that depends on the time (expiry, idle and
//! absolute ends); when the check fails or the row is due to be marked as used, the lookup goes
//! to the database as before, so timeouts and the "last used" marks behave exactly as without
//! the cache. Unknown tokens and sessions are never kept.
//!
//! Freshness: every write of this process that revokes a token or ends sessions (logout, log out
//! everywhere, password change or reset, TOTP reset, session rotation) clears the whole cache as
//! it commits, so the next lookup sees it. A revocation by another process (the CLI, a second
//! server on the same database) is seen within [`AUTH_CACHE_MS`].

use crate::Store;
use crate::applicants::Applicant;
use crate::tokens::ApiToken;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use yiwang_domain::policy::Principal;

/// How long a token or session read from the database is trusted.
pub const AUTH_CACHE_MS: u64 = 1_000;
/// Most entries kept per kind; that kind starts over when full.
const CAPACITY: usize = 10_000;

/// A session as read: its holder and the times the checks need.
#[derive(Debug, Clone)]
pub(crate) struct CachedSession<H> {
    pub holder: H,
    pub expires_at: i64,
    pub last_seen_at: i64,
}

/// A staff session as read.
pub(crate) type StaffSession = CachedSession<Principal>;
/// An applicant session as read.
pub(crate) type ApplicantSession = CachedSession<Applicant>;

impl<H> CachedSession<H> {
    /// Alive at `now_ms` and not yet due for its "last seen" mark.
    pub fn usable(&self, now_ms: i64, idle_ms: i64) -> bool {
        session_usable(self.expires_at, self.last_seen_at, now_ms, idle_ms)
    }
}

fn session_usable(expires_at: i64, last_seen_at: i64, now_ms: i64, idle_ms: i64) -> bool {
    expires_at > now_ms
        && last_seen_at > now_ms - idle_ms
        && now_ms - last_seen_at < crate::session_consts::TOUCH_INTERVAL_MS
}

/// Not revoked, not expired at `now_ms`, and not yet due for its "last used" mark.
pub(crate) fn token_usable(t: &ApiToken, now_ms: i64) -> bool {
    t.active(now_ms)
        && t.last_used_at
            .is_some_and(|u| now_ms - u < crate::session_consts::TOUCH_INTERVAL_MS)
}

type Entries<V> = HashMap<String, (Instant, V)>;

#[derive(Default)]
struct Inner {
    /// Counts clears, so a read that raced this process's own revocation is not kept.
    epoch: u64,
    tokens: Entries<ApiToken>,
    staff: Entries<StaffSession>,
    applicants: Entries<ApplicantSession>,
}

fn fresh<V: Clone>(map: &mut Entries<V>, key: &str) -> Option<V> {
    let (at, v) = map.get(key)?;
    if at.elapsed() < Duration::from_millis(AUTH_CACHE_MS) {
        return Some(v.clone());
    }
    map.remove(key);
    None
}

fn keep<V>(map: &mut Entries<V>, key: &str, v: V) {
    if map.len() >= CAPACITY {
        map.clear();
    }
    map.insert(key.to_string(), (Instant::now(), v));
}

#[derive(Default)]
pub(crate) struct AuthCache {
    inner: Mutex<Inner>,
    /// Sign-in passwords really checked (Argon2) by this store, for the tests that prove the
    /// limits hold under parallel requests.
    pub(crate) password_checks: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for AuthCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthCache").finish_non_exhaustive()
    }
}

/// The epoch taken before a database read; what is read is kept only if nothing was revoked
/// in this process meanwhile.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Epoch(Option<u64>);

impl AuthCache {
    /// Runs `f` under the lock (`None` when the lock is poisoned: a miss).
    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> Option<R> {
        self.inner.lock().ok().map(|mut g| f(&mut g))
    }

    /// Forgets everything (called after this process revoked a token or ended sessions).
    pub(crate) fn clear(&self) {
        self.with(|g| {
            let epoch = g.epoch.wrapping_add(1);
            *g = Inner {
                epoch,
                ..Inner::default()
            };
        });
    }

    pub(crate) fn epoch(&self) -> Epoch {
        Epoch(self.with(|g| g.epoch))
    }

    /// Keeps `f`'s entry unless the cache was cleared since `epoch`.
    fn keep_if(&self, epoch: Epoch, f: impl FnOnce(&mut Inner)) {
        self.with(|g| {
            if Some(g.epoch) == epoch.0 {
                f(g);
            }
        });
    }

    pub(crate) fn token(&self, digest: &str) -> Option<ApiToken> {
        self.with(|g| fresh(&mut g.tokens, digest)).flatten()
    }

    pub(crate) fn keep_token(&self, digest: &str, t: ApiToken, epoch: Epoch) {
        self.keep_if(epoch, |g| keep(&mut g.tokens, digest, t));
    }

    pub(crate) fn staff(&self, digest: &str) -> Option<StaffSession> {
        self.with(|g| fresh(&mut g.staff, digest)).flatten()
    }

    pub(crate) fn keep_staff(&self, digest: &str, s: StaffSession, epoch: Epoch) {
        self.keep_if(epoch, |g| keep(&mut g.staff, digest, s));
    }

    pub(crate) fn applicant(&self, digest: &str) -> Option<ApplicantSession> {
        self.with(|g| fresh(&mut g.applicants, digest)).flatten()
    }

    pub(crate) fn keep_applicant(&self, digest: &str, s: ApplicantSession, epoch: Epoch) {
        self.keep_if(epoch, |g| keep(&mut g.applicants, digest, s));
    }

    /// Drops one entry the database no longer confirms.
    pub(crate) fn forget(&self, digest: &str) {
        self.with(|g| {
            g.tokens.remove(digest);
            g.staff.remove(digest);
            g.applicants.remove(digest);
        });
    }
}

impl Store {
    /// Called after this process committed a write that revokes a token or ends sessions.
    pub(crate) fn auth_changed(&self) {
        self.auth_cache.clear();
    }

    /// How many sign-in passwords this store has checked with Argon2 (for tests).
    #[doc(hidden)]
    pub fn password_checks(&self) -> u64 {
        self.auth_cache
            .password_checks
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Whether a token or session digest is held in memory (for tests).
    #[doc(hidden)]
    pub fn auth_cached(&self, digest: &str) -> bool {
        self.auth_cache
            .with(|g| {
                g.tokens.contains_key(digest)
                    || g.staff.contains_key(digest)
                    || g.applicants.contains_key(digest)
            })
            .unwrap_or(false)
    }
}
