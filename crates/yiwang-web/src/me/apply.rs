//! Applying online (在线申请): a draft from an item's guide page, then the shared flow of
//! [`crate::apply_pages`] as the signed-in applicant.

use super::{CurrentApplicant, not_found};
use crate::AppState;
use crate::apply_pages::{self, Filer};
use crate::auth::ClientAddr;
use crate::html::fail;
use crate::html::{PageResult, see_other};
use crate::locale::Locale;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use yiwang_domain::ImplCode;

/// 在线申请: a new draft for a published implementation, pre-filled from the account.
pub async fn start(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    ClientAddr(client): ClientAddr,
    Path(code): Path<String>,
) -> PageResult {
    open_draft(&state, locale, &me, &client, &code, false).await
}

/// Back from signing in (the GET twin of 在线申请): the applicant's draft of the item, resumed
/// or started, so they land on the form and not on the guide again.
pub async fn resume(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    ClientAddr(client): ClientAddr,
    Path(code): Path<String>,
) -> PageResult {
    open_draft(&state, locale, &me, &client, &code, true).await
}

async fn open_draft(
    state: &AppState,
    locale: Locale,
    me: &CurrentApplicant,
    client: &str,
    code: &str,
    resume: bool,
) -> PageResult {
    let back = format!("/items/{}/apply", crate::link::encode_query(code));
    let a = me.require(locale, &back)?;
    let code = ImplCode::parse(code).map_err(|_| not_found())?;
    let app =
        yiwang_app::apply::start(&state.store, a, &code, resume, client, state.now_ms()).await?;
    Ok(see_other(locale, &format!("/me/applications/{}", app.id)))
}

pub async fn form(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    Path(id): Path<i64>,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let a = me.require(locale, &format!("/me/applications/{id}"))?;
    let flash = apply_pages::Flash::from_query(&q);
    apply_pages::show_form(&state, locale, Filer::Applicant(a), id, &flash).await
}

/// Saves the answers and every chosen file in one post (multipart; a plain urlencoded post of
/// the answers alone is read too), then back to the page (post/redirect/get).
pub async fn save(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    Path(id): Path<i64>,
    req: Request,
) -> PageResult {
    let a = me.require(locale, &format!("/me/applications/{id}"))?;
    let posted = apply_pages::read_posted(&state, req).await?;
    apply_pages::save_form(&state, locale, Filer::Applicant(a), id, posted).await
}

pub async fn check(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    Path(id): Path<i64>,
    Query(q): Query<Vec<(String, String)>>,
) -> PageResult {
    let a = me.require(locale, &format!("/me/applications/{id}/check"))?;
    apply_pages::show_check(&state, locale, Filer::Applicant(a), id, &q).await
}

pub async fn submit(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    ClientAddr(client): ClientAddr,
    Path(id): Path<i64>,
    body: Bytes,
) -> PageResult {
    let a = me.require(locale, &format!("/me/applications/{id}/check"))?;
    apply_pages::submit(&state, locale, Filer::Applicant(a), &client, id, &body).await
}

pub async fn upload(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    Path(id): Path<i64>,
    mp: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult {
    let a = me.require(locale, &format!("/me/applications/{id}"))?;
    let mp = mp.map_err(|r| fail(crate::upload::rejection_code(&r)))?;
    apply_pages::upload_material(&state, locale, Filer::Applicant(a), id, mp).await
}

pub async fn remove(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    Path(id): Path<i64>,
    body: Bytes,
) -> PageResult {
    let a = me.require(locale, &format!("/me/applications/{id}"))?;
    apply_pages::remove_material(&state, locale, Filer::Applicant(a), id, &body).await
}

pub async fn file(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    Path((id, upload)): Path<(i64, i64)>,
) -> PageResult {
    let a = me.require(locale, &format!("/me/applications/{id}"))?;
    apply_pages::material_file(&state, locale, Filer::Applicant(a), id, upload).await
}
