//! Workflow definitions as data: saved as JSON (validated on save, and again on load so a
//! definition altered in the database is refused, not followed) and bound to a handling item,
//! an implementation or a standard item. Which one a new case follows is decided by
//! `yiwang_domain::workflow::resolve`, in one place.

use crate::audit::{Actor, append_in};
use crate::rows::{get_i64, get_str};
use crate::{Store, StoreError};
use yiwang_domain::ErrorCode;
use yiwang_domain::enums::CodeSet;
use yiwang_domain::workflow::{self, Binding, BindingScope, WorkflowDefinition, WorkflowError};
use yiwang_domain::{BasicCode, ImplCode};

/// `(level, code, handling kind)` as stored.
fn scope_columns(scope: &BindingScope) -> (&'static str, String, String) {
    match scope {
        BindingScope::HandlingItem { impl_code, kind } => (
            "handling_item",
            impl_code.as_str().to_string(),
            kind.key().to_string(),
        ),
        BindingScope::Implementation { impl_code } => (
            "implementation",
            impl_code.as_str().to_string(),
            String::new(),
        ),
        BindingScope::StandardItem { basic_code } => (
            "standard_item",
            basic_code.as_str().to_string(),
            String::new(),
        ),
    }
}

fn scope_of(level: &str, code: &str, kind: &str) -> Result<BindingScope, StoreError> {
    let corrupt = || StoreError::Corrupt(format!("workflow binding {level}:{code}:{kind}"));
    Ok(match level {
        "handling_item" => BindingScope::HandlingItem {
            impl_code: ImplCode::parse(code).map_err(|_| corrupt())?,
            kind: yiwang_domain::enums::HandlingKind::from_key(kind).ok_or_else(corrupt)?,
        },
        "implementation" => BindingScope::Implementation {
            impl_code: ImplCode::parse(code).map_err(|_| corrupt())?,
        },
        "standard_item" => BindingScope::StandardItem {
            basic_code: BasicCode::parse(code).map_err(|_| corrupt())?,
        },
        _ => return Err(corrupt()),
    })
}

/// A definition refused on save: every problem found.
#[derive(Debug)]
pub struct InvalidWorkflow(pub Vec<WorkflowError>);

