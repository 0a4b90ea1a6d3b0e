//! The audit log for auditors: entries newest first, filtered by actor and object prefix, paged
//! by sequence number (`?before=`), limited to what the viewer's `ViewAudit` scope covers (see
//! `policy::audit_entry_visible`); and a check of the whole hash chain, itself recorded as
//! `audit.verify`. Viewing the log changes nothing and is not recorded.

use super::audit_scan::{Criteria, Found, Visibility, newest_before};
use super::page;
use crate::AppState;
use crate::auth::{ClientAddr, CurrentUser};
use crate::html::encode_query as encode;
use crate::html::{PageResult, allow, fail, here, href, render};
use crate::locale::Locale;
use crate::page::{Page, format_date};
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use yiwang_domain::ErrorCode;
use yiwang_domain::policy::{Action, Principal, Target};
use yiwang_i18n::error_message;
use yiwang_store::{Actor, AuditEntry, VerifyReport};

const PATH: &str = "/console/audit";
/// Longest filter value accepted, in characters.
pub const MAX_FILTER_CHARS: usize = 200;
/// Characters of an entry's detail shown on the page.
const DETAIL_SHOWN: usize = 300;

#[derive(Debug, Default, serde::Deserialize)]
pub struct AuditQuery {
    actor: Option<String>,
    object: Option<String>,
    before: Option<String>,
}

struct Row {
    seq: i64,
    at: String,
    actor: String,
    /// Link that filters by this actor (accounts only).
    actor_href: Option<String>,
    action: String,
    object: String,
    detail: String,
    client: String,
    hash: String,
}

/// The outcome of a chain check, as shown.
struct Verified {
    ok: bool,
    text: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    page: Page,
    actor: String,
    object: String,
    rows: Vec<Row>,
    error: Option<String>,
    notice: Option<String>,
    scoped: bool,
    newest_href: Option<String>,
    earlier_href: Option<String>,
    verified: Option<Verified>,
    max_filter: usize,
}

/// Epoch milliseconds as Beijing time, `YYYY-MM-DD HH:MM:SS`.
fn format_time(ms: i64) -> String {
    let s = (ms + 8 * 3_600_000).rem_euclid(86_400_000) / 1000;
    format!(
        "{} {:02}:{:02}:{:02}",
        format_date(ms),
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        let mut out: String = s.chars().take(n).collect();
        out.push('…');
        out
    } else {
        s.to_string()
    }
}

/// A filter value: trimmed, bounded, without control characters.
fn filter_value(v: Option<&str>) -> Result<String, ErrorCode> {
    let v = v.unwrap_or("").trim();
    if v.chars().count() > MAX_FILTER_CHARS {
        Err(ErrorCode::TooLong)
    } else if v.chars().any(char::is_control) {
        Err(ErrorCode::InvalidInput)
    } else {
        Ok(v.to_string())
    }
}

fn list_href(locale: Locale, actor: &str, object: &str, before: Option<i64>) -> String {
    let mut q = Vec::new();
    if !actor.is_empty() {
        q.push(format!("actor={}", encode(actor)));
    }
    if !object.is_empty() {
        q.push(format!("object={}", encode(object)));
    }
    if let Some(b) = before {
        q.push(format!("before={b}"));
    }
    if q.is_empty() {
        href(locale, PATH)
    } else {
        href(locale, &format!("{PATH}?{}", q.join("&")))
    }
}

fn row(e: AuditEntry, locale: Locale) -> Row {
    let ev = e.event;
    Row {
        seq: e.seq,
        at: format_time(e.at),
        actor_href: ev.actor_id.map(|_| list_href(locale, &ev.actor, "", None)),
        actor: ev.actor,
        action: ev.action,
        object: ev.object,
        detail: shorten(&ev.detail, DETAIL_SHOWN),
        client: ev.client,
        hash: e.hash.chars().take(12).collect(),
    }
}

/// What the anchors file (`audit_anchors`, written by `yiwang audit anchor` outside the
/// database) says about the stored chain. A chain rewritten as a whole passes the hash check;
/// only its earlier anchors catch it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AnchorCheck {
    /// Every anchor matches (how many there are).
    Match(usize),
    /// The entry at this anchor differs from what was anchored, or is gone.
    Differs(i64),
    /// The log ends before the last anchor: entries were removed.
    Removed(i64),
    /// The file cannot be read or has a line that is not an anchor.
    Unreadable,
}

