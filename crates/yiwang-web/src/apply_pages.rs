//! The application pages of every filer: the applicant online (`/me/applications/…`) and staff
//! entering an application for a citizen at the counter or a service point
//! (`/console/intake/…`). Fill the form (saved as a draft and resumed later), check the
//! answers, agree to the declaration and submit; the case number comes back at once. Same
//! definitions, same rules, same case (the use case is `yiwang_app::apply`); only who files it
//! (recorded on the case) and where its pages live differ.

use crate::AppState;
use crate::forms_html::{self, ACTION_CONTROL, DECLARATION_CONTROL, FormView, SummaryView};
use crate::forms_html::{RegionOption, picker_level, region_depth};
use crate::html::{PageError, PageResult, fail, render, see_other};
use crate::locale::Locale;
use crate::materials::MaterialView;
use crate::page::Page;
use askama::Template;
use axum::http::StatusCode;
use std::collections::BTreeMap;
use std::collections::HashMap;
use yiwang_app::apply::{self, Draft};
use yiwang_domain::forms::FieldKind;
use yiwang_domain::forms::{FieldError, FormDefinition, Mode, RawAnswers, validate};
use yiwang_domain::{ErrorCode, RegionCode};
use yiwang_store::applications::{Application, ApplicationStatus};

pub(crate) use yiwang_app::apply::Filer;

/// Where a filer's pages live, and their frame.
trait FilerPages {
    fn base(&self) -> &'static str;
    fn case_href(&self, number: &str) -> String;
    fn page(&self, locale: Locale, title_key: &str, path: &str) -> Page;
}

impl FilerPages for Filer<'_> {
    /// Where this filer's application pages live.
    fn base(&self) -> &'static str {
        match self {
            Filer::Applicant(_) => "/me/applications",
            Filer::Staff(_) => "/console/intake",
        }
    }
    /// Where a submitted case is shown to this filer.
    fn case_href(&self, number: &str) -> String {
        match self {
            Filer::Applicant(_) => format!("/me/cases/{number}"),
            Filer::Staff(_) => format!("/console/intake/done/{number}"),
        }
    }
    fn page(&self, locale: Locale, title_key: &str, path: &str) -> Page {
        match self {
            Filer::Applicant(a) => crate::html::applicant_page(locale, Some(a), title_key, path),
            Filer::Staff(p) => crate::html::staff_page(locale, p, title_key, path),
        }
    }
}

#[derive(Template)]
#[template(path = "apply/form.html")]
struct FormPage {
    page: Page,
    item_name: String,
    /// The form, rendered by `forms_html` (all text escaped there).
    form: forms_html::Fragment,
    saved: bool,
    materials: Vec<MaterialView>,
    /// Where a material's file is posted, and where removals go.
    upload_href: String,
    remove_href: String,
    back: String,
    upload_error: Option<String>,
}

#[derive(Template)]
#[template(path = "apply/check.html")]
struct CheckPage {
    page: Page,
    item_name: String,
    summary: forms_html::Fragment,
    declaration: forms_html::Fragment,
    base: String,
    id: i64,
    materials: Vec<MaterialView>,
    missing: Vec<String>,
}

async fn load(state: &AppState, who: Filer<'_>, id: i64) -> Result<Draft, PageError> {
    Ok(apply::load(&state.store, who, id).await?)
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    state: &AppState,
    locale: Locale,
    who: Filer<'_>,
    l: &Draft,
    raw: &RawAnswers,
    errors: &[FieldError],
    saved: bool,
    status: StatusCode,
) -> PageResult {
    form_page_with(state, locale, who, l, raw, errors, saved, None, status).await
}

