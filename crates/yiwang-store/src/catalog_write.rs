//! Writing the catalog: drafts from imports and edits, and publishing them as new versions.

use crate::rows::{get_i64, get_str, placeholders, value_groups};
use crate::{Store, StoreError};
use std::collections::HashSet;
use yiwang_domain::catalog::{CatalogBatch, CatalogEntry, StandardItem};
use yiwang_domain::enums::{CodeSet, ExerciseLevel, ItemType};
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
    let l = get_str(row, "level")?;
    Ok(StandardItem {
        basic_code: crate::rows::parse_stored("basic_code", &code, BasicCode::parse)?,
        name: get_str(row, "name")?,
        item_type: ItemType::from_key(&t).ok_or_else(|| StoreError::Corrupt(t.clone()))?,
        level: ExerciseLevel::from_key(&l).ok_or_else(|| StoreError::Corrupt(l.clone()))?,
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
                "SELECT basic_code, name, item_type, level, legal_basis FROM standard_items WHERE basic_code IN ({})",
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
    pub async fn save_drafts(
        &self,
        entries: &[CatalogEntry],
        user_id: Option<i64>,
        now_ms: i64,
        progress: &mut (dyn FnMut(usize) + Send),
    ) -> Result<ImportSummary, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut summary = ImportSummary::default();
        for (i, e) in entries.iter().enumerate() {
            let s = &e.standard;
            let created = sqlx::query(
                "INSERT INTO standard_items (basic_code, name, item_type, level, legal_basis, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (basic_code) DO NOTHING",
            )
            .bind(s.basic_code.as_str().to_string())
            .bind(s.name.trim().to_string())
            .bind(s.item_type.key())
            .bind(s.level.key())
            .bind(s.legal_basis.trim().to_string())
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
            summary.standard_items_created += created.rows_affected() as usize;

            let imp = &e.implementation;
            let code = imp.code.as_str().to_string();
            sqlx::query("DELETE FROM implementations WHERE code = $1 AND status = 'draft'")
                .bind(code.clone())
                .execute(&mut *tx)
                .await?;
            let row = sqlx::query(
                "SELECT COALESCE(MAX(version), 0) AS v FROM implementations WHERE code = $1",
            )
            .bind(code.clone())
            .fetch_one(&mut *tx)
            .await?;
            let version = get_i64(&row, "v")? + 1;
            let row = sqlx::query(
                "INSERT INTO implementations (code, version, status, basic_code, department_code, \
                 department_name, region_code, acceptance_conditions, statutory_amount, statutory_unit, \
                 promised_amount, promised_unit, case_type, visits, online_depth, charged, fee_basis, \
                 channels, anywhere, hall_address, hours, consult_phone, complaint_phone, result_name, \
                 extras, created_at, created_by) VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $9, \
                 $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26) \
                 RETURNING id",
            )
            .bind(code)
            .bind(version)
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
            .bind(imp.channels.iter().map(|c| c.key()).collect::<Vec<_>>().join(";"))
            .bind(imp.anywhere.map(|a| a.key()))
            .bind(imp.hall_address.clone())
            .bind(imp.hours.clone())
            .bind(imp.consult_phone.clone())
            .bind(imp.complaint_phone.clone())
            .bind(imp.result_name.clone())
            .bind(extras_json(&imp.extras))
            .bind(now_ms)
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
            let id = get_i64(&row, "id")?;

            if !imp.audiences.is_empty() {
                let sql = format!(
                    "INSERT INTO implementation_audiences (implementation_id, position, audience) VALUES {}",
                    value_groups(imp.audiences.len(), 3)
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (p, a) in imp.audiences.iter().enumerate() {
                    q = q.bind(id).bind(p as i64).bind(a.key());
                }
                q.execute(&mut *tx).await?;
            }
            if !imp.themes.is_empty() {
                let sql = format!(
                    "INSERT INTO implementation_themes (implementation_id, position, theme) VALUES {}",
                    value_groups(imp.themes.len(), 3)
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (p, t) in imp.themes.iter().enumerate() {
                    q = q.bind(id).bind(p as i64).bind(t.clone());
                }
                q.execute(&mut *tx).await?;
            }
            for chunk in imp.materials.chunks(100).enumerate() {
                let (ci, mats) = chunk;
                let sql = format!(
                    "INSERT INTO materials (implementation_id, position, name, issuer, originals, copies, \
                     mandatory, licence_type, instructions, extras) VALUES {}",
                    value_groups(mats.len(), 10)
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (p, m) in mats.iter().enumerate() {
                    q = q
                        .bind(id)
                        .bind((ci * 100 + p) as i64)
                        .bind(m.name.clone())
                        .bind(m.issuer.clone())
                        .bind(i64::from(m.originals))
                        .bind(i64::from(m.copies))
                        .bind(i64::from(m.mandatory))
                        .bind(m.licence_type.clone())
                        .bind(m.instructions.clone())
                        .bind(extras_json(&m.extras));
                }
                q.execute(&mut *tx).await?;
            }
            if !imp.handling_items.is_empty() {
                let sql = format!(
                    "INSERT INTO handling_items (implementation_id, position, kind, name) VALUES {}",
                    value_groups(imp.handling_items.len(), 4)
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (p, h) in imp.handling_items.iter().enumerate() {
                    q = q
                        .bind(id)
                        .bind(p as i64)
                        .bind(h.kind.key())
                        .bind(h.name.clone());
                }
                q.execute(&mut *tx).await?;
            }
            summary.drafts_written += 1;
            progress(i + 1);
        }
        tx.commit().await?;
        Ok(summary)
    }

    /// Publishes every draft inside `scope` (or only `codes` when given) as the new current
    /// version; the previous published version is kept as superseded. One transaction.
    pub async fn publish_drafts(
        &self,
        scope: &CatalogScope,
        codes: Option<&[String]>,
        user_id: Option<i64>,
        now_ms: i64,
    ) -> Result<PublishSummary, StoreError> {
        let mut tx = self.pool.begin().await?;
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
        tx.commit().await?;
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
