//! One published implementation with its standard item, materials and handling items. The hot
//! path: answers come from the catalog cache as ready-made JSON, re-validated against the
//! store's catalog generation at most once a second.

use super::common::{
    ApiLang, ErrorBody, LangQuery, bad_path, keys_array_schema, keys_schema, nullable_keys_schema,
};
use super::implementations::TimeLimitDto;
use super::standard_items::StandardItemDto;
use crate::AppState;
use crate::error::AppError;
use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;
use yiwang_domain::catalog::{HandlingItem, MaterialRequirement, TimeLimit};
use yiwang_domain::enums::{
    AnywhereScope, Audience, CaseType, Channel, CodeSet, ExerciseLevel, HandlingKind, OnlineDepth,
};
use yiwang_domain::{ErrorCode, ImplCode};
use yiwang_i18n::Lang;
use yiwang_store::PublishedImplementation;

/// A column a file had beyond the standard ones, kept as given.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExtraDto {
    pub name: String,
    pub value: String,
}

fn extras(v: &[(String, String)]) -> Vec<ExtraDto> {
    v.iter()
        .map(|(name, value)| ExtraDto {
            name: name.clone(),
            value: value.clone(),
        })
        .collect()
}

/// An application material.
#[derive(Debug, Serialize, ToSchema)]
pub struct MaterialDto {
    pub name: String,
    pub issuer: String,
    pub originals: u32,
    pub copies: u32,
    pub mandatory: bool,
    /// The e-licence type that can replace the paper document; empty when none.
    pub licence_type: String,
    pub instructions: String,
    pub extras: Vec<ExtraDto>,
}

impl From<&MaterialRequirement> for MaterialDto {
    fn from(m: &MaterialRequirement) -> Self {
        Self {
            name: m.name.clone(),
            issuer: m.issuer.clone(),
            originals: m.originals,
            copies: m.copies,
            mandatory: m.mandatory,
            licence_type: m.licence_type.clone(),
            instructions: m.instructions.clone(),
            extras: extras(&m.extras),
        }
    }
}

/// A variant of the implementation (new, change, renew, cancel).
#[derive(Debug, Serialize, ToSchema)]
pub struct HandlingItemDto {
    #[schema(schema_with = keys_schema::<HandlingKind>)]
    pub kind: String,
    pub name: String,
}

impl From<&HandlingItem> for HandlingItemDto {
    fn from(h: &HandlingItem) -> Self {
        Self {
            kind: h.kind.key().to_string(),
            name: h.name.clone(),
        }
    }
}

/// The current published version of an implementation: everything a guide needs.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImplementationDto {
    #[schema(example = "11120112MB1W167324000123001001")]
    pub code: String,
    /// Version number; each publish of a change adds one.
    pub version: i64,
    /// When this version was published, epoch milliseconds.
    pub published_at: Option<i64>,
    pub standard_item: StandardItemDto,
    pub department_code: String,
    pub department_name: String,
    /// 12-digit region code.
    pub region: String,
    /// The level of this implementation, one of the standard item's `levels`.
    #[schema(schema_with = keys_schema::<ExerciseLevel>)]
    pub level: String,
    pub acceptance_conditions: String,
    pub statutory_limit: TimeLimitDto,
    pub promised_limit: TimeLimitDto,
    #[schema(schema_with = keys_schema::<CaseType>)]
    pub case_type: String,
    /// In-person visits needed.
    pub visits: u8,
    #[schema(schema_with = keys_schema::<OnlineDepth>)]
    pub online_depth: String,
    pub charged: bool,
    pub fee_basis: String,
    #[schema(schema_with = keys_array_schema::<Audience>)]
    pub audiences: Vec<String>,
    pub themes: Vec<String>,
    #[schema(schema_with = keys_array_schema::<Channel>)]
    pub channels: Vec<String>,
    /// Where the item can be handled from anywhere; null when it cannot.
    #[schema(schema_with = nullable_keys_schema::<AnywhereScope>)]
    pub anywhere: Option<String>,
    pub hall_address: String,
    pub hours: String,
    pub consult_phone: String,
    pub complaint_phone: String,
    pub result_name: String,
    pub extras: Vec<ExtraDto>,
    pub handling_items: Vec<HandlingItemDto>,
    pub materials: Vec<MaterialDto>,
}

