//! Application form definitions: versioned per implementation (实施编码) or per standard item
//! (基本编码, the fallback), validated on save and again on load (a definition altered in the
//! database is refused, not shown). Which form an application uses is decided in one place,
//! [`Store::form_definition_for_uncached`]: implementation → standard item → the built-in
//! generic form ([`Store::form_definition_for`] keeps the result until a form or the catalog
//! changes).
//!
//! Answers should be stored with the definition version they were given under
//! (`Answers::form_version`); [`Store::form_definition_version`] gives that version back.

use crate::audit::{Actor, append_in};
use crate::rows::{get_i64, get_str};
use crate::{Store, StoreError};
use yiwang_domain::forms::{self, FormDefError, FormDefinition};
use yiwang_domain::{BasicCode, ImplCode};

/// Where a definition is kept in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormScope {
    Implementation(ImplCode),
    StandardItem(BasicCode),
}

impl FormScope {
    fn columns(&self) -> (&'static str, String) {
        match self {
            FormScope::Implementation(c) => ("implementation", c.as_str().to_string()),
            FormScope::StandardItem(c) => ("standard_item", c.as_str().to_string()),
        }
    }
    /// `implementation:<code>` / `standard_item:<code>`, as in the audit log.
    pub fn object(&self) -> String {
        let (level, code) = self.columns();
        format!("form:{level}:{code}")
    }
}

/// Where the resolved definition came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FormSource {
    Implementation,
    StandardItem,
    BuiltIn,
}

impl FormSource {
    pub fn key(self) -> &'static str {
        match self {
            FormSource::Implementation => "implementation",
            FormSource::StandardItem => "standard_item",
            FormSource::BuiltIn => "built_in",
        }
    }
}

/// The form an application uses, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedForm {
    pub definition: FormDefinition,
    pub source: FormSource,
}

/// One saved version (for the console's version list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormVersion {
    pub version: u32,
    pub form_key: String,
    pub created_by: String,
    pub created_at: i64,
}

/// A definition refused on save: every problem found. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidForm(pub Vec<FormDefError>);

/// What a save did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormSaved {
    /// A new version was stored (the definition carries its version number).
    New(FormDefinition),
    /// The definition equals the current version; nothing was stored.
    Unchanged(FormDefinition),
}

impl FormSaved {
    pub fn definition(&self) -> &FormDefinition {
        match self {
            FormSaved::New(d) | FormSaved::Unchanged(d) => d,
        }
    }
}

fn stored(body: &str) -> Result<FormDefinition, StoreError> {
    forms::load(body).map_err(|e| StoreError::Corrupt(format!("form definition: {e:?}")))
}

fn version_of(row: &sqlx::any::AnyRow) -> Result<u32, StoreError> {
    u32::try_from(get_i64(row, "version")?)
        .map_err(|_| StoreError::Corrupt("form definition version".into()))
}

