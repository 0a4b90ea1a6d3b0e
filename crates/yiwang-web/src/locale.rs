//! The reader's language: `?lang=` first, then the `lang` cookie; zh-CN otherwise. Accept-Language
//! is deliberately ignored: the platform speaks zh-CN unless the reader asks for English.

use axum::extract::FromRequestParts;
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
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl<S: Send + Sync> FromRequestParts<S> for Locale {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let from_query = parts.uri.query().and_then(|q| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == "lang")
                .and_then(|(_, v)| Lang::from_tag(v))
        });
        if let Some(lang) = from_query {
            return Ok(Locale {
                lang,
                explicit: true,
            });
        }
        let lang = cookie(parts, "lang")
            .and_then(Lang::from_tag)
            .unwrap_or_default();
        Ok(Locale::of(lang))
    }
}
