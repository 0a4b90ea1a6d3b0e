//! Case work in the console: the worklist (exactly the cases this person may act on, soonest
//! due first, with yellow and red warnings), a case's file (answers, tasks, corrections,
//! timeline) and its actions with written opinions. Opening a case file, or downloading one of
//! its notices or materials, is a staff read of personal data, so it is audited (and shown to
//! the applicant on "who used my data").

use super::page;
use crate::AppState;
use crate::auth::{ClientAddr, CurrentUser};
use crate::html::fail;
use crate::html::{PageResult, allow, here, read_form, render, see_other};
use crate::locale::Locale;
use crate::page::Page;
use crate::upload::Disposition;
use askama::Template;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, Uri};
use yiwang_domain::ErrorCode;
use yiwang_domain::calendar::CivilDate;
use yiwang_domain::case::{CaseNumber, CorrectionItem, CorrectionTarget};
use yiwang_domain::enums::CodeSet;
use yiwang_domain::policy::{Action, Target};
use yiwang_store::Actor;
use yiwang_store::case_read::{CaseEventRow, CaseTaskRow, CorrectionRow, WorkItem};
use yiwang_store::cases::{ActionRequest, CaseActor};

#[derive(Template)]
#[template(path = "console/worklist.html")]
struct WorklistPage {
    page: Page,
    items: Vec<WorkItem>,
}

fn today(state: &AppState) -> CivilDate {
    CivilDate::from_unix_ms(state.now_ms(), 8 * 3600)
}

pub async fn worklist(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    uri: Uri,
) -> PageResult {
    let p = allow(
        &user,
        Action::HandleCases,
        &Target::Anything,
        locale,
        &here(&uri),
    )?;
    let calendar = state.calendar().await?;
    let items = state.store.worklist(p, &calendar, today(&state)).await?;
    let tpl = WorklistPage {
        page: page(locale, p, "console.cases.title", "/console/cases"),
        items,
    };
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}

#[derive(Template)]
#[template(path = "console/case.html")]
struct CasePage {
    page: Page,
    number: String,
    item_name: String,
    status: String,
    source: String,
    due_day: Option<CivilDate>,
    version: i64,
    actions: Vec<String>,
    /// Whether an action enters the correction state (the form then asks for the list).
    correction_actions: Vec<String>,
    /// The answers as the applicant checked them (labels, option names; identity numbers
    /// masked), or `None` when they no longer fit the current form: then the raw `answers`.
    summary: Option<crate::forms_html::Fragment>,
    answers: Vec<(String, String)>,
    tasks: Vec<CaseTaskRow>,
    corrections: Vec<CorrectionRow>,
    events: Vec<CaseEventRow>,
    error: Option<String>,
    documents: Vec<crate::case_documents::DocumentLink>,
    materials: Vec<crate::materials::MaterialView>,
    /// Materials an earlier part of the applicant's 一件事 provides: `(material, part, item)`.
    provided: Vec<(String, u64, String)>,
}

fn parse_number(n: &str) -> Result<CaseNumber, crate::html::PageError> {
    CaseNumber::parse(n).map_err(|_| fail(ErrorCode::NotFound))
}

async fn case_page(
    state: &AppState,
    locale: Locale,
    p: &yiwang_domain::policy::Principal,
    number: &CaseNumber,
    client: &str,
    error: Option<String>,
    status: StatusCode,
) -> PageResult {
    let file = state.store.case_for_staff(number, p).await?;
    // A staff read of the applicant's personal data: who, whose, which case.
    let actor = Actor::principal(p, client);
    state
        .store
        .audit(
            state.now_ms(),
            &actor.event("case.view", format!("case:{number}"), "case file"),
        )
        .await?;
    let actions = yiwang_store::Store::actions_for_staff_in(p, &file);
    let wf = &file.case.workflow;
    let correction_actions = wf
        .actions_from(file.case.state())
        .filter(|a| {
            wf.state(&a.to_state)
                .is_some_and(|s| s.clock == yiwang_domain::workflow::ClockMode::Paused)
        })
        .map(|a| a.key.clone())
        .collect();
    let app = state
        .store
        .application(
            file.case.application_id,
            yiwang_store::applications::DraftOwner::Applicant(file.case.applicant_id),
        )
        .await?;
    let required = crate::materials::required_for(state, &app).await?;
    let materials = crate::materials::views(state, &required, &app).await?;
    let summary = match state.store.published_implementation(&app.impl_code).await? {
        Some(p) => {
            let form = state
                .store
                .form_definition_for(&app.impl_code, &p.implementation.basic_code)
                .await?;
            let def = yiwang_app::bundles::with_provided_fields(&form.definition, &app.answers);
            crate::apply_pages::answers_summary(state, locale, &def, &app, None, false).await?
        }
        None => None,
    };
    let answers = yiwang_app::apply::stored_pairs(&app)
        .into_iter()
        .filter(|(k, v)| !k.starts_with('_') && !v.is_empty())
        .collect();
    let documents =
        crate::case_documents::links(state, locale, number, &format!("/console/cases/{number}"))
            .await?;
    let tpl = CasePage {
        provided: yiwang_app::bundles::provided_materials(&app.answers),
        materials,
        documents,
        page: page(
            locale,
            p,
            "console.case.title",
            &format!("/console/cases/{number}"),
        ),
        number: number.to_string(),
        item_name: file.case.item_name.clone(),
        status: file.case.applicant_status(),
        source: file.case.source.key().to_string(),
        due_day: file.case.due_day,
        version: file.case.version,
        actions,
        correction_actions,
        summary,
        answers,
        tasks: file.tasks.clone(),
        corrections: file.corrections.clone(),
        events: file.events.clone(),
        error,
    };
    Ok(render(status, &tpl, locale.lang))
}

