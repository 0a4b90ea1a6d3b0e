//! `GET /api/v1/search`: service search in plain Chinese (synonyms, pinyin, typos,
//! traditional characters), the reader's region first, with optional facets and score
//! explanations. Never a query-syntax error: any text is a valid query.

use super::common::{ApiLang, ErrorBody, bad_query, param_error, parse_param, present};
use crate::AppState;
use crate::error::AppError;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yiwang_domain::enums::{CodeSet, ExerciseLevel};
use yiwang_domain::{ErrorCode, RegionCode};
use yiwang_search::engine::{MAX_LIMIT, SearchRequest};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// What the citizen typed: Chinese (simplified or traditional), pinyin or initials. Cut to
    /// 64 characters; punctuation and query syntax are ignored.
    pub q: Option<String>,
    /// The reader's region (2–12 digits): its implementations first, then its parents'; other
    /// regions are left out.
    pub region: Option<String>,
    /// Only this department (unified social credit code).
    pub department: Option<String>,
    /// Only this service theme.
    pub theme: Option<String>,
    /// `person` or `legal`.
    #[param(value_type = Option<String>, pattern = "^(person|legal)?$")]
    pub audience: Option<String>,
    /// Only this exercise level (`county`, `township`, …).
    pub level: Option<String>,
    /// Items to skip, 0 to 200.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 200)]
    pub offset: Option<String>,
    /// Items to return, 1 to 100; 10 when absent.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// `true` to get facet counts (department, theme, audience, level).
    #[param(value_type = Option<bool>)]
    pub facets: Option<String>,
    /// `true` to add each hit's score explanation.
    #[param(value_type = Option<bool>)]
    pub debug: Option<String>,
    /// Language of error messages: `zh-CN` (default) or `en`.
    #[allow(dead_code)]
    pub lang: Option<String>,
}

/// One rewrite of the query.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExpansionDto {
    /// `synonym`, `pinyin` or `typo`.
    pub kind: String,
    pub from: String,
    pub to: Vec<String>,
}

/// How the query was understood.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnderstandingDto {
    /// The normalised query (simplified characters, lower case, no punctuation).
    pub text: String,
    /// True when the query was cut to 64 characters.
    pub cut: bool,
    /// Search terms with their weights.
    pub terms: Vec<TermDto>,
    pub expansions: Vec<ExpansionDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TermDto {
    pub term: String,
    pub weight: f32,
}

/// Why a hit matched: a field and the query terms found in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchDto {
    /// `exact_name`, `synonym_name` (a synonym of the query names the item; `terms` are the
    /// phrasings), `name`, `keywords`, `department`, `materials` or `conditions`.
    pub field: String,
    pub terms: Vec<String>,
}

/// One item found, represented by the implementation closest to the reader's region.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHitDto {
    /// Implementation code (实施编码).
    pub code: String,
    pub basic_code: String,
    pub name: String,
    pub department_code: String,
    pub department_name: String,
    pub region: String,
    /// `any` (no region chosen), `same`, `parent` or `child`.
    pub region_match: String,
    pub score: f32,
    pub online_depth: String,
    pub visits: u8,
    pub matched: Vec<MatchDto>,
    /// Other implementations of the same item that matched (other regions).
    pub other_implementations: usize,
    /// Score explanation (with `debug=true`).
    #[schema(value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FacetCountDto {
    pub value: String,
    pub count: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FacetsDto {
    pub department: Vec<FacetCountDto>,
    pub theme: Vec<FacetCountDto>,
    pub audience: Vec<FacetCountDto>,
    pub level: Vec<FacetCountDto>,
}

/// A life event (一件事) the query names.
#[derive(Debug, Serialize, ToSchema)]
pub struct LifeEventHitDto {
    pub code: String,
    pub name: String,
    pub summary: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResponse {
    pub query: UnderstandingDto,
    pub hits: Vec<SearchHitDto>,
    /// Items found among the best matches.
    pub estimated_total_hits: usize,
    pub facet_distribution: Option<FacetsDto>,
    pub life_events: Vec<LifeEventHitDto>,
    /// Time spent searching in the server, in milliseconds.
    pub processing_time_ms: f64,
}

fn flag(v: &Option<String>, field: &str, lang: yiwang_i18n::Lang) -> Result<bool, AppError> {
    match present(v) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(s) => Err(param_error(ErrorCode::InvalidInput, lang, field, s)),
    }
}

fn number(
    v: &Option<String>,
    field: &str,
    lang: yiwang_i18n::Lang,
    range: std::ops::RangeInclusive<usize>,
    default: usize,
) -> Result<usize, AppError> {
    let Some(s) = present(v) else {
        return Ok(default);
    };
    let n: usize = s
        .parse()
        .map_err(|_| param_error(ErrorCode::NotAnInteger, lang, field, s))?;
    if !range.contains(&n) {
        return Err(param_error(
            ErrorCode::OutOfRange,
            lang,
            field,
            &format!("{}-{}", range.start(), range.end()),
        ));
    }
    Ok(n)
}

