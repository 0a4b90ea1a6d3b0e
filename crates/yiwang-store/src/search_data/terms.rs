//! Search terms: synonyms, dictionary words and stop words.

use super::bump;
use crate::audit::{Actor, append_in};
use crate::rows::{get_i64, get_str};
use crate::{Store, StoreError};
use yiwang_domain::ErrorCode;

/// A stored search term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchTermRow {
    pub id: i64,
    /// `synonym`, `word` or `stopword`.
    pub kind: String,
    pub phrase: String,
    pub expansion: String,
    pub updated_at: i64,
    pub updated_by: String,
}

fn term_from(r: &sqlx::any::AnyRow) -> Result<SearchTermRow, StoreError> {
    Ok(SearchTermRow {
        id: get_i64(r, "id")?,
        kind: get_str(r, "kind")?,
        phrase: get_str(r, "phrase")?,
        expansion: get_str(r, "expansion")?,
        updated_at: get_i64(r, "updated_at")?,
        updated_by: get_str(r, "updated_by")?,
    })
}

impl Store {
    /// Every search term, by kind then phrase.
    pub async fn search_terms(&self) -> Result<Vec<SearchTermRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kind, phrase, expansion, updated_at, updated_by FROM search_terms \
             ORDER BY kind, phrase",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(term_from).collect()
    }

    /// Adds a term or, when one of this kind and phrase exists, replaces its expansion.
    /// The caller has checked the values. Audited as `search.term.save`.
    pub async fn save_search_term(
        &self,
        kind: &str,
        phrase: &str,
        expansion: &str,
        actor: &Actor,
        now_ms: i64,
    ) -> Result<i64, StoreError> {
        if phrase.trim().is_empty() || kind.is_empty() {
            return Err(ErrorCode::InvalidInput.into());
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO search_terms (kind, phrase, expansion, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, phrase) DO UPDATE SET \
             expansion = excluded.expansion, updated_at = excluded.updated_at, \
             updated_by = excluded.updated_by",
        )
        .bind(kind.to_string())
        .bind(phrase.to_string())
        .bind(expansion.to_string())
        .bind(now_ms)
        .bind(actor.name.clone())
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query("SELECT id FROM search_terms WHERE kind = $1 AND phrase = $2")
            .bind(kind.to_string())
            .bind(phrase.to_string())
            .fetch_one(&mut *tx)
            .await?;
        let id = get_i64(&row, "id")?;
        bump(&mut tx).await?;
        let detail = serde_json::json!({"kind": kind, "phrase": phrase, "expansion": expansion});
        let event = actor.event(
            "search.term.save",
            format!("search_term:{id}"),
            detail.to_string(),
        );
        append_in(&mut tx, now_ms, &event).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Changes a term in place (kind, phrase and expansion); false when there is no such term.
    /// Another term with the same kind and phrase is a conflict. Audited as
    /// `search.term.update` with the values before and after.
    pub async fn update_search_term(
        &self,
        id: i64,
        kind: &str,
        phrase: &str,
        expansion: &str,
        actor: &Actor,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        if phrase.trim().is_empty() || kind.is_empty() {
            return Err(ErrorCode::InvalidInput.into());
        }
        let mut tx = self.begin_write().await?;
        let before = sqlx::query(
            "SELECT id, kind, phrase, expansion, updated_at, updated_by FROM search_terms WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(before) = before else {
            return Ok(false);
        };
        let before = term_from(&before)?;
        let clash =
            sqlx::query("SELECT id FROM search_terms WHERE kind = $1 AND phrase = $2 AND id <> $3")
                .bind(kind.to_string())
                .bind(phrase.to_string())
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if clash.is_some() {
            return Err(ErrorCode::Conflict.into());
        }
        sqlx::query(
            "UPDATE search_terms SET kind = $1, phrase = $2, expansion = $3, updated_at = $4, \
             updated_by = $5 WHERE id = $6",
        )
        .bind(kind.to_string())
        .bind(phrase.to_string())
        .bind(expansion.to_string())
        .bind(now_ms)
        .bind(actor.name.clone())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        bump(&mut tx).await?;
        let detail = serde_json::json!({
            "before": {"kind": before.kind, "phrase": before.phrase, "expansion": before.expansion},
            "after": {"kind": kind, "phrase": phrase, "expansion": expansion},
        });
        let event = actor.event(
            "search.term.update",
            format!("search_term:{id}"),
            detail.to_string(),
        );
        append_in(&mut tx, now_ms, &event).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes a term; false when there was none. Audited as `search.term.delete`.
    pub async fn delete_search_term(
        &self,
        id: i64,
        actor: &Actor,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let before = sqlx::query("SELECT id, kind, phrase, expansion, updated_at, updated_by FROM search_terms WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(before) = before else {
            return Ok(false);
        };
        let before = term_from(&before)?;
        sqlx::query("DELETE FROM search_terms WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        bump(&mut tx).await?;
        let detail = serde_json::json!({"kind": before.kind, "phrase": before.phrase, "expansion": before.expansion});
        let event = actor.event(
            "search.term.delete",
            format!("search_term:{id}"),
            detail.to_string(),
        );
        append_in(&mut tx, now_ms, &event).await?;
        tx.commit().await?;
        Ok(true)
    }
}
