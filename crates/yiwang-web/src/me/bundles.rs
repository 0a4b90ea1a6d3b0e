//! 一件事 for the applicant: one application for a life event, started from its result page,
//! made of one application (then one case) per item; one page shows the combined status, what
//! each part still lacks, and submits every part at once (一次提交) when all are complete.

use super::{CurrentApplicant, not_found, page};
use crate::AppState;
use crate::auth::ClientAddr;
use crate::forms_html::{self, DECLARATION_CONTROL};
use crate::html::{PageResult, fail, read_form, render, see_other};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use yiwang_app::bundles::{PartView, assess, complete, submit_all};
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
    declaration: forms_html::Fragment,
}

fn bundle_page(
    locale: Locale,
    a: &Applicant,
    bundle: Bundle,
    parts: Vec<PartView>,
    declaration_error: Option<&str>,
    refused: bool,
    status: StatusCode,
) -> PageResult {
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
) -> PageResult {
    let back = format!("/life-events/{}", crate::link::encode_query(&code));
    let a = me.require(locale, &back)?.clone();
    let engine = state
        .search
        .engine(&state.store, state.now_ms())
        .await
        .map_err(|_| fail(ErrorCode::Internal))?;
    let ev = engine.life_event(&code).cloned().ok_or_else(not_found)?;
    let form = read_form(req, &state).await?;
    let codes: Vec<ImplCode> = form
        .all("impl")
        .into_iter()
        .take(BUNDLE_MAX_ITEMS + 1)
        .map(ImplCode::parse)
        .collect::<Result<_, _>>()?;
    let id = state
        .store
        .create_bundle(a.id, &ev.code, &ev.name, &codes, state.now_ms())
        .await?;
    Ok(see_other(locale, &format!("/me/bundles/{id}")))
}

pub async fn show(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    Path(id): Path<i64>,
) -> PageResult {
    let a = me.require(locale, &format!("/me/bundles/{id}"))?;
    let bundle = state.store.bundle(id, a.id).await?;
    let parts = assess(&state.store, a, &bundle).await?;
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
    Path(id): Path<i64>,
    body: Bytes,
) -> PageResult {
    let path = format!("/me/bundles/{id}");
    let a = me.require(locale, &path)?;
    let bundle = state.store.bundle(id, a.id).await?;
    let pairs = crate::form_body::parse_pairs(&body).map_err(|_| fail(ErrorCode::InvalidInput))?;
    if bundle.pending().next().is_none() {
        return Ok(see_other(locale, &path));
    }
    let declared = pairs.iter().any(|(k, _)| k == DECLARATION_CONTROL);
    let assessed = assess(&state.store, a, &bundle).await?;
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
    let calendar = state.calendar().await?;
    submit_all(
        &state.store,
        a,
        &client,
        id,
        &assessed,
        state.case_clock(&calendar),
    )
    .await?;
    Ok(see_other(locale, &path))
}
