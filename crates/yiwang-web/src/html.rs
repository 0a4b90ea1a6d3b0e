//! The page kit every HTML module (portal, console, the applicant's pages) builds on: rendering,
//! redirects, form reading, page frames and the policy question with its way to the sign-in
//! page. Errors are [`PageError`] (in `error.rs`), links in `link.rs`; page modules depend on
//! these, never on each other.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use yiwang_domain::ErrorCode;
use yiwang_domain::policy::{Action, Principal, Target};
use yiwang_i18n::Lang;
use yiwang_store::applicants::Applicant;

pub use crate::error::{PageError, PageResult};
pub use crate::link::{encode_query, here, href, safe_next};

/// The error page for `code`, in the reader's language.
pub fn fail(code: ErrorCode) -> PageError {
    PageError::new(code)
}

/// Renders a template with a status; a template failure is the internal-error page.
pub fn render<T: Template>(status: StatusCode, tpl: &T, lang: Lang) -> Response {
    match tpl.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template");
            AppError::new(ErrorCode::Internal, lang).into_response()
        }
    }
}

/// A 303 to a path of this site in the reader's language.
pub fn see_other(locale: Locale, path: &str) -> Response {
    Redirect::to(&href(locale, path)).into_response()
}

/// A redirect to `path` (with the language kept) and then `anchor` (`#…`, or empty).
pub fn see_other_at(locale: Locale, path: &str, anchor: &str) -> Response {
    let to = format!("{}{anchor}", href(locale, path));
    Redirect::to(&to).into_response()
}

/// The page frame for a signed-in staff member's page, with the console menu this member
/// may use.
pub fn staff_page(locale: Locale, user: &Principal, title_key: &str, path: &str) -> Page {
    let title = yiwang_i18n::t(locale.lang, title_key).to_string();
    let mut page = Page::new(locale, title, path).with_user(Some(user.display_name.clone()));
    page.staff_nav = staff_nav(user);
    page
}

/// The console menu: path and message key of each page, in menu order.
pub const CONSOLE_MENU: &[(&str, &str)] = &[
    ("/console", "console.nav.home"),
    ("/console/cases", "console.cases.title"),
    ("/console/intake", "console.intake.title"),
    ("/console/identity", "console.identity.title"),
    ("/console/import", "console.nav.import"),
    ("/console/drafts", "console.nav.drafts"),
    ("/console/catalog", "console.nav.catalog"),
    ("/console/workflows", "console.workflows.title"),
    ("/console/drift", "console.nav.drift"),
    ("/console/departments", "console.nav.departments"),
    ("/console/search-terms", "terms.nav"),
    ("/console/users", "pii.nav.users"),
    ("/console/audit", "audit.nav.link"),
    ("/console/account", "console.nav.account"),
];

/// Whether `user` may open the page at `path`: the route table's policy for it (the one the
/// security middleware enforces), asked of the policy for any object. A path the table does
/// not list is not offered.
pub fn may_open(user: &Principal, path: &str) -> bool {
    use crate::routes::Policy;
    match crate::routes::policy_for(&axum::http::Method::GET, path) {
        Some(Policy::Public | Policy::SignedIn) => true,
        Some(Policy::Staff(action)) => {
            yiwang_domain::policy::authorize(Some(user), action, &Target::Anything)
                == yiwang_domain::policy::Decision::Allow
        }
        Some(Policy::Applicant | Policy::ApiToken) | None => false,
    }
}

/// The menu entries `user` may open.
pub fn staff_nav(user: &Principal) -> Vec<(&'static str, &'static str)> {
    CONSOLE_MENU
        .iter()
        .copied()
        .filter(|(path, _)| may_open(user, path))
        .collect()
}

/// The page frame for the applicant's own space.
pub fn applicant_page(locale: Locale, a: Option<&Applicant>, title_key: &str, path: &str) -> Page {
    let title = yiwang_i18n::t(locale.lang, title_key).to_string();
    let mut p = Page::new(locale, title, path);
    p.applicant = a.map(Applicant::masked_name);
    p
}

/// Asks the policy about a staff member. Not signed in: 303 to the console's sign-in page,
/// coming back to `next` afterwards; signed in without the permission: the 403 page.
pub fn allow<'a>(
    user: &'a CurrentUser,
    action: Action,
    target: &Target,
    locale: Locale,
    next: &str,
) -> Result<&'a Principal, PageError> {
    user.require(action, target, locale).map_err(|e| {
        if e.code == ErrorCode::NotAuthenticated {
            // Both the sign-in page and the way back stay in the reader's language.
            let login = format!("/console/login?next={}", encode_query(&href(locale, next)));
            PageError::from_response(Redirect::to(&href(locale, &login)).into_response())
        } else {
            e.into()
        }
    })
}

/// Whether the policy lets this user do `action` somewhere (for showing links only).
pub fn may(user: &CurrentUser, action: Action, locale: Locale) -> bool {
    user.require(action, &Target::Anything, locale).is_ok()
}

/// An urlencoded form as name/value pairs (repeated names for checkboxes).
#[derive(Debug, Default)]
pub struct FormData(Vec<(String, String)>);

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

/// Reads the request body as a form. The security middleware has already refused a cross-site
/// post and a visitor the route's policy does not admit.
pub async fn read_form(req: Request, state: &AppState) -> Result<FormData, PageError> {
    match axum::Form::<Vec<(String, String)>>::from_request(req, state).await {
        Ok(axum::Form(v)) => Ok(FormData(v)),
        Err(_) => Err(fail(ErrorCode::InvalidInput)),
    }
}

/// A form post: the value of cookie `cookie` (if sent) and the form.
pub async fn cookie_and_form(
    req: Request,
    state: &AppState,
    cookie: &str,
) -> Result<(Option<String>, FormData), PageError> {
    let token = crate::auth::header_token(req.headers(), &crate::auth::cookie_name(state, cookie));
    Ok((token, read_form(req, state).await?))
}