/// Searches the published catalog.
#[utoipa::path(get, path = "/api/v1/search", tag = "search", operation_id = "search", params(SearchParams),
    responses(
        (status = 200, description = "Items found (an empty or meaningless query gives no hits)", body = SearchResponse),
        (status = 422, description = "Malformed filter, offset or limit", body = ErrorBody),
    ))]
pub async fn search(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    query: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Json<SearchResponse>, AppError> {
    let Query(p) = query.map_err(bad_query(lang))?;
    let region = parse_param(&p.region, "region", lang, RegionCode::parse)?;
    let audience = parse_param(&p.audience, "audience", lang, |s| match s {
        "person" | "legal" => Ok(s.to_string()),
        _ => Err(ErrorCode::UnknownEnumValue),
    })?;
    let level = parse_param(&p.level, "level", lang, |s| {
        ExerciseLevel::from_key(s)
            .map(|l| l.key().to_string())
            .ok_or(ErrorCode::UnknownEnumValue)
    })?;
    let text_filter = |v: &Option<String>, field: &str| -> Result<Option<String>, AppError> {
        match present(v) {
            Some(s) if s.chars().count() > 100 => {
                Err(param_error(ErrorCode::TooLong, lang, field, ""))
            }
            other => Ok(other.map(str::to_string)),
        }
    };
    let req = SearchRequest {
        q: p.q.clone().unwrap_or_default(),
        region,
        department: text_filter(&p.department, "department")?,
        theme: text_filter(&p.theme, "theme")?,
        audience,
        level,
        offset: number(&p.offset, "offset", lang, 0..=200, 0)?,
        limit: number(&p.limit, "limit", lang, 1..=MAX_LIMIT, 10)?,
        facets: flag(&p.facets, "facets", lang)?,
        debug: flag(&p.debug, "debug", lang)?,
    };
    let internal = |e: yiwang_search::SearchError| {
        tracing::error!(error = %e, "search");
        AppError::json(ErrorCode::Internal, lang)
    };
    let engine = state
        .search
        .engine(&state.store, state.now_ms())
        .await
        .map_err(internal)?;
    let res = engine.search(&req).map_err(internal)?;
    let counts = |v: Vec<yiwang_search::engine::FacetCount>| {
        v.into_iter()
            .map(|c| FacetCountDto {
                value: c.value,
                count: c.count,
            })
            .collect()
    };
    let key = |v: &dyn erased::Key| v.key();
    Ok(Json(SearchResponse {
        query: UnderstandingDto {
            text: res.understanding.text,
            cut: res.understanding.cut,
            terms: res
                .understanding
                .terms
                .into_iter()
                .map(|t| TermDto {
                    term: t.term,
                    weight: t.weight,
                })
                .collect(),
            expansions: res
                .understanding
                .expansions
                .into_iter()
                .map(|e| ExpansionDto {
                    kind: key(&e.kind),
                    from: e.from,
                    to: e.to,
                })
                .collect(),
        },
        hits: res
            .hits
            .into_iter()
            .map(|h| SearchHitDto {
                region_match: key(&h.region_match),
                code: h.code,
                basic_code: h.basic_code,
                name: h.name,
                department_code: h.department_code,
                department_name: h.department_name,
                region: h.region,
                score: h.score,
                online_depth: h.info.online_depth,
                visits: h.info.visits,
                matched: h
                    .matched
                    .into_iter()
                    .map(|m| MatchDto {
                        field: m.field.to_string(),
                        terms: m.terms,
                    })
                    .collect(),
                other_implementations: h.other_implementations,
                explanation: h.explanation,
            })
            .collect(),
        estimated_total_hits: res.estimated_total,
        facet_distribution: res.facets.map(|f| FacetsDto {
            department: counts(f.department),
            theme: counts(f.theme),
            audience: counts(f.audience),
            level: counts(f.level),
        }),
        life_events: res
            .life_events
            .into_iter()
            .map(|e| LifeEventHitDto {
                code: e.code,
                name: e.name,
                summary: e.summary,
            })
            .collect(),
        processing_time_ms: std::time::Duration::from_micros(res.took_us).as_secs_f64() * 1000.0,
    }))
}

/// The snake_case key of a serialisable unit enum.
mod erased {
    pub trait Key {
        fn key(&self) -> String;
    }
    impl<T: serde::Serialize> Key for T {
        fn key(&self) -> String {
            match serde_json::to_value(self) {
                Ok(serde_json::Value::String(s)) => s,
                _ => String::new(),
            }
        }
    }
}
