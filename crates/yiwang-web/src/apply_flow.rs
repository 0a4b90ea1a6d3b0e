//! The application flow shared by every channel: the applicant online (`/me/applications/…`)
//! and staff entering an application for a citizen at the counter or a service point
//! (`/console/intake/…`). Fill the form (saved as a draft and resumed later), check the
//! answers, agree to the declaration and submit; the case number comes back at once. Same
//! definitions, same rules, same case; only who files it (recorded on the case) differs.
//!
//! The draft keeps the posted values (`{"pairs": …}`) so an unfinished or not-yet-valid form
//! comes back exactly as left; the typed answers are added on submission.

use crate::AppState;
use crate::console::{ConsoleError, ConsoleResult, fail, render, see_other, store_fail};
use crate::forms_html::{self, ACTION_CONTROL, DECLARATION_CONTROL, FormView, SummaryView};
use crate::locale::Locale;
use crate::materials::MaterialView;
use crate::me::not_found;
use crate::page::Page;
use askama::Template;
use axum::http::StatusCode;
use std::collections::HashMap;
use yiwang_domain::forms::{FieldError, FormDefinition, Mode, RawAnswers, validate};
use yiwang_domain::policy::Principal;
use yiwang_domain::{ErrorCode, RegionCode};
use yiwang_store::StoreError;
use yiwang_store::applicants::Applicant;
use yiwang_store::applications::{Application, ApplicationStatus, DraftOwner};
use yiwang_store::cases::{CaseActor, Submitted};

/// Who files the application: the applicant, or a staff member for a citizen.
#[derive(Clone, Copy)]
pub(crate) enum Filer<'a> {
    Applicant(&'a Applicant),
    Staff(&'a Principal),
}

impl Filer<'_> {
    fn owner(&self) -> DraftOwner {
        match self {
            Filer::Applicant(a) => DraftOwner::Applicant(a.id),
            Filer::Staff(p) => DraftOwner::Staff(p.user_id),
        }
    }
    /// Where this filer's application pages live.
    pub fn base(&self) -> &'static str {
        match self {
            Filer::Applicant(_) => "/me/applications",
            Filer::Staff(_) => "/console/intake",
        }
    }
    /// Where a submitted case is shown to this filer.
    pub fn case_href(&self, number: &str) -> String {
        match self {
            Filer::Applicant(_) => format!("/me/cases/{number}"),
            Filer::Staff(_) => format!("/console/intake/done/{number}"),
        }
    }
    fn page(&self, locale: Locale, title_key: &str, path: &str) -> Page {
        match self {
            Filer::Applicant(a) => crate::me::page(locale, Some(a), title_key, path),
            Filer::Staff(p) => crate::console::page(locale, p, title_key, path),
        }
    }
    fn actor(&self) -> CaseActor<'_> {
        match self {
            Filer::Applicant(a) => CaseActor::Applicant(a),
            Filer::Staff(p) => CaseActor::Staff(p),
        }
    }
}

#[derive(Template)]
#[template(path = "me/apply.html")]
struct FormPage {
    page: Page,
    item_name: String,
    /// The form, rendered by `forms_html` (all text escaped there).
    form: String,
    saved: bool,
    materials: Vec<MaterialView>,
    /// Where a material's file is posted, and where removals go.
    upload_href: String,
    remove_href: String,
    back: String,
    upload_error: Option<String>,
}

#[derive(Template)]
#[template(path = "me/check.html")]
struct CheckPage {
    page: Page,
    item_name: String,
    summary: String,
    declaration: String,
    base: String,
    id: i64,
    materials: Vec<MaterialView>,
    missing: Vec<String>,
}

/// The draft's posted values, as stored.
pub(crate) fn stored_pairs(app: &Application) -> Vec<(String, String)> {
    app.answers
        .get("pairs")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

/// A draft with what its implementation asks for: the form and the materials.
pub(crate) struct Loaded {
    app: Application,
    /// The draft's current files, read with it.
    uploads: Vec<yiwang_store::Upload>,
    /// The applicant's phone for the case's SMS, read with it.
    recipient: yiwang_store::applications::SmsRecipient,
    def: FormDefinition,
    item_name: String,
    region: RegionCode,
    required: Vec<yiwang_domain::catalog::MaterialRequirement>,
}

impl Loaded {
    /// The case this draft became, once submitted.
    pub(crate) fn case_number(&self) -> Option<&str> {
        self.app.case_number.as_deref()
    }
    /// This draft as a bundle's "submit all" takes it, with its final answers document.
    pub(crate) fn ready_part<'a>(
        &'a self,
        answers: &'a serde_json::Value,
    ) -> yiwang_store::bundles::ReadyPart<'a> {
        yiwang_store::bundles::ReadyPart {
            application: &self.app,
            answers,
            recipient: &self.recipient,
        }
    }
}