impl AnchorCheck {
    fn key(&self) -> &'static str {
        match self {
            AnchorCheck::Match(_) => "match",
            AnchorCheck::Differs(_) => "differs",
            AnchorCheck::Removed(_) => "removed",
            AnchorCheck::Unreadable => "unreadable",
        }
    }
}

async fn check_anchors(
    state: &AppState,
    path: &std::path::Path,
) -> Result<AnchorCheck, yiwang_store::StoreError> {
    let Ok(text) = tokio::fs::read_to_string(path).await else {
        tracing::warn!(path = %path.display(), "audit anchors file unreadable");
        return Ok(AnchorCheck::Unreadable);
    };
    let anchors: Option<Vec<yiwang_store::Anchor>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(yiwang_store::Anchor::parse_line)
        .collect();
    let Some(anchors) = anchors else {
        return Ok(AnchorCheck::Unreadable);
    };
    let head = state.store.audit_head().await?;
    if let Some(last) = anchors.iter().map(|a| a.seq).max()
        && last > head.seq
    {
        return Ok(AnchorCheck::Removed(last));
    }
    let bad = state.store.audit_check_anchors(&anchors).await?;
    Ok(match bad.first() {
        Some(m) => AnchorCheck::Differs(m.seq),
        None => AnchorCheck::Match(anchors.len()),
    })
}

fn verified(report: &VerifyReport, anchors: Option<&AnchorCheck>, page: &Page) -> Verified {
    match &report.problem {
        None => match anchors {
            None => Verified {
                ok: true,
                text: page.tf("audit.verify.ok", "entries", &report.entries.to_string()),
            },
            Some(AnchorCheck::Match(n)) => Verified {
                ok: true,
                text: format!(
                    "{} {}",
                    page.tf("audit.verify.ok", "entries", &report.entries.to_string()),
                    page.tf("audit.anchors.match", "count", &n.to_string())
                ),
            },
            Some(AnchorCheck::Differs(seq)) => Verified {
                ok: false,
                text: page.tf("audit.anchors.differs", "seq", &seq.to_string()),
            },
            Some(AnchorCheck::Removed(seq)) => Verified {
                ok: false,
                text: page.tf("audit.anchors.removed", "seq", &seq.to_string()),
            },
            Some(AnchorCheck::Unreadable) => Verified {
                ok: false,
                text: page.t("audit.anchors.unreadable"),
            },
        },
        Some(p) => Verified {
            ok: false,
            text: yiwang_i18n::tf(
                page.lang,
                "audit.verify.problem",
                &[
                    ("seq", &p.seq.to_string()),
                    ("kind", &page.t(&format!("audit.problem.{}", p.kind.key()))),
                ],
            ),
        },
    }
}

