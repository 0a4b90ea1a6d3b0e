//! Registration of an applicant: a natural person (name, resident ID with its GB 11643 check
//! digit, phone) or a legal person (organisation name, credit code, legal representative,
//! phone). At most ten attempts an hour from one address. Errors are shown per field; the
//! password is never echoed back.
//!
//! A well-formed registration is answered the same whether or not the number already has an
//! account ("registration received, sign in"): nobody learns which numbers are registered, and
//! a second registration of a number changes nothing of the account holding it. A new account
//! is unverified (实名核验) until a verification source confirms it: the configured online
//! verifier right away, or a staff member in person at a counter or service point.

use super::{APPLICANT_COOKIE, CurrentApplicant, page};
use crate::AppState;
use crate::auth::{ClientAddr, retry_after_seconds};
use crate::html::{PageResult, cookie_and_form, render, see_other};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use yiwang_domain::ErrorCode;
use yiwang_domain::case::ApplicantId;
use yiwang_domain::codes::Phone;
use yiwang_i18n::{error_message, tf};
use yiwang_store::applicants::NewApplicant;
use yiwang_store::auth_guard::{Gate, Throttle};

/// Registrations per client address per hour.
pub const REGISTER_THROTTLE: Throttle = Throttle {
    limit: 10,
    window_ms: 60 * 60 * 1000,
    lock: false,
};

/// The one answer to a well-formed registration.
#[derive(Template)]
#[template(path = "me/registered.html")]
struct ReceivedPage {
    page: Page,
}

#[derive(Template)]
#[template(path = "me/register.html")]
struct RegisterPage {
    page: Page,
    name: String,
    legal_rep: String,
    phone: String,
    /// `(field, message)`; `form` for errors of the whole form.
    errors: Vec<(String, String)>,
}

impl RegisterPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

pub async fn form(locale: Locale, me: CurrentApplicant) -> PageResult {
    if me.0.is_some() {
        return Ok(see_other(locale, "/me"));
    }
    let tpl = RegisterPage {
        page: page(locale, None, "me.register.title", "/register"),
        name: String::new(),
        legal_rep: String::new(),
        phone: String::new(),
        errors: Vec::new(),
    };
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}

pub async fn submit(
    State(state): State<AppState>,
    locale: Locale,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> PageResult {
    let (_old, form) = cookie_and_form(req, &state, APPLICANT_COOKIE).await?;
    let lang = locale.lang;
    let now = state.now_ms();
    let key = format!("register:{client}");
    let mut tpl = RegisterPage {
        page: page(locale, None, "me.register.title", "/register"),
        name: form.get("name").chars().take(100).collect(),
        legal_rep: form.get("legal_rep").chars().take(100).collect(),
        phone: form.get("phone").chars().take(20).collect(),
        errors: Vec::new(),
    };
    if let Gate::Limited { retry_after_ms } = state
        .store
        .throttle_gate(&key, REGISTER_THROTTLE, now)
        .await?
    {
        let s = retry_after_seconds(retry_after_ms);
        tpl.errors.push((
            "form".into(),
            tf(lang, "me.login.throttled", &[("seconds", &s.to_string())]),
        ));
        let mut resp = render(StatusCode::TOO_MANY_REQUESTS, &tpl, lang);
        if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Ok(resp);
    }
    state
        .store
        .count_attempt(&key, REGISTER_THROTTLE, now)
        .await?;

    let id = ApplicantId::parse(form.get("id_number"));
    let phone = Phone::parse(form.get("phone"));
    let (password, again) = (form.get("password"), form.get("again"));
    let mut err = |field: &str, code: ErrorCode| {
        tpl.errors
            .push((field.to_string(), error_message(lang, code)));
    };
    if form.get("name").trim().is_empty() {
        err("name", ErrorCode::Required);
    }
    if let Err(code) = &id {
        err("id_number", *code);
    }
    if matches!(id, Ok(ApplicantId::Organisation(_))) && form.get("legal_rep").trim().is_empty() {
        err("legal_rep", ErrorCode::Required);
    }
    if let Err(code) = &phone {
        err("phone", *code);
    }
    if !yiwang_store::password_acceptable(password) {
        err("password", ErrorCode::WeakPassword);
    } else if password != again {
        tpl.errors.push((
            "again".into(),
            yiwang_i18n::t(lang, "me.register.mismatch").to_string(),
        ));
    }
    let (Ok(id), Ok(phone), true) = (id, phone, tpl.errors.is_empty()) else {
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &tpl, lang));
    };
    let new = NewApplicant {
        legal_rep: matches!(id, ApplicantId::Organisation(_))
            .then(|| form.get("legal_rep").to_string()),
        id,
        display_name: form.get("name").to_string(),
        phone,
        password: password.to_string(),
    };
    // The password is hashed before the number is looked up, so both answers take as long.
    match state.store.register_applicant(&new, &client, now).await {
        Ok(a) => {
            // Online verification when a verifier is configured; in person otherwise. The
            // answer does not depend on it.
            yiwang_app::identity::verify_online(
                &state.store,
                state.identity.as_ref(),
                &a,
                &client,
                now,
            )
            .await?;
            Ok(received(locale))
        }
        // Registered already: the same answer, nothing changes.
        Err(e) if e.code() == ErrorCode::ApplicantExists => Ok(received(locale)),
        Err(e) if e.code() != ErrorCode::Internal => {
            let field = match e.code() {
                ErrorCode::WeakPassword => "password",
                _ => "form",
            };
            tpl.errors
                .push((field.into(), error_message(lang, e.code())));
            let status = crate::error::status_for(e.code());
            Ok(render(status, &tpl, lang))
        }
        Err(e) => Err(e.into()),
    }
}

fn received(locale: Locale) -> axum::response::Response {
    let tpl = ReceivedPage {
        page: page(locale, None, "me.register.received_title", "/register"),
    };
    render(StatusCode::OK, &tpl, locale.lang)
}
