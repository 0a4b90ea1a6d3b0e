//! Bearer tokens on the JSON API: `Authorization: Bearer ywt_…` names an API token created in
//! the console; the request then acts as that token's principal (its one scoped grant).
//!
//! The public read endpoints do not use this. Protected endpoints take [`ApiPrincipal`] and ask
//! the policy as usual; a missing, malformed, unknown, revoked or expired token is a 401 with
//! `WWW-Authenticate: Bearer`.

use crate::AppState;
use crate::error::AppError;
use crate::locale::ApiLang;
use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use yiwang_domain::ErrorCode;
use yiwang_domain::enums::CodeSet;
use yiwang_domain::policy::Principal;
use yiwang_store::ApiToken;

/// The caller of a protected API endpoint.
#[derive(Debug, Clone)]
pub struct ApiPrincipal {
    pub token: ApiToken,
    pub principal: Principal,
}

/// 401 as JSON, with the challenge header.
#[derive(Debug)]
pub struct ApiAuthError(pub AppError);

impl IntoResponse for ApiAuthError {
    fn into_response(self) -> Response {
        let unauthenticated = self.0.code == ErrorCode::NotAuthenticated;
        let mut res = self.0.into_response();
        if unauthenticated {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"yiwang\""),
            );
        }
        res
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<AppState> for ApiPrincipal {
    type Rejection = ApiAuthError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Ok(ApiLang(lang)) = ApiLang::from_request_parts(parts, state).await;
        let unauthenticated = || ApiAuthError(AppError::json(ErrorCode::NotAuthenticated, lang));
        let raw = bearer(parts).ok_or_else(unauthenticated)?;
        let token = state
            .store
            .api_token_by_raw(raw, state.now_ms())
            .await
            .map_err(|e| ApiAuthError(AppError::store(e, lang).as_json()))?
            .ok_or_else(unauthenticated)?;
        Ok(ApiPrincipal {
            principal: token.principal(),
            token,
        })
    }
}

/// `GET /api/v1/me`: who the presented token is (its name, scope and expiry).
pub async fn me(caller: ApiPrincipal) -> Response {
    let g = &caller.token.grant;
    Json(serde_json::json!({
        "token_id": caller.token.id,
        "name": caller.token.name,
        "role": g.role.key(),
        "region": g.region.as_ref().map(|r| r.as_str().to_string()),
        "department": g.department.as_ref().map(|d| d.as_str().to_string()),
        "expires_at": caller.token.expires_at,
    }))
    .into_response()
}
