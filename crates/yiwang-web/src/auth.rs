//! Sessions and sign-in state: a random token in an HttpOnly cookie, only its SM3 digest in the
//! database. Permission questions go to `yiwang_domain::policy`; nothing here looks at roles.
//!
//! Signing in has two steps. A correct password creates a server-side *challenge* (cookie
//! `yw_pending`, valid five minutes); a correct one-time code for it (or, on first sign-in, for the
//! secret being enrolled) replaces it by a new session. The session id is therefore always fresh
//! at sign-in. Sessions end after [`WebConfig::session_idle_ms`](crate::WebConfig) without use
//! and [`WebConfig::session_ttl_ms`](crate::WebConfig) after sign-in, whichever comes first.
//!
//! Every password or code attempt is reserved before it is checked (so parallel requests get no
//! more checks than the limit), against the account (5 failures in 15 minutes lock it for 15
//! minutes, twice as long for each further lock in a row, at most a day; an administrator can
//! lift it) and against the client address (20 in 15 minutes: 429 with Retry-After).
//! Applicant accounts follow the same rules.
//!
//! Behind HTTPS the cookies are `Secure` and named with the `__Host-` prefix ([`cookie_name`]).

pub mod api_token;
pub mod applicant;

use crate::AppState;
use crate::error::AppError;
use crate::locale::Locale;
use axum::extract::FromRequestParts;
use axum::extract::connect_info::ConnectInfo;
use axum::http::request::Parts;
use rand::RngCore;
use sm3::{Digest, Sm3};
use std::convert::Infallible;
use std::net::SocketAddr;
use yiwang_domain::ErrorCode;
use yiwang_domain::policy::{Action, Decision, Principal, Target, authorize};
use yiwang_store::auth_guard::Throttle;

pub use api_token::ApiPrincipal;
pub use applicant::CurrentApplicant;

pub const SESSION_COOKIE: &str = "yw_session";
/// Names the pending sign-in between password and one-time code.
pub const PENDING_COOKIE: &str = "yw_pending";
/// How long a pending sign-in waits for its code.
pub const CHALLENGE_TTL_MS: i64 = 5 * 60 * 1000;
const WINDOW_MS: i64 = 15 * 60 * 1000;
/// Failed passwords or codes per account before it is locked.
pub const ACCOUNT_THROTTLE: Throttle = Throttle {
    limit: 5,
    window_ms: WINDOW_MS,
    lock: true,
};
/// Failed attempts per client address before it must wait.
pub const ADDRESS_THROTTLE: Throttle = Throttle {
    limit: 20,
    window_ms: WINDOW_MS,
    lock: false,
};

/// SM3 digest of a session token, hex; what the sessions table stores.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sm3::digest(token.as_bytes()))
}

pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// A cookie value that could be one of our tokens (64 hex digits).
fn token_shaped(v: &str) -> bool {
    v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The request's cookie `name`, if it looks like a token.
pub fn token_cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    crate::locale::cookie(parts, name).filter(|t| token_shaped(t))
}

/// The cookie `name` of a request's headers, if it looks like a token (for handlers that read the
/// body afterwards).
pub fn header_token(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, v)| *k == name && token_shaped(v))
        .map(|(_, v)| v.to_string())
}

/// The client's address as the server saw it, or `unknown` when the server was started without
/// connection info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Infallible;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(a)| a.ip());
        let Some(peer) = peer else {
            return Ok(ClientAddr("unknown".to_string()));
        };
        Ok(ClientAddr(
            client_ip(peer, &parts.headers, &state.config.trusted_proxies).to_string(),
        ))
    }
}

/// The client's address: the peer, unless the peer is a trusted reverse proxy; then the
/// right-most `X-Forwarded-For` hop that is not itself a trusted proxy. Addresses a client
/// writes into the header itself (left of the proxies) are never believed, so throttling and
/// the audit log cannot be fooled from outside.
pub fn client_ip(
    peer: std::net::IpAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[std::net::IpAddr],
) -> std::net::IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<std::net::IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .map(|h| h.parse::<std::net::IpAddr>())
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    hops.into_iter()
        .rev()
        .find(|h| !trusted.contains(h))
        .unwrap_or(peer)
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
        // Looked up once per request (the route policy and the handler both ask).
        if let Some(known) = parts.extensions.get::<CurrentUser>() {
            return Ok(known.clone());
        }
        let Some(token) = token_cookie(parts, &cookie_name(state, SESSION_COOKIE)) else {
            return Ok(CurrentUser(None));
        };
        let lang = crate::locale::cookie(parts, "lang")
            .and_then(yiwang_i18n::Lang::from_tag)
            .unwrap_or_default();
        let p = state
            .store
            .active_session(
                &hash_token(token),
                state.now_ms(),
                state.config.session_idle_ms,
            )
            .await
            .map_err(|e| AppError::store(e, lang))?;
        parts.extensions.insert(CurrentUser(p.clone()));
        Ok(CurrentUser(p))
    }
}

