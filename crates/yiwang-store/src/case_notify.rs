//! What the applicant is told when their case moves: a message in the site's message centre
//! and an SMS through the outbox, both written in the transaction that moved the case, so a
//! status change is never lost and never announced without happening.

use crate::applicants::APPLICANT_PHONE;
use crate::outbox::{ChannelKind, NewOutboxMessage};
use crate::rows::get_opt_str;
use crate::{Store, StoreError};
use yiwang_domain::case::CaseNumber;

/// Message key of the status-change notice; its arguments are `case_number` and `status_key`
/// (a key of the `case_status` message group, rendered in the reader's language).
pub const CASE_STATUS_MESSAGE: &str = "notify.case_status";

/// The applicant's phone number for the SMS of a status change (none without keys or phone);
/// read before the grouped write, so the writer does not wait for it.
pub(crate) async fn recipient_phone(
    store: &Store,
    applicant_id: i64,
) -> Result<Option<String>, StoreError> {
    let Some(keys) = store.keys() else {
        return Ok(None);
    };
    let row = sqlx::query("SELECT phone_enc FROM applicants WHERE id = $1")
        .bind(applicant_id)
        .fetch_optional(store.pool())
        .await?;
    match row
        .map(|r| get_opt_str(&r, "phone_enc"))
        .transpose()?
        .flatten()
    {
        Some(stored) => Ok(Some(APPLICANT_PHONE.open(keys, applicant_id, &stored)?)),
        None => Ok(None),
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn notify_in(
    store: &Store,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    applicant_id: i64,
    phone: Option<&str>,
    number: &CaseNumber,
    action: &str,
    status_key: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    let args = serde_json::json!({
        "case_number": number.as_str(),
        "status_key": status_key,
    });
    crate::messages::post_in(
        tx,
        applicant_id,
        Some(number.as_str()),
        CASE_STATUS_MESSAGE,
        &args,
        now_ms,
    )
    .await?;
    if let Some(phone) = phone {
        let msg = NewOutboxMessage {
            channel: ChannelKind::Sms,
            applicant_id,
            recipient: phone.to_string(),
            template_key: CASE_STATUS_MESSAGE.to_string(),
            args,
            case_number: Some(number.as_str().to_string()),
            dedup_key: Some(format!("case:{number}:{action}:{now_ms}:sms")),
            send_at_ms: now_ms,
        };
        store.outbox_enqueue_in(tx, &msg, now_ms).await?;
    }
    Ok(())
}
