//! Data of the search service that administrators edit — search terms ([`terms`]) and 一件事
//! life-event definitions ([`life_events`]) — and what the search index reads of the published
//! catalog ([`index`]). Every write bumps the search-data generation that running searchers
//! watch, and is audited in the same transaction.

mod index;
mod life_events;
mod terms;

pub use index::IndexedImplementation;
pub use life_events::LifeEventRow;
pub use terms::SearchTermRow;

use crate::rows::get_i64;
use crate::{Store, StoreError};

/// Seed data, loaded once into an empty installation.
#[derive(Debug, Clone, Default)]
pub struct SearchSeed {
    /// (kind, phrase, expansion)
    pub terms: Vec<(String, String, String)>,
    /// (code, name, region code, definition JSON)
    pub life_events: Vec<(String, String, String, String)>,
}

/// Marks a change of search data for running searchers.
async fn bump(tx: &mut sqlx::Transaction<'_, sqlx::Any>) -> Result<(), StoreError> {
    sqlx::query("UPDATE search_data_state SET generation = generation + 1 WHERE id = 1")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// Increases whenever search terms or life events change.
    pub async fn search_data_generation(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT generation FROM search_data_state WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        get_i64(&row, "generation")
    }

    /// Loads the seed into a fresh installation; does nothing once seeded (even if an
    /// administrator has since deleted every term). True when it loaded the seed.
    pub async fn seed_search_data(
        &self,
        seed: &SearchSeed,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let claimed =
            sqlx::query("UPDATE search_data_state SET seeded = 1 WHERE id = 1 AND seeded = 0")
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if claimed == 0 {
            return Ok(false);
        }
        for (kind, phrase, expansion) in &seed.terms {
            sqlx::query(
                "INSERT INTO search_terms (kind, phrase, expansion, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, phrase) DO NOTHING",
            )
            .bind(kind.clone())
            .bind(phrase.clone())
            .bind(expansion.clone())
            .bind(now_ms)
            .bind("seed".to_string())
            .execute(&mut *tx)
            .await?;
        }
        for (code, name, region, definition) in &seed.life_events {
            sqlx::query(
                "INSERT INTO life_events (code, name, region_code, definition, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (code) DO NOTHING",
            )
            .bind(code.clone())
            .bind(name.clone())
            .bind(region.clone())
            .bind(definition.clone())
            .bind(now_ms)
            .bind("seed".to_string())
            .execute(&mut *tx)
            .await?;
        }
        bump(&mut tx).await?;
        tx.commit().await?;
        Ok(true)
    }
}
