//! Counter intake (窗口收件) and applying on a citizen's behalf at a township or village service
//! point (代办): the staff member finds or registers the citizen, picks the item, and fills the
//! same form with the same rules as online (`crate::apply_pages`). The case records its source
//! (窗口 / 代办) and who entered it.
//!
//! Intake is in person, so it verifies the citizen's identity (实名核验) with the document the
//! staff member checked: the draft goes to the account whose name and phone are the citizen's;
//! an unverified account holding the number under another name or phone is detached (the
//! staff member is told) and never receives the case; an account verified under another name or
//! phone is refused with the reason.

use super::page;
use crate::AppState;
use crate::apply_pages::{self, Filer};
use crate::auth::{ClientAddr, CurrentUser};
use crate::html::fail;
use crate::html::{PageResult, allow, here, read_form, render, see_other};
use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, Uri};
use yiwang_app::intake::{self, Intake};
use yiwang_domain::case::{ApplicantId, CaseNumber};
use yiwang_domain::codes::Phone;
use yiwang_domain::policy::{Action, Principal, Target};
use yiwang_domain::{ErrorCode, ImplCode};
use yiwang_i18n::error_message;
use yiwang_store::identity::{DOCUMENTS, IdentityClaim, VerificationRecord, VerificationSource};

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
    who: PersonFields,
    item: String,
    /// After an unverified account lost the number: what happened, and the draft's address.
    reclaimed: Option<String>,
}

/// What staff type about the citizen in front of them, on the intake and the 实名核验 forms
/// alike (`console/_identity_document.html`), as typed (cut to the fields' lengths).
pub(super) struct PersonFields {
    pub name: String,
    pub legal_rep: String,
    pub phone: String,
    /// The identity documents staff may have checked: `(key, label)`.
    pub documents: Vec<(String, String)>,
    pub document: String,
    pub place: String,
}

impl PersonFields {
    /// An empty form; the place defaults to the staff member's own department or region.
    pub(super) fn blank(p: &Principal, lang: yiwang_i18n::Lang) -> PersonFields {
        PersonFields {
            name: String::new(),
            legal_rep: String::new(),
            phone: String::new(),
            documents: document_choices(lang),
            document: String::new(),
            place: default_place(p),
        }
    }

    /// The form as typed, to show it again with its errors.
    pub(super) fn typed(form: &crate::html::FormData, lang: yiwang_i18n::Lang) -> PersonFields {
        let cut = |k: &str, n: usize| form.get(k).chars().take(n).collect::<String>();
        PersonFields {
            name: cut("name", 100),
            legal_rep: cut("legal_rep", 100),
            phone: cut("phone", 20),
            documents: document_choices(lang),
            document: cut("document", 40),
            place: cut("place", 200),
        }
    }

    /// Cleared for the next citizen (the place stays: the same counter).
    pub(super) fn clear_person(&mut self) {
        self.name.clear();
        self.legal_rep.clear();
        self.phone.clear();
        self.document.clear();
    }
}

/// The documents offered on in-person verification forms, labelled in `lang`.
fn document_choices(lang: yiwang_i18n::Lang) -> Vec<(String, String)> {
    DOCUMENTS
        .iter()
        .map(|k| {
            (
                (*k).to_string(),
                yiwang_i18n::t(lang, &format!("identity_document.{k}")).to_string(),
            )
        })
        .collect()
}

/// Where a staff member verifies when they do not say: their first grant's department or
/// region.
fn default_place(p: &Principal) -> String {
    p.grants
        .first()
        .and_then(|g| {
            g.department
                .as_ref()
                .map(|d| d.as_str().to_string())
                .or_else(|| g.region.as_ref().map(|r| r.as_str().to_string()))
        })
        .unwrap_or_default()
}

/// A claim and an in-person record from a verification form (`id_number`, `name`,
/// `legal_rep`, `phone`, `document`, `place`); the problems per field otherwise.
pub(super) fn in_person_claim(
    form: &crate::html::FormData,
    p: &Principal,
    lang: yiwang_i18n::Lang,
) -> Result<(IdentityClaim, VerificationRecord), Vec<(String, String)>> {
    let mut errors = Vec::new();
    let id = ApplicantId::parse(form.get("id_number"));
    let phone = Phone::parse(form.get("phone"));
    if let Err(c) = &id {
        errors.push(("id_number".to_string(), error_message(lang, *c)));
    }
    if form.get("name").trim().is_empty() {
        errors.push(("name".into(), error_message(lang, ErrorCode::Required)));
    }
    if matches!(id, Ok(ApplicantId::Organisation(_))) && form.get("legal_rep").trim().is_empty() {
        errors.push(("legal_rep".into(), error_message(lang, ErrorCode::Required)));
    }
    if let Err(c) = &phone {
        errors.push(("phone".into(), error_message(lang, *c)));
    }
    let document = form.get("document");
    if !DOCUMENTS.contains(&document) {
        errors.push(("document".into(), error_message(lang, ErrorCode::Required)));
    }
    let (Ok(id), Ok(phone), true) = (id, phone, errors.is_empty()) else {
        return Err(errors);
    };
    let place = match form.get("place").trim() {
        "" => default_place(p),
        given => given.chars().take(200).collect(),
    };
    Ok((
        IdentityClaim {
            id,
            name: form.get("name").to_string(),
            legal_rep: Some(form.get("legal_rep").to_string()).filter(|r| !r.trim().is_empty()),
            phone,
        },
        VerificationRecord {
            source: VerificationSource::InPerson,
            verifier: p.username.clone(),
            staff_id: Some(p.user_id),
            place,
            document: document.to_string(),
        },
    ))
}

