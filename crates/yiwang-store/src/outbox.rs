//! The outbox of outbound notifications (SMS, WeChat): a message is written in the same
//! transaction as the business fact it announces, then delivered by a dispatcher that claims due
//! messages (like jobs, safe with several processes), calls the channel, and records every
//! attempt. A receiver that is down only delays delivery: nothing is lost.
//!
//! The recipient's address is personal data: it is stored encrypted ([`OUTBOX_RECIPIENT`],
//! associated data `outbox.recipient#<id>`) and only the dispatcher decrypts it. The address is
//! the one the caller gives at the time of the event, so the outbox does not depend on how
//! applicants store their contact details, and key rotation reaches it through `PII_COLUMNS`.

use crate::jobs::{ClaimSql, clip};
use crate::pii::{PiiColumn, PiiKind};
use crate::rows::{get_i64, get_opt_i64, get_opt_str, get_str, parse_stored, placeholders};
use crate::rowset::RowSet;
use crate::{Store, StoreError};
use serde_json::Value;
use sqlx::AssertSqlSafe;
use yiwang_crypto::KeyRing;
use yiwang_domain::ErrorCode;

/// The encrypted recipient address of an outbox message.
pub const OUTBOX_RECIPIENT: PiiColumn = PiiColumn {
    table: "outbox",
    id_column: "id",
    field: "recipient",
    enc_column: "recipient_enc",
    idx_column: None,
    kind: PiiKind::Text,
};

const MAX_ERROR_CHARS: usize = 1000;
const MAX_KEY_CHARS: usize = 200;
const MAX_RECIPIENT_CHARS: usize = 200;
const MAX_ARGS_BYTES: usize = 8 * 1024;

/// Message templates whose arguments carry a secret, and which argument: once the message is
/// delivered or given up, the value is replaced by [`REDACTED`].
const SECRET_ARGS: &[(&str, &str)] = &[(crate::password_reset::RESET_CODE_MESSAGE, "code")];
/// What replaces a secret argument after delivery.
pub const REDACTED: &str = "------";

/// The arguments of `msg` with its secret blanked, as stored JSON; `None` when it has none.
fn redacted_args(msg: &OutboxMessage) -> Option<String> {
    let (_, arg) = SECRET_ARGS
        .iter()
        .find(|(t, _)| *t == msg.template_key.as_str())?;
    let mut args = msg.args.clone();
    let slot = args.as_object_mut()?.get_mut(*arg)?;
    *slot = Value::String(REDACTED.to_string());
    serde_json::to_string(&args).ok()
}

/// An outbound channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Sms,
    Wechat,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 2] = [ChannelKind::Sms, ChannelKind::Wechat];
    pub fn key(self) -> &'static str {
        match self {
            ChannelKind::Sms => "sms",
            ChannelKind::Wechat => "wechat",
        }
    }
    pub fn from_key(k: &str) -> Option<Self> {
        ChannelKind::ALL.into_iter().find(|c| c.key() == k)
    }
}

/// Delivery state of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting for its (next) attempt at `due_at`.
    Pending,
    /// Claimed by a dispatcher until `due_at` (the lease).
    Sending,
    Sent,
    /// Failed too often; kept with its attempts for inspection.
    GaveUp,
}

impl OutboxStatus {
    pub fn key(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sending => "sending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::GaveUp => "gave_up",
        }
    }
    pub fn from_key(k: &str) -> Option<Self> {
        Some(match k {
            "pending" => OutboxStatus::Pending,
            "sending" => OutboxStatus::Sending,
            "sent" => OutboxStatus::Sent,
            "gave_up" => OutboxStatus::GaveUp,
            _ => return None,
        })
    }
}

/// A notification to send, given by the business code.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutboxMessage {
    pub channel: ChannelKind,
    pub applicant_id: i64,
    /// Phone number (SMS) or WeChat open id, as known at the time of the event.
    pub recipient: String,
    /// Message catalog key of the text (rendered in zh-CN when sent).
    pub template_key: String,
    /// The template's arguments: a JSON object of strings or numbers.
    pub args: Value,
    pub case_number: Option<String>,
    /// Makes enqueueing idempotent (e.g. `case:<n>:event:<seq>:sms`).
    pub dedup_key: Option<String>,
    /// First attempt not before this instant (usually now).
    pub send_at_ms: i64,
}

