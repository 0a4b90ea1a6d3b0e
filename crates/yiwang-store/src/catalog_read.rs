//! Reading the catalog: published implementations for the portal and API, drafts and history
//! for the console, and whole groups for the drift report and exports.

use crate::catalog_write::standard_from;
use crate::rows::{get_i64, get_opt_i64, get_opt_str, get_str, parse_stored, placeholders};
use crate::{Store, StoreError};
use serde::Serialize;
use std::collections::HashMap;
use yiwang_domain::catalog::{
    CatalogEntry, HandlingItem, Implementation, MaterialRequirement, StandardItem, TimeLimit,
    VersionStatus,
};
use yiwang_domain::enums::{
    AnywhereScope, Audience, CaseType, Channel, CodeSet, HandlingKind, LevelSet, OnlineDepth,
    TimeUnit,
};
use yiwang_domain::{BasicCode, CreditCode, ImplCode, RegionCode};

const IMPL_COLUMNS: &str = "i.id, i.code, i.version, i.status, i.basic_code, i.department_code, \
    i.department_name, i.region_code, i.acceptance_conditions, i.statutory_amount, i.statutory_unit, \
    i.promised_amount, i.promised_unit, i.case_type, i.visits, i.online_depth, i.charged, i.fee_basis, \
    i.channels, i.anywhere, i.hall_address, i.hours, i.consult_phone, i.complaint_phone, i.result_name, \
    i.extras, i.identity_required, i.created_at, i.published_at, u.display_name AS published_by_name, \
    i.level, s.name AS std_name, s.item_type, s.levels, s.legal_basis";

const IMPL_FROM: &str = "FROM implementations i \
    JOIN standard_items s ON s.basic_code = i.basic_code \
    LEFT JOIN users u ON u.id = i.published_by";

/// A stored implementation version with its standard item and publication facts.
#[derive(Debug, Clone, Serialize)]
pub struct PublishedImplementation {
    pub id: i64,
    pub version: i64,
    pub status: VersionStatus,
    pub created_at: i64,
    pub published_at: Option<i64>,
    pub published_by: Option<String>,
    pub standard: StandardItem,
    pub implementation: Implementation,
}

