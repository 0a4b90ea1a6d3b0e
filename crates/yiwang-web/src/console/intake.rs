//! Counter intake (窗口收件) and applying on a citizen's behalf at a township or village service
//! point (代办): the staff member finds or registers the citizen, picks the item, and fills the
//! same form with the same rules as online (`crate::apply_flow`). The case records its source
//! (窗口 / 代办) and who entered it.

use super::{
    ConsoleResult, allow, here, page, read_form, render, same_origin, see_other, store_fail,
};
use crate::AppState;
use crate::apply_flow::{self, Filer};
use crate::auth::{ClientAddr, CurrentUser};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use yiwang_domain::case::{ApplicantId, CaseNumber};
use yiwang_domain::codes::Phone;
use yiwang_domain::policy::{Action, Principal, Target, may_intake};
use yiwang_domain::{ErrorCode, ImplCode};
use yiwang_i18n::error_message;
use yiwang_store::Actor;

/// An item offered for intake: code and name.
pub struct Offer {
    pub code: String,
    pub name: String,
    pub source: String,
}

#[derive(Template)]
#[template(path = "console/intake.html")]
struct IntakePage {
    page: Page,
    offers: Vec<Offer>,
    errors: Vec<(String, String)>,
    name: String,
    legal_rep: String,
    phone: String,
    item: String,
}

/// The published implementations this person may take in, with the channel it would be.
async fn offers(state: &AppState, p: &Principal) -> Result<Vec<Offer>, yiwang_store::StoreError> {
    let mut out = Vec::new();
    for imp in state.store.published_all().await? {
        let i = &imp.implementation;
        if let Some(source) = may_intake(p, &i.department_code, &i.region) {
            out.push(Offer {
                code: i.code.to_string(),
                name: format!("{}（{}）", imp.standard.name, i.department_name),
                source: yiwang_domain::enums::CodeSet::key(source).to_string(),
            });
        }
    }
    Ok(out)
}

pub async fn form(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    uri: Uri,
) -> ConsoleResult {
    let p = allow(
        &user,
        Action::IntakeCases,
        &Target::Anything,
        locale,
        &here(&uri),
    )?;
    let tpl = IntakePage {
        page: page(locale, p, "console.intake.title", "/console/intake"),
        offers: offers(&state, p).await.map_err(|e| store_fail(e, locale))?,
        errors: Vec::new(),
        name: String::new(),
        legal_rep: String::new(),
        phone: String::new(),
        item: String::new(),
    };
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}

/// Finds (or registers, without a password) the citizen and starts a draft entered by staff.
pub async fn start(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    req: Request,
) -> ConsoleResult {
    same_origin(req.headers(), locale)?;
    let p = allow(
        &user,
        Action::IntakeCases,
        &Target::Anything,
        locale,
        "/console/intake",
    )?;
    let form = read_form(req, &state, locale).await?;
    let lang = locale.lang;
    let offers = offers(&state, p).await.map_err(|e| store_fail(e, locale))?;
    let mut tpl = IntakePage {
        page: page(locale, p, "console.intake.title", "/console/intake"),
        offers,
        errors: Vec::new(),
        name: form.get("name").chars().take(100).collect(),
        legal_rep: form.get("legal_rep").chars().take(100).collect(),
        phone: form.get("phone").chars().take(20).collect(),
        item: form.get("item").chars().take(40).collect(),
    };
    let id = ApplicantId::parse(form.get("id_number"));
    let phone = Phone::parse(form.get("phone"));
    let offer = tpl.offers.iter().find(|o| o.code == form.get("item"));
    if let Err(c) = &id {
        tpl.errors
            .push(("id_number".into(), error_message(lang, *c)));
    }
    if offer.is_none() {
        tpl.errors
            .push(("item".into(), error_message(lang, ErrorCode::Required)));
    }
    let (Ok(id), Some(offer)) = (id, offer) else {
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &tpl, lang));
    };
    let source = yiwang_domain::enums::CodeSet::from_key(&offer.source)
        .ok_or_else(|| super::fail(ErrorCode::Forbidden, locale))?;
    let code =
        ImplCode::parse(&offer.code).map_err(|_| super::fail(ErrorCode::NotFound, locale))?;
    let applicant = match state
        .store
        .applicant_by_id_number(&id)
        .await
        .map_err(|e| store_fail(e, locale))?
    {
        Some(a) => a,
        None => {
            // A citizen without an account: name and phone are needed to register them.
            if form.get("name").trim().is_empty() {
                tpl.errors
                    .push(("name".into(), error_message(lang, ErrorCode::Required)));
            }
            let phone = match phone {
                Ok(ph) => Some(ph),
                Err(c) => {
                    tpl.errors.push(("phone".into(), error_message(lang, c)));
                    None
                }
            };
            let Some(phone) = phone.filter(|_| tpl.errors.is_empty()) else {
                return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &tpl, lang));
            };
            let legal_rep = Some(form.get("legal_rep")).filter(|r| !r.trim().is_empty());
            match state
                .store
                .register_walk_in(
                    &id,
                    form.get("name"),
                    legal_rep,
                    &phone,
                    &Actor::principal(p, &client),
                    state.now_ms(),
                )
                .await
            {
                Ok(a) => a,
                Err(e) if e.code() != ErrorCode::Internal => {
                    tpl.errors
                        .push(("legal_rep".into(), error_message(lang, e.code())));
                    return Ok(render(crate::error::status_for(e.code()), &tpl, lang));
                }
                Err(e) => return Err(store_fail(e, locale)),
            }
        }
    };
    let app = state
        .store
        .create_application(applicant.id, &code, source, Some(p.user_id), state.now_ms())
        .await
        .map_err(|e| store_fail(e, locale))?;
    Ok(see_other(locale, &format!("/console/intake/{}", app.id)))
}

