//! Sign in (first step: username and password) and sign out of the console.
//!
//! A correct password does not sign in yet: it starts a pending sign-in and sends the browser to
//! the one-time-code step (`login_totp.rs`). Each attempt is reserved against the address and
//! the account before the password is checked: locked accounts and throttled addresses are
//! refused without a check, and parallel requests get no more checks than the limit.

use crate::AppState;
use crate::auth::{
    ACCOUNT_THROTTLE, ADDRESS_THROTTLE, ClientAddr, CurrentUser, SESSION_COOKIE, end_session,
    retry_after_seconds, start_challenge, token_cookie,
};
use crate::html::{PageError, PageResult, read_form, render};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use yiwang_domain::ErrorCode;
use yiwang_i18n::{error_message, t, tf};
use yiwang_store::auth_guard::{Attempt, Failure, Gate, account_key, address_key};

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    page: Page,
    username: String,
    next: String,
    error: Option<String>,
}

/// A safe `next` for staff, or the console home.
fn safe_next(next: &str) -> String {
    crate::link::safe_next(next)
        .unwrap_or("/console")
        .to_string()
}

/// The `next` query parameter of a sign-in step, made safe (the console home without one).
pub(crate) fn next_param(q: &[(String, String)]) -> String {
    q.iter()
        .find(|(k, _)| k == "next")
        .map(|(_, v)| safe_next(v))
        .unwrap_or_else(|| "/console".to_string())
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
            format!("/console/login?next={}", crate::link::encode_query(&next)),
        )
        .with_user(user.display_name()),
        username,
        next,
        error,
    }
}

