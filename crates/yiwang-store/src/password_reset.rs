//! Applicants who forgot their password (忘记密码): the registered phone proves the account.
//!
//! A request names the sign-in identifier and the phone number. When both match an enabled
//! account, a six-digit code goes to that phone through the outbox (SMS), in the transaction
//! that stores the code; otherwise no code is stored and nothing is sent. The caller answers
//! the same either way, and the browser holds a random *ticket* in both cases, so the answer
//! does not tell whether the account exists.
//!
//! Only a keyed digest of the code is stored (HMAC-SM3 under the index key, bound to the
//! ticket), so a copy of the database cannot be searched for the code through all million
//! values. A code lives [`RESET_CODE_TTL_MS`], allows [`RESET_CODE_TRIES`] tries, and works once;
//! a new request closes the account's earlier codes. When the applicant has a one-time code
//! (TOTP) switched on, a current code from it is needed as well, so a stolen phone alone is not
//! enough. Every way a code can fail gets the same answer ([`ResetOutcome::Refused`]).
//!
//! A successful reset stores the new Argon2id hash, ends every session and pending sign-in of
//! the applicant, posts a message to their message centre and appends the audit entry, all in
//! one transaction. The SMS text keeps its arguments in the outbox (the dispatcher renders
//! them); once a code is used or locked, the code in that row is blanked.

use crate::accounts::{hash_password, password_acceptable};
use crate::applicant_totp::APPLICANT_TOTP;
use crate::applicants::{APPLICANT_ID_NUMBER, APPLICANT_PHONE, Applicant, applicant_of};
use crate::audit::append_in;
use crate::outbox::{ChannelKind, NewOutboxMessage};
use crate::rows::{get_i64, get_opt_i64, get_opt_str, get_str};
use crate::{Store, StoreError};
use rand::Rng;
use yiwang_crypto::KeyRing;
use yiwang_domain::ErrorCode;
use yiwang_domain::case::ApplicantId;
use yiwang_domain::codes::Phone;

use crate::password_consts::RESET_KEEP_MS as KEEP_MS;
pub use crate::password_consts::{
    RESET_CODE_MESSAGE, RESET_CODE_TRIES, RESET_CODE_TTL_MS, RESET_DONE_MESSAGE,
};
/// Kind of the code's keyed digest (keeps it apart from blind indexes of personal data).
const CODE_KIND: &str = "password_reset_code";
/// Kind of the throttling key of a requested identifier.
const THROTTLE_KIND: &str = "password_reset_throttle";
/// What the outbox row keeps in place of a code that can no longer be used.
const BLANKED: &str = "------";

/// A fresh six-digit code (uniform over 000000–999999).
pub fn new_code() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

fn well_formed(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

/// A submitted code with spaces removed (people type `123 456`).
fn normalised(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace())
        .take(16)
        .collect()
}

fn code_digest(keys: &KeyRing, ticket_hash: &str, code: &str) -> String {
    keys.blind_index(CODE_KIND, &format!("{ticket_hash}:{code}"))
}

/// Equality that takes the same time wherever the strings differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// A request for a code, already parsed.
#[derive(Debug, Clone)]
pub struct ResetRequest<'a> {
    pub id: &'a ApplicantId,
    pub phone: &'a Phone,
    /// SM3 digest of the random ticket the browser keeps until it enters the code.
    pub ticket_hash: &'a str,
    /// The six digits to send ([`new_code`]).
    pub code: &'a str,
    pub client: &'a str,
    pub now_ms: i64,
}

/// A code entered with the new password.
#[derive(Debug, Clone)]
pub struct ResetAttempt<'a> {
    pub ticket_hash: &'a str,
    pub code: &'a str,
    /// A current authenticator code; needed when the account has TOTP on (else ignored).
    pub totp: &'a str,
    pub new_password: &'a str,
    pub client: &'a str,
    pub now_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResetOutcome {
    /// The password is changed; every session of this applicant has ended.
    Done(Applicant),
    /// A wrong code or TOTP code, or no live code for the ticket (never sent, expired, used,
    /// locked or replaced): one answer for all.
    Refused,
}

impl Store {
    /// The throttling key of a requested identifier, the same whether or not an account has
    /// it, and not the blind index stored with the account.
    pub fn reset_throttle_key(&self, id: &ApplicantId) -> Result<String, StoreError> {
        let keys = self.keys().ok_or(StoreError::NoKeys)?;
        let mac = keys.blind_index(THROTTLE_KIND, &id.reveal());
        let tail = mac.rsplit(':').next().unwrap_or_default();
        Ok(format!("reset:{}", tail.get(..32).unwrap_or(tail)))
    }

