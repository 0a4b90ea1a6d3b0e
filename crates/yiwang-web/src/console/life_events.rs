//! The 一件事 life-event editor: a definition as JSON, checked in full before it is saved (the
//! administrator's text comes back with every problem listed); live for every searcher within a
//! second. Saving needs `PublishCatalog` over the event's region (`Target::Region`: a
//! region-wide grant, not a single department's), both the region it had and the one it gets;
//! see `search_terms.rs` for why publishing, not editing.

use super::page;
use super::search_terms::{PATH, platform_wide};
use crate::AppState;
use crate::auth::{ClientAddr, CurrentUser};
use crate::html::{PageError, PageResult, allow, fail, read_form, render, see_other};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use yiwang_domain::ErrorCode;
use yiwang_domain::policy::{Action, Principal, Target};
use yiwang_domain::{BasicCode, RegionCode};
use yiwang_i18n::{Lang, t, tf};
use yiwang_search::life_event::{LifeEvent, Problem};

#[derive(Template)]
#[template(path = "console/life_event_edit.html")]
struct EventPage {
    page: Page,
    heading: String,
    code: String,
    exists: bool,
    action: String,
    portal_href: String,
    json: String,
    errors: Vec<String>,
    invalid_title: String,
    notice: Option<String>,
    updated: String,
}

fn event_path(code: &str) -> String {
    format!("/console/life-events/{code}")
}

/// A life event's key: lower-case letters, digits, `-` and `_`, at most 40.
fn code_ok(code: &str) -> bool {
    (1..=40).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn problem_messages(lang: Lang, problems: &[Problem]) -> Vec<String> {
    problems
        .iter()
        .map(|p| {
            let key = format!("life.problem.{}", p.key);
            let detail: String = p.detail.chars().take(200).collect();
            let msg = tf(lang, &key, &[("detail", &detail)]);
            if msg == key {
                // A problem without its own message still says what and where.
                format!("{}: {detail}", p.key)
            } else {
                msg
            }
        })
        .collect()
}

/// A starting point for a new life event.
fn skeleton(code: &str, region: &str) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "code": code,
        "name": "",
        "summary": "",
        "region": region,
        "keywords": [],
        "questions": [],
        "items": [],
    }))
    .unwrap_or_default()
}

struct Shown {
    json: String,
    errors: Vec<String>,
    notice: Option<String>,
}

fn event_page(
    locale: Locale,
    p: &Principal,
    code: &str,
    stored: Option<&yiwang_store::LifeEventRow>,
    shown: Shown,
) -> EventPage {
    let lang = locale.lang;
    let pg = page(locale, p, "life.console.title", &event_path(code));
    let heading = match stored {
        Some(r) => tf(lang, "life.console.heading", &[("name", &r.name)]),
        None => tf(lang, "life.console.new", &[("code", code)]),
    };
    EventPage {
        heading,
        code: code.to_string(),
        exists: stored.is_some(),
        action: crate::link::href(locale, &event_path(code)),
        portal_href: crate::link::href(locale, &format!("/life-events/{code}")),
        invalid_title: tf(
            lang,
            "life.console.invalid",
            &[("count", &shown.errors.len().to_string())],
        ),
        updated: stored
            .map(|r| format!("{} · {}", pg.datetime(&r.updated_at), r.updated_by))
            .unwrap_or_default(),
        json: shown.json,
        errors: shown.errors,
        notice: shown.notice,
        page: pg,
    }
}

async fn stored_event(
    state: &AppState,
    code: &str,
) -> Result<Option<yiwang_store::LifeEventRow>, PageError> {
    Ok(state
        .store
        .life_events()
        .await?
        .into_iter()
        .find(|r| r.code == code))
}

/// The opening of both editor handlers: a catalog publisher, a well-formed code, the stored
/// definition (if any) and the policy over its region.
async fn open_event<'a>(
    state: &AppState,
    user: &'a CurrentUser,
    locale: Locale,
    code: &str,
) -> Result<(&'a Principal, Option<yiwang_store::LifeEventRow>), PageError> {
    allow(
        user,
        Action::PublishCatalog,
        &Target::Anything,
        locale,
        PATH,
    )?;
    if !code_ok(code) {
        return Err(fail(ErrorCode::NotFound));
    }
    let stored = stored_event(state, code).await?;
    let p = allow_event(
        user,
        locale,
        code,
        stored.as_ref().map(|r| r.region_code.as_str()),
    )?;
    Ok((p, stored))
}