/// Whether a draft may be submitted: its final answers document, or what is still missing.
pub(crate) enum Readiness {
    /// The document stored with the submission: the posted values and the typed answers.
    Ready(serde_json::Value),
    /// The answers do not pass the submission rules (`form`, the problems per field) and/or
    /// mandatory materials have no file yet (`materials`, their names).
    Missing {
        form: Vec<FieldError>,
        materials: Vec<String>,
    },
}

/// The one check before a draft becomes a case, for the check page's submit and a bundle's
/// "submit all" alike: every mandatory material uploaded and the answers complete by the
/// submission rules. Reads nothing: the draft's files came with it.
pub(crate) fn readiness(l: &Loaded) -> Readiness {
    let views = crate::materials::views_with(&l.required, &l.uploads);
    let materials = crate::materials::missing(&views);
    let raw = RawAnswers::from_pairs(&l.def, stored_pairs(&l.app)).unwrap_or_default();
    match validate(&l.def, &raw, Mode::Submit) {
        Ok(answers) if materials.is_empty() => Readiness::Ready(serde_json::json!({
            "pairs": raw.to_pairs(),
            "answers": serde_json::from_str::<serde_json::Value>(&answers.to_json()).unwrap_or_default(),
        })),
        Ok(_) => Readiness::Missing {
            form: Vec::new(),
            materials,
        },
        Err(form) => Readiness::Missing { form, materials },
    }
}

async fn load(
    state: &AppState,
    locale: Locale,
    who: Filer<'_>,
    id: i64,
) -> Result<Loaded, ConsoleError> {
    load_of(state, who, id)
        .await
        .map_err(|e| store_fail(e, locale))
}

/// A draft of `who` with its form and materials (others' drafts, and drafts of an
/// implementation no longer published: not found).
pub(crate) async fn load_of(
    state: &AppState,
    who: Filer<'_>,
    id: i64,
) -> Result<Loaded, StoreError> {
    let (app, uploads, recipient) = state
        .store
        .application_with_uploads(id, who.owner())
        .await?;
    let published = state
        .store
        .published_implementation(&app.impl_code)
        .await?
        .ok_or(StoreError::Domain(ErrorCode::NotFound))?;
    let form = state
        .store
        .form_definition_for(&app.impl_code, &published.implementation.basic_code)
        .await?;
    Ok(Loaded {
        app,
        uploads,
        recipient,
        def: form.definition,
        item_name: published.standard.name.clone(),
        region: published.implementation.region.clone(),
        required: published.implementation.materials.clone(),
    })
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    state: &AppState,
    locale: Locale,
    who: Filer<'_>,
    l: &Loaded,
    raw: &RawAnswers,
    errors: &[FieldError],
    saved: bool,
    status: StatusCode,
) -> ConsoleResult {
    form_page_with(state, locale, who, l, raw, errors, saved, None, status).await
}

#[allow(clippy::too_many_arguments)]
async fn form_page_with(
    state: &AppState,
    locale: Locale,
    who: Filer<'_>,
    l: &Loaded,
    raw: &RawAnswers,
    errors: &[FieldError],
    saved: bool,
    upload_error: Option<String>,
    status: StatusCode,
) -> ConsoleResult {
    let regions = crate::console::forms::region_choices(state, &l.def, &l.region)
        .await
        .map_err(|e| store_fail(e, locale))?;
    let view = FormView {
        def: &l.def,
        raw,
        errors,
        lang: locale.lang,
        regions: &regions,
        default_action: "continue",
    };
    let path = format!("{}/{}", who.base(), l.app.id);
    let save = yiwang_i18n::t(locale.lang, "me.apply.save").to_string();
    let cont = yiwang_i18n::t(locale.lang, "me.apply.continue").to_string();
    let form = forms_html::form_html(
        &view,
        &crate::console::href(locale, &path),
        &[("continue", cont.as_str()), ("save", save.as_str())],
    );
    let tpl = FormPage {
        page: who.page(locale, "me.apply.title", &path),
        item_name: l.item_name.clone(),
        form,
        saved,
        materials: crate::materials::views(state, locale, &l.required, &l.app).await?,
        upload_href: crate::console::href(locale, &format!("{path}/materials")),
        remove_href: crate::console::href(locale, &format!("{path}/materials/remove")),
        back: path.clone(),
        upload_error,
    };
    Ok(render(status, &tpl, locale.lang))
}

