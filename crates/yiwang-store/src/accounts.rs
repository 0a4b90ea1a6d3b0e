//! Staff accounts, role grants and server-side sessions.

use crate::rows::{get_i64, get_opt_str, get_str, parse_stored};
use crate::sessions::StaffSessions;
use crate::{Store, StoreError};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use sqlx::Row;
use yiwang_domain::enums::CodeSet;
use yiwang_domain::policy::{Grant, Principal, Role};
use yiwang_domain::{CreditCode, ErrorCode, RegionCode};

/// Argon2id with a fresh random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|_| StoreError::Domain(ErrorCode::Internal))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// Argon2 checks running at once. Each takes tens of milliseconds of CPU and 19 MiB; they run
/// on the blocking pool, never on the async workers, and at most this many at a time, so a
/// burst of sign-ins waits its turn instead of stalling every other request.
fn argon2_permits() -> &'static tokio::sync::Semaphore {
    static GATE: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    GATE.get_or_init(|| {
        let n = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        tokio::sync::Semaphore::new(n.max(1))
    })
}

/// Runs `f` (Argon2 work) on the bounded blocking pool.
async fn on_argon2_pool<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, StoreError> {
    let _permit = argon2_permits()
        .acquire()
        .await
        .map_err(|_| StoreError::Domain(ErrorCode::Internal))?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| StoreError::Domain(ErrorCode::Internal))
}

/// [`verify_password`] on the bounded blocking pool.
pub async fn verify_password_pooled(password: &str, phc: &str) -> Result<bool, StoreError> {
    let (password, phc) = (password.to_string(), phc.to_string());
    on_argon2_pool(move || verify_password(&password, &phc)).await
}

/// [`hash_password`] on the bounded blocking pool.
pub async fn hash_password_pooled(password: &str) -> Result<String, StoreError> {
    let password = password.to_string();
    on_argon2_pool(move || hash_password(&password)).await?
}

/// A real Argon2id hash (same parameters as stored ones) of a password nobody has, checked
/// when the account named does not exist, so unknown and known accounts cost the same work.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("no-such-account-Aa1!").unwrap_or_default())
}

/// The policy is the domain's; re-exported for the store's callers.
pub use yiwang_domain::password::password_acceptable;

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub grants: Vec<Grant>,
}

fn username_ok(s: &str) -> bool {
    (3..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
}

impl Store {
    /// Creates an account with its grants in one transaction.
    /// Records a `user.create` audit entry (name and grants; never password material).
    pub async fn create_user(
        &self,
        u: &NewUser,
        actor: &crate::audit::Actor,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        self.create_user_with_pii(u, &crate::pii::UserPii::default(), actor, now_ms)
            .await
    }

    /// [`Store::create_user`] with personal data (phone, resident ID number), encrypted under
    /// the store's key ring in the same transaction.
    pub async fn create_user_with_pii(
        &self,
        u: &NewUser,
        pii: &crate::pii::UserPii,
        actor: &crate::audit::Actor,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        if !username_ok(&u.username) {
            return Err(ErrorCode::InvalidUsername.into());
        }
        if !password_acceptable(&u.password) {
            return Err(ErrorCode::WeakPassword.into());
        }
        let hash = hash_password_pooled(&u.password).await?;
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT id FROM users WHERE username = $1")
            .bind(u.username.clone())
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_some() {
            return Err(ErrorCode::UsernameTaken.into());
        }
        let row = sqlx::query(
            "INSERT INTO users (username, display_name, password_hash, disabled, created_at) \
             VALUES ($1, $2, $3, 0, $4) RETURNING id",
        )
        .bind(u.username.clone())
        .bind(u.display_name.trim().to_string())
        .bind(hash)
        .bind(now_ms)
        .fetch_one(&mut *tx)
        .await?;
        let id = get_i64(&row, "id")?;
        let detail = serde_json::json!({
            "user_id": id,
            "display_name": u.display_name.trim(),
            "grants": u.grants,
        });
        let event = actor.event(
            "user.create",
            format!("user:{}", u.username),
            detail.to_string(),
        );
        crate::audit::append_in(&mut tx, now_ms, &event).await?;
        for g in &u.grants {
            sqlx::query(
                "INSERT INTO role_grants (user_id, role, region_code, department_code) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(g.role.key())
            .bind(g.region.as_ref().map(|r| r.as_str().to_string()))
            .bind(g.department.as_ref().map(|d| d.as_str().to_string()))
            .execute(&mut *tx)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                    StoreError::Domain(ErrorCode::UnknownDepartment)
                }
                _ => StoreError::Db(e),
            })?;
        }
        crate::pii::write_user_pii_in(&mut tx, self, id, pii).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The principal if the username exists, is enabled and the password matches. Exactly one
    /// Argon2 check either way (against a dummy hash for unknown or disabled accounts), on the
    /// bounded blocking pool.
    pub async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Principal>, StoreError> {
        let row = sqlx::query("SELECT id, password_hash, disabled FROM users WHERE username = $1")
            .bind(username.to_string())
            .fetch_optional(&self.pool)
            .await?;
        let account = match &row {
            Some(r) if get_i64(r, "disabled")? == 0 => {
                Some((get_i64(r, "id")?, get_str(r, "password_hash")?))
            }
            _ => None,
        };
        let hash = account.as_ref().map_or(dummy_hash(), |(_, h)| h.as_str());
        let ok = self.check_password(password, hash).await?;
        match account {
            Some((id, _)) if ok => self.principal(id).await,
            _ => Ok(None),
        }
    }

    /// One sign-in password check (counted), on the bounded blocking pool.
    pub async fn check_password(&self, password: &str, phc: &str) -> Result<bool, StoreError> {
        self.auth_cache
            .password_checks
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        verify_password_pooled(password, phc).await
    }

    pub async fn principal(&self, user_id: i64) -> Result<Option<Principal>, StoreError> {
        let Some(user) = sqlx::query(
            "SELECT id, username, display_name FROM users WHERE id = $1 AND disabled = 0",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let rows = sqlx::query(
            "SELECT role, region_code, department_code FROM role_grants WHERE user_id = $1 ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        let mut grants = Vec::new();
        for r in &rows {
            let role = get_str(r, "role")?;
            grants.push(Grant {
                role: Role::from_key(&role)
                    .ok_or_else(|| StoreError::Corrupt(format!("role={role}")))?,
                region: match get_opt_str(r, "region_code")? {
                    Some(c) => Some(parse_stored("region_code", &c, RegionCode::parse)?),
                    None => None,
                },
                department: match get_opt_str(r, "department_code")? {
                    Some(c) => Some(parse_stored("department_code", &c, CreditCode::parse)?),
                    None => None,
                },
            });
        }
        Ok(Some(Principal {
            user_id: get_i64(&user, "id")?,
            username: get_str(&user, "username")?,
            display_name: get_str(&user, "display_name")?,
            grants,
        }))
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<(), StoreError> {
        self.create_session_of::<StaffSessions>(token_hash, user_id, now_ms, ttl_ms)
            .await
    }

    pub async fn session_principal(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<Principal>, StoreError> {
        let row =
            sqlx::query("SELECT user_id FROM sessions WHERE token_hash = $1 AND expires_at > $2")
                .bind(token_hash.to_string())
                .bind(now_ms)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some(r) => self.principal(r.try_get::<i64, _>("user_id")?).await,
            None => Ok(None),
        }
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.delete_session_of::<StaffSessions>(token_hash).await
    }

    pub async fn user_count(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM users")
            .fetch_one(&self.pool)
            .await?;
        get_i64(&row, "n")
    }
}
