//! A forgotten password (忘记密码), without a session. The applicant gives the sign-in
//! identifier and the registered phone; when both match, a six-digit code goes to that phone by
//! SMS (`yiwang_store::password_reset`). Either way the answer is the same page and the browser
//! gets a random ticket cookie, so nobody learns whether an account exists. The code, with the
//! current authenticator code when the account has one, then sets a new password; every session
//! of the applicant ends.
//!
//! The use case, with its limits, is `yiwang_app::password_reset`; a limited request gets 429
//! with Retry-After.

use super::{CurrentApplicant, named_cookie, page};
use crate::AppState;
use crate::auth::{
    ADDRESS_THROTTLE, ClientAddr, hash_token, header_token, new_token, retry_after_seconds,
};
use crate::html::{PageResult, cookie_and_form, read_form, render, see_other};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use yiwang_app::password_reset::{self, Asked, NewPassword, Reset};
use yiwang_domain::ErrorCode;
use yiwang_i18n::{error_message, t, tf};
use yiwang_store::password_reset::RESET_CODE_TTL_MS;

/// Names the browser's pending reset (its ticket) between the request and the code.
pub const RESET_COOKIE: &str = "yw_app_reset";
#[derive(Template)]
#[template(path = "me/forgot.html")]
struct ForgotPage {
    page: Page,
    /// `(field, message)`; `form` for the whole form.
    errors: Vec<(String, String)>,
}

impl ForgotPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Template)]
#[template(path = "me/reset.html")]
struct ResetPage {
    page: Page,
    /// The browser holds a ticket (a code was asked for).
    has_ticket: bool,
    minutes: i64,
    error: Option<String>,
}

fn forgot_page(locale: Locale, errors: Vec<(String, String)>) -> ForgotPage {
    ForgotPage {
        page: page(locale, None, "me.forgot.title", "/login/forgot"),
        errors,
    }
}

fn reset_page(locale: Locale, has_ticket: bool, error: Option<String>) -> ResetPage {
    ResetPage {
        page: page(locale, None, "me.reset.title", "/login/reset"),
        has_ticket,
        minutes: RESET_CODE_TTL_MS / 60_000,
        error,
    }
}

fn with_retry_after(mut resp: Response, retry_after_ms: i64) -> Response {
    let s = retry_after_seconds(retry_after_ms);
    if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

fn throttled_text(locale: Locale, retry_after_ms: i64) -> String {
    let s = retry_after_seconds(retry_after_ms).to_string();
    tf(locale.lang, "me.login.throttled", &[("seconds", &s)])
}

pub async fn forgot_form(locale: Locale, me: CurrentApplicant) -> PageResult {
    if me.0.is_some() {
        return Ok(see_other(locale, "/me/security"));
    }
    let tpl = forgot_page(locale, Vec::new());
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}

/// Asks for a code. The same answer whether or not the identifier and phone match an account.
pub async fn forgot_submit(
    State(state): State<AppState>,
    locale: Locale,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> PageResult {
    let form = read_form(req, &state).await?;
    let lang = locale.lang;
    let limited = |retry_after_ms| {
        let errors = vec![("form".to_string(), throttled_text(locale, retry_after_ms))];
        let tpl = forgot_page(locale, errors);
        with_retry_after(
            render(StatusCode::TOO_MANY_REQUESTS, &tpl, lang),
            retry_after_ms,
        )
    };
    let ticket = new_token();
    let asked = password_reset::request(
        &state.store,
        form.get("id_number"),
        form.get("phone"),
        &hash_token(&ticket),
        &client,
        state.now_ms(),
    )
    .await?;
    match asked {
        Asked::Limited { retry_after_ms } => return Ok(limited(retry_after_ms)),
        Asked::Invalid { id, phone } => {
            let errors = [("id_number", id), ("phone", phone)]
                .into_iter()
                .filter_map(|(field, code)| Some((field.to_string(), error_message(lang, code?))))
                .collect();
            let tpl = forgot_page(locale, errors);
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &tpl, lang));
        }
        Asked::Asked => {}
    }
    // Whether a code was sent is not told: the page and the cookie are the same either way.
    let mut resp = see_other(locale, "/login/reset");
    let cookie = named_cookie(&state, RESET_COOKIE, &ticket, RESET_CODE_TTL_MS / 1000);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

pub async fn form(
    State(state): State<AppState>,
    locale: Locale,
    headers: axum::http::HeaderMap,
) -> PageResult {
    let has_ticket =
        header_token(&headers, &crate::auth::cookie_name(&state, RESET_COOKIE)).is_some();
    let tpl = reset_page(locale, has_ticket, None);
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}

/// The code (and TOTP code) with the new password.
pub async fn submit(
    State(state): State<AppState>,
    locale: Locale,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> PageResult {
    let (ticket, form) = cookie_and_form(req, &state, RESET_COOKIE).await?;
    let lang = locale.lang;
    let has_ticket = ticket.is_some();
    let again =
        |status, msg: String| render(status, &reset_page(locale, has_ticket, Some(msg)), lang);
    let entered = NewPassword {
        code: form.get("code"),
        totp: form.get("totp"),
        password: form.get("new"),
        repeated: form.get("again"),
    };
    let ticket_hash = ticket.as_deref().map(hash_token);
    let reset = password_reset::complete(
        &state.store,
        ticket_hash.as_deref(),
        entered,
        &client,
        ADDRESS_THROTTLE,
        state.now_ms(),
    )
    .await?;
    let refused = |status, msg: String| Ok(again(status, msg));
    match reset {
        Reset::Limited { retry_after_ms } => {
            let resp = again(
                StatusCode::TOO_MANY_REQUESTS,
                throttled_text(locale, retry_after_ms),
            );
            Ok(with_retry_after(resp, retry_after_ms))
        }
        Reset::Incomplete => refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            error_message(lang, ErrorCode::Required),
        ),
        Reset::Mismatch => refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            t(lang, "me.register.mismatch").to_string(),
        ),
        Reset::Weak => refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            error_message(lang, ErrorCode::WeakPassword),
        ),
        Reset::Refused => refused(
            StatusCode::UNAUTHORIZED,
            t(lang, "me.reset.wrong").to_string(),
        ),
        Reset::Done => {
            let mut resp = see_other(locale, "/login?reset=done");
            let clear = named_cookie(&state, RESET_COOKIE, "", 0);
            if let Ok(v) = HeaderValue::from_str(&clear) {
                resp.headers_mut().insert(header::SET_COOKIE, v);
            }
            Ok(resp)
        }
    }
}
