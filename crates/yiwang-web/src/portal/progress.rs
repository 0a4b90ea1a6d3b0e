//! `/progress`: 办件进度查询 without signing in, as hotline callers expect — the case number and
//! the query code (查询码) printed on the case page and sent with the acceptance message.
//! Shows the service, status and dates only, never personal data; tries are throttled per
//! address and per case number, and a wrong code and an unknown number get the same answer.

use super::Ctx;
use crate::auth::ClientAddr;
use crate::html::{PageResult, render};
use crate::page::Page;
use askama::Template;
use axum::body::Bytes;
use axum::http::StatusCode;
use yiwang_app::mine::{Lookup, lookup_progress};
use yiwang_domain::calendar::CivilDate;
use yiwang_domain::case::CaseNumber;

/// The case as the lookup shows it.
pub struct Found {
    item_name: String,
    status: String,
    department: Option<String>,
    submitted_at: i64,
    due_day: Option<CivilDate>,
    terminal: bool,
}

#[derive(Template)]
#[template(path = "portal/progress.html")]
struct ProgressPage {
    page: Page,
    number: String,
    found: Option<Found>,
    /// The message key of why nothing is shown.
    problem: Option<&'static str>,
}

fn page_of(
    ctx: Ctx,
    number: String,
    found: Option<Found>,
    problem: Option<&'static str>,
) -> PageResult {
    let status = match problem {
        Some("mine.lookup.throttled") => StatusCode::TOO_MANY_REQUESTS,
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    };
    let title = ctx.t("mine.lookup.title");
    let ctx = ctx.titled(title);
    let lang = ctx.page.lang;
    let tpl = ProgressPage {
        page: ctx.page,
        number,
        found,
        problem,
    };
    Ok(render(status, &tpl, lang))
}

pub async fn form(ctx: Ctx) -> PageResult {
    page_of(ctx, String::new(), None, None)
}

/// A lookup: answered on the same page (nothing is changed but the try counters).
pub async fn lookup(ctx: Ctx, ClientAddr(client): ClientAddr, body: Bytes) -> PageResult {
    let pairs = crate::form_body::parse_pairs(&body).unwrap_or_default();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().chars().take(80).collect::<String>())
            .unwrap_or_default()
    };
    let typed = get("number");
    let code = get("code");
    let Ok(number) = CaseNumber::parse(&typed) else {
        return page_of(ctx, typed, None, Some("mine.lookup.bad_number"));
    };
    let now = ctx.st.now_ms();
    match lookup_progress(&ctx.st.store, &client, &number, &code, now).await? {
        Lookup::Found(p) => {
            let found = Found {
                item_name: p.summary.item_name,
                status: p.summary.applicant_status,
                department: p.department_name,
                submitted_at: p.summary.submitted_at,
                due_day: p.summary.due_day,
                terminal: p.summary.terminal,
            };
            page_of(ctx, typed, Some(found), None)
        }
        Lookup::NotFound => page_of(ctx, typed, None, Some("mine.lookup.not_found")),
        Lookup::Throttled => page_of(ctx, typed, None, Some("mine.lookup.throttled")),
    }
}
