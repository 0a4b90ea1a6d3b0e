//! Drafts waiting in the user's scope, and publishing them (all, or one code).

use super::{page, region_names};
use crate::AppState;
use crate::auth::{ClientAddr, CurrentUser};
use crate::html::{PageResult, allow, fail, href, read_form, render};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use yiwang_domain::policy::{Action, CatalogScope, Principal, Target};
use yiwang_domain::{ErrorCode, ImplCode};
use yiwang_i18n::tf;

const PATH: &str = "/console/drafts";

pub(crate) struct DraftRow {
    pub code: String,
    pub name: String,
    pub department: String,
    pub region: String,
    pub version: i64,
    pub created: String,
    pub edit_href: String,
}

pub(crate) struct PublishedRow {
    pub code: String,
    pub portal_href: String,
    pub history_href: String,
}

#[derive(Template)]
#[template(path = "console/drafts.html")]
struct DraftsPage {
    page: Page,
    drafts: Vec<DraftRow>,
    published: Option<String>,
    published_codes: Vec<PublishedRow>,
}

async fn drafts_page(
    state: &AppState,
    locale: Locale,
    p: &Principal,
) -> Result<DraftsPage, crate::html::PageError> {
    let scope = CatalogScope::of(p, Action::PublishCatalog);
    let drafts: Vec<_> = state
        .store
        .drafts_all()
        .await?
        .into_iter()
        .filter(|d| scope.covers(&d.implementation.department_code, &d.implementation.region))
        .collect();
    let regions = region_names(state, drafts.iter().map(|d| &d.implementation.region)).await?;
    let rows = drafts
        .iter()
        .map(|d| DraftRow {
            code: d.implementation.code.to_string(),
            name: d.standard.name.clone(),
            department: d.implementation.department_name.clone(),
            region: regions
                .get(&d.implementation.region)
                .cloned()
                .unwrap_or_default(),
            version: d.version,
            created: crate::page::format_date(d.created_at),
            edit_href: href(
                locale,
                &format!("/console/implementations/{}/edit", d.implementation.code),
            ),
        })
        .collect();
    Ok(DraftsPage {
        page: page(locale, p, "console.drafts.title", PATH),
        drafts: rows,
        published: None,
        published_codes: Vec::new(),
    })
}

pub async fn drafts(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
) -> PageResult {
    let p = allow(
        &user,
        Action::PublishCatalog,
        &Target::Anything,
        locale,
        PATH,
    )?;
    let tpl = drafts_page(&state, locale, p).await?;
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}

pub async fn publish(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> PageResult {
    let p = allow(
        &user,
        Action::PublishCatalog,
        &Target::Anything,
        locale,
        PATH,
    )?;
    let form = read_form(req, &state).await?;
    let mut codes = Vec::new();
    for c in form.all("code") {
        let code = ImplCode::parse(c).map_err(|_| fail(ErrorCode::InvalidImplCode))?;
        codes.push(code.as_str().to_string());
    }
    let scope = CatalogScope::of(p, Action::PublishCatalog);
    let only = (!codes.is_empty()).then_some(codes.as_slice());
    let summary = state
        .store
        .publish_drafts(
            &scope,
            only,
            &yiwang_store::Actor::principal(p, client.as_str()),
            state.now_ms(),
        )
        .await?;
    state.cache.clear();
    let mut tpl = drafts_page(&state, locale, p).await?;
    tpl.published = Some(tf(
        locale.lang,
        "console.drafts.published",
        &[("n", &summary.published.to_string())],
    ));
    tpl.published_codes = summary
        .codes
        .into_iter()
        .map(|code| PublishedRow {
            portal_href: href(locale, &format!("/items/{code}")),
            history_href: href(locale, &format!("/console/implementations/{code}/history")),
            code,
        })
        .collect();
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}