/// A stored message, without its recipient.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub channel: ChannelKind,
    pub applicant_id: i64,
    pub template_key: String,
    pub args: Value,
    pub case_number: Option<String>,
    pub status: OutboxStatus,
    /// Next attempt (pending) or end of the lease (sending).
    pub due_at: i64,
    /// Attempts made so far (a claimed message counts the current one).
    pub attempts: i64,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

/// A message claimed for delivery, with its decrypted recipient (`None`: missing, no keys, or
/// it does not decrypt — the dispatcher gives such a message up).
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedMessage {
    pub message: OutboxMessage,
    pub recipient: Option<String>,
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryAttempt {
    pub attempt: i64,
    pub at: i64,
    pub sent: bool,
    /// The receiver's answer (`HTTP 200`) or the error.
    pub detail: String,
}

const COLUMNS: &str = "id, channel, applicant_id, template_key, args, case_number, status, \
                       due_at, attempts, locked_by, last_error, created_at, sent_at";

fn message_from(row: &sqlx::any::AnyRow) -> Result<OutboxMessage, StoreError> {
    let channel = get_str(row, "channel")?;
    let status = get_str(row, "status")?;
    let args = get_str(row, "args")?;
    Ok(OutboxMessage {
        id: get_i64(row, "id")?,
        channel: parse_stored("channel", &channel, |c| ChannelKind::from_key(c).ok_or(()))?,
        applicant_id: get_i64(row, "applicant_id")?,
        template_key: get_str(row, "template_key")?,
        args: parse_stored("args", &args, |s| serde_json::from_str(s))?,
        case_number: get_opt_str(row, "case_number")?,
        status: parse_stored("status", &status, |s| OutboxStatus::from_key(s).ok_or(()))?,
        due_at: get_i64(row, "due_at")?,
        attempts: get_i64(row, "attempts")?,
        locked_by: get_opt_str(row, "locked_by")?,
        last_error: get_opt_str(row, "last_error")?,
        created_at: get_i64(row, "created_at")?,
        sent_at: get_opt_i64(row, "sent_at")?,
    })
}

fn valid_args(args: &Value) -> bool {
    match args {
        Value::Object(m) => m
            .values()
            .all(|v| matches!(v, Value::String(_) | Value::Number(_))),
        _ => false,
    }
}

/// The trimmed recipient and the stored arguments of a message, after checking both.
fn checked(msg: &NewOutboxMessage) -> Result<(&str, String), StoreError> {
    let recipient = msg.recipient.trim();
    if recipient.is_empty()
        || recipient.chars().count() > MAX_RECIPIENT_CHARS
        || msg.template_key.is_empty()
        || msg.template_key.chars().count() > MAX_KEY_CHARS
        || msg
            .case_number
            .as_deref()
            .is_some_and(|c| c.chars().count() > MAX_KEY_CHARS)
        || msg
            .dedup_key
            .as_deref()
            .is_some_and(|k| k.is_empty() || k.chars().count() > MAX_KEY_CHARS)
        || !valid_args(&msg.args)
    {
        return Err(ErrorCode::InvalidInput.into());
    }
    let args = serde_json::to_string(&msg.args).map_err(|_| ErrorCode::InvalidInput)?;
    if args.len() > MAX_ARGS_BYTES {
        return Err(ErrorCode::TooLong.into());
    }
    Ok((recipient, args))
}

/// Writes many notifications inside `tx`: one insert for the rows, one update for their
/// encrypted recipients (the recipient's AAD names the row id, known only after the insert).
/// A message whose `dedup_key` was seen before adds nothing, as with
/// [`Store::outbox_enqueue_in`]. Every message must carry a `dedup_key`.
pub(crate) async fn enqueue_many_in(
    keys: &KeyRing,
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    messages: &[NewOutboxMessage],
    now_ms: i64,
) -> Result<(), StoreError> {
    let mut rows = RowSet::new(10);
    let mut recipients = std::collections::HashMap::new();
    for m in messages {
        let (recipient, args) = checked(m)?;
        let key = m.dedup_key.clone().ok_or(ErrorCode::InvalidInput)?;
        recipients.insert(key.clone(), recipient);
        rows.push(vec![
            m.channel.key().into(),
            m.applicant_id.into(),
            m.template_key.as_str().into(),
            args.into(),
            m.case_number.clone().into(),
            key.into(),
            "pending".into(),
            m.send_at_ms.into(),
            0.into(),
            now_ms.into(),
        ])?;
    }
    let inserted = rows
        .fetch(
            tx,
            "INSERT INTO outbox (channel, applicant_id, template_key, args, case_number, \
             dedup_key, status, due_at, attempts, created_at) VALUES {values} \
             ON CONFLICT (dedup_key) DO NOTHING RETURNING id, dedup_key",
        )
        .await?;
    let mut sealed = RowSet::new(2);
    for r in &inserted {
        let id = get_i64(r, "id")?;
        let key = get_str(r, "dedup_key")?;
        let recipient = recipients
            .get(key.as_str())
            .ok_or_else(|| StoreError::Corrupt("outbox dedup key".into()))?;
        let (enc, _) = OUTBOX_RECIPIENT.seal(keys, id, recipient)?;
        sealed.push(vec![id.into(), enc.into()])?;
    }
    sealed
        .execute(
            tx,
            "WITH v(id, enc) AS (VALUES {values}) \
             UPDATE outbox SET recipient_enc = v.enc FROM v WHERE outbox.id = v.id",
        )
        .await
}

impl Store {
    /// Writes a notification inside the business transaction `tx`. Returns the message id; a
    /// `dedup_key` seen before adds nothing and returns the earlier message's id. Needs the
    /// data keys (the recipient is encrypted).
    pub async fn outbox_enqueue_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        msg: &NewOutboxMessage,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        let (recipient, args) = checked(msg)?;
        let keys = self.keys().ok_or(StoreError::NoKeys)?;
        let row = sqlx::query(
            "INSERT INTO outbox (channel, applicant_id, template_key, args, case_number, \
             dedup_key, status, due_at, attempts, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, 0, $8) \
             ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
        )
        .bind(msg.channel.key())
        .bind(msg.applicant_id)
        .bind(msg.template_key.as_str())
        .bind(args)
        .bind(msg.case_number.as_deref())
        .bind(msg.dedup_key.as_deref())
        .bind(msg.send_at_ms)
        .bind(now_ms)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(row) = row else {
            let existing = sqlx::query("SELECT id FROM outbox WHERE dedup_key = $1")
                .bind(msg.dedup_key.as_deref())
                .fetch_one(&mut **tx)
                .await?;
            return get_i64(&existing, "id");
        };
        let id = get_i64(&row, "id")?;
        OUTBOX_RECIPIENT
            .write_in(tx, Some(keys), id, Some(recipient))
            .await?;
        Ok(id)
    }

    /// [`Store::outbox_enqueue_in`] in a transaction of its own.
    pub async fn outbox_enqueue(
        &self,
        msg: &NewOutboxMessage,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = self.outbox_enqueue_in(&mut tx, msg, now_ms).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Claims the oldest message due at `now_ms` on one of `channels` (pending, or sending under
    /// an expired lease) for `worker` until `now_ms + lease_ms`. Each message goes to one
    /// dispatcher at a time, across processes.
    pub async fn claim_outbox(
        &self,
        now_ms: i64,
        lease_ms: i64,
        worker: &str,
        channels: &[ChannelKind],
    ) -> Result<Option<ClaimedMessage>, StoreError> {
        if channels.is_empty() {
            return Ok(None);
        }
        let extra = format!(" AND channel IN ({})", placeholders(4, channels.len()));
        let returning = format!("{COLUMNS}, recipient_enc");
        let sql = ClaimSql {
            table: "outbox",
            status_col: "status",
            waiting: "pending",
            active: "sending",
            set: "status = 'sending', due_at = $2, locked_by = $3, attempts = attempts + 1",
            extra: &extra,
            returning: &returning,
        }
        .build(self.backend);
        let mut q = sqlx::query(AssertSqlSafe(sql))
            .bind(now_ms)
            .bind(now_ms.saturating_add(lease_ms.max(1)))
            .bind(worker);
        for c in channels {
            q = q.bind(c.key());
        }
        let Some(row) = q.fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let message = message_from(&row)?;
        let recipient = match (get_opt_str(&row, "recipient_enc")?, self.keys()) {
            (Some(enc), Some(keys)) => OUTBOX_RECIPIENT.open(keys, message.id, &enc).ok(),
            _ => None,
        };
        Ok(Some(ClaimedMessage { message, recipient }))
    }

    /// Records a successful attempt of a claimed message. `false` when the lease was lost
    /// (another dispatcher has the message now) — nothing is recorded then.
    pub async fn outbox_sent(
        &self,
        msg: &OutboxMessage,
        detail: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        self.outbox_record(msg, true, detail, None, now_ms).await
    }

    /// Records a failed attempt: retried at `retry_at_ms`, or given up with `None`.
    pub async fn outbox_failed(
        &self,
        msg: &OutboxMessage,
        error: &str,
        retry_at_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        self.outbox_record(msg, false, error, retry_at_ms, now_ms)
            .await
    }

    async fn outbox_record(
        &self,
        msg: &OutboxMessage,
        sent: bool,
        detail: &str,
        retry_at_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let detail = clip(detail, MAX_ERROR_CHARS);
        let (status, due, sent_at, error) = match (sent, retry_at_ms) {
            (true, _) => ("sent", now_ms, Some(now_ms), None),
            (false, Some(at)) => ("pending", at, None, Some(detail.as_str())),
            (false, None) => ("gave_up", now_ms, None, Some(detail.as_str())),
        };
        // Delivered or given up: a secret in the arguments (a reset code) has done its work
        // and must not stay readable in the outbox.
        let redacted = if status == "pending" {
            None
        } else {
            redacted_args(msg)
        };
        let mut tx = self.begin_write().await?;
        let res = sqlx::query(
            "UPDATE outbox SET status = $1, due_at = $2, sent_at = $3, \
             last_error = COALESCE($4, last_error), locked_by = NULL, args = COALESCE($8, args) \
             WHERE id = $5 AND status = 'sending' AND attempts = $6 AND locked_by = $7",
        )
        .bind(status)
        .bind(due)
        .bind(sent_at)
        .bind(error)
        .bind(msg.id)
        .bind(msg.attempts)
        .bind(msg.locked_by.as_deref())
        .bind(redacted)
        .execute(&mut *tx)
        .await?;
        if res.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO outbox_attempts (message_id, attempt, at, outcome, detail) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(msg.id)
        .bind(msg.attempts)
        .bind(now_ms)
        .bind(if sent { "sent" } else { "failed" })
        .bind(detail.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// One message (without its recipient).
    pub async fn outbox_message(&self, id: i64) -> Result<Option<OutboxMessage>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM outbox WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(message_from).transpose()
    }

    /// The messages for one applicant, newest first, at most `limit`.
    pub async fn outbox_for_applicant(
        &self,
        applicant_id: i64,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox WHERE applicant_id = $1 ORDER BY id DESC LIMIT $2"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(applicant_id)
            .bind(limit.clamp(1, 1000))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(message_from).collect()
    }

    /// Every attempt made for a message, in order.
    pub async fn outbox_attempts(&self, id: i64) -> Result<Vec<DeliveryAttempt>, StoreError> {
        let rows = sqlx::query(
            "SELECT attempt, at, outcome, detail FROM outbox_attempts \
             WHERE message_id = $1 ORDER BY attempt",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DeliveryAttempt {
                    attempt: get_i64(r, "attempt")?,
                    at: get_i64(r, "at")?,
                    sent: get_str(r, "outcome")? == "sent",
                    detail: get_str(r, "detail")?,
                })
            })
            .collect()
    }
}