pub async fn show(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    uri: Uri,
    Path(n): Path<String>,
) -> PageResult {
    let p = allow(
        &user,
        Action::HandleCases,
        &Target::Anything,
        locale,
        &here(&uri),
    )?;
    let number = parse_number(&n)?;
    case_page(&state, locale, p, &number, &client, None, StatusCode::OK).await
}

/// Takes one action. The correction list comes as up to ten `item_label`/`item_problem` pairs.
pub async fn act(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    Path(n): Path<String>,
    req: Request,
) -> PageResult {
    let path = format!("/console/cases/{}", crate::link::encode_query(&n));
    let p = allow(&user, Action::HandleCases, &Target::Anything, locale, &path)?;
    let number = parse_number(&n)?;
    let form = read_form(req, &state).await?;
    let labels = form.all("item_label");
    let problems = form.all("item_problem");
    let correction: Vec<CorrectionItem> = labels
        .iter()
        .zip(problems.iter())
        .filter(|(l, pr)| !l.trim().is_empty() || !pr.trim().is_empty())
        .map(|(l, pr)| CorrectionItem {
            target: CorrectionTarget::Material(l.trim().to_string()),
            label: l.trim().to_string(),
            problem: pr.trim().to_string(),
        })
        .collect();
    let calendar = state.calendar().await?;
    let request = ActionRequest {
        action: form.get("action").to_string(),
        opinion: Some(form.get("opinion").to_string()),
        correction,
        expected_version: form.get("version").parse().ok(),
    };
    let result = state
        .store
        .act_on_case(
            &number,
            &request,
            CaseActor::Staff(p),
            &client,
            state.case_clock(&calendar),
            Some(state.docs.as_ref()),
        )
        .await;
    match result {
        Ok(_) => Ok(see_other(locale, &path)),
        Err(e) if e.code() != ErrorCode::Internal && e.code() != ErrorCode::NotFound => {
            let msg = yiwang_i18n::error_message(locale.lang, e.code());
            let status = crate::error::status_for(e.code());
            case_page(&state, locale, p, &number, &client, Some(msg), status).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The case `n` if this staff member may see it (others: not found).
async fn visible_case(
    state: &AppState,
    _locale: Locale,
    p: &yiwang_domain::policy::Principal,
    n: &str,
) -> Result<yiwang_store::cases::CaseRecord, crate::html::PageError> {
    let number = parse_number(n)?;
    let case = state.store.case_record(&number).await?;
    let sees = state.store.staff_sees_case(p, &case).await?;
    if sees {
        Ok(case)
    } else {
        Err(fail(ErrorCode::NotFound))
    }
}

/// Records a staff download of a case's personal data (after it was found and may be served).
async fn audit_download(
    state: &AppState,
    p: &yiwang_domain::policy::Principal,
    client: &str,
    number: &CaseNumber,
    action: &str,
    detail: String,
) -> Result<(), crate::html::PageError> {
    let actor = Actor::principal(p, client);
    state
        .store
        .audit(
            state.now_ms(),
            &actor.event(action, format!("case:{number}"), detail),
        )
        .await?;
    Ok(())
}

/// A notice of a case the staff member may see, as PDF.
pub async fn document(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    uri: Uri,
    Path((n, code)): Path<(String, String)>,
) -> PageResult {
    let p = allow(
        &user,
        Action::HandleCases,
        &Target::Anything,
        locale,
        &here(&uri),
    )?;
    let case = visible_case(&state, locale, p, &n).await?;
    let res = crate::case_documents::download(&state, locale, &case.number, &code).await?;
    audit_download(
        &state,
        p,
        &client,
        &case.number,
        "case.document",
        format!("document {code}"),
    )
    .await?;
    Ok(res)
}

/// An uploaded material of a case the staff member may see (attachment, `nosniff`).
pub async fn file(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    uri: Uri,
    Path((n, upload)): Path<(String, i64)>,
) -> PageResult {
    material(
        state,
        locale,
        user,
        &client,
        uri,
        (n, upload),
        Disposition::Attachment,
    )
    .await
}

/// The same file shown in the browser when it is an image (预览), in a sandbox with no script;
/// other kinds are downloaded as from [`file`].
pub async fn file_view(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    uri: Uri,
    Path((n, upload)): Path<(String, i64)>,
) -> PageResult {
    material(
        state,
        locale,
        user,
        &client,
        uri,
        (n, upload),
        Disposition::Inline,
    )
    .await
}

async fn material(
    state: AppState,
    locale: Locale,
    user: CurrentUser,
    client: &str,
    uri: Uri,
    (n, upload): (String, i64),
    disposition: Disposition,
) -> PageResult {
    let p = allow(
        &user,
        Action::HandleCases,
        &Target::Anything,
        locale,
        &here(&uri),
    )?;
    let case = visible_case(&state, locale, p, &n).await?;
    let res = crate::materials::download(&state, case.application_id, upload, disposition).await?;
    audit_download(
        &state,
        p,
        client,
        &case.number,
        "case.material",
        format!("upload {upload}"),
    )
    .await?;
    Ok(res)
}
