//! The application pages of every filer: the applicant online (`/me/applications/…`) and staff
//! entering an application for a citizen at the counter or a service point
//! (`/console/intake/…`). Fill the form (saved as a draft and resumed later), check the
//! answers, agree to the declaration and submit; the case number comes back at once. Same
//! definitions, same rules, same case (the use case is `yiwang_app::apply`); only who files it
//! (recorded on the case) and where its pages live differ.

use crate::AppState;
use crate::forms_html::{self, ACTION_CONTROL, DECLARATION_CONTROL, FormView, SummaryView};
use crate::forms_html::{RegionOption, picker_level, region_depth};
use crate::html::{PageError, PageResult, fail, render, see_other, see_other_at};
use crate::locale::Locale;
use crate::materials::MaterialView;
use crate::page::Page;
use askama::Template;
use axum::http::StatusCode;
use std::collections::BTreeMap;
use std::collections::HashMap;
use yiwang_app::apply::{self, Draft};
use yiwang_domain::forms::FieldKind;
use yiwang_domain::forms::RowAction;
use yiwang_domain::forms::{FormDefinition, Mode, RawAnswers, validate};
use yiwang_domain::{ErrorCode, RegionCode};
use yiwang_store::applications::{Application, ApplicationStatus};

pub(crate) use yiwang_app::apply::Filer;

mod posted;
pub(crate) use posted::{
    DROP_FILE_CONTROL, Flash, Posted, human_size, read_posted, store_chosen, upload_rule,
};

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
    /// The error summary: `(anchor id, "label：message")` for each field and material.
    issues: Vec<(String, String)>,
    /// What the last post did (saved, files uploaded).
    notice: Option<String>,
    /// Where the one form posts (answers and files together).
    action: String,
    /// The form's fields, rendered by `forms_html` (all text escaped there).
    fields: forms_html::Fragment,
    slots: Vec<Slot>,
    /// Accepted types and size limit, shown at every slot.
    rule: String,
    accept: String,
}

/// One material's place in the form: its files, its file input and its own messages.
struct Slot {
    /// 1-based; the anchor is `m-<n>`, the file input `file-<n>`.
    n: usize,
    name: String,
    mandatory: bool,
    instructions: String,
    files: Vec<SlotFile>,
    error: Option<String>,
    /// Uploaded by the last post.
    done: bool,
}

struct SlotFile {
    id: i64,
    filename: String,
    size: String,
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

async fn form_page(
    state: &AppState,
    locale: Locale,
    who: Filer<'_>,
    l: &Draft,
    flash: &Flash,
) -> PageResult {
    let raw = l.raw_answers();
    let errors = if flash.check {
        validate(&l.def, &raw, Mode::Submit)
            .err()
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let regions = region_choices(state, &l.def, &l.region).await?;
    let from_account = match who {
        Filer::Applicant(_) => l.from_account(),
        Filer::Staff(_) => Vec::new(),
    };
    let view = FormView {
        def: &l.def,
        raw: &raw,
        errors: &errors,
        lang: locale.lang,
        regions: &regions,
        default_action: "continue",
        from_account: &from_account,
    };
    let lang = locale.lang;
    let colon = yiwang_i18n::t(lang, "issue.colon");
    let mut issues = forms_html::issue_items(&view);
    let mut slots = Vec::new();
    for (i, m) in l.required.iter().enumerate() {
        let n = i.saturating_add(1);
        let files: Vec<SlotFile> = l
            .uploads
            .iter()
            .filter(|u| u.material_key == m.name)
            .map(|u| SlotFile {
                id: u.id,
                filename: u.filename.clone(),
                size: human_size(u.size),
            })
            .collect();
        let error = flash
            .slot_errors
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, c)| yiwang_i18n::error_message(lang, *c))
            .or_else(|| {
                (flash.check && m.mandatory && files.is_empty())
                    .then(|| yiwang_i18n::t(lang, "apply.slot_missing").to_string())
            });
        if let Some(e) = &error {
            issues.push((format!("m-{n}"), format!("{}{colon}{e}", m.name)));
        }
        slots.push(Slot {
            n,
            name: m.name.clone(),
            mandatory: m.mandatory,
            instructions: m.instructions.clone(),
            files,
            error,
            done: flash.uploaded.contains(&n),
        });
    }
    if let Some(c) = flash.cut {
        let msg = yiwang_i18n::tf(
            lang,
            "apply.cut",
            &[("reason", &yiwang_i18n::error_message(lang, c))],
        );
        issues.push(("h-materials".to_string(), msg));
    }
    let notice = (flash.saved && !flash.has_problems()).then(|| {
        if flash.uploaded.is_empty() {
            yiwang_i18n::t(lang, "me.apply.saved").to_string()
        } else {
            yiwang_i18n::tf(
                lang,
                "apply.saved_files",
                &[("count", &flash.uploaded.len().to_string())],
            )
        }
    });
    let path = format!("{}/{}", who.base(), l.app.id);
    let (accept, rule) = upload_rule(locale);
    let tpl = FormPage {
        page: who.page(locale, "me.apply.title", &path),
        item_name: l.item_name.clone(),
        issues,
        notice,
        action: crate::link::href(locale, &path),
        fields: forms_html::fields_html(&view),
        slots,
        rule,
        accept,
    };
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}

