//! Writing the catalog: drafts from imports and edits, and publishing them as new versions.

use crate::audit::{Actor, append_in, codes_summary};
use crate::rows::{get_i64, get_str, placeholders, value_groups};
use crate::{Store, StoreError};
use std::collections::{HashMap, HashSet};
use yiwang_domain::catalog::{CatalogBatch, CatalogEntry, StandardItem};
use yiwang_domain::enums::{CodeSet, ItemType, LevelSet};
use yiwang_domain::policy::CatalogScope;
use yiwang_domain::rules::KnownRefs;
use yiwang_domain::{BasicCode, CreditCode, ErrorCode, RegionCode};

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub drafts_written: usize,
    pub standard_items_created: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PublishSummary {
    pub published: usize,
    pub codes: Vec<String>,
}

pub(crate) fn standard_from(row: &sqlx::any::AnyRow) -> Result<StandardItem, StoreError> {
    let code = get_str(row, "basic_code")?;
    let t = get_str(row, "item_type")?;
    let l = get_str(row, "levels")?;
    Ok(StandardItem {
        basic_code: crate::rows::parse_stored("basic_code", &code, BasicCode::parse)?,
        name: get_str(row, "name")?,
        item_type: ItemType::from_key(&t).ok_or_else(|| StoreError::Corrupt(t.clone()))?,
        levels: LevelSet::from_keys(&l).ok_or_else(|| StoreError::Corrupt(l.clone()))?,
        legal_basis: get_str(row, "legal_basis")?,
    })
}

fn extras_json(extras: &[(String, String)]) -> String {
    serde_json::to_string(extras).unwrap_or_else(|_| "[]".to_string())
}

