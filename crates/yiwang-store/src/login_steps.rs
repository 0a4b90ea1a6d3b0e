//! The steps of a sign-in after the password: the server-side challenge between password and
//! one-time code, TOTP enrolment and replay protection, session idle timeout, "log out
//! everywhere" and password change.
//!
//! These are the staff steps. Applicant accounts follow the same rules with their own tables
//! and functions (`applicant_totp.rs`, `applicants.rs`); only whether TOTP is mandatory differs.

use crate::accounts::password_acceptable;
use crate::audit::{AuditEvent, append_in};
use crate::rows::{get_i64, get_opt_i64, get_opt_str, get_str};
use crate::sessions::{SessionKind, StaffSessions, end_all_in, end_others_in};
use crate::totp::TOTP_ALG;
use crate::{Store, StoreError};
use yiwang_domain::ErrorCode;
use yiwang_domain::policy::Principal;

pub use crate::session_consts::TOUCH_INTERVAL_MS;

/// What the pending sign-in still needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChallengeStage {
    /// No TOTP yet: show `secret` and ask for a first code.
    Enrol { secret: String },
    /// Ask for a code of the enrolled secret.
    Totp,
    /// Password and code accepted, but the password was set by an administrator: a new one must
    /// be chosen before the session starts.
    ChangePassword,
}

/// A pending sign-in (password accepted, code not yet).
#[derive(Debug, Clone)]
pub struct Challenge {
    pub user_id: i64,
    pub username: String,
    pub stage: ChallengeStage,
    pub expires_at: i64,
}

/// `users.totp_secret` when the secret itself is encrypted in `users.totp_enc`.
pub const TOTP_ENCRYPTED: &str = "enc";

pub const USER_TOTP: crate::pii::PiiColumn = crate::pii::PiiColumn {
    table: "users",
    id_column: "id",
    field: "totp",
    enc_column: "totp_enc",
    idx_column: None,
    kind: crate::pii::PiiKind::Text,
};

/// The TOTP state of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpInfo {
    pub secret: String,
    pub alg: String,
    pub enrolled_at: i64,
}

/// The outcome of presenting a valid code for a time step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepOutcome {
    Accepted,
    /// This step (or a later one) was already used: a replayed code.
    Replayed,
}

fn event(p_id: i64, actor: &str, action: &str, client: &str, detail: String) -> AuditEvent {
    AuditEvent {
        actor_id: Some(p_id),
        actor: actor.to_string(),
        action: action.to_string(),
        object: format!("user:{actor}"),
        detail,
        client: client.to_string(),
    }
}

/// Associated data of an offered key: bound to its pending sign-in.
fn enrol_aad(token_hash: &str) -> String {
    format!("login_challenges.enrol#{token_hash}")
}