/// The form page of a draft (a submitted one goes to its case).
pub(crate) async fn show_form(
    state: &AppState,
    locale: Locale,
    who: Filer<'_>,
    id: i64,
) -> ConsoleResult {
    let l = load(state, locale, who, id).await?;
    if l.app.status == ApplicationStatus::Submitted {
        return match &l.app.case_number {
            Some(n) => Ok(see_other(locale, &who.case_href(n))),
            None => Err(not_found(locale)),
        };
    }
    let raw = RawAnswers::from_pairs(&l.def, stored_pairs(&l.app)).unwrap_or_default();
    form_page(state, locale, who, &l, &raw, &[], false, StatusCode::OK).await
}

/// Save (draft rules: what is filled must be well-formed) or continue (all rules) — or add /
/// remove a group row and show the form again.
pub(crate) async fn save_form(
    state: &AppState,
    locale: Locale,
    who: Filer<'_>,
    id: i64,
    body: &[u8],
) -> ConsoleResult {
    let l = load(state, locale, who, id).await?;
    if l.app.status == ApplicationStatus::Submitted {
        return Err(fail(ErrorCode::NotEditable, locale));
    }
    let pairs = forms_html::parse_pairs(body).map_err(|_| fail(ErrorCode::InvalidInput, locale))?;
    let action = pairs
        .iter()
        .find(|(k, _)| k == ACTION_CONTROL)
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let mut raw =
        RawAnswers::from_pairs(&l.def, pairs).map_err(|_| fail(ErrorCode::InvalidInput, locale))?;
    if raw.apply_row_action(&l.def).is_some() {
        return form_page(state, locale, who, &l, &raw, &[], false, StatusCode::OK).await;
    }
    let mode = if action == "continue" {
        Mode::Submit
    } else {
        Mode::Draft
    };
    let checked = validate(&l.def, &raw, mode);
    // A draft keeps what was typed even when some of it is not valid yet; only the page says so.
    let doc = serde_json::json!({ "pairs": raw.to_pairs() });
    state
        .store
        .save_answers(id, who.owner(), &doc, state.now_ms())
        .await
        .map_err(|e| store_fail(e, locale))?;
    match checked {
        Ok(_) if mode == Mode::Submit => {
            Ok(see_other(locale, &format!("{}/{id}/check", who.base())))
        }
        Ok(_) => form_page(state, locale, who, &l, &raw, &[], true, StatusCode::OK).await,
        Err(errors) => {
            form_page(
                state,
                locale,
                who,
                &l,
                &raw,
                &errors,
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// The answers of `app` listed as the check page shows them (field labels, option names,
/// region names), with "change" links to `change_href` and identity numbers in full when
/// `reveal`; `None` when they no longer pass the form `def`.
pub(crate) async fn answers_summary(
    state: &AppState,
    locale: Locale,
    def: &FormDefinition,
    app: &Application,
    change_href: Option<&str>,
    reveal: bool,
) -> Result<Option<String>, ConsoleError> {
    let raw = RawAnswers::from_pairs(def, stored_pairs(app)).unwrap_or_default();
    let Ok(answers) = validate(def, &raw, Mode::Submit) else {
        return Ok(None);
    };
    let mut region_names = HashMap::new();
    for r in answers.regions() {
        if let Some(reg) = state
            .store
            .region(r)
            .await
            .map_err(|e| store_fail(e, locale))?
        {
            region_names.insert(r.as_str().to_string(), reg.name);
        }
    }
    Ok(Some(forms_html::summary_html(
        &SummaryView {
            lang: locale.lang,
            region_names: &region_names,
            change_href,
            reveal,
        },
        &yiwang_domain::forms::summary(def, &answers),
    )))
}

async fn check_page(
    state: &AppState,
    locale: Locale,
    who: Filer<'_>,
    l: &Loaded,
    declaration_error: Option<&str>,
    status: StatusCode,
) -> ConsoleResult {
    let change = crate::console::href(locale, &format!("{}/{}", who.base(), l.app.id));
    let Some(summary) = answers_summary(state, locale, &l.def, &l.app, Some(&change), true).await?
    else {
        return Ok(see_other(locale, &format!("{}/{}", who.base(), l.app.id)));
    };
    let materials = crate::materials::views_with(&l.required, &l.uploads);
    let tpl = CheckPage {
        page: who.page(
            locale,
            "me.check.title",
            &format!("{}/{}/check", who.base(), l.app.id),
        ),
        item_name: l.item_name.clone(),
        summary,
        declaration: forms_html::declaration_html(locale.lang, false, declaration_error),
        base: who.base().to_string(),
        id: l.app.id,
        missing: crate::materials::missing(&materials),
        materials,
    };
    Ok(render(status, &tpl, locale.lang))
}

pub(crate) async fn show_check(
    state: &AppState,
    locale: Locale,
    who: Filer<'_>,
    id: i64,
) -> ConsoleResult {
    let l = load(state, locale, who, id).await?;
    if let Some(n) = &l.app.case_number {
        return Ok(see_other(locale, &who.case_href(n)));
    }
    check_page(state, locale, who, &l, None, StatusCode::OK).await
}

/// Submits: the declaration must be ticked and the answers complete; a repeated submit (double
/// click, retried request) lands on the same case.
pub(crate) async fn submit(
    state: &AppState,
    locale: Locale,
    who: Filer<'_>,
    client: &str,
    id: i64,
    body: &[u8],
) -> ConsoleResult {
    let l = load(state, locale, who, id).await?;
    if let Some(n) = &l.app.case_number {
        return Ok(see_other(locale, &who.case_href(n)));
    }
    let pairs = forms_html::parse_pairs(body).map_err(|_| fail(ErrorCode::InvalidInput, locale))?;
    if !pairs.iter().any(|(k, _)| k == DECLARATION_CONTROL) {
        let msg = yiwang_i18n::t(locale.lang, "me.check.declaration_required").to_string();
        return check_page(
            state,
            locale,
            who,
            &l,
            Some(&msg),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let doc = match readiness(&l) {
        Readiness::Ready(doc) => doc,
        Readiness::Missing { materials, .. } if !materials.is_empty() => {
            return check_page(
                state,
                locale,
                who,
                &l,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Readiness::Missing { .. } => return Ok(see_other(locale, &format!("{}/{id}", who.base()))),
    };
    let done = submit_ready(state, who, client, &l, &doc)
        .await
        .map_err(|e| store_fail(e, locale))?;
    Ok(see_other(locale, &who.case_href(done.number.as_str())))
}

/// Submits a draft found [`Readiness::Ready`] with its final answers document; a submitted
/// draft returns its case (nothing is created twice). `l` is the draft as [`load_of`] read
/// it for `who`, so the submission does not read it again.
pub(crate) async fn submit_ready(
    state: &AppState,
    who: Filer<'_>,
    client: &str,
    l: &Loaded,
    doc: &serde_json::Value,
) -> Result<Submitted, StoreError> {
    let calendar = state.calendar().await?;
    state
        .store
        .submit_loaded(
            &l.app,
            Some(doc),
            Some(&l.recipient),
            who.actor(),
            client,
            state.case_clock(&calendar),
        )
        .await
}

/// Uploads one file for a material (a draft, or a material a correction notice reopened),
/// then back to the page it came from.
pub(crate) async fn upload_material(
    state: &AppState,
    locale: Locale,
    who: Filer<'_>,
    id: i64,
    mp: axum::extract::Multipart,
) -> ConsoleResult {
    let l = load(state, locale, who, id).await?;
    match crate::materials::upload(state, &l.required, &l.app, mp).await {
        Ok((_, back)) => {
            let fallback = format!("{}/{id}", who.base());
            Ok(see_other(locale, &back.unwrap_or(fallback)))
        }
        Err(code) if l.app.status == ApplicationStatus::Draft => {
            let raw = RawAnswers::from_pairs(&l.def, stored_pairs(&l.app)).unwrap_or_default();
            let msg = yiwang_i18n::error_message(locale.lang, code);
            let status = crate::error::status_for(code);
            form_page_with(state, locale, who, &l, &raw, &[], false, Some(msg), status).await
        }
        Err(code) => Err(fail(code, locale)),
    }
}

/// Removes one file of a material.
pub(crate) async fn remove_material(
    state: &AppState,
    locale: Locale,
    who: Filer<'_>,
    id: i64,
    body: &[u8],
) -> ConsoleResult {
    let l = load(state, locale, who, id).await?;
    let pairs = forms_html::parse_pairs(body).map_err(|_| fail(ErrorCode::InvalidInput, locale))?;
    let upload_id: i64 = pairs
        .iter()
        .find(|(k, _)| k == "upload")
        .and_then(|(_, v)| v.parse().ok())
        .ok_or_else(|| fail(ErrorCode::InvalidInput, locale))?;
    crate::materials::remove(state, &l.app, upload_id)
        .await
        .map_err(|c| fail(c, locale))?;
    Ok(see_other(locale, &format!("{}/{id}", who.base())))
}

/// A file of this filer's application, as an attachment.
pub(crate) async fn material_file(
    state: &AppState,
    locale: Locale,
    who: Filer<'_>,
    id: i64,
    upload_id: i64,
) -> ConsoleResult {
    let l = load(state, locale, who, id).await?;
    crate::materials::download(
        state,
        locale,
        l.app.id,
        upload_id,
        crate::upload::Disposition::Attachment,
    )
    .await
}
