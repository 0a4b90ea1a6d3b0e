//! Optional second step for applicants: a TOTP secret (encrypted at rest), the last accepted
//! time step (a code is never accepted twice), and the short-lived challenge between a correct
//! password and the code.

use crate::applicants::Applicant;
use crate::audit::append_in;
use crate::pii::{PiiColumn, PiiKind};
use crate::rows::{get_i64, get_opt_str};
use crate::sessions::{ApplicantSessions, end_all_in, end_others_in};
use crate::{Store, StoreError};

pub const APPLICANT_TOTP: PiiColumn = PiiColumn {
    table: "applicants",
    id_column: "id",
    field: "totp",
    enc_column: "totp_enc",
    idx_column: None,
    kind: PiiKind::Text,
};

impl Store {
    /// The applicant's TOTP secret, when the second step is on.
    pub async fn applicant_totp(&self, applicant_id: i64) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT totp_enc FROM applicants WHERE id = $1")
            .bind(applicant_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(stored) = row
            .map(|r| get_opt_str(&r, "totp_enc"))
            .transpose()?
            .flatten()
        else {
            return Ok(None);
        };
        let keys = self.keys().ok_or(StoreError::NoKeys)?;
        APPLICANT_TOTP.open(keys, applicant_id, &stored).map(Some)
    }

    /// Turns the second step on (`Some(secret)`, after the applicant proved a code from it) or
    /// off (`None`), with an audit entry.
    pub async fn set_applicant_totp(
        &self,
        a: &Applicant,
        secret: Option<&str>,
        client: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        APPLICANT_TOTP
            .write_in(&mut tx, self.keys(), a.id, secret)
            .await?;
        sqlx::query("UPDATE applicants SET totp_last_step = NULL WHERE id = $1")
            .bind(a.id)
            .execute(&mut *tx)
            .await?;
        let action = if secret.is_some() {
            "totp.enable"
        } else {
            "totp.disable"
        };
        let event = a
            .actor(client)
            .event(action, format!("applicant:{}", a.handle), "");
        append_in(&mut tx, now_ms, &event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records `step` as used; false when it (or a later one) was used already.
    pub async fn accept_applicant_totp_step(
        &self,
        applicant_id: i64,
        step: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE applicants SET totp_last_step = $1 \
             WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(applicant_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn create_applicant_challenge(
        &self,
        token_hash: &str,
        applicant_id: i64,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO applicant_challenges (token_hash, applicant_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash.to_string())
        .bind(applicant_id)
        .bind(now_ms)
        .bind(now_ms + ttl_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The applicant of a live challenge (it stays until used or expired).
    pub async fn applicant_challenge(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "SELECT applicant_id FROM applicant_challenges WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash.to_string())
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| get_i64(&r, "applicant_id")).transpose()
    }

    /// Counts one code attempt against the pending sign-in before the code is checked (one
    /// statement); the applicant and the attempts so far (this one included), or `None` when
    /// it is gone, expired or has used its `limit` tries.
    pub async fn reserve_applicant_challenge_attempt(
        &self,
        token_hash: &str,
        now_ms: i64,
        limit: i64,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        let row = sqlx::query(
            "UPDATE applicant_challenges SET attempts = attempts + 1 \
             WHERE token_hash = $1 AND expires_at > $2 AND attempts < $3 \
             RETURNING applicant_id, attempts",
        )
        .bind(token_hash.to_string())
        .bind(now_ms)
        .bind(limit)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((get_i64(&r, "applicant_id")?, get_i64(&r, "attempts")?)))
            .transpose()
    }

    pub async fn delete_applicant_challenge(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM applicant_challenges WHERE token_hash = $1")
            .bind(token_hash.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

impl Store {
    /// Changes an applicant's password (the old one must match; the policy applies) and ends
    /// their other sessions, in one transaction with an audit entry. A walk-in account without
    /// a password cannot use this (it has no old password): the counter sets one up.
    pub async fn change_applicant_password(
        &self,
        a: &Applicant,
        old: &str,
        new: &str,
        keep_session: &str,
        client: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let row =
            sqlx::query("SELECT password_hash FROM applicants WHERE id = $1 AND disabled = 0")
                .bind(a.id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::Domain(
                    yiwang_domain::ErrorCode::NotAuthenticated,
                ))?;
        let hash: String = crate::rows::get_str(&row, "password_hash")?;
        if !crate::accounts::verify_password_pooled(old, &hash).await? {
            return Err(yiwang_domain::ErrorCode::BadLogin.into());
        }
        if !crate::accounts::password_acceptable(new) {
            return Err(yiwang_domain::ErrorCode::WeakPassword.into());
        }
        let new_hash = crate::accounts::hash_password_pooled(new).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE applicants SET password_hash = $1 WHERE id = $2")
            .bind(new_hash)
            .bind(a.id)
            .execute(&mut *tx)
            .await?;
        end_others_in::<ApplicantSessions>(&mut tx, a.id, keep_session).await?;
        let event = a
            .actor(client)
            .event("password.change", format!("applicant:{}", a.handle), "");
        append_in(&mut tx, now_ms, &event).await?;
        tx.commit().await?;
        self.auth_changed();
        Ok(())
    }

    /// Ends every session of the applicant (this one included), audited.
    pub async fn end_applicant_sessions(
        &self,
        a: &Applicant,
        client: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        end_all_in::<ApplicantSessions>(&mut tx, a.id).await?;
        let event = a
            .actor(client)
            .event("logout.all", format!("applicant:{}", a.handle), "");
        append_in(&mut tx, now_ms, &event).await?;
        tx.commit().await?;
        self.auth_changed();
        Ok(())
    }
}
