//! The staff console: sign in/out, import, edit, publish, history and the drift report, each
//! limited to what the policy allows the signed-in user.
//!
//! The security middleware has already refused anonymous visitors, users without the route's
//! action anywhere and cross-site posts. Handlers still ask the policy about the object itself
//! (through [`crate::html::allow`], which also gives them the signed-in principal).

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
mod life_events;
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

use crate::AppState;
use crate::html::PageError;
use axum::Router;
use axum::routing::{get, post};
use std::collections::HashMap;
use yiwang_domain::RegionCode;

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
            get(life_events::show_event).post(life_events::save_event),
        )
}

/// The page frame for a signed-in console page.
pub(crate) use crate::html::staff_page as page;

/// Region names for display, one lookup per distinct code.
pub(crate) async fn region_names<'a>(
    state: &AppState,
    codes: impl Iterator<Item = &'a RegionCode>,
) -> Result<HashMap<RegionCode, String>, PageError> {
    let mut names = HashMap::new();
    for c in codes {
        if names.contains_key(c) {
            continue;
        }
        let name = match state.store.region(c).await? {
            Some(r) => r.name,
            None => c.to_string(),
        };
        names.insert(c.clone(), name);
    }
    Ok(names)
}
