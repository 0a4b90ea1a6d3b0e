//! 行政区划: one region, its children, its path from the province, and the provinces.

use super::common::{ApiLang, ErrorBody, LangQuery, bad_path};
use crate::AppState;
use crate::error::AppError;
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;
use yiwang_domain::{ErrorCode, RegionCode};
use yiwang_i18n::Lang;
use yiwang_store::Region;

/// One administrative division.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionDto {
    /// 12-digit statistical division code.
    #[schema(example = "120112000000")]
    pub code: String,
    pub name: String,
    #[schema(schema_with = level_schema)]
    pub level: String,
    /// The parent's code; null for a province.
    pub parent: Option<String>,
}

fn level_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["province", "city", "county", "township", "village"]))
        .build()
}

impl From<Region> for RegionDto {
    fn from(r: Region) -> Self {
        Self {
            code: r.code.into(),
            name: r.name,
            level: r.level.key().to_string(),
            parent: r.parent.map(String::from),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegionList {
    pub items: Vec<RegionDto>,
}

impl RegionList {
    fn of(regions: Vec<Region>) -> Json<Self> {
        Json(Self {
            items: regions.into_iter().map(RegionDto::from).collect(),
        })
    }
}

fn region_code(
    path: Result<Path<String>, PathRejection>,
    lang: Lang,
) -> Result<RegionCode, AppError> {
    let Path(raw) = path.map_err(bad_path(lang))?;
    RegionCode::parse(&raw).map_err(|c| AppError::json(c, lang))
}

async fn existing(state: &AppState, code: &RegionCode, lang: Lang) -> Result<Region, AppError> {
    state
        .store
        .region(code)
        .await?
        .ok_or_else(|| AppError::json(ErrorCode::NotFound, lang))
}

/// The provinces.
#[utoipa::path(get, path = "/api/v1/regions", tag = "regions", operation_id = "list_provinces", params(LangQuery),
    responses((status = 200, description = "Every province", body = RegionList)))]
pub async fn provinces(State(state): State<AppState>) -> Result<Json<RegionList>, AppError> {
    let regions = state.store.region_children(None).await?;
    Ok(RegionList::of(regions))
}

/// One region.
#[utoipa::path(get, path = "/api/v1/regions/{code}", tag = "regions", operation_id = "get_region",
    params(("code" = String, Path, description = "Region code: 2, 4, 6, 9 or 12 digits"), LangQuery),
    responses(
        (status = 200, description = "The region", body = RegionDto),
        (status = 404, description = "No such region", body = ErrorBody),
        (status = 422, description = "Malformed region code", body = ErrorBody),
    ))]
pub async fn region(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<RegionDto>, AppError> {
    let code = region_code(path, lang)?;
    Ok(Json(existing(&state, &code, lang).await?.into()))
}

/// The direct children of a region.
#[utoipa::path(get, path = "/api/v1/regions/{code}/children", tag = "regions", operation_id = "list_region_children",
    params(("code" = String, Path, description = "Region code: 2, 4, 6, 9 or 12 digits"), LangQuery),
    responses(
        (status = 200, description = "The direct children, by code", body = RegionList),
        (status = 404, description = "No such region", body = ErrorBody),
        (status = 422, description = "Malformed region code", body = ErrorBody),
    ))]
pub async fn children(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<RegionList>, AppError> {
    let code = region_code(path, lang)?;
    existing(&state, &code, lang).await?;
    let regions = state.store.region_children(Some(&code)).await?;
    Ok(RegionList::of(regions))
}

/// The regions from the province down to this one, inclusive.
#[utoipa::path(get, path = "/api/v1/regions/{code}/path", tag = "regions", operation_id = "get_region_path",
    params(("code" = String, Path, description = "Region code: 2, 4, 6, 9 or 12 digits"), LangQuery),
    responses(
        (status = 200, description = "From the province down to the region", body = RegionList),
        (status = 404, description = "No such region", body = ErrorBody),
        (status = 422, description = "Malformed region code", body = ErrorBody),
    ))]
pub async fn region_path(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<RegionList>, AppError> {
    let code = region_code(path, lang)?;
    let regions = state.store.region_path(&code).await?;
    if regions.last().is_none_or(|r| r.code != code) {
        return Err(AppError::json(ErrorCode::NotFound, lang));
    }
    Ok(RegionList::of(regions))
}
