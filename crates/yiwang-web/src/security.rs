//! The router-level defences, applied to every route (portal, console, API) by [`harden`] so that
//! no handler can forget them:
//!
//! - security headers on every response (the pages use no JavaScript, so the policy forbids it);
//!   `Strict-Transport-Security` when the site is served over HTTPS
//!   ([`crate::WebConfig::secure_transport`], which also makes cookies `Secure`);
//!   `Cache-Control: no-store` on the console, `/me` and `/api/v1/my/`;
//! - a request timeout (408) and limits on the URI (414) and the header block (431); a NUL byte
//!   (`%00`) in the path, query or a form body is refused (400: PostgreSQL cannot store one and
//!   no field needs it); form bodies are limited to 4 MiB, uploads to `DefaultBodyLimit`;
//! - cross-site request forgery: every method but GET/HEAD is refused (403) when its `Origin`
//!   names another host than `Host`, is `null`, or `Sec-Fetch-Site` says `cross-site` (handlers
//!   do not check again);
//! - the declared route policy (`routes.rs`): an undeclared route is not served, an undeclared
//!   method gets 405, a non-public route refuses anonymous and unauthorised visitors before the
//!   handler runs;
//! - a page error a handler returns (`PageError`) is rendered in the reader's language.
//!
//! Uploaded files are served back only through `upload::serve_file` (`Content-Disposition` with
//! a sanitised filename, `nosniff`, a sandboxing CSP, no caching).

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::locale::Locale;
use crate::routes::{self, Policy};
use axum::Router;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use std::time::Duration;
use tower_http::timeout::TimeoutLayer;
use yiwang_domain::ErrorCode;
use yiwang_domain::policy::{Action, Target};

/// Longest accepted path and query, bytes.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Largest accepted header block (names and values), bytes.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// Largest accepted urlencoded form body, bytes (file uploads are multipart, limited apart).
pub const MAX_FORM_BYTES: usize = 4 * 1024 * 1024;

/// Whether `url` names an `https://` address (the scheme in any case).
pub fn is_https_url(url: &str) -> bool {
    url.trim()
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
}

/// Wraps every route of `router` (call it after the last route and the fallback).
/// The checks run in one middleware (one boxed future per request instead of four): on the
/// catalog read path the layers cost as much as the handler.
pub fn harden(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    let timeout = Duration::from_millis(state.config.request_timeout_ms);
    router
        .layer(from_fn_with_state(state.clone(), guard))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
}

