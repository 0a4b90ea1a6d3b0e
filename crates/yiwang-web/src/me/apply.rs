//! Applying online (在线申请): a draft from an item's guide page, then the shared flow of
//! [`crate::apply_flow`] as the signed-in applicant.

use super::{CurrentApplicant, not_found};
use crate::AppState;
use crate::apply_flow::{self, Filer};
use crate::auth::ClientAddr;
use crate::console::{ConsoleResult, same_origin, see_other, store_fail};
use crate::locale::Locale;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use yiwang_domain::ImplCode;
use yiwang_domain::case::CaseSource;

/// 在线申请: a new draft for a published implementation.
pub async fn start(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> ConsoleResult {
    same_origin(&headers, locale)?;
    let guide = format!("/items/{}", crate::console::encode(&code));
    let a = me.require(locale, &guide)?;
    let code = ImplCode::parse(&code).map_err(|_| not_found(locale))?;
    let app = state
        .store
        .create_application(a.id, &code, CaseSource::Online, None, state.now_ms())
        .await
        .map_err(|e| store_fail(e, locale))?;
    Ok(see_other(locale, &format!("/me/applications/{}", app.id)))
}

pub async fn form(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    Path(id): Path<i64>,
) -> ConsoleResult {
    let a = me.require(locale, &format!("/me/applications/{id}"))?;
    apply_flow::show_form(&state, locale, Filer::Applicant(a), id).await
}

pub async fn save(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Bytes,
) -> ConsoleResult {
    same_origin(&headers, locale)?;
    let a = me.require(locale, &format!("/me/applications/{id}"))?;
    apply_flow::save_form(&state, locale, Filer::Applicant(a), id, &body).await
}

pub async fn check(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    Path(id): Path<i64>,
) -> ConsoleResult {
    let a = me.require(locale, &format!("/me/applications/{id}/check"))?;
    apply_flow::show_check(&state, locale, Filer::Applicant(a), id).await
}

pub async fn submit(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Bytes,
) -> ConsoleResult {
    same_origin(&headers, locale)?;
    let a = me.require(locale, &format!("/me/applications/{id}/check"))?;
    apply_flow::submit(&state, locale, Filer::Applicant(a), &client, id, &body).await
}

pub async fn upload(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    headers: HeaderMap,
    Path(id): Path<i64>,
    mp: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> ConsoleResult {
    same_origin(&headers, locale)?;
    let a = me.require(locale, &format!("/me/applications/{id}"))?;
    let mp = mp.map_err(|r| crate::console::fail(crate::upload::rejection_code(&r), locale))?;
    apply_flow::upload_material(&state, locale, Filer::Applicant(a), id, mp).await
}

pub async fn remove(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Bytes,
) -> ConsoleResult {
    same_origin(&headers, locale)?;
    let a = me.require(locale, &format!("/me/applications/{id}"))?;
    apply_flow::remove_material(&state, locale, Filer::Applicant(a), id, &body).await
}

pub async fn file(
    State(state): State<AppState>,
    locale: Locale,
    me: CurrentApplicant,
    Path((id, upload)): Path<(i64, i64)>,
) -> ConsoleResult {
    let a = me.require(locale, &format!("/me/applications/{id}"))?;
    apply_flow::material_file(&state, locale, Filer::Applicant(a), id, upload).await
}
