//! 一件事 for the applicant: one application for a life event, started from its result page,
//! made of one application (then one case) per item; one page shows the combined status.

use super::{CurrentApplicant, not_found, page};
use crate::AppState;
use crate::console::{ConsoleResult, fail, read_form, render, same_origin, see_other, store_fail};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use yiwang_domain::{ErrorCode, ImplCode};
use yiwang_store::bundles::{BUNDLE_MAX_ITEMS, Bundle};

#[derive(Template)]
#[template(path = "me/bundle.html")]
struct BundlePage {
    page: Page,
    bundle: Bundle,
    status: String,
}

/// Starts a bundle with the plan's items (from the life event's result page).
pub async fn start(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    Path(code): Path<String>,
    req: Request,
) -> ConsoleResult {
    same_origin(req.headers(), locale)?;
    let back = format!("/life-events/{}", crate::console::encode(&code));
    let a = me.require(locale, &back)?.clone();
    let engine = state
        .search
        .engine(&state.store, state.now_ms())
        .await
        .map_err(|_| fail(ErrorCode::Internal, locale))?;
    let ev = engine
        .life_event(&code)
        .cloned()
        .ok_or_else(|| not_found(locale))?;
    let form = read_form(req, &state, locale).await?;
    let codes: Vec<ImplCode> = form
        .all("impl")
        .into_iter()
        .take(BUNDLE_MAX_ITEMS + 1)
        .map(ImplCode::parse)
        .collect::<Result<_, _>>()
        .map_err(|c| fail(c, locale))?;
    let id = state
        .store
        .create_bundle(a.id, &ev.code, &ev.name, &codes, state.now_ms())
        .await
        .map_err(|e| store_fail(e, locale))?;
    Ok(see_other(locale, &format!("/me/bundles/{id}")))
}

pub async fn show(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    Path(id): Path<i64>,
) -> ConsoleResult {
    let path = format!("/me/bundles/{id}");
    let a = me.require(locale, &path)?;
    let bundle = state
        .store
        .bundle(id, a.id)
        .await
        .map_err(|e| store_fail(e, locale))?;
    let tpl = BundlePage {
        page: page(locale, Some(a), "me.bundle.title", &path),
        status: bundle.status().key().to_string(),
        bundle,
    };
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}