/// Limits, cross-site refusal and the route policy, in that order; then the security headers
/// on whatever answer results.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let no_store = never_cached(req.uri().path());
    // A language or elderly-mode choice made on a page link is kept in a cookie (pages only;
    // API clients name their language on each request).
    let choices = if req.method() == Method::GET && !req.uri().path().starts_with("/api/") {
        crate::locale::remembered_choices(req.uri())
    } else {
        Vec::new()
    };
    // The language an error a handler returned with `?` is shown in (pages and API differ).
    let lang = if req.uri().path().starts_with("/api/") {
        crate::locale::ApiLang::of_request(req.uri(), req.headers())
    } else {
        Locale::of_request(req.uri(), req.headers()).lang
    };
    let res = match check_limits(req).await {
        Err(refused) => refused,
        Ok(req) => {
            let safe = matches!(*req.method(), Method::GET | Method::HEAD);
            if !safe && is_cross_site(req.headers()) {
                refusal(&req, ErrorCode::Forbidden, StatusCode::FORBIDDEN)
            } else {
                enforce_policy(State(state.clone()), req, next).await
            }
        }
    };
    // A page error a handler returned with `?` is rendered in the reader's language.
    let mut res = crate::error::localize(res, lang);
    set_headers(&state, no_store, res.headers_mut());
    for cookie in choices {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// Pages and answers no cache may keep: the console, and the applicant's own pages and API
/// answers (the check page shows the full ID number; hall kiosks are shared).
fn never_cached(path: &str) -> bool {
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    under("/console") || under("/me") || path.starts_with("/api/v1/my/")
}

fn set_headers(state: &AppState, no_store: bool, h: &mut HeaderMap) {
    // A served file sets its own, stricter policy (a sandbox); pages get this one.
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static(
            "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
        ),
    );
    h.insert(
        header::HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    );
    if state.config.secure_transport() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if no_store {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// The error response of a refused request: JSON under `/api/`, a page elsewhere.
fn refusal(req: &Request, code: ErrorCode, status: StatusCode) -> Response {
    let lang = lang_of(req);
    let mut e = AppError::new(code, lang);
    e.json = req.uri().path().starts_with("/api/");
    let mut res = e.into_response();
    *res.status_mut() = status;
    res
}

fn lang_of(req: &Request) -> yiwang_i18n::Lang {
    let from_query = req.uri().query().and_then(|q| {
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "lang")
            .and_then(|(_, v)| yiwang_i18n::Lang::from_tag(v))
    });
    // API clients name their language in Accept-Language (as `locale::ApiLang` reads it).
    let accepted = || {
        req.uri()
            .path()
            .starts_with("/api/")
            .then(|| req.headers().get(header::ACCEPT_LANGUAGE))
            .flatten()
            .and_then(|v| v.to_str().ok())
            .and_then(yiwang_i18n::Lang::from_accept_language)
    };
    from_query.or_else(accepted).unwrap_or_default()
}

/// 414 for an over-long URI, 431 for an over-large header block, 413 for an over-large form,
/// 400 for a NUL byte in the URI or a form.
async fn check_limits(req: Request) -> Result<Request, Response> {
    let uri_len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return Err(refusal(&req, ErrorCode::TooLong, StatusCode::URI_TOO_LONG));
    }
    // A NUL byte is never valid input here, and PostgreSQL cannot store one in text: refuse
    // `%00` anywhere in the path or query before any handler sees it.
    let raw = req.uri().path_and_query().map_or("", |pq| pq.as_str());
    if raw
        .as_bytes()
        .windows(3)
        .any(|w| w.eq_ignore_ascii_case(b"%00"))
    {
        return Err(refusal(
            &req,
            ErrorCode::InvalidInput,
            StatusCode::BAD_REQUEST,
        ));
    }
    let header_len: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if header_len > MAX_HEADER_BYTES {
        return Err(refusal(
            &req,
            ErrorCode::TooLong,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        ));
    }
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Ok(req);
    }
    // Form posts: read the (small) body once to refuse a NUL byte in any field, raw or encoded.
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            let req = Request::from_parts(parts, axum::body::Body::empty());
            return Err(refusal(
                &req,
                ErrorCode::FileTooLarge,
                StatusCode::PAYLOAD_TOO_LARGE,
            ));
        }
    };
    let req = Request::from_parts(parts, axum::body::Body::from(bytes.clone()));
    if bytes.contains(&0) || bytes.windows(3).any(|w| w.eq_ignore_ascii_case(b"%00")) {
        return Err(refusal(
            &req,
            ErrorCode::InvalidInput,
            StatusCode::BAD_REQUEST,
        ));
    }
    Ok(req)
}

/// Whether a request comes from another site: its `Origin` is not this host (or is `null` or
/// unreadable), or the browser says `Sec-Fetch-Site: cross-site`. No header at all (a script,
/// another system) is not cross-site: those clients carry no ambient browser cookies.
pub fn is_cross_site(headers: &HeaderMap) -> bool {
    let text = |name: &header::HeaderName| headers.get(name).map(|v| v.to_str().ok());
    let fetch_site = header::HeaderName::from_static("sec-fetch-site");
    if text(&fetch_site)
        .is_some_and(|site| site.is_none_or(|s| s.eq_ignore_ascii_case("cross-site")))
    {
        return true;
    }
    let Some(origin) = text(&header::ORIGIN) else {
        return false;
    };
    let authority = origin.and_then(|o| {
        o.strip_prefix("https://")
            .or_else(|| o.strip_prefix("http://"))
            .map(|a| a.trim_end_matches('/'))
    });
    let host = text(&header::HOST).flatten().map(str::trim);
    !matches!((authority, host), (Some(a), Some(h)) if !a.is_empty() && a.eq_ignore_ascii_case(h))
}

