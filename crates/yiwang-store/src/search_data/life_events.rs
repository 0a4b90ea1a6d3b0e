//! 一件事 life-event definitions (JSON checked by the search crate before it is saved).

use super::bump;
use crate::audit::{Actor, append_in};
use crate::rows::{get_i64, get_str};
use crate::{Store, StoreError};
use yiwang_domain::ErrorCode;

/// A stored life-event definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifeEventRow {
    pub code: String,
    pub name: String,
    pub region_code: String,
    /// The definition as JSON.
    pub definition: String,
    pub updated_at: i64,
    pub updated_by: String,
}

impl Store {
    /// Every life-event definition, by code.
    pub async fn life_events(&self) -> Result<Vec<LifeEventRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT code, name, region_code, definition, updated_at, updated_by FROM life_events ORDER BY code",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LifeEventRow {
                    code: get_str(r, "code")?,
                    name: get_str(r, "name")?,
                    region_code: get_str(r, "region_code")?,
                    definition: get_str(r, "definition")?,
                    updated_at: get_i64(r, "updated_at")?,
                    updated_by: get_str(r, "updated_by")?,
                })
            })
            .collect()
    }

    /// Adds or replaces a life event (the definition was checked by the caller). Audited as
    /// `search.life_event.save`.
    pub async fn save_life_event(
        &self,
        code: &str,
        name: &str,
        region_code: &str,
        definition: &str,
        actor: &Actor,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        if code.is_empty() || name.trim().is_empty() {
            return Err(ErrorCode::InvalidInput.into());
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO life_events (code, name, region_code, definition, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
             region_code = excluded.region_code, definition = excluded.definition, \
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(code.to_string())
        .bind(name.to_string())
        .bind(region_code.to_string())
        .bind(definition.to_string())
        .bind(now_ms)
        .bind(actor.name.clone())
        .execute(&mut *tx)
        .await?;
        bump(&mut tx).await?;
        let detail = serde_json::json!({"code": code, "name": name, "region": region_code});
        let event = actor.event(
            "search.life_event.save",
            format!("life_event:{code}"),
            detail.to_string(),
        );
        append_in(&mut tx, now_ms, &event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a life event; false when there was none. Audited as `search.life_event.delete`.
    pub async fn delete_life_event(
        &self,
        code: &str,
        actor: &Actor,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM life_events WHERE code = $1")
            .bind(code.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        bump(&mut tx).await?;
        let event = actor.event(
            "search.life_event.delete",
            format!("life_event:{code}"),
            "{}",
        );
        append_in(&mut tx, now_ms, &event).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The codes among `codes` that name no standard item of the catalog.
    pub async fn unknown_basic_codes(&self, codes: &[String]) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for c in codes {
            let row = sqlx::query("SELECT basic_code FROM standard_items WHERE basic_code = $1")
                .bind(c.clone())
                .fetch_optional(&self.pool)
                .await?;
            if row.is_none() && !out.contains(c) {
                out.push(c.clone());
            }
        }
        Ok(out)
    }
}
