//! Server-side sessions: one mechanism for staff and applicants. The two kinds keep their own
//! tables (`sessions`, `applicant_sessions`: a staff session never opens the applicant's pages
//! and the reverse) and their own holder (a [`Principal`], an [`Applicant`]); creating, looking
//! up with the absolute and idle timeouts, marking as used, and ending are written once here,
//! parameterized by [`SessionKind`]. The public methods (`create_session`,
//! `active_applicant_session`, …) are thin wrappers over it.

use crate::applicants::{Applicant, applicant_of};
use crate::auth_cache::{AuthCache, CachedSession, Epoch};
use crate::rows::get_i64;
use crate::session_consts::TOUCH_INTERVAL_MS;
use crate::{Store, StoreError};
use sqlx::any::AnyRow;
use yiwang_domain::policy::Principal;

/// What differs between the kinds of session: the table's statements, how the holder is read,
/// and its slot in the authentication cache.
pub(crate) trait SessionKind {
    /// Who holds a session of this kind.
    type Holder: Clone;
    /// `$1` token digest, `$2` owner id, `$3` now, `$4` absolute end.
    const INSERT: &'static str;
    /// `$1` token digest, `$2` now, `$3` idle limit; reads `expires_at`, `last_seen_at` and
    /// what [`SessionKind::holder`] needs.
    const SELECT_LIVE: &'static str;
    /// `$1` now, `$2` token digest.
    const TOUCH: &'static str;
    /// `$1` token digest.
    const DELETE: &'static str;
    /// `$1` owner id.
    const DELETE_ALL_OF: &'static str;
    /// `$1` owner id, `$2` the token digest that stays.
    const DELETE_OTHERS_OF: &'static str;

    /// The holder of a live session row; `None` when it can no longer sign in.
    async fn holder(store: &Store, row: &AnyRow) -> Result<Option<Self::Holder>, StoreError>;
    fn cached(cache: &AuthCache, digest: &str) -> Option<CachedSession<Self::Holder>>;
    fn keep(cache: &AuthCache, digest: &str, s: CachedSession<Self::Holder>, epoch: Epoch);
}

/// Staff sessions (`sessions`), held by a [`Principal`].
pub(crate) struct StaffSessions;

impl SessionKind for StaffSessions {
    type Holder = Principal;
    const INSERT: &'static str = "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $3)";
    const SELECT_LIVE: &'static str = "SELECT user_id, expires_at, last_seen_at FROM sessions \
         WHERE token_hash = $1 AND expires_at > $2 AND last_seen_at > $3";
    const TOUCH: &'static str = "UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2";
    const DELETE: &'static str = "DELETE FROM sessions WHERE token_hash = $1";
    const DELETE_ALL_OF: &'static str = "DELETE FROM sessions WHERE user_id = $1";
    const DELETE_OTHERS_OF: &'static str =
        "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2";

    async fn holder(store: &Store, row: &AnyRow) -> Result<Option<Principal>, StoreError> {
        store.principal(get_i64(row, "user_id")?).await
    }

    fn cached(cache: &AuthCache, digest: &str) -> Option<CachedSession<Principal>> {
        cache.staff(digest)
    }

    fn keep(cache: &AuthCache, digest: &str, s: CachedSession<Principal>, epoch: Epoch) {
        cache.keep_staff(digest, s, epoch);
    }
}

/// Applicant sessions (`applicant_sessions`), held by an [`Applicant`] whose account is not
/// disabled.
pub(crate) struct ApplicantSessions;

impl SessionKind for ApplicantSessions {
    type Holder = Applicant;
    const INSERT: &'static str = "INSERT INTO applicant_sessions (token_hash, applicant_id, created_at, expires_at, last_seen_at) \
         VALUES ($1, $2, $3, $4, $3)";
    const SELECT_LIVE: &'static str = "SELECT s.expires_at, s.last_seen_at, a.id, a.handle, a.kind, a.display_name, \
         a.legal_rep FROM applicant_sessions s JOIN applicants a ON a.id = s.applicant_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 AND a.disabled = 0";
    const TOUCH: &'static str =
        "UPDATE applicant_sessions SET last_seen_at = $1 WHERE token_hash = $2";
    const DELETE: &'static str = "DELETE FROM applicant_sessions WHERE token_hash = $1";
    const DELETE_ALL_OF: &'static str = "DELETE FROM applicant_sessions WHERE applicant_id = $1";
    const DELETE_OTHERS_OF: &'static str =
        "DELETE FROM applicant_sessions WHERE applicant_id = $1 AND token_hash <> $2";

