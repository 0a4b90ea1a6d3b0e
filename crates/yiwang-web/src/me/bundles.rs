//! 一件事 for the applicant: one application for a life event, started from its result page,
//! made of one application (then one case) per item; one page shows the combined status, what
//! each part still lacks, and submits every part at once (一次提交) when all are complete.

use super::{CurrentApplicant, not_found, page};
use crate::AppState;
use crate::apply_pages::{Flash, Posted};
use crate::auth::ClientAddr;
use crate::forms_html::{self, ACTION_CONTROL, DECLARATION_CONTROL, FormView};
use crate::html::{PageResult, fail, read_form, render, see_other, see_other_at};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use yiwang_app::bundles::{
    MaterialState, OneForm, PartView, assess, complete, one_form, save_one_form, submit_all,
};
use yiwang_domain::forms::{FieldError, Mode, RawAnswers, Text};
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

/// One material slot of the one form: a material name asked once for the parts that need it.
pub struct SlotView {
    pub name: String,
    /// `m-<n>`: the slot's anchor, where an upload returns.
    pub anchor: String,
    /// The part (1-based) whose result provides it: nothing to upload.
    pub provided_by: Option<usize>,
    /// Files already given (in any part), as `(filename, size)`.
    pub files: Vec<(String, String)>,
    pub mandatory: bool,
    /// The parts (1-based) that use it.
    pub parts: Vec<usize>,
    /// The draft a file chosen for it is stored in (the first part that needs it); the others
    /// use that file at "submit all".
    pub app_id: i64,
    /// Why the file last chosen for it was refused.
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "me/bundle_form.html")]
struct OneFormPage {
    page: Page,
    bundle: Bundle,
    fields: forms_html::Fragment,
    summary: forms_html::Fragment,
    saved: bool,
    slots: Vec<SlotView>,
    action: String,
    /// What the file inputs accept, and the rule shown by each (types and size limit).
    accept: String,
    rule: String,
}

impl OneFormPage {
    /// Some slot's file was refused (listed above the form, each linking to its slot).
    fn slot_problems(&self) -> bool {
        self.slots.iter().any(|s| s.error.is_some())
    }
}

fn slots(form: &OneForm) -> Vec<SlotView> {
    let mut out: Vec<SlotView> = Vec::new();
    for (i, d) in &form.parts.drafts {
        for l in yiwang_app::bundles::material_lines(&form.parts, *i, d) {
            let part = i.saturating_add(1);
            if let Some(s) = out.iter_mut().find(|s| s.name == l.name) {
                s.parts.push(part);
                continue;
            }
            let files = form
                .parts
                .drafts
                .iter()
                .flat_map(|(_, o)| o.uploads.iter())
                .filter(|u| u.material_key == l.name)
                .map(|u| (u.filename.clone(), crate::apply_pages::human_size(u.size)))
                .collect();
            let anchor = format!("m-{}", out.len().saturating_add(1));
            out.push(SlotView {
                provided_by: match l.state {
                    MaterialState::ProvidedBy(k) => Some(k.saturating_add(1)),
                    _ => None,
                },
                mandatory: d.required.iter().any(|m| m.name == l.name && m.mandatory),
                files,
                parts: vec![part],
                app_id: d.app.id,
                error: None,
                name: l.name,
                anchor,
            });
        }
    }
    out
}

async fn one_form_page(
    state: &AppState,
    locale: Locale,
    a: &Applicant,
    bundle: Bundle,
    errors: &[FieldError],
    flash: &Flash,
) -> PageResult {
    let shared = Text::both(
        yiwang_i18n::t(yiwang_i18n::Lang::Zh, "bundle.form.shared"),
        yiwang_i18n::t(yiwang_i18n::Lang::En, "bundle.form.shared"),
    );
    let form = one_form(&state.store, a, &bundle, shared).await?;
    let root = form
        .parts
        .drafts
        .first()
        .map(|(_, d)| d.region.clone())
        .ok_or_else(not_found)?;
    let regions = crate::apply_pages::region_choices(state, &form.def, &root).await?;
    let view = FormView {
        def: &form.def,
        raw: &form.raw,
        errors,
        lang: locale.lang,
        regions: &regions,
        default_action: "save",
        from_account: &[],
    };
    let path = format!("/me/bundles/{}/form", bundle.id);
    let mut slots = slots(&form);
    for (n, code) in &flash.slot_errors {
        if let Some(s) = n.checked_sub(1).and_then(|i| slots.get_mut(i)) {
            s.error = Some(yiwang_i18n::error_message(locale.lang, *code));
        }
    }
    let (accept, rule) = crate::apply_pages::upload_rule(locale);
    let tpl = OneFormPage {
        page: page(locale, Some(a), "bundle.form.title", &path),
        summary: forms_html::error_summary_html(&view),
        fields: forms_html::fields_html(&view),
        slots,
        saved: flash.saved,
        action: crate::link::href(locale, &path),
        accept,
        rule,
        bundle,
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render(status, &tpl, locale.lang))
}