/// Whether cookies are sent with `Secure` (the site is served over HTTPS).
pub fn secure_cookies(state: &AppState) -> bool {
    state.config.secure_cookies
}

/// The name a cookie goes by: with `Secure`, the `__Host-` prefix, so the browser takes it only
/// from this host over HTTPS with `Path=/` and no `Domain` — a sibling subdomain or a plain-HTTP
/// page cannot plant or overwrite it. Read cookies by this name too.
pub fn cookie_name(state: &AppState, base: &str) -> String {
    if secure_cookies(state) {
        format!("__Host-{base}")
    } else {
        base.to_string()
    }
}

/// An HttpOnly, SameSite=Strict cookie; with `Secure`, `__Host-` named and `Path=/`.
pub(crate) fn cookie(
    state: &AppState,
    name: &str,
    value: &str,
    path: &str,
    max_age_s: i64,
) -> String {
    let name = cookie_name(state, name);
    let (path, secure) = if secure_cookies(state) {
        ("/", "; Secure")
    } else {
        (path, "")
    };
    format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{secure}")
}

/// Starts a session (a new id; the request's old session, if any, ends). Returns Set-Cookie.
pub async fn start_session(
    state: &AppState,
    user_id: i64,
    old_session: Option<&str>,
) -> Result<String, yiwang_store::StoreError> {
    if let Some(old) = old_session {
        state.store.delete_session(&hash_token(old)).await?;
    }
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
    Ok(cookie(
        state,
        SESSION_COOKIE,
        &token,
        "/",
        state.config.session_ttl_ms / 1000,
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
    Ok(clear_session_cookie(state))
}

pub fn clear_session_cookie(state: &AppState) -> String {
    cookie(state, SESSION_COOKIE, "", "/", 0)
}

/// Starts a pending sign-in for `user_id`; returns the stage and the Set-Cookie value.
pub async fn start_challenge(
    state: &AppState,
    user_id: i64,
) -> Result<(yiwang_store::ChallengeStage, String), yiwang_store::StoreError> {
    let token = new_token();
    let stage = state
        .store
        .create_challenge(
            &hash_token(&token),
            user_id,
            state.now_ms(),
            CHALLENGE_TTL_MS,
        )
        .await?;
    let set = cookie(
        state,
        PENDING_COOKIE,
        &token,
        "/console/login",
        CHALLENGE_TTL_MS / 1000,
    );
    Ok((stage, set))
}

pub fn clear_pending_cookie(state: &AppState) -> String {
    cookie(state, PENDING_COOKIE, "", "/console/login", 0)
}

/// Seconds until a limited client may try again (at least one).
pub fn retry_after_seconds(retry_after_ms: i64) -> i64 {
    (retry_after_ms + 999).div_euclid(1000).max(1)
}

#[cfg(test)]
mod client_ip_tests {
    #![allow(clippy::unwrap_used)]
    use super::client_ip;
    use axum::http::HeaderMap;

    fn ip(s: &str) -> std::net::IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "6.6.6.6, 203.0.113.9, 10.0.0.2".parse().unwrap(),
        );
        let trusted = [ip("10.0.0.1"), ip("10.0.0.2")];
        // From the proxy: the right-most hop that is not a proxy.
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("203.0.113.9"));
        // From anyone else: the header is ignored.
        assert_eq!(
            client_ip(ip("198.51.100.7"), &h, &trusted),
            ip("198.51.100.7")
        );
        // A malformed header from the proxy: the proxy itself.
        h.insert("x-forwarded-for", "not-an-ip".parse().unwrap());
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("10.0.0.1"));
        // No proxies configured: the peer, always.
        assert_eq!(
            client_ip(ip("10.0.0.1"), &HeaderMap::new(), &[]),
            ip("10.0.0.1")
        );
    }
}
