//! Editing an implementation's application form (申请表定义): the definition as JSON, checked in
//! full before anything is saved, with a live preview of the form applicants will see and the
//! list of saved versions. Same policy as editing the implementation itself
//! (`EditImplementation` on that implementation's department and region).

use super::page;
use crate::AppState;
use crate::apply_pages::region_choices;
use crate::auth::{ClientAddr, CurrentUser};
use crate::forms_html::{FormView, Fragment, fields_html};
use crate::html::{PageError, PageResult, allow, fail, read_form, render, see_other};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use yiwang_domain::forms::{self, FormDefError, FormDefinition, RawAnswers};
use yiwang_domain::policy::{Action, Principal, Target};
use yiwang_domain::{ErrorCode, ImplCode};
use yiwang_i18n::{Lang, t, tf};
use yiwang_store::{FormSaved, FormScope, PublishedImplementation};

#[derive(Template)]
#[template(path = "console/forms.html")]
struct FormsPage {
    page: Page,
    heading: String,
    action: String,
    edit_href: String,
    code: String,
    basic_code: String,
    current: String,
    json: String,
    errors: Vec<String>,
    invalid_title: String,
    notice: Option<String>,
    preview: Fragment,
    preview_title: String,
    versions: Vec<(u32, String, String, String)>,
}

fn forms_path(code: &ImplCode) -> String {
    format!("/console/forms/{code}")
}

/// The implementation and the user, once the policy allows editing it.
async fn load<'a>(
    state: &AppState,
    locale: Locale,
    user: &'a CurrentUser,
    code: &str,
) -> Result<(&'a Principal, PublishedImplementation), PageError> {
    let code = ImplCode::parse(code).map_err(|_| fail(ErrorCode::NotFound))?;
    let path = forms_path(&code);
    allow(user, Action::UseConsole, &Target::Anything, locale, &path)?;
    let working = state
        .store
        .working_implementation(&code)
        .await?
        .ok_or_else(|| fail(ErrorCode::NotFound))?;
    let target = Target::Implementation {
        department: working.implementation.department_code.clone(),
        region: working.implementation.region.clone(),
    };
    let p = allow(user, Action::EditImplementation, &target, locale, &path)?;
    Ok((p, working))
}

/// One line per definition error: the message, and where.
fn messages(lang: Lang, errs: &[FormDefError]) -> Vec<String> {
    errs.iter()
        .map(|e| {
            let args = e.args();
            let args: Vec<(&str, &str)> =
                args.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            tf(lang, &e.message_key(), &args)
        })
        .collect()
}

struct Shown {
    json: String,
    errors: Vec<String>,
    notice: Option<String>,
    preview: Option<FormDefinition>,
}

async fn forms_page(
    state: &AppState,
    locale: Locale,
    p: &Principal,
    w: &PublishedImplementation,
    shown: Shown,
) -> Result<FormsPage, PageError> {
    let lang = locale.lang;
    let imp = &w.implementation;
    let resolved = state
        .store
        .form_definition_for(&imp.code, &w.standard.basic_code)
        .await?;
    let version = resolved.definition.version.to_string();
    let current = tf(
        lang,
        "forms.console.current",
        &[(
            "source",
            &tf(
                lang,
                &format!("forms.console.source.{}", resolved.source.key()),
                &[("version", &version)],
            ),
        )],
    );
    let versions = state
        .store
        .form_versions(&FormScope::Implementation(imp.code.clone()))
        .await?;
    let pg = page(locale, p, "forms.console.title", &forms_path(&imp.code));
    let versions = versions
        .into_iter()
        .map(|v| {
            (
                v.version,
                v.form_key,
                v.created_by,
                pg.datetime(&v.created_at),
            )
        })
        .collect();
    let (preview, preview_title) = match &shown.preview {
        Some(def) => {
            let regions = region_choices(state, def, &imp.region).await?;
            let raw = RawAnswers::new();
            let view = FormView {
                def,
                raw: &raw,
                errors: &[],
                lang,
                regions: &regions,
                default_action: "continue",
                from_account: &[],
            };
            (
                fields_html(&view),
                def.title.pick(lang == Lang::En).to_string(),
            )
        }
        None => (Fragment::default(), String::new()),
    };
    Ok(FormsPage {
        heading: tf(lang, "forms.console.heading", &[("name", &w.standard.name)]),
        action: crate::link::href(locale, &forms_path(&imp.code)),
        edit_href: crate::link::href(
            locale,
            &format!("/console/implementations/{}/edit", imp.code),
        ),
        code: imp.code.to_string(),
        basic_code: w.standard.basic_code.to_string(),
        current,
        invalid_title: tf(
            lang,
            "forms.console.invalid",
            &[("count", &shown.errors.len().to_string())],
        ),
        json: shown.json,
        errors: shown.errors,
        notice: shown.notice,
        preview,
        preview_title,
        versions,
        page: pg,
    })
}

#[derive(serde::Deserialize, Default)]
pub struct Notice {
    saved: Option<u32>,
    unchanged: Option<u32>,
}

pub async fn show(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<Notice>,
) -> PageResult {
    let (p, w) = load(&state, locale, &user, &code).await?;
    let lang = locale.lang;
    // The implementation's own form, or what it uses now as the starting point.
    let def = state
        .store
        .form_definition_for(&w.implementation.code, &w.standard.basic_code)
        .await?
        .definition;
    let json = serde_json::to_string_pretty(&def).map_err(|_| fail(ErrorCode::Internal))?;
    let notice = match (q.saved, q.unchanged) {
        (Some(v), _) => Some(tf(
            lang,
            "forms.console.saved",
            &[("version", &v.to_string())],
        )),
        (None, Some(_)) => Some(t(lang, "forms.console.unchanged").to_string()),
        _ => None,
    };
    let shown = Shown {
        json,
        errors: Vec::new(),
        notice,
        preview: Some(def),
    };
    let tpl = forms_page(&state, locale, p, &w, shown).await?;
    Ok(render(StatusCode::OK, &tpl, lang))
}

pub async fn save(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    Path(code): Path<String>,
    req: Request,
) -> PageResult {
    let (p, w) = load(&state, locale, &user, &code).await?;
    let data = read_form(req, &state).await?;
    let lang = locale.lang;
    let json = data.get("definition").to_string();
    let def = match forms::load(&json) {
        Ok(def) => def,
        Err(errs) => {
            // Nothing is saved; the administrator's text comes back with every problem.
            let shown = Shown {
                errors: messages(lang, &errs),
                json,
                notice: None,
                preview: None,
            };
            let tpl = forms_page(&state, locale, p, &w, shown).await?;
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &tpl, lang));
        }
    };
    if data.get("op") != "save" {
        let shown = Shown {
            json,
            errors: Vec::new(),
            notice: Some(t(lang, "forms.console.valid").to_string()),
            preview: Some(def),
        };
        let tpl = forms_page(&state, locale, p, &w, shown).await?;
        return Ok(render(StatusCode::OK, &tpl, lang));
    }
    let scope = FormScope::Implementation(w.implementation.code.clone());
    let actor = yiwang_store::Actor::principal(p, client.as_str());
    let saved = state
        .store
        .save_form_definition(&scope, &json, &actor, state.now_ms())
        .await?
        .map_err(|_| fail(ErrorCode::InvalidFormDefinition))?;
    let path = forms_path(&w.implementation.code);
    Ok(match saved {
        FormSaved::New(d) => see_other(locale, &format!("{path}?saved={}", d.version)),
        FormSaved::Unchanged(d) => see_other(locale, &format!("{path}?unchanged={}", d.version)),
    })
}