/// Parses the query, reads one page and renders it (with a chain check's outcome, if any).
async fn show_page(
    state: &AppState,
    locale: Locale,
    p: &Principal,
    query: AuditQuery,
    verified_report: Option<(&VerifyReport, Option<&AnchorCheck>)>,
) -> PageResult {
    let mut tpl = AuditPage {
        page: page(locale, p, "audit.title", PATH),
        actor: String::new(),
        object: String::new(),
        rows: Vec::new(),
        error: None,
        notice: None,
        scoped: false,
        newest_href: None,
        earlier_href: None,
        verified: None,
        max_filter: MAX_FILTER_CHARS,
    };
    tpl.verified = verified_report.map(|(r, a)| verified(r, a, &tpl.page));
    let parsed = (|| {
        let actor = filter_value(query.actor.as_deref())?;
        let object = filter_value(query.object.as_deref())?;
        let before = match query.before.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(b) => match b.parse::<i64>() {
                Ok(n) if n > 0 => Some(n),
                _ => return Err(ErrorCode::InvalidInput),
            },
        };
        Ok((actor, object, before))
    })();
    let (actor, object, before) = match parsed {
        Ok(v) => v,
        Err(code) => {
            // Show the form again (empty: a refused value is not echoed back) with the reason.
            tpl.error = Some(error_message(locale.lang, code));
            return Ok(render(StatusCode::BAD_REQUEST, &tpl, locale.lang));
        }
    };
    tpl.actor.clone_from(&actor);
    tpl.object.clone_from(&object);
    let actor_id = if actor.is_empty() {
        None
    } else {
        match state.store.user_id_by_username(&actor).await? {
            Some(id) => Some(id),
            None => {
                tpl.notice = Some(tpl.page.t("audit.unknown_actor"));
                return Ok(render(StatusCode::OK, &tpl, locale.lang));
            }
        }
    };
    let criteria = Criteria {
        actor_id,
        object_prefix: (!object.is_empty()).then(|| object.clone()),
    };
    let mut visible = Visibility::new(&state.store, p);
    tpl.scoped = !visible.everything();
    let Found {
        entries,
        next_before,
        searched_to,
    } = newest_before(&state.store, &criteria, before, &mut visible).await?;
    tpl.rows = entries.into_iter().map(|e| row(e, locale)).collect();
    if let Some(seq) = searched_to {
        tpl.notice = Some(tpl.page.tf("audit.searched_to", "seq", &seq.to_string()));
    }
    tpl.earlier_href = next_before.map(|b| list_href(locale, &actor, &object, Some(b)));
    tpl.newest_href = before.map(|_| list_href(locale, &actor, &object, None));
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}

pub async fn list(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    uri: Uri,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> PageResult {
    let p = allow(
        &user,
        Action::ViewAudit,
        &Target::Anything,
        locale,
        &here(&uri),
    )?;
    let Ok(Query(query)) = query else {
        return Err(fail(ErrorCode::InvalidInput));
    };
    show_page(&state, locale, p, query, None).await
}

/// Checks the whole chain, records the check, and shows the outcome above the newest entries.
pub async fn verify(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
) -> PageResult {
    let p = allow(&user, Action::ViewAudit, &Target::Anything, locale, PATH)?;
    let report = state.store.audit_verify(&mut |_| {}).await?;
    // The anchors kept outside the database, when configured (a rewritten chain passes the
    // hash check but not its earlier anchors).
    let anchors = match (report.ok(), state.config.audit_anchors.as_deref()) {
        (true, Some(path)) => Some(check_anchors(&state, path).await?),
        _ => None,
    };
    let detail = serde_json::json!({
        "anchors": anchors.as_ref().map(|a| a.key()),
        "ok": report.ok(),
        "entries": report.entries,
        "head_seq": report.head_seq,
        "problem": report.problem.as_ref().map(|p| serde_json::json!({
            "kind": p.kind.key(),
            "seq": p.seq,
        })),
    });
    let event = Actor::principal(p, client).event("audit.verify", "audit_log", detail.to_string());
    state.store.audit(state.now_ms(), &event).await?;
    if anchors
        .as_ref()
        .is_some_and(|a| !matches!(a, AnchorCheck::Match(_)))
    {
        tracing::warn!(anchors = ?anchors, by = %p.username, "audit chain differs from its anchors");
    } else if report.ok() {
        tracing::info!(entries = report.entries, by = %p.username, "audit chain verified");
    } else {
        tracing::warn!(problem = ?report.problem, by = %p.username, "audit chain broken");
    }
    show_page(
        &state,
        locale,
        p,
        AuditQuery::default(),
        Some((&report, anchors.as_ref())),
    )
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_in_beijing() {
        assert_eq!(super::format_time(0), "1970-01-01 08:00:00");
        assert_eq!(super::format_time(1_795_968_000_000), "2026-11-30 00:00:00");
        assert_eq!(super::format_time(1_795_967_999_999), "2026-11-29 23:59:59");
    }

    #[test]
    fn filter_values_are_bounded() {
        use yiwang_domain::ErrorCode;
        assert_eq!(super::filter_value(Some("  user:a ")).unwrap(), "user:a");
        assert_eq!(
            super::filter_value(Some(&"x".repeat(201))),
            Err(ErrorCode::TooLong)
        );
        assert_eq!(
            super::filter_value(Some("a\u{0}b")),
            Err(ErrorCode::InvalidInput)
        );
    }
}
