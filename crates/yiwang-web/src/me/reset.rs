//! A forgotten password (忘记密码), without a session. The applicant gives the sign-in
//! identifier and the registered phone; when both match, a six-digit code goes to that phone by
//! SMS (`yiwang_store::password_reset`). Either way the answer is the same page and the browser
//! gets a random ticket cookie, so nobody learns whether an account exists. The code, with the
//! current authenticator code when the account has one, then sets a new password; every session
//! of the applicant ends.
//!
//! Requests are limited per identifier and per client address (429 with Retry-After, whether or
//! not the identifier is registered); wrong codes count against the address, and each code
//! allows five tries.

use super::{CurrentApplicant, named_cookie, page};
use crate::AppState;
use crate::auth::{
    ADDRESS_THROTTLE, ClientAddr, hash_token, header_token, new_token, retry_after_seconds,
};
use crate::html::{PageError, PageResult, cookie_and_form, read_form, render, see_other};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use yiwang_domain::ErrorCode;
use yiwang_domain::case::ApplicantId;
use yiwang_domain::codes::Phone;
use yiwang_i18n::{error_message, t, tf};
use yiwang_store::auth_guard::{Gate, Throttle};
use yiwang_store::password_reset::{
    RESET_CODE_TTL_MS, ResetAttempt, ResetOutcome, ResetRequest, new_code,
};

/// Names the browser's pending reset (its ticket) between the request and the code.
pub const RESET_COOKIE: &str = "yw_app_reset";
const HOUR_MS: i64 = 60 * 60 * 1000;
/// Code requests per identifier per hour, counted whether or not an account has it.
pub const RESET_ACCOUNT_THROTTLE: Throttle = Throttle {
    limit: 5,
    window_ms: HOUR_MS,
    lock: false,
};
/// Code requests per client address per hour.
pub const RESET_ADDRESS_THROTTLE: Throttle = Throttle {
    limit: 20,
    window_ms: HOUR_MS,
    lock: false,
};

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

/// Checks `key` against `limit` and, when open, counts this attempt; the wait when limited.
async fn spend(state: &AppState, key: &str, limit: Throttle) -> Result<Option<i64>, PageError> {
    let now = state.now_ms();
    let store = &state.store;
    let gate = store.throttle_gate(key, limit, now).await?;
    if let Gate::Limited { retry_after_ms } = gate {
        return Ok(Some(retry_after_ms));
    }
    store.count_attempt(key, limit, now).await?;
    Ok(None)
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
    // The address first: a throttled address learns nothing about identifiers.
    let addr_key = format!("reset-request:{client}");
    if let Some(wait) = spend(&state, &addr_key, RESET_ADDRESS_THROTTLE).await? {
        return Ok(limited(wait));
    }
    let (raw_id, raw_phone) = (form.get("id_number"), form.get("phone"));
    let id = if raw_id.len() <= 64 {
        ApplicantId::parse(raw_id)
    } else {
        Err(ErrorCode::InvalidApplicantId)
    };
    let phone = if raw_phone.len() <= 32 {
        Phone::parse(raw_phone)
    } else {
        Err(ErrorCode::InvalidInput)
    };
    let mut errors = Vec::new();
    if let Err(code) = &id {
        errors.push(("id_number".to_string(), error_message(lang, *code)));
    }
    if let Err(code) = &phone {
        errors.push(("phone".to_string(), error_message(lang, *code)));
    }
    let (Ok(id), Ok(phone)) = (id, phone) else {
        let tpl = forgot_page(locale, errors);
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &tpl, lang));
    };
    let id_key = state.store.reset_throttle_key(&id)?;
    if let Some(wait) = spend(&state, &id_key, RESET_ACCOUNT_THROTTLE).await? {
        return Ok(limited(wait));
    }
    let ticket = new_token();
    let code = new_code();
    // Whether a code was sent is not told: the page and the cookie are the same either way.
    state
        .store
        .request_password_reset(&ResetRequest {
            id: &id,
            phone: &phone,
            ticket_hash: &hash_token(&ticket),
            code: &code,
            client: &client,
            now_ms: state.now_ms(),
        })
        .await?;
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
    let addr_key = format!("reset-code:{client}");
    let now = state.now_ms();
    if let Gate::Limited { retry_after_ms } = state
        .store
        .throttle_gate(&addr_key, ADDRESS_THROTTLE, now)
        .await?
    {
        let resp = again(
            StatusCode::TOO_MANY_REQUESTS,
            throttled_text(locale, retry_after_ms),
        );
        return Ok(with_retry_after(resp, retry_after_ms));
    }
    let (code, totp) = (form.get("code"), form.get("totp"));
    let (new, repeat) = (form.get("new"), form.get("again"));
    if code.trim().is_empty() || new.is_empty() {
        return Ok(again(
            StatusCode::UNPROCESSABLE_ENTITY,
            error_message(lang, ErrorCode::Required),
        ));
    }
    if new != repeat {
        let msg = t(lang, "me.register.mismatch").to_string();
        return Ok(again(StatusCode::UNPROCESSABLE_ENTITY, msg));
    }
    if !yiwang_store::password_acceptable(new) {
        return Ok(again(
            StatusCode::UNPROCESSABLE_ENTITY,
            error_message(lang, ErrorCode::WeakPassword),
        ));
    }
    let outcome = match &ticket {
        None => ResetOutcome::Refused,
        Some(ticket) => {
            state
                .store
                .complete_password_reset(&ResetAttempt {
                    ticket_hash: &hash_token(ticket),
                    code: code.get(..code.len().min(64)).unwrap_or_default(),
                    totp: totp.get(..totp.len().min(64)).unwrap_or_default(),
                    new_password: new,
                    client: &client,
                    now_ms: now,
                })
                .await?
        }
    };
    match outcome {
        ResetOutcome::Done(_) => {
            let mut resp = see_other(locale, "/login?reset=done");
            let clear = named_cookie(&state, RESET_COOKIE, "", 0);
            if let Ok(v) = HeaderValue::from_str(&clear) {
                resp.headers_mut().insert(header::SET_COOKIE, v);
            }
            Ok(resp)
        }
        ResetOutcome::Refused => {
            state
                .store
                .count_attempt(&addr_key, ADDRESS_THROTTLE, now)
                .await?;
            let msg = t(lang, "me.reset.wrong").to_string();
            Ok(again(StatusCode::UNAUTHORIZED, msg))
        }
    }
}
