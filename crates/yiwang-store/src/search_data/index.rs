//! What the search indexer reads of the published catalog: [`IndexedImplementation`], a
//! projection of a published implementation, read in bulk by [`Store::published_for_index`].

use crate::rows::{
    get_i64, get_opt_i64, get_opt_str, get_str, json_array, json_list, parse_stored,
};
use crate::{Backend, PublishedImplementation, Store, StoreError};
use serde::de::DeserializeOwned;
use sqlx::AnyPool;
use std::collections::HashMap;
use tokio::task::JoinHandle;
use yiwang_domain::catalog::{HandlingItem, TimeLimit};
use yiwang_domain::enums::{
    Audience, CodeSet, ExerciseLevel, ItemType, LevelSet, OnlineDepth, TimeUnit,
};
use yiwang_domain::{BasicCode, CreditCode, ImplCode, RegionCode};

/// What a search index reads of one published implementation — and only that, so the
/// indexer cannot come to depend on a field the bulk read leaves out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedImplementation {
    /// Row id of the version.
    pub id: i64,
    pub version: i64,
    pub code: ImplCode,
    pub basic_code: BasicCode,
    /// The standard item's name.
    pub name: String,
    pub item_type: ItemType,
    /// The standard item's levels.
    pub levels: LevelSet,
    pub level: ExerciseLevel,
    pub department_code: CreditCode,
    pub department_name: String,
    pub region: RegionCode,
    pub acceptance_conditions: String,
    pub promised_limit: TimeLimit,
    pub visits: u8,
    pub online_depth: OnlineDepth,
    pub result_name: String,
    pub audiences: Vec<Audience>,
    pub themes: Vec<String>,
    pub handling_items: Vec<HandlingItem>,
    /// Material names, in position order.
    pub materials: Vec<String>,
}

impl From<&PublishedImplementation> for IndexedImplementation {
    /// The projection of a fully read implementation (the indexer's incremental path).
    fn from(p: &PublishedImplementation) -> Self {
        let (imp, std) = (&p.implementation, &p.standard);
        IndexedImplementation {
            id: p.id,
            version: p.version,
            code: imp.code.clone(),
            basic_code: std.basic_code.clone(),
            name: std.name.clone(),
            item_type: std.item_type,
            levels: std.levels,
            level: imp.level,
            department_code: imp.department_code.clone(),
            department_name: imp.department_name.clone(),
            region: imp.region.clone(),
            acceptance_conditions: imp.acceptance_conditions.clone(),
            promised_limit: imp.promised_limit,
            visits: imp.visits,
            online_depth: imp.online_depth,
            result_name: imp.result_name.clone(),
            audiences: imp.audiences.clone(),
            themes: imp.themes.clone(),
            handling_items: imp.handling_items.clone(),
            materials: imp.materials.iter().map(|m| m.name.clone()).collect(),
        }
    }
}

impl Store {
    /// Every published implementation as the search index reads it, by code.
    ///
    /// The implementations and their four child tables are read side by side, each on a
    /// connection of its own, in ranges of ids: one statement per range returns the range's
    /// rows gathered into one JSON list by the database, so a national catalog of 100,000
    /// implementations and a million child rows comes back as about a hundred rows. Child rows
    /// are read by id range alone (a version's rows do not change once written) and those of
    /// versions that are not published are dropped here.
    pub async fn published_for_index(&self) -> Result<Vec<IndexedImplementation>, StoreError> {
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
                    .map(IndexRow::into_indexed)
                    .collect::<Result<Vec<_>, _>>()
            })
        });
        let mut out = Vec::new();
        for half in main {
            out.extend(joined(half).await?);
        }
        out.sort_unstable_by(|a, b| a.code.cmp(&b.code));
        let mut audiences = joined(audiences).await?;
        let mut themes = joined(themes).await?;
        let mut handling = joined(handling).await?;
        let mut materials = joined(materials).await?;
        for p in &mut out {
            for a in audiences.remove(&p.id).unwrap_or_default() {
                p.audiences.push(stored_key(&a, "audience")?);
            }
            p.themes = themes.remove(&p.id).unwrap_or_default();
            for (kind, name) in handling.remove(&p.id).unwrap_or_default() {
                p.handling_items.push(HandlingItem {
                    kind: stored_key(&kind, "kind")?,
                    name,
                });
            }
            p.materials = materials.remove(&p.id).unwrap_or_default();
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
    fn into_indexed(self) -> Result<IndexedImplementation, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(what.to_string());
        let promised = TimeLimit {
            amount: u32::try_from(self.promised_amount).map_err(|_| corrupt("promised_amount"))?,
            unit: stored_key::<TimeUnit>(&self.promised_unit, "promised_unit")?,
        };
        Ok(IndexedImplementation {
            id: self.id,
            version: self.version,
            code: parse_stored("code", &self.code, ImplCode::parse)?,
            basic_code: parse_stored("basic_code", &self.basic_code, BasicCode::parse)?,
            name: self.std_name,
            item_type: stored_key::<ItemType>(&self.item_type, "item_type")?,
            levels: LevelSet::from_keys(&self.levels).ok_or_else(|| corrupt("levels"))?,
            level: stored_key(&self.level, "level")?,
            department_code: parse_stored(
                "department_code",
                &self.department_code,
                CreditCode::parse,
            )?,
            department_name: self.department_name,
            region: parse_stored("region_code", &self.region_code, RegionCode::parse)?,
            acceptance_conditions: self.acceptance_conditions,
            promised_limit: promised,
            visits: u8::try_from(self.visits).map_err(|_| corrupt("visits"))?,
            online_depth: stored_key::<OnlineDepth>(&self.online_depth, "online_depth")?,
            result_name: self.result_name,
            audiences: Vec::new(),
            themes: Vec::new(),
            handling_items: Vec::new(),
            materials: Vec::new(),
        })
    }
}
