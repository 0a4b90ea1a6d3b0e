//! The demo data set: Tianjin's regions, the departments of 津南区 and its catalog, published.

use crate::catalog::{ImportError, import_catalog};
use crate::regions::tianjin;
use yiwang_domain::catalog::Department;
use yiwang_domain::policy::CatalogScope;
use yiwang_domain::{CreditCode, RegionCode};
use yiwang_store::{Actor, Store, StoreError};

pub const DEMO_ITEMS: &[u8] = include_bytes!("../demo/items.csv");
pub const DEMO_MATERIALS: &[u8] = include_bytes!("../demo/materials.csv");
pub const DEMO_DEPARTMENTS: &[u8] = include_bytes!("../demo/departments.csv");

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("regions: {0}")]
    Regions(#[from] crate::regions::RegionFileError),
    #[error("departments file line {0}: {1}")]
    Department(u64, String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("catalog: {0:?}")]
    Catalog(Vec<yiwang_domain::Issue>),
    #[error("form definition {0}: {1:?}")]
    Form(&'static str, Vec<yiwang_domain::forms::FormDefError>),
    #[error("workflow definition {0}")]
    Workflow(String),
}

impl From<ImportError> for DemoError {
    fn from(e: ImportError) -> Self {
        DemoError::Catalog(e.issues())
    }
}

/// Parses a departments CSV (`名称,统一社会信用代码,行政区划代码`).
pub fn parse_departments(text: &[u8]) -> Result<Vec<Department>, DemoError> {
    let mut rdr = csv::ReaderBuilder::new().from_reader(text);
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i as u64 + 2;
        let rec = rec.map_err(|e| DemoError::Department(line, e.to_string()))?;
        let field = |n: usize| {
            rec.get(n)
                .unwrap_or("")
                .trim()
                .trim_start_matches('\u{feff}')
        };
        let credit_code = CreditCode::parse(field(1))
            .map_err(|c| DemoError::Department(line, c.key().to_string()))?;
        let region = RegionCode::parse(field(2))
            .map_err(|c| DemoError::Department(line, c.key().to_string()))?;
        out.push(Department {
            credit_code,
            name: field(0).to_string(),
            region,
        });
    }
    Ok(out)
}

/// Loads the demo into an empty (or demo) database and publishes it. Idempotent.
pub async fn load_demo(store: &Store, now_ms: i64) -> Result<(), DemoError> {
    let regions = tianjin()?;
    store.upsert_regions(&regions, &mut |_| {}).await?;
    let actor = Actor::system("demo");
    for d in parse_departments(DEMO_DEPARTMENTS)? {
        store.upsert_department(&d, &actor, now_ms).await?;
    }
    let parsed = yiwang_interchange::parse_csv(DEMO_ITEMS, DEMO_MATERIALS);
    let scope = CatalogScope {
        all: true,
        grants: Vec::new(),
    };
    import_catalog(store, parsed, &scope, &actor, now_ms, &mut |_| {}).await?;
    store.publish_drafts(&scope, None, &actor, now_ms).await?;
    load_demo_forms(store, &actor, now_ms).await?;
    load_demo_workflows(store, &actor, now_ms).await?;
    Ok(())
}

/// 食品经营许可（新办） of 津南区 follows 承诺件 with a parallel review by 市场监管局 and 卫健委.
pub const DEMO_FOOD_LICENCE: &str = "11120112MB1W167324000123001001";
pub const DEMO_MARKET: &str = "11120112MB1L902463";
pub const DEMO_HEALTH: &str = "11120112MB1M05719N";

/// Saves and binds the demo's parallel-review workflow (idempotent).
pub async fn load_demo_workflows(
    store: &Store,
    actor: &Actor,
    now_ms: i64,
) -> Result<(), DemoError> {
    use yiwang_domain::workflow::{BindingScope, promised_parallel};
    let cc = |s: &str| {
        yiwang_domain::CreditCode::parse(s).map_err(|_| DemoError::Workflow(s.to_string()))
    };
    let def = promised_parallel(
        "food_licence_parallel",
        &[("market", cc(DEMO_MARKET)?), ("health", cc(DEMO_HEALTH)?)],
    );
    let json = def
        .to_json()
        .map_err(|_| DemoError::Workflow(def.key.clone()))?;
    match store.save_workflow(&json, actor, now_ms).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(DemoError::Workflow(format!("{}: {:?}", def.key, e.0))),
        // Saved by an earlier run.
        Err(e) if e.code() == yiwang_domain::ErrorCode::Conflict => {}
        Err(e) => return Err(e.into()),
    }
    let impl_code = yiwang_domain::ImplCode::parse(DEMO_FOOD_LICENCE)
        .map_err(|_| DemoError::Workflow(DEMO_FOOD_LICENCE.to_string()))?;
    store
        .bind_workflow(
            &BindingScope::Implementation { impl_code },
            &def.key,
            def.version,
            actor,
            now_ms,
        )
        .await?;
    Ok(())
}

/// The demo's application forms: 食品经营许可（新办） for 津南区's implementation, and two
/// standard-item forms (个体工商户设立登记, 生育登记) that every implementation of those items uses.
pub const DEMO_FORMS: &[(&str, &str, &str)] = &[
    (
        "implementation",
        "11120112MB1W167324000123001001",
        include_str!("../demo/forms/food_business_licence.json"),
    ),
    (
        "standard_item",
        "000123003",
        include_str!("../demo/forms/individual_business.json"),
    ),
    (
        "standard_item",
        "002012001",
        include_str!("../demo/forms/birth_registration.json"),
    ),
];

/// Saves the demo forms (a form equal to the stored one is not saved again).
pub async fn load_demo_forms(store: &Store, actor: &Actor, now_ms: i64) -> Result<(), DemoError> {
    use yiwang_store::FormScope;
    for (level, code, json) in DEMO_FORMS {
        let bad = |_| DemoError::Form(code, Vec::new());
        let scope = match *level {
            "implementation" => {
                FormScope::Implementation(yiwang_domain::ImplCode::parse(code).map_err(bad)?)
            }
            _ => FormScope::StandardItem(yiwang_domain::BasicCode::parse(code).map_err(bad)?),
        };
        store
            .save_form_definition(&scope, json, actor, now_ms)
            .await?
            .map_err(|e| DemoError::Form(code, e.0))?;
    }
    Ok(())
}
