//! API tokens for other systems: a role with a region/department scope (like a grant) and an
//! expiry. The raw token is returned once at creation; only its digest (SM3, algorithm recorded)
//! is stored. Revoked or expired tokens are refused.

use crate::audit::{AuditEvent, append_in};
use crate::rows::{get_i64, get_opt_i64, get_opt_str, get_str, parse_stored};
use crate::{Store, StoreError};
use rand::RngCore;
use sm3::{Digest, Sm3};
use yiwang_domain::enums::CodeSet;
use yiwang_domain::policy::{Grant, Principal, Role, may_issue_token};
use yiwang_domain::{CreditCode, ErrorCode, RegionCode};

/// Digest algorithm of newly stored tokens.
pub const TOKEN_HASH_ALG: &str = "sm3";
/// Every token starts with this, so that leaked tokens are easy to recognise in logs and scans.
pub const TOKEN_PREFIX: &str = "ywt_";

/// The stored digest of a raw token.
pub fn token_digest(raw: &str) -> String {
    hex::encode(Sm3::digest(raw.as_bytes()))
}

/// The audit actor name of requests made with token `id` (no account stands behind a token).
pub fn token_actor_name(id: i64) -> String {
    format!("api-token:{id}")
}

/// The token an audit entry was made with, if any: its actor is `api-token:<id>` with no
/// account (`actor_id` absent or 0).
pub fn token_of_entry(e: &AuditEvent) -> Option<i64> {
    if e.actor_id.is_some_and(|id| id != 0) {
        return None;
    }
    e.actor.strip_prefix("api-token:")?.parse().ok()
}

fn well_formed(raw: &str) -> bool {
    raw.strip_prefix(TOKEN_PREFIX)
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub name: String,
    pub grant: Grant,
    pub expires_at: i64,
}

/// A stored token (never the raw value).
#[derive(Debug, Clone)]
pub struct ApiToken {
    pub id: i64,
    /// The first characters of the raw token, to tell tokens apart.
    pub prefix: String,
    pub name: String,
    pub grant: Grant,
    pub hash_alg: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// The creator's account as it is now, read when a request presents the token (`None` in
    /// listings): a token acts only within its creator's current power.
    pub creator_now: Option<Principal>,
}

impl ApiToken {
    pub fn active(&self, now_ms: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at > now_ms
    }
    /// Whether the token may take `action` on `target` now: the policy's answer for its grant
    /// and its creator's current grants (no creator read: nothing).
    pub fn allows(
        &self,
        action: yiwang_domain::policy::Action,
        target: &yiwang_domain::policy::Target,
    ) -> bool {
        self.creator_now
            .as_ref()
            .is_some_and(|c| yiwang_domain::policy::token_allows(c, &self.grant, action, target))
    }
    /// The audit actor of a request bearing this token.
    pub fn actor(&self, client: impl Into<String>) -> crate::Actor {
        crate::Actor {
            id: None,
            name: token_actor_name(self.id),
            client: client.into(),
        }
    }
    /// The principal a request bearing this token acts as. `user_id` 0 belongs to no account,
    /// so object-level checks never treat a token as a person.
    pub fn principal(&self) -> Principal {
        Principal {
            user_id: 0,
            username: token_actor_name(self.id),
            display_name: self.name.clone(),
            grants: vec![self.grant.clone()],
        }
    }
}

const COLUMNS: &str = "id, prefix, name, role, region_code, department_code, hash_alg, created_by, \
                       created_at, expires_at, revoked_at, last_used_at";

fn decode(r: &sqlx::any::AnyRow) -> Result<ApiToken, StoreError> {
    let role = get_str(r, "role")?;
    Ok(ApiToken {
        id: get_i64(r, "id")?,
        prefix: get_str(r, "prefix")?,
        name: get_str(r, "name")?,
        grant: Grant {
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
        },
        hash_alg: get_str(r, "hash_alg")?,
        created_by: get_opt_i64(r, "created_by")?,
        created_at: get_i64(r, "created_at")?,
        expires_at: get_i64(r, "expires_at")?,
        revoked_at: get_opt_i64(r, "revoked_at")?,
        last_used_at: get_opt_i64(r, "last_used_at")?,
        creator_now: None,
    })
}

