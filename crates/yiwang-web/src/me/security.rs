//! The applicant's own sign-in security: turning the one-time code (TOTP) on — a new key is
//! shown, and only a correct code from it switches the second step on — and off or to another
//! key (a current code is needed, so a stolen session cannot remove or replace it).

use super::{CurrentApplicant, page};
use crate::AppState;
use crate::auth::ClientAddr;
use crate::html::{PageResult, read_form, render, see_other};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;

#[derive(Template)]
#[template(path = "me/security.html")]
struct SecurityPage {
    page: Page,
    enabled: bool,
    /// A new key offered for enrolment (when off), and its otpauth link.
    secret: String,
    otpauth: String,
    /// The otpauth link as a QR code (enrolment only).
    qr: Option<yiwang_docs::QrSvg>,
    notice: Option<String>,
    error: Option<String>,
}

async fn show_page(
    state: &AppState,
    locale: Locale,
    a: &yiwang_store::applicants::Applicant,
    secret: Option<String>,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> PageResult {
    let enabled = state.store.applicant_totp(a.id).await?.is_some();
    let secret = secret.unwrap_or_else(yiwang_store::totp::new_secret);
    let otpauth = yiwang_store::totp::otpauth_url(&secret, &a.handle).unwrap_or_default();
    let qr = (!enabled)
        .then(|| yiwang_docs::qr_svg(&otpauth).ok())
        .flatten();
    let tpl = SecurityPage {
        page: page(locale, Some(a), "me.security.title", "/me/security"),
        enabled,
        secret,
        otpauth,
        qr,
        notice,
        error,
    };
    Ok(render(status, &tpl, locale.lang))
}

pub async fn show(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let a = me.require(locale, "/me/security")?;
    let notice = q.iter().find(|(k, _)| k == "done").map(|(_, v)| {
        let key = if v == "on" {
            "me.security.on_done"
        } else {
            "me.security.off_done"
        };
        yiwang_i18n::t(locale.lang, key).to_string()
    });
    show_page(&state, locale, a, None, notice, None, StatusCode::OK).await
}

fn wrong(locale: Locale) -> Option<String> {
    Some(yiwang_i18n::t(locale.lang, "me.login.code_wrong").to_string())
}

/// Turns the second step on with the offered key, after a correct code from it.
pub async fn enable(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> PageResult {
    let a = me.require(locale, "/me/security")?.clone();
    let form = read_form(req, &state).await?;
    let secret = form.get("secret").trim().to_string();
    let now = state.now_ms();
    // A key already on is replaced only with a code from it (`current`), so a stolen session
    // cannot move the second step to the thief's phone.
    let existing = state.store.applicant_totp(a.id).await?;
    if let Some(old) = existing {
        let current = form.get("current");
        let step = Some(current)
            .filter(|c| c.len() <= 16)
            .and_then(|c| yiwang_store::totp::verify(&old, c, now));
        let ok = match step {
            Some(step) => state.store.accept_applicant_totp_step(a.id, step).await?,
            None => false,
        };
        if !ok {
            let msg = yiwang_i18n::t(locale.lang, "me.security.replace_needs_code").to_string();
            return show_page(
                &state,
                locale,
                &a,
                None,
                None,
                Some(msg),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    }
    let step = yiwang_store::totp::verify(&secret, form.get("code"), now);
    let Some(step) = step.filter(|_| secret.len() <= 64) else {
        return show_page(
            &state,
            locale,
            &a,
            Some(secret).filter(|s| s.len() <= 64),
            None,
            wrong(locale),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    state
        .store
        .set_applicant_totp(&a, Some(&secret), &client, now)
        .await?;
    state.store.accept_applicant_totp_step(a.id, step).await?;
    Ok(see_other(locale, "/me/security?done=on"))
}

/// Turns the second step off; a current code is required.
pub async fn disable(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> PageResult {
    let a = me.require(locale, "/me/security")?.clone();
    let form = read_form(req, &state).await?;
    let now = state.now_ms();
    let current = state.store.applicant_totp(a.id).await?;
    let step = current.and_then(|s| yiwang_store::totp::verify(&s, form.get("code"), now));
    let ok = match step {
        Some(step) => state.store.accept_applicant_totp_step(a.id, step).await?,
        None => false,
    };
    if !ok {
        return show_page(
            &state,
            locale,
            &a,
            None,
            None,
            wrong(locale),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    state
        .store
        .set_applicant_totp(&a, None, &client, now)
        .await?;
    Ok(see_other(locale, "/me/security?done=off"))
}

/// Changes the password (old, new, repeated); the applicant's other sessions end.
pub async fn password(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> PageResult {
    use yiwang_domain::ErrorCode;
    let a = me.require(locale, "/me/security")?.clone();
    let session = crate::auth::header_token(
        req.headers(),
        &crate::auth::cookie_name(&state, super::APPLICANT_COOKIE),
    )
    .unwrap_or_default();
    let form = read_form(req, &state).await?;
    let (old, new, again) = (form.get("old"), form.get("new"), form.get("again"));
    let lang = locale.lang;
    let error = if old.is_empty() || new.is_empty() || old.len() > 1024 || new.len() > 1024 {
        Some(yiwang_i18n::error_message(lang, ErrorCode::Required))
    } else if new != again {
        Some(yiwang_i18n::t(lang, "me.register.mismatch").to_string())
    } else {
        match state
            .store
            .change_applicant_password(
                &a,
                old,
                new,
                &crate::auth::hash_token(&session),
                &client,
                state.now_ms(),
            )
            .await
        {
            Ok(()) => None,
            Err(e) if matches!(e.code(), ErrorCode::BadLogin | ErrorCode::WeakPassword) => {
                Some(yiwang_i18n::error_message(lang, e.code()))
            }
            Err(e) => return Err(e.into()),
        }
    };
    match error {
        None => Ok(see_other(locale, "/me/security?done=password")),
        Some(e) => {
            show_page(
                &state,
                locale,
                &a,
                None,
                None,
                Some(e),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// Ends every session of the applicant, this one too ("log out everywhere").
pub async fn logout_all(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    ClientAddr(client): ClientAddr,
) -> PageResult {
    let a = me.require(locale, "/me/security")?.clone();
    state
        .store
        .end_applicant_sessions(&a, &client, state.now_ms())
        .await?;
    let mut resp = see_other(locale, "/login");
    if let Ok(v) =
        axum::http::HeaderValue::from_str(&crate::auth::applicant::session_cookie(&state, "", 0))
    {
        resp.headers_mut().insert(axum::http::header::SET_COOKIE, v);
    }
    Ok(resp)
}
