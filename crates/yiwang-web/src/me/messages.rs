//! The in-site message centre: every status change of the applicant's cases, newest first,
//! grouped per case under the service's name, with what the case asks of the applicant now
//! and a link to it. Opening the page marks the shown messages read.

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
    pub at: i64,
    pub unread: bool,
}

/// The messages of one case.
pub struct Group {
    pub case_number: Option<String>,
    pub item_name: Option<String>,
    pub status: Option<String>,
    /// The message key of what to do now, if anything.
    pub todo: Option<&'static str>,
    pub to_fix: Vec<String>,
    pub query_code: Option<String>,
    pub lines: Vec<MessageLine>,
}

#[derive(Template)]
#[template(path = "me/messages.html")]
struct MessagesPage {
    page: Page,
    groups: Vec<Group>,
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

/// What the applicant is asked to do for a case in `status`.
fn todo(status: Option<&str>) -> Option<&'static str> {
    match status? {
        "correction_needed" => Some("mine.messages.todo.correction_needed"),
        "submitted" => Some("mine.messages.todo.submitted"),
        "approved" | "denied" | "concluded" | "delivered" => Some("mine.messages.todo.done"),
        _ => None,
    }
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
    let (got, next) =
        yiwang_app::mine::message_groups(&state.store, a, before, state.now_ms()).await?;
    let groups = got
        .into_iter()
        .map(|g| Group {
            todo: todo(g.status.as_deref()),
            lines: g
                .messages
                .iter()
                .map(|m| MessageLine {
                    text: message_text(locale.lang, &m.title_key, &shortened(&m.args)),
                    at: m.created_at,
                    unread: m.read_at.is_none(),
                })
                .collect(),
            case_number: g.case_number,
            item_name: g.item_name,
            status: g.status,
            to_fix: g.to_fix,
            query_code: g.query_code,
        })
        .collect();
    let tpl = MessagesPage {
        page: page(locale, Some(a), "me.messages.title", "/me/messages"),
        groups,
        next,
    };
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}

/// The arguments with the case number in its short form (the group's heading and link say
/// which case it is; the full number would wrap over several lines on a phone).
fn shortened(args: &serde_json::Value) -> serde_json::Value {
    let mut args = args.clone();
    if let Some(m) = args.as_object_mut() {
        let short = m
            .get("case_number")
            .and_then(|v| v.as_str())
            .and_then(|n| yiwang_domain::case::CaseNumber::parse(n).ok())
            .map(|n| yiwang_domain::mine::short_number(&n));
        if let Some(s) = short {
            m.insert("case_number".into(), serde_json::Value::String(s));
        }
    }
    args
}
