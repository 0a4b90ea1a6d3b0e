//! What every API handler shares: the reader's language, the JSON error helpers, query and
//! path rejections mapped to the closed error set, keyset cursors and the page size.

use crate::error::AppError;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayBuilder, Object, ObjectBuilder, SchemaType, Type};
use utoipa::{IntoParams, ToSchema};
use yiwang_domain::enums::CodeSet;
use yiwang_domain::{ErrorCode, Issue};
use yiwang_i18n::Lang;

/// Largest page of a keyset list.
pub const MAX_LIMIT: i64 = 200;
/// Page size when `limit` is not given.
pub const DEFAULT_LIMIT: i64 = 50;
/// Longest free-text filter value (a theme name), in characters.
pub const MAX_TEXT_FILTER: usize = 100;

pub use crate::locale::ApiLang;

/// A JSON error with one issue naming the offending parameter.
pub fn param_error(code: ErrorCode, lang: Lang, field: &str, value: &str) -> AppError {
    let mut e = AppError::json(code, lang);
    e.issues.push(Issue::new(code).field(field).detail(value));
    e
}

/// A query string that could not be decoded at all (bad percent-encoding, repeated keys).
pub fn bad_query(lang: Lang) -> impl Fn(axum::extract::rejection::QueryRejection) -> AppError {
    move |_| AppError::json(ErrorCode::InvalidInput, lang)
}

/// A path segment that could not be decoded (invalid UTF-8 after percent-decoding).
pub fn bad_path(lang: Lang) -> impl Fn(axum::extract::rejection::PathRejection) -> AppError {
    move |_| AppError::json(ErrorCode::InvalidInput, lang)
}

/// A numeric path id (`/applications/{id}`) that is not a number: the JSON envelope naming the
/// parameter, instead of the framework's plain-text 400.
pub fn bad_id(lang: Lang) -> impl Fn(axum::extract::rejection::PathRejection) -> AppError {
    move |_| {
        let mut e = AppError::json(ErrorCode::NotAnInteger, lang);
        e.issues
            .push(Issue::new(ErrorCode::NotAnInteger).field("id"));
        e
    }
}

/// An optional query value; empty means absent (HTML forms send empty fields).
pub fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Parses an optional query value with `parse`, naming `field` in the error.
pub fn parse_param<T>(
    v: &Option<String>,
    field: &str,
    lang: Lang,
    parse: impl FnOnce(&str) -> Result<T, ErrorCode>,
) -> Result<Option<T>, AppError> {
    present(v)
        .map(|s| parse(s).map_err(|c| param_error(c, lang, field, s)))
        .transpose()
}

/// `limit`: 1..=200, 50 when absent.
pub fn parse_limit(v: &Option<String>, lang: Lang) -> Result<i64, AppError> {
    let Some(s) = present(v) else {
        return Ok(DEFAULT_LIMIT);
    };
    let n: i64 = s
        .parse()
        .map_err(|_| param_error(ErrorCode::NotAnInteger, lang, "limit", s))?;
    if !(1..=MAX_LIMIT).contains(&n) {
        return Err(param_error(
            ErrorCode::OutOfRange,
            lang,
            "limit",
            &format!("1-{MAX_LIMIT}"),
        ));
    }
    Ok(n)
}

/// Keyset cursors are the hex form of the last key of the previous page. Clients treat them
/// as opaque; the key is re-checked with `check` when decoding.
pub fn encode_cursor(key: &str) -> String {
    hex::encode(key.as_bytes())
}

pub fn decode_cursor<T>(
    v: &Option<String>,
    lang: Lang,
    check: impl FnOnce(&str) -> Result<T, ErrorCode>,
) -> Result<Option<T>, AppError> {
    let Some(s) = present(v) else {
        return Ok(None);
    };
    let bad = || param_error(ErrorCode::InvalidCursor, lang, "after", s);
    let bytes = hex::decode(s).map_err(|_| bad())?;
    let key = String::from_utf8(bytes).map_err(|_| bad())?;
    check(&key).map(Some).map_err(|_| bad())
}