/// Marks every cached catalog read as outdated (published catalog, regions or departments changed).
pub(crate) async fn bump_generation(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE catalog_generation SET generation = generation + 1 WHERE id = 1")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Store {
    /// What the catalog rules need to know about the references in `batch`.
    pub async fn known_refs(&self, batch: &CatalogBatch) -> Result<KnownRefs, StoreError> {
        let mut regions: Vec<RegionCode> = Vec::new();
        let mut depts: Vec<CreditCode> = Vec::new();
        let mut basics: Vec<BasicCode> = Vec::new();
        let (mut sr, mut sd, mut sb) = (HashSet::new(), HashSet::new(), HashSet::new());
        for (_, e) in &batch.entries {
            let imp = &e.implementation;
            if sr.insert(imp.region.clone()) {
                regions.push(imp.region.clone());
            }
            if sd.insert(imp.department_code.clone()) {
                depts.push(imp.department_code.clone());
            }
            if sb.insert(e.standard.basic_code.clone()) {
                basics.push(e.standard.basic_code.clone());
            }
        }
        let mut known = KnownRefs {
            regions: self.existing_regions(&regions).await?,
            departments: self.departments_by_codes(&depts).await?,
            ..Default::default()
        };
        for chunk in basics.chunks(500) {
            let sql = format!(
                "SELECT basic_code, name, item_type, levels, legal_basis FROM standard_items WHERE basic_code IN ({})",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for c in chunk {
                q = q.bind(c.as_str().to_string());
            }
            for row in q.fetch_all(&self.pool).await? {
                let s = standard_from(&row)?;
                known.standard_items.insert(s.basic_code.clone(), s);
            }
        }
        Ok(known)
    }

    /// Saves every entry as the draft of its implementation code, in one transaction.
    /// The caller has already run the catalog rules; nothing is written if any statement fails.
    /// Entries are written in chunks with multi-row statements (a handful of statements per
    /// chunk instead of eight per entry); when a code appears twice the last entry wins.
    /// Records one `catalog.draft` audit entry (codes and counts) in the same transaction.
    pub async fn save_drafts(
        &self,
        entries: &[CatalogEntry],
        actor: &Actor,
        now_ms: i64,
        progress: &mut (dyn FnMut(usize) + Send),
    ) -> Result<ImportSummary, StoreError> {
        self.write_drafts(entries, actor, "catalog.draft", now_ms, progress)
            .await
    }

    /// Like [`Store::save_drafts`] for a whole imported file: the audit entry is `catalog.import`.
    pub async fn import_drafts(
        &self,
        entries: &[CatalogEntry],
        actor: &Actor,
        now_ms: i64,
        progress: &mut (dyn FnMut(usize) + Send),
    ) -> Result<ImportSummary, StoreError> {
        self.write_drafts(entries, actor, "catalog.import", now_ms, progress)
            .await
    }

    async fn write_drafts(
        &self,
        entries: &[CatalogEntry],
        actor: &Actor,
        action: &str,
        now_ms: i64,
        progress: &mut (dyn FnMut(usize) + Send),
    ) -> Result<ImportSummary, StoreError> {
        let user_id = actor.id;
        let mut last: HashMap<&str, usize> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            last.insert(e.implementation.code.as_str(), i);
        }
        let unique: Vec<&CatalogEntry> = entries
            .iter()
            .enumerate()
            .filter(|(i, e)| last.get(e.implementation.code.as_str()) == Some(i))
            .map(|(_, e)| e)
            .collect();
        let mut tx = self.begin_write().await?;
        let mut summary = ImportSummary::default();
        let mut seen_standards = HashSet::new();
        for chunk in unique.chunks(SAVE_CHUNK) {
            let standards: Vec<&StandardItem> = chunk
                .iter()
                .map(|e| &e.standard)
                .filter(|s| seen_standards.insert(s.basic_code.clone()))
                .collect();
            summary.standard_items_created += insert_standards(&mut tx, &standards, now_ms).await?;
            let codes: Vec<String> = chunk
                .iter()
                .map(|e| e.implementation.code.to_string())
                .collect();
            let ids = insert_drafts(&mut tx, chunk, &codes, user_id, now_ms).await?;
            insert_children(&mut tx, chunk, &ids).await?;
            summary.drafts_written += chunk.len();
            progress(summary.drafts_written);
        }
        let codes: Vec<String> = unique
            .iter()
            .map(|e| e.implementation.code.to_string())
            .collect();
        let mut detail = codes_summary(&codes);
        detail["standard_items_created"] = summary.standard_items_created.into();
        let event = actor.event(action, catalog_object(&codes), detail.to_string());
        append_in(&mut tx, now_ms, &event).await?;
        tx.commit().await?;
        Ok(summary)
    }

    /// Publishes every draft inside `scope` (or only `codes` when given) as the new current
    /// version; the previous published version is kept as superseded. One transaction.
    /// Records one `catalog.publish` audit entry with the published codes.
    pub async fn publish_drafts(
        &self,
        scope: &CatalogScope,
        codes: Option<&[String]>,
        actor: &Actor,
        now_ms: i64,
    ) -> Result<PublishSummary, StoreError> {
        let user_id = actor.id;
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "SELECT id, code, department_code, region_code FROM implementations WHERE status = 'draft' ORDER BY code",
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut summary = PublishSummary::default();
        for row in &rows {
            let code = get_str(row, "code")?;
            if codes.is_some_and(|c| !c.contains(&code)) {
                continue;
            }
            let dept = CreditCode::parse(&get_str(row, "department_code")?)
                .map_err(|_| StoreError::Corrupt("department_code".into()))?;
            let region = RegionCode::parse(&get_str(row, "region_code")?)
                .map_err(|_| StoreError::Corrupt("region_code".into()))?;
            if !scope.covers(&dept, &region) {
                continue;
            }
            sqlx::query("UPDATE implementations SET status = 'superseded' WHERE code = $1 AND status = 'published'")
                .bind(code.clone())
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE implementations SET status = 'published', published_at = $1, published_by = $2 WHERE id = $3",
            )
            .bind(now_ms)
            .bind(user_id)
            .bind(get_i64(row, "id")?)
            .execute(&mut *tx)
            .await?;
            summary.codes.push(code);
        }
        if summary.codes.is_empty() {
            return Err(ErrorCode::NothingToPublish.into());
        }
        summary.published = summary.codes.len();
        bump_generation(&mut tx).await?;
        let event = actor.event(
            "catalog.publish",
            catalog_object(&summary.codes),
            codes_summary(&summary.codes).to_string(),
        );
        append_in(&mut tx, now_ms, &event).await?;
        tx.commit().await?;
        self.catalog_changed();
        Ok(summary)
    }

    /// Increases whenever the published catalog changes; caches compare against it.
    pub async fn catalog_generation(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT generation FROM catalog_generation WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        get_i64(&row, "generation")
    }
}

