//! 部门: the departments of a region's subtree, and one department by its credit code.

use super::common::{ApiLang, ErrorBody, LangQuery, bad_path, bad_query, parse_param};
use crate::AppState;
use crate::error::AppError;
use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yiwang_domain::catalog::Department;
use yiwang_domain::{CreditCode, ErrorCode, RegionCode};
use yiwang_i18n::Lang;

/// A government body.
#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentDto {
    /// Unified social credit code (GB 32100, 18 characters).
    #[schema(example = "11120112MB1W167324")]
    pub credit_code: String,
    pub name: String,
    /// 12-digit code of the region the department belongs to.
    pub region: String,
}

impl From<Department> for DepartmentDto {
    fn from(d: Department) -> Self {
        Self {
            credit_code: d.credit_code.into(),
            name: d.name,
            region: d.region.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DepartmentList {
    pub items: Vec<DepartmentDto>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DepartmentQuery {
    /// Only departments in this region's subtree (2, 4, 6, 9 or 12 digits).
    pub region: Option<String>,
    /// Language of error messages: `zh-CN` (default) or `en`.
    #[allow(dead_code)]
    pub lang: Option<String>,
}

/// Checks that a region filter names an existing region.
pub(super) async fn known_region(
    state: &AppState,
    code: &RegionCode,
    lang: Lang,
) -> Result<(), AppError> {
    match state.store.region(code).await? {
        Some(_) => Ok(()),
        None => Err(super::common::param_error(
            ErrorCode::UnknownRegion,
            lang,
            "region",
            code.as_str(),
        )),
    }
}

/// Departments, by region then name.
#[utoipa::path(get, path = "/api/v1/departments", tag = "departments", operation_id = "list_departments", params(DepartmentQuery),
    responses(
        (status = 200, description = "Departments by region, then name", body = DepartmentList),
        (status = 422, description = "Malformed or unknown region", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    query: Result<Query<DepartmentQuery>, QueryRejection>,
) -> Result<Json<DepartmentList>, AppError> {
    let Query(q) = query.map_err(bad_query(lang))?;
    let region = parse_param(&q.region, "region", lang, RegionCode::parse)?;
    if let Some(r) = &region {
        known_region(&state, r, lang).await?;
    }
    let items = state.store.departments(region.as_ref()).await?;
    Ok(Json(DepartmentList {
        items: items.into_iter().map(DepartmentDto::from).collect(),
    }))
}

/// One department.
#[utoipa::path(get, path = "/api/v1/departments/{credit_code}", tag = "departments", operation_id = "get_department",
    params(("credit_code" = String, Path, description = "Unified social credit code (18 characters)"), LangQuery),
    responses(
        (status = 200, description = "The department", body = DepartmentDto),
        (status = 404, description = "No such department", body = ErrorBody),
        (status = 422, description = "Malformed credit code or wrong check character", body = ErrorBody),
    ))]
pub async fn department(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<DepartmentDto>, AppError> {
    let Path(raw) = path.map_err(bad_path(lang))?;
    let code = CreditCode::parse(&raw).map_err(|c| AppError::json(c, lang))?;
    let d = state
        .store
        .department(&code)
        .await?
        .ok_or_else(|| AppError::json(ErrorCode::NotFound, lang))?;
    Ok(Json(d.into()))
}
