//! Staff accounts with their personal data masked (`138****5678`, `120112********1234`), and the
//! audited "show in full". An administrator sees only accounts whose every grant lies within their
//! own `ManageUsers` scope; the full view asks for a purpose and is recorded in the audit log (who
//! looked at whose data, and why) in the same transaction as the read.
//!
//! The same administrator may reset an account's password: a generated temporary password is
//! shown once, every session of the account ends, and its next sign-in must choose a new
//! password before anything else (`login_password.rs`); audited.

use super::page;
use super::scope::covers_all;
use crate::AppState;
use crate::auth::{ClientAddr, CurrentUser};
use crate::html::{PageError, PageResult, allow, fail, here, read_form, render};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, Uri};
use yiwang_domain::ErrorCode;
use yiwang_domain::policy::{Action, Principal, Target};
use yiwang_i18n::error_message;
use yiwang_store::{Actor, Shown, StaffPii, StoreError};

const PATH: &str = "/console/users";
/// Longest purpose accepted, in characters.
pub const MAX_PURPOSE_CHARS: usize = 200;

/// A masked value as the page shows it.
struct Cell {
    text: String,
    /// The value exists but cannot be decrypted (key missing, or altered in the database).
    unreadable: bool,
}

impl Cell {
    fn of(s: Shown, page: &Page) -> Cell {
        match s {
            Shown::Empty => Cell {
                text: page.t("pii.users.empty"),
                unreadable: false,
            },
            Shown::Masked(m) => Cell {
                text: m,
                unreadable: false,
            },
            Shown::Unreadable => Cell {
                text: page.t("pii.users.unreadable"),
                unreadable: true,
            },
        }
    }
}

struct Row {
    id: i64,
    username: String,
    display_name: String,
    roles: String,
    disabled: bool,
    phone: Cell,
    resident_id: Cell,
    has_data: bool,
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    page: Page,
    rows: Vec<Row>,
    /// The row whose purpose was refused, and why.
    error: Option<(i64, String)>,
    purpose: String,
    max_purpose: usize,
}

struct Revealed {
    username: String,
    display_name: String,
    phone: Option<String>,
    resident_id: Option<String>,
    purpose: String,
}

#[derive(Template)]
#[template(path = "console/users_password.html")]
struct PasswordPage {
    page: Page,
    username: String,
    display_name: String,
    temporary: String,
}

#[derive(Template)]
#[template(path = "console/users_reveal.html")]
struct RevealPage {
    page: Page,
    r: Revealed,
}

/// The accounts this administrator may manage, masked.
async fn in_scope(
    state: &AppState,
    p: &Principal,
    locale: Locale,
) -> Result<Vec<StaffPii>, PageError> {
    let all = state.store.staff_pii_list().await?;
    let mut out = Vec::new();
    for u in all {
        if covers_all(state, p, Action::ManageUsers, &u.grants, locale).await? {
            out.push(u);
        }
    }
    Ok(out)
}

async fn render_list(
    state: &AppState,
    locale: Locale,
    p: &Principal,
    error: Option<(i64, String)>,
    purpose: String,
    status: StatusCode,
) -> PageResult {
    let page = page(locale, p, "pii.users.title", PATH);
    let rows = in_scope(state, p, locale)
        .await?
        .into_iter()
        .map(|u| {
            let roles = u
                .grants
                .iter()
                .map(|g| page.label(&g.role))
                .collect::<Vec<_>>()
                .join(", ");
            let has_data = u.phone != Shown::Empty || u.resident_id != Shown::Empty;
            Row {
                id: u.user_id,
                username: u.username,
                display_name: u.display_name,
                roles,
                disabled: u.disabled,
                phone: Cell::of(u.phone, &page),
                resident_id: Cell::of(u.resident_id, &page),
                has_data,
            }
        })
        .collect();
    let tpl = UsersPage {
        page,
        rows,
        error,
        purpose,
        max_purpose: MAX_PURPOSE_CHARS,
    };
    Ok(render(status, &tpl, locale.lang))
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
    render_list(&state, locale, p, None, String::new(), StatusCode::OK).await
}

/// What an action on one account starts with: a same-origin POST by an administrator, the
/// account (one outside the administrator's scope looks the same as one that does not exist)
/// and the form.
async fn account_action<'u>(
    state: &AppState,
    user: &'u CurrentUser,
    locale: Locale,
    id: &str,
    req: Request,
) -> Result<(&'u Principal, StaffPii, crate::html::FormData), PageError> {
    let p = allow(user, Action::ManageUsers, &Target::Anything, locale, PATH)?;
    let Ok(id) = id.parse::<i64>() else {
        return Err(fail(ErrorCode::NotFound));
    };
    let form = read_form(req, state).await?;
    let target = in_scope(state, p, locale)
        .await?
        .into_iter()
        .find(|u| u.user_id == id)
        .ok_or_else(|| fail(ErrorCode::NotFound))?;
    Ok((p, target, form))
}

pub async fn reveal(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
    req: Request,
) -> PageResult {
    let (p, target, form) = account_action(&state, &user, locale, &id, req).await?;
    let id = target.user_id;
    let purpose = form.get("purpose").trim().to_string();
    let problem = if purpose.is_empty() {
        Some(ErrorCode::Required)
    } else if purpose.chars().count() > MAX_PURPOSE_CHARS {
        Some(ErrorCode::TooLong)
    } else if purpose.chars().any(char::is_control) {
        Some(ErrorCode::InvalidInput)
    } else {
        None
    };
    if let Some(code) = problem {
        let err = Some((id, error_message(locale.lang, code)));
        let kept: String = purpose.chars().take(MAX_PURPOSE_CHARS).collect();
        return render_list(
            &state,
            locale,
            p,
            err,
            kept,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let viewer = Actor::principal(p, client);
    let full = match state
        .store
        .reveal_user_pii(id, &viewer, &purpose, state.now_ms())
        .await
    {
        Ok(Some(full)) => full,
        Ok(None) => return Err(fail(ErrorCode::NotFound)),
        Err(e @ (StoreError::NoKeys | StoreError::Crypto(_))) => {
            tracing::error!(error = %e, user_id = id, "personal data cannot be shown");
            return Err(fail(ErrorCode::Internal));
        }
        Err(e) => return Err(PageError::from(e)),
    };
    let tpl = RevealPage {
        page: page(locale, p, "pii.reveal.title", PATH),
        r: Revealed {
            username: full.username,
            display_name: full.display_name,
            phone: full.phone.as_ref().map(|v| v.reveal().to_string()),
            resident_id: full.resident_id.as_ref().map(|v| v.reveal().to_string()),
            purpose,
        },
    };
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}

/// Sets a generated temporary password on an account in scope and shows it once.
pub async fn reset_password(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
    req: Request,
) -> PageResult {
    let (p, target, _) = account_action(&state, &user, locale, &id, req).await?;
    let id = target.user_id;
    let temporary = yiwang_store::staff_password::temporary_password();
    let by = Actor::principal(p, client);
    let done = state
        .store
        .reset_user_password(id, &temporary, &by, state.now_ms())
        .await?;
    if !done {
        return Err(fail(ErrorCode::NotFound));
    }
    let tpl = PasswordPage {
        page: page(locale, p, "console.reset.title", PATH),
        username: target.username,
        display_name: target.display_name,
        temporary,
    };
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}
