//! The in-site message centre (站内消息): one row per message to an applicant, written in the
//! business transaction of the event it tells about. A message stores a catalog key and its
//! arguments, so it is shown in the reader's language. An applicant reaches only their own
//! messages: every read and write names the applicant.

use crate::rows::{get_i64, get_opt_i64, get_opt_str, get_str, parse_stored};
use crate::rowset::RowSet;
use crate::{Store, StoreError};
use serde_json::Value;
use yiwang_domain::ErrorCode;

const MAX_KEY_CHARS: usize = 200;
const MAX_ARGS_BYTES: usize = 8 * 1024;
/// Most messages on one page.
pub const MAX_PAGE: i64 = 100;
/// Unread counts stop here (the page shows "99+"); the count never scans a long history.
pub const UNREAD_CAP: i64 = 100;

/// One message as shown to its applicant.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SiteMessage {
    pub id: i64,
    pub applicant_id: i64,
    pub case_number: Option<String>,
    pub title_key: String,
    /// The title's arguments: a JSON object of strings or numbers.
    pub args: Value,
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// One page of messages, newest first; `next` is the cursor of the following page.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MessagePage {
    pub items: Vec<SiteMessage>,
    /// Pass as `before` to get the next (older) page; `None` at the end.
    pub next: Option<i64>,
}

fn message_from(row: &sqlx::any::AnyRow) -> Result<SiteMessage, StoreError> {
    let args = get_str(row, "args")?;
    Ok(SiteMessage {
        id: get_i64(row, "id")?,
        applicant_id: get_i64(row, "applicant_id")?,
        case_number: get_opt_str(row, "case_number")?,
        title_key: get_str(row, "title_key")?,
        args: parse_stored("args", &args, |s| serde_json::from_str(s))?,
        created_at: get_i64(row, "created_at")?,
        read_at: get_opt_i64(row, "read_at")?,
    })
}

/// The stored arguments of a message, after checking its key and arguments.
fn checked_args(
    title_key: &str,
    case_number: Option<&str>,
    args: &Value,
) -> Result<String, StoreError> {
    let args_ok = match args {
        Value::Object(m) => m
            .values()
            .all(|v| matches!(v, Value::String(_) | Value::Number(_))),
        _ => false,
    };
    if !args_ok
        || title_key.is_empty()
        || title_key.chars().count() > MAX_KEY_CHARS
        || case_number.is_some_and(|c| c.is_empty() || c.chars().count() > MAX_KEY_CHARS)
    {
        return Err(ErrorCode::InvalidInput.into());
    }
    let text = serde_json::to_string(args).map_err(|_| ErrorCode::InvalidInput)?;
    if text.len() > MAX_ARGS_BYTES {
        return Err(ErrorCode::TooLong.into());
    }
    Ok(text)
}

/// Posts a message to an applicant inside the business transaction `tx`; returns its id.
pub async fn post_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    applicant_id: i64,
    case_number: Option<&str>,
    title_key: &str,
    args: &Value,
    at_ms: i64,
) -> Result<i64, StoreError> {
    let m = NewMessage {
        applicant_id,
        case_number,
        title_key,
        args,
        at_ms,
    };
    let rows = insert(tx, std::slice::from_ref(&m), " RETURNING id").await?;
    let row = rows
        .first()
        .ok_or_else(|| StoreError::Corrupt("message id".into()))?;
    get_i64(row, "id")
}

/// A message to post with others in one statement.
pub(crate) struct NewMessage<'a> {
    pub applicant_id: i64,
    pub case_number: Option<&'a str>,
    pub title_key: &'a str,
    pub args: &'a Value,
    pub at_ms: i64,
}

/// Posts many messages inside `tx` with one multi-row insert (a group commit's notices).
pub(crate) async fn post_many_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    messages: &[NewMessage<'_>],
) -> Result<(), StoreError> {
    insert(tx, messages, "").await.map(|_| ())
}

async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    messages: &[NewMessage<'_>],
    returning: &str,
) -> Result<Vec<sqlx::any::AnyRow>, StoreError> {
    let mut rows = RowSet::new(5);
    for m in messages {
        let text = checked_args(m.title_key, m.case_number, m.args)?;
        rows.push(vec![
            m.applicant_id.into(),
            m.case_number.map(str::to_string).into(),
            m.title_key.into(),
            text.into(),
            m.at_ms.into(),
        ])?;
    }
    rows.fetch(
        tx,
        &format!(
            "INSERT INTO messages (applicant_id, case_number, title_key, args, created_at) \
             VALUES {{values}}{returning}"
        ),
    )
    .await
}

impl Store {
    /// [`post_in`] in a transaction of its own.
    pub async fn post_message(
        &self,
        applicant_id: i64,
        case_number: Option<&str>,
        title_key: &str,
        args: &Value,
        at_ms: i64,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = post_in(&mut tx, applicant_id, case_number, title_key, args, at_ms).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// An applicant's messages, newest first: `limit` (1..=100) of them with an id below
    /// `before` (`None`: from the newest).
    pub async fn messages_for(
        &self,
        applicant_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> Result<MessagePage, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let rows = sqlx::query(
            "SELECT id, applicant_id, case_number, title_key, args, created_at, read_at \
             FROM messages WHERE applicant_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(applicant_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await?;
        let mut items = rows
            .iter()
            .map(message_from)
            .collect::<Result<Vec<_>, _>>()?;
        let more = items.len() as i64 > limit;
        items.truncate(usize::try_from(limit).unwrap_or(0));
        let next = if more {
            items.last().map(|m| m.id)
        } else {
            None
        };
        Ok(MessagePage { items, next })
    }

    /// How many unread messages an applicant has, counted up to [`UNREAD_CAP`].
    pub async fn unread_count(&self, applicant_id: i64) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM (SELECT id FROM messages \
             WHERE applicant_id = $1 AND read_at IS NULL LIMIT $2) AS unread",
        )
        .bind(applicant_id)
        .bind(UNREAD_CAP)
        .fetch_one(&self.pool)
        .await?;
        get_i64(&row, "n")
    }

    /// Marks one of the applicant's own messages read (reading twice keeps the first time).
    /// Another applicant's message, or none, is `NotFound` (its existence is not revealed).
    pub async fn mark_message_read(
        &self,
        applicant_id: i64,
        id: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let res = sqlx::query(
            "UPDATE messages SET read_at = COALESCE(read_at, $1) \
             WHERE id = $2 AND applicant_id = $3",
        )
        .bind(now_ms)
        .bind(id)
        .bind(applicant_id)
        .execute(&self.pool)
        .await?;
        if res.rows_affected() == 1 {
            Ok(())
        } else {
            Err(ErrorCode::NotFound.into())
        }
    }

    /// Marks all of an applicant's messages read; returns how many changed.
    pub async fn mark_all_messages_read(
        &self,
        applicant_id: i64,
        now_ms: i64,
    ) -> Result<u64, StoreError> {
        let res = sqlx::query(
            "UPDATE messages SET read_at = $1 WHERE applicant_id = $2 AND read_at IS NULL",
        )
        .bind(now_ms)
        .bind(applicant_id)
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected())
    }
}
