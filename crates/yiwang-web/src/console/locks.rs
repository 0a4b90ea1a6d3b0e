//! Accounts locked after too many failed sign-ins, and unlocking them. An administrator sees and
//! unlocks only staff accounts whose every grant lies within their own `ManageUsers` scope;
//! applicant accounts (no grants, any region) only an administrator whose scope is everything,
//! and by handle only — never by ID number. Locks also end by themselves.

use super::page;
use super::scope::covers_all;
use crate::AppState;
use crate::auth::{ClientAddr, CurrentUser};
use crate::html::{PageResult, allow, fail, here, read_form, render};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri};
use yiwang_domain::ErrorCode;
use yiwang_domain::policy::{Action, CatalogScope, Principal, Target};
use yiwang_store::auth_guard::LockedAccount;

const PATH: &str = "/console/locks";

struct Row {
    username: String,
    display_name: String,
    locked_at: i64,
    locked_until: i64,
}

#[derive(Template)]
#[template(path = "console/locks.html")]
struct LocksPage {
    page: Page,
    rows: Vec<Row>,
    /// `None` when the administrator may not manage applicant accounts.
    applicants: Option<Vec<Row>>,
}

/// Locked applicant accounts, when `p` manages users everywhere.
async fn applicants_in_scope(
    state: &AppState,
    p: &Principal,
) -> Result<Option<Vec<Row>>, crate::html::PageError> {
    if !CatalogScope::of(p, Action::ManageUsers).all {
        return Ok(None);
    }
    let rows = state.store.locked_applicants(state.now_ms()).await?;
    Ok(Some(
        rows.into_iter()
            .map(|a| Row {
                username: a.handle,
                display_name: a.masked_name,
                locked_at: a.locked_at,
                locked_until: a.locked_until,
            })
            .collect(),
    ))
}

async fn in_scope(
    state: &AppState,
    p: &Principal,
    locale: Locale,
) -> Result<Vec<LockedAccount>, crate::html::PageError> {
    let all = state.store.locked_accounts(state.now_ms()).await?;
    let mut out = Vec::new();
    for a in all {
        if covers_all(state, p, Action::ManageUsers, &a.principal.grants, locale).await? {
            out.push(a);
        }
    }
    Ok(out)
}

pub async fn list(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    uri: Uri,
) -> PageResult {
    let p = allow(
        &user,
        Action::ManageUsers,
        &Target::Anything,
        locale,
        &here(&uri),
    )?;
    let rows = in_scope(&state, p, locale)
        .await?
        .into_iter()
        .map(|a| Row {
            username: a.principal.username,
            display_name: a.principal.display_name,
            locked_at: a.locked_at,
            locked_until: a.locked_until,
        })
        .collect();
    let applicants = applicants_in_scope(&state, p).await?;
    let tpl = LocksPage {
        page: page(locale, p, "console.locks.title", PATH),
        rows,
        applicants,
    };
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}

pub async fn unlock(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> PageResult {
    let p = allow(&user, Action::ManageUsers, &Target::Anything, locale, PATH)?;
    let form = read_form(req, &state).await?;
    let username = form.get("username");
    let staff = in_scope(&state, p, locale).await?;
    let applicants = applicants_in_scope(&state, p).await?.unwrap_or_default();
    let listed = staff.iter().any(|a| a.principal.username == username)
        || applicants.iter().any(|a| a.username == username);
    if !listed {
        return Err(fail(ErrorCode::NotFound));
    }
    state
        .store
        .unlock_account(
            username,
            Some(p.user_id),
            &p.username,
            &client,
            state.now_ms(),
        )
        .await?;
    Ok(crate::html::see_other(locale, PATH))
}
