//! Catalog import: the whole file is parsed and checked, every problem reported, and nothing is
//! written unless the file is clean.

use yiwang_domain::catalog::CatalogBatch;
use yiwang_domain::policy::CatalogScope;
use yiwang_domain::rules::{ITEMS, check_batch};
use yiwang_domain::{ErrorCode, Issue};
use yiwang_interchange::ParsedFile;
use yiwang_store::{Actor, ImportSummary, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogFormat {
    Csv,
    Xlsx,
    Json,
}

impl CatalogFormat {
    /// From a file name's extension.
    pub fn from_name(name: &str) -> Option<Self> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Some(Self::Csv)
        } else if lower.ends_with(".xlsx") {
            Some(Self::Xlsx)
        } else if lower.ends_with(".json") {
            Some(Self::Json)
        } else {
            None
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the file has {} problem(s)", .0.len())]
    Invalid(Vec<Issue>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ImportError {
    pub fn issues(&self) -> Vec<Issue> {
        match self {
            ImportError::Invalid(i) => i.clone(),
            ImportError::Store(e) => vec![Issue::new(e.code())],
        }
    }
}

/// Parses and checks; returns the clean batch or every problem found.
pub async fn validate_catalog(
    store: &Store,
    parsed: ParsedFile,
    scope: &CatalogScope,
) -> Result<CatalogBatch, ImportError> {
    let mut issues = parsed.issues;
    let batch = parsed.batch;
    let known = store.known_refs(&batch).await?;
    issues.extend(check_batch(&batch, &known));
    for (src, e) in &batch.entries {
        let imp = &e.implementation;
        if !scope.covers(&imp.department_code, &imp.region) {
            issues.push(
                Issue::new(ErrorCode::Forbidden)
                    .at(ITEMS, src.row)
                    .field("实施主体编码")
                    .detail(imp.department_code.to_string()),
            );
        }
    }
    if batch.entries.is_empty() && issues.is_empty() {
        issues.push(Issue::new(ErrorCode::Required).at(ITEMS, 2));
    }
    if issues.is_empty() {
        Ok(batch)
    } else {
        issues.sort_by(|a, b| (&a.sheet, a.row).cmp(&(&b.sheet, b.row)));
        Err(ImportError::Invalid(issues))
    }
}

/// Validates and saves every entry as a draft in one transaction (audited as `catalog.import`).
pub async fn import_catalog(
    store: &Store,
    parsed: ParsedFile,
    scope: &CatalogScope,
    actor: &Actor,
    now_ms: i64,
    progress: &mut (dyn FnMut(usize) + Send),
) -> Result<ImportSummary, ImportError> {
    let batch = validate_catalog(store, parsed, scope).await?;
    let entries: Vec<_> = batch.entries.into_iter().map(|(_, e)| e).collect();
    Ok(store
        .import_drafts(&entries, actor, now_ms, progress)
        .await?)
}

/// The drift report over the published catalog, limited to implementations in `scope`.
pub async fn drift(
    store: &Store,
    scope: &CatalogScope,
) -> Result<yiwang_domain::drift::DriftReport, StoreError> {
    Ok(drift_of(scope, &store.published_all().await?))
}

/// Groups published implementations by standard item (in basic-code order) and builds the
/// drift report over those in `scope`.
pub fn drift_of(
    scope: &CatalogScope,
    published: &[yiwang_store::PublishedImplementation],
) -> yiwang_domain::drift::DriftReport {
    use yiwang_domain::catalog::{Implementation, StandardItem};
    let mut groups: std::collections::BTreeMap<String, (StandardItem, Vec<Implementation>)> =
        std::collections::BTreeMap::new();
    for p in published {
        let imp = &p.implementation;
        if scope.covers(&imp.department_code, &imp.region) {
            groups
                .entry(p.standard.basic_code.to_string())
                .or_insert_with(|| (p.standard.clone(), Vec::new()))
                .1
                .push(imp.clone());
        }
    }
    let groups: Vec<_> = groups.into_values().collect();
    yiwang_domain::drift::drift_report(&groups)
}
