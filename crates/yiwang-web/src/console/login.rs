//! Sign in and sign out of the console.

use super::{ConsoleError, ConsoleResult, read_form, render, same_origin, store_fail};
use crate::AppState;
use crate::auth::{CurrentUser, SESSION_COOKIE, end_session, start_session};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use yiwang_domain::ErrorCode;
use yiwang_i18n::{error_message, t};

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    page: Page,
    username: String,
    next: String,
    error: Option<String>,
}

/// Only a path on this site: starts with one `/`, no backslash, no control characters.
pub(crate) fn safe_next(next: &str) -> String {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if ok {
        next.to_string()
    } else {
        "/console".to_string()
    }
}

fn login_page(
    locale: Locale,
    user: &CurrentUser,
    username: String,
    next: String,
    error: Option<String>,
) -> LoginPage {
    let title = t(locale.lang, "console.login.title");
    LoginPage {
        page: Page::new(
            locale,
            title,
            format!("/console/login?next={}", super::encode(&next)),
        )
        .with_user(user.display_name()),
        username,
        next,
        error,
    }
}

pub async fn form(
    locale: Locale,
    user: CurrentUser,
    Query(q): Query<Vec<(String, String)>>,
) -> ConsoleResult {
    let next = q
        .iter()
        .find(|(k, _)| k == "next")
        .map(|(_, v)| safe_next(v))
        .unwrap_or_else(|| "/console".to_string());
    let tpl = login_page(locale, &user, String::new(), next, None);
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}

pub async fn submit(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    req: Request,
) -> ConsoleResult {
    same_origin(req.headers(), locale)?;
    let form = read_form(req, &state, locale).await?;
    let username = form.get("username").trim().to_string();
    let password = form.get("password");
    let next = safe_next(form.get("next"));
    let principal = if username.is_empty()
        || password.is_empty()
        || username.len() > 64
        || password.len() > 1024
    {
        None
    } else {
        state
            .store
            .authenticate(&username, password)
            .await
            .map_err(|e| store_fail(e, locale))?
    };
    let Some(p) = principal else {
        let error = Some(error_message(locale.lang, ErrorCode::BadLogin));
        let tpl = login_page(locale, &user, username, next, error);
        return Ok(render(StatusCode::UNAUTHORIZED, &tpl, locale.lang));
    };
    let cookie = start_session(&state, p.user_id)
        .await
        .map_err(|e| store_fail(e, locale))?;
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response())
}

pub async fn logout(State(state): State<AppState>, locale: Locale, req: Request) -> ConsoleResult {
    same_origin(req.headers(), locale)?;
    let (parts, _) = req.into_parts();
    let token = crate::locale::cookie(&parts, SESSION_COOKIE);
    let cookie = end_session(&state, token)
        .await
        .map_err(|e| -> ConsoleError { store_fail(e, locale) })?;
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}
