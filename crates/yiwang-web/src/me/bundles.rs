//! 一件事 for the applicant: one application for a life event, started from its result page,
//! made of one application (then one case) per item; one page shows the combined status, what
//! each part still lacks, and submits every part at once (一次提交) when all are complete.

use super::{CurrentApplicant, not_found, page};
use crate::AppState;
use crate::auth::ClientAddr;
use crate::bundle_flow::{PartView, assess, complete, submit_parts};
use crate::console::{ConsoleResult, fail, read_form, render, same_origin, see_other, store_fail};
use crate::forms_html::{self, DECLARATION_CONTROL};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use yiwang_domain::{ErrorCode, ImplCode};
use yiwang_store::applicants::Applicant;
use yiwang_store::bundles::{BUNDLE_MAX_ITEMS, Bundle};

#[derive(Template)]
#[template(path = "me/bundle.html")]
struct BundlePage {
    page: Page,
    bundle: Bundle,
    parts: Vec<PartView>,
    status: String,
    /// Some part is still a draft.
    pending: bool,
    /// Every draft is complete: the "submit all" form is offered.
    all_ready: bool,
    /// A "submit all" was refused because some part is not complete.
    refused: bool,
    declaration: String,
}

fn bundle_page(
    locale: Locale,
    a: &Applicant,
    bundle: Bundle,
    parts: Vec<PartView>,
    declaration_error: Option<&str>,
    refused: bool,
    status: StatusCode,
) -> ConsoleResult {
    let path = format!("/me/bundles/{}", bundle.id);
    let drafts = || parts.iter().filter(|p| p.part.case_number.is_none());
    let tpl = BundlePage {
        page: page(locale, Some(a), "me.bundle.title", &path),
        status: bundle.status().key().to_string(),
        pending: drafts().next().is_some(),
        all_ready: drafts().all(PartView::ready),
        refused,
        declaration: forms_html::declaration_html(locale.lang, false, declaration_error),
        bundle,
        parts,
    };
    Ok(render(status, &tpl, locale.lang))
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
    let a = me.require(locale, &format!("/me/bundles/{id}"))?;
    let bundle = state
        .store
        .bundle(id, a.id)
        .await
        .map_err(|e| store_fail(e, locale))?;
    let parts = assess(&state, a, &bundle)
        .await
        .map_err(|e| store_fail(e, locale))?;
    let parts = parts.into_iter().map(|(v, _)| v).collect();
    bundle_page(locale, a, bundle, parts, None, false, StatusCode::OK)
}

/// 一次提交: with the declaration ticked and every draft complete, each draft becomes its own
/// case (parts submitted before are left as they are) and the bundle records the submission.
/// Otherwise nothing is submitted and the page says what is missing. A retried request lands
/// on the same cases.
pub async fn submit(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Bytes,
) -> ConsoleResult {
    same_origin(&headers, locale)?;
    let path = format!("/me/bundles/{id}");
    let a = me.require(locale, &path)?;
    let bundle = state
        .store
        .bundle(id, a.id)
        .await
        .map_err(|e| store_fail(e, locale))?;
    let pairs =
        forms_html::parse_pairs(&body).map_err(|_| fail(ErrorCode::InvalidInput, locale))?;
    if bundle.pending().next().is_none() {
        return Ok(see_other(locale, &path));
    }
    let declared = pairs.iter().any(|(k, _)| k == DECLARATION_CONTROL);
    let assessed = assess(&state, a, &bundle)
        .await
        .map_err(|e| store_fail(e, locale))?;
    let complete = complete(&assessed);
    if !declared || !complete {
        let msg = yiwang_i18n::t(locale.lang, "me.check.declaration_required").to_string();
        let parts = assessed.into_iter().map(|(v, _)| v).collect();
        return bundle_page(
            locale,
            a,
            bundle,
            parts,
            (!declared).then_some(msg.as_str()),
            !complete,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    submit_parts(&state, a, &client, id, &assessed)
        .await
        .map_err(|e| store_fail(e, locale))?;
    Ok(see_other(locale, &path))
}
