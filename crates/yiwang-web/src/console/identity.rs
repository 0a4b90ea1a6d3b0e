//! In-person identity verification (实名核验) at a counter or service point, for staff who may
//! take in applications: the citizen shows a document, the staff member records who, where,
//! when and which document (`yiwang_store::identity`). A verified identity wins: an unverified
//! account holding the number under another name or phone is detached.

use super::intake::{PersonFields, in_person_claim};
use super::page;
use crate::AppState;
use crate::auth::{ClientAddr, CurrentUser};
use crate::html::{PageResult, allow, here, read_form, render};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri};
use yiwang_domain::ErrorCode;
use yiwang_domain::policy::{Action, Target};
use yiwang_i18n::error_message;
use yiwang_store::Actor;
use yiwang_store::identity::Verified;

#[derive(Template)]
#[template(path = "console/identity.html")]
struct IdentityPage {
    page: Page,
    errors: Vec<(String, String)>,
    who: PersonFields,
    /// The outcome of a recorded verification (catalog key).
    done: Option<String>,
}

pub async fn form(locale: Locale, user: CurrentUser, uri: Uri) -> PageResult {
    let p = allow(
        &user,
        Action::IntakeCases,
        &Target::Anything,
        locale,
        &here(&uri),
    )?;
    let tpl = IdentityPage {
        page: page(locale, p, "console.identity.title", "/console/identity"),
        errors: Vec::new(),
        who: PersonFields::blank(p, locale.lang),
        done: None,
    };
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}

pub async fn verify(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> PageResult {
    let p = allow(
        &user,
        Action::IntakeCases,
        &Target::Anything,
        locale,
        "/console/identity",
    )?;
    let form = read_form(req, &state).await?;
    let lang = locale.lang;
    let mut tpl = IdentityPage {
        page: page(locale, p, "console.identity.title", "/console/identity"),
        errors: Vec::new(),
        who: PersonFields::typed(&form, lang),
        done: None,
    };
    let (claim, record) = match in_person_claim(&form, p, lang) {
        Ok(c) => c,
        Err(errors) => {
            tpl.errors = errors;
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &tpl, lang));
        }
    };
    match state
        .store
        .verify_identity(
            &claim,
            &record,
            &Actor::principal(p, &client),
            state.now_ms(),
        )
        .await
    {
        Ok(v) => {
            tpl.done = Some(
                match v {
                    Verified::Confirmed(_) => "console.identity.confirmed",
                    Verified::Registered(_) => "console.identity.registered",
                    Verified::Reclaimed { .. } => "console.identity.reclaimed",
                }
                .to_string(),
            );
            // A fresh form for the next citizen.
            tpl.who.clear_person();
            Ok(render(StatusCode::OK, &tpl, lang))
        }
        Err(e) if e.code() != ErrorCode::Internal => {
            let field = match e.code() {
                ErrorCode::Required => "legal_rep",
                ErrorCode::IdentityConflict => "id_number",
                _ => "name",
            };
            tpl.errors
                .push((field.into(), error_message(lang, e.code())));
            Ok(render(crate::error::status_for(e.code()), &tpl, lang))
        }
        Err(e) => Err(e.into()),
    }
}