/// Splits a page fetched with `limit + 1` rows into the page and the next cursor.
pub fn split_page<T>(
    mut rows: Vec<T>,
    limit: i64,
    key: impl Fn(&T) -> &str,
) -> (Vec<T>, Option<String>) {
    let limit = usize::try_from(limit).unwrap_or(0);
    if rows.len() > limit {
        rows.truncate(limit);
        let next = rows.last().map(|r| encode_cursor(key(r)));
        (rows, next)
    } else {
        (rows, None)
    }
}

/// `?lang=` on operations that take no other query parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangQuery {
    /// Language of error messages: `zh-CN` (default) or `en`. `Accept-Language` is honoured too.
    #[allow(dead_code)]
    pub lang: Option<String>,
}

/// Keyset paging parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Page size, 1 to 200; 50 when absent.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// Language of error messages: `zh-CN` (default) or `en`.
    #[allow(dead_code)]
    pub lang: Option<String>,
}

/// The error envelope every failed API call returns.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    #[schema(schema_with = error_code_schema)]
    pub code: String,
    /// Human-readable message in the requested language.
    pub message: String,
    pub issues: Vec<IssueDto>,
}

/// One problem with the input: which parameter, what is wrong, and the offending value.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssueDto {
    pub sheet: Option<String>,
    pub row: Option<u64>,
    pub field: Option<String>,
    #[schema(schema_with = error_code_schema)]
    pub code: String,
    pub detail: Option<String>,
    pub message: String,
}

fn error_code_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some("One of a closed set of stable error codes."))
        .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.key())))
        .build()
}

/// A string schema listing the stable keys of an enumeration.
pub fn keys_schema<T: CodeSet>() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(T::ALL.iter().map(|v| v.key())))
        .build()
}

/// The same, or null.
pub fn nullable_keys_schema<T: CodeSet>() -> Object {
    let values: Vec<serde_json::Value> = T::ALL
        .iter()
        .map(|v| serde_json::Value::from(v.key()))
        .chain([serde_json::Value::Null])
        .collect();
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .enum_values(Some(values))
        .build()
}

/// An array of such keys.
pub fn keys_array_schema<T: CodeSet>() -> utoipa::openapi::schema::Array {
    ArrayBuilder::new().items(keys_schema::<T>()).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let c = encode_cursor("11120112MB1W167324000123001001");
        let back = decode_cursor(&Some(c), Lang::En, yiwang_domain::ImplCode::parse).unwrap();
        assert_eq!(back.unwrap().as_str(), "11120112MB1W167324000123001001");
        for junk in ["zz", "0", "ff", &encode_cursor("a b")] {
            let e = decode_cursor(
                &Some(junk.to_string()),
                Lang::En,
                yiwang_domain::ImplCode::parse,
            )
            .unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidCursor, "{junk}");
        }
        assert!(
            decode_cursor(&Some(" ".into()), Lang::En, yiwang_domain::ImplCode::parse)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn limits() {
        assert_eq!(parse_limit(&None, Lang::Zh).unwrap(), DEFAULT_LIMIT);
        assert_eq!(parse_limit(&Some("200".into()), Lang::Zh).unwrap(), 200);
        assert_eq!(
            parse_limit(&Some("0".into()), Lang::Zh).unwrap_err().code,
            ErrorCode::OutOfRange
        );
        assert_eq!(
            parse_limit(&Some("201".into()), Lang::Zh).unwrap_err().code,
            ErrorCode::OutOfRange
        );
        assert_eq!(
            parse_limit(&Some("x".into()), Lang::Zh).unwrap_err().code,
            ErrorCode::NotAnInteger
        );
    }

    #[test]
    fn pages_split() {
        let (rows, next) = split_page(vec!["a", "b", "c"], 2, |s| s);
        assert_eq!(rows, ["a", "b"]);
        assert_eq!(next, Some(encode_cursor("b")));
        let (rows, next) = split_page(vec!["a", "b"], 2, |s| s);
        assert_eq!(rows.len(), 2);
        assert!(next.is_none());
    }
}
