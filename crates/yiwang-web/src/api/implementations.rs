//! The published implementation list: filters by region subtree, department, theme, audience
//! and standard item, paged by implementation code (keyset).

use super::common::{
    ApiLang, ErrorBody, MAX_TEXT_FILTER, bad_query, decode_cursor, keys_schema, param_error,
    parse_limit, parse_param, present, split_page,
};
use super::departments::known_region;
use crate::AppState;
use crate::error::AppError;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yiwang_domain::enums::{CodeSet, OnlineDepth, TimeUnit};
use yiwang_domain::{BasicCode, CreditCode, ErrorCode, ImplCode, RegionCode};
use yiwang_store::{ImplementationFilter, ImplementationSummary};

/// A time limit: an amount of working or natural days.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimeLimitDto {
    pub amount: u32,
    #[schema(schema_with = keys_schema::<TimeUnit>)]
    pub unit: String,
}

/// One published implementation in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImplementationSummaryDto {
    #[schema(example = "11120112MB1W167324000123001001")]
    pub code: String,
    pub basic_code: String,
    /// The standard item's name.
    pub name: String,
    pub department_code: String,
    pub department_name: String,
    pub region: String,
    #[schema(schema_with = keys_schema::<OnlineDepth>)]
    pub online_depth: String,
    /// In-person visits needed.
    pub visits: i64,
    pub promised_limit: TimeLimitDto,
}

impl From<ImplementationSummary> for ImplementationSummaryDto {
    fn from(s: ImplementationSummary) -> Self {
        Self {
            code: s.code,
            basic_code: s.basic_code,
            name: s.name,
            department_code: s.department_code,
            department_name: s.department_name,
            region: s.region_code,
            online_depth: s.online_depth.key().to_string(),
            visits: s.visits,
            promised_limit: TimeLimitDto {
                amount: u32::try_from(s.promised_amount).unwrap_or(0),
                unit: s.promised_unit.key().to_string(),
            },
        }
    }
}

/// One page of published implementations.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImplementationPage {
    pub items: Vec<ImplementationSummaryDto>,
    /// Cursor for the next page (pass as `after`); null on the last page.
    pub next: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImplementationQuery {
    /// Only implementations in this region's subtree (2, 4, 6, 9 or 12 digits).
    pub region: Option<String>,
    /// Only this department's implementations (unified social credit code).
    pub department: Option<String>,
    /// Only implementations carrying this service theme.
    pub theme: Option<String>,
    /// `person`: for natural persons; `legal`: for enterprises and other organisations.
    #[param(value_type = Option<String>, pattern = "^(person|legal)?$")]
    pub audience: Option<String>,
    /// Only implementations of this standard item.
    pub basic_code: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Page size, 1 to 200; 50 when absent.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// Language of error messages: `zh-CN` (default) or `en`.
    #[allow(dead_code)]
    pub lang: Option<String>,
}

fn audience(s: &str) -> Result<bool, ErrorCode> {
    match s {
        "person" => Ok(true),
        "legal" => Ok(false),
        _ => Err(ErrorCode::UnknownEnumValue),
    }
}

/// Published implementations ordered by code.
#[utoipa::path(get, path = "/api/v1/implementations", tag = "catalog", operation_id = "list_implementations", params(ImplementationQuery),
    responses(
        (status = 200, description = "One page of published implementations", body = ImplementationPage),
        (status = 422, description = "Malformed filter, cursor or limit; unknown region or department", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    query: Result<Query<ImplementationQuery>, QueryRejection>,
) -> Result<Json<ImplementationPage>, AppError> {
    let Query(q) = query.map_err(bad_query(lang))?;
    let theme = present(&q.theme).map(str::to_string);
    if let Some(t) = &theme
        && t.chars().count() > MAX_TEXT_FILTER
    {
        return Err(param_error(ErrorCode::TooLong, lang, "theme", t));
    }
    let filter = ImplementationFilter {
        region: parse_param(&q.region, "region", lang, RegionCode::parse)?,
        department: parse_param(&q.department, "department", lang, CreditCode::parse)?,
        theme,
        persons: parse_param(&q.audience, "audience", lang, audience)?,
        basic_code: parse_param(&q.basic_code, "basic_code", lang, BasicCode::parse)?,
        name_contains: None,
    };
    let limit = parse_limit(&q.limit, lang)?;
    let after = decode_cursor(&q.after, lang, ImplCode::parse)?;
    if let Some(r) = &filter.region {
        known_region(&state, r, lang).await?;
    }
    if let Some(d) = &filter.department
        && state.store.department(d).await?.is_none()
    {
        return Err(param_error(
            ErrorCode::UnknownDepartment,
            lang,
            "department",
            d.as_str(),
        ));
    }
    let rows = state
        .store
        .list_published(&filter, after.as_ref().map(ImplCode::as_str), limit + 1)
        .await?;
    let (rows, next) = split_page(rows, limit, |s| s.code.as_str());
    Ok(Json(ImplementationPage {
        items: rows
            .into_iter()
            .map(ImplementationSummaryDto::from)
            .collect(),
        next,
    }))
}
