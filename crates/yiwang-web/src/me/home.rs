//! 我的办事: the signed-in applicant's drafts, cases and unread messages.

use super::{CurrentApplicant, page};
use crate::AppState;
use crate::html::{PageResult, render};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use yiwang_store::applications::Application;
use yiwang_store::case_read::CaseSummary;

#[derive(Template)]
#[template(path = "me/home.html")]
struct HomePage {
    page: Page,
    name: String,
    drafts: Vec<Application>,
    cases: Vec<CaseSummary>,
    unread: i64,
    bundles: Vec<(i64, String, i64)>,
}

pub async fn show(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
) -> PageResult {
    let a = me.require(locale, "/me")?;
    let drafts = state.store.drafts_of(a.id).await?;
    let cases = state.store.cases_of_applicant(a.id).await?;
    let unread = state.store.unread_count(a.id).await?;
    let bundles = state.store.bundles_of(a.id).await?;
    let tpl = HomePage {
        page: page(locale, Some(a), "me.home.title", "/me"),
        name: a.masked_name(),
        drafts,
        cases,
        unread,
        bundles,
    };
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}
