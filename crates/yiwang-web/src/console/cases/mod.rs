//! Case work in the console: the worklist (exactly the cases this person may act on, soonest
//! due first, with yellow and red warnings), a case's file (answers, tasks, corrections,
//! timeline) and its actions with written opinions. Opening a case file, or downloading one of
//! its notices or materials, is a staff read of personal data, so it is audited (and shown to
//! the applicant on "who used my data").

mod correction;

use super::page;
use crate::AppState;
use crate::auth::{ClientAddr, CurrentUser};
use crate::html::fail;
use crate::html::{PageResult, allow, here, read_form, render, see_other};
use crate::locale::Locale;
use crate::page::Page;
use crate::upload::Disposition;
use askama::Template;
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, Uri};
use correction::{
    CorrectionForm, NEW_SLOTS, NewRow, RoundLine, RoundView, field_label, pick_rows,
    read_correction,
};
use yiwang_domain::ErrorCode;
use yiwang_domain::calendar::CivilDate;
use yiwang_domain::case::{CaseNumber, CorrectionScope, CorrectionTarget};
use yiwang_domain::enums::CodeSet;
use yiwang_domain::policy::{Action, Target};
use yiwang_store::Actor;
use yiwang_store::case_read::{CaseEventRow, CaseTaskRow, WorkItem};
use yiwang_store::cases::{ActionRequest, CaseActor};

#[derive(Template)]
#[template(path = "console/worklist.html")]
struct WorklistPage {
    page: Page,
    items: Vec<WorkItem>,
    /// The search as typed (case number, applicant or business name).
    q: String,
}

fn today(state: &AppState) -> CivilDate {
    CivilDate::from_unix_ms(state.now_ms(), 8 * 3600)
}

#[derive(serde::Deserialize, Default)]
pub struct WorklistQuery {
    #[serde(default)]
    q: String,
}

/// Longest worklist search kept.
const MAX_QUERY_CHARS: usize = 100;

pub async fn worklist(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    uri: Uri,
    Query(query): Query<WorklistQuery>,
) -> PageResult {
    let p = allow(
        &user,
        Action::HandleCases,
        &Target::Anything,
        locale,
        &here(&uri),
    )?;
    let calendar = state.calendar().await?;
    let all = state.store.worklist(p, &calendar, today(&state)).await?;
    let q: String = query.q.trim().chars().take(MAX_QUERY_CHARS).collect();
    let items = all.into_iter().filter(|w| w.matches(&q)).collect();
    let tpl = WorklistPage {
        page: page(locale, p, "console.cases.title", "/console/cases"),
        items,
        q,
    };
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}

/// The decision form (every action but a correction) as shown or as posted back.
#[derive(Debug, Clone, Default)]
struct DecisionForm {
    action: String,
    opinion: String,
    action_error: Option<String>,
    opinion_error: Option<String>,
    error: Option<String>,
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
    due_label: &'static str,
    paused: bool,
    version: i64,
    /// The actions of the decision form (all but those entering a correction).
    actions: Vec<String>,
    /// The actions entering the correction state (their own form).
    correction_actions: Vec<String>,
    decision: DecisionForm,
    correction: CorrectionForm,
    /// The answers as the applicant checked them (labels, option names; identity numbers
    /// masked), or `None` when they no longer fit the current form: then the raw `answers`.
    summary: Option<crate::forms_html::Fragment>,
    answers: Vec<(String, String)>,
    tasks: Vec<CaseTaskRow>,
    rounds: Vec<RoundView>,
    events: Vec<CaseEventRow>,
    documents: Vec<crate::case_documents::DocumentLink>,
    materials: Vec<crate::correction_view::MaterialHistory>,
    /// Materials an earlier part of the applicant's 一件事 provides: `(material, part, item)`.
    provided: Vec<(String, u64, String)>,
}

impl CasePage {
    /// Every problem of the posted form, for the summary at the top: (anchor, message).
    fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(e) = &self.decision.action_error {
            out.push(("action-0".to_string(), e.clone()));
        }
        if let Some(e) = &self.decision.opinion_error {
            out.push(("opinion".to_string(), e.clone()));
        }
        if let Some(e) = &self.decision.error {
            out.push(("h-act".to_string(), e.clone()));
        }
        if let Some(e) = &self.correction.error {
            out.push(("h-correct".to_string(), e.clone()));
        }
        out.extend(self.correction.row_errors());
        out
    }
}

