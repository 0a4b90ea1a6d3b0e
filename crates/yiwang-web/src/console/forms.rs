//! Editing an implementation's application form (申请表定义): the definition as JSON, checked in
//! full before anything is saved, with a live preview of the form applicants will see and the
//! list of saved versions. Same policy as editing the implementation itself
//! (`EditImplementation` on that implementation's department and region).

use super::{
    ConsoleError, ConsoleResult, allow, fail, page, read_form, render, same_origin, see_other,
    store_fail,
};
use crate::AppState;
use crate::auth::{ClientAddr, CurrentUser};
use crate::forms_html::{
    FormView, Fragment, RegionOption, fields_html, picker_level, region_depth,
};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use std::collections::BTreeMap;
use yiwang_domain::forms::{self, FieldKind, FormDefError, FormDefinition, RawAnswers};
use yiwang_domain::policy::{Action, Principal, Target};
use yiwang_domain::{ErrorCode, ImplCode, RegionCode};
use yiwang_i18n::{Lang, t, tf};
use yiwang_store::{FormSaved, FormScope, PublishedImplementation};

/// Most regions one preview picker lists (keeps the page small).
const MAX_PICKER_REGIONS: usize = 400;

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
) -> Result<(&'a Principal, PublishedImplementation), ConsoleError> {
    let code = ImplCode::parse(code).map_err(|_| fail(ErrorCode::NotFound, locale))?;
    let path = forms_path(&code);
    allow(user, Action::UseConsole, &Target::Anything, locale, &path)?;
    let working = state
        .store
        .working_implementation(&code)
        .await
        .map_err(|e| store_fail(e, locale))?
        .ok_or_else(|| fail(ErrorCode::NotFound, locale))?;
    let target = Target::Implementation {
        department: working.implementation.department_code.clone(),
        region: working.implementation.region.clone(),
    };
    let p = allow(user, Action::EditImplementation, &target, locale, &path)?;
    Ok((p, working))
}

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
) -> Result<FormsPage, ConsoleError> {
    let lang = locale.lang;
    let imp = &w.implementation;
    let resolved = state
        .store
        .form_definition_for(&imp.code, &w.standard.basic_code)
        .await
        .map_err(|e| store_fail(e, locale))?;
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
        .await
        .map_err(|e| store_fail(e, locale))?;
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
            let regions = region_choices(state, def, &imp.region)
                .await
                .map_err(|e| store_fail(e, locale))?;
            let raw = RawAnswers::new();
            let view = FormView {
                def,
                raw: &raw,
                errors: &[],
                lang,
                regions: &regions,
                default_action: "continue",
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
        action: super::href(locale, &forms_path(&imp.code)),
        edit_href: super::href(
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
) -> ConsoleResult {
    let (p, w) = load(&state, locale, &user, &code).await?;
    let lang = locale.lang;
    // The implementation's own form, or what it uses now as the starting point.
    let def = state
        .store
        .form_definition_for(&w.implementation.code, &w.standard.basic_code)
        .await
        .map_err(|e| store_fail(e, locale))?
        .definition;
    let json = serde_json::to_string_pretty(&def).map_err(|_| fail(ErrorCode::Internal, locale))?;
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
) -> ConsoleResult {
    same_origin(req.headers(), locale)?;
    let (p, w) = load(&state, locale, &user, &code).await?;
    let data = read_form(req, &state, locale).await?;
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
        .await
        .map_err(|e| store_fail(e, locale))?
        .map_err(|_| fail(ErrorCode::InvalidFormDefinition, locale))?;
    let path = forms_path(&w.implementation.code);
    Ok(match saved {
        FormSaved::New(d) => see_other(locale, &format!("{path}?saved={}", d.version)),
        FormSaved::Unchanged(d) => see_other(locale, &format!("{path}?unchanged={}", d.version)),
    })
}
