//! Staff sessions: a random token in an HttpOnly cookie, only its SM3 digest in the database.
//! Permission questions go to `yiwang_domain::policy`; nothing here looks at roles.

use crate::AppState;
use crate::error::AppError;
use crate::locale::Locale;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use rand::RngCore;
use sm3::{Digest, Sm3};
use yiwang_domain::ErrorCode;
use yiwang_domain::policy::{Action, Decision, Principal, Target, authorize};

pub const SESSION_COOKIE: &str = "yw_session";

/// SM3 digest of a session token, hex; what the sessions table stores.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sm3::digest(token.as_bytes()))
}

pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// The signed-in staff member, if any.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Option<Principal>);

impl CurrentUser {
    pub fn display_name(&self) -> Option<String> {
        self.0.as_ref().map(|p| p.display_name.clone())
    }
    /// Asks the policy; an anonymous visitor gets `not_authenticated`, others `forbidden`.
    pub fn require(
        &self,
        action: Action,
        target: &Target,
        locale: Locale,
    ) -> Result<&Principal, AppError> {
        match (authorize(self.0.as_ref(), action, target), &self.0) {
            (Decision::Allow, Some(p)) => Ok(p),
            (Decision::Unauthenticated, _) | (Decision::Allow, None) => {
                Err(AppError::new(ErrorCode::NotAuthenticated, locale.lang))
            }
            (Decision::Deny, _) => Err(AppError::new(ErrorCode::Forbidden, locale.lang)),
        }
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = crate::locale::cookie(parts, SESSION_COOKIE) else {
            return Ok(CurrentUser(None));
        };
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(CurrentUser(None));
        }
        let lang = crate::locale::cookie(parts, "lang")
            .and_then(yiwang_i18n::Lang::from_tag)
            .unwrap_or_default();
        let p = state
            .store
            .session_principal(&hash_token(token), state.now_ms())
            .await
            .map_err(|e| AppError::store(e, lang))?;
        Ok(CurrentUser(p))
    }
}

/// Starts a session; returns the Set-Cookie value.
pub async fn start_session(
    state: &AppState,
    user_id: i64,
) -> Result<String, yiwang_store::StoreError> {
    let token = new_token();
    state
        .store
        .create_session(
            &hash_token(&token),
            user_id,
            state.now_ms(),
            state.config.session_ttl_ms,
        )
        .await?;
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    Ok(format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        state.config.session_ttl_ms / 1000
    ))
}

/// Ends the session named by the request's cookie; returns the clearing Set-Cookie value.
pub async fn end_session(
    state: &AppState,
    parts_cookie: Option<&str>,
) -> Result<String, yiwang_store::StoreError> {
    if let Some(token) = parts_cookie {
        state.store.delete_session(&hash_token(token)).await?;
    }
    Ok(format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
    ))
}
