//! The signed-in account's own security: when TOTP was set up, changing the password, and
//! "log out everywhere" (every session of the account ends, this one included).

use super::page;
use crate::AppState;
use crate::auth::{
    ClientAddr, CurrentUser, SESSION_COOKIE, clear_session_cookie, hash_token, header_token,
};
use crate::html::{PageResult, allow, here, read_form, render};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use yiwang_domain::ErrorCode;
use yiwang_domain::policy::{Action, Principal, Target};
use yiwang_i18n::{error_message, t};

const PATH: &str = "/console/account";

#[derive(Template)]
#[template(path = "console/account.html")]
struct AccountPage {
    page: Page,
    username: String,
    totp_since: Option<i64>,
    /// A message after a change (`changed`) or an error of the password form.
    notice: Option<String>,
    error: Option<String>,
    can_manage_users: bool,
}

async fn show_page(
    state: &AppState,
    locale: Locale,
    user: &CurrentUser,
    p: &Principal,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> PageResult {
    let totp = state.store.user_totp(p.user_id).await?;
    let tpl = AccountPage {
        page: page(locale, p, "console.account.title", PATH),
        username: p.username.clone(),
        totp_since: totp.map(|i| i.enrolled_at),
        notice,
        error,
        can_manage_users: crate::html::may(user, Action::ManageUsers, locale),
    };
    Ok(render(status, &tpl, locale.lang))
}

pub async fn show(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    uri: Uri,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let p = allow(
        &user,
        Action::UseConsole,
        &Target::Anything,
        locale,
        &here(&uri),
    )?;
    let notice = q
        .iter()
        .any(|(k, v)| k == "done" && v == "password")
        .then(|| t(locale.lang, "console.account.password_changed").to_string());
    show_page(&state, locale, &user, p, notice, None, StatusCode::OK).await
}

/// Changes the password (old + new + repeated); other sessions of the account end.
pub async fn password(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> PageResult {
    let p = allow(&user, Action::UseConsole, &Target::Anything, locale, PATH)?;
    let session = header_token(
        req.headers(),
        &crate::auth::cookie_name(&state, SESSION_COOKIE),
    )
    .unwrap_or_default();
    let form = read_form(req, &state).await?;
    let (old, new, again) = (form.get("old"), form.get("new"), form.get("again"));
    let error = if old.is_empty() || new.is_empty() || old.len() > 1024 || new.len() > 1024 {
        Some(error_message(locale.lang, ErrorCode::Required))
    } else if new != again {
        Some(t(locale.lang, "console.account.mismatch").to_string())
    } else {
        match state
            .store
            .change_password(p, old, new, &hash_token(&session), &client, state.now_ms())
            .await
        {
            Ok(()) => None,
            Err(e) if matches!(e.code(), ErrorCode::BadLogin | ErrorCode::WeakPassword) => {
                Some(error_message(locale.lang, e.code()))
            }
            Err(e) => return Err(e.into()),
        }
    };
    match error {
        None => Ok(crate::html::see_other(
            locale,
            "/console/account?done=password",
        )),
        Some(e) => {
            show_page(
                &state,
                locale,
                &user,
                p,
                None,
                Some(e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// Ends every session of the signed-in account, then shows the sign-in page.
pub async fn logout_all(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
) -> PageResult {
    let p = allow(&user, Action::UseConsole, &Target::Anything, locale, PATH)?;
    state
        .store
        .delete_user_sessions(p, &client, state.now_ms())
        .await?;
    let mut res = crate::html::see_other(locale, "/console/login");
    if let Ok(v) = HeaderValue::from_str(&clear_session_cookie(&state)) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}
