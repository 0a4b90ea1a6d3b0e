//! What the applicant is told when their case moves: a message in the site's message centre
//! and an SMS through the outbox, both written in the transaction that moved the case, so a
//! status change is never lost and never announced without happening.

use crate::applicants::APPLICANT_PHONE;
use crate::messages::{NewMessage, post_many_in};
use crate::outbox::{ChannelKind, NewOutboxMessage};
use crate::rows::get_opt_str;
use crate::{Store, StoreError};
use yiwang_domain::case::CaseNumber;

/// Message key of the status-change notice; its arguments are `case_number` and `status_key`
/// (a key of the `case_status` message group, rendered in the reader's language).
pub const CASE_STATUS_MESSAGE: &str = "notify.case_status";

/// The SMS of a submission: the case number with its query code (查询码), so a citizen can
/// follow the case on the progress page or through the hotline without signing in.
pub const CASE_SUBMITTED_SMS: &str = "notify.case_submitted_code";

/// The applicant's phone number for the SMS of a status change (none without keys or phone);
/// read before the grouped write, so the writer does not wait for it.
pub(crate) async fn recipient_phone(
    store: &Store,
    applicant_id: i64,
) -> Result<Option<String>, StoreError> {
    if store.keys().is_none() {
        return Ok(None);
    }
    let row = sqlx::query("SELECT phone_enc FROM applicants WHERE id = $1")
        .bind(applicant_id)
        .fetch_optional(store.pool())
        .await?;
    let stored = row.map(|r| get_opt_str(&r, "phone_enc")).transpose()?;
    phone_of(store, applicant_id, stored.flatten())
}

/// The phone of `applicant_id` from its stored (encrypted) value, when the store has keys.
pub(crate) fn phone_of(
    store: &Store,
    applicant_id: i64,
    stored: Option<String>,
) -> Result<Option<String>, StoreError> {
    match (store.keys(), stored) {
        (Some(keys), Some(stored)) => {
            Ok(Some(APPLICANT_PHONE.open(keys, applicant_id, &stored)?))
        }
        _ => Ok(None),
    }
}

/// One status change to tell an applicant about.
#[derive(Debug, Clone)]
pub(crate) struct Notice {
    pub applicant_id: i64,
    /// For the SMS; none when the applicant has no phone or the store no keys.
    pub phone: Option<String>,
    pub number: CaseNumber,
    pub action: String,
    /// Key of the `case_status` message group.
    pub status_key: String,
    pub now_ms: i64,
}

/// Tells each applicant of `notices` about their case, inside the transaction that moved the
/// cases: the message centre and the outbound channels (through the outbox), one statement per
/// table for all of them.
pub(crate) async fn notify_many_in(
    store: &Store,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    notices: &[Notice],
) -> Result<(), StoreError> {
    if notices.is_empty() {
        return Ok(());
    }
    let args: Vec<serde_json::Value> = notices
        .iter()
        .map(|n| {
            serde_json::json!({
                "case_number": n.number.as_str(),
                "status_key": n.status_key,
            })
        })
        .collect();
    let messages: Vec<NewMessage<'_>> = notices
        .iter()
        .zip(&args)
        .map(|(n, args)| NewMessage {
            applicant_id: n.applicant_id,
            case_number: Some(n.number.as_str()),
            title_key: CASE_STATUS_MESSAGE,
            args,
            at_ms: n.now_ms,
        })
        .collect();
    post_many_in(tx, &messages).await?;
    let sms: Vec<NewOutboxMessage> = notices
        .iter()
        .zip(args)
        .filter_map(|(n, mut args)| {
            let phone = n.phone.as_ref()?;
            let code = (n.action == "submit")
                .then(|| store.case_query_code(&n.number).ok())
                .flatten();
            let template_key = match code {
                Some(code) => {
                    args["query_code"] = serde_json::Value::String(code);
                    CASE_SUBMITTED_SMS
                }
                None => CASE_STATUS_MESSAGE,
            };
            Some(NewOutboxMessage {
                channel: ChannelKind::Sms,
                applicant_id: n.applicant_id,
                recipient: phone.clone(),
                template_key: template_key.to_string(),
                args,
                case_number: Some(n.number.as_str().to_string()),
                dedup_key: Some(format!("case:{}:{}:{}:sms", n.number, n.action, n.now_ms)),
                send_at_ms: n.now_ms,
            })
        })
        .collect();
    if sms.is_empty() {
        return Ok(());
    }
    let keys = store.keys().ok_or(StoreError::NoKeys)?;
    let now = notices.iter().map(|n| n.now_ms).max().unwrap_or_default();
    crate::outbox::enqueue_many_in(keys, tx, &sms, now).await
}
