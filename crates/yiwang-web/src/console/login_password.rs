//! Sign in, last step for an account whose password an administrator reset: after the password
//! and the one-time code, a new password must be chosen before any session starts, so nothing
//! else of the console can be reached with the temporary password. The pending sign-in lives on
//! the server (`login_challenges`, stage "choose a new password") under the `yw_pending` cookie.
//!
//! An account without a second factor yet chooses the new password right after the temporary
//! one, and enrols its authenticator only then: the administrator who knows the temporary
//! password cannot enrol an authenticator of their own without taking the password away from
//! its owner (which the owner notices, and the audit log shows).

use super::login::{Refusal, enter, login_again, next_param, step_post, with_cookies};
use crate::AppState;
use crate::auth::{
    CHALLENGE_TTL_MS, ClientAddr, CurrentUser, PENDING_COOKIE, hash_token, header_token, new_token,
};
use crate::html::{PageResult, render};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use yiwang_domain::ErrorCode;
use yiwang_i18n::{error_message, t};
use yiwang_store::ChallengeStage;

const PATH: &str = "/console/login/password";

#[derive(Template)]
#[template(path = "console/login_password.html")]
struct ChangePage {
    page: Page,
    next: String,
    error: Option<String>,
}

fn change_page(locale: Locale, next: &str, error: Option<String>, status: StatusCode) -> Response {
    let tpl = ChangePage {
        page: Page::new(
            locale,
            t(locale.lang, "console.force.title"),
            format!("{PATH}?next={}", crate::link::encode_query(next)),
        ),
        next: next.to_string(),
        error,
    };
    render(status, &tpl, locale.lang)
}

fn with_cookie(res: Response, cookie: &str) -> Response {
    with_cookies(res, &[cookie.to_string()])
}

/// Replaces an accepted sign-in of a marked account by the "choose a new password" step.
pub(super) async fn start(
    state: &AppState,
    user_id: i64,
    next: &str,
    locale: Locale,
) -> PageResult {
    let token = new_token();
    state
        .store
        .create_password_challenge(
            &hash_token(&token),
            user_id,
            state.now_ms(),
            CHALLENGE_TTL_MS,
        )
        .await?;
    let cookie = crate::auth::cookie(
        state,
        PENDING_COOKIE,
        &token,
        "/console/login",
        CHALLENGE_TTL_MS / 1000,
    );
    let to = format!("{PATH}?next={}", crate::link::encode_query(next));
    Ok(with_cookie(crate::html::see_other(locale, &to), &cookie))
}

/// Whether the request's pending sign-in is at this step.
async fn at_this_step(
    state: &AppState,
    token: Option<&str>,
) -> Result<bool, crate::html::PageError> {
    let Some(token) = token else { return Ok(false) };
    let c = state
        .store
        .challenge(&hash_token(token), state.now_ms())
        .await?;
    Ok(c.is_some_and(|c| c.stage == ChallengeStage::ChangePassword))
}

pub async fn form(
    State(state): State<AppState>,
    locale: Locale,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> PageResult {
    let next = next_param(&q);
    let token = header_token(&headers, &crate::auth::cookie_name(&state, PENDING_COOKIE));
    if !at_this_step(&state, token.as_deref()).await? {
        let to = format!("/console/login?next={}", crate::link::encode_query(&next));
        return Ok(crate::html::see_other(locale, &to));
    }
    Ok(change_page(locale, &next, None, StatusCode::OK))
}

/// The new password (twice); then the session starts.
pub async fn submit(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> PageResult {
    let post = step_post(&state, req).await?;
    let (next, clear) = (post.next.clone(), post.clear.clone());
    let form = &post.form;
    let Some(pending) = post.pending.clone() else {
        let res = login_again(locale, &user, "", &next, Refusal::Expired);
        return Ok(with_cookie(res, &clear));
    };
    if !at_this_step(&state, Some(&pending)).await? {
        let res = login_again(locale, &user, "", &next, Refusal::Expired);
        return Ok(with_cookie(res, &clear));
    }
    let (new, again) = (form.get("new"), form.get("again"));
    let unprocessable = |msg: String| {
        Ok(change_page(
            locale,
            &next,
            Some(msg),
            StatusCode::UNPROCESSABLE_ENTITY,
        ))
    };
    if new.is_empty() || new.len() > 1024 {
        return unprocessable(error_message(locale.lang, ErrorCode::Required));
    }
    if new != again {
        return unprocessable(t(locale.lang, "console.account.mismatch").to_string());
    }
    let now = state.now_ms();
    let done = state
        .store
        .finish_forced_password_change(&hash_token(&pending), new, &client, now)
        .await;
    let p = match done {
        Ok(Some(p)) => p,
        Ok(None) => {
            let res = login_again(locale, &user, "", &next, Refusal::Expired);
            return Ok(with_cookie(res, &clear));
        }
        Err(e) if e.code() == ErrorCode::WeakPassword => {
            return unprocessable(t(locale.lang, "console.force.weak").to_string());
        }
        Err(e) => return Err(e.into()),
    };
    // No second factor yet: it is enrolled now, by whoever just chose the account's own
    // password, in a new pending sign-in of this browser.
    if state.store.user_totp(p.user_id).await?.is_none() {
        let (_, pending) = crate::auth::start_challenge(&state, p.user_id).await?;
        let to = format!(
            "/console/login/totp?next={}",
            crate::link::encode_query(&next)
        );
        return Ok(with_cookie(crate::html::see_other(locale, &to), &pending));
    }
    enter(&state, &p, &client, post).await
}