#[allow(clippy::too_many_arguments)]
async fn form_page_with(
    state: &AppState,
    locale: Locale,
    who: Filer<'_>,
    l: &Draft,
    raw: &RawAnswers,
    errors: &[FieldError],
    saved: bool,
    upload_error: Option<String>,
    status: StatusCode,
) -> PageResult {
    let regions = region_choices(state, &l.def, &l.region).await?;
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
        &crate::link::href(locale, &path),
        &[("continue", cont.as_str()), ("save", save.as_str())],
    );
    let tpl = FormPage {
        page: who.page(locale, "me.apply.title", &path),
        item_name: l.item_name.clone(),
        form,
        saved,
        materials: crate::materials::views(state, &l.required, &l.app).await?,
        upload_href: crate::link::href(locale, &format!("{path}/materials")),
        remove_href: crate::link::href(locale, &format!("{path}/materials/remove")),
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
) -> PageResult {
    let l = load(state, who, id).await?;
    if l.app.status == ApplicationStatus::Submitted {
        return match &l.app.case_number {
            Some(n) => Ok(see_other(locale, &who.case_href(n))),
            None => Err(fail(ErrorCode::NotFound)),
        };
    }
    let raw = l.raw_answers();
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
) -> PageResult {
    let l = load(state, who, id).await?;
    if l.app.status == ApplicationStatus::Submitted {
        return Err(fail(ErrorCode::NotEditable));
    }
    let pairs = crate::form_body::parse_pairs(body).map_err(|_| fail(ErrorCode::InvalidInput))?;
    let action = pairs
        .iter()
        .find(|(k, _)| k == ACTION_CONTROL)
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let mut raw =
        RawAnswers::from_pairs(&l.def, pairs).map_err(|_| fail(ErrorCode::InvalidInput))?;
    if raw.apply_row_action(&l.def).is_some() {
        return form_page(state, locale, who, &l, &raw, &[], false, StatusCode::OK).await;
    }
    let mode = if action == "continue" {
        Mode::Submit
    } else {
        Mode::Draft
    };
    // A draft keeps what was typed even when some of it is not valid yet; only the page says so.
    let errors = apply::save_answers(&state.store, who, &l, &raw, mode, state.now_ms()).await?;
    if !errors.is_empty() {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return form_page(state, locale, who, &l, &raw, &errors, false, status).await;
    }
    if mode == Mode::Submit {
        Ok(see_other(locale, &format!("{}/{id}/check", who.base())))
    } else {
        form_page(state, locale, who, &l, &raw, &[], true, StatusCode::OK).await
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
) -> Result<Option<forms_html::Fragment>, PageError> {
    let raw = RawAnswers::from_pairs(def, apply::stored_pairs(app)).unwrap_or_default();
    let Ok(answers) = validate(def, &raw, Mode::Submit) else {
        return Ok(None);
    };
    let mut region_names = HashMap::new();
    for r in answers.regions() {
        if let Some(reg) = state.store.region(r).await? {
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
    l: &Draft,
    declaration_error: Option<&str>,
    status: StatusCode,
) -> PageResult {
    let change = crate::link::href(locale, &format!("{}/{}", who.base(), l.app.id));
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
) -> PageResult {
    let l = load(state, who, id).await?;
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
) -> PageResult {
    let l = load(state, who, id).await?;
    if let Some(n) = &l.app.case_number {
        return Ok(see_other(locale, &who.case_href(n)));
    }
    let pairs = crate::form_body::parse_pairs(body).map_err(|_| fail(ErrorCode::InvalidInput))?;
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
    let doc = match apply::readiness(&l) {
        apply::Readiness::Ready(doc) => doc,
        apply::Readiness::Missing { materials, .. } if !materials.is_empty() => {
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
        apply::Readiness::Missing { .. } => {
            return Ok(see_other(locale, &format!("{}/{id}", who.base())));
        }
    };
    let calendar = state.calendar().await?;
    let done = apply::submit(
        &state.store,
        who,
        client,
        &l,
        &doc,
        state.case_clock(&calendar),
    )
    .await?;
    Ok(see_other(locale, &who.case_href(done.number.as_str())))
}

/// Uploads one file for a material (a draft, or a material a correction notice reopened),
/// then back to the page it came from.
pub(crate) async fn upload_material(
    state: &AppState,
    locale: Locale,
    who: Filer<'_>,
    id: i64,
    mp: axum::extract::Multipart,
) -> PageResult {
    let l = load(state, who, id).await?;
    match crate::materials::upload(state, &l.required, &l.app, mp).await {
        Ok((_, back)) => {
            let fallback = format!("{}/{id}", who.base());
            Ok(see_other(locale, &back.unwrap_or(fallback)))
        }
        Err(code) if l.app.status == ApplicationStatus::Draft => {
            let raw = l.raw_answers();
            let msg = yiwang_i18n::error_message(locale.lang, code);
            let status = crate::error::status_for(code);
            form_page_with(state, locale, who, &l, &raw, &[], false, Some(msg), status).await
        }
        Err(code) => Err(fail(code)),
    }
}

/// Removes one file of a material.
pub(crate) async fn remove_material(
    state: &AppState,
    locale: Locale,
    who: Filer<'_>,
    id: i64,
    body: &[u8],
) -> PageResult {
    let l = load(state, who, id).await?;
    let pairs = crate::form_body::parse_pairs(body).map_err(|_| fail(ErrorCode::InvalidInput))?;
    let upload_id: i64 = pairs
        .iter()
        .find(|(k, _)| k == "upload")
        .and_then(|(_, v)| v.parse().ok())
        .ok_or_else(|| fail(ErrorCode::InvalidInput))?;
    crate::materials::remove(state, &l.app, upload_id).await?;
    Ok(see_other(locale, &format!("{}/{id}", who.base())))
}

/// A file of this filer's application, as an attachment.
pub(crate) async fn material_file(
    state: &AppState,
    _locale: Locale,
    who: Filer<'_>,
    id: i64,
    upload_id: i64,
) -> PageResult {
    let l = load(state, who, id).await?;
    crate::materials::download(
        state,
        l.app.id,
        upload_id,
        crate::upload::Disposition::Attachment,
    )
    .await
}

/// Most regions one picker lists (keeps the page small).
const MAX_PICKER_REGIONS: usize = 400;

/// Region choices for every address field of `def`: under its `region_root`, or under the
/// implementation's region for fields without one.
pub(crate) async fn region_choices(
    state: &AppState,
    def: &FormDefinition,
    default_root: &RegionCode,
) -> Result<BTreeMap<String, Vec<RegionOption>>, yiwang_store::StoreError> {
    let mut out = BTreeMap::new();
    let mut roots: Vec<Option<String>> = Vec::new();
    for f in def.fields() {
        for f in std::iter::once(f).chain(f.fields.iter()) {
            if f.kind == FieldKind::Address && !roots.contains(&f.region_root) {
                roots.push(f.region_root.clone());
            }
        }
    }
    for r in roots {
        let key = r.clone().unwrap_or_default();
        let root = match r {
            Some(r) => RegionCode::parse(&r).unwrap_or_else(|_| default_root.clone()),
            None => default_root.clone(),
        };
        let list = state
            .store
            .region_subtree(&root, picker_level(&root))
            .await?
            .into_iter()
            .take(MAX_PICKER_REGIONS)
            .map(|r| RegionOption {
                depth: region_depth(&root, &r.code),
                code: r.code.to_string(),
                name: r.name,
            })
            .collect();
        out.insert(key, list);
    }
    Ok(out)
}