/// The audit object of a catalog write: the implementation when there is one, else `catalog`.
fn catalog_object(codes: &[String]) -> String {
    match codes {
        [one] => format!("implementation:{one}"),
        _ => "catalog".to_string(),
    }
}

/// Entries per chunk; keeps every multi-row statement to a few hundred parameters, which both
/// backends handle fast (sqlx-sqlite looks parameters up by a linear scan).
const SAVE_CHUNK: usize = 16;

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

async fn insert_standards(
    tx: &mut Tx<'_>,
    standards: &[&StandardItem],
    now_ms: i64,
) -> Result<usize, StoreError> {
    if standards.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "INSERT INTO standard_items (basic_code, name, item_type, levels, legal_basis, updated_at) \
         VALUES {} ON CONFLICT (basic_code) DO NOTHING",
        value_groups(standards.len(), 6)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for s in standards {
        q = q
            .bind(s.basic_code.as_str().to_string())
            .bind(s.name.trim().to_string())
            .bind(s.item_type.key())
            .bind(s.levels.keys())
            .bind(s.legal_basis.trim().to_string())
            .bind(now_ms);
    }
    Ok(q.execute(&mut **tx).await?.rows_affected() as usize)
}

/// Replaces the drafts of `codes` and returns the new row ids, in the order of `chunk`.
async fn insert_drafts(
    tx: &mut Tx<'_>,
    chunk: &[&CatalogEntry],
    codes: &[String],
    user_id: Option<i64>,
    now_ms: i64,
) -> Result<Vec<i64>, StoreError> {
    let ph = placeholders(1, codes.len());
    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM implementations WHERE status = 'draft' AND code IN ({ph})"
    )));
    for c in codes {
        q = q.bind(c.clone());
    }
    q.execute(&mut **tx).await?;
    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT code, MAX(version) AS v FROM implementations WHERE code IN ({ph}) GROUP BY code"
    )));
    for c in codes {
        q = q.bind(c.clone());
    }
    let mut versions: HashMap<String, i64> = HashMap::new();
    for row in q.fetch_all(&mut **tx).await? {
        versions.insert(get_str(&row, "code")?, get_i64(&row, "v")?);
    }
    const COLS: usize = 28;
    let sql = format!(
        "INSERT INTO implementations (code, version, basic_code, department_code, \
         department_name, region_code, acceptance_conditions, statutory_amount, statutory_unit, \
         promised_amount, promised_unit, case_type, visits, online_depth, charged, fee_basis, \
         channels, anywhere, hall_address, hours, consult_phone, complaint_phone, result_name, \
         extras, identity_required, created_at, created_by, level, status) VALUES {} RETURNING id, code",
        (0..chunk.len())
            .map(|r| format!("({}, 'draft')", placeholders(r * COLS + 1, COLS)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (e, code) in chunk.iter().zip(codes) {
        let imp = &e.implementation;
        q = q
            .bind(code.clone())
            .bind(versions.get(code).copied().unwrap_or(0) + 1)
            .bind(imp.basic_code.as_str().to_string())
            .bind(imp.department_code.as_str().to_string())
            .bind(imp.department_name.trim().to_string())
            .bind(imp.region.as_str().to_string())
            .bind(imp.acceptance_conditions.clone())
            .bind(i64::from(imp.statutory_limit.amount))
            .bind(imp.statutory_limit.unit.key())
            .bind(i64::from(imp.promised_limit.amount))
            .bind(imp.promised_limit.unit.key())
            .bind(imp.case_type.key())
            .bind(i64::from(imp.visits))
            .bind(imp.online_depth.key())
            .bind(i64::from(imp.charged))
            .bind(imp.fee_basis.clone())
            .bind(
                imp.channels
                    .iter()
                    .map(|c| c.key())
                    .collect::<Vec<_>>()
                    .join(";"),
            )
            .bind(imp.anywhere.map(|a| a.key()))
            .bind(imp.hall_address.clone())
            .bind(imp.hours.clone())
            .bind(imp.consult_phone.clone())
            .bind(imp.complaint_phone.clone())
            .bind(imp.result_name.clone())
            .bind(extras_json(&imp.extras))
            .bind(i64::from(imp.identity_required))
            .bind(now_ms)
            .bind(user_id)
            .bind(imp.level.key());
    }
    // RETURNING order is not promised by SQL; match rows back by code.
    let mut ids: HashMap<String, i64> = HashMap::new();
    for row in q.fetch_all(&mut **tx).await? {
        ids.insert(get_str(&row, "code")?, get_i64(&row, "id")?);
    }
    codes
        .iter()
        .map(|c| {
            ids.get(c)
                .copied()
                .ok_or_else(|| StoreError::Corrupt(format!("no id for {c}")))
        })
        .collect()
}

/// One multi-row INSERT of `rows` (each a list of bound values) into `table (cols)`.
async fn insert_rows(
    tx: &mut Tx<'_>,
    table_and_cols: &'static str,
    cols: usize,
    rows: Vec<Vec<Bound>>,
) -> Result<(), StoreError> {
    // Stay near a few hundred parameters per statement.
    let per = (400 / cols).max(1);
    for part in rows.chunks(per) {
        let sql = format!(
            "INSERT INTO {table_and_cols} VALUES {}",
            value_groups(part.len(), cols)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in part {
            for v in row {
                q = match v {
                    Bound::Int(i) => q.bind(*i),
                    Bound::Text(s) => q.bind(s.clone()),
                };
            }
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

enum Bound {
    Int(i64),
    Text(String),
}

async fn insert_children(
    tx: &mut Tx<'_>,
    chunk: &[&CatalogEntry],
    ids: &[i64],
) -> Result<(), StoreError> {
    use Bound::{Int, Text};
    let (mut audiences, mut themes, mut materials, mut handling) = (vec![], vec![], vec![], vec![]);
    for (e, id) in chunk.iter().zip(ids) {
        let imp = &e.implementation;
        for (p, a) in imp.audiences.iter().enumerate() {
            audiences.push(vec![Int(*id), Int(p as i64), Text(a.key().to_string())]);
        }
        for (p, t) in imp.themes.iter().enumerate() {
            themes.push(vec![Int(*id), Int(p as i64), Text(t.clone())]);
        }
        for (p, m) in imp.materials.iter().enumerate() {
            materials.push(vec![
                Int(*id),
                Int(p as i64),
                Text(m.name.clone()),
                Text(m.issuer.clone()),
                Int(i64::from(m.originals)),
                Int(i64::from(m.copies)),
                Int(i64::from(m.mandatory)),
                Text(m.licence_type.clone()),
                Text(m.instructions.clone()),
                Text(extras_json(&m.extras)),
            ]);
        }
        for (p, h) in imp.handling_items.iter().enumerate() {
            handling.push(vec![
                Int(*id),
                Int(p as i64),
                Text(h.kind.key().to_string()),
                Text(h.name.clone()),
            ]);
        }
    }
    insert_rows(
        tx,
        "implementation_audiences (implementation_id, position, audience)",
        3,
        audiences,
    )
    .await?;
    insert_rows(
        tx,
        "implementation_themes (implementation_id, position, theme)",
        3,
        themes,
    )
    .await?;
    insert_rows(
        tx,
        "materials (implementation_id, position, name, issuer, originals, copies, mandatory, \
         licence_type, instructions, extras)",
        10,
        materials,
    )
    .await?;
    insert_rows(
        tx,
        "handling_items (implementation_id, position, kind, name)",
        4,
        handling,
    )
    .await
}
