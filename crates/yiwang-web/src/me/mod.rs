//! The applicant's own space (我的办事): registration, sign-in, applications, cases, messages and
//! "who used my data". Applicant sessions are separate from staff sessions (cookie
//! [`APPLICANT_COOKIE`], table `applicant_sessions`, see `auth::applicant`); every page shows
//! only the signed-in applicant's own records (the store refuses anything else as `not_found`).

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
use crate::html::PageError;
use axum::Router;
use axum::routing::{get, post};
use yiwang_domain::ErrorCode;

pub use crate::auth::applicant::APPLICANT_COOKIE;
pub(crate) use crate::auth::applicant::{CurrentApplicant, named_cookie, start_session};

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
        .route(
            "/me/bundles/{id}/form",
            get(bundles::form).post(bundles::save_form),
        )
        .route("/me/data-use", get(data_use::show))
        .route("/items/{code}/apply", get(apply::resume).post(apply::start))
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
        .route("/me/cases/{number}/withdraw", post(case::withdraw))
        .route("/me/applications/{id}/delete", post(home::delete_draft))
        .route("/me/cases/{number}/documents/{code}", get(case::document))
}

/// A page frame for the applicant's space.
pub(crate) use crate::html::applicant_page as page;

pub(crate) fn not_found() -> PageError {
    PageError::new(ErrorCode::NotFound)
}
