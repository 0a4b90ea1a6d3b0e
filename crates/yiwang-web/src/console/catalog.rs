//! The implementations the user may edit: published and draft, with links to edit and history.

use super::{page, region_names};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::html::{PageResult, allow, href, render};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use std::collections::BTreeMap;
use yiwang_domain::policy::{Action, CatalogScope, Target};

const PATH: &str = "/console/catalog";

struct Row {
    code: String,
    name: String,
    department: String,
    region: String,
    published: String,
    draft: String,
    edit_href: String,
    history_href: String,
    portal_href: Option<String>,
}

#[derive(Template)]
#[template(path = "console/catalog.html")]
struct CatalogPage {
    page: Page,
    rows: Vec<Row>,
}

pub async fn list(State(state): State<AppState>, locale: Locale, user: CurrentUser) -> PageResult {
    let p = allow(
        &user,
        Action::EditImplementation,
        &Target::Anything,
        locale,
        PATH,
    )?;
    let scope = CatalogScope::of(p, Action::EditImplementation);
    let mut all = state.store.published_all().await?;
    all.extend(state.store.drafts_all().await?);
    all.retain(|v| scope.covers(&v.implementation.department_code, &v.implementation.region));
    let regions = region_names(&state, all.iter().map(|v| &v.implementation.region)).await?;
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for v in &all {
        let imp = &v.implementation;
        let code = imp.code.to_string();
        let row = rows.entry(code.clone()).or_insert_with(|| Row {
            edit_href: href(locale, &format!("/console/implementations/{code}/edit")),
            history_href: href(locale, &format!("/console/implementations/{code}/history")),
            code,
            name: v.standard.name.clone(),
            department: imp.department_name.clone(),
            region: regions.get(&imp.region).cloned().unwrap_or_default(),
            published: String::new(),
            draft: String::new(),
            portal_href: None,
        });
        match v.status {
            yiwang_domain::catalog::VersionStatus::Published => {
                row.published = v.version.to_string();
                row.portal_href = Some(href(locale, &format!("/items/{}", row.code)));
            }
            yiwang_domain::catalog::VersionStatus::Draft => {
                row.draft = v.version.to_string();
                // The draft is what the console edits; show its current name and department.
                row.name = v.standard.name.clone();
                row.department = imp.department_name.clone();
            }
            yiwang_domain::catalog::VersionStatus::Superseded => {}
        }
    }
    let tpl = CatalogPage {
        page: page(locale, p, "console.catalog.title", PATH),
        rows: rows.into_values().collect(),
    };
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}
