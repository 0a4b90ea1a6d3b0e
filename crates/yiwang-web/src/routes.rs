//! Every route of the router, with the policy it is declared to follow. This table is the
//! truth about who may reach what:
//!
//! - at run time, [`crate::security`] looks every matched route up here (by method and the
//!   route's path pattern): a route missing from the table is not served (404, logged), a method
//!   the table does not list gets 405, and a non-public route refuses an anonymous visitor (or a
//!   signed-in one without the action anywhere) before the handler runs; the handler still does
//!   the object-level check (this department, this region);
//! - the test `tests/security_routes.rs` reads the router's own route list and the source, and
//!   fails when a route is missing here or an entry here is not routed; it then sends every
//!   non-public route an anonymous and an unauthorised request;
//! - `docs/routes.md` is generated from [`markdown`] (a test keeps it current).
//!
//! Adding a route means adding its line here, with the narrowest policy that works.

use axum::http::Method;
use std::fmt::Write;
use yiwang_domain::policy::Action;

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Anyone, signed in or not (the portal, the public API, the sign-in form).
    Public,
    /// Any signed-in account; the handler limits what it shows to that account.
    SignedIn,
    /// A signed-in staff member whom the policy allows `Action` for at least one object; the
    /// handler then checks the object itself (department, region).
    Staff(Action),
    /// A signed-in applicant (applicant session, not a staff one); the handler limits what it
    /// shows to the applicant's own records.
    Applicant,
    /// Another system with an API token (`Authorization: Bearer`); the handler verifies the
    /// token (`auth::api_token::ApiPrincipal`) and asks the policy with its scoped grant.
    ApiToken,
}

impl Policy {
    pub fn is_public(self) -> bool {
        self == Policy::Public
    }
    /// The policy as written in `docs/routes.md`.
    pub fn describe(self) -> String {
        match self {
            Policy::Public => "public".to_string(),
            Policy::SignedIn => "signed in".to_string(),
            Policy::Staff(a) => format!("staff: {a:?}"),
            Policy::ApiToken => "API token".to_string(),
            Policy::Applicant => "applicant (own records)".to_string(),
        }
    }
}

use Policy::{Public, Staff};

