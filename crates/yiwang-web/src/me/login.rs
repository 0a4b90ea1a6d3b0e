//! Applicant sign-in with a resident ID or credit code and a password. The same throttling as
//! staff sign-in: failures count against the account (locked after five, until an
//! administrator unlocks it) and the client address (429 with Retry-After).

use super::{APPLICANT_COOKIE, CurrentApplicant, page, start_session};
use crate::AppState;
use crate::auth::{
    ACCOUNT_THROTTLE, ADDRESS_THROTTLE, ClientAddr, hash_token, header_token, retry_after_seconds,
};
use crate::console::{
    ConsoleResult, login_safe_next, read_form, render, same_origin, see_other, store_fail,
};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use yiwang_domain::ErrorCode;
use yiwang_domain::case::ApplicantId;
use yiwang_i18n::{error_message, tf};
use yiwang_store::auth_guard::{Failure, Gate, account_key, address_key};

#[derive(Template)]
#[template(path = "me/login.html")]
struct LoginPage {
    page: Page,
    id_number: String,
    next: String,
    /// After a password reset: sign in with the new password.
    notice: Option<String>,
    error: Option<String>,
}

fn next_of(q: &[(String, String)]) -> String {
    let n = q
        .iter()
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.as_str())
        .unwrap_or("/me");
    safe(n)
}

fn safe(n: &str) -> String {
    let s = login_safe_next(n);
    if s == "/console" {
        "/me".to_string()
    } else {
        s
    }
}

pub async fn form(
    locale: Locale,
    me: CurrentApplicant,
    Query(q): Query<Vec<(String, String)>>,
) -> ConsoleResult {
    let next = next_of(&q);
    if me.0.is_some() {
        return Ok(see_other(locale, &next));
    }
    let notice = q
        .iter()
        .any(|(k, v)| k == "reset" && v == "done")
        .then(|| yiwang_i18n::t(locale.lang, "me.login.reset_done").to_string());
    let tpl = LoginPage {
        page: page(locale, None, "me.login.title", "/login"),
        id_number: String::new(),
        next,
        notice,
        error: None,
    };
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}

