//! Editing the working version of an implementation. The standard item's own fields are shown
//! read-only (四级四同: they belong to the standard item). A valid edit is saved as a draft.

use super::edit_form::{EditForm, FieldIssue, field_of};
use super::page;
use crate::AppState;
use crate::auth::{ClientAddr, CurrentUser};
use crate::html::{PageError, PageResult, allow, fail, read_form, render, see_other};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use std::collections::HashMap;
use yiwang_app::{ImportError, validate_catalog};
use yiwang_domain::catalog::{CatalogBatch, CatalogEntry, EntrySource};
use yiwang_domain::enums::{
    AnywhereScope, Audience, CaseType, Channel, CodeSet, OnlineDepth, TimeUnit,
};
use yiwang_domain::policy::{Action, CatalogScope, Principal, Target};
use yiwang_domain::{ErrorCode, ImplCode, Issue};
use yiwang_i18n::{Lang, error_message, issue_message, label, t};
use yiwang_interchange::ParsedFile;
use yiwang_store::PublishedImplementation;

/// One choice of a select or a checkbox group.
pub struct Opt {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

fn options<T: CodeSet>(lang: Lang, selected: &[String]) -> Vec<Opt> {
    T::ALL
        .iter()
        .map(|v| Opt {
            value: v.key(),
            label: label(lang, *v),
            selected: selected.iter().any(|s| s == v.key()),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "console/edit.html")]
struct EditPage {
    page: Page,
    action: String,
    history_href: String,
    forms_href: String,
    code: String,
    basic_code: String,
    name: String,
    item_type: &'static str,
    level: String,
    legal_basis: String,
    department: String,
    region: String,
    status: String,
    form: EditForm,
    statutory_units: Vec<Opt>,
    promised_units: Vec<Opt>,
    case_types: Vec<Opt>,
    depths: Vec<Opt>,
    anywhere: Vec<Opt>,
    channels: Vec<Opt>,
    audiences: Vec<Opt>,
    errors: HashMap<String, String>,
    general: Vec<String>,
}

impl EditPage {
    fn material_errors(&self) -> bool {
        self.form.materials.iter().any(|m| !m.errors.is_empty())
    }
}

fn edit_path(code: &ImplCode) -> String {
    format!("/console/implementations/{code}/edit")
}

/// The implementation to edit and the user, once the policy allows it.
async fn load<'a>(
    state: &AppState,
    locale: Locale,
    user: &'a CurrentUser,
    code: &str,
) -> Result<(&'a Principal, PublishedImplementation), PageError> {
    let code = ImplCode::parse(code).map_err(|_| fail(ErrorCode::NotFound))?;
    let path = edit_path(&code);
    // Anonymous visitors go to the sign-in page before anything about the code is revealed.
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

async fn edit_page(
    state: &AppState,
    locale: Locale,
    p: &Principal,
    w: &PublishedImplementation,
    mut form: EditForm,
    messages: Vec<(Option<String>, String)>,
) -> Result<EditPage, PageError> {
    let lang = locale.lang;
    let imp = &w.implementation;
    let region = match state.store.region(&imp.region).await? {
        Some(r) => format!("{} ({})", r.name, r.code),
        None => imp.region.to_string(),
    };
    let (by_field, general) = form.attach(messages);
    let errors = by_field
        .into_iter()
        .map(|(k, v)| (k, v.join(t(lang, "console.list_sep"))))
        .collect();
    let one = |s: &String| vec![s.clone()];
    Ok(EditPage {
        page: page(locale, p, "console.edit.title", &edit_path(&imp.code)),
        action: crate::link::href(locale, &edit_path(&imp.code)),
        history_href: crate::link::href(
            locale,
            &format!("/console/implementations/{}/history", imp.code),
        ),
        forms_href: crate::link::href(locale, &format!("/console/forms/{}", imp.code)),
        code: imp.code.to_string(),
        basic_code: w.standard.basic_code.to_string(),
        name: w.standard.name.clone(),
        item_type: label(lang, w.standard.item_type),
        level: format!(
            "{} ({})",
            label(lang, imp.level),
            w.standard
                .levels
                .iter()
                .map(|l| label(lang, l))
                .collect::<Vec<_>>()
                .join("、")
        ),
        legal_basis: w.standard.legal_basis.clone(),
        department: format!("{} ({})", imp.department_name, imp.department_code),
        region,
        status: format!(
            "v{} {}",
            w.version,
            t(lang, &format!("console.status.{}", w.status.key()))
        ),
        statutory_units: options::<TimeUnit>(lang, &one(&form.statutory_unit)),
        promised_units: options::<TimeUnit>(lang, &one(&form.promised_unit)),
        case_types: options::<CaseType>(lang, &one(&form.case_type)),
        depths: options::<OnlineDepth>(lang, &one(&form.online_depth)),
        anywhere: options::<AnywhereScope>(lang, &one(&form.anywhere)),
        channels: options::<Channel>(lang, &form.channels),
        audiences: options::<Audience>(lang, &form.audiences),
        form,
        errors,
        general,
    })
}

pub async fn form(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    Path(code): Path<String>,
) -> PageResult {
    let (p, w) = load(&state, locale, &user, &code).await?;
    let form = EditForm::from_implementation(&w.implementation, w.version);
    let tpl = edit_page(&state, locale, p, &w, form, Vec::new()).await?;
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}

fn field_messages(lang: Lang, issues: Vec<FieldIssue>) -> Vec<(Option<String>, String)> {
    issues
        .into_iter()
        .map(|i| {
            let mut msg = error_message(lang, i.code);
            if let Some(d) = i.detail {
                msg.push_str(&yiwang_i18n::tf(lang, "issue.detail", &[("detail", &d)]));
            }
            (Some(i.field), msg)
        })
        .collect()
}

/// Catalog-rule issues: each under its field when the form has one, the rest at the top.
fn rule_messages(lang: Lang, issues: &[Issue], rows: &[usize]) -> Vec<(Option<String>, String)> {
    issues
        .iter()
        .map(|i| {
            let field = field_of(i, rows);
            // Sheet and row mean nothing on this page; the column name is kept when unplaced.
            let shown = Issue {
                sheet: None,
                row: None,
                field: if field.is_some() {
                    None
                } else {
                    i.field.clone()
                },
                ..i.clone()
            };
            (field, issue_message(lang, &shown))
        })
        .collect()
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
    let form = EditForm::from_form(&data);
    if form.version != w.version.to_string() {
        return Err(fail(ErrorCode::Conflict));
    }
    let (imp, rows) = match form.parse(&w.implementation) {
        Ok(v) => v,
        Err(issues) => {
            let tpl = edit_page(&state, locale, p, &w, form, field_messages(lang, issues)).await?;
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &tpl, lang));
        }
    };
    let entry = CatalogEntry {
        standard: w.standard.clone(),
        implementation: imp,
    };
    let source = EntrySource {
        row: 1,
        material_rows: (1..).take(entry.implementation.materials.len()).collect(),
    };
    let parsed = ParsedFile {
        batch: CatalogBatch {
            entries: vec![(source, entry)],
        },
        issues: Vec::new(),
    };
    let scope = CatalogScope::of(p, Action::EditImplementation);
    let batch = match validate_catalog(&state.store, parsed, &scope).await {
        Ok(b) => b,
        Err(ImportError::Invalid(issues)) => {
            let tpl = edit_page(
                &state,
                locale,
                p,
                &w,
                form,
                rule_messages(lang, &issues, &rows),
            )
            .await?;
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &tpl, lang));
        }
        Err(ImportError::Store(e)) => return Err(PageError::from(e)),
    };
    let entries: Vec<CatalogEntry> = batch.entries.into_iter().map(|(_, e)| e).collect();
    state
        .store
        .save_drafts(
            &entries,
            &yiwang_store::Actor::principal(p, client.as_str()),
            state.now_ms(),
            &mut |_| {},
        )
        .await?;
    Ok(see_other(locale, "/console/drafts"))
}