static ROUTES: &[(Method, &str, Policy)] = &[
    // The public portal (read only).
    (Method::GET, "/", Public),
    (Method::GET, "/regions", Public),
    (Method::GET, "/regions/{code}", Public),
    (Method::GET, "/departments", Public),
    (Method::GET, "/departments/{code}", Public),
    (Method::GET, "/themes", Public),
    (Method::GET, "/themes/{theme}", Public),
    (Method::GET, "/audience/{kind}", Public),
    (Method::GET, "/search", Public),
    (Method::GET, "/life-events", Public),
    (Method::GET, "/life-events/{code}", Public),
    (Method::GET, "/items/{code}", Public),
    (Method::GET, "/items/{code}/versions/{version}", Public),
    // Document verification (文书核验) from the QR code: status only, no personal data.
    (Method::GET, "/verify", Public),
    (Method::GET, "/verify/{code}", Public),
    (Method::GET, "/progress", Public),
    (Method::POST, "/progress", Public),
    (Method::GET, "/static/site.css", Public),
    // Full online handling over JSON: applicant endpoints need the applicant session (their own
    // drafts and cases only); staff actions and the GB/T 39046 feed need an API token whose
    // grant allows them (case roles × department × region; feed within the token's region).
    (Method::POST, "/api/v1/applications", Policy::Applicant),
    (
        Method::PUT,
        "/api/v1/applications/{id}/answers",
        Policy::Applicant,
    ),
    (
        Method::POST,
        "/api/v1/applications/{id}/materials",
        Policy::Applicant,
    ),
    (
        Method::POST,
        "/api/v1/applications/{id}/submit",
        Policy::Applicant,
    ),
    (
        Method::POST,
        "/api/v1/bundles/{id}/submit",
        Policy::Applicant,
    ),
    (Method::GET, "/api/v1/my/cases/{number}", Policy::Applicant),
    (
        Method::POST,
        "/api/v1/cases/{number}/actions",
        Policy::ApiToken,
    ),
    (Method::GET, "/api/v1/feed/case-events", Policy::ApiToken),
    // Applicants (申请人): their own account and records; each handler shows only the signed-in
    // applicant's own drafts and cases (others are not found). Registration and sign-in are
    // throttled per address (and per account for sign-in).
    (Method::GET, "/register", Public),
    (Method::POST, "/register", Public),
    (Method::GET, "/login", Public),
    (Method::POST, "/login", Public),
    (Method::POST, "/logout", Public),
    // Second sign-in step: needs the pending sign-in of a correct password (checked there).
    (Method::GET, "/login/code", Public),
    (Method::POST, "/login/code", Public),
    // Forgotten password: a code by SMS to the registered phone (same answer whether or not the
    // account exists; throttled per identifier and per address), then the code and a new password
    // under the browser's reset ticket (checked there).
    (Method::GET, "/login/forgot", Public),
    (Method::POST, "/login/forgot", Public),
    (Method::GET, "/login/reset", Public),
    (Method::POST, "/login/reset", Public),
    (Method::GET, "/me/security", Policy::Applicant),
    (Method::POST, "/me/security/totp", Policy::Applicant),
    (Method::POST, "/me/security/totp/off", Policy::Applicant),
    (Method::POST, "/me/security/password", Policy::Applicant),
    (Method::POST, "/me/logout-all", Policy::Applicant),
    (Method::GET, "/me", Policy::Applicant),
    (Method::GET, "/me/messages", Policy::Applicant),
    // 一件事: one application for a life event's items (the applicant's own bundles only).
    (Method::POST, "/life-events/{code}/apply", Policy::Applicant),
    (Method::GET, "/me/bundles/{id}", Policy::Applicant),
    (Method::POST, "/me/bundles/{id}/submit", Policy::Applicant),
    (Method::GET, "/me/bundles/{id}/form", Policy::Applicant),
    (Method::POST, "/me/bundles/{id}/form", Policy::Applicant),
    (Method::GET, "/me/data-use", Policy::Applicant),
    (Method::POST, "/items/{code}/apply", Policy::Applicant),
    // Back from signing in: the applicant's draft of the item (resumed, or started).
    (Method::GET, "/items/{code}/apply", Policy::Applicant),
    (Method::GET, "/me/applications/{id}", Policy::Applicant),
    (Method::POST, "/me/applications/{id}", Policy::Applicant),
    (
        Method::GET,
        "/me/applications/{id}/check",
        Policy::Applicant,
    ),
    (
        Method::POST,
        "/me/applications/{id}/materials",
        Policy::Applicant,
    ),
    (
        Method::POST,
        "/me/applications/{id}/materials/remove",
        Policy::Applicant,
    ),
    (
        Method::GET,
        "/me/applications/{id}/files/{upload}",
        Policy::Applicant,
    ),
    (
        Method::POST,
        "/me/applications/{id}/submit",
        Policy::Applicant,
    ),
    (Method::GET, "/me/cases/{number}", Policy::Applicant),
    (
        Method::POST,
        "/me/cases/{number}/resubmit",
        Policy::Applicant,
    ),
    (
        Method::POST,
        "/me/cases/{number}/withdraw",
        Policy::Applicant,
    ),
    (
        Method::POST,
        "/me/applications/{id}/delete",
        Policy::Applicant,
    ),
    (
        Method::GET,
        "/me/cases/{number}/documents/{code}",
        Policy::Applicant,
    ),
    // Case work: the worklist and case files, scoped by role × department × region (checked
    // against each case there; other cases are not found).
    // Counter intake (窗口) and applying for a citizen at a service point (代办): the items
    // offered and each draft are limited to what this person may take in (checked there).
    (Method::GET, "/console/intake", Staff(Action::IntakeCases)),
    (Method::POST, "/console/intake", Staff(Action::IntakeCases)),
    (
        Method::GET,
        "/console/intake/{id}",
        Staff(Action::IntakeCases),
    ),
    (
        Method::POST,
        "/console/intake/{id}",
        Staff(Action::IntakeCases),
    ),
    (
        Method::GET,
        "/console/intake/{id}/check",
        Staff(Action::IntakeCases),
    ),
    (
        Method::POST,
        "/console/intake/{id}/submit",
        Staff(Action::IntakeCases),
    ),
    (
        Method::POST,
        "/console/intake/{id}/materials",
        Staff(Action::IntakeCases),
    ),
    (
        Method::POST,
        "/console/intake/{id}/materials/remove",
        Staff(Action::IntakeCases),
    ),
    (
        Method::GET,
        "/console/intake/done/{number}",
        Staff(Action::IntakeCases),
    ),
    // In-person identity verification (实名核验) by staff who take in applications.
    (Method::GET, "/console/identity", Staff(Action::IntakeCases)),
    (
        Method::POST,
        "/console/identity",
        Staff(Action::IntakeCases),
    ),
    // Workflow definitions as data: saving is checked in full; binding is limited to the
    // implementations the administrator may edit (checked there).
    (
        Method::GET,
        "/console/workflows",
        Staff(Action::EditImplementation),
    ),
    (
        Method::POST,
        "/console/workflows",
        Staff(Action::EditImplementation),
    ),
    (
        Method::POST,
        "/console/workflows/bind",
        Staff(Action::EditImplementation),
    ),
    (Method::GET, "/console/cases", Staff(Action::HandleCases)),
    (
        Method::GET,
        "/console/cases/{number}",
        Staff(Action::HandleCases),
    ),
    (
        Method::POST,
        "/console/cases/{number}/act",
        Staff(Action::HandleCases),
    ),
    (
        Method::GET,
        "/console/cases/{number}/documents/{code}",
        Staff(Action::HandleCases),
    ),
    (
        Method::GET,
        "/console/cases/{number}/files/{upload}",
        Staff(Action::HandleCases),
    ),
    (
        Method::GET,
        "/console/cases/{number}/files/{upload}/view",
        Staff(Action::HandleCases),
    ),
    // The staff console.
    (Method::GET, "/console", Staff(Action::UseConsole)),
    (Method::GET, "/console/login", Public),
    (Method::POST, "/console/login", Public),
    // Ends only the caller's own session (if any).
    (Method::POST, "/console/logout", Public),
    // Second sign-in step: needs the pending sign-in of a correct password (checked there).
    (Method::GET, "/console/login/totp", Public),
    (Method::POST, "/console/login/totp", Public),
    // Last sign-in step after an administrator's reset: needs the pending sign-in of a correct
    // password and code (checked there); a new password before any session.
    (Method::GET, "/console/login/password", Public),
    (Method::POST, "/console/login/password", Public),
    // The signed-in account's own security: password, "log out everywhere".
    (Method::GET, "/console/account", Policy::SignedIn),
    (Method::POST, "/console/account/password", Policy::SignedIn),
    (Method::POST, "/console/logout-all", Policy::SignedIn),
    // API tokens and locked accounts: only within the administrator's scope (checked there).
    (Method::GET, "/console/tokens", Staff(Action::ManageUsers)),
    (Method::POST, "/console/tokens", Staff(Action::ManageUsers)),
    (
        Method::POST,
        "/console/tokens/{id}/revoke",
        Staff(Action::ManageUsers),
    ),
    // Staff personal data: masked list; the full view is audited (scope checked there).
    (Method::GET, "/console/users", Staff(Action::ManageUsers)),
    (
        Method::POST,
        "/console/users/{id}/reveal",
        Staff(Action::ManageUsers),
    ),
    // A temporary password for an account within the administrator's scope (checked there).
    (
        Method::POST,
        "/console/users/{id}/password",
        Staff(Action::ManageUsers),
    ),
    (Method::GET, "/console/locks", Staff(Action::ManageUsers)),
    (
        Method::POST,
        "/console/locks/unlock",
        Staff(Action::ManageUsers),
    ),
    // The audit log: read and chain check, for auditors (entries limited to their scope there).
    (Method::GET, "/console/audit", Staff(Action::ViewAudit)),
    (
        Method::POST,
        "/console/audit/verify",
        Staff(Action::ViewAudit),
    ),
    (Method::GET, "/console/import", Staff(Action::ImportCatalog)),
    (
        Method::POST,
        "/console/import",
        Staff(Action::ImportCatalog),
    ),
    (
        Method::GET,
        "/console/drafts",
        Staff(Action::PublishCatalog),
    ),
    (
        Method::POST,
        "/console/publish",
        Staff(Action::PublishCatalog),
    ),
    (
        Method::GET,
        "/console/catalog",
        Staff(Action::EditImplementation),
    ),
    (
        Method::GET,
        "/console/implementations/{code}/edit",
        Staff(Action::EditImplementation),
    ),
    (
        Method::POST,
        "/console/implementations/{code}/edit",
        Staff(Action::EditImplementation),
    ),
    (
        Method::GET,
        "/console/implementations/{code}/history",
        Staff(Action::ViewCatalogHistory),
    ),
    // An implementation's application form (JSON definition, preview, versions).
    (
        Method::GET,
        "/console/forms/{code}",
        Staff(Action::EditImplementation),
    ),
    (
        Method::POST,
        "/console/forms/{code}",
        Staff(Action::EditImplementation),
    ),
    (Method::GET, "/console/drift", Staff(Action::ViewDrift)),
    (
        Method::GET,
        "/console/departments",
        Staff(Action::ManageDepartments),
    ),
    (
        Method::POST,
        "/console/departments",
        Staff(Action::ManageDepartments),
    ),
    // How people ask (synonyms, words, stop words) and 一件事 definitions: live at once, like a
    // publication; terms need the permission platform-wide, a life event over its region.
    (
        Method::GET,
        "/console/search-terms",
        Staff(Action::PublishCatalog),
    ),
    (
        Method::POST,
        "/console/search-terms",
        Staff(Action::PublishCatalog),
    ),
    (
        Method::POST,
        "/console/search-terms/{id}/delete",
        Staff(Action::PublishCatalog),
    ),
    (
        Method::GET,
        "/console/life-events/{code}",
        Staff(Action::PublishCatalog),
    ),
    (
        Method::POST,
        "/console/life-events/{code}",
        Staff(Action::PublishCatalog),
    ),
    // The JSON API (read only, public) and its OpenAPI document.
    (Method::GET, "/api/openapi.json", Public),
    (Method::GET, "/api/v1/regions", Public),
    (Method::GET, "/api/v1/regions/{code}", Public),
    (Method::GET, "/api/v1/regions/{code}/children", Public),
    (Method::GET, "/api/v1/regions/{code}/path", Public),
    (Method::GET, "/api/v1/departments", Public),
    (Method::GET, "/api/v1/departments/{credit_code}", Public),
    (Method::GET, "/api/v1/standard-items", Public),
    (Method::GET, "/api/v1/implementations", Public),
    (Method::GET, "/api/v1/implementations/{code}", Public),
    (Method::GET, "/api/v1/drift", Public),
    (Method::GET, "/api/v1/search", Public),
    (Method::GET, "/api/v1/life-events", Public),
    (Method::GET, "/api/v1/life-events/{code}", Public),
    (Method::GET, "/api/v1/documents/verify/{code}", Public),
    // Needs an API token (`Authorization: Bearer`); the handler's extractor refuses others (401).
    (Method::GET, "/api/v1/me", Policy::ApiToken),
];