impl Store {
    /// Starts a pending sign-in for `user_id`; the stage depends on whether TOTP is enrolled.
    /// Expired challenges of everyone are removed on the way.
    pub async fn create_challenge(
        &self,
        token_hash: &str,
        user_id: i64,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<ChallengeStage, StoreError> {
        let stage = match self.user_totp(user_id).await? {
            Some(_) => ChallengeStage::Totp,
            None => ChallengeStage::Enrol {
                secret: crate::totp::new_secret(),
            },
        };
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM login_challenges WHERE expires_at <= $1")
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        let (name, secret) = match &stage {
            ChallengeStage::Enrol { secret } => ("enrol", Some(secret.clone())),
            ChallengeStage::Totp => ("totp", None),
            ChallengeStage::ChangePassword => (crate::staff_password::CHANGE_STAGE, None),
        };
        // With data keys the offered key is kept encrypted, like an enrolled one.
        let (secret, enc) = match (secret, self.keys()) {
            (Some(s), Some(keys)) => (None, Some(keys.encrypt(&enrol_aad(token_hash), &s)?)),
            (s, _) => (s, None),
        };
        sqlx::query(
            "INSERT INTO login_challenges (token_hash, user_id, stage, enrol_secret, enrol_enc, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token_hash.to_string())
        .bind(user_id)
        .bind(name)
        .bind(secret)
        .bind(enc)
        .bind(now_ms)
        .bind(now_ms + ttl_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(stage)
    }

    /// The pending sign-in named by `token_hash`, if it has not expired and the account is enabled.
    pub async fn challenge(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<Challenge>, StoreError> {
        let row = sqlx::query(
            "SELECT c.user_id, c.stage, c.enrol_secret, c.enrol_enc, c.expires_at, u.username \
             FROM login_challenges c JOIN users u ON u.id = c.user_id \
             WHERE c.token_hash = $1 AND c.expires_at > $2 AND u.disabled = 0",
        )
        .bind(token_hash.to_string())
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let offered = match (
            get_opt_str(&r, "enrol_secret")?,
            get_opt_str(&r, "enrol_enc")?,
        ) {
            (Some(plain), _) => Some(plain),
            (None, Some(enc)) => {
                let keys = self.keys().ok_or(StoreError::NoKeys)?;
                Some(keys.decrypt(&enrol_aad(token_hash), &enc)?)
            }
            (None, None) => None,
        };
        let stage = match (get_str(&r, "stage")?.as_str(), offered) {
            ("enrol", Some(secret)) => ChallengeStage::Enrol { secret },
            ("totp", _) => ChallengeStage::Totp,
            (crate::staff_password::CHANGE_STAGE, _) => ChallengeStage::ChangePassword,
            (s, _) => return Err(StoreError::Corrupt(format!("login_challenges.stage={s}"))),
        };
        Ok(Some(Challenge {
            user_id: get_i64(&r, "user_id")?,
            username: get_str(&r, "username")?,
            stage,
            expires_at: get_i64(&r, "expires_at")?,
        }))
    }

    /// Counts one code attempt against the pending sign-in before the code is checked (one
    /// statement, so parallel requests cannot exceed it): the attempts so far (this one
    /// included), or `None` when it is gone, expired or has used its `limit` tries.
    pub async fn reserve_challenge_attempt(
        &self,
        token_hash: &str,
        now_ms: i64,
        limit: i64,
    ) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "UPDATE login_challenges SET attempts = attempts + 1 \
             WHERE token_hash = $1 AND expires_at > $2 AND attempts < $3 RETURNING attempts",
        )
        .bind(token_hash.to_string())
        .bind(now_ms)
        .bind(limit)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| get_i64(&r, "attempts")).transpose()
    }

    pub async fn delete_challenge(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_challenges WHERE token_hash = $1")
            .bind(token_hash.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The enrolled TOTP secret of an account, if any.
    pub async fn user_totp(&self, user_id: i64) -> Result<Option<TotpInfo>, StoreError> {
        let row = sqlx::query(
            "SELECT totp_secret, totp_enc, totp_alg, totp_enrolled_at FROM users WHERE id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let secret = match get_opt_str(&r, "totp_secret")? {
            Some(m) if m == TOTP_ENCRYPTED => match get_opt_str(&r, "totp_enc")? {
                Some(enc) => {
                    let keys = self.keys().ok_or(StoreError::NoKeys)?;
                    Some(USER_TOTP.open(keys, user_id, &enc)?)
                }
                None => return Err(StoreError::Corrupt(format!("totp of user {user_id}"))),
            },
            other => other,
        };
        match (
            secret,
            get_opt_str(&r, "totp_alg")?,
            get_opt_i64(&r, "totp_enrolled_at")?,
        ) {
            (Some(secret), Some(alg), Some(enrolled_at)) => Ok(Some(TotpInfo {
                secret,
                alg,
                enrolled_at,
            })),
            _ => Ok(None),
        }
    }

    /// Accepts a valid code's time step once: only a step later than the last accepted one
    /// passes (atomically, so two processes cannot both accept it). With `enrol`, the secret is
    /// stored at the same time, but only if the account has none yet.
    pub async fn accept_totp_step(
        &self,
        user_id: i64,
        step: i64,
        enrol: Option<&str>,
        now_ms: i64,
    ) -> Result<StepOutcome, StoreError> {
        let res = match enrol {
            None => sqlx::query(
                "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_secret IS NOT NULL \
                     AND (totp_last_step IS NULL OR totp_last_step < $1)",
            )
            .bind(step)
            .bind(user_id)
            .execute(&self.pool)
            .await?,
            Some(secret) => {
                // With data keys the secret is stored encrypted (marker in totp_secret), in
                // the same transaction as the step it was proved with.
                let mut tx = self.begin_write().await?;
                let stored = if self.keys().is_some() {
                    TOTP_ENCRYPTED.to_string()
                } else {
                    secret.to_string()
                };
                let res = sqlx::query(
                    "UPDATE users SET totp_last_step = $1, totp_secret = $2, totp_alg = $3, \
                     totp_enrolled_at = $4 WHERE id = $5 AND totp_secret IS NULL \
                     AND (totp_last_step IS NULL OR totp_last_step < $1)",
                )
                .bind(step)
                .bind(stored)
                .bind(TOTP_ALG)
                .bind(now_ms)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                if res.rows_affected() == 1 && self.keys().is_some() {
                    USER_TOTP
                        .write_in(&mut tx, self.keys(), user_id, Some(secret))
                        .await?;
                }
                tx.commit().await?;
                res
            }
        };
        if res.rows_affected() != 1 {
            return Ok(StepOutcome::Replayed);
        }
        if enrol.is_some() {
            let row = sqlx::query("SELECT username FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_one(&self.pool)
                .await?;
            let name = get_str(&row, "username")?;
            let e = event(user_id, &name, "totp.enrol", "", TOTP_ALG.to_string());
            self.audit(now_ms, &e).await?;
        }
        Ok(StepOutcome::Accepted)
    }

    /// Removes the TOTP secret of `username` (lost phone) and ends their sessions and pending
    /// sign-ins; the next sign-in enrols again. `false` if there is no such account.
    pub async fn reset_totp(
        &self,
        username: &str,
        actor: &str,
        client: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(row) = sqlx::query("SELECT id FROM users WHERE username = $1")
            .bind(username.to_string())
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(false);
        };
        let id = get_i64(&row, "id")?;
        sqlx::query(
            "UPDATE users SET totp_secret = NULL, totp_enc = NULL, totp_alg = NULL, totp_enrolled_at = NULL WHERE id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        for sql in [
            StaffSessions::DELETE_ALL_OF,
            "DELETE FROM login_challenges WHERE user_id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        let mut e = event(id, username, "totp.reset", client, String::new());
        e.actor_id = None;
        e.actor = actor.to_string();
        append_in(&mut tx, now_ms, &e).await?;
        tx.commit().await?;
        self.auth_changed();
        Ok(true)
    }

    /// The session's principal if it has neither reached its absolute end (`expires_at`) nor
    /// been idle for `idle_ms`; marks it used (at most once a minute).
    pub async fn active_session(
        &self,
        token_hash: &str,
        now_ms: i64,
        idle_ms: i64,
    ) -> Result<Option<Principal>, StoreError> {
        self.active_session_of::<StaffSessions>(token_hash, now_ms, idle_ms)
            .await
    }

    /// Completes a sign-in: audits it and clears the account's failure count.
    pub async fn record_login_success(
        &self,
        p: &Principal,
        client: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM auth_throttle WHERE throttle_key = $1 \
             AND (locked_until IS NULL OR locked_until <= $2)",
        )
        .bind(crate::auth_guard::account_key(&p.username))
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND expires_at <= $2")
            .bind(p.user_id)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        let e = event(
            p.user_id,
            &p.username,
            "login.success",
            client,
            String::new(),
        );
        append_in(&mut tx, now_ms, &e).await?;
        tx.commit().await?;
        Ok(())
    }

    /// "Log out everywhere": ends every session of the user; returns how many.
    pub async fn delete_user_sessions(
        &self,
        p: &Principal,
        client: &str,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = end_all_in::<StaffSessions>(&mut tx, p.user_id).await?;
        let e = event(
            p.user_id,
            &p.username,
            "session.logout_all",
            client,
            format!("{n} sessions"),
        );
        append_in(&mut tx, now_ms, &e).await?;
        tx.commit().await?;
        self.auth_changed();
        Ok(n)
    }

    /// Changes the signed-in user's password after checking the old one. Every other session of
    /// the user ends. Errors: `bad_login` (old password wrong), `weak_password`.
    pub async fn change_password(
        &self,
        p: &Principal,
        old: &str,
        new: &str,
        keep_session: &str,
        client: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let row = sqlx::query("SELECT password_hash FROM users WHERE id = $1 AND disabled = 0")
            .bind(p.user_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Err(ErrorCode::NotAuthenticated.into());
        };
        if !crate::accounts::verify_password_pooled(old, &get_str(&row, "password_hash")?).await? {
            return Err(ErrorCode::BadLogin.into());
        }
        if !password_acceptable(new) {
            return Err(ErrorCode::WeakPassword.into());
        }
        let hash = crate::accounts::hash_password_pooled(new).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2, \
             must_change_password = 0 WHERE id = $3",
        )
        .bind(hash)
        .bind(now_ms)
        .bind(p.user_id)
        .execute(&mut *tx)
        .await?;
        end_others_in::<StaffSessions>(&mut tx, p.user_id, keep_session).await?;
        let e = event(
            p.user_id,
            &p.username,
            "password.change",
            client,
            String::new(),
        );
        append_in(&mut tx, now_ms, &e).await?;
        tx.commit().await?;
        self.auth_changed();
        Ok(())
    }
}