/// The items this person may take in, for the page.
async fn offers(state: &AppState, p: &Principal) -> Result<Vec<Offer>, yiwang_store::StoreError> {
    Ok(intake::offers(&state.store, p)
        .await?
        .into_iter()
        .map(|o| {
            let imp = &o.implementation;
            Offer {
                code: imp.implementation.code.to_string(),
                name: format!(
                    "{}（{}）",
                    imp.standard.name, imp.implementation.department_name
                ),
                source: yiwang_domain::enums::CodeSet::key(o.source).to_string(),
            }
        })
        .collect())
}

pub async fn form(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    uri: Uri,
) -> PageResult {
    let p = allow(
        &user,
        Action::IntakeCases,
        &Target::Anything,
        locale,
        &here(&uri),
    )?;
    let tpl = IntakePage {
        page: page(locale, p, "console.intake.title", "/console/intake"),
        offers: offers(&state, p).await?,
        errors: Vec::new(),
        who: PersonFields::blank(p, locale.lang),
        item: String::new(),
        reclaimed: None,
    };
    Ok(render(StatusCode::OK, &tpl, locale.lang))
}

/// Verifies the citizen in person (registering them, without a password, when the number has
/// no account) and starts a draft entered by staff.
pub async fn start(
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
        "/console/intake",
    )?;
    let form = read_form(req, &state).await?;
    let lang = locale.lang;
    let offers = offers(&state, p).await?;
    let mut tpl = IntakePage {
        page: page(locale, p, "console.intake.title", "/console/intake"),
        offers,
        errors: Vec::new(),
        who: PersonFields::typed(&form, lang),
        item: form.get("item").chars().take(40).collect(),
        reclaimed: None,
    };
    let checked = in_person_claim(&form, p, lang);
    let offer = tpl.offers.iter().find(|o| o.code == form.get("item"));
    if offer.is_none() {
        tpl.errors
            .push(("item".into(), error_message(lang, ErrorCode::Required)));
    }
    if let Err(errors) = &checked {
        tpl.errors.extend(errors.iter().cloned());
    }
    let (Ok((claim, record)), Some(offer)) = (checked, offer) else {
        return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &tpl, lang));
    };
    let source = yiwang_domain::enums::CodeSet::from_key(&offer.source)
        .ok_or_else(|| fail(ErrorCode::Forbidden))?;
    let code = ImplCode::parse(&offer.code).map_err(|_| fail(ErrorCode::NotFound))?;
    let started = intake::start(
        &state.store,
        p,
        &client,
        &claim,
        &record,
        &code,
        source,
        state.now_ms(),
    )
    .await?;
    let (application_id, reclaimed) = match started {
        Intake::Started {
            application_id,
            reclaimed,
        } => (application_id, reclaimed),
        // A verified account under another name or phone: refused, with the reason.
        Intake::Refused(code) => {
            let field = match code {
                ErrorCode::IdentityConflict => "id_number",
                ErrorCode::Required => "legal_rep",
                _ => "name",
            };
            tpl.errors.push((field.into(), error_message(lang, code)));
            return Ok(render(crate::error::status_for(code), &tpl, lang));
        }
    };
    let draft = format!("/console/intake/{application_id}");
    if reclaimed {
        // The staff member learns that the number was taken back from another account.
        tpl.reclaimed = Some(crate::link::href(locale, &draft));
        return Ok(render(StatusCode::OK, &tpl, lang));
    }
    Ok(see_other(locale, &draft))
}

fn staff<'a>(
    user: &'a CurrentUser,
    locale: Locale,
    uri: &Uri,
) -> Result<&'a Principal, crate::html::PageError> {
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
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let p = staff(&user, locale, &uri)?;
    let flash = apply_pages::Flash::from_query(&q);
    apply_pages::show_form(&state, locale, Filer::Staff(p), id, &flash).await
}

pub async fn save(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    uri: Uri,
    Path(id): Path<i64>,
    req: axum::extract::Request,
) -> PageResult {
    let p = staff(&user, locale, &uri)?;
    let posted = apply_pages::read_posted(&state, req).await?;
    apply_pages::save_form(&state, locale, Filer::Staff(p), id, posted).await
}

pub async fn check(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    uri: Uri,
    Path(id): Path<i64>,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let p = staff(&user, locale, &uri)?;
    apply_pages::show_check(&state, locale, Filer::Staff(p), id, &q).await
}

#[allow(clippy::too_many_arguments)]
pub async fn submit(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    ClientAddr(client): ClientAddr,
    uri: Uri,
    Path(id): Path<i64>,
    body: Bytes,
) -> PageResult {
    let p = staff(&user, locale, &uri)?;
    apply_pages::submit(&state, locale, Filer::Staff(p), &client, id, &body).await
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
) -> PageResult {
    let p = staff(&user, locale, &uri)?;
    let number = CaseNumber::parse(&n).map_err(|_| fail(ErrorCode::NotFound))?;
    let case = state.store.case_record(&number).await?;
    // Only who entered it (or who may handle it) sees the receipt.
    let can_open = state.store.staff_sees_case(p, &case).await?;
    if case.staff_id != Some(p.user_id) && !can_open {
        return Err(fail(ErrorCode::NotFound));
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
    Path(id): Path<i64>,
    mp: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult {
    let p = staff(&user, locale, &uri)?;
    let mp = mp.map_err(|r| fail(crate::upload::rejection_code(&r)))?;
    apply_pages::upload_material(&state, locale, Filer::Staff(p), id, mp).await
}

pub async fn remove(
    State(state): State<AppState>,
    locale: Locale,
    user: CurrentUser,
    uri: Uri,
    Path(id): Path<i64>,
    body: Bytes,
) -> PageResult {
    let p = staff(&user, locale, &uri)?;
    apply_pages::remove_material(&state, locale, Filer::Staff(p), id, &body).await
}