fn parse_number(n: &str) -> Result<CaseNumber, crate::html::PageError> {
    CaseNumber::parse(n).map_err(|_| fail(ErrorCode::NotFound))
}

/// What the case offers a correction to name, with labels and current values.
struct CaseScope {
    form: yiwang_app::corrections::CaseForm,
    required: Vec<yiwang_domain::catalog::MaterialRequirement>,
    scope: CorrectionScope,
}

async fn case_scope(
    state: &AppState,
    case: &yiwang_store::cases::CaseRecord,
) -> Result<CaseScope, crate::html::PageError> {
    let form = yiwang_app::corrections::case_form(&state.store, case).await?;
    let required = crate::materials::required_for(state, &form.app).await?;
    let scope = CorrectionScope::of(required.iter().map(|m| m.name.clone()), &form.def);
    Ok(CaseScope {
        form,
        required,
        scope,
    })
}

async fn case_page(
    state: &AppState,
    locale: Locale,
    p: &yiwang_domain::policy::Principal,
    number: &CaseNumber,
    client: &str,
    posted: impl FnOnce(&mut CasePage),
) -> Result<CasePage, crate::html::PageError> {
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
    let all_actions = yiwang_store::Store::actions_for_staff_in(p, &file);
    let wf = &file.case.workflow;
    let entering: Vec<String> = wf
        .actions_from(file.case.state())
        .filter(|a| {
            wf.state(&a.to_state)
                .is_some_and(|s| s.clock == yiwang_domain::workflow::ClockMode::Paused)
        })
        .map(|a| a.key.clone())
        .collect();
    let (correction_actions, actions): (Vec<String>, Vec<String>) =
        all_actions.into_iter().partition(|a| entering.contains(a));
    let cs = case_scope(state, &file.case).await?;
    let app = &cs.form.app;
    let uploads = state.store.uploads_for_application(app.id, true).await?;
    let materials = crate::correction_view::histories(&cs.required, &file.corrections, &uploads);
    let summary = match state.store.published_implementation(&app.impl_code).await? {
        Some(_) => {
            let def = yiwang_app::bundles::with_provided_fields(&cs.form.def, &app.answers);
            crate::apply_pages::answers_summary(state, locale, &def, app, None, false).await?
        }
        None => None,
    };
    let answers = yiwang_app::apply::stored_pairs(app)
        .into_iter()
        .filter(|(k, v)| !k.starts_with('_') && !v.is_empty())
        .collect();
    let documents =
        crate::case_documents::links(state, locale, number, &format!("/console/cases/{number}"))
            .await?;
    let given = state.store.correction_answers(file.case.id).await?;
    let english = locale.lang == yiwang_i18n::Lang::En;
    let rounds = file
        .corrections
        .iter()
        .map(|c| RoundView {
            requested_at: c.requested_at,
            resolved_at: c.resolved_at,
            lines: c
                .items
                .iter()
                .map(|i| RoundLine {
                    label: match &i.target {
                        CorrectionTarget::Field(k) => field_label(&cs.form.def, k, english),
                        _ => i.label.clone(),
                    },
                    problem: i.problem.clone(),
                    kind: match i.target {
                        CorrectionTarget::Material(_) => "material",
                        CorrectionTarget::Field(_) => "field",
                        CorrectionTarget::NewMaterial(_) => "new",
                    },
                    answered_at: given
                        .iter()
                        .find(|g| g.round == c.round && g.target == i.target)
                        .map(|g| g.answered_at),
                    value: i
                        .target
                        .field()
                        .map(|k| yiwang_app::corrections::shown_value(&cs.form, k)),
                })
                .collect(),
        })
        .collect();
    let correction = CorrectionForm {
        action: if correction_actions.len() == 1 {
            correction_actions.first().cloned().unwrap_or_default()
        } else {
            String::new()
        },
        opinion: String::new(),
        rows: pick_rows(&cs, &materials),
        new_rows: (1..=NEW_SLOTS)
            .map(|n| NewRow {
                n,
                ..Default::default()
            })
            .collect(),
        error: None,
    };
    let mut tpl = CasePage {
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
        due_label: if file.case.progress.accepted {
            "corrections.due.promised"
        } else {
            "corrections.due.accept_by"
        },
        paused: file.case.paused_since.is_some(),
        version: file.case.version,
        actions,
        correction_actions,
        decision: DecisionForm::default(),
        correction,
        summary,
        answers,
        tasks: file.tasks.clone(),
        rounds,
        events: file.events.clone(),
    };
    posted(&mut tpl);
    Ok(tpl)
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
    let tpl = case_page(&state, locale, p, &number, &client, |_| {}).await?;
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}

