//! One of the applicant's cases: status, the date that matters now (the acceptance deadline
//! before acceptance, the promised date after), the open correction notice (一次性告知) with a
//! slot per line — a file for a material or a new document, an input for a form field — in one
//! form that saves everything posted together, and the timeline; resubmission once every line
//! is answered.

use super::{CurrentApplicant, not_found, page};
use crate::AppState;
use crate::correction_view::{self, FixPost, LineView};
use crate::html::PageError;
use crate::html::{PageResult, href, read_form, render, see_other};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use yiwang_app::corrections::{Answers, LineError};
use yiwang_domain::ErrorCode;
use yiwang_domain::calendar::CivilDate;
use yiwang_domain::case::{CaseNumber, CorrectionTarget};
use yiwang_store::applicants::Applicant;
use yiwang_store::case_read::{CaseEventRow, CaseFile, CaseTaskRow};
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
    /// The message key labelling `due_day` (受理期限 before acceptance, 承诺办结日期 after).
    due_label: &'static str,
    paused: bool,
    /// The open notice's lines, with their slots.
    lines: Vec<LineView>,
    can_resubmit: bool,
    version: i64,
    events: Vec<CaseEventRow>,
    tasks: Vec<CaseTaskRow>,
    documents: Vec<crate::case_documents::DocumentLink>,
    /// A problem with the whole post, shown above the lines.
    summary_error: Option<String>,
    /// The answers were saved (after a redirect).
    saved: bool,
    accept: String,
    size_hint: String,
    /// 查询码: with the case number, a progress lookup without signing in.
    query_code: String,
    /// Not accepted yet: the applicant may withdraw (撤回).
    can_withdraw: bool,
}

impl CasePage {
    fn line_errors(&self) -> Vec<&LineView> {
        self.lines.iter().filter(|l| l.error.is_some()).collect()
    }
}

#[derive(serde::Deserialize, Default)]
pub struct ShowQuery {
    #[serde(default)]
    saved: Option<String>,
}

fn parse(n: &str) -> Result<CaseNumber, PageError> {
    CaseNumber::parse(n).map_err(|_| not_found())
}

/// The label of a case's due date: what the date is for at this point of the case.
pub(crate) fn due_label(accepted: bool) -> &'static str {
    if accepted {
        "corrections.due.promised"
    } else {
        "corrections.due.accept_by"
    }
}

/// The lines of the open notice of `file`, with what the applicant has answered and given.
async fn open_lines(state: &AppState, file: &CaseFile) -> Result<Vec<LineView>, PageError> {
    let Some(open) = state.store.open_correction(file.case.id).await? else {
        return Ok(Vec::new());
    };
    let form = yiwang_app::corrections::case_form(&state.store, &file.case).await?;
    let required = crate::materials::required_for(state, &form.app).await?;
    let uploads = state
        .store
        .uploads_for_application(file.case.application_id, true)
        .await?;
    let histories = correction_view::histories(&required, &file.corrections, &uploads);
    Ok(correction_view::lines(
        &open.items,
        &open.answered,
        &histories,
        &form.def,
        |k| yiwang_app::corrections::field_value(&form, k),
    ))
}

async fn case_page(
    state: &AppState,
    locale: Locale,
    a: &Applicant,
    number: &CaseNumber,
    edit: impl FnOnce(&mut CasePage),
) -> Result<CasePage, PageError> {
    let path = format!("/me/cases/{}", crate::link::encode_query(number.as_str()));
    let file = state.store.case_for_applicant(number, a.id).await?;
    let actions = yiwang_store::Store::actions_for_applicant(&file.case);
    let documents = crate::case_documents::links(state, locale, number, &path).await?;
    let lines = open_lines(state, &file).await?;
    let policy = yiwang_domain::upload::UploadPolicy::default();
    let mb = (policy.max_bytes / (1024 * 1024)).to_string();
    let mut tpl = CasePage {
        documents,
        page: page(locale, Some(a), "me.case.title", &path),
        number: number.to_string(),
        item_name: file.case.item_name.clone(),
        status: file.case.applicant_status(),
        terminal: file.case.terminal,
        due_day: file.case.due_day,
        due_label: due_label(file.case.progress.accepted),
        paused: file.case.paused_since.is_some(),
        can_resubmit: actions.iter().any(|x| x == "resubmit") && !lines.is_empty(),
        lines,
        can_withdraw: actions.iter().any(|x| x == yiwang_domain::mine::WITHDRAW),
        query_code: state.store.case_query_code(number)?,
        version: file.case.version,
        events: file.events.clone(),
        tasks: file.tasks.clone(),
        summary_error: None,
        saved: false,
        accept: ".pdf,.jpg,.jpeg,.png,.ofd".into(),
        size_hint: yiwang_i18n::tf(locale.lang, "corrections.fix.types", &[("mb", &mb)]),
    };
    edit(&mut tpl);
    Ok(tpl)
}

pub async fn show(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    Path(n): Path<String>,
    Query(q): Query<ShowQuery>,
) -> PageResult {
    let path = format!("/me/cases/{}", crate::link::encode_query(&n));
    let a = me.require(locale, &path)?;
    let number = parse(&n)?;
    let tpl = case_page(&state, locale, a, &number, |t| {
        t.saved = q.saved.is_some();
    })
    .await?;
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}