fn limit(l: TimeLimit) -> TimeLimitDto {
    TimeLimitDto {
        amount: l.amount,
        unit: l.unit.key().to_string(),
    }
}

fn keys<T: CodeSet>(v: &[T]) -> Vec<String> {
    v.iter().map(|x| x.key().to_string()).collect()
}

impl From<PublishedImplementation> for ImplementationDto {
    fn from(p: PublishedImplementation) -> Self {
        let i = p.implementation;
        Self {
            code: i.code.into(),
            version: p.version,
            published_at: p.published_at,
            standard_item: p.standard.into(),
            department_code: i.department_code.into(),
            department_name: i.department_name,
            region: i.region.into(),
            level: i.level.key().to_string(),
            acceptance_conditions: i.acceptance_conditions,
            statutory_limit: limit(i.statutory_limit),
            promised_limit: limit(i.promised_limit),
            case_type: i.case_type.key().to_string(),
            visits: i.visits,
            online_depth: i.online_depth.key().to_string(),
            charged: i.charged,
            fee_basis: i.fee_basis,
            audiences: keys(&i.audiences),
            themes: i.themes,
            channels: keys(&i.channels),
            anywhere: i.anywhere.map(|a| a.key().to_string()),
            hall_address: i.hall_address,
            hours: i.hours,
            consult_phone: i.consult_phone,
            complaint_phone: i.complaint_phone,
            result_name: i.result_name,
            extras: extras(&i.extras),
            handling_items: i.handling_items.iter().map(HandlingItemDto::from).collect(),
            materials: i.materials.iter().map(MaterialDto::from).collect(),
        }
    }
}

/// Lets the cached `Arc<str>` be the response body without copying it.
struct SharedJson(Arc<str>);

impl AsRef<[u8]> for SharedJson {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

fn json_response(body: Arc<str>) -> Response {
    let mut res = Response::new(Body::from(Bytes::from_owner(SharedJson(body))));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// The cached JSON of a published implementation, loading it on a miss; `None` when there is
/// no published version of `code`.
async fn cached(
    state: &AppState,
    code: &ImplCode,
    lang: Lang,
) -> Result<Option<Arc<str>>, AppError> {
    let cache = &state.cache;
    cache.refresh(&state.store, state.now_ms()).await?;
    if let Some(body) = cache.get(code.as_str()) {
        return Ok(Some(body));
    }
    // Remember the generation the load belongs to, so a publish that lands meanwhile
    // cannot leave an outdated answer in the cache.
    let generation = cache.generation();
    let Some(p) = state.store.published_implementation(code).await? else {
        return Ok(None);
    };
    let json = serde_json::to_string(&ImplementationDto::from(p))
        .map_err(|_| AppError::json(ErrorCode::Internal, lang))?;
    let body: Arc<str> = json.into();
    cache.put_for(generation, code.as_str(), body.clone());
    Ok(Some(body))
}

/// One published implementation.
#[utoipa::path(get, path = "/api/v1/implementations/{code}", tag = "catalog", operation_id = "get_implementation",
    params(("code" = String, Path, description = "Implementation code (up to 36 letters, digits or hyphens)"), LangQuery),
    responses(
        (status = 200, description = "The current published version", body = ImplementationDto),
        (status = 404, description = "No published implementation with this code", body = ErrorBody),
        (status = 422, description = "Malformed implementation code", body = ErrorBody),
    ))]
pub async fn implementation(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let Path(raw) = path.map_err(bad_path(lang))?;
    let code = ImplCode::parse(&raw).map_err(|c| AppError::json(c, lang))?;
    match cached(&state, &code, lang).await? {
        Some(body) => Ok(json_response(body)),
        None => Err(AppError::json(ErrorCode::NotFound, lang)),
    }
}
