//! 一件事 for the applicant over JSON: submit every part of a bundle at once (一次提交), with
//! the same checks and the same result as the bundle page.

use super::common::{ApiLang, ErrorBody};
use crate::AppState;
use crate::auth::ClientAddr;
use crate::auth::CurrentApplicant;
use crate::error::AppError;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yiwang_app::bundles::{PartView, assess, complete, submit_all};
use yiwang_domain::{ErrorCode, Issue};
use yiwang_store::bundles::Bundle;

#[derive(Debug, Deserialize, ToSchema)]
pub struct BundleSubmitBody {
    /// The applicant agrees to the declaration, for every part (must be true).
    pub declaration: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BundlePartDto {
    pub application_id: i64,
    pub impl_code: String,
    pub item_name: String,
    /// The part's case, once submitted.
    pub case_number: Option<String>,
    /// The case's status as the applicant sees it (message key of group `case_status`).
    pub status: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BundleDto {
    pub id: i64,
    pub title: String,
    /// Combined status: `drafting`, `needs_applicant`, `in_progress` or `finished`.
    pub status: String,
    /// When the parts were submitted together (ms since the epoch).
    pub submitted_at: Option<i64>,
    pub parts: Vec<BundlePartDto>,
}

fn dto(b: Bundle) -> BundleDto {
    BundleDto {
        id: b.id,
        title: b.title.clone(),
        status: b.status().key().to_string(),
        submitted_at: b.submitted_at,
        parts: b
            .parts
            .into_iter()
            .map(|p| BundlePartDto {
                application_id: p.application_id,
                impl_code: p.impl_code.to_string(),
                item_name: p.item_name,
                case_number: p.case_number.map(String::from),
                status: p.status,
            })
            .collect(),
    }
}

/// What keeps one part from being submitted, as issues naming the application.
fn issues(v: &PartView) -> Vec<Issue> {
    let app = v.part.application_id;
    let issue = super::cases::required_issue;
    let mut out = Vec::new();
    if v.unavailable {
        out.push(issue(format!("application:{app}:unavailable"), None));
    }
    if v.form_incomplete {
        out.push(issue(format!("application:{app}:answers"), None));
    }
    out.extend(
        v.materials
            .iter()
            .map(|m| issue(format!("application:{app}:material:{m}"), Some(m.clone()))),
    );
    out
}

/// Submits every part of a bundle at once: each complete draft becomes its own case (parts
/// submitted before are left as they are). When some part is incomplete nothing is submitted
/// and the issues say what is missing per application. Repeating the call creates nothing new.
#[utoipa::path(post, path = "/api/v1/bundles/{id}/submit", tag = "cases", operation_id = "submit_bundle",
    params(("id" = i64, Path, description = "Bundle id")),
    request_body = BundleSubmitBody,
    responses(
        (status = 200, description = "The bundle with its parts' cases", body = BundleDto),
        (status = 403, description = "Cross-site request refused (`Origin` or `Sec-Fetch-Site` names another site), or a part needs a verified identity (实名核验) and the applicant's is not verified (`identity_unverified`)", body = ErrorBody),
        (status = 404, description = "No such bundle of this applicant", body = ErrorBody),
        (status = 422, description = "Declaration not given, or some part incomplete (issues per application)", body = ErrorBody),
    ))]
pub async fn submit(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    me: CurrentApplicant,
    ClientAddr(client): ClientAddr,
    id: Result<Path<i64>, PathRejection>,
    body: Result<Json<BundleSubmitBody>, JsonRejection>,
) -> Result<Json<BundleDto>, AppError> {
    let a = super::cases::applicant(me, lang)?;
    let Path(id) = id.map_err(super::common::bad_id(lang))?;
    let b = super::cases::json_body(body, lang)?;
    let bundle = state.store.bundle(id, a.id).await?;
    if bundle.pending().next().is_none() {
        return Ok(Json(dto(bundle)));
    }
    if !b.declaration {
        return Err(AppError::json(ErrorCode::Required, lang));
    }
    let assessed = assess(&state.store, &a, &bundle).await?;
    if !complete(&assessed) {
        let mut e = AppError::json(ErrorCode::Required, lang);
        e.issues = assessed.iter().flat_map(|(v, _)| issues(v)).collect();
        return Err(e);
    }
    let calendar = state.calendar().await?;
    let clock = state.case_clock(&calendar);
    submit_all(&state.store, &a, &client, id, &assessed, clock).await?;
    let bundle = state.store.bundle(id, a.id).await?;
    Ok(Json(dto(bundle)))
}
