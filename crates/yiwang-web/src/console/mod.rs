//! The staff console: sign in/out, import, edit, publish, history and the drift report, each
//! limited to what the policy allows the signed-in user.
//!
//! Every handler asks `CurrentUser::require` (through [`allow`]); an anonymous visitor is sent to
//! the sign-in page, a signed-in user without the permission gets the 403 page. Every POST handler
//! first calls [`same_origin`] (a cross-site form post is refused) and only then reads the body.

mod account;
mod audit;
mod audit_scan;
mod cases;
mod catalog;
mod dashboard;
mod departments;
pub mod drift;
mod edit;
mod edit_form;
pub(crate) mod forms;
mod history;
mod identity;
mod import;
mod intake;
mod locks;
mod login;
mod login_password;
mod login_totp;
mod publish;
mod scope;
mod search_terms;
mod tokens;
mod users;
mod workflows;

pub(crate) use login::safe_next as login_safe_next;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::Router;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use std::collections::HashMap;
use yiwang_domain::policy::{Action, Principal, Target};
use yiwang_domain::{ErrorCode, RegionCode};
use yiwang_i18n::Lang;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(dashboard::show))
        .route("/console/login", get(login::form).post(login::submit))
        .route("/console/logout", post(login::logout))
        .route(
            "/console/login/totp",
            get(login_totp::form).post(login_totp::submit),
        )
        .route(
            "/console/login/password",
            get(login_password::form).post(login_password::submit),
        )
        .route("/console/account", get(account::show))
        .route("/console/account/password", post(account::password))
        .route("/console/logout-all", post(account::logout_all))
        .route("/console/tokens", get(tokens::list).post(tokens::create))
        .route("/console/tokens/{id}/revoke", post(tokens::revoke))
        .route("/console/users", get(users::list))
        .route("/console/users/{id}/reveal", post(users::reveal))
        .route("/console/users/{id}/password", post(users::reset_password))
        .route("/console/audit", get(audit::list))
        .route("/console/audit/verify", post(audit::verify))
        .route("/console/locks", get(locks::list))
        .route("/console/locks/unlock", post(locks::unlock))
        .route("/console/import", get(import::form).post(import::upload))
        .route("/console/drafts", get(publish::drafts))
        .route("/console/publish", post(publish::publish))
        .route("/console/catalog", get(catalog::list))
        .route(
            "/console/implementations/{code}/edit",
            get(edit::form).post(edit::save),
        )
        .route(
            "/console/implementations/{code}/history",
            get(history::show),
        )
        .route("/console/forms/{code}", get(forms::show).post(forms::save))
        .route("/console/drift", get(drift::show))
        .route("/console/intake", get(intake::form).post(intake::start))
        .route(
            "/console/intake/{id}",
            get(intake::draft).post(intake::save),
        )
        .route("/console/intake/{id}/check", get(intake::check))
        .route("/console/intake/{id}/materials", post(intake::upload))
        .route(
            "/console/intake/{id}/materials/remove",
            post(intake::remove),
        )
        .route("/console/intake/{id}/submit", post(intake::submit))
        .route("/console/intake/done/{number}", get(intake::done))
        .route(
            "/console/identity",
            get(identity::form).post(identity::verify),
        )
        .route(
            "/console/workflows",
            get(workflows::list).post(workflows::save),
        )
        .route("/console/workflows/bind", post(workflows::bind))
        .route("/console/cases", get(cases::worklist))
        .route("/console/cases/{number}", get(cases::show))
        .route("/console/cases/{number}/act", post(cases::act))
        .route(
            "/console/cases/{number}/documents/{code}",
            get(cases::document),
        )
        .route("/console/cases/{number}/files/{upload}", get(cases::file))
        .route(
            "/console/cases/{number}/files/{upload}/view",
            get(cases::file_view),
        )
        .route(
            "/console/departments",
            get(departments::list).post(departments::add),
        )
        .route(
            "/console/search-terms",
            get(search_terms::list).post(search_terms::save),
        )
        .route(
            "/console/search-terms/{id}/delete",
            post(search_terms::delete),
        )
        .route(
            "/console/life-events/{code}",
            get(search_terms::show_event).post(search_terms::save_event),
        )
}

/// A console handler's early exit: an error page, a 403, or the redirect to the sign-in page.
pub struct ConsoleError(Box<Response>);

impl ConsoleError {
    /// Ends a handler early with this response (a redirect, say).
    pub fn from_response(r: Response) -> Self {
        ConsoleError(Box::new(r))
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        *self.0
    }
}

impl From<AppError> for ConsoleError {
    fn from(e: AppError) -> Self {
        ConsoleError(Box::new(e.into_response()))
    }
}

pub type ConsoleResult = Result<Response, ConsoleError>;

pub(crate) fn fail(code: ErrorCode, locale: Locale) -> ConsoleError {
    AppError::new(code, locale.lang).into()
}

