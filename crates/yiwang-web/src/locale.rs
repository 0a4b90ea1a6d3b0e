//! The reader's language: `?lang=` first, then the `lang` cookie; zh-CN otherwise. Accept-Language
//! is deliberately ignored: the platform speaks zh-CN unless the reader asks for English.
//! The same goes for the elderly mode (长辈版): `?elder=1|0` first, then the `elder` cookie. The
//! security middleware turns a choice made by query string into a cookie (`remember_choices`),
//! so it holds on every later page without carrying it in links.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use std::convert::Infallible;
use yiwang_i18n::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locale {
    pub lang: Lang,
    /// True when the language came from the query string (links then carry it on).
    pub explicit: bool,
    /// The elderly mode (长辈版): larger type and controls, high contrast, simpler pages.
    pub elder: bool,
}

impl Locale {
    pub fn of(lang: Lang) -> Self {
        Self {
            lang,
            explicit: false,
            elder: false,
        }
    }
}

/// Cookie names of the reader's display choices.
pub const LANG_COOKIE: &str = "lang";
pub const ELDER_COOKIE: &str = "elder";

/// The value of `name` in a query string (first occurrence).
fn query_value<'a>(uri: &'a axum::http::Uri, name: &str) -> Option<&'a str> {
    uri.query()?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `elder=1` / `elder=0` as a choice; anything else is no choice.
fn elder_flag(v: &str) -> Option<bool> {
    match v {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    }
}

/// The display choices a request makes by query string, as `Set-Cookie` values (a year long,
/// first-party, readable only by the server): the language and the elderly mode.
pub fn remembered_choices(uri: &axum::http::Uri) -> Vec<String> {
    const YEAR: u32 = 365 * 24 * 3600;
    let mut out = Vec::new();
    if let Some(lang) = query_value(uri, "lang").and_then(Lang::from_tag) {
        out.push(format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age={YEAR}; SameSite=Lax; HttpOnly",
            lang.tag()
        ));
    }
    if let Some(on) = query_value(uri, "elder").and_then(elder_flag) {
        out.push(format!(
            "{ELDER_COOKIE}={}; Path=/; Max-Age={YEAR}; SameSite=Lax; HttpOnly",
            u8::from(on)
        ));
    }
    out
}

pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    header_cookie(&parts.headers, name)
}

/// The value of cookie `name` in a header block.
pub fn header_cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl Locale {
    /// The reader's language from a request's query and cookies (what the extractor answers;
    /// the security middleware asks before the handler runs, to render page errors).
    pub fn of_request(uri: &axum::http::Uri, headers: &axum::http::HeaderMap) -> Self {
        let elder = query_value(uri, "elder")
            .and_then(elder_flag)
            .or_else(|| header_cookie(headers, ELDER_COOKIE).and_then(elder_flag))
            .unwrap_or(false);
        if let Some(lang) = query_value(uri, "lang").and_then(Lang::from_tag) {
            return Locale {
                lang,
                explicit: true,
                elder,
            };
        }
        let lang = header_cookie(headers, LANG_COOKIE)
            .and_then(Lang::from_tag)
            .unwrap_or_default();
        Locale {
            lang,
            explicit: false,
            elder,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Locale {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Locale::of_request(&parts.uri, &parts.headers))
    }
}

/// The API's language: `?lang=` first, then `Accept-Language`, then the `lang` cookie; zh-CN
/// otherwise. (Pages ignore Accept-Language; API clients set it deliberately.)
#[derive(Debug, Clone, Copy)]
pub struct ApiLang(pub Lang);

impl ApiLang {
    /// The API's language rule: `lang=` in the query, else `Accept-Language`, else the cookie.
    pub fn of_request(uri: &axum::http::Uri, headers: &axum::http::HeaderMap) -> Lang {
        let locale = Locale::of_request(uri, headers);
        if locale.explicit {
            return locale.lang;
        }
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Lang::from_accept_language)
            .unwrap_or(locale.lang)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ApiLang {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ApiLang(ApiLang::of_request(&parts.uri, &parts.headers)))
    }
}
