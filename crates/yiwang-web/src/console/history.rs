//! Every version of one implementation, with who published it and when.

use super::page;
use crate::AppState;
use crate::auth::CurrentUser;
use crate::html::{PageResult, allow, fail, href, render};
use crate::locale::Locale;
use crate::page::{Page, format_date};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use yiwang_domain::policy::{Action, Target};
use yiwang_domain::{ErrorCode, ImplCode};
use yiwang_i18n::t;

struct VersionRow {
    version: i64,
    status: String,
    created: String,
    published: String,
    published_by: String,
    href: String,
}

#[derive(Template)]
#[template(path = "console/history.html")]
struct HistoryPage {
    page: Page,
    code: String,
    name: String,
    department: String,
    edit_href: String,
    versions: Vec<VersionRow>,
}

pub async fn show(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    Path(code): Path<String>,
) -> PageResult {
    let code = ImplCode::parse(&code).map_err(|_| fail(ErrorCode::NotFound))?;
    let path = format!("/console/implementations/{code}/history");
    // Anonymous visitors go to the sign-in page before anything about the code is revealed.
    allow(&user, Action::UseConsole, &Target::Anything, locale, &path)?;
    let working = state
        .store
        .working_implementation(&code)
        .await?
        .ok_or_else(|| fail(ErrorCode::NotFound))?;
    let imp = &working.implementation;
    let target = Target::Implementation {
        department: imp.department_code.clone(),
        region: imp.region.clone(),
    };
    let p = allow(&user, Action::ViewCatalogHistory, &target, locale, &path)?;
    let lang = locale.lang;
    let versions = state
        .store
        .implementation_history(&code)
        .await?
        .into_iter()
        .map(|h| VersionRow {
            version: h.version,
            status: t(lang, &format!("console.status.{}", h.status.key())).to_string(),
            created: format_date(h.created_at),
            published: h.published_at.map(format_date).unwrap_or_default(),
            published_by: h.published_by.unwrap_or_default(),
            href: href(locale, &format!("/items/{code}/versions/{}", h.version)),
        })
        .collect();
    let tpl = HistoryPage {
        page: page(locale, p, "console.history.title", &path),
        code: code.to_string(),
        name: working.standard.name.clone(),
        department: imp.department_name.clone(),
        edit_href: href(locale, &format!("/console/implementations/{code}/edit")),
        versions,
    };
    Ok(render(StatusCode::OK, &tpl, lang))
}