pub(crate) fn store_fail(e: yiwang_store::StoreError, locale: Locale) -> ConsoleError {
    AppError::store(e, locale.lang).into()
}

/// Asks the policy. Not signed in: 303 to the sign-in page, coming back to `next` afterwards.
pub(crate) fn allow<'a>(
    user: &'a CurrentUser,
    action: Action,
    target: &Target,
    locale: Locale,
    next: &str,
) -> Result<&'a Principal, ConsoleError> {
    user.require(action, target, locale).map_err(|e| {
        if e.code == ErrorCode::NotAuthenticated {
            // Both the sign-in page and the way back stay in the reader's language.
            let login = format!("/console/login?next={}", encode(&href(locale, next)));
            ConsoleError(Box::new(
                Redirect::to(&href(locale, &login)).into_response(),
            ))
        } else {
            e.into()
        }
    })
}

/// Refuses a POST whose `Origin` header names another site than the `Host` it was sent to.
pub(crate) fn same_origin(headers: &HeaderMap, locale: Locale) -> Result<(), ConsoleError> {
    let header =
        |name: header::HeaderName| headers.get(name).map(|v| v.to_str().unwrap_or("\u{0}"));
    if header(header::HeaderName::from_static("sec-fetch-site")) == Some("cross-site") {
        return Err(fail(ErrorCode::Forbidden, locale));
    }
    let Some(origin) = header(header::ORIGIN) else {
        return Ok(());
    };
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .map(|a| a.trim_end_matches('/'));
    match (authority, header(header::HOST)) {
        (Some(a), Some(host)) if !a.is_empty() && a.eq_ignore_ascii_case(host.trim()) => Ok(()),
        _ => Err(fail(ErrorCode::Forbidden, locale)),
    }
}

/// Percent-encodes everything but unreserved characters and `/`, for a query value.
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The request's path and query, for `next=` and the language switch (without `lang`).
pub(crate) fn here(uri: &Uri) -> String {
    let kept: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("lang="))
        .collect();
    if kept.is_empty() {
        uri.path().to_string()
    } else {
        format!("{}?{}", uri.path(), kept.join("&"))
    }
}

/// The page context for a signed-in console page.
pub(crate) fn page(locale: Locale, user: &Principal, title_key: &str, path: &str) -> Page {
    let title = yiwang_i18n::t(locale.lang, title_key).to_string();
    Page::new(locale, title, path).with_user(Some(user.display_name.clone()))
}

/// Renders a template with a status; a template failure is the internal-error page.
pub(crate) fn render<T: Template>(status: StatusCode, tpl: &T, lang: Lang) -> Response {
    match tpl.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template");
            AppError::new(ErrorCode::Internal, lang).into_response()
        }
    }
}

/// A link to `path` in the reader's language.
pub(crate) fn href(locale: Locale, path: &str) -> String {
    Page::bare(locale, "").href(path)
}

/// A 303 to a console path in the reader's language.
pub(crate) fn see_other(locale: Locale, path: &str) -> Response {
    Redirect::to(&href(locale, path)).into_response()
}

/// An urlencoded form as name/value pairs (repeated names for checkboxes).
#[derive(Debug, Default)]
pub(crate) struct FormData(Vec<(String, String)>);

impl FormData {
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }
}

/// A same-origin form POST: the value of cookie `cookie` (if sent) and the form.
pub(crate) async fn cookie_and_form(
    req: Request,
    state: &AppState,
    locale: Locale,
    cookie: &str,
) -> Result<(Option<String>, FormData), ConsoleError> {
    same_origin(req.headers(), locale)?;
    let token = crate::auth::header_token(req.headers(), &crate::auth::cookie_name(state, cookie));
    Ok((token, read_form(req, state, locale).await?))
}

/// Reads the request body as a form (after the origin and permission checks).
pub(crate) async fn read_form(
    req: Request,
    state: &AppState,
    locale: Locale,
) -> Result<FormData, ConsoleError> {
    match axum::Form::<Vec<(String, String)>>::from_request(req, state).await {
        Ok(axum::Form(v)) => Ok(FormData(v)),
        Err(_) => Err(fail(ErrorCode::InvalidInput, locale)),
    }
}

/// Region names for display, one lookup per distinct code.
pub(crate) async fn region_names<'a>(
    state: &AppState,
    codes: impl Iterator<Item = &'a RegionCode>,
    locale: Locale,
) -> Result<HashMap<RegionCode, String>, ConsoleError> {
    let mut names = HashMap::new();
    for c in codes {
        if names.contains_key(c) {
            continue;
        }
        let name = match state
            .store
            .region(c)
            .await
            .map_err(|e| store_fail(e, locale))?
        {
            Some(r) => r.name,
            None => c.to_string(),
        };
        names.insert(c.clone(), name);
    }
    Ok(names)
}

/// Whether the policy lets this user do `action` somewhere (for showing links only).
pub(crate) fn may(user: &CurrentUser, action: Action, locale: Locale) -> bool {
    user.require(action, &Target::Anything, locale).is_ok()
}
