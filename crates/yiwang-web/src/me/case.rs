//! One of the applicant's cases: status, due date, what to fix (一次性告知) and the timeline;
//! resubmission after a correction.

use super::{CurrentApplicant, not_found, page};
use crate::AppState;
use crate::console::{ConsoleResult, read_form, render, same_origin, see_other, store_fail};
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
}

fn parse(locale: Locale, n: &str) -> Result<CaseNumber, crate::console::ConsoleError> {
    CaseNumber::parse(n).map_err(|_| not_found(locale))
}

pub async fn show(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    Path(n): Path<String>,
) -> ConsoleResult {
    let path = format!("/me/cases/{}", crate::console::encode(&n));
    let a = me.require(locale, &path)?;
    let number = parse(locale, &n)?;
    let file = state
        .store
        .case_for_applicant(&number, a.id)
        .await
        .map_err(|e| store_fail(e, locale))?;
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
                .await
                .map_err(|e| store_fail(e, locale))?;
            let required = crate::materials::required_for(&state, &app)
                .await
                .map_err(|e| store_fail(e, locale))?;
            crate::materials::views(&state, locale, &required, &app)
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
        upload_href: crate::console::href(locale, &format!("{app_path}/materials")),
        remove_href: crate::console::href(locale, &format!("{app_path}/materials/remove")),
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
) -> ConsoleResult {
    same_origin(req.headers(), locale)?;
    let path = format!("/me/cases/{}", crate::console::encode(&n));
    let a = me.require(locale, &path)?.clone();
    let number = parse(locale, &n)?;
    let form = read_form(req, &state, locale).await?;
    let calendar = state.calendar().await.map_err(|e| store_fail(e, locale))?;
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
        .await
        .map_err(|e| store_fail(e, locale))?;
    Ok(see_other(locale, &path))
}

/// A notice of the applicant's own case, as PDF.
pub async fn document(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    Path((n, code)): Path<(String, String)>,
) -> ConsoleResult {
    let path = format!("/me/cases/{}", crate::console::encode(&n));
    let a = me.require(locale, &path)?;
    let number = parse(locale, &n)?;
    // Only the applicant's own case (others: not found).
    state
        .store
        .case_for_applicant(&number, a.id)
        .await
        .map_err(|e| store_fail(e, locale))?;
    crate::case_documents::download(&state, locale, &number, &code).await
}