impl Store {
    /// Validates `json` and stores it as the next version for `scope`, with an audit entry in
    /// the same transaction. The stored version number is assigned here (the `version` in
    /// `json` is ignored). An invalid definition writes nothing. Two administrators saving at
    /// once: one gets a unique-key conflict (`ErrorCode::Conflict`).
    pub async fn save_form_definition(
        &self,
        scope: &FormScope,
        json: &str,
        actor: &Actor,
        now_ms: i64,
    ) -> Result<Result<FormSaved, InvalidForm>, StoreError> {
        let mut def = match forms::load(json) {
            Ok(d) => d,
            Err(errors) => return Ok(Err(InvalidForm(errors))),
        };
        let (level, code) = scope.columns();
        let mut tx = self.begin_write().await?;
        let current = sqlx::query(
            "SELECT version, body FROM form_definitions WHERE scope_level = $1 AND scope_code = $2 \
             ORDER BY version DESC LIMIT 1",
        )
        .bind(level)
        .bind(code.clone())
        .fetch_optional(&mut *tx)
        .await?;
        let next = match &current {
            Some(row) => {
                let v = version_of(row)?;
                let old = stored(&get_str(row, "body")?)?;
                def.version = old.version;
                if old == def {
                    return Ok(Ok(FormSaved::Unchanged(old)));
                }
                v + 1
            }
            None => 1,
        };
        def.version = next;
        let body = serde_json::to_string(&def)
            .map_err(|_| StoreError::Domain(yiwang_domain::ErrorCode::InvalidFormDefinition))?;
        sqlx::query(
            "INSERT INTO form_definitions \
             (scope_level, scope_code, version, form_key, body, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(level)
        .bind(code)
        .bind(i64::from(next))
        .bind(def.key.clone())
        .bind(body)
        .bind(actor.name.clone())
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        let event = actor.event("form.save", scope.object(), format!("{}@{next}", def.key));
        append_in(&mut tx, now_ms, &event).await?;
        // Application pages and submissions keep forms in memory (see `catalog_cache`).
        crate::catalog_write::bump_generation(&mut tx).await?;
        tx.commit().await?;
        self.catalog_changed();
        Ok(Ok(FormSaved::New(def)))
    }

    /// One stored version (to show answers given under an older version).
    pub async fn form_definition_version(
        &self,
        scope: &FormScope,
        version: u32,
    ) -> Result<Option<FormDefinition>, StoreError> {
        let (level, code) = scope.columns();
        let row = sqlx::query(
            "SELECT body FROM form_definitions \
             WHERE scope_level = $1 AND scope_code = $2 AND version = $3",
        )
        .bind(level)
        .bind(code)
        .bind(i64::from(version))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| stored(&get_str(&r, "body")?)).transpose()
    }

    /// Every stored version for `scope`, newest first.
    pub async fn form_versions(&self, scope: &FormScope) -> Result<Vec<FormVersion>, StoreError> {
        let (level, code) = scope.columns();
        let rows = sqlx::query(
            "SELECT version, form_key, created_by, created_at FROM form_definitions \
             WHERE scope_level = $1 AND scope_code = $2 ORDER BY version DESC",
        )
        .bind(level)
        .bind(code)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(FormVersion {
                    version: version_of(r)?,
                    form_key: get_str(r, "form_key")?,
                    created_by: get_str(r, "created_by")?,
                    created_at: get_i64(r, "created_at")?,
                })
            })
            .collect()
    }

    /// The one place that picks an application's form: the implementation's current
    /// definition, else its standard item's, else the built-in generic form. Straight from the
    /// database; [`Store::form_definition_for`] is the cached read.
    pub async fn form_definition_for_uncached(
        &self,
        impl_code: &ImplCode,
        basic_code: &BasicCode,
    ) -> Result<ResolvedForm, StoreError> {
        let rows = sqlx::query(
            "SELECT f.scope_level, f.body FROM form_definitions f \
             WHERE ((f.scope_level = 'implementation' AND f.scope_code = $1) \
                 OR (f.scope_level = 'standard_item' AND f.scope_code = $2)) \
               AND f.version = (SELECT MAX(g.version) FROM form_definitions g \
                                WHERE g.scope_level = f.scope_level AND g.scope_code = f.scope_code)",
        )
        .bind(impl_code.as_str().to_string())
        .bind(basic_code.as_str().to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut fallback = None;
        for r in &rows {
            match get_str(r, "scope_level")?.as_str() {
                "implementation" => {
                    return Ok(ResolvedForm {
                        definition: stored(&get_str(r, "body")?)?,
                        source: FormSource::Implementation,
                    });
                }
                _ => fallback = Some(get_str(r, "body")?),
            }
        }
        Ok(match fallback {
            Some(body) => ResolvedForm {
                definition: stored(&body)?,
                source: FormSource::StandardItem,
            },
            None => ResolvedForm {
                definition: forms::default_form(),
                source: FormSource::BuiltIn,
            },
        })
    }
}
