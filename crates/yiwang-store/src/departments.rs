//! 部门: government bodies identified by their 统一社会信用代码.

use crate::audit::Actor;
use crate::rows::{get_str, parse_stored, placeholders};
use crate::{Store, StoreError};
use std::collections::HashMap;
use yiwang_domain::catalog::Department;
use yiwang_domain::{CreditCode, ErrorCode, RegionCode};

fn department_from(row: &sqlx::any::AnyRow) -> Result<Department, StoreError> {
    let cc = get_str(row, "credit_code")?;
    let rc = get_str(row, "region_code")?;
    Ok(Department {
        credit_code: parse_stored("credit_code", &cc, CreditCode::parse)?,
        name: get_str(row, "name")?,
        region: parse_stored("region_code", &rc, RegionCode::parse)?,
    })
}

impl Store {
    /// Adds a department, or renames/moves it when the credit code exists.
    /// Records a `department.upsert` audit entry with the previous and new name and region.
    pub async fn upsert_department(
        &self,
        d: &Department,
        actor: &Actor,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        if self.region(&d.region).await?.is_none() {
            return Err(ErrorCode::UnknownRegion.into());
        }
        let name = d.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(ErrorCode::InvalidInput.into());
        }
        let mut tx = self.begin_write().await?;
        let before =
            sqlx::query("SELECT name, region_code FROM departments WHERE credit_code = $1")
                .bind(d.credit_code.as_str().to_string())
                .fetch_optional(&mut *tx)
                .await?;
        let previous = match &before {
            Some(r) => serde_json::json!({
                "name": get_str(r, "name")?,
                "region": get_str(r, "region_code")?,
            }),
            None => serde_json::Value::Null,
        };
        sqlx::query(
            "INSERT INTO departments (credit_code, name, region_code, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (credit_code) DO UPDATE SET name = excluded.name, region_code = excluded.region_code",
        )
        .bind(d.credit_code.as_str().to_string())
        .bind(name.to_string())
        .bind(d.region.as_str().to_string())
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        // Department names appear on cached catalog pages.
        crate::catalog_write::bump_generation(&mut tx).await?;
        let detail = serde_json::json!({
            "name": name,
            "region": d.region.as_str(),
            "previous": previous,
        });
        let event = actor.event(
            "department.upsert",
            format!("department:{}", d.credit_code),
            detail.to_string(),
        );
        crate::audit::append_in(&mut tx, now_ms, &event).await?;
        tx.commit().await?;
        self.catalog_changed();
        Ok(())
    }

    pub async fn department(&self, code: &CreditCode) -> Result<Option<Department>, StoreError> {
        let row = sqlx::query(
            "SELECT credit_code, name, region_code FROM departments WHERE credit_code = $1",
        )
        .bind(code.as_str().to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(department_from).transpose()
    }

    /// Departments whose region lies in `within`'s subtree (all when `None`), by region then name.
    pub async fn departments(
        &self,
        within: Option<&RegionCode>,
    ) -> Result<Vec<Department>, StoreError> {
        let (lo, hi) = match within {
            Some(r) => r.subtree_bounds(),
            None => ("0".to_string(), "9".repeat(12)),
        };
        let rows = sqlx::query(
            "SELECT credit_code, name, region_code FROM departments \
             WHERE region_code >= $1 AND region_code <= $2 ORDER BY region_code, name",
        )
        .bind(lo)
        .bind(hi)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(department_from).collect()
    }

    pub async fn departments_by_codes(
        &self,
        codes: &[CreditCode],
    ) -> Result<HashMap<CreditCode, Department>, StoreError> {
        let mut out = HashMap::new();
        for chunk in codes.chunks(500) {
            let sql = format!(
                "SELECT credit_code, name, region_code FROM departments WHERE credit_code IN ({})",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for c in chunk {
                q = q.bind(c.as_str().to_string());
            }
            for row in q.fetch_all(&self.pool).await? {
                let d = department_from(&row)?;
                out.insert(d.credit_code.clone(), d);
            }
        }
        Ok(out)
    }
}
