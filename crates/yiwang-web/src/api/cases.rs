//! Full online handling over JSON: an applicant (signed in, applicant session) starts an
//! application, saves answers, submits and follows the case; another system with an API token
//! takes staff actions within its grant and reads the case-event feed (GB/T 39046 6.2–6.5).
//! The same store functions, rules and audit entries as the pages.

use super::common::{ApiLang, ErrorBody};
use crate::AppState;
use crate::auth::CurrentApplicant;
use crate::auth::{ApiPrincipal, ClientAddr};
use crate::error::AppError;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yiwang_app::apply::{self, Filer, Readiness};
use yiwang_domain::ErrorCode;
use yiwang_domain::ImplCode;
use yiwang_domain::calendar::CivilDate;
use yiwang_domain::case::{CaseNumber, CaseSource, CorrectionItem, CorrectionTarget};
use yiwang_domain::forms::{FieldError, Mode, RawAnswers, validate};
use yiwang_domain::policy::{Action, Target};
use yiwang_i18n::Lang;
use yiwang_store::applicants::Applicant;
use yiwang_store::applications::DraftOwner;
use yiwang_store::case_feed::{FEED_PAGE_MAX, FeedEvent, FeedScope, parse_cursor};
use yiwang_store::cases::{ActionRequest, CaseActor};

/// One line of a correction notice: which material (`material:<name>`), field
/// (`field:<key>`) or new document (`new:<name>`), its name, and what is wrong.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CorrectionItemDto {
    pub target: String,
    pub label: String,
    pub problem: String,
}

impl From<CorrectionItem> for CorrectionItemDto {
    fn from(c: CorrectionItem) -> Self {
        Self {
            target: c.target.to_string(),
            label: c.label,
            problem: c.problem,
        }
    }
}

impl TryFrom<CorrectionItemDto> for CorrectionItem {
    type Error = ErrorCode;
    fn try_from(c: CorrectionItemDto) -> Result<Self, ErrorCode> {
        Ok(Self {
            target: CorrectionTarget::parse(&c.target)?,
            label: c.label,
            problem: c.problem,
        })
    }
}

pub(super) fn applicant(me: CurrentApplicant, lang: Lang) -> Result<Applicant, AppError> {
    me.0.ok_or_else(|| AppError::json(ErrorCode::NotAuthenticated, lang))
}

/// A `required` issue on `field`.
pub(super) fn required_issue(field: String, detail: Option<String>) -> yiwang_domain::Issue {
    yiwang_domain::Issue {
        sheet: None,
        row: None,
        field: Some(field),
        code: ErrorCode::Required,
        detail,
    }
}

pub(super) fn json_body<T>(
    body: Result<Json<T>, JsonRejection>,
    lang: Lang,
) -> Result<T, AppError> {
    body.map(|Json(b)| b)
        .map_err(|_| AppError::json(ErrorCode::InvalidInput, lang))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewApplicationBody {
    /// 实施编码 of a published implementation.
    pub impl_code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationDto {
    pub id: i64,
    pub impl_code: String,
    pub status: String,
    pub case_number: Option<String>,
}

/// Starts a draft application for the signed-in applicant.
#[utoipa::path(post, path = "/api/v1/applications", tag = "cases", operation_id = "create_application",
    request_body = NewApplicationBody,
    responses(
        (status = 201, description = "The new draft", body = ApplicationDto),
        (status = 401, description = "No applicant session", body = ErrorBody),
        (status = 422, description = "Unknown or unpublished implementation", body = ErrorBody),
    ))]