impl Store {
    /// Validates and saves a definition (its key and version must be new). Returns the row id.
    pub async fn save_workflow(
        &self,
        json: &str,
        actor: &Actor,
        now_ms: i64,
    ) -> Result<Result<i64, InvalidWorkflow>, StoreError> {
        let def = match workflow::load(json) {
            Ok(d) => d,
            Err(errors) => return Ok(Err(InvalidWorkflow(errors))),
        };
        let body = def
            .to_json()
            .map_err(|_| StoreError::Domain(ErrorCode::InvalidWorkflow))?;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO workflow_definitions (wf_key, version, body, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(def.key.clone())
        .bind(i64::from(def.version))
        .bind(body)
        .bind(actor.name.clone())
        .bind(now_ms)
        .fetch_one(&mut *tx)
        .await?;
        let id = get_i64(&row, "id")?;
        let event = actor.event(
            "workflow.save",
            format!("workflow:{}@{}", def.key, def.version),
            "",
        );
        append_in(&mut tx, now_ms, &event).await?;
        // Submissions keep workflow bindings in memory (see `catalog_cache`).
        crate::catalog_write::bump_generation(&mut tx).await?;
        tx.commit().await?;
        self.catalog_changed();
        Ok(Ok(id))
    }

    /// Binds a saved definition (by key and version) to a place in the catalog, replacing what
    /// was bound there.
    pub async fn bind_workflow(
        &self,
        scope: &BindingScope,
        key: &str,
        version: u32,
        actor: &Actor,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let (level, code, kind) = scope_columns(scope);
        let mut tx = self.begin_write().await?;
        let def =
            sqlx::query("SELECT id FROM workflow_definitions WHERE wf_key = $1 AND version = $2")
                .bind(key.to_string())
                .bind(i64::from(version))
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::Domain(ErrorCode::NotFound))?;
        let def_id = get_i64(&def, "id")?;
        sqlx::query(
            "DELETE FROM workflow_bindings WHERE scope_level = $1 AND scope_code = $2 AND handling_kind = $3",
        )
        .bind(level)
        .bind(code.clone())
        .bind(kind.clone())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO workflow_bindings (scope_level, scope_code, handling_kind, definition_id) VALUES ($1, $2, $3, $4)",
        )
        .bind(level)
        .bind(code.clone())
        .bind(kind)
        .bind(def_id)
        .execute(&mut *tx)
        .await?;
        let event = actor.event(
            "workflow.bind",
            format!("{level}:{code}"),
            format!("{key}@{version}"),
        );
        append_in(&mut tx, now_ms, &event).await?;
        // Submissions keep workflow bindings in memory (see `catalog_cache`).
        crate::catalog_write::bump_generation(&mut tx).await?;
        tx.commit().await?;
        self.catalog_changed();
        Ok(())
    }

    /// The definitions bound to an implementation, its handling items or its standard item,
    /// each validated again, straight from the database (see [`Store::workflow_bindings_for`]
    /// for the cached read).
    pub(crate) async fn workflow_bindings_for_uncached(
        &self,
        impl_code: &ImplCode,
        basic_code: &BasicCode,
    ) -> Result<Vec<Binding>, StoreError> {
        let rows = sqlx::query(
            "SELECT b.scope_level, b.scope_code, b.handling_kind, d.body \
             FROM workflow_bindings b JOIN workflow_definitions d ON d.id = b.definition_id \
             WHERE (b.scope_level IN ('handling_item', 'implementation') AND b.scope_code = $1) \
                OR (b.scope_level = 'standard_item' AND b.scope_code = $2)",
        )
        .bind(impl_code.as_str().to_string())
        .bind(basic_code.as_str().to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let scope = scope_of(
                    &get_str(r, "scope_level")?,
                    &get_str(r, "scope_code")?,
                    &get_str(r, "handling_kind")?,
                )?;
                let definition = load_stored(&get_str(r, "body")?)?;
                Ok(Binding { scope, definition })
            })
            .collect()
    }
}

/// A stored definition, validated as on save.
pub(crate) fn load_stored(body: &str) -> Result<WorkflowDefinition, StoreError> {
    workflow::load(body).map_err(|e| StoreError::Corrupt(format!("workflow definition: {e:?}")))
}

/// A saved definition, for listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedWorkflow {
    pub key: String,
    pub version: i64,
    pub created_by: String,
    pub created_at: i64,
}

/// Where a definition is bound: `(level, code, handling kind, key, version)`.
pub type BindingRow = (String, String, String, String, i64);

impl Store {
    /// Every saved definition, newest first.
    pub async fn saved_workflows(&self) -> Result<Vec<SavedWorkflow>, StoreError> {
        let rows = sqlx::query(
            "SELECT wf_key, version, created_by, created_at FROM workflow_definitions \
             ORDER BY created_at DESC, id DESC LIMIT 500",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SavedWorkflow {
                    key: get_str(r, "wf_key")?,
                    version: get_i64(r, "version")?,
                    created_by: get_str(r, "created_by")?,
                    created_at: get_i64(r, "created_at")?,
                })
            })
            .collect()
    }

    /// Every binding with the key and version it binds.
    pub async fn workflow_binding_rows(&self) -> Result<Vec<BindingRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT b.scope_level, b.scope_code, b.handling_kind, d.wf_key, d.version \
             FROM workflow_bindings b JOIN workflow_definitions d ON d.id = b.definition_id \
             ORDER BY b.scope_level, b.scope_code LIMIT 2000",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get_str(r, "scope_level")?,
                    get_str(r, "scope_code")?,
                    get_str(r, "handling_kind")?,
                    get_str(r, "wf_key")?,
                    get_i64(r, "version")?,
                ))
            })
            .collect()
    }
}