    /// Sends a code when the identifier and phone belong to one enabled account; returns
    /// whether it did. A matching identifier with another phone is audited on the account.
    pub async fn request_password_reset(&self, r: &ResetRequest<'_>) -> Result<bool, StoreError> {
        if !well_formed(r.code) {
            return Err(ErrorCode::InvalidInput.into());
        }
        let keys = self.keys().ok_or(StoreError::NoKeys)?;
        let Some(idx) = APPLICANT_ID_NUMBER.index(keys, &r.id.reveal()) else {
            return Ok(false);
        };
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT id, handle, kind, display_name, legal_rep, phone_enc FROM applicants \
             WHERE id_number_idx = $1 AND disabled = 0",
        )
        .bind(idx)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            return Ok(false);
        };
        let a = applicant_of(&row)?;
        let phone = get_opt_str(&row, "phone_enc")?
            .map(|enc| APPLICANT_PHONE.open(keys, a.id, &enc))
            .transpose()?;
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        let object = format!("applicant:{}", a.handle);
        let Some(phone) = phone.filter(|p| same(&digits(p), &digits(r.phone.reveal()))) else {
            let event = a
                .actor(r.client)
                .event("password.reset_refused", object, "phone");
            append_in(&mut tx, r.now_ms, &event).await?;
            tx.commit().await?;
            return Ok(false);
        };
        sqlx::query("DELETE FROM password_reset_codes WHERE expires_at <= $1")
            .bind(r.now_ms - KEEP_MS)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE password_reset_codes SET closed_at = $1 \
             WHERE applicant_id = $2 AND closed_at IS NULL",
        )
        .bind(r.now_ms)
        .bind(a.id)
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(
            "INSERT INTO password_reset_codes \
             (ticket_hash, applicant_id, code_hash, created_at, expires_at, attempts) \
             VALUES ($1, $2, $3, $4, $5, 0) RETURNING id",
        )
        .bind(r.ticket_hash.to_string())
        .bind(a.id)
        .bind(code_digest(keys, r.ticket_hash, r.code))
        .bind(r.now_ms)
        .bind(r.now_ms + RESET_CODE_TTL_MS)
        .fetch_one(&mut *tx)
        .await?;
        let id = get_i64(&row, "id")?;
        let msg = NewOutboxMessage {
            channel: ChannelKind::Sms,
            applicant_id: a.id,
            recipient: phone,
            template_key: RESET_CODE_MESSAGE.to_string(),
            args: serde_json::json!({
                "code": r.code,
                "minutes": RESET_CODE_TTL_MS / 60_000,
            }),
            case_number: None,
            dedup_key: Some(format!("password-reset:{id}:sms")),
            send_at_ms: r.now_ms,
        };
        let outbox_id = self.outbox_enqueue_in(&mut tx, &msg, r.now_ms).await?;
        sqlx::query("UPDATE password_reset_codes SET outbox_id = $1 WHERE id = $2")
            .bind(outbox_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let event = a
            .actor(r.client)
            .event("password.reset_request", object, "sms");
        append_in(&mut tx, r.now_ms, &event).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Checks the code (and TOTP) of a ticket and, when right, sets the new password. A weak
    /// password is `weak_password` before any try is counted.
    pub async fn complete_password_reset(
        &self,
        at: &ResetAttempt<'_>,
    ) -> Result<ResetOutcome, StoreError> {
        if !password_acceptable(at.new_password) {
            return Err(ErrorCode::WeakPassword.into());
        }
        let keys = self.keys().ok_or(StoreError::NoKeys)?;
        // Argon2 before the transaction, so the write lock is held briefly; every try pays it.
        let hash = hash_password(at.new_password)?;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE password_reset_codes SET attempts = attempts + 1 \
             WHERE ticket_hash = $1 AND closed_at IS NULL AND expires_at > $2 AND attempts < $3 \
             RETURNING id, applicant_id, code_hash, attempts, outbox_id",
        )
        .bind(at.ticket_hash.to_string())
        .bind(at.now_ms)
        .bind(RESET_CODE_TRIES)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            // Nothing changed, but the statement took the write lock: release it now (a
            // dropped transaction is rolled back only when its connection is next used).
            tx.rollback().await?;
            return Ok(ResetOutcome::Refused);
        };
        let (id, applicant_id) = (get_i64(&row, "id")?, get_i64(&row, "applicant_id")?);
        let attempts = get_i64(&row, "attempts")?;
        let outbox_id = get_opt_i64(&row, "outbox_id")?;
        let code = normalised(at.code);
        let code_ok = well_formed(&code)
            && same(
                &code_digest(keys, at.ticket_hash, &code),
                &get_str(&row, "code_hash")?,
            );
        let Some(arow) = sqlx::query(
            "SELECT id, handle, kind, display_name, legal_rep, totp_enc FROM applicants \
             WHERE id = $1 AND disabled = 0",
        )
        .bind(applicant_id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            tx.rollback().await?;
            return Ok(ResetOutcome::Refused);
        };
        let a = applicant_of(&arow)?;
        let secret = get_opt_str(&arow, "totp_enc")?
            .map(|enc| APPLICANT_TOTP.open(keys, a.id, &enc))
            .transpose()?;
        let totp_ok = match (&secret, code_ok) {
            (None, _) => true,
            (Some(_), false) => false,
            (Some(s), true) => match crate::totp::verify(s, at.totp, at.now_ms) {
                // Each time step once, as at sign-in.
                Some(step) => {
                    sqlx::query(
                        "UPDATE applicants SET totp_last_step = $1 \
                         WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
                    )
                    .bind(step)
                    .bind(a.id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                        == 1
                }
                None => false,
            },
        };
        let object = format!("applicant:{}", a.handle);
        let actor = a.actor(at.client);
        if !(code_ok && totp_ok) {
            let reason = if code_ok { "totp" } else { "code" };
            let event = actor.event("password.reset_failure", object.clone(), reason);
            append_in(&mut tx, at.now_ms, &event).await?;
            if attempts >= RESET_CODE_TRIES {
                close_in(&mut tx, id, outbox_id, at.now_ms).await?;
                let detail = format!("{RESET_CODE_TRIES} wrong codes");
                let event = actor.event("password.reset_locked", object, detail);
                append_in(&mut tx, at.now_ms, &event).await?;
            }
            tx.commit().await?;
            return Ok(ResetOutcome::Refused);
        }
        close_in(&mut tx, id, outbox_id, at.now_ms).await?;
        sqlx::query("UPDATE applicants SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(a.id)
            .execute(&mut *tx)
            .await?;
        for sql in [
            <crate::sessions::ApplicantSessions as crate::sessions::SessionKind>::DELETE_ALL_OF,
            "DELETE FROM applicant_challenges WHERE applicant_id = $1",
        ] {
            sqlx::query(sql).bind(a.id).execute(&mut *tx).await?;
        }
        // Failures counted against the account end with it, and so does a lock: whoever proved
        // the phone (and the code) owns the account again.
        sqlx::query("DELETE FROM auth_throttle WHERE throttle_key = $1")
            .bind(crate::auth_guard::account_key(&a.handle))
            .execute(&mut *tx)
            .await?;
        crate::messages::post_in(
            &mut tx,
            a.id,
            None,
            RESET_DONE_MESSAGE,
            &serde_json::json!({}),
            at.now_ms,
        )
        .await?;
        let detail = if secret.is_some() { "sms+totp" } else { "sms" };
        append_in(
            &mut tx,
            at.now_ms,
            &actor.event("password.reset", object, detail),
        )
        .await?;
        tx.commit().await?;
        self.auth_changed();
        Ok(ResetOutcome::Done(a))
    }
}

/// Closes a code and blanks it in its SMS row (the dispatcher has read it already, or the code
/// is of no use any more).
async fn close_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    outbox_id: Option<i64>,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE password_reset_codes SET closed_at = $1 WHERE id = $2")
        .bind(now_ms)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    if let Some(o) = outbox_id {
        let args = serde_json::json!({ "code": BLANKED, "minutes": RESET_CODE_TTL_MS / 60_000 });
        sqlx::query("UPDATE outbox SET args = $1 WHERE id = $2 AND template_key = $3")
            .bind(args.to_string())
            .bind(o)
            .bind(RESET_CODE_MESSAGE)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..200 {
            let c = new_code();
            assert!(well_formed(&c), "{c}");
        }
        assert_eq!(normalised(" 123 456 "), "123456");
        assert!(!well_formed("12345"));
        assert!(!well_formed("12345a"));
        assert!(!well_formed("１２３４５６"));
    }

    #[test]
    fn equality_is_plain_equality() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
