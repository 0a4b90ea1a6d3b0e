//! The reader's language: `?lang=` first, then the `lang` cookie; zh-CN otherwise. Accept-Language
//! is deliberately ignored: the platform speaks zh-CN unless the reader asks for English.

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
}

impl Locale {
    pub fn of(lang: Lang) -> Self {
        Self {
            lang,
            explicit: false,
        }
    }
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
        let from_query = uri.query().and_then(|q| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == "lang")
                .and_then(|(_, v)| Lang::from_tag(v))
        });
        if let Some(lang) = from_query {
            return Locale {
                lang,
                explicit: true,
            };
        }
        let lang = header_cookie(headers, "lang")
            .and_then(Lang::from_tag)
            .unwrap_or_default();
        Locale::of(lang)
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
