//! Applicant sign-in with a resident ID or credit code and a password. The same throttling as
//! staff sign-in: every attempt is reserved before the password or code is checked, against
//! the account (five failures lock it for fifteen minutes, longer for each further lock in a
//! row; a password reset or an administrator lifts it) and the client address (429 with
//! Retry-After). A number without an account is limited and locked exactly like a registered
//! one, and costs the same Argon2 check, so the answers tell nobody which numbers have
//! accounts.

use super::{APPLICANT_COOKIE, CurrentApplicant, page, start_session};
use crate::AppState;
use crate::auth::{
    ACCOUNT_THROTTLE, ADDRESS_THROTTLE, ClientAddr, hash_token, header_token, retry_after_seconds,
};
use crate::html::fail;
use crate::html::{PageResult, read_form, render, safe_next, see_other};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use yiwang_domain::ErrorCode;
use yiwang_domain::case::ApplicantId;
use yiwang_i18n::{error_message, tf};
use yiwang_store::auth_guard::{Attempt, Failure, Gate, account_key, address_key};

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

/// `n` if it is a safe way back for an applicant, else the applicant's home. The console home
/// is no place for an applicant (it also stood for "unsafe" before `safe_next` was an `Option`).
fn safe(n: &str) -> String {
    safe_next(n)
        .filter(|n| *n != "/console")
        .unwrap_or("/me")
        .to_string()
}