/// Every route: method, path pattern (as given to the router), policy.
pub fn route_policies() -> &'static [(Method, &'static str, Policy)] {
    ROUTES
}

/// The declared policy of a matched route; `HEAD` follows `GET`.
pub fn policy_for(method: &Method, path: &str) -> Option<Policy> {
    let method = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    ROUTES
        .iter()
        .find(|(m, p, _)| m == method && *p == path)
        .map(|(_, _, policy)| *policy)
}

/// The methods declared for a path pattern (for the `Allow` header of a 405).
pub fn methods_for(path: &str) -> Vec<&'static Method> {
    ROUTES
        .iter()
        .filter(|(_, p, _)| *p == path)
        .map(|(m, _, _)| m)
        .collect()
}

/// The table as the Markdown of `docs/routes.md`.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Routes and their policies\n\n\
         Generated from `crates/yiwang-web/src/routes.rs` (`route_policies()`); the test \
         `security_routes` fails when this file is stale (regenerate with \
         `YIWANG_BLESS=1 cargo test -p yiwang-web --test web security_routes`).\n\n\
         - **public**: anyone.\n\
         - **signed in**: any signed-in account.\n\
         - **staff: Action**: a signed-in staff member whom `yiwang_domain::policy` allows \
         that action for at least one object; refused (anonymous: 303 to the sign-in page or \
         401; others: 403) before the handler runs, and the handler checks the object itself \
         (department, region subtree).\n\
         - **API token**: another system presenting `Authorization: Bearer` with a token made in \
         the console (401 without one); the handler verifies it and applies its scoped grant.\n\
         - Every method other than `GET`/`HEAD` is refused with 403 when the request is \
         cross-site (Origin or Sec-Fetch-Site), on every route.\n\n\
         | Method | Path | Policy |\n| --- | --- | --- |\n",
    );
    for (m, p, policy) in ROUTES {
        let _ = writeln!(out, "| {m} | `{p}` | {} |", policy.describe());
    }
    let public = ROUTES.iter().filter(|r| r.2.is_public()).count();
    let _ = writeln!(
        out,
        "\n{} routes: {public} public, {} restricted.",
        ROUTES.len(),
        ROUTES.len() - public
    );
    out
}
