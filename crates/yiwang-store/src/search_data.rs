//! Data of the search service that administrators edit: search terms (synonyms, dictionary
//! words, stop words) and 一件事 life-event definitions (JSON checked by the search crate
//! before it is saved). Every write bumps the search-data generation that running searchers
//! watch, and is audited in the same transaction.

use crate::audit::{Actor, append_in};
use crate::rows::{
    get_i64, get_opt_i64, get_opt_str, get_str, json_array, json_list, parse_stored,
};
use crate::{Backend, PublishedImplementation, Store, StoreError};
use serde::de::DeserializeOwned;
use sqlx::AnyPool;
use std::collections::HashMap;
use tokio::task::JoinHandle;
use yiwang_domain::ErrorCode;
use yiwang_domain::catalog::{
    HandlingItem, Implementation, MaterialRequirement, StandardItem, TimeLimit, VersionStatus,
};
use yiwang_domain::enums::{CaseType, CodeSet, ItemType, LevelSet, OnlineDepth, TimeUnit};
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

    /// Every published implementation with what a search index reads of it — and only that:
    /// names, department, region, acceptance conditions, limits, visits, online depth, result,
    /// audiences, themes, handling items and material names, by code. The other fields (legal
    /// basis, fees, channels, addresses, phones, material details) are left empty, so these
    /// values are for indexing only.
    ///
    /// The implementations and their four child tables are read side by side, each on a
    /// connection of its own, in ranges of ids: one statement per range returns the range's
    /// rows gathered into one JSON list by the database, so a national catalog of 100,000
    /// implementations and a million child rows comes back as about a hundred rows. Child rows
    /// are read by id range alone (a version's rows do not change once written) and those of
    /// versions that are not published are dropped here.
    pub async fn published_for_index(&self) -> Result<Vec<PublishedImplementation>, StoreError> {
        let row = sqlx::query(
            "SELECT min(id) AS lo, max(id) AS hi FROM implementations WHERE status = 'published'",
        )
        .fetch_one(&self.pool)
        .await?;
        let (Some(lo), Some(hi)) = (get_opt_i64(&row, "lo")?, get_opt_i64(&row, "hi")?) else {
            return Ok(Vec::new());
        };
        let ids = IdRanges { lo, hi };
        let b = self.backend;
        let audiences = self.child_lists::<String>(ids, "implementation_audiences", "audience");
        let themes = self.child_lists::<String>(ids, "implementation_themes", "theme");
        let handling = self.child_lists::<(String, String)>(
            ids,
            "handling_items",
            match b {
                Backend::Sqlite => "json_array(kind, name)",
                Backend::Postgres => "json_build_array(kind, name)",
            },
        );
        let materials = self.child_lists::<String>(ids, "materials", "name");
        let row = json_array(
            b,
            "i.id, i.code, i.version, i.basic_code, i.department_code, i.department_name, \
             i.region_code, i.acceptance_conditions, i.promised_amount, i.promised_unit, \
             i.visits, i.online_depth, i.result_name, s.name, s.item_type, s.levels, i.level",
        );
        // SQLite: the id range, not the status index, picks the rows.
        let not_indexed = if b == Backend::Sqlite {
            " NOT INDEXED"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {list} AS list FROM implementations i{not_indexed} \
             JOIN standard_items s ON s.basic_code = i.basic_code \
             WHERE i.id >= $1 AND i.id < $2 AND i.status = 'published'",
            list = json_list(b, &row, "")
        );
        // The widest rows: read in two halves side by side.
        let main = ids.halves().map(|half| {
            let (pool, sql) = (self.pool.clone(), sql.clone());
            tokio::spawn(async move {
                let rows: Vec<IndexRow> = in_ranges(&pool, sql, half, "implementations").await?;
                rows.into_iter()
                    .map(IndexRow::into_published)
                    .collect::<Result<Vec<_>, _>>()
            })
        });
        let mut out = Vec::new();
        for half in main {
            out.extend(joined(half).await?);
        }
        out.sort_unstable_by(|a, b| a.implementation.code.cmp(&b.implementation.code));
        let mut audiences = joined(audiences).await?;
        let mut themes = joined(themes).await?;
        let mut handling = joined(handling).await?;
        let mut materials = joined(materials).await?;
        for p in &mut out {
            let imp = &mut p.implementation;
            for a in audiences.remove(&p.id).unwrap_or_default() {
                imp.audiences.push(stored_key(&a, "audience")?);
            }
            imp.themes = themes.remove(&p.id).unwrap_or_default();
            for (kind, name) in handling.remove(&p.id).unwrap_or_default() {
                imp.handling_items.push(HandlingItem {
                    kind: stored_key(&kind, "kind")?,
                    name,
                });
            }
            imp.materials = materials
                .remove(&p.id)
                .unwrap_or_default()
                .into_iter()
                .map(|name| MaterialRequirement {
                    name,
                    issuer: String::new(),
                    originals: 0,
                    copies: 0,
                    mandatory: false,
                    licence_type: String::new(),
                    instructions: String::new(),
                    extras: Vec::new(),
                })
                .collect();
        }
        Ok(out)
    }

    /// Starts reading a child table of the implementations with ids in `ids`, on a connection
    /// of its own: implementation id → its values (`value`: a column of the table or a JSON
    /// array of columns) in position order.
    fn child_lists<T: DeserializeOwned + Send + 'static>(
        &self,
        ids: IdRanges,
        table: &'static str,
        value: &str,
    ) -> JoinHandle<Result<Lists<T>, StoreError>> {
        let pair = json_array(self.backend, &format!("implementation_id, {value}"));
        let sql = format!(
            "SELECT {list} AS list FROM {table} \
             WHERE implementation_id >= $1 AND implementation_id < $2",
            list = json_list(self.backend, &pair, " ORDER BY implementation_id, position")
        );
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let mut out: Lists<T> = HashMap::new();
            for (id, v) in in_ranges::<(i64, T)>(&pool, sql, ids, table).await? {
                out.entry(id).or_default().push(v);
            }
            Ok(out)
        })
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

