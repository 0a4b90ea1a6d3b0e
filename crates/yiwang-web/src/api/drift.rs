//! 四级四同: implementations of one standard item at one level that differ across regions, and
//! the share of each region's comparable implementations that follow the common practice (a
//! county bureau's implementation is compared with other county bureaus', a township office's
//! with other townships'). Public: it is computed from the published catalog only.

use super::common::{ApiLang, ErrorBody, keys_schema, parse_param};
use super::departments::known_region;
use crate::AppState;
use crate::error::AppError;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use yiwang_domain::RegionCode;
use yiwang_domain::drift::DriftReport;
use yiwang_domain::enums::{CodeSet, ExerciseLevel};
use yiwang_domain::policy::CatalogScope;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DriftQuery {
    /// Compare only implementations in this region's subtree.
    pub region: Option<String>,
    /// `zh-CN` (default) or `en` for error messages.
    #[allow(dead_code)]
    pub lang: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DriftImplementationDto {
    pub code: String,
    pub region: String,
    pub department_name: String,
    /// Aspects (`materials`, `limits`, `visits`, `online_depth`) where this implementation
    /// departs from the most common value.
    pub deviations: Vec<String>,
    /// The compared value of each aspect.
    pub values: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DriftItemDto {
    pub basic_code: String,
    pub name: String,
    /// The level of the implementations compared (one of the item's levels).
    #[schema(schema_with = keys_schema::<ExerciseLevel>)]
    pub level: String,
    /// Aspects on which the implementations do not all agree.
    pub differing: Vec<String>,
    pub implementations: Vec<DriftImplementationDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegionScoreDto {
    pub region: String,
    pub comparable: u32,
    pub conforming: u32,
    /// 0–100.
    pub score: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DriftReportDto {
    pub items: Vec<DriftItemDto>,
    pub regions: Vec<RegionScoreDto>,
}

impl From<DriftReport> for DriftReportDto {
    fn from(r: DriftReport) -> Self {
        Self {
            items: r
                .items
                .into_iter()
                .map(|i| DriftItemDto {
                    basic_code: i.basic_code,
                    name: i.name,
                    level: i.level.key().to_string(),
                    differing: i.differing.iter().map(|a| a.key().to_string()).collect(),
                    implementations: i
                        .implementations
                        .into_iter()
                        .map(|d| DriftImplementationDto {
                            code: d.code,
                            region: d.region.into(),
                            department_name: d.department_name,
                            deviations: d.deviations.iter().map(|a| a.key().to_string()).collect(),
                            values: d
                                .values
                                .into_iter()
                                .map(|(a, v)| (a.key().to_string(), v))
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
            regions: r
                .regions
                .into_iter()
                .map(|s| RegionScoreDto {
                    region: s.region.into(),
                    comparable: s.comparable,
                    conforming: s.conforming,
                    score: s.score,
                })
                .collect(),
        }
    }
}

/// The drift report of the published catalog.
#[utoipa::path(get, path = "/api/v1/drift", tag = "catalog", operation_id = "drift_report", params(DriftQuery),
    responses(
        (status = 200, description = "Differing implementations and region scores", body = DriftReportDto),
        (status = 422, description = "Malformed or unknown region", body = ErrorBody),
    ))]
pub async fn drift(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    query: Result<Query<DriftQuery>, QueryRejection>,
) -> Result<Json<DriftReportDto>, AppError> {
    let Query(q) = query.map_err(super::common::bad_query(lang))?;
    let region = parse_param(&q.region, "region", lang, RegionCode::parse)?;
    let scope = match &region {
        Some(r) => {
            known_region(&state, r, lang).await?;
            CatalogScope {
                all: false,
                grants: vec![(Some(r.clone()), None)],
            }
        }
        None => CatalogScope {
            all: true,
            grants: Vec::new(),
        },
    };
    let report = yiwang_app::catalog::drift(&state.store, &scope).await?;
    Ok(Json(report.into()))
}