    async fn holder(_store: &Store, row: &AnyRow) -> Result<Option<Applicant>, StoreError> {
        applicant_of(row).map(Some)
    }

    fn cached(cache: &AuthCache, digest: &str) -> Option<CachedSession<Applicant>> {
        cache.applicant(digest)
    }

    fn keep(cache: &AuthCache, digest: &str, s: CachedSession<Applicant>, epoch: Epoch) {
        cache.keep_applicant(digest, s, epoch);
    }
}

impl Store {
    /// Stores a new session of `owner`, ending `ttl_ms` from now.
    pub(crate) async fn create_session_of<K: SessionKind>(
        &self,
        token_hash: &str,
        owner: i64,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(K::INSERT)
            .bind(token_hash.to_string())
            .bind(owner)
            .bind(now_ms)
            .bind(now_ms + ttl_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The holder of the session if it has neither reached its absolute end (`expires_at`) nor
    /// been idle for `idle_ms`; marks it used (at most once a minute).
    pub(crate) async fn active_session_of<K: SessionKind>(
        &self,
        token_hash: &str,
        now_ms: i64,
        idle_ms: i64,
    ) -> Result<Option<K::Holder>, StoreError> {
        // Read in the last second, still alive and not due for its mark: no statement (the
        // database path below otherwise costs up to three).
        if let Some(hit) = K::cached(&self.auth_cache, token_hash)
            && hit.usable(now_ms, idle_ms)
        {
            return Ok(Some(hit.holder));
        }
        let epoch = self.auth_cache.epoch();
        let row = sqlx::query(K::SELECT_LIVE)
            .bind(token_hash.to_string())
            .bind(now_ms)
            .bind(now_ms - idle_ms)
            .fetch_optional(&self.pool)
            .await?;
        let Some(r) = row else {
            self.auth_cache.forget(token_hash);
            return Ok(None);
        };
        let mut last_seen_at = get_i64(&r, "last_seen_at")?;
        if now_ms - last_seen_at >= TOUCH_INTERVAL_MS {
            sqlx::query(K::TOUCH)
                .bind(now_ms)
                .bind(token_hash.to_string())
                .execute(&self.pool)
                .await?;
            last_seen_at = now_ms;
        }
        let Some(holder) = K::holder(self, &r).await? else {
            self.auth_cache.forget(token_hash);
            return Ok(None);
        };
        let session = CachedSession {
            holder: holder.clone(),
            expires_at: get_i64(&r, "expires_at")?,
            last_seen_at,
        };
        K::keep(&self.auth_cache, token_hash, session, epoch);
        Ok(Some(holder))
    }

    /// Ends one session (sign-out).
    pub(crate) async fn delete_session_of<K: SessionKind>(
        &self,
        token_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(K::DELETE)
            .bind(token_hash.to_string())
            .execute(&self.pool)
            .await?;
        self.auth_changed();
        Ok(())
    }
}

/// Ends every session of `owner` inside `tx`; how many. The caller clears the authentication
/// cache after it commits.
pub(crate) async fn end_all_in<K: SessionKind>(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    owner: i64,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(K::DELETE_ALL_OF)
        .bind(owner)
        .execute(&mut **tx)
        .await?
        .rows_affected())
}

/// Ends every session of `owner` but `keep` inside `tx` (after a password change).
pub(crate) async fn end_others_in<K: SessionKind>(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    owner: i64,
    keep: &str,
) -> Result<(), StoreError> {
    sqlx::query(K::DELETE_OTHERS_OF)
        .bind(owner)
        .bind(keep.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}