fn again(
    locale: Locale,
    id_number: &str,
    next: &str,
    status: StatusCode,
    msg: String,
    retry: Option<i64>,
) -> Response {
    let tpl = LoginPage {
        page: page(locale, None, "me.login.title", "/login"),
        // Shown back masked only if it parses; never echo a full ID number into the page.
        id_number: String::new(),
        next: next.to_string(),
        notice: None,
        error: Some(msg),
    };
    let _ = id_number;
    let mut resp = render(status, &tpl, locale.lang);
    if let Some(s) = retry
        && let Ok(v) = HeaderValue::from_str(&s.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

pub async fn submit(
    State(state): State<AppState>,
    locale: Locale,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> ConsoleResult {
    same_origin(req.headers(), locale)?;
    let old = header_token(req.headers(), APPLICANT_COOKIE);
    let form = read_form(req, &state, locale).await?;
    let next = safe(form.get("next"));
    let (raw_id, password) = (form.get("id_number"), form.get("password"));
    let now = state.now_ms();
    let lang = locale.lang;
    let bad = |status| {
        again(
            locale,
            raw_id,
            &next,
            status,
            error_message(lang, ErrorCode::BadLogin),
            None,
        )
    };
    // The address first: a throttled address learns nothing about accounts.
    match state
        .store
        .throttle_gate(&address_key(&client), ADDRESS_THROTTLE, now)
        .await
        .map_err(|e| store_fail(e, locale))?
    {
        Gate::Limited { retry_after_ms } => {
            let s = retry_after_seconds(retry_after_ms);
            let msg = tf(lang, "me.login.throttled", &[("seconds", &s.to_string())]);
            return Ok(again(
                locale,
                raw_id,
                &next,
                StatusCode::TOO_MANY_REQUESTS,
                msg,
                Some(s),
            ));
        }
        Gate::Locked | Gate::Open => {}
    }
    if password.is_empty() || password.len() > 1024 || raw_id.len() > 64 {
        return Ok(bad(StatusCode::UNAUTHORIZED));
    }
    let Ok(id) = ApplicantId::parse(raw_id) else {
        return Ok(again(
            locale,
            raw_id,
            &next,
            StatusCode::UNPROCESSABLE_ENTITY,
            error_message(lang, ErrorCode::InvalidApplicantId),
            None,
        ));
    };
    let found = state
        .store
        .applicant_for_login(&id)
        .await
        .map_err(|e| store_fail(e, locale))?;
    // Unknown identifiers are counted against the address under a name that is not personal data.
    let handle = found
        .as_ref()
        .map(|(a, _)| a.handle.clone())
        .unwrap_or_else(|| "applicant-unknown".to_string());
    if found.is_some() {
        let gate = state
            .store
            .throttle_gate(&account_key(&handle), ACCOUNT_THROTTLE, now)
            .await
            .map_err(|e| store_fail(e, locale))?;
        if gate == Gate::Locked {
            // Still counted against the address, so a locked account is no free guessing ground.
            state
                .store
                .record_login_failure(
                    &Failure {
                        username: &handle,
                        user_id: None,
                        client: &client,
                        reason: "locked",
                        now_ms: now,
                    },
                    ACCOUNT_THROTTLE,
                    ADDRESS_THROTTLE,
                )
                .await
                .map_err(|e| store_fail(e, locale))?;
            let msg = error_message(lang, ErrorCode::Forbidden);
            let locked = yiwang_i18n::t(lang, "me.login.locked").to_string();
            return Ok(again(
                locale,
                raw_id,
                &next,
                StatusCode::FORBIDDEN,
                format!("{locked} {msg}"),
                None,
            ));
        }
    }
    let ok = match &found {
        Some((_, hash)) => yiwang_store::verify_password(password, hash),
        None => {
            // Same work for unknown accounts, so timing does not tell them apart.
            let _ = yiwang_store::verify_password(password, dummy_hash());
            false
        }
    };
    let Some((applicant, _)) = found.filter(|_| ok) else {
        state
            .store
            .record_login_failure(
                &Failure {
                    username: &handle,
                    user_id: None,
                    client: &client,
                    reason: "password",
                    now_ms: now,
                },
                ACCOUNT_THROTTLE,
                ADDRESS_THROTTLE,
            )
            .await
            .map_err(|e| store_fail(e, locale))?;
        return Ok(bad(StatusCode::UNAUTHORIZED));
    };
    let has_totp = state
        .store
        .applicant_totp(applicant.id)
        .await
        .map_err(|e| store_fail(e, locale))?
        .is_some();
    if has_totp {
        // Second step: a pending sign-in, answered by a one-time code.
        let token = crate::auth::new_token();
        state
            .store
            .create_applicant_challenge(&hash_token(&token), applicant.id, now, CHALLENGE_TTL_MS)
            .await
            .map_err(|e| store_fail(e, locale))?;
        let mut resp = see_other(
            locale,
            &format!("/login/code?next={}", crate::console::encode(&next)),
        );
        let cookie = super::named_cookie(&state, PENDING_COOKIE, &token, CHALLENGE_TTL_MS / 1000);
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().insert(header::SET_COOKIE, v);
        }
        return Ok(resp);
    }
    finish(&state, locale, &applicant, &client, old.as_deref(), &next).await
}

/// Names an applicant's pending sign-in between password and code.
pub const PENDING_COOKIE: &str = "yw_app_pending";
const CHALLENGE_TTL_MS: i64 = 5 * 60 * 1000;

/// A complete sign-in: audited, failures cleared, a fresh session id.
async fn finish(
    state: &AppState,
    locale: Locale,
    applicant: &yiwang_store::applicants::Applicant,
    client: &str,
    old: Option<&str>,
    next: &str,
) -> ConsoleResult {
    state
        .store
        .record_applicant_login(applicant, client, state.now_ms())
        .await
        .map_err(|e| store_fail(e, locale))?;
    let cookie = start_session(state, applicant.id, old)
        .await
        .map_err(|e| store_fail(e, locale))?;
    let mut resp = see_other(locale, next);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    let clear = super::named_cookie(state, PENDING_COOKIE, "", 0);
    if let Ok(v) = HeaderValue::from_str(&clear) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[derive(Template)]
#[template(path = "me/login_code.html")]
struct CodePage {
    page: Page,
    next: String,
    error: Option<String>,
}

pub async fn code_form(
    locale: Locale,
    Query(q): Query<Vec<(String, String)>>,
    headers: axum::http::HeaderMap,
) -> ConsoleResult {
    let next = next_of(&q);
    if header_token(&headers, PENDING_COOKIE).is_none() {
        return Ok(see_other(locale, "/login"));
    }
    let tpl = CodePage {
        page: page(locale, None, "me.login.code_title", "/login/code"),
        next,
        error: None,
    };
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}

/// The one-time code of a pending sign-in. Wrong codes count like wrong passwords.
pub async fn code_submit(
    State(state): State<AppState>,
    locale: Locale,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> ConsoleResult {
    same_origin(req.headers(), locale)?;
    let pending = header_token(req.headers(), PENDING_COOKIE);
    let old = header_token(req.headers(), APPLICANT_COOKIE);
    let form = read_form(req, &state, locale).await?;
    let next = safe(form.get("next"));
    let now = state.now_ms();
    let Some(pending) = pending else {
        return Ok(see_other(locale, "/login"));
    };
    let fail = |e| store_fail(e, locale);
    let Some(applicant_id) = state
        .store
        .applicant_challenge(&hash_token(&pending), now)
        .await
        .map_err(fail)?
    else {
        return Ok(see_other(locale, "/login"));
    };
    let applicant = state
        .store
        .applicant(applicant_id)
        .await
        .map_err(fail)?
        .ok_or_else(|| crate::console::fail(ErrorCode::NotFound, locale))?;
    if let Gate::Limited { retry_after_ms } = state
        .store
        .throttle_gate(&address_key(&client), ADDRESS_THROTTLE, now)
        .await
        .map_err(fail)?
    {
        let s = retry_after_seconds(retry_after_ms);
        let tpl = CodePage {
            page: page(locale, None, "me.login.code_title", "/login/code"),
            next,
            error: Some(tf(
                locale.lang,
                "me.login.throttled",
                &[("seconds", &s.to_string())],
            )),
        };
        return Ok(render(StatusCode::TOO_MANY_REQUESTS, &tpl, locale.lang));
    }
    let secret = state
        .store
        .applicant_totp(applicant_id)
        .await
        .map_err(fail)?;
    let step = secret.and_then(|s| yiwang_store::totp::verify(&s, form.get("code"), now));
    let accepted = match step {
        Some(step) => state
            .store
            .accept_applicant_totp_step(applicant_id, step)
            .await
            .map_err(fail)?,
        None => false,
    };
    if !accepted {
        state
            .store
            .record_login_failure(
                &Failure {
                    username: &applicant.handle,
                    user_id: None,
                    client: &client,
                    reason: "totp",
                    now_ms: now,
                },
                ACCOUNT_THROTTLE,
                ADDRESS_THROTTLE,
            )
            .await
            .map_err(fail)?;
        let tpl = CodePage {
            page: page(locale, None, "me.login.code_title", "/login/code"),
            next,
            error: Some(yiwang_i18n::t(locale.lang, "me.login.code_wrong").to_string()),
        };
        return Ok(render(StatusCode::UNAUTHORIZED, &tpl, locale.lang));
    }
    state
        .store
        .delete_applicant_challenge(&hash_token(&pending))
        .await
        .map_err(fail)?;
    finish(&state, locale, &applicant, &client, old.as_deref(), &next).await
}

/// An Argon2id hash (same parameters as real ones) checked when the account does not exist.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| yiwang_store::hash_password("no-such-account-Aa1!").unwrap_or_default())
}

pub async fn logout(State(state): State<AppState>, locale: Locale, req: Request) -> ConsoleResult {
    same_origin(req.headers(), locale)?;
    if let Some(t) = header_token(req.headers(), APPLICANT_COOKIE) {
        state
            .store
            .delete_applicant_session(&hash_token(&t))
            .await
            .map_err(|e| store_fail(e, locale))?;
    }
    let mut resp = see_other(locale, "/");
    if let Ok(v) = HeaderValue::from_str(&super::session_cookie(&state, "", 0)) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp.into_response())
}
