//! The console home: who is signed in, what they may do and where, and what waits for them.

use super::{page, region_names};
use crate::AppState;
use crate::auth::CurrentUser;
use crate::html::{PageResult, allow, here, may, render};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use yiwang_domain::policy::{Action, CatalogScope, Target};
use yiwang_i18n::{label, t};

struct GrantView {
    role: &'static str,
    region: String,
    department: String,
}

#[derive(Template)]
#[template(path = "console/dashboard.html")]
struct Dashboard {
    page: Page,
    name: String,
    username: String,
    grants: Vec<GrantView>,
    drafts: usize,
    can_import: bool,
    can_publish: bool,
    can_edit: bool,
    can_drift: bool,
    can_departments: bool,
    /// The cases waiting (none for a role that handles no cases).
    work: Option<yiwang_app::work::WorkWaiting>,
}

pub async fn show(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    uri: Uri,
) -> PageResult {
    let path = here(&uri);
    let p = allow(&user, Action::UseConsole, &Target::Anything, locale, &path)?;
    let lang = locale.lang;
    let regions = region_names(&state, p.grants.iter().filter_map(|g| g.region.as_ref())).await?;
    let mut grants = Vec::new();
    for g in &p.grants {
        let region = match &g.region {
            Some(r) => format!("{} ({r})", regions.get(r).map(String::as_str).unwrap_or("")),
            None => t(lang, "console.scope.all_regions").to_string(),
        };
        let department = match &g.department {
            Some(d) => match state.store.department(d).await? {
                Some(dep) => format!("{} ({d})", dep.name),
                None => d.to_string(),
            },
            None => t(lang, "console.scope.all_departments").to_string(),
        };
        grants.push(GrantView {
            role: label(lang, g.role),
            region,
            department,
        });
    }
    let scope = CatalogScope::of(p, Action::PublishCatalog);
    let drafts = if scope.is_empty() {
        0
    } else {
        state
            .store
            .drafts_all()
            .await?
            .iter()
            .filter(|d| scope.covers(&d.implementation.department_code, &d.implementation.region))
            .count()
    };
    let work = if may(&user, Action::HandleCases, locale) {
        let calendar = state.calendar().await?;
        let today = yiwang_domain::calendar::CivilDate::from_unix_ms(state.now_ms(), 8 * 3600);
        Some(yiwang_app::work::waiting(&state.store, p, &calendar, today).await?)
    } else {
        None
    };
    let tpl = Dashboard {
        page: page(locale, p, "console.dashboard.title", &path),
        name: p.display_name.clone(),
        username: p.username.clone(),
        grants,
        drafts,
        can_import: may(&user, Action::ImportCatalog, locale),
        can_publish: may(&user, Action::PublishCatalog, locale),
        can_edit: may(&user, Action::EditImplementation, locale),
        can_drift: may(&user, Action::ViewDrift, locale),
        can_departments: may(&user, Action::ManageDepartments, locale),
        work,
    };
    Ok(render(StatusCode::OK, &tpl, lang))
}
