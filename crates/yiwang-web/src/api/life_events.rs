//! `GET /api/v1/life-events` and `GET /api/v1/life-events/{code}`: 一件事 definitions and,
//! given answers (`question=option` query parameters), the items to apply for in order and
//! the merged, de-duplicated materials list.

use super::common::{ApiLang, ErrorBody, LangQuery, bad_path, bad_query, param_error};
use crate::AppState;
use crate::error::AppError;
use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde::Serialize;
use utoipa::ToSchema;
use yiwang_domain::{ErrorCode, RegionCode};
use yiwang_search::life_event::LifeEvent;

#[derive(Debug, Serialize, ToSchema)]
pub struct LifeEventSummaryDto {
    pub code: String,
    pub name: String,
    pub summary: String,
    /// Where it applies (the region and its subtree).
    pub region: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LifeEventList {
    pub items: Vec<LifeEventSummaryDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChoiceDto {
    pub key: String,
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionDto {
    pub key: String,
    pub text: String,
    pub options: Vec<ChoiceDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlannedItemDto {
    pub basic_code: String,
    pub name: String,
    pub note: String,
    /// The implementation to apply for; null when the item is not published in this area.
    pub implementation: Option<String>,
    pub department_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MergedMaterialDto {
    pub name: String,
    pub issuer: String,
    pub licence_type: String,
    pub originals: u32,
    pub copies: u32,
    pub mandatory: bool,
    /// Positions (0-based) in `plan.items` of the items that need it.
    pub needed_by: Vec<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanDto {
    pub items: Vec<PlannedItemDto>,
    pub materials: Vec<MergedMaterialDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LifeEventDetail {
    pub code: String,
    pub name: String,
    pub summary: String,
    pub region: String,
    pub questions: Vec<QuestionDto>,
    /// Keys of the questions not answered (validly) yet.
    pub unanswered: Vec<String>,
    /// The plan once every question is answered; null before.
    pub plan: Option<PlanDto>,
}

fn summary(e: &LifeEvent) -> LifeEventSummaryDto {
    LifeEventSummaryDto {
        code: e.code.clone(),
        name: e.name.clone(),
        summary: e.summary.clone(),
        region: e.region.clone(),
    }
}

fn internal(lang: yiwang_i18n::Lang) -> impl Fn(yiwang_search::SearchError) -> AppError {
    move |e| {
        tracing::error!(error = %e, "life events");
        AppError::json(ErrorCode::Internal, lang)
    }
}

/// Every life event.
#[utoipa::path(get, path = "/api/v1/life-events", tag = "search", operation_id = "list_life_events", params(LangQuery),
    responses((status = 200, description = "Life events (一件事)", body = LifeEventList)))]
pub async fn list(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    query: Result<Query<LangQuery>, QueryRejection>,
) -> Result<Json<LifeEventList>, AppError> {
    query.map_err(bad_query(lang))?;
    let engine = state
        .search
        .engine(&state.store, state.now_ms())
        .await
        .map_err(internal(lang))?;
    Ok(Json(LifeEventList {
        items: engine.life_events().map(summary).collect(),
    }))
}

/// A life event's questions and, for complete answers, its plan. Pass each answer as
/// `question=option`; `region` (2–12 digits) picks the implementations of that area.
#[utoipa::path(get, path = "/api/v1/life-events/{code}", tag = "search", operation_id = "life_event",
    params(("code" = String, Path, description = "The life event's code, e.g. `open-restaurant`"),
        ("region" = Option<String>, Query, description = "The reader's region (2–12 digits)"),
        ("lang" = Option<String>, Query, description = "Language of error messages")),
    responses(
        (status = 200, description = "Questions, and the plan when all are answered", body = LifeEventDetail),
        (status = 404, description = "No such life event", body = ErrorBody),
        (status = 422, description = "Malformed region", body = ErrorBody),
    ))]
pub async fn detail(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<LifeEventDetail>, AppError> {
    let Path(code) = path.map_err(bad_path(lang))?;
    let Query(q) = query.map_err(bad_query(lang))?;
    let region = match q.iter().find(|(k, _)| k == "region") {
        Some((_, v)) => Some(RegionCode::parse(v).map_err(|c| param_error(c, lang, "region", v))?),
        None => None,
    };
    let engine = state
        .search
        .engine(&state.store, state.now_ms())
        .await
        .map_err(internal(lang))?;
    let Some(ev) = engine.life_event(&code).cloned() else {
        return Err(AppError::json(ErrorCode::NotFound, lang));
    };
    let answers = ev.valid_answers(q.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let unanswered: Vec<String> = ev
        .unanswered(&answers)
        .iter()
        .map(|q| q.key.clone())
        .collect();
    let plan = if unanswered.is_empty() {
        let p = yiwang_search::plan::resolve(&state.store, &ev, &answers, region.as_ref())
            .await
            .map_err(internal(lang))?;
        Some(PlanDto {
            items: p
                .items
                .into_iter()
                .map(|i| PlannedItemDto {
                    basic_code: i.basic_code,
                    name: i.name,
                    note: i.note,
                    implementation: i.implementation,
                    department_name: i.department_name,
                })
                .collect(),
            materials: p
                .materials
                .into_iter()
                .map(|m| MergedMaterialDto {
                    name: m.name,
                    issuer: m.issuer,
                    licence_type: m.licence_type,
                    originals: m.originals,
                    copies: m.copies,
                    mandatory: m.mandatory,
                    needed_by: m.needed_by,
                })
                .collect(),
        })
    } else {
        None
    };
    Ok(Json(LifeEventDetail {
        code: ev.code.clone(),
        name: ev.name.clone(),
        summary: ev.summary.clone(),
        region: ev.region.clone(),
        questions: ev
            .questions
            .iter()
            .map(|q| QuestionDto {
                key: q.key.clone(),
                text: q.text.clone(),
                options: q
                    .options
                    .iter()
                    .map(|o| ChoiceDto {
                        key: o.key.clone(),
                        text: o.text.clone(),
                    })
                    .collect(),
            })
            .collect(),
        unanswered,
        plan,
    }))
}