pub async fn form(
    locale: Locale,
    me: CurrentApplicant,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
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
    next: &str,
    status: StatusCode,
    msg: String,
    retry: Option<i64>,
) -> Response {
    let tpl = LoginPage {
        page: page(locale, None, "me.login.title", "/login"),
        // Never echo an ID number back into the page.
        id_number: String::new(),
        next: next.to_string(),
        notice: None,
        error: Some(msg),
    };
    let mut resp = render(status, &tpl, locale.lang);
    if let Some(s) = retry
        && let Ok(v) = HeaderValue::from_str(&s.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// Why an attempt is refused, as the applicant's page says it.
fn refusal(locale: Locale, next: &str, gate: Gate, otherwise: (StatusCode, String)) -> Response {
    let lang = locale.lang;
    match gate {
        Gate::Locked { retry_after_ms } => {
            let minutes = (retry_after_seconds(retry_after_ms) + 59) / 60;
            let locked = tf(
                lang,
                "me.login.locked",
                &[("minutes", &minutes.to_string())],
            );
            let msg = error_message(lang, ErrorCode::Forbidden);
            again(
                locale,
                next,
                StatusCode::FORBIDDEN,
                format!("{locked} {msg}"),
                None,
            )
        }
        Gate::Limited { retry_after_ms } => {
            let s = retry_after_seconds(retry_after_ms);
            let msg = tf(lang, "me.login.throttled", &[("seconds", &s.to_string())]);
            again(locale, next, StatusCode::TOO_MANY_REQUESTS, msg, Some(s))
        }
        Gate::Open => again(locale, next, otherwise.0, otherwise.1, None),
    }
}

pub async fn submit(
    State(state): State<AppState>,
    locale: Locale,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> PageResult {
    let old = header_token(
        req.headers(),
        &crate::auth::cookie_name(&state, APPLICANT_COOKIE),
    );
    let form = read_form(req, &state).await?;
    let next = safe(form.get("next"));
    let (raw_id, password) = (form.get("id_number"), form.get("password"));
    let now = state.now_ms();
    let lang = locale.lang;
    let bad = (
        StatusCode::UNAUTHORIZED,
        error_message(lang, ErrorCode::BadLogin),
    );
    if password.is_empty() || password.len() > 1024 || raw_id.len() > 64 {
        return Ok(again(locale, &next, bad.0, bad.1, None));
    }
    let Ok(id) = ApplicantId::parse(raw_id) else {
        return Ok(again(
            locale,
            &next,
            StatusCode::UNPROCESSABLE_ENTITY,
            error_message(lang, ErrorCode::InvalidApplicantId),
            None,
        ));
    };
    let found = state.store.applicant_for_login(&id).await?;
    // Registered or not, the number is limited and locked the same way, under a name that is
    // not personal data.
    let name = state
        .store
        .applicant_throttle_name(&id, found.as_ref().map(|(a, _)| a))?;
    // The address first, then the account: each attempt is reserved before the password is
    // checked, so parallel requests get no more checks than the limit.
    let attempt = Attempt {
        username: &name,
        user_id: None,
        client: &client,
        now_ms: now,
    };
    let gate = state
        .store
        .begin_attempt(&attempt, ACCOUNT_THROTTLE, ADDRESS_THROTTLE)
        .await?;
    if gate != Gate::Open {
        return Ok(refusal(locale, &next, gate, bad));
    }
    // One Argon2 check either way (a dummy hash for unknown numbers), on the bounded pool.
    let hash = found
        .as_ref()
        .map_or(yiwang_store::dummy_hash(), |(_, h)| h.as_str());
    let ok = state.store.check_password(password, hash).await?;
    let Some((applicant, _)) = found.filter(|_| ok) else {
        let failure = Failure {
            username: &name,
            user_id: None,
            client: &client,
            reason: "password",
            now_ms: now,
        };
        let gate = state
            .store
            .attempt_failed(&failure, ACCOUNT_THROTTLE, ADDRESS_THROTTLE)
            .await?
            .0;
        // The failure that locks says so; the ones before only "wrong".
        let gate = if gate.is_locked() { gate } else { Gate::Open };
        return Ok(refusal(locale, &next, gate, bad));
    };
    let has_totp = state.store.applicant_totp(applicant.id).await?.is_some();
    // The address gets its reservation back; so does the account when a code is still asked
    // for (the code step reserves its own).
    let keys = [address_key(&client), account_key(&name)];
    let release: Vec<&str> = keys
        .iter()
        .take(if has_totp { 2 } else { 1 })
        .map(String::as_str)
        .collect();
    state.store.release_attempt(&release).await?;
    if has_totp {
        // Second step: a pending sign-in, answered by a one-time code.
        let token = crate::auth::new_token();
        state
            .store
            .create_applicant_challenge(&hash_token(&token), applicant.id, now, CHALLENGE_TTL_MS)
            .await?;
        let mut resp = see_other(
            locale,
            &format!("/login/code?next={}", crate::link::encode_query(&next)),
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
/// Wrong codes a pending sign-in allows; then it ends and the password is asked again.
pub const CODE_TRIES: i64 = 3;

/// A complete sign-in: audited, failures cleared, a fresh session id.
async fn finish(
    state: &AppState,
    locale: Locale,
    applicant: &yiwang_store::applicants::Applicant,
    client: &str,
    old: Option<&str>,
    next: &str,
) -> PageResult {
    state
        .store
        .record_applicant_login(applicant, client, state.now_ms())
        .await?;
    let cookie = start_session(state, applicant.id, old).await?;
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
    State(state): State<AppState>,
    locale: Locale,
    Query(q): Query<Vec<(String, String)>>,
    headers: axum::http::HeaderMap,
) -> PageResult {
    let next = next_of(&q);
    let name = crate::auth::cookie_name(&state, PENDING_COOKIE);
    if header_token(&headers, &name).is_none() {
        return Ok(see_other(locale, "/login"));
    }
    Ok(code_page(locale, &next, None, StatusCode::OK))
}

fn code_page(locale: Locale, next: &str, error: Option<String>, status: StatusCode) -> Response {
    let tpl = CodePage {
        page: page(locale, None, "me.login.code_title", "/login/code"),
        next: next.to_string(),
        error,
    };
    render(status, &tpl, locale.lang)
}

/// `resp` with the pending sign-in's cookie cleared.
fn clearing(state: &AppState, mut resp: Response) -> Response {
    let clear = super::named_cookie(state, PENDING_COOKIE, "", 0);
    if let Ok(v) = HeaderValue::from_str(&clear) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// The one-time code of a pending sign-in. Each code is counted before it is checked: against
/// the pending sign-in (it ends after [`CODE_TRIES`] wrong codes), the client address and the
/// account (wrong codes count like wrong passwords; a locked account ends the sign-in).
pub async fn code_submit(
    State(state): State<AppState>,
    locale: Locale,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> PageResult {
    let named = |base| crate::auth::cookie_name(&state, base);
    let pending = header_token(req.headers(), &named(PENDING_COOKIE));
    let old = header_token(req.headers(), &named(APPLICANT_COOKIE));
    let form = read_form(req, &state).await?;
    let next = safe(form.get("next"));
    let now = state.now_ms();
    let lang = locale.lang;
    let Some(pending) = pending else {
        return Ok(see_other(locale, "/login"));
    };
    let pending_hash = hash_token(&pending);
    let ended = |status| {
        let msg = yiwang_i18n::t(lang, "me.login.code_ended").to_string();
        clearing(&state, again(locale, &next, status, msg, None))
    };
    let Some((applicant_id, attempts)) = state
        .store
        .reserve_applicant_challenge_attempt(&pending_hash, now, CODE_TRIES)
        .await?
    else {
        // Gone or expired (one that ran out of tries was ended with its last wrong code).
        state
            .store
            .delete_applicant_challenge(&pending_hash)
            .await?;
        return Ok(clearing(&state, see_other(locale, "/login")));
    };
    let applicant = state
        .store
        .applicant(applicant_id)
        .await?
        .ok_or_else(|| fail(ErrorCode::NotFound))?;
    let attempt = Attempt {
        username: &applicant.handle,
        user_id: None,
        client: &client,
        now_ms: now,
    };
    let gate = state
        .store
        .begin_attempt(&attempt, ACCOUNT_THROTTLE, ADDRESS_THROTTLE)
        .await?;
    if gate != Gate::Open {
        if gate.is_locked() {
            // A locked account has no pending sign-in.
            state
                .store
                .delete_applicant_challenge(&pending_hash)
                .await?;
        }
        let wrong = (StatusCode::UNAUTHORIZED, String::new());
        return Ok(clearing(&state, refusal(locale, &next, gate, wrong)));
    }
    let secret = state.store.applicant_totp(applicant_id).await?;
    let code = form.get("code");
    let step = secret
        .filter(|_| code.len() <= 16)
        .and_then(|s| yiwang_store::totp::verify(&s, code, now));
    let accepted = match step {
        Some(step) => {
            state
                .store
                .accept_applicant_totp_step(applicant_id, step)
                .await?
        }
        None => false,
    };
    if !accepted {
        let failure = Failure {
            username: &applicant.handle,
            user_id: None,
            client: &client,
            reason: "totp",
            now_ms: now,
        };
        let gate = state
            .store
            .attempt_failed(&failure, ACCOUNT_THROTTLE, ADDRESS_THROTTLE)
            .await?
            .0;
        let spent = attempts >= CODE_TRIES;
        if gate.is_locked() || spent {
            state
                .store
                .delete_applicant_challenge(&pending_hash)
                .await?;
            if gate.is_locked() {
                let wrong = (StatusCode::UNAUTHORIZED, String::new());
                return Ok(clearing(&state, refusal(locale, &next, gate, wrong)));
            }
            return Ok(ended(StatusCode::UNAUTHORIZED));
        }
        let error = Some(yiwang_i18n::t(lang, "me.login.code_wrong").to_string());
        return Ok(code_page(locale, &next, error, StatusCode::UNAUTHORIZED));
    }
    state
        .store
        .delete_applicant_challenge(&pending_hash)
        .await?;
    state
        .store
        .release_attempt(&[&address_key(&client)])
        .await?;
    finish(&state, locale, &applicant, &client, old.as_deref(), &next).await
}

pub async fn logout(State(state): State<AppState>, locale: Locale, req: Request) -> PageResult {
    if let Some(t) = header_token(
        req.headers(),
        &crate::auth::cookie_name(&state, APPLICANT_COOKIE),
    ) {
        state
            .store
            .delete_applicant_session(&hash_token(&t))
            .await?;
    }
    let mut resp = see_other(locale, "/");
    if let Ok(v) = HeaderValue::from_str(&crate::auth::applicant::session_cookie(&state, "", 0)) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp.into_response())
}