/// Applies the declared policy of the matched route (see `routes.rs`).
pub async fn enforce_policy(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // No matched route: the fallback answers (404).
    let Some(path) = req.extensions().get::<MatchedPath>().map(|m| m.as_str()) else {
        return next.run(req).await;
    };
    let policy = match routes::policy_for(req.method(), path) {
        Some(p) => p,
        None => {
            let methods = routes::methods_for(path);
            if methods.is_empty() {
                tracing::error!(path, "route without a declared policy; not served");
                return refusal(&req, ErrorCode::NotFound, StatusCode::NOT_FOUND);
            }
            let allow = methods
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(",");
            let mut res = if path.starts_with("/api/") {
                refusal(
                    &req,
                    ErrorCode::MethodNotAllowed,
                    StatusCode::METHOD_NOT_ALLOWED,
                )
            } else {
                StatusCode::METHOD_NOT_ALLOWED.into_response()
            };
            if let Ok(v) = HeaderValue::from_str(&allow) {
                res.headers_mut().insert(header::ALLOW, v);
            }
            return res;
        }
    };
    let action = match policy {
        Policy::Public => return next.run(req).await,
        Policy::ApiToken => {
            if req.headers().contains_key(header::AUTHORIZATION) {
                return next.run(req).await;
            }
            let mut res = refusal(&req, ErrorCode::NotAuthenticated, StatusCode::UNAUTHORIZED);
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"yiwang\""),
            );
            return res;
        }
        Policy::Applicant => {
            // An applicant session is required; without one, the sign-in page (with a way back).
            let (mut parts, body) = req.into_parts();
            let Ok(locale) = Locale::from_request_parts(&mut parts, &state).await;
            return match crate::auth::CurrentApplicant::from_request_parts(&mut parts, &state).await
            {
                Ok(crate::auth::CurrentApplicant(Some(_))) => {
                    next.run(Request::from_parts(parts, body)).await
                }
                Ok(_) if parts.uri.path().starts_with("/api/") => {
                    // API clients get the documented 401 envelope, never the sign-in page.
                    let Ok(crate::locale::ApiLang(lang)) =
                        crate::locale::ApiLang::from_request_parts(&mut parts, &state).await;
                    AppError::json(ErrorCode::NotAuthenticated, lang).into_response()
                }
                Ok(none) => {
                    // After signing in, a GET page comes back; a form post cannot be replayed:
                    // 在线申请 comes back as its GET twin (straight to the item's form), any
                    // other post to the applicant's home.
                    let here = if parts.method == axum::http::Method::GET {
                        crate::link::here(&parts.uri)
                    } else {
                        let path = parts.uri.path();
                        if path.starts_with("/items/") && path.ends_with("/apply") {
                            path.to_string()
                        } else {
                            "/me".to_string()
                        }
                    };
                    match none.require(locale, &here) {
                        Ok(_) => {
                            AppError::new(ErrorCode::NotAuthenticated, locale.lang).into_response()
                        }
                        Err(e) => e.into_response(),
                    }
                }
                Err(mut e) => {
                    e.json = parts.uri.path().starts_with("/api/");
                    e.into_response()
                }
            };
        }
        Policy::SignedIn => None,
        Policy::Staff(a) => Some(a),
    };
    let console = path.starts_with("/console");
    let api = path.starts_with("/api/");
    let (mut parts, body) = req.into_parts();
    let Ok(locale) = Locale::from_request_parts(&mut parts, &state).await;
    let user = match CurrentUser::from_request_parts(&mut parts, &state).await {
        Ok(u) => u,
        Err(mut e) => {
            e.json = api;
            return e.into_response();
        }
    };
    let refused = match (action, &user.0) {
        (_, None) => Some(ErrorCode::NotAuthenticated),
        (None, Some(_)) => None,
        (Some(a), Some(_)) => user
            .require(a, &Target::Anything, locale)
            .err()
            .map(|e| e.code),
    };
    match refused {
        None => next.run(Request::from_parts(parts, body)).await,
        Some(ErrorCode::NotAuthenticated) if console => {
            // The same 303 to the sign-in page a console handler gives.
            let here = crate::link::here(&parts.uri);
            match crate::html::allow(
                &CurrentUser(None),
                action.unwrap_or(Action::UseConsole),
                &Target::Anything,
                locale,
                &here,
            ) {
                Ok(_) => AppError::new(ErrorCode::NotAuthenticated, locale.lang).into_response(),
                Err(e) => e.into_response(),
            }
        }
        Some(code) => {
            let mut e = AppError::new(code, locale.lang);
            e.json = api;
            e.into_response()
        }
    }
}
