//! 基本目录: the standard items, paged by basic code.

use super::common::{
    ApiLang, ErrorBody, PageQuery, bad_query, decode_cursor, keys_array_schema, keys_schema,
    parse_limit, split_page,
};
use crate::AppState;
use crate::error::AppError;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::Serialize;
use utoipa::ToSchema;
use yiwang_domain::BasicCode;
use yiwang_domain::catalog::StandardItem;
use yiwang_domain::enums::{CodeSet, ExerciseLevel, ItemType};

/// An item of the basic catalog; implementations may not change these fields.
#[derive(Debug, Serialize, ToSchema)]
pub struct StandardItemDto {
    #[schema(example = "000123001")]
    pub basic_code: String,
    pub name: String,
    #[schema(schema_with = keys_schema::<ItemType>)]
    pub item_type: String,
    /// 行使层级: the administrative levels at which the item is exercised (each implementation
    /// has one of them), from national down to village.
    #[schema(schema_with = keys_array_schema::<ExerciseLevel>)]
    pub levels: Vec<String>,
    pub legal_basis: String,
}

impl From<StandardItem> for StandardItemDto {
    fn from(s: StandardItem) -> Self {
        Self {
            basic_code: s.basic_code.into(),
            name: s.name,
            item_type: s.item_type.key().to_string(),
            levels: s.levels.iter().map(|l| l.key().to_string()).collect(),
            legal_basis: s.legal_basis,
        }
    }
}

/// One page of standard items.
#[derive(Debug, Serialize, ToSchema)]
pub struct StandardItemPage {
    pub items: Vec<StandardItemDto>,
    /// Cursor for the next page (pass as `after`); null on the last page.
    pub next: Option<String>,
}

/// Standard items ordered by basic code.
#[utoipa::path(get, path = "/api/v1/standard-items", tag = "catalog", operation_id = "list_standard_items", params(PageQuery),
    responses(
        (status = 200, description = "One page of standard items", body = StandardItemPage),
        (status = 422, description = "Malformed cursor or limit", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Json<StandardItemPage>, AppError> {
    let Query(q) = query.map_err(bad_query(lang))?;
    let limit = parse_limit(&q.limit, lang)?;
    let after = decode_cursor(&q.after, lang, BasicCode::parse)?;
    let rows = state
        .store
        .standard_items(after.as_ref().map(BasicCode::as_str), limit + 1)
        .await?;
    let (rows, next) = split_page(rows, limit, |s| s.basic_code.as_str());
    Ok(Json(StandardItemPage {
        items: rows.into_iter().map(StandardItemDto::from).collect(),
        next,
    }))
}