impl PublishedImplementation {
    pub fn entry(&self) -> CatalogEntry {
        CatalogEntry {
            standard: self.standard.clone(),
            implementation: self.implementation.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ImplementationSummary {
    pub code: String,
    pub basic_code: String,
    pub name: String,
    pub department_name: String,
    pub department_code: String,
    pub region_code: String,
    pub online_depth: OnlineDepth,
    pub visits: i64,
    pub promised_amount: i64,
    pub promised_unit: TimeUnit,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub version: i64,
    pub status: VersionStatus,
    pub created_at: i64,
    pub published_at: Option<i64>,
    pub published_by: Option<String>,
}

/// Filters of the implementation list; every one is an indexed lookup.
#[derive(Debug, Clone, Default)]
pub struct ImplementationFilter {
    pub region: Option<RegionCode>,
    pub department: Option<CreditCode>,
    pub theme: Option<String>,
    /// true: 个人 (natural persons); false: 法人 (everything else).
    pub persons: Option<bool>,
    pub basic_code: Option<BasicCode>,
    /// Plain substring of the item name (the full search engine is separate).
    pub name_contains: Option<String>,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

fn key_of<T: CodeSet>(row: &sqlx::any::AnyRow, col: &str) -> Result<T, StoreError> {
    let v = get_str(row, col)?;
    T::from_key(&v).ok_or_else(|| corrupt(&format!("{col}={v}")))
}

fn extras_from(s: &str) -> Result<Vec<(String, String)>, StoreError> {
    serde_json::from_str(s).map_err(|_| corrupt("extras"))
}

fn core_from(row: &sqlx::any::AnyRow) -> Result<PublishedImplementation, StoreError> {
    let code = get_str(row, "code")?;
    let std = StandardItem {
        basic_code: parse_stored("basic_code", &get_str(row, "basic_code")?, BasicCode::parse)?,
        name: get_str(row, "std_name")?,
        item_type: key_of(row, "item_type")?,
        levels: {
            let l = get_str(row, "levels")?;
            LevelSet::from_keys(&l).ok_or_else(|| corrupt(&format!("levels={l}")))?
        },
        legal_basis: get_str(row, "legal_basis")?,
    };
    let channels = get_str(row, "channels")?;
    let status = get_str(row, "status")?;
    let implementation = Implementation {
        code: parse_stored("code", &code, ImplCode::parse)?,
        basic_code: std.basic_code.clone(),
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
        level: key_of(row, "level")?,
        acceptance_conditions: get_str(row, "acceptance_conditions")?,
        statutory_limit: TimeLimit {
            amount: u32::try_from(get_i64(row, "statutory_amount")?)
                .map_err(|_| corrupt("statutory_amount"))?,
            unit: key_of::<TimeUnit>(row, "statutory_unit")?,
        },
        promised_limit: TimeLimit {
            amount: u32::try_from(get_i64(row, "promised_amount")?)
                .map_err(|_| corrupt("promised_amount"))?,
            unit: key_of::<TimeUnit>(row, "promised_unit")?,
        },
        case_type: key_of::<CaseType>(row, "case_type")?,
        visits: u8::try_from(get_i64(row, "visits")?).map_err(|_| corrupt("visits"))?,
        online_depth: key_of::<OnlineDepth>(row, "online_depth")?,
        charged: get_i64(row, "charged")? != 0,
        fee_basis: get_str(row, "fee_basis")?,
        audiences: Vec::new(),
        themes: Vec::new(),
        channels: channels
            .split(';')
            .filter(|s| !s.is_empty())
            .map(|k| Channel::from_key(k).ok_or_else(|| corrupt("channels")))
            .collect::<Result<_, _>>()?,
        anywhere: match get_opt_str(row, "anywhere")? {
            Some(k) => Some(AnywhereScope::from_key(&k).ok_or_else(|| corrupt("anywhere"))?),
            None => None,
        },
        hall_address: get_str(row, "hall_address")?,
        hours: get_str(row, "hours")?,
        consult_phone: get_str(row, "consult_phone")?,
        complaint_phone: get_str(row, "complaint_phone")?,
        result_name: get_str(row, "result_name")?,
        extras: extras_from(&get_str(row, "extras")?)?,
        handling_items: Vec::new(),
        materials: Vec::new(),
        identity_required: get_i64(row, "identity_required")? != 0,
    };
    Ok(PublishedImplementation {
        id: get_i64(row, "id")?,
        version: get_i64(row, "version")?,
        status: VersionStatus::from_key(&status).ok_or_else(|| corrupt("status"))?,
        created_at: get_i64(row, "created_at")?,
        published_at: get_opt_i64(row, "published_at")?,
        published_by: get_opt_str(row, "published_by_name")?,
        standard: std,
        implementation,
    })
}

impl Store {
    /// Loads implementation versions by a WHERE clause over `i` (static text) with its binds,
    /// then their child rows in one query per table.
    async fn load_where(
        &self,
        where_sql: &'static str,
        binds: &[String],
    ) -> Result<Vec<PublishedImplementation>, StoreError> {
        let sql = format!(
            "SELECT {IMPL_COLUMNS} {IMPL_FROM} WHERE {where_sql} ORDER BY i.code, i.version"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(b.clone());
        }
        let rows = q.fetch_all(&self.pool).await?;
        let mut out: Vec<PublishedImplementation> =
            rows.iter().map(core_from).collect::<Result<_, _>>()?;
        self.load_children(&mut out).await?;
        Ok(out)
    }

    async fn load_children(&self, out: &mut [PublishedImplementation]) -> Result<(), StoreError> {
        let index: HashMap<i64, usize> = out.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
        let ids: Vec<i64> = out.iter().map(|p| p.id).collect();
        for chunk in ids.chunks(500) {
            let ph = placeholders(1, chunk.len());
            let bind_all = |sql: String| {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for id in chunk {
                    q = q.bind(*id);
                }
                q
            };
            let rows = bind_all(format!(
                "SELECT implementation_id, audience FROM implementation_audiences \
                 WHERE implementation_id IN ({ph}) ORDER BY implementation_id, position"
            ))
            .fetch_all(&self.pool)
            .await?;
            for r in &rows {
                if let Some(i) = index.get(&get_i64(r, "implementation_id")?) {
                    out[*i]
                        .implementation
                        .audiences
                        .push(key_of::<Audience>(r, "audience")?);
                }
            }
            let rows = bind_all(format!(
                "SELECT implementation_id, theme FROM implementation_themes \
                 WHERE implementation_id IN ({ph}) ORDER BY implementation_id, position"
            ))
            .fetch_all(&self.pool)
            .await?;
            for r in &rows {
                if let Some(i) = index.get(&get_i64(r, "implementation_id")?) {
                    out[*i].implementation.themes.push(get_str(r, "theme")?);
                }
            }
            let rows = bind_all(format!(
                "SELECT implementation_id, name, issuer, originals, copies, mandatory, licence_type, \
                 instructions, extras FROM materials WHERE implementation_id IN ({ph}) \
                 ORDER BY implementation_id, position"
            ))
            .fetch_all(&self.pool)
            .await?;
            for r in &rows {
                if let Some(i) = index.get(&get_i64(r, "implementation_id")?) {
                    out[*i].implementation.materials.push(MaterialRequirement {
                        name: get_str(r, "name")?,
                        issuer: get_str(r, "issuer")?,
                        originals: u32::try_from(get_i64(r, "originals")?)
                            .map_err(|_| corrupt("originals"))?,
                        copies: u32::try_from(get_i64(r, "copies")?)
                            .map_err(|_| corrupt("copies"))?,
                        mandatory: get_i64(r, "mandatory")? != 0,
                        licence_type: get_str(r, "licence_type")?,
                        instructions: get_str(r, "instructions")?,
                        extras: extras_from(&get_str(r, "extras")?)?,
                    });
                }
            }
            let rows = bind_all(format!(
                "SELECT implementation_id, kind, name FROM handling_items \
                 WHERE implementation_id IN ({ph}) ORDER BY implementation_id, position"
            ))
            .fetch_all(&self.pool)
            .await?;
            for r in &rows {
                if let Some(i) = index.get(&get_i64(r, "implementation_id")?) {
                    out[*i].implementation.handling_items.push(HandlingItem {
                        kind: key_of::<HandlingKind>(r, "kind")?,
                        name: get_str(r, "name")?,
                    });
                }
            }
        }
        Ok(())
    }

    /// The current published version of an implementation, straight from the database (see
    /// [`Store::published_implementation`] for the cached read).
    pub(crate) async fn published_implementation_uncached(
        &self,
        code: &ImplCode,
    ) -> Result<Option<PublishedImplementation>, StoreError> {
        let mut v = self
            .load_where(
                "i.code = $1 AND i.status = 'published'",
                &[code.as_str().to_string()],
            )
            .await?;
        Ok(v.pop())
    }

    /// The draft if there is one, else the published version: what the console edits.
    pub async fn working_implementation(
        &self,
        code: &ImplCode,
    ) -> Result<Option<PublishedImplementation>, StoreError> {
        let v = self
            .load_where(
                "i.code = $1 AND i.status IN ('draft', 'published')",
                &[code.as_str().to_string()],
            )
            .await?;
        Ok(v.iter()
            .find(|p| p.status == VersionStatus::Draft)
            .or(v.first())
            .cloned())
    }

    pub async fn implementation_version(
        &self,
        code: &ImplCode,
        version: i64,
    ) -> Result<Option<PublishedImplementation>, StoreError> {
        let v = self
            .load_where("i.code = $1", &[code.as_str().to_string()])
            .await?;
        Ok(v.into_iter().find(|p| p.version == version))
    }

    /// Every version of an implementation, newest first.
    pub async fn implementation_history(
        &self,
        code: &ImplCode,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT i.version, i.status, i.created_at, i.published_at, u.display_name AS published_by_name \
             FROM implementations i LEFT JOIN users u ON u.id = i.published_by \
             WHERE i.code = $1 ORDER BY i.version DESC",
        )
        .bind(code.as_str().to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let status = get_str(r, "status")?;
                Ok(HistoryEntry {
                    version: get_i64(r, "version")?,
                    status: VersionStatus::from_key(&status).ok_or_else(|| corrupt("status"))?,
                    created_at: get_i64(r, "created_at")?,
                    published_at: get_opt_i64(r, "published_at")?,
                    published_by: get_opt_str(r, "published_by_name")?,
                })
            })
            .collect()
    }

    /// All published implementations (for exports and the drift report).
    pub async fn published_all(&self) -> Result<Vec<PublishedImplementation>, StoreError> {
        self.load_where("i.status = 'published'", &[]).await
    }

    /// All drafts, for the console's publish page.
    pub async fn drafts_all(&self) -> Result<Vec<PublishedImplementation>, StoreError> {
        self.load_where("i.status = 'draft'", &[]).await
    }

    /// A page of published implementations ordered by code, after the `after` cursor.
    pub async fn list_published(
        &self,
        f: &ImplementationFilter,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ImplementationSummary>, StoreError> {
        let mut sql = String::from(
            "SELECT i.code, i.basic_code, s.name, i.department_name, i.department_code, i.region_code, \
             i.online_depth, i.visits, i.promised_amount, i.promised_unit \
             FROM implementations i JOIN standard_items s ON s.basic_code = i.basic_code \
             WHERE i.status = 'published'",
        );
        let mut binds: Vec<String> = Vec::new();
        let mut next = |sql: &mut String, clause: &str, v: String| {
            binds.push(v);
            sql.push_str(&clause.replace("$?", &format!("${}", binds.len())));
        };
        if let Some(r) = &f.region {
            let (lo, hi) = r.subtree_bounds();
            next(&mut sql, " AND i.region_code >= $?", lo);
            next(&mut sql, " AND i.region_code <= $?", hi);
        }
        if let Some(d) = &f.department {
            next(
                &mut sql,
                " AND i.department_code = $?",
                d.as_str().to_string(),
            );
        }
        if let Some(b) = &f.basic_code {
            next(&mut sql, " AND i.basic_code = $?", b.as_str().to_string());
        }
        if let Some(t) = &f.theme {
            next(
                &mut sql,
                " AND EXISTS (SELECT 1 FROM implementation_themes t WHERE t.implementation_id = i.id AND t.theme = $?)",
                t.clone(),
            );
        }
        if let Some(p) = f.persons {
            let clause = if p {
                " AND EXISTS (SELECT 1 FROM implementation_audiences a WHERE a.implementation_id = i.id AND a.audience = $?)"
            } else {
                " AND EXISTS (SELECT 1 FROM implementation_audiences a WHERE a.implementation_id = i.id AND a.audience <> $?)"
            };
            next(&mut sql, clause, Audience::NaturalPerson.key().to_string());
        }
        if let Some(n) = &f.name_contains {
            let escaped = n
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            next(
                &mut sql,
                " AND s.name LIKE $? ESCAPE '\\'",
                format!("%{escaped}%"),
            );
        }
        if let Some(a) = after {
            next(&mut sql, " AND i.code > $?", a.to_string());
        }
        sql.push_str(&format!(" ORDER BY i.code LIMIT {}", limit.clamp(1, 500)));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(b);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(ImplementationSummary {
                    code: get_str(r, "code")?,
                    basic_code: get_str(r, "basic_code")?,
                    name: get_str(r, "name")?,
                    department_name: get_str(r, "department_name")?,
                    department_code: get_str(r, "department_code")?,
                    region_code: get_str(r, "region_code")?,
                    online_depth: key_of(r, "online_depth")?,
                    visits: get_i64(r, "visits")?,
                    promised_amount: get_i64(r, "promised_amount")?,
                    promised_unit: key_of(r, "promised_unit")?,
                })
            })
            .collect()
    }

    /// Themes of the published catalog with how many implementations carry each.
    pub async fn published_themes(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.theme, COUNT(*) AS n FROM implementation_themes t \
             JOIN implementations i ON i.id = t.implementation_id AND i.status = 'published' \
             GROUP BY t.theme ORDER BY n DESC, t.theme",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((get_str(r, "theme")?, get_i64(r, "n")?)))
            .collect()
    }

    pub async fn standard_items(
        &self,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<StandardItem>, StoreError> {
        let rows = sqlx::query(
            "SELECT basic_code, name, item_type, levels, legal_basis FROM standard_items \
             WHERE basic_code > $1 ORDER BY basic_code LIMIT $2",
        )
        .bind(after.unwrap_or("").to_string())
        .bind(limit.clamp(1, 500))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(standard_from).collect()
    }
}
