//! Data of the search service that administrators edit: search terms (synonyms, dictionary
//! words, stop words) and 一件事 life-event definitions (JSON checked by the search crate
//! before it is saved). Every write bumps the search-data generation that running searchers
//! watch, and is audited in the same transaction.

use crate::audit::{Actor, append_in};
use crate::rows::{get_i64, get_str, parse_stored};
use crate::{PublishedImplementation, Store, StoreError};
use std::collections::HashMap;
use yiwang_domain::ErrorCode;
use yiwang_domain::catalog::{
    HandlingItem, Implementation, MaterialRequirement, StandardItem, TimeLimit, VersionStatus,
};
use yiwang_domain::enums::{
    Audience, CaseType, CodeSet, HandlingKind, ItemType, OnlineDepth, TimeUnit,
};
use yiwang_domain::{BasicCode, CreditCode, ImplCode, RegionCode};

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

/// Seed data, loaded once into an empty installation.
#[derive(Debug, Clone, Default)]
pub struct SearchSeed {
    /// (kind, phrase, expansion)
    pub terms: Vec<(String, String, String)>,
    /// (code, name, region code, definition JSON)
    pub life_events: Vec<(String, String, String, String)>,
}

async fn bump(tx: &mut sqlx::Transaction<'_, sqlx::Any>) -> Result<(), StoreError> {
    sqlx::query("UPDATE search_data_state SET generation = generation + 1 WHERE id = 1")
        .execute(&mut **tx)
        .await?;
    Ok(())
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
        let mut tx = self.pool.begin().await?;
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
        let mut tx = self.pool.begin().await?;
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
        let mut tx = self.pool.begin().await?;
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

    /// Deletes a term; false when there was none. Audited as `search.term.delete`.
    pub async fn delete_search_term(
        &self,
        id: i64,
        actor: &Actor,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
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
        let mut tx = self.pool.begin().await?;
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
        let mut tx = self.pool.begin().await?;
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

    /// Every published implementation with what a search index reads of it — and only that:
    /// names, department, region, acceptance conditions, limits, visits, online depth, result,
    /// audiences, themes, handling items and material names. The other fields (legal basis,
    /// fees, channels, addresses, phones, material details) are left empty, so these values are
    /// for indexing only. Five whole-table queries (no id lists), about half the values of
    /// [`Store::published_all`]: a full reindex reads 100,000 implementations in a few seconds.
    pub async fn published_for_index(&self) -> Result<Vec<PublishedImplementation>, StoreError> {
        let rows = sqlx::query(
            "SELECT i.id, i.code, i.version, i.basic_code, i.department_code, i.department_name, \
             i.region_code, i.acceptance_conditions, i.promised_amount, i.promised_unit, \
             i.visits, i.online_depth, i.result_name, s.name AS std_name, s.item_type, s.level \
             FROM implementations i JOIN standard_items s ON s.basic_code = i.basic_code \
             WHERE i.status = 'published' ORDER BY i.code",
        )
        .fetch_all(&self.pool)
        .await?;
        let corrupt = |what: &str| StoreError::Corrupt(what.to_string());
        fn key<T: CodeSet>(row: &sqlx::any::AnyRow, col: &str) -> Result<T, StoreError> {
            let v = get_str(row, col)?;
            T::from_key(&v).ok_or_else(|| StoreError::Corrupt(format!("{col}={v}")))
        }
        let mut out = Vec::with_capacity(rows.len());
        let mut index: HashMap<i64, usize> = HashMap::with_capacity(rows.len());
        for row in &rows {
            let basic_code =
                parse_stored("basic_code", &get_str(row, "basic_code")?, BasicCode::parse)?;
            let promised = TimeLimit {
                amount: u32::try_from(get_i64(row, "promised_amount")?)
                    .map_err(|_| corrupt("promised_amount"))?,
                unit: key::<TimeUnit>(row, "promised_unit")?,
            };
            let implementation = Implementation {
                code: parse_stored("code", &get_str(row, "code")?, ImplCode::parse)?,
                basic_code: basic_code.clone(),
                department_code: parse_stored(
                    "department_code",
                    &get_str(row, "department_code")?,
                    CreditCode::parse,
                )?,
                department_name: get_str(row, "department_name")?,
                region: parse_stored(
                    "region_code",
                    &get_str(row, "region_code")?,
                    RegionCode::parse,
                )?,
                acceptance_conditions: get_str(row, "acceptance_conditions")?,
                statutory_limit: promised,
                promised_limit: promised,
                case_type: CaseType::ALL
                    .first()
                    .copied()
                    .ok_or_else(|| corrupt("case_type"))?,
                visits: u8::try_from(get_i64(row, "visits")?).map_err(|_| corrupt("visits"))?,
                online_depth: key::<OnlineDepth>(row, "online_depth")?,
                charged: false,
                fee_basis: String::new(),
                audiences: Vec::new(),
                themes: Vec::new(),
                channels: Vec::new(),
                anywhere: None,
                hall_address: String::new(),
                hours: String::new(),
                consult_phone: String::new(),
                complaint_phone: String::new(),
                result_name: get_str(row, "result_name")?,
                extras: Vec::new(),
                handling_items: Vec::new(),
                materials: Vec::new(),
            };
            let id = get_i64(row, "id")?;
            index.insert(id, out.len());
            out.push(PublishedImplementation {
                id,
                version: get_i64(row, "version")?,
                status: VersionStatus::Published,
                created_at: 0,
                published_at: None,
                published_by: None,
                standard: StandardItem {
                    basic_code,
                    name: get_str(row, "std_name")?,
                    item_type: key::<ItemType>(row, "item_type")?,
                    level: key(row, "level")?,
                    legal_basis: String::new(),
                },
                implementation,
            });
        }
        drop(rows);
        let children = |table: &str, cols: &str| {
            format!(
                "SELECT c.implementation_id, {cols} FROM {table} c JOIN implementations i \
                 ON i.id = c.implementation_id WHERE i.status = 'published' \
                 ORDER BY c.implementation_id, c.position"
            )
        };
        let fetch = |table: &str, cols: &str| {
            sqlx::query(sqlx::AssertSqlSafe(children(table, cols))).fetch_all(&self.pool)
        };
        let slot = |r: &sqlx::any::AnyRow| -> Result<Option<usize>, StoreError> {
            Ok(index.get(&get_i64(r, "implementation_id")?).copied())
        };
        for r in &fetch("implementation_audiences", "c.audience").await? {
            if let Some(i) = slot(r)? {
                out[i]
                    .implementation
                    .audiences
                    .push(key::<Audience>(r, "audience")?);
            }
        }
        for r in &fetch("implementation_themes", "c.theme").await? {
            if let Some(i) = slot(r)? {
                out[i].implementation.themes.push(get_str(r, "theme")?);
            }
        }
        for r in &fetch("handling_items", "c.kind, c.name").await? {
            if let Some(i) = slot(r)? {
                out[i].implementation.handling_items.push(HandlingItem {
                    kind: key::<HandlingKind>(r, "kind")?,
                    name: get_str(r, "name")?,
                });
            }
        }
        for r in &fetch("materials", "c.name").await? {
            if let Some(i) = slot(r)? {
                out[i].implementation.materials.push(MaterialRequirement {
                    name: get_str(r, "name")?,
                    issuer: String::new(),
                    originals: 0,
                    copies: 0,
                    mandatory: false,
                    licence_type: String::new(),
                    instructions: String::new(),
                    extras: Vec::new(),
                });
            }
        }
        Ok(out)
    }

    /// Code and version of every published implementation (what a search index must hold).
    pub async fn published_versions(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT code, version FROM implementations WHERE status = 'published' ORDER BY code",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((get_str(r, "code")?, get_i64(r, "version")?)))
            .collect()
    }
}