/// The sign-in page again, with a message and a status (and `Retry-After` when throttled).
pub(super) fn login_again(
    locale: Locale,
    user: &CurrentUser,
    username: &str,
    next: &str,
    refusal: Refusal,
) -> Response {
    let (status, message, retry) = match refusal {
        Refusal::BadLogin => (
            StatusCode::UNAUTHORIZED,
            error_message(locale.lang, ErrorCode::BadLogin),
            None,
        ),
        Refusal::Locked { retry_after_ms } => {
            let minutes = (retry_after_seconds(retry_after_ms) + 59) / 60;
            (
                StatusCode::LOCKED,
                tf(
                    locale.lang,
                    "console.login.locked",
                    &[("minutes", &minutes.to_string())],
                ),
                None,
            )
        }
        Refusal::Throttled { retry_after_ms } => {
            let s = retry_after_seconds(retry_after_ms);
            let minutes = (s + 59) / 60;
            (
                StatusCode::TOO_MANY_REQUESTS,
                tf(
                    locale.lang,
                    "console.login.too_many",
                    &[("minutes", &minutes.to_string())],
                ),
                Some(s),
            )
        }
        Refusal::Expired => (
            StatusCode::UNAUTHORIZED,
            t(locale.lang, "console.login.expired").to_string(),
            None,
        ),
        Refusal::CodesSpent => (
            StatusCode::UNAUTHORIZED,
            t(locale.lang, "console.totp.too_many").to_string(),
            None,
        ),
    };
    let tpl = login_page(
        locale,
        user,
        username.to_string(),
        next.to_string(),
        Some(message),
    );
    let mut res = render(status, &tpl, locale.lang);
    if let Some(s) = retry
        && let Ok(v) = HeaderValue::from_str(&s.to_string())
    {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

/// Why an attempt is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    BadLogin,
    Locked {
        retry_after_ms: i64,
    },
    Throttled {
        retry_after_ms: i64,
    },
    /// The pending sign-in is gone (expired, used, or never existed).
    Expired,
    /// The pending sign-in ended after too many wrong codes.
    CodesSpent,
}

impl Refusal {
    pub(super) fn is_locked(self) -> bool {
        matches!(self, Refusal::Locked { .. })
    }
}

/// Reserves an attempt for this address and this account before anything is checked (one
/// statement each, so parallel requests get no more checks than the limit); a refusal is
/// audited.
pub(super) async fn begin(
    state: &AppState,
    client: &str,
    username: &str,
    user_id: Option<i64>,
) -> Result<Option<Refusal>, PageError> {
    let attempt = Attempt {
        username,
        user_id,
        client,
        now_ms: state.now_ms(),
    };
    let gate = state
        .store
        .begin_attempt(&attempt, ACCOUNT_THROTTLE, ADDRESS_THROTTLE)
        .await?;
    Ok(match gate {
        Gate::Open => None,
        Gate::Locked { retry_after_ms } => Some(Refusal::Locked { retry_after_ms }),
        Gate::Limited { retry_after_ms } => Some(Refusal::Throttled { retry_after_ms }),
    })
}

/// A reserved attempt failed (audited; the failure that reaches the limit locks the account):
/// how to answer it.
pub(super) async fn failed(
    state: &AppState,
    failure: Failure<'_>,
    otherwise: Refusal,
) -> Result<Refusal, PageError> {
    let gates = state
        .store
        .attempt_failed(&failure, ACCOUNT_THROTTLE, ADDRESS_THROTTLE)
        .await?;
    Ok(match gates {
        (Gate::Locked { retry_after_ms }, _) => Refusal::Locked { retry_after_ms },
        (_, Gate::Limited { retry_after_ms }) | (Gate::Limited { retry_after_ms }, _) => {
            Refusal::Throttled { retry_after_ms }
        }
        _ => otherwise,
    })
}

/// A reserved attempt succeeded: the reservations go back (the next step reserves its own).
pub(super) async fn passed(
    state: &AppState,
    client: &str,
    username: &str,
) -> Result<(), PageError> {
    state
        .store
        .release_attempt(&[&address_key(client), &account_key(username)])
        .await
        .map_err(PageError::from)
}

pub async fn form(
    locale: Locale,
    user: CurrentUser,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let next = next_param(&q);
    let tpl = login_page(locale, &user, String::new(), next, None);
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}

pub async fn submit(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> PageResult {
    let form = read_form(req, &state).await?;
    let username = form.get("username").trim().to_string();
    let password = form.get("password");
    let next = safe_next(form.get("next"));
    let well_formed = !(username.is_empty()
        || password.is_empty()
        || username.len() > 64
        || password.len() > 1024);
    if !well_formed {
        return Ok(login_again(
            locale,
            &user,
            &username,
            &next,
            Refusal::BadLogin,
        ));
    }
    if let Some(refusal) = begin(&state, &client, &username, None).await? {
        return Ok(login_again(locale, &user, &username, &next, refusal));
    }
    // One Argon2 check whether or not the account exists, on the bounded pool.
    let principal = state.store.authenticate(&username, password).await?;
    let Some(p) = principal else {
        let failure = Failure {
            username: &username,
            user_id: None,
            client: &client,
            reason: "password",
            now_ms: state.now_ms(),
        };
        let refusal = failed(&state, failure, Refusal::BadLogin).await?;
        return Ok(login_again(locale, &user, &username, &next, refusal));
    };
    passed(&state, &client, &username).await?;
    // A password an administrator set, on an account without a second factor yet: the new
    // password comes first, so only someone who chose the account's own password can enrol
    // an authenticator (not the administrator who knows the temporary one).
    let store = &state.store;
    if store.must_change_password(p.user_id).await? && store.user_totp(p.user_id).await?.is_none() {
        return super::login_password::start(&state, p.user_id, &next, locale).await;
    }
    let (_, pending) = start_challenge(&state, p.user_id).await?;
    let to = format!(
        "/console/login/totp?next={}",
        crate::link::encode_query(&next)
    );
    let mut res = crate::html::see_other(locale, &to);
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&pending) {
        h.append(header::SET_COOKIE, v);
    }
    Ok(res)
}

pub async fn logout(State(state): State<AppState>, req: Request) -> PageResult {
    let (parts, _) = req.into_parts();
    let token = token_cookie(&parts, &crate::auth::cookie_name(&state, SESSION_COOKIE));
    let cookie = end_session(&state, token).await?;
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}

/// What each later sign-in step's POST starts with: the origin check, the pending sign-in's and
/// the old session's tokens, the form, where to go afterwards, and the cookie that ends the
/// pending sign-in.
pub(super) struct StepPost {
    pub pending: Option<String>,
    pub old_session: Option<String>,
    pub form: crate::html::FormData,
    pub next: String,
    pub clear: String,
}

pub(super) async fn step_post(state: &AppState, req: Request) -> Result<StepPost, PageError> {
    let named = |base| crate::auth::cookie_name(state, base);
    let pending = crate::auth::header_token(req.headers(), &named(crate::auth::PENDING_COOKIE));
    let old_session = crate::auth::header_token(req.headers(), &named(crate::auth::SESSION_COOKIE));
    let form = read_form(req, state).await?;
    let next = safe_next(form.get("next"));
    Ok(StepPost {
        pending,
        old_session,
        form,
        next,
        clear: crate::auth::clear_pending_cookie(state),
    })
}

/// `res` with these Set-Cookie headers.
pub(super) fn with_cookies(mut res: Response, cookies: &[String]) -> Response {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// The last step passed: the sign-in is recorded, the session starts (replacing `step.old_session`)
/// and the browser goes on to `step.next`.
pub(super) async fn enter(
    state: &AppState,
    p: &yiwang_domain::policy::Principal,
    client: &str,
    step: StepPost,
) -> PageResult {
    state
        .store
        .record_login_success(p, client, state.now_ms())
        .await?;
    let session = crate::auth::start_session(state, p.user_id, step.old_session.as_deref()).await?;
    let res = Redirect::to(&step.next).into_response();
    Ok(with_cookies(res, &[session, step.clear]))
}