/// The message for a line's problem.
fn line_message(locale: Locale, e: &LineError) -> String {
    match e {
        LineError::Code(code) => yiwang_i18n::error_message(locale.lang, *code),
        LineError::Field(errs) => errs
            .iter()
            .map(|e| crate::forms_html::error_text(locale.lang, e))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// A 303 to the case page (optionally `?saved=1`) at `anchor`.
fn back_to(
    locale: Locale,
    number: &CaseNumber,
    query: &str,
    anchor: &str,
) -> axum::response::Response {
    let path = format!(
        "/me/cases/{}{query}",
        crate::link::encode_query(number.as_str())
    );
    let mut to = href(locale, &path);
    if !anchor.is_empty() {
        to = format!("{to}#{anchor}");
    }
    Redirect::to(&to).into_response()
}

/// The correction form: saves every file and field value posted (each line its own answer),
/// then, with `go=resubmit`, resubmits when every line is answered. Saved: 303 back to the
/// line last answered; a problem: the page again (422) with each failing line's own message,
/// the values typed kept, and a summary linking to them. A plain form post (no files) with
/// only the version resubmits, as before.
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
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let post = if multipart {
        let mut mp = Multipart::from_request(req, &state)
            .await
            .map_err(|r| crate::html::fail(crate::upload::rejection_code(&r)))?;
        correction_view::read_fix_form(&state, &mut mp)
            .await
            .map_err(crate::html::fail)?
    } else {
        let form = read_form(req, &state).await?;
        FixPost {
            version: form.get("version").parse().ok(),
            go: "resubmit".into(),
            ..Default::default()
        }
    };
    let file = state.store.case_for_applicant(&number, a.id).await?;
    let open = state.store.open_correction(file.case.id).await?;
    let Some(open) = open else {
        // Nothing open (resubmitted already, or never asked): the page says where it stands.
        return Ok(back_to(locale, &number, "", ""));
    };
    let target_of = |n: usize| open.items.get(n.wrapping_sub(1)).map(|i| i.target.clone());
    let mut errors: Vec<(CorrectionTarget, LineError)> = Vec::new();
    let mut answers = Answers::default();
    let mut last = String::new();
    for (n, f) in post.files {
        let t = target_of(n).ok_or_else(|| crate::html::fail(ErrorCode::InvalidInput))?;
        last = format!("fix-{n}");
        match f {
            Ok(up) => answers.files.push((t, up)),
            Err(code) => errors.push((t, LineError::Code(code))),
        }
    }
    let typed: Vec<(usize, String)> = post.fields.clone();
    for (n, v) in post.fields {
        let t = target_of(n).ok_or_else(|| crate::html::fail(ErrorCode::InvalidInput))?;
        // An empty field is no answer (nor is an unchanged one: see `corrections::answer`).
        if t.field().is_some() && !v.trim().is_empty() {
            last = format!("fix-{n}");
            answers.fields.push((t, v));
        }
    }
    let saved = !answers.files.is_empty() || !answers.fields.is_empty();
    errors.extend(
        yiwang_app::corrections::answer(
            &state.store,
            state.files.as_ref(),
            &file.case,
            &open,
            answers,
            state.now_ms(),
        )
        .await?,
    );
    let mut summary = None;
    if errors.is_empty() && post.go == "resubmit" {
        let calendar = state.calendar().await?;
        let request = ActionRequest {
            action: "resubmit".into(),
            expected_version: post.version,
            ..Default::default()
        };
        let done = state
            .store
            .act_on_case(
                &number,
                &request,
                CaseActor::Applicant(&a),
                &client,
                state.case_clock(&calendar),
                Some(state.docs.as_ref()),
            )
            .await;
        match done {
            Ok(_) => return Ok(back_to(locale, &number, "", "")),
            Err(e) if e.code() == ErrorCode::Required => {
                // Lines still unanswered: each says so below.
                let now = state.store.open_correction(file.case.id).await?;
                if let Some(now) = now {
                    for i in &now.items {
                        if !now.is_answered(&i.target) {
                            errors.push((i.target.clone(), LineError::Code(ErrorCode::Required)));
                        }
                    }
                }
                summary =
                    Some(yiwang_i18n::t(locale.lang, "corrections.fix.incomplete").to_string());
            }
            Err(e)
                if e.code() == ErrorCode::CaseChanged
                    || e.code() == ErrorCode::TransitionNotAllowed =>
            {
                summary = Some(yiwang_i18n::error_message(locale.lang, e.code()));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if errors.is_empty() && summary.is_none() {
        let q = if saved { "?saved=1" } else { "" };
        return Ok(back_to(locale, &number, q, &last));
    }
    let tpl = case_page(&state, locale, &a, &number, |t| {
        for l in &mut t.lines {
            if let Some((_, v)) = typed.iter().find(|(n, _)| *n == l.n)
                && l.is_field()
            {
                l.value.clone_from(v);
            }
            if let Some((_, e)) = errors.iter().find(|(tg, _)| *tg == l.item.target) {
                l.error = Some(match (e, l.is_field()) {
                    (LineError::Code(ErrorCode::Required), true) => {
                        yiwang_i18n::t(locale.lang, "corrections.fix.field_missing").to_string()
                    }
                    (LineError::Code(ErrorCode::Required), false) => {
                        yiwang_i18n::t(locale.lang, "corrections.fix.file_missing").to_string()
                    }
                    _ => line_message(locale, e),
                });
            }
        }
        t.summary_error = summary.clone().or_else(|| {
            Some(yiwang_i18n::t(locale.lang, "corrections.fix.some_failed").to_string())
        });
    })
    .await?;
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &tpl, locale.lang))
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