/// 一表申请: the whole bundle as one form (shared questions once, each part's own under its
/// heading, one slot per material). `?check=1` shows what the submission rules still miss.
pub async fn form(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    Path(id): Path<i64>,
    q: Result<
        axum::extract::Query<Vec<(String, String)>>,
        axum::extract::rejection::QueryRejection,
    >,
) -> PageResult {
    let path = format!("/me/bundles/{id}/form");
    let a = me.require(locale, &path)?;
    let bundle = state.store.bundle(id, a.id).await?;
    if bundle.pending().next().is_none() {
        return Ok(see_other(locale, &format!("/me/bundles/{id}")));
    }
    let q = q.map(|axum::extract::Query(q)| q).unwrap_or_default();
    let flash = Flash::from_query(&q);
    let errors = if flash.check {
        let form = one_form(&state.store, a, &bundle, Text::zh("")).await?;
        yiwang_domain::forms::validate(&form.def, &form.raw, Mode::Submit)
            .err()
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    one_form_page(&state, locale, a, bundle, &errors, &flash).await
}

/// Saves the one form into every draft of the bundle (one transaction), then shows it again
/// (post/redirect/get): "save" keeps the page, a group row added or removed returns to the
/// group, "continue" goes to the bundle page when every answer passes, else back to the form
/// with the problems listed. Nothing typed is lost on any path.
pub async fn save_form(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    Path(id): Path<i64>,
    req: Request,
) -> PageResult {
    let path = format!("/me/bundles/{id}/form");
    let a = me.require(locale, &path)?;
    let bundle = state.store.bundle(id, a.id).await?;
    if bundle.pending().next().is_none() {
        return Err(fail(ErrorCode::NotEditable));
    }
    let form = one_form(&state.store, a, &bundle, Text::zh("")).await?;
    let Posted { pairs, files, cut } = crate::apply_pages::read_posted(&state, req).await?;
    let action = pairs
        .iter()
        .find(|(k, _)| k == ACTION_CONTROL)
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let mut raw =
        RawAnswers::from_pairs(&form.def, pairs).map_err(|_| fail(ErrorCode::InvalidInput))?;
    let row_action = raw.apply_row_action(&form.def).is_some();
    let mode = if action == "continue" && !row_action && cut.is_none() {
        Mode::Submit
    } else {
        Mode::Draft
    };
    // The answers first (one transaction for every draft), then each chosen file into the
    // draft of the first part that needs it: a refused file is its slot's error only.
    let errors = save_one_form(&state.store, a, id, &form, &raw, mode, state.now_ms()).await?;
    let slots = slots(&form);
    let mut flash = Flash {
        saved: true,
        cut,
        check: mode == Mode::Submit && !errors.is_empty(),
        ..Flash::default()
    };
    crate::apply_pages::store_chosen(&state, files, &mut flash, |n| {
        let slot = n.checked_sub(1).and_then(|i| slots.get(i))?;
        if slot.provided_by.is_some() {
            return None;
        }
        let (_, draft) = form
            .parts
            .drafts
            .iter()
            .find(|(_, d)| d.app.id == slot.app_id)?;
        Some((&draft.app, slot.name.as_str()))
    })
    .await;
    let problems = !flash.slot_errors.is_empty() || flash.cut.is_some();
    if mode == Mode::Submit && errors.is_empty() && !problems {
        return Ok(see_other(locale, &format!("/me/bundles/{id}")));
    }
    let anchor = if row_action {
        ""
    } else if problems {
        "#slot-errors"
    } else if flash.check {
        "#error-summary"
    } else if !flash.uploaded.is_empty() {
        "#h-materials"
    } else {
        ""
    };
    Ok(see_other_at(
        locale,
        &format!("{path}{}", flash.to_query()),
        anchor,
    ))
}
