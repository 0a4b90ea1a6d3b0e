//! One of the applicant's cases: status, due date, what to fix (一次性告知) and the timeline;
//! resubmission after a correction.

use super::{CurrentApplicant, not_found, page};
use crate::AppState;
use crate::html::PageError;
use crate::html::{PageResult, read_form, render, see_other};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use yiwang_domain::calendar::CivilDate;
use yiwang_domain::case::CaseNumber;
use yiwang_store::case_read::{CaseEventRow, CaseTaskRow, CorrectionRow};
use yiwang_store::cases::{ActionRequest, CaseActor};

#[derive(Template)]
#[template(path = "me/case.html")]
struct CasePage {
    page: Page,
    number: String,
    item_name: String,
    status: String,
    terminal: bool,
    due_day: Option<CivilDate>,
    paused: bool,
    correction: Option<CorrectionRow>,
    can_resubmit: bool,
    version: i64,
    events: Vec<CaseEventRow>,
    tasks: Vec<CaseTaskRow>,
    documents: Vec<crate::case_documents::DocumentLink>,
    /// The materials the open correction notice names, with their current files.
    fix_materials: Vec<crate::materials::MaterialView>,
    upload_href: String,
    remove_href: String,
    back: String,
    /// 查询码: with the case number, a progress lookup without signing in.
    query_code: String,
    /// Not accepted yet: the applicant may withdraw (撤回).
    can_withdraw: bool,
}

fn parse(n: &str) -> Result<CaseNumber, PageError> {
    CaseNumber::parse(n).map_err(|_| not_found())
}

pub async fn show(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    Path(n): Path<String>,
) -> PageResult {
    let path = format!("/me/cases/{}", crate::link::encode_query(&n));
    let a = me.require(locale, &path)?;
    let number = parse(&n)?;
    let file = state.store.case_for_applicant(&number, a.id).await?;
    let actions = yiwang_store::Store::actions_for_applicant(&file.case);
    let documents = crate::case_documents::links(&state, locale, &number, &path).await?;
    let fix_materials = match file.open_correction() {
        Some(c) => {
            let named: Vec<&str> = c.items.iter().filter_map(|i| i.target.material()).collect();
            let app = state
                .store
                .application(
                    file.case.application_id,
                    yiwang_store::applications::DraftOwner::Applicant(a.id),
                )
                .await?;
            let required = crate::materials::required_for(&state, &app).await?;
            crate::materials::views(&state, &required, &app)
                .await?
                .into_iter()
                .filter(|m| named.contains(&m.name.as_str()))
                .collect()
        }
        None => Vec::new(),
    };
    let app_path = format!("/me/applications/{}", file.case.application_id);
    let tpl = CasePage {
        fix_materials,
        upload_href: crate::link::href(locale, &format!("{app_path}/materials")),
        remove_href: crate::link::href(locale, &format!("{app_path}/materials/remove")),
        back: path.clone(),
        documents,
        page: page(locale, Some(a), "me.case.title", &path),
        number: number.to_string(),
        item_name: file.case.item_name.clone(),
        status: file.case.applicant_status(),
        terminal: file.case.terminal,
        due_day: file.case.due_day,
        paused: file.case.paused_since.is_some(),
        correction: file.open_correction().cloned(),
        can_resubmit: actions.iter().any(|x| x == "resubmit"),
        can_withdraw: actions.iter().any(|x| x == yiwang_domain::mine::WITHDRAW),
        query_code: state.store.case_query_code(&number)?,
        version: file.case.version,
        events: file.events.clone(),
        tasks: file.tasks.clone(),
    };
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}

/// The applicant has fixed what the notice listed: the case goes back to the clerk and the
/// clock runs again.
pub async fn resubmit(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    crate::auth::ClientAddr(client): crate::auth::ClientAddr,
    Path(n): Path<String>,
    req: Request,
) -> PageResult {
    let path = format!("/me/cases/{}", crate::link::encode_query(&n));
    let a = me.require(locale, &path)?.clone();
    let number = parse(&n)?;
    let form = read_form(req, &state).await?;
    let calendar = state.calendar().await?;
    let request = ActionRequest {
        action: "resubmit".into(),
        expected_version: form.get("version").parse().ok(),
        ..Default::default()
    };
    state
        .store
        .act_on_case(
            &number,
            &request,
            CaseActor::Applicant(&a),
            &client,
            state.case_clock(&calendar),
            Some(state.docs.as_ref()),
        )
        .await?;
    Ok(see_other(locale, &path))
}

/// A notice of the applicant's own case, as PDF.
pub async fn document(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    Path((n, code)): Path<(String, String)>,
) -> PageResult {
    let path = format!("/me/cases/{}", crate::link::encode_query(&n));
    let a = me.require(locale, &path)?;
    let number = parse(&n)?;
    // Only the applicant's own case (others: not found).
    state.store.case_for_applicant(&number, a.id).await?;
    crate::case_documents::download(&state, locale, &number, &code).await
}

/// 撤回: the applicant withdraws the case before acceptance; back to the case page.
pub async fn withdraw(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    crate::auth::ClientAddr(client): crate::auth::ClientAddr,
    Path(n): Path<String>,
    req: Request,
) -> PageResult {
    let path = format!("/me/cases/{}", crate::link::encode_query(&n));
    let a = me.require(locale, &path)?.clone();
    let number = parse(&n)?;
    let form = read_form(req, &state).await?;
    let calendar = state.calendar().await?;
    yiwang_app::mine::withdraw(
        &state.store,
        &a,
        &client,
        &number,
        form.get("version").parse().ok(),
        state.case_clock(&calendar),
        Some(state.docs.as_ref()),
    )
    .await?;
    Ok(see_other(locale, &path))
}
