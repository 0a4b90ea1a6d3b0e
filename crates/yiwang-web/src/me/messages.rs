//! The in-site message centre: every status change of the applicant's cases, newest first.
//! Opening the page marks the shown messages read.

use super::{CurrentApplicant, page};
use crate::AppState;
use crate::html::{PageResult, render};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;

pub struct MessageLine {
    pub text: String,
    pub case_number: Option<String>,
    pub at: i64,
    pub unread: bool,
}

#[derive(Template)]
#[template(path = "me/messages.html")]
struct MessagesPage {
    page: Page,
    lines: Vec<MessageLine>,
    next: Option<i64>,
}

/// A message's text in the reader's language; `*_key` arguments name catalog entries
/// (`status_key` → `case_status.<key>`).
pub fn message_text(lang: yiwang_i18n::Lang, key: &str, args: &serde_json::Value) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    if let Some(m) = args.as_object() {
        for (k, v) in m {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            match k.strip_suffix("_key") {
                Some(base) => {
                    let group = if base == "status" {
                        "case_status"
                    } else {
                        base
                    };
                    pairs.push((
                        base.to_string(),
                        yiwang_i18n::t(lang, &format!("{group}.{v}")).to_string(),
                    ));
                }
                None => pairs.push((k.clone(), v)),
            }
        }
    }
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    yiwang_i18n::tf(lang, key, &refs)
}

#[derive(serde::Deserialize)]
pub struct Paging {
    before: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    paging: Result<Query<Paging>, axum::extract::rejection::QueryRejection>,
) -> PageResult {
    let a = me.require(locale, "/me/messages")?;
    let before = paging.ok().and_then(|Query(p)| p.before);
    let got = state.store.messages_for(a.id, before, 30).await?;
    let now = state.now_ms();
    for m in got.items.iter().filter(|m| m.read_at.is_none()) {
        state.store.mark_message_read(a.id, m.id, now).await?;
    }
    let lines = got
        .items
        .iter()
        .map(|m| MessageLine {
            text: message_text(locale.lang, &m.title_key, &m.args),
            case_number: m.case_number.clone(),
            at: m.created_at,
            unread: m.read_at.is_none(),
        })
        .collect();
    let tpl = MessagesPage {
        page: page(locale, Some(a), "me.messages.title", "/me/messages"),
        lines,
        next: got.next,
    };
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}
