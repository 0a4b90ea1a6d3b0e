//! The signed-in applicant (申请人): the extractor, and the applicant's session cookie.
//! Applicant sessions are separate from staff sessions (cookie [`APPLICANT_COOKIE`], table
//! `applicant_sessions`).

use super::{hash_token, new_token, token_cookie};
use crate::AppState;
use crate::error::{AppError, PageError};
use crate::link::{encode_query, href};
use crate::locale::Locale;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect};
use yiwang_store::applicants::Applicant;

/// Names an applicant's session.
pub const APPLICANT_COOKIE: &str = "yw_app";

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
    pub fn require(&self, locale: Locale, next: &str) -> Result<&Applicant, PageError> {
        match &self.0 {
            Some(a) => Ok(a),
            None => {
                let login = format!("/login?next={}", encode_query(next));
                Err(PageError::from_response(
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