/// The policy for one life event: `PublishCatalog` over its region (or anywhere for a new one;
/// platform-wide when a stored region no longer reads as a region code).
fn allow_event<'a>(
    user: &'a CurrentUser,
    locale: Locale,
    code: &str,
    region: Option<&str>,
) -> Result<&'a Principal, PageError> {
    let path = event_path(code);
    match region.map(RegionCode::parse) {
        Some(Ok(r)) => allow(
            user,
            Action::PublishCatalog,
            &Target::Region(r),
            locale,
            &path,
        ),
        Some(Err(_)) => {
            let p = allow(
                user,
                Action::PublishCatalog,
                &Target::Anything,
                locale,
                &path,
            )?;
            if platform_wide(p) {
                Ok(p)
            } else {
                Err(fail(ErrorCode::Forbidden))
            }
        }
        None => allow(
            user,
            Action::PublishCatalog,
            &Target::Anything,
            locale,
            &path,
        ),
    }
}

#[derive(serde::Deserialize, Default)]
pub struct EventQuery {
    saved: Option<u8>,
}

pub async fn show_event(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<EventQuery>,
) -> PageResult {
    let (p, stored) = open_event(&state, &user, locale, &code).await?;
    let lang = locale.lang;
    let json = match &stored {
        // Shown pretty-printed; the stored text may be compact.
        Some(r) => serde_json::from_str::<serde_json::Value>(&r.definition)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| r.definition.clone()),
        None => skeleton(&code, ""),
    };
    let notice = q.saved.map(|_| t(lang, "life.console.saved").to_string());
    let shown = Shown {
        json,
        errors: Vec::new(),
        notice,
    };
    let tpl = event_page(locale, p, &code, stored.as_ref(), shown);
    Ok(render(StatusCode::OK, &tpl, lang))
}

/// Checks a definition, and saves it when `op=save` and it has no problem.
pub async fn save_event(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    Path(code): Path<String>,
    req: Request,
) -> PageResult {
    let (p, stored) = open_event(&state, &user, locale, &code).await?;
    let lang = locale.lang;
    let data = read_form(req, &state).await?;
    let json = data.get("definition").to_string();
    let mut problems = Vec::new();
    let parsed = if json.len() > 256 * 1024 {
        problems.push(Problem {
            key: "too_long",
            detail: String::new(),
        });
        None
    } else {
        match LifeEvent::parse(&json) {
            Ok(e) => Some(e),
            Err(p) => {
                problems = p;
                None
            }
        }
    };
    // The definition's shape, even with problems: every problem is listed at once.
    let shape: Option<LifeEvent> = parsed.clone().or_else(|| serde_json::from_str(&json).ok());
    if let Some(e) = &shape {
        if e.code != code {
            problems.push(Problem {
                key: "code_mismatch",
                detail: e.code.clone(),
            });
        }
        let codes: Vec<String> = e
            .items
            .iter()
            .map(|i| i.basic_code.clone())
            .filter(|c| BasicCode::parse(c).is_ok())
            .collect();
        for c in state.store.unknown_basic_codes(&codes).await? {
            problems.push(Problem {
                key: "unknown_item",
                detail: c,
            });
        }
    }
    let event = match parsed {
        Some(e) if problems.is_empty() => e,
        _ => {
            // Nothing is saved; the text comes back with every problem.
            let shown = Shown {
                json,
                errors: problem_messages(lang, &problems),
                notice: None,
            };
            let tpl = event_page(locale, p, &code, stored.as_ref(), shown);
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &tpl, lang));
        }
    };
    // The new region must be this user's too.
    let p = allow_event(&user, locale, &code, Some(&event.region))?;
    if data.get("op") != "save" {
        let shown = Shown {
            json,
            errors: Vec::new(),
            notice: Some(t(lang, "life.console.valid").to_string()),
        };
        let tpl = event_page(locale, p, &code, stored.as_ref(), shown);
        return Ok(render(StatusCode::OK, &tpl, lang));
    }
    let region = event
        .region_code()
        .map(|r| r.as_str().to_string())
        .unwrap_or_else(|| event.region.clone());
    let definition = serde_json::to_string(&event).map_err(|_| fail(ErrorCode::Internal))?;
    let actor = yiwang_store::Actor::principal(p, client.as_str());
    state
        .store
        .save_life_event(
            &event.code,
            &event.name,
            &region,
            &definition,
            &actor,
            state.now_ms(),
        )
        .await?;
    Ok(see_other(locale, &format!("{}?saved=1", event_path(&code))))
}