fn msg(locale: Locale, key: &str) -> String {
    yiwang_i18n::t(locale.lang, key).to_string()
}

/// Takes one action: from the decision form (`form=decision`: an action and an opinion) or
/// the correction form (`form=correction`: the picked materials and fields with a reason
/// each, and new document slots). A problem shows the page again with every entry kept and
/// the message at the field it concerns.
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
    let is_correction = form.get("form") == "correction";
    let mut decision = DecisionForm::default();
    let mut correction_items = Vec::new();
    let mut posted_correction: Option<CorrectionForm> = None;
    if is_correction {
        let case = state.store.case_for_staff(&number, p).await?;
        let cs = case_scope(&state, &case.case).await?;
        let uploads = state
            .store
            .uploads_for_application(cs.form.app.id, true)
            .await?;
        let materials =
            crate::correction_view::histories(&cs.required, &case.corrections, &uploads);
        let blank = CorrectionForm {
            rows: pick_rows(&cs, &materials),
            new_rows: (1..=NEW_SLOTS)
                .map(|n| NewRow {
                    n,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let (cf, items) = read_correction(locale, &form, blank, &cs.form.def, &cs.scope);
        match items {
            Some(items) => {
                correction_items = items;
                posted_correction = Some(cf);
            }
            None => {
                let tpl = case_page(&state, locale, p, &number, &client, |t| {
                    t.correction = cf;
                })
                .await?;
                return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &tpl, locale.lang));
            }
        }
    } else {
        decision.action = form.get("action").to_string();
        decision.opinion = form.get("opinion").to_string();
        if decision.action.is_empty() {
            decision.action_error = Some(msg(locale, "corrections.console.action_missing"));
            let tpl = case_page(&state, locale, p, &number, &client, |t| {
                t.decision = decision;
            })
            .await?;
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &tpl, locale.lang));
        }
    }
    let calendar = state.calendar().await?;
    let request = ActionRequest {
        action: form.get("action").to_string(),
        opinion: Some(form.get("opinion").to_string()),
        correction: correction_items,
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
            let code = e.code();
            // Required and too long can only be the opinion here (the correction rows were
            // checked above); anything else concerns the form as a whole.
            let text = match code {
                ErrorCode::Required => msg(locale, "corrections.console.opinion_missing"),
                _ => yiwang_i18n::error_message(locale.lang, code),
            };
            let on_opinion = match code {
                // A written opinion is there: the refusal is about something else.
                ErrorCode::Required => form.get("opinion").trim().is_empty(),
                ErrorCode::TooLong => true,
                _ => false,
            };
            let text = if code == ErrorCode::Required && !on_opinion {
                yiwang_i18n::error_message(locale.lang, code)
            } else {
                text
            };
            let status = crate::error::status_for(code);
            let tpl = case_page(
                &state,
                locale,
                p,
                &number,
                &client,
                |t| match posted_correction {
                    Some(mut cf) => {
                        cf.error = Some(if on_opinion {
                            format!("{}{}", msg(locale, "console.case.opinion"), text)
                        } else {
                            text
                        });
                        t.correction = cf;
                    }
                    None => {
                        if on_opinion {
                            decision.opinion_error = Some(text);
                        } else {
                            decision.error = Some(text);
                        }
                        t.decision = decision;
                    }
                },
            )
            .await?;
            Ok(render(status, &tpl, locale.lang))
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
