//! 行政区划: five levels, 12-digit codes. Subtrees are indexed range scans on the primary key
//! (a county's subtree is every code between 120112000000 and 120112999999).

use crate::rows::{get_i64, get_opt_str, get_str, parse_stored, placeholders, value_groups};
use crate::{Store, StoreError};
use serde::Serialize;
use std::collections::HashSet;
use yiwang_domain::{RegionCode, RegionLevel};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Region {
    pub code: RegionCode,
    pub name: String,
    pub level: RegionLevel,
    pub parent: Option<RegionCode>,
}

/// One row of a region import; level and parent as the source file states them.
#[derive(Debug, Clone)]
pub struct RegionRow {
    pub code: RegionCode,
    pub name: String,
    pub level: RegionLevel,
    pub parent: Option<RegionCode>,
}

/// Rows per multi-row INSERT. sqlx-sqlite resolves each `$N` by a linear scan of the
/// statement's parameter names, so large statements cost quadratic time there; PostgreSQL
/// prefers fewer round trips.
fn region_chunk(backend: crate::Backend) -> usize {
    match backend {
        crate::Backend::Sqlite => 64,
        crate::Backend::Postgres => 800,
    }
}

fn region_from(row: &sqlx::any::AnyRow) -> Result<Region, StoreError> {
    let code = get_str(row, "code")?;
    let level = get_i64(row, "level")?;
    Ok(Region {
        code: parse_stored("code", &code, RegionCode::parse)?,
        name: get_str(row, "name")?,
        level: RegionLevel::from_number(level)
            .ok_or_else(|| StoreError::Corrupt(format!("level={level}")))?,
        parent: match get_opt_str(row, "parent_code")? {
            Some(p) => Some(parse_stored("parent_code", &p, RegionCode::parse)?),
            None => None,
        },
    })
}

impl Store {
    /// Inserts or updates regions in one transaction; calling it twice changes nothing.
    /// `progress` is told how many rows have been written so far.
    pub async fn upsert_regions(
        &self,
        rows: &[RegionRow],
        progress: &mut (dyn FnMut(usize) + Send),
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let mut done = 0;
        for chunk in rows.chunks(region_chunk(self.backend)) {
            let sql = format!(
                "INSERT INTO regions (code, name, level, parent_code) VALUES {} \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, \
                 parent_code = excluded.parent_code",
                value_groups(chunk.len(), 4)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in chunk {
                q = q
                    .bind(r.code.as_str().to_string())
                    .bind(r.name.clone())
                    .bind(r.level.number())
                    .bind(r.parent.as_ref().map(|p| p.as_str().to_string()));
            }
            q.execute(&mut *tx).await?;
            done += chunk.len();
            progress(done);
        }
        // Region names appear on cached catalog pages.
        crate::catalog_write::bump_generation(&mut tx).await?;
        tx.commit().await?;
        self.catalog_changed();
        Ok(())
    }

    pub async fn region(&self, code: &RegionCode) -> Result<Option<Region>, StoreError> {
        let row = sqlx::query("SELECT code, name, level, parent_code FROM regions WHERE code = $1")
            .bind(code.as_str().to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(region_from).transpose()
    }

    /// Direct children, or the provinces when `parent` is `None`.
    pub async fn region_children(
        &self,
        parent: Option<&RegionCode>,
    ) -> Result<Vec<Region>, StoreError> {
        let rows = match parent {
            Some(p) => {
                sqlx::query(
                    "SELECT code, name, level, parent_code FROM regions WHERE parent_code = $1 ORDER BY code",
                )
                .bind(p.as_str().to_string())
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(
                    "SELECT code, name, level, parent_code FROM regions WHERE parent_code IS NULL ORDER BY code",
                )
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(region_from).collect()
    }

    /// From the province down to `code` (inclusive); only regions that exist.
    pub async fn region_path(&self, code: &RegionCode) -> Result<Vec<Region>, StoreError> {
        let mut codes: Vec<String> = code.path().into_iter().map(String::from).collect();
        while codes.len() < 5 {
            codes.push(code.as_str().to_string());
        }
        let mut q = sqlx::query(
            "SELECT code, name, level, parent_code FROM regions \
             WHERE code IN ($1, $2, $3, $4, $5) ORDER BY level",
        );
        for c in codes {
            q = q.bind(c);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(region_from).collect()
    }

    /// Every region below `code` (not including it), down to `max_level`.
    pub async fn region_subtree(
        &self,
        code: &RegionCode,
        max_level: RegionLevel,
    ) -> Result<Vec<Region>, StoreError> {
        let (lo, hi) = code.subtree_bounds();
        let rows = sqlx::query(
            "SELECT code, name, level, parent_code FROM regions \
             WHERE code > $1 AND code <= $2 AND level <= $3 ORDER BY code",
        )
        .bind(lo)
        .bind(hi)
        .bind(max_level.number())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(region_from).collect()
    }

    /// Which of `codes` exist.
    pub async fn existing_regions(
        &self,
        codes: &[RegionCode],
    ) -> Result<HashSet<RegionCode>, StoreError> {
        let mut out = HashSet::new();
        for chunk in codes.chunks(500) {
            let sql = format!(
                "SELECT code FROM regions WHERE code IN ({})",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for c in chunk {
                q = q.bind(c.as_str().to_string());
            }
            for row in q.fetch_all(&self.pool).await? {
                let c = get_str(&row, "code")?;
                out.insert(parse_stored("code", &c, RegionCode::parse)?);
            }
        }
        Ok(out)
    }

    pub async fn region_count(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM regions")
            .fetch_one(&self.pool)
            .await?;
        get_i64(&row, "n")
    }
}