/// The form page of a draft (a submitted one goes to its case), with what the last post did.
pub(crate) async fn show_form(
    state: &AppState,
    locale: Locale,
    who: Filer<'_>,
    id: i64,
    flash: &Flash,
) -> PageResult {
    let l = load(state, who, id).await?;
    if l.app.status == ApplicationStatus::Submitted {
        return match &l.app.case_number {
            Some(n) => Ok(see_other(locale, &who.case_href(n))),
            None => Err(fail(ErrorCode::NotFound)),
        };
    }
    form_page(state, locale, who, &l, flash).await
}

/// One post of the form does everything it holds, and loses nothing: the answers are saved
/// as a draft (whatever their state), every chosen file is stored in its material (a refused
/// file is an error of its slot only), a group row is added or removed, a file is removed.
/// Then a redirect: to the check page when "continue" passed, else back to the form at the
/// place that matters (the error summary, the group, the materials).
pub(crate) async fn save_form(
    state: &AppState,
    locale: Locale,
    who: Filer<'_>,
    id: i64,
    posted: Posted,
) -> PageResult {
    let l = load(state, who, id).await?;
    if l.app.status == ApplicationStatus::Submitted {
        return Err(fail(ErrorCode::NotEditable));
    }
    let Posted { pairs, files, cut } = posted;
    let control = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let action = control(ACTION_CONTROL).unwrap_or_default();
    let drop_file = control(DROP_FILE_CONTROL).and_then(|v| v.parse::<i64>().ok());
    let mut raw =
        RawAnswers::from_pairs(&l.def, pairs).map_err(|_| fail(ErrorCode::InvalidInput))?;
    let row = raw.apply_row_action(&l.def);
    let mode = if action == "continue" && row.is_none() && drop_file.is_none() && cut.is_none() {
        Mode::Submit
    } else {
        Mode::Draft
    };
    // A draft keeps what was typed even when some of it is not valid yet; only the page says so.
    let errors = apply::save_answers(&state.store, who, &l, &raw, mode, state.now_ms()).await?;
    let mut flash = Flash {
        saved: true,
        cut,
        check: mode == Mode::Submit && !errors.is_empty(),
        ..Flash::default()
    };
    store_chosen(state, files, &mut flash, |n| {
        let m = n.checked_sub(1).and_then(|i| l.required.get(i))?;
        Some((&l.app, m.name.as_str()))
    })
    .await;
    if let Some(upload) = drop_file {
        crate::materials::remove(state, &l.app, upload)
            .await
            .map_err(fail)?;
    }
    let path = format!("{}/{id}", who.base());
    if mode == Mode::Submit && !flash.has_problems() {
        return Ok(see_other(locale, &format!("{path}/check")));
    }
    let anchor = if flash.has_problems() {
        "#error-summary".to_string()
    } else if let Some(
        RowAction::Added { group }
        | RowAction::Removed { group, .. }
        | RowAction::Refused { group },
    ) = &row
    {
        format!("#fs-{}", forms_html::html_id(group))
    } else if let [n] = flash.uploaded.as_slice() {
        format!("#m-{n}")
    } else if !flash.uploaded.is_empty() || drop_file.is_some() {
        "#h-materials".to_string()
    } else {
        String::new()
    };
    Ok(see_other_at(
        locale,
        &format!("{path}{}", flash.to_query()),
        &anchor,
    ))
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

/// The check page; `q` carries what a refused submit said (`declare=1`: not declared).
pub(crate) async fn show_check(
    state: &AppState,
    locale: Locale,
    who: Filer<'_>,
    id: i64,
    q: &[(String, String)],
) -> PageResult {
    let l = load(state, who, id).await?;
    if let Some(n) = &l.app.case_number {
        return Ok(see_other(locale, &who.case_href(n)));
    }
    let msg = q
        .iter()
        .any(|(k, _)| k == "declare")
        .then(|| yiwang_i18n::t(locale.lang, "me.check.declaration_required").to_string());
    check_page(state, locale, who, &l, msg.as_deref(), StatusCode::OK).await
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
    // A refused submit goes back by redirect (a reload never posts again) to what to fix.
    if !pairs.iter().any(|(k, _)| k == DECLARATION_CONTROL) {
        let anchor = format!("#{}", forms_html::html_id(DECLARATION_CONTROL));
        return Ok(see_other_at(
            locale,
            &format!("{}/{id}/check?declare=1", who.base()),
            &anchor,
        ));
    }
    let doc = match apply::readiness(&l) {
        apply::Readiness::Ready(doc) => doc,
        apply::Readiness::Missing { .. } => {
            let flash = Flash {
                check: true,
                ..Flash::default()
            };
            return Ok(see_other_at(
                locale,
                &format!("{}/{id}{}", who.base(), flash.to_query()),
                "#error-summary",
            ));
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

/// Uploads one file for a material (a material a correction notice reopened, or a draft from
/// a page or client that posts files one by one), then back to the page it came from. The
/// application form itself posts its files with the answers ([`save_form`]).
pub(crate) async fn upload_material(
    state: &AppState,
    locale: Locale,
    who: Filer<'_>,
    id: i64,
    mp: axum::extract::Multipart,
) -> PageResult {
    let l = load(state, who, id).await?;
    let (_, back) = crate::materials::upload(state, &l.required, &l.app, mp)
        .await
        .map_err(fail)?;
    let fallback = format!("{}/{id}", who.base());
    Ok(see_other(locale, &back.unwrap_or(fallback)))
}

/// Removes one file of a material, then back to the materials.
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
    Ok(see_other_at(
        locale,
        &format!("{}/{id}", who.base()),
        "#h-materials",
    ))
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