/// Ids per statement of [`Store::published_for_index`].
const IDS_PER_RANGE: i64 = 4096;

/// The ids from `lo` to `hi` (inclusive), read [`IDS_PER_RANGE`] at a time.
#[derive(Debug, Clone, Copy)]
struct IdRanges {
    lo: i64,
    hi: i64,
}

impl IdRanges {
    /// The lower and the upper half of the ids.
    fn halves(self) -> [IdRanges; 2] {
        let mid = self.lo + (self.hi - self.lo) / 2;
        [
            IdRanges {
                lo: self.lo,
                hi: mid,
            },
            IdRanges {
                lo: mid + 1,
                hi: self.hi,
            },
        ]
    }
}

type Lists<T> = HashMap<i64, Vec<T>>;

/// Runs `sql` (whose `$1` and `$2` bound an id range, and whose one column `list` gathers the
/// range's rows into a JSON list) over every range of `ids` on one connection: the lists'
/// items, range after range.
async fn in_ranges<T: DeserializeOwned>(
    pool: &AnyPool,
    sql: String,
    ids: IdRanges,
    what: &str,
) -> Result<Vec<T>, StoreError> {
    let mut conn = pool.acquire().await?;
    let mut out = Vec::new();
    let mut start = ids.lo;
    while start <= ids.hi {
        let end = start
            .saturating_add(IDS_PER_RANGE)
            .min(ids.hi.saturating_add(1));
        let row = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .bind(start)
            .bind(end)
            .fetch_one(&mut *conn)
            .await?;
        // An empty range: `[]` from SQLite, NULL from PostgreSQL.
        if let Some(list) = get_opt_str(&row, "list")? {
            let items: Vec<T> = serde_json::from_str(&list)
                .map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))?;
            out.extend(items);
        }
        start = end;
    }
    Ok(out)
}

async fn joined<T>(task: JoinHandle<Result<T, StoreError>>) -> Result<T, StoreError> {
    task.await
        .map_err(|_| StoreError::Db(sqlx::Error::WorkerCrashed))?
}

fn stored_key<T: CodeSet>(v: &str, col: &str) -> Result<T, StoreError> {
    T::from_key(v).ok_or_else(|| StoreError::Corrupt(format!("{col}={v}")))
}

/// One implementation as [`Store::published_for_index`] reads it: a JSON array of its
/// statement's columns, in this order.
#[derive(serde::Deserialize)]
struct IndexRow {
    id: i64,
    code: String,
    version: i64,
    basic_code: String,
    department_code: String,
    department_name: String,
    region_code: String,
    acceptance_conditions: String,
    promised_amount: i64,
    promised_unit: String,
    visits: i64,
    online_depth: String,
    result_name: String,
    std_name: String,
    item_type: String,
    levels: String,
    level: String,
}

impl IndexRow {
    fn into_published(self) -> Result<PublishedImplementation, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(what.to_string());
        let basic_code = parse_stored("basic_code", &self.basic_code, BasicCode::parse)?;
        let promised = TimeLimit {
            amount: u32::try_from(self.promised_amount).map_err(|_| corrupt("promised_amount"))?,
            unit: stored_key::<TimeUnit>(&self.promised_unit, "promised_unit")?,
        };
        let implementation = Implementation {
            code: parse_stored("code", &self.code, ImplCode::parse)?,
            basic_code: basic_code.clone(),
            department_code: parse_stored(
                "department_code",
                &self.department_code,
                CreditCode::parse,
            )?,
            department_name: self.department_name,
            region: parse_stored("region_code", &self.region_code, RegionCode::parse)?,
            level: stored_key(&self.level, "level")?,
            acceptance_conditions: self.acceptance_conditions,
            statutory_limit: promised,
            promised_limit: promised,
            case_type: CaseType::ALL
                .first()
                .copied()
                .ok_or_else(|| corrupt("case_type"))?,
            visits: u8::try_from(self.visits).map_err(|_| corrupt("visits"))?,
            online_depth: stored_key::<OnlineDepth>(&self.online_depth, "online_depth")?,
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
            result_name: self.result_name,
            extras: Vec::new(),
            handling_items: Vec::new(),
            materials: Vec::new(),
            // The search index does not read it; nothing is submitted from a search hit.
            identity_required: true,
        };
        Ok(PublishedImplementation {
            id: self.id,
            version: self.version,
            status: VersionStatus::Published,
            created_at: 0,
            published_at: None,
            published_by: None,
            standard: StandardItem {
                basic_code,
                name: self.std_name,
                item_type: stored_key::<ItemType>(&self.item_type, "item_type")?,
                levels: LevelSet::from_keys(&self.levels).ok_or_else(|| corrupt("levels"))?,
                legal_basis: String::new(),
            },
            implementation,
        })
    }
}