pub async fn create_application(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    me: CurrentApplicant,
    body: Result<Json<NewApplicationBody>, JsonRejection>,
) -> Result<(axum::http::StatusCode, Json<ApplicationDto>), AppError> {
    let a = applicant(me, lang)?;
    let b = json_body(body, lang)?;
    let code = ImplCode::parse(&b.impl_code).map_err(|c| AppError::json(c, lang))?;
    let app = state
        .store
        .create_application(a.id, &code, CaseSource::Online, None, state.now_ms())
        .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(ApplicationDto {
            id: app.id,
            impl_code: app.impl_code.to_string(),
            status: app.status.key().to_string(),
            case_number: None,
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AnswersBody {
    /// The form's values as name/value pairs, named as on the page (`field`, `group[0].member`,
    /// `address.region`).
    #[schema(schema_with = pairs_schema)]
    pub pairs: Vec<(String, String)>,
}

/// `[[name, value], …]`: each pair exactly two strings.
fn pairs_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    let pair = ArrayBuilder::new()
        .items(ObjectBuilder::new().schema_type(Type::String))
        .min_items(Some(2))
        .max_items(Some(2));
    ArrayBuilder::new().items(pair).build()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorDto {
    pub field: String,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnswersResult {
    /// Problems under the submission rules (the draft is saved either way); empty when the
    /// application may be submitted.
    pub errors: Vec<FieldErrorDto>,
}

fn field_errors(errors: &[FieldError], lang: Lang) -> Vec<FieldErrorDto> {
    errors
        .iter()
        .map(|e| FieldErrorDto {
            field: e.field.clone(),
            code: e.key.clone(),
            message: crate::forms_html::error_text(lang, e),
        })
        .collect()
}

/// Saves a draft's answers; says what still stands in the way of submitting.
#[utoipa::path(put, path = "/api/v1/applications/{id}/answers", tag = "cases", operation_id = "save_answers",
    params(("id" = i64, Path, description = "Application id")),
    request_body = AnswersBody,
    responses(
        (status = 200, description = "Saved; remaining problems listed", body = AnswersResult),
        (status = 400, description = "Unknown (forged) field names or oversized input", body = ErrorBody),
        (status = 404, description = "No such draft of this applicant", body = ErrorBody),
        (status = 409, description = "Already submitted", body = ErrorBody),
    ))]
pub async fn save_answers(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    me: CurrentApplicant,
    id: Result<Path<i64>, PathRejection>,
    body: Result<Json<AnswersBody>, JsonRejection>,
) -> Result<Json<AnswersResult>, AppError> {
    let a = applicant(me, lang)?;
    let Path(id) = id.map_err(super::common::bad_id(lang))?;
    let b = json_body(body, lang)?;
    let (def, _) = draft_form(&state, a.id, id, lang).await?;
    let raw = RawAnswers::from_pairs(&def, b.pairs)
        .map_err(|_| AppError::json(ErrorCode::InvalidFormInput, lang))?;
    if let Err(errors) = validate(&def, &raw, Mode::Draft) {
        return Err(AppError::json(ErrorCode::InvalidInput, lang).with_field_issues(&errors, lang));
    }
    let doc = serde_json::json!({ "pairs": raw.to_pairs() });
    state
        .store
        .save_answers(id, DraftOwner::Applicant(a.id), &doc, state.now_ms())
        .await?;
    let errors = validate(&def, &raw, Mode::Submit).err().unwrap_or_default();
    Ok(Json(AnswersResult {
        errors: field_errors(&errors, lang),
    }))
}

/// The form definition of an applicant's draft.
async fn draft_form(
    state: &AppState,
    applicant_id: i64,
    id: i64,
    lang: Lang,
) -> Result<
    (
        yiwang_domain::forms::FormDefinition,
        yiwang_store::applications::Application,
    ),
    AppError,
> {
    let app = state
        .store
        .application(id, DraftOwner::Applicant(applicant_id))
        .await?;
    let published = state
        .store
        .published_implementation(&app.impl_code)
        .await?
        .ok_or_else(|| AppError::json(ErrorCode::UnknownImplementation, lang))?;
    let form = state
        .store
        .form_definition_for(&app.impl_code, &published.implementation.basic_code)
        .await?;
    Ok((form.definition, app))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UploadDto {
    pub id: i64,
    pub material: String,
    pub filename: String,
    /// The type found in the content: `pdf`, `jpeg`, `png` or `ofd`.
    pub kind: String,
    pub size: i64,
    pub sha256: String,
}

/// Uploads one file for a material of a draft (multipart: `material`, `file`). The type is
/// decided by the content (PDF, JPG, PNG, OFD), never by the name; at most 20 MB.
#[utoipa::path(post, path = "/api/v1/applications/{id}/materials", tag = "cases", operation_id = "upload_material",
    params(("id" = i64, Path, description = "Application id")),
    request_body(content_type = "multipart/form-data", description = "`material` (the material's name) and `file`"),
    responses(
        (status = 201, description = "Stored", body = UploadDto),
        (status = 404, description = "No such draft of this applicant", body = ErrorBody),
        (status = 409, description = "Submitted: the material is locked", body = ErrorBody),
        (status = 413, description = "Too large", body = ErrorBody),
        (status = 415, description = "Not a PDF, JPG, PNG or OFD file", body = ErrorBody),
    ))]
pub async fn upload_material(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    me: CurrentApplicant,
    id: Result<Path<i64>, PathRejection>,
    mp: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(axum::http::StatusCode, Json<UploadDto>), AppError> {
    let a = applicant(me, lang)?;
    let Path(id) = id.map_err(super::common::bad_id(lang))?;
    let mp = mp.map_err(|r| AppError::json(crate::upload::rejection_code(&r), lang))?;
    let (_, app) = draft_form(&state, a.id, id, lang).await?;
    let required = crate::materials::required_for(&state, &app).await?;
    let (up, _) = crate::materials::upload(&state, &required, &app, mp)
        .await
        .map_err(|c| AppError::json(c, lang))?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(UploadDto {
            id: up.id,
            material: up.material_key,
            filename: up.filename,
            kind: up.kind.key().to_string(),
            size: up.size,
            sha256: up.sha256,
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SubmitBody {
    /// The applicant agrees to the declaration (must be true).
    pub declaration: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubmittedDto {
    pub case_number: String,
    /// False when this application had already been submitted (the same case is returned).
    pub created: bool,
}

/// Submits a complete draft; repeating the call returns the same case.
#[utoipa::path(post, path = "/api/v1/applications/{id}/submit", tag = "cases", operation_id = "submit_application",
    params(("id" = i64, Path, description = "Application id")),
    request_body = SubmitBody,
    responses(
        (status = 200, description = "The case", body = SubmittedDto),
        (status = 403, description = "Cross-site request refused (`Origin` or `Sec-Fetch-Site` names another site), or the item needs a verified identity (实名核验) and the applicant's is not verified (`identity_unverified`); the draft is kept", body = ErrorBody),
        (status = 404, description = "No such draft of this applicant", body = ErrorBody),
        (status = 422, description = "Declaration not given, or answers incomplete", body = ErrorBody),
    ))]
pub async fn submit(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    me: CurrentApplicant,
    ClientAddr(client): ClientAddr,
    id: Result<Path<i64>, PathRejection>,
    body: Result<Json<SubmitBody>, JsonRejection>,
) -> Result<Json<SubmittedDto>, AppError> {
    let a = applicant(me, lang)?;
    let Path(id) = id.map_err(super::common::bad_id(lang))?;
    let b = json_body(body, lang)?;
    let who = Filer::Applicant(&a);
    let l = apply::load(&state.store, who, id).await?;
    // A submitted draft answers with its case (a retried request creates nothing).
    let doc = match l.case_number() {
        Some(_) => serde_json::Value::Null,
        None if !b.declaration => return Err(AppError::json(ErrorCode::Required, lang)),
        None => match apply::readiness(&l) {
            Readiness::Ready(doc) => doc,
            Readiness::Missing { materials, .. } if !materials.is_empty() => {
                let mut e = AppError::json(ErrorCode::Required, lang);
                e.issues = materials
                    .into_iter()
                    .map(|m| required_issue(format!("material:{m}"), Some(m)))
                    .collect();
                return Err(e);
            }
            Readiness::Missing { form, .. } => {
                return Err(
                    AppError::json(ErrorCode::InvalidInput, lang).with_field_issues(&form, lang)
                );
            }
        },
    };
    let calendar = state.calendar().await?;
    let done = apply::submit(
        &state.store,
        who,
        &client,
        &l,
        &doc,
        state.case_clock(&calendar),
    )
    .await?;
    Ok(Json(SubmittedDto {
        case_number: done.number.to_string(),
        created: done.created,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseStatusDto {
    pub case_number: String,
    pub item_name: String,
    pub state: String,
    /// Status as the applicant sees it (message key of group `case_status`) and its text.
    pub status: String,
    pub status_text: String,
    pub terminal: bool,
    pub version: i64,
    /// Promised date (YYYY-MM-DD) of the running limit.
    pub due_date: Option<String>,
    /// The open correction notice: what to fix.
    pub correction: Vec<CorrectionItemDto>,
    /// Actions the caller may take now.
    pub actions: Vec<String>,
    pub events: Vec<CaseEventDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseEventDto {
    pub at: i64,
    pub action: String,
    pub from_state: String,
    pub to_state: String,
    pub opinion: Option<String>,
}

fn day(d: CivilDate) -> String {
    let (y, m, dd) = d.ymd();
    format!("{y:04}-{m:02}-{dd:02}")
}

fn status_dto(
    file: &yiwang_store::case_read::CaseFile,
    actions: Vec<String>,
    lang: Lang,
) -> CaseStatusDto {
    let status = file.case.applicant_status();
    CaseStatusDto {
        case_number: file.case.number.to_string(),
        item_name: file.case.item_name.clone(),
        state: file.case.state().to_string(),
        status_text: yiwang_i18n::t(lang, &format!("case_status.{status}")).to_string(),
        status,
        terminal: file.case.terminal,
        version: file.case.version,
        due_date: file.case.due_day.filter(|_| !file.case.terminal).map(day),
        correction: file
            .open_correction()
            .map(|c| c.items.iter().cloned().map(Into::into).collect())
            .unwrap_or_default(),
        actions,
        events: file
            .events
            .iter()
            .map(|e| CaseEventDto {
                at: e.at,
                action: e.action.clone(),
                from_state: e.from_state.clone(),
                to_state: e.to_state.clone(),
                opinion: e.opinion.clone(),
            })
            .collect(),
    }
}

fn number(raw: &str, lang: Lang) -> Result<CaseNumber, AppError> {
    CaseNumber::parse(raw).map_err(|_| AppError::json(ErrorCode::NotFound, lang))
}

/// One of the signed-in applicant's cases.
#[utoipa::path(get, path = "/api/v1/my/cases/{number}", tag = "cases", operation_id = "my_case",
    params(("number" = String, Path, description = "办件编号")),
    responses(
        (status = 200, description = "Status, correction notice, history", body = CaseStatusDto),
        (status = 404, description = "No such case of this applicant", body = ErrorBody),
    ))]
pub async fn my_case(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    me: CurrentApplicant,
    n: Result<Path<String>, PathRejection>,
) -> Result<Json<CaseStatusDto>, AppError> {
    let a = applicant(me, lang)?;
    let Path(n) = n.map_err(super::common::bad_path(lang))?;
    let file = state
        .store
        .case_for_applicant(&number(&n, lang)?, a.id)
        .await?;
    let actions = yiwang_store::Store::actions_for_applicant(&file.case);
    Ok(Json(status_dto(&file, actions, lang)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ActionBody {
    /// The workflow action, e.g. `accept`, `request_correction`, `market.approve`.
    pub action: String,
    pub opinion: Option<String>,
    #[serde(default)]
    pub correction: Vec<CorrectionItemDto>,
    /// The case version the caller saw; a different one is a conflict (409).
    pub expected_version: Option<i64>,
}

/// A staff action taken by another system (API token with a case-handling role).
#[utoipa::path(post, path = "/api/v1/cases/{number}/actions", tag = "cases", operation_id = "case_action",
    params(("number" = String, Path, description = "办件编号")),
    request_body = ActionBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The case after the action", body = CaseStatusDto),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such case within the token's scope", body = ErrorBody),
        (status = 409, description = "Not possible now, or the case changed meanwhile", body = ErrorBody),
        (status = 422, description = "Opinion or correction list missing", body = ErrorBody),
    ))]
pub async fn case_action(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    caller: ApiPrincipal,
    ClientAddr(client): ClientAddr,
    n: Result<Path<String>, PathRejection>,
    body: Result<Json<ActionBody>, JsonRejection>,
) -> Result<Json<CaseStatusDto>, AppError> {
    let Path(n) = n.map_err(super::common::bad_path(lang))?;
    let b = json_body(body, lang)?;
    let number = number(&n, lang)?;
    let p = &caller.principal;
    // The token's role and scope, within its creator's current power.
    if !caller.token.allows(Action::HandleCases, &Target::Anything) {
        return Err(AppError::json(ErrorCode::Forbidden, lang));
    }
    let calendar = state.calendar().await?;
    // A target other than `material:` / `field:` is refused as the store refuses a bad line.
    let correction = b
        .correction
        .into_iter()
        .map(CorrectionItem::try_from)
        .collect::<Result<_, _>>()
        .map_err(|c| AppError::json(c, lang))?;
    let req = ActionRequest {
        action: b.action,
        opinion: b.opinion,
        correction,
        expected_version: b.expected_version,
    };
    let done = state
        .store
        .act_on_case(
            &number,
            &req,
            CaseActor::Staff(p),
            &format!("token:{}@{client}", caller.token.id),
            state.case_clock(&calendar),
            Some(state.docs.as_ref()),
        )
        .await?;
    // Acting needed a role from the case's department or one of its tasks', so the caller
    // sees the case: answer from the case as written, without reading it or its tasks again.
    let file = state.store.case_file(done.case).await?;
    let actions = yiwang_store::Store::actions_for_staff_in(p, &file);
    Ok(Json(status_dto(&file, actions, lang)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The `cursor` of the last event already read; omit to start at the beginning.
    pub after: Option<String>,
    /// 1–500, default 100.
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedPage {
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<FeedEvent>,
    /// Pass as `after` for the next page; absent when there is nothing more now.
    pub next: Option<String>,
}

/// Case events in the shapes of GB/T 39046 6.2 办事申请, 6.3 事项受理, 6.4 事项办理, 6.5 事项办结,
/// oldest first, for reporting to a provincial platform. Limited to the token's region subtree
/// and department; resident ID numbers masked unless the token (and its creator) may see them.
#[utoipa::path(get, path = "/api/v1/feed/case-events", tag = "cases", operation_id = "case_feed",
    params(FeedQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of events", body = FeedPage),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token may not read the feed, or names no region", body = ErrorBody),
        (status = 422, description = "Malformed cursor or limit", body = ErrorBody),
    ))]
pub async fn case_feed(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    caller: ApiPrincipal,
    ClientAddr(client): ClientAddr,
    query: Result<Query<FeedQuery>, QueryRejection>,
) -> Result<Json<FeedPage>, AppError> {
    let Query(q) = query.map_err(super::common::bad_query(lang))?;
    let token = &caller.token;
    if !token.allows(Action::ReadCaseFeed, &Target::Anything) {
        return Err(AppError::json(ErrorCode::Forbidden, lang));
    }
    // The feed is read by region subtree: a token without a region reads nothing.
    let Some(region) = token.grant.region.as_ref() else {
        return Err(AppError::json(ErrorCode::TokenUnscoped, lang));
    };
    let cursor = match q.after.as_deref() {
        None | Some("") => None,
        Some(c) => Some(parse_cursor(c).map_err(|code| AppError::json(code, lang))?),
    };
    let limit = q.limit.unwrap_or(100);
    if !(1..=FEED_PAGE_MAX).contains(&limit) {
        return Err(AppError::json(ErrorCode::OutOfRange, lang));
    }
    let scope = FeedScope {
        bounds: region.subtree_bounds(),
        department: token
            .grant
            .department
            .as_ref()
            .map(|d| d.as_str().to_string()),
        full_id_numbers: token.allows(Action::SeeFullIdNumbers, &Target::Anything),
    };
    let events = state.store.case_feed(cursor, &scope, limit).await?;
    // Reporting upstream carries personal data (6.2): every page read is on the record, and on
    // the 谁用了我的数据 page of each applicant whose data it carried (one transaction).
    if let (Some(first), Some(last)) = (events.first(), events.last()) {
        let actor = token.actor(client);
        let now = state.now_ms();
        let shown = if scope.full_id_numbers {
            "id_number"
        } else {
            "id_number_masked"
        };
        let mut entries = vec![(
            now,
            actor.event(
                "feed.read",
                "feed:case-events",
                serde_json::json!({"from": first.cursor, "to": last.cursor, "count": events.len()})
                    .to_string(),
            ),
        )];
        entries.extend(events.iter().filter(|e| e.applicant.is_some()).map(|e| {
            (
                now,
                actor.event(
                    "case.feed_read",
                    format!("case:{}", e.case_number),
                    format!("{} {shown}", e.kind_key()),
                ),
            )
        }));
        state.store.audit_many(&entries).await?;
    }
    let next = (i64::try_from(events.len()) == Ok(limit))
        .then(|| events.last().map(|e| e.cursor.clone()))
        .flatten();
    Ok(Json(FeedPage { events, next }))
}