impl Store {
    /// Creates a token; returns its id and the raw token (shown once, never stored).
    pub async fn create_api_token(
        &self,
        t: &NewApiToken,
        creator: &Principal,
        client: &str,
        now_ms: i64,
    ) -> Result<(i64, String), StoreError> {
        let name = t.name.trim();
        if name.is_empty() {
            return Err(ErrorCode::Required.into());
        }
        if name.chars().count() > 100 {
            return Err(ErrorCode::TooLong.into());
        }
        if t.expires_at <= now_ms {
            return Err(ErrorCode::OutOfRange.into());
        }
        // Never more than the creator holds (checked here too, whoever calls).
        may_issue_token(creator, &t.grant).map_err(|r| StoreError::Domain(r.code()))?;
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let raw = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
        let prefix: String = raw.chars().take(TOKEN_PREFIX.len() + 6).collect();
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO api_tokens (token_hash, hash_alg, prefix, name, role, region_code, \
             department_code, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(token_digest(&raw))
        .bind(TOKEN_HASH_ALG)
        .bind(prefix.clone())
        .bind(name.to_string())
        .bind(t.grant.role.key())
        .bind(t.grant.region.as_ref().map(|r| r.as_str().to_string()))
        .bind(t.grant.department.as_ref().map(|d| d.as_str().to_string()))
        .bind(creator.user_id)
        .bind(now_ms)
        .bind(t.expires_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                StoreError::Domain(ErrorCode::UnknownDepartment)
            }
            _ => StoreError::Db(e),
        })?;
        let id = get_i64(&row, "id")?;
        append_in(
            &mut tx,
            now_ms,
            &AuditEvent {
                actor_id: Some(creator.user_id),
                actor: creator.username.clone(),
                action: "token.create".into(),
                object: format!("api_token:{id}"),
                detail: format!("{prefix} {} until {}", t.grant.role.key(), t.expires_at),
                client: client.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok((id, raw))
    }

    /// Every token, newest first.
    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM api_tokens ORDER BY id DESC");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode).collect()
    }

    pub async fn api_token(&self, id: i64) -> Result<Option<ApiToken>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM api_tokens WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decode).transpose()
    }

    /// Revokes a token; `false` if it does not exist or was already revoked.
    pub async fn revoke_api_token(
        &self,
        id: i64,
        by: &Principal,
        client: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now_ms)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        append_in(
            &mut tx,
            now_ms,
            &AuditEvent {
                actor_id: Some(by.user_id),
                actor: by.username.clone(),
                action: "token.revoke".into(),
                object: format!("api_token:{id}"),
                detail: String::new(),
                client: client.to_string(),
            },
        )
        .await?;
        tx.commit().await?;
        self.auth_changed();
        Ok(true)
    }

    /// The token a request presents, if it exists, is not revoked and has not expired. Marks it
    /// used (at most once a minute).
    pub async fn api_token_by_raw(
        &self,
        raw: &str,
        now_ms: i64,
    ) -> Result<Option<ApiToken>, StoreError> {
        if !well_formed(raw) {
            return Ok(None);
        }
        let digest = token_digest(raw);
        // Read in the last second, still valid and not due for its mark: no statement.
        if let Some(t) = self.auth_cache.token(&digest)
            && crate::auth_cache::token_usable(&t, now_ms)
        {
            return Ok(Some(t));
        }
        let epoch = self.auth_cache.epoch();
        let sql = format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL \
             AND expires_at > $2"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(digest.clone())
            .bind(now_ms)
            .fetch_optional(&self.pool)
            .await?;
        let Some(mut t) = row.as_ref().map(decode).transpose()? else {
            self.auth_cache.forget(&digest);
            return Ok(None);
        };
        // A token whose creator no longer holds its power (or no longer has an account) is no
        // longer in force; its other powers are cut to the creator's at each check.
        let creator = match t.created_by {
            Some(id) => self.principal(id).await?,
            None => None,
        };
        if creator
            .as_ref()
            .is_none_or(|c| may_issue_token(c, &t.grant).is_err())
        {
            self.auth_cache.forget(&digest);
            return Ok(None);
        }
        t.creator_now = creator;
        if t.last_used_at
            .is_none_or(|u| now_ms - u >= crate::session_consts::TOUCH_INTERVAL_MS)
        {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now_ms)
                .bind(t.id)
                .execute(&self.pool)
                .await?;
            t.last_used_at = Some(now_ms);
        }
        self.auth_cache.keep_token(&digest, t.clone(), epoch);
        Ok(Some(t))
    }
}
