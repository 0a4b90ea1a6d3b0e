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
use yiwang_app::apply::{self, Filer, Readiness};
use yiwang_domain::{ErrorCode, ImplCode};
use yiwang_store::StoreError;
use yiwang_store::applicants::Applicant;
use yiwang_store::bundles::{BUNDLE_MAX_ITEMS, Bundle, BundlePart};

/// One part as the bundle page (and the API) shows it: its case, or what its draft lacks.
pub(crate) struct PartView {
    pub part: BundlePart,
    /// A draft whose answers do not pass the submission rules yet.
    pub form_incomplete: bool,
    /// Mandatory materials of a draft without a file yet.
    pub materials: Vec<String>,
    /// A draft of an implementation no longer published: it cannot be submitted.
    pub unavailable: bool,
}

impl PartView {
    pub fn ready(&self) -> bool {
        !self.unavailable && !self.form_incomplete && self.materials.is_empty()
    }
}

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

/// A part as assessed: its view and, for a complete draft, the draft as read and the final
/// answers document to submit it with.
pub(crate) type Assessed = (PartView, Option<(apply::Draft, serde_json::Value)>);

/// Each part's view and, for a complete draft, the final answers document to submit it with
/// (the same check as a single application's submission).
pub(crate) async fn assess(
    state: &AppState,
    a: &Applicant,
    bundle: &Bundle,
) -> Result<Vec<Assessed>, StoreError> {
    let mut out = Vec::with_capacity(bundle.parts.len());
    for part in &bundle.parts {
        let mut view = PartView {
            part: part.clone(),
            form_incomplete: false,
            materials: Vec::new(),
            unavailable: false,
        };
        let mut doc = None;
        if part.case_number.is_none() {
            let l = match apply::load(&state.store, Filer::Applicant(a), part.application_id).await
            {
                Ok(l) => l,
                Err(StoreError::Domain(ErrorCode::NotFound)) => {
                    view.unavailable = true;
                    out.push((view, None));
                    continue;
                }
                Err(e) => return Err(e),
            };
            match apply::readiness(&l) {
                Readiness::Ready(d) => doc = Some((l, d)),
                Readiness::Missing { form, materials } => {
                    view.form_incomplete = !form.is_empty();
                    view.materials = materials;
                }
            }
        }
        out.push((view, doc));
    }
    Ok(out)
}

/// Whether every part is submitted or ready to be.
pub(crate) fn complete(assessed: &[Assessed]) -> bool {
    assessed
        .iter()
        .all(|(v, doc)| v.part.case_number.is_some() || doc.is_some())
}

/// Submits every ready draft of an [`assess`]ed bundle (each its own case; a draft submitted
/// meanwhile returns its case) and records the bundle's submission with its audit entry.
pub(crate) async fn submit_parts(
    state: &AppState,
    a: &Applicant,
    client: &str,
    bundle_id: i64,
    assessed: &[Assessed],
) -> Result<(), StoreError> {
    let mut numbers = Vec::new();
    for (_, ready) in assessed {
        if let Some((draft, doc)) = ready {
            let calendar = state.calendar().await?;
            let clock = state.case_clock(&calendar);
            let done =
                apply::submit(&state.store, Filer::Applicant(a), client, draft, doc, clock).await?;
            numbers.push(done.number.to_string());
        }
    }
    state
        .store
        .mark_bundle_submitted(bundle_id, a, &numbers, client, state.now_ms())
        .await?;
    Ok(())
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
    let parts = assess(&state, a, &bundle).await?;
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
    let assessed = assess(&state, a, &bundle).await?;
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
    submit_parts(&state, a, &client, id, &assessed).await?;
    Ok(see_other(locale, &path))
}
