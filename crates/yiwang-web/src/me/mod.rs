//! The applicant's own space (我的办事): registration, sign-in, applications, cases, messages and
//! "who used my data". Applicant sessions are separate from staff sessions (cookie
//! [`APPLICANT_COOKIE`], table `applicant_sessions`); every page shows only the signed-in
//! applicant's own records (the store refuses anything else as `not_found`).

mod apply;
pub(crate) mod bundles;
mod case;
mod data_use;
mod home;
mod login;
mod messages;
mod register;
mod reset;
mod security;

use crate::AppState;
use crate::auth::{hash_token, new_token, token_cookie};
use crate::console::{ConsoleError, href};
use crate::error::AppError;
use crate::locale::Locale;
use crate::page::Page;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use yiwang_domain::ErrorCode;
use yiwang_store::applicants::Applicant;

/// Names an applicant's session.
pub const APPLICANT_COOKIE: &str = "yw_app";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/register", get(register::form).post(register::submit))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route(
            "/login/code",
            get(login::code_form).post(login::code_submit),
        )
        .route(
            "/login/forgot",
            get(reset::forgot_form).post(reset::forgot_submit),
        )
        .route("/login/reset", get(reset::form).post(reset::submit))
        .route("/me/security", get(security::show))
        .route("/me/security/totp", post(security::enable))
        .route("/me/security/totp/off", post(security::disable))
        .route("/me/security/password", post(security::password))
        .route("/me/logout-all", post(security::logout_all))
        .route("/me", get(home::show))
        .route("/me/messages", get(messages::list))
        .route("/life-events/{code}/apply", post(bundles::start))
        .route("/me/bundles/{id}", get(bundles::show))
        .route("/me/bundles/{id}/submit", post(bundles::submit))
        .route("/me/data-use", get(data_use::show))
        .route("/items/{code}/apply", post(apply::start))
        .route("/me/applications/{id}", get(apply::form).post(apply::save))
        .route("/me/applications/{id}/check", get(apply::check))
        .route("/me/applications/{id}/materials", post(apply::upload))
        .route(
            "/me/applications/{id}/materials/remove",
            post(apply::remove),
        )
        .route("/me/applications/{id}/files/{upload}", get(apply::file))
        .route("/me/applications/{id}/submit", post(apply::submit))
        .route("/me/cases/{number}", get(case::show))
        .route("/me/cases/{number}/resubmit", post(case::resubmit))
        .route("/me/cases/{number}/documents/{code}", get(case::document))
}

/// The signed-in applicant, if any.
#[derive(Debug, Clone)]
pub struct CurrentApplicant(pub Option<Applicant>);

impl FromRequestParts<AppState> for CurrentApplicant {
    type Rejection = AppError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Looked up once per request (the route policy and the handler both ask).
        if let Some(known) = parts.extensions.get::<CurrentApplicant>() {
            return Ok(known.clone());
        }
        let name = crate::auth::cookie_name(state, APPLICANT_COOKIE);
        let Some(token) = token_cookie(parts, &name) else {
            return Ok(CurrentApplicant(None));
        };
        let lang = crate::locale::cookie(parts, "lang")
            .and_then(yiwang_i18n::Lang::from_tag)
            .unwrap_or_default();
        let a = state
            .store
            .active_applicant_session(
                &hash_token(token),
                state.now_ms(),
                state.config.session_idle_ms,
            )
            .await
            .map_err(|e| AppError::store(e, lang))?;
        parts.extensions.insert(CurrentApplicant(a.clone()));
        Ok(CurrentApplicant(a))
    }
}

impl CurrentApplicant {
    /// The applicant, or a redirect to the sign-in page that comes back to `next`.
    pub fn require(&self, locale: Locale, next: &str) -> Result<&Applicant, ConsoleError> {
        match &self.0 {
            Some(a) => Ok(a),
            None => {
                let login = format!("/login?next={}", crate::console::encode(next));
                Err(ConsoleError::from_response(
                    Redirect::to(&href(locale, &login)).into_response(),
                ))
            }
        }
    }
}

/// Starts an applicant session; returns the Set-Cookie value.
pub(crate) async fn start_session(
    state: &AppState,
    applicant_id: i64,
    old: Option<&str>,
) -> Result<String, yiwang_store::StoreError> {
    if let Some(old) = old {
        state
            .store
            .delete_applicant_session(&hash_token(old))
            .await?;
    }
    let token = new_token();
    state
        .store
        .create_applicant_session(
            &hash_token(&token),
            applicant_id,
            state.now_ms(),
            state.config.session_ttl_ms,
        )
        .await?;
    Ok(session_cookie(
        state,
        &token,
        state.config.session_ttl_ms / 1000,
    ))
}

pub(crate) fn session_cookie(state: &AppState, value: &str, max_age_s: i64) -> String {
    named_cookie(state, APPLICANT_COOKIE, value, max_age_s)
}

/// An HttpOnly, SameSite=Strict cookie (Secure and `__Host-` named behind HTTPS).
pub(crate) fn named_cookie(state: &AppState, name: &str, value: &str, max_age_s: i64) -> String {
    crate::auth::cookie(state, name, value, "/", max_age_s)
}

/// A page frame for the applicant's space.
pub(crate) fn page(locale: Locale, a: Option<&Applicant>, title_key: &str, path: &str) -> Page {
    let title = yiwang_i18n::t(locale.lang, title_key).to_string();
    let mut p = Page::new(locale, title, path);
    p.applicant = a.map(Applicant::masked_name);
    p
}

pub(crate) fn not_found(locale: Locale) -> ConsoleError {
    AppError::new(ErrorCode::NotFound, locale.lang).into()
}
