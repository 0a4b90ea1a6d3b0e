//! 我的办事: the signed-in applicant's drafts (by service name, with delete), cases (service,
//! whom for, short number, status, date) and unread messages; readable at 360 px.

use super::{CurrentApplicant, page};
use crate::AppState;
use crate::html::{PageResult, render, see_other};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use yiwang_app::mine::{Home, MyDraft};
use yiwang_store::mine::MyCase;

/// A case line: the case and its short number.
pub struct CaseLine {
    pub case: MyCase,
    pub short: String,
}

#[derive(Template)]
#[template(path = "me/home.html")]
struct HomePage {
    page: Page,
    name: String,
    drafts: Vec<MyDraft>,
    cases: Vec<CaseLine>,
    unread: i64,
    bundles: Vec<(i64, String, i64)>,
}

pub async fn show(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
) -> PageResult {
    let a = me.require(locale, "/me")?;
    let Home {
        drafts,
        cases,
        unread,
        bundles,
    } = yiwang_app::mine::home(&state.store, a).await?;
    let cases = cases
        .into_iter()
        .map(|c| CaseLine {
            short: yiwang_domain::case::CaseNumber::parse(&c.summary.case_number)
                .map(|n| yiwang_domain::mine::short_number(&n))
                .unwrap_or_else(|_| c.summary.case_number.clone()),
            case: c,
        })
        .collect();
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

/// Deletes a draft with its files (not a part of a 一件事), back to 我的办事.
pub async fn delete_draft(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    Path(id): Path<i64>,
) -> PageResult {
    let a = me.require(locale, "/me")?;
    yiwang_app::mine::delete_draft(&state.store, state.files.as_ref(), a, id).await?;
    Ok(see_other(locale, "/me#h-drafts"))
}