fn staff<'a>(
    user: &'a CurrentUser,
    locale: Locale,
    uri: &Uri,
) -> Result<&'a Principal, super::ConsoleError> {
    allow(
        user,
        Action::IntakeCases,
        &Target::Anything,
        locale,
        &here(uri),
    )
}

pub async fn draft(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    uri: Uri,
    Path(id): Path<i64>,
) -> ConsoleResult {
    let p = staff(&user, locale, &uri)?;
    apply_flow::show_form(&state, locale, Filer::Staff(p), id).await
}

pub async fn save(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Bytes,
) -> ConsoleResult {
    same_origin(&headers, locale)?;
    let p = staff(&user, locale, &uri)?;
    apply_flow::save_form(&state, locale, Filer::Staff(p), id, &body).await
}

pub async fn check(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    uri: Uri,
    Path(id): Path<i64>,
) -> ConsoleResult {
    let p = staff(&user, locale, &uri)?;
    apply_flow::show_check(&state, locale, Filer::Staff(p), id).await
}

#[allow(clippy::too_many_arguments)]
pub async fn submit(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Bytes,
) -> ConsoleResult {
    same_origin(&headers, locale)?;
    let p = staff(&user, locale, &uri)?;
    apply_flow::submit(&state, locale, Filer::Staff(p), &client, id, &body).await
}

#[derive(Template)]
#[template(path = "console/intake_done.html")]
struct DonePage {
    page: Page,
    number: String,
    item_name: String,
    can_open: bool,
}

/// The receipt after intake: the case number to give the citizen.
pub async fn done(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    uri: Uri,
    Path(n): Path<String>,
) -> ConsoleResult {
    let p = staff(&user, locale, &uri)?;
    let number = CaseNumber::parse(&n).map_err(|_| super::fail(ErrorCode::NotFound, locale))?;
    let case = state
        .store
        .case_record(&number)
        .await
        .map_err(|e| store_fail(e, locale))?;
    // Only who entered it (or who may handle it) sees the receipt.
    let can_open = state
        .store
        .staff_sees_case(p, &case)
        .await
        .map_err(|e| store_fail(e, locale))?;
    if case.staff_id != Some(p.user_id) && !can_open {
        return Err(super::fail(ErrorCode::NotFound, locale));
    }
    let tpl = DonePage {
        page: page(
            locale,
            p,
            "console.intake.done",
            &format!("/console/intake/done/{number}"),
        ),
        number: number.to_string(),
        item_name: case.item_name.clone(),
        can_open,
    };
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}

pub async fn upload(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<i64>,
    mp: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> ConsoleResult {
    same_origin(&headers, locale)?;
    let p = staff(&user, locale, &uri)?;
    let mp = mp.map_err(|r| super::fail(crate::upload::rejection_code(&r), locale))?;
    apply_flow::upload_material(&state, locale, Filer::Staff(p), id, mp).await
}

pub async fn remove(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Bytes,
) -> ConsoleResult {
    same_origin(&headers, locale)?;
    let p = staff(&user, locale, &uri)?;
    apply_flow::remove_material(&state, locale, Filer::Staff(p), id, &body).await
}
