//! Sign in, second step: the one-time code (TOTP) after a correct password.
//!
//! The pending sign-in lives on the server (`login_challenges`), named by the `yw_pending`
//! cookie. An account without TOTP enrols here: the page shows the new key and its `otpauth://`
//! link as text and as a QR code (inline SVG, no script), and the first correct code stores the key. Each time step is accepted once.
//! Success replaces the pending sign-in (and any older session of the browser) by a new session.

use super::login::{
    Refusal, begin, enter, failed, login_again, next_param, step_post, with_cookies,
};
use crate::AppState;
use crate::auth::{ClientAddr, CurrentUser, PENDING_COOKIE, hash_token, header_token};
use crate::html::PageError;
use crate::html::{PageResult, render};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use yiwang_i18n::t;
use yiwang_store::auth_guard::Failure;
use yiwang_store::{Challenge, ChallengeStage, StepOutcome, totp};

/// Wrong codes a pending sign-in allows (the account locks after five failures in any case).
const CODE_TRIES: i64 = 5;

#[derive(Template)]
#[template(path = "console/login_totp.html")]
struct TotpPage {
    page: Page,
    next: String,
    /// On first sign-in: the key and its setup link.
    enrol: Option<(String, String)>,
    /// The setup link as a QR code (an authenticator app scans it instead of typing the key).
    qr: Option<yiwang_docs::QrSvg>,
    error: Option<String>,
}

fn totp_page(
    locale: Locale,
    challenge: &Challenge,
    next: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let enrol = match &challenge.stage {
        ChallengeStage::Enrol { secret } => Some((
            secret.clone(),
            totp::otpauth_url(secret, &challenge.username).unwrap_or_default(),
        )),
        ChallengeStage::Totp | ChallengeStage::ChangePassword => None,
    };
    let qr = enrol
        .as_ref()
        .and_then(|(_, url)| yiwang_docs::qr_svg(url).ok());
    let key = if enrol.is_some() {
        "console.enrol.title"
    } else {
        "console.totp.title"
    };
    let tpl = TotpPage {
        page: Page::new(
            locale,
            t(locale.lang, key),
            format!(
                "/console/login/totp?next={}",
                crate::link::encode_query(next)
            ),
        ),
        next: next.to_string(),
        enrol,
        qr,
        error,
    };
    render(status, &tpl, locale.lang)
}

async fn pending(
    state: &AppState,
    token: Option<&str>,
) -> Result<Option<Challenge>, crate::html::PageError> {
    match token {
        None => Ok(None),
        Some(t) => state
            .store
            .challenge(&hash_token(t), state.now_ms())
            .await
            .map_err(PageError::from),
    }
}

pub async fn form(
    State(state): State<AppState>,
    locale: Locale,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> PageResult {
    let next = next_param(&q);
    let Some(c) = pending(
        &state,
        header_token(&headers, &crate::auth::cookie_name(&state, PENDING_COOKIE)).as_deref(),
    )
    .await?
    else {
        let to = format!("/console/login?next={}", crate::link::encode_query(&next));
        return Ok(crate::html::see_other(locale, &to));
    };
    if c.stage == ChallengeStage::ChangePassword {
        let to = format!(
            "/console/login/password?next={}",
            crate::link::encode_query(&next)
        );
        return Ok(crate::html::see_other(locale, &to));
    }
    Ok(totp_page(locale, &c, &next, None, StatusCode::OK))
}

pub async fn submit(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> PageResult {
    let post = step_post(&state, req).await?;
    let (pending_token, next, clear) =
        (post.pending.clone(), post.next.clone(), post.clear.clone());
    let code = post.form.get("code");
    let Some(c) = pending(&state, pending_token.as_deref()).await? else {
        let res = login_again(locale, &user, "", &next, Refusal::Expired);
        return Ok(with_cookies(res, &[clear]));
    };
    if c.stage == ChallengeStage::ChangePassword {
        // Password and code were accepted already; only a new password is missing.
        let to = format!(
            "/console/login/password?next={}",
            crate::link::encode_query(&next)
        );
        return Ok(crate::html::see_other(locale, &to));
    }
    let drop_challenge = || async {
        if let Some(t) = &pending_token {
            state.store.delete_challenge(&hash_token(t)).await
        } else {
            Ok(())
        }
    };
    // Each code is counted before it is checked: against this pending sign-in (it ends after
    // CODE_TRIES wrong codes), then the address and the account.
    let Some(tries) = state
        .store
        .reserve_challenge_attempt(
            &hash_token(pending_token.as_deref().unwrap_or("")),
            state.now_ms(),
            CODE_TRIES,
        )
        .await?
    else {
        drop_challenge().await?;
        let res = login_again(locale, &user, &c.username, &next, Refusal::CodesSpent);
        return Ok(with_cookies(res, &[clear]));
    };
    if let Some(refusal) = begin(&state, &client, &c.username, Some(c.user_id)).await? {
        if refusal.is_locked() {
            drop_challenge().await?;
        }
        let res = login_again(locale, &user, &c.username, &next, refusal);
        return Ok(with_cookies(res, &[clear]));
    }
    let now = state.now_ms();
    let (secret, enrol) = match &c.stage {
        ChallengeStage::Enrol { secret } => (Some(secret.clone()), true),
        ChallengeStage::Totp => (
            state.store.user_totp(c.user_id).await?.map(|i| i.secret),
            false,
        ),
        ChallengeStage::ChangePassword => (None, false),
    };
    let step = secret
        .as_deref()
        .filter(|_| code.len() <= 16)
        .and_then(|s| totp::verify(s, code, now));
    let outcome = match (step, &secret) {
        (Some(step), Some(s)) => Some(
            state
                .store
                .accept_totp_step(c.user_id, step, enrol.then_some(s.as_str()), now)
                .await?,
        ),
        _ => None,
    };
    if outcome != Some(StepOutcome::Accepted) {
        let (reason, message) = match outcome {
            Some(StepOutcome::Replayed) => ("totp_replay", "console.totp.replayed"),
            _ => ("totp", "console.totp.bad_code"),
        };
        let failure = Failure {
            username: &c.username,
            user_id: Some(c.user_id),
            client: &client,
            reason,
            now_ms: now,
        };
        let refusal = failed(&state, failure, Refusal::BadLogin).await?;
        let refusal = match refusal {
            Refusal::BadLogin if tries >= CODE_TRIES => Refusal::CodesSpent,
            r => r,
        };
        if refusal != Refusal::BadLogin {
            drop_challenge().await?;
            let res = login_again(locale, &user, &c.username, &next, refusal);
            return Ok(with_cookies(res, &[clear]));
        }
        let error = Some(t(locale.lang, message).to_string());
        return Ok(totp_page(
            locale,
            &c,
            &next,
            error,
            StatusCode::UNAUTHORIZED,
        ));
    }
    drop_challenge().await?;
    // The address gets its reservation back; the account's failures end with the sign-in.
    state
        .store
        .release_attempt(&[&yiwang_store::auth_guard::address_key(&client)])
        .await?;
    let Some(p) = state.store.principal(c.user_id).await? else {
        let res = login_again(locale, &user, "", &next, Refusal::Expired);
        return Ok(with_cookies(res, &[clear]));
    };
    // A password set by an administrator: a new one first, before any session.
    if state.store.must_change_password(p.user_id).await? {
        return super::login_password::start(&state, p.user_id, &next, locale).await;
    }
    enter(&state, &p, &client, post).await
}
