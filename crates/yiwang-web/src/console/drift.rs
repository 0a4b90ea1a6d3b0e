//! 四级四同 drift in the user's scope: where implementations of one standard item differ, and a
//! conformity score per region.

use super::{page, region_names};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::html::{PageResult, allow, render};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use yiwang_domain::RegionCode;
use yiwang_domain::drift::{Aspect, DriftReport};
use yiwang_domain::policy::{Action, CatalogScope, Target};
use yiwang_i18n::t;
use yiwang_store::PublishedImplementation;

const PATH: &str = "/console/drift";

/// The drift report over the published implementations inside `scope`, grouped by standard item
/// (`yiwang_app::catalog::drift_of`, which the CLI and the API use too).
pub fn drift_for(scope: &CatalogScope, published: &[PublishedImplementation]) -> DriftReport {
    yiwang_app::catalog::drift_of(scope, published)
}

struct Cell {
    value: String,
    deviates: bool,
}

struct ImplRow {
    code: String,
    region: String,
    department: String,
    cells: Vec<Cell>,
}

struct ItemView {
    basic_code: String,
    name: String,
    differing: String,
    rows: Vec<ImplRow>,
}

struct ScoreRow {
    region: String,
    code: String,
    comparable: u32,
    conforming: u32,
    score: u32,
}

#[derive(Template)]
#[template(path = "console/drift.html")]
struct DriftPage {
    page: Page,
    aspects: Vec<String>,
    items: Vec<ItemView>,
    scores: Vec<ScoreRow>,
}

fn aspect_label(lang: yiwang_i18n::Lang, a: Aspect) -> String {
    t(lang, &format!("console.aspect.{}", a.key())).to_string()
}

pub async fn show(State(state): State<AppState>, locale: Locale, user: CurrentUser) -> PageResult {
    let p = allow(&user, Action::ViewDrift, &Target::Anything, locale, PATH)?;
    let lang = locale.lang;
    let scope = CatalogScope::of(p, Action::ViewDrift);
    let published = state.store.published_all().await?;
    let report = drift_for(&scope, &published);
    let mut codes: Vec<RegionCode> = report.regions.iter().map(|r| r.region.clone()).collect();
    for item in &report.items {
        codes.extend(item.implementations.iter().map(|d| d.region.clone()));
    }
    let names = region_names(&state, codes.iter()).await?;
    let name_of = |r| names.get(r).cloned().unwrap_or_default();
    let items = report
        .items
        .iter()
        .map(|item| ItemView {
            basic_code: item.basic_code.clone(),
            // One row per item and level: county bureaus are compared among themselves, townships
            // among themselves.
            name: format!("{}（{}）", item.name, yiwang_i18n::label(lang, item.level)),
            differing: item
                .differing
                .iter()
                .map(|a| aspect_label(lang, *a))
                .collect::<Vec<_>>()
                .join(t(lang, "console.list_sep")),
            rows: item
                .implementations
                .iter()
                .map(|d| ImplRow {
                    code: d.code.clone(),
                    region: name_of(&d.region),
                    department: d.department_name.clone(),
                    cells: Aspect::ALL
                        .iter()
                        .map(|a| Cell {
                            value: d.values.get(a).cloned().unwrap_or_default(),
                            deviates: d.deviations.contains(a),
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    let scores = report
        .regions
        .iter()
        .map(|r| ScoreRow {
            region: name_of(&r.region),
            code: r.region.to_string(),
            comparable: r.comparable,
            conforming: r.conforming,
            score: r.score,
        })
        .collect();
    let tpl = DriftPage {
        page: page(locale, p, "console.drift.title", PATH),
        aspects: Aspect::ALL.iter().map(|a| aspect_label(lang, *a)).collect(),
        items,
        scores,
    };
    Ok(render(StatusCode::OK, &tpl, lang))
}
