//! Staff passwords set by an administrator (重置密码). The administrator gets a generated
//! temporary password to hand over (shown once, never stored in clear); every session and pending
//! sign-in of the account ends; and the account is marked so that its next sign-in, after the
//! password and the one-time code, must choose a new password before any session starts.

use crate::accounts::password_acceptable;
use crate::audit::{Actor, append_in};
use crate::rows::{get_i64, get_str};
use crate::{Store, StoreError};
use rand::Rng;
use yiwang_domain::ErrorCode;
use yiwang_domain::policy::Principal;

use crate::password_consts::{
    TEMPORARY_ALPHABET as ALPHABET, TEMPORARY_GROUP_LEN as GROUP_LEN, TEMPORARY_GROUPS as GROUPS,
};

/// A temporary password: three groups of four characters joined by `-` (about 69 bits), with
/// lower and upper case and a digit, so it meets the password policy.
pub fn temporary_password() -> String {
    let mut rng = rand::rng();
    loop {
        let groups: Vec<String> = (0..GROUPS)
            .map(|_| {
                (0..GROUP_LEN)
                    .filter_map(|_| ALPHABET.get(rng.random_range(0..ALPHABET.len())))
                    .map(|b| char::from(*b))
                    .collect()
            })
            .collect();
        let p = groups.join("-");
        let all = p.chars().any(|c| c.is_ascii_lowercase())
            && p.chars().any(|c| c.is_ascii_uppercase())
            && p.chars().any(|c| c.is_ascii_digit());
        if all && password_acceptable(&p) {
            return p;
        }
    }
}

pub(crate) use crate::password_consts::CHANGE_STAGE;

impl Store {
    /// Sets `temporary` as the password of account `user_id`, marks it to be changed at the next
    /// sign-in, and ends its sessions and pending sign-ins, with the audit entry, in one
    /// transaction. `false` when there is no such account.
    pub async fn reset_user_password(
        &self,
        user_id: i64,
        temporary: &str,
        by: &Actor,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        if !password_acceptable(temporary) {
            return Err(ErrorCode::WeakPassword.into());
        }
        let hash = crate::accounts::hash_password_pooled(temporary).await?;
        let mut tx = self.begin_write().await?;
        let Some(row) = sqlx::query("SELECT username FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?
        else {
            tx.rollback().await?;
            return Ok(false);
        };
        let username = get_str(&row, "username")?;
        sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = 1, \
             password_changed_at = $2 WHERE id = $3",
        )
        .bind(hash)
        .bind(now_ms)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        let mut ended = 0;
        for sql in [
            <crate::sessions::StaffSessions as crate::sessions::SessionKind>::DELETE_ALL_OF,
            "DELETE FROM login_challenges WHERE user_id = $1",
        ] {
            ended += sqlx::query(sql)
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        let event = by.event(
            "password.reset_by_admin",
            format!("user:{username}"),
            format!("temporary password; {ended} sessions and sign-ins ended"),
        );
        append_in(&mut tx, now_ms, &event).await?;
        tx.commit().await?;
        self.auth_changed();
        Ok(true)
    }

    /// Whether the account's password was set by an administrator and not yet changed.
    pub async fn must_change_password(&self, user_id: i64) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT must_change_password FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => get_i64(&r, "must_change_password")? != 0,
            None => false,
        })
    }

    /// A pending sign-in (password and code accepted) that must choose a new password first.
    pub async fn create_password_challenge(
        &self,
        token_hash: &str,
        user_id: i64,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO login_challenges (token_hash, user_id, stage, enrol_secret, created_at, expires_at) \
             VALUES ($1, $2, $3, NULL, $4, $5)",
        )
        .bind(token_hash.to_string())
        .bind(user_id)
        .bind(CHANGE_STAGE)
        .bind(now_ms)
        .bind(now_ms + ttl_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Sets the new password of the pending sign-in `token_hash` (stage "choose a new
    /// password"), lifts the mark and ends the pending sign-in; returns the principal to start
    /// the session for. `None` when the pending sign-in is gone. `weak_password` when the policy
    /// refuses the password or it is the temporary one.
    pub async fn finish_forced_password_change(
        &self,
        token_hash: &str,
        new: &str,
        client: &str,
        now_ms: i64,
    ) -> Result<Option<Principal>, StoreError> {
        let row = sqlx::query(
            "SELECT c.user_id, u.username, u.password_hash FROM login_challenges c \
             JOIN users u ON u.id = c.user_id \
             WHERE c.token_hash = $1 AND c.stage = $2 AND c.expires_at > $3 AND u.disabled = 0",
        )
        .bind(token_hash.to_string())
        .bind(CHANGE_STAGE)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let user_id = get_i64(&row, "user_id")?;
        let username = get_str(&row, "username")?;
        if !password_acceptable(new)
            || crate::accounts::verify_password_pooled(new, &get_str(&row, "password_hash")?)
                .await?
        {
            return Err(ErrorCode::WeakPassword.into());
        }
        let hash = crate::accounts::hash_password_pooled(new).await?;
        let mut tx = self.begin_write().await?;
        let gone = sqlx::query("DELETE FROM login_challenges WHERE token_hash = $1")
            .bind(token_hash.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 0;
        if gone {
            // Used by a parallel request meanwhile.
            tx.rollback().await?;
            return Ok(None);
        }
        sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = 0, \
             password_changed_at = $2 WHERE id = $3",
        )
        .bind(hash)
        .bind(now_ms)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        let event = crate::audit::AuditEvent {
            actor_id: Some(user_id),
            actor: username.clone(),
            action: "password.change".into(),
            object: format!("user:{username}"),
            detail: "after an administrator's reset".into(),
            client: client.to_string(),
        };
        append_in(&mut tx, now_ms, &event).await?;
        tx.commit().await?;
        self.principal(user_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_passwords_meet_the_policy_and_differ() {
        let a = temporary_password();
        let b = temporary_password();
        assert_ne!(a, b);
        for p in [a, b] {
            assert!(password_acceptable(&p), "{p}");
            assert_eq!(p.len(), 14, "{p}");
            assert!(!p.contains(['0', 'O', '1', 'l', 'I']), "{p}");
        }
    }
}
