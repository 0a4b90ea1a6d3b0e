//! 文书核验: the public status of a document by the verification code printed on it. No
//! personal data: kind, case number, issuing department, dates, status, the PDF's digest,
//! the document's number and the digest printed on it.

use super::common::{ErrorBody, LangQuery};
use crate::AppState;
use crate::error::AppError;
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;
use yiwang_domain::ErrorCode;
use yiwang_domain::document::{DocumentStatus, VerifyCode};

use super::ApiLang;

/// A document as anyone holding its verification code may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentVerification {
    /// The verification code (20 base32 characters).
    #[schema(example = "K7Q2M9X4TP3B6W8R5N2H")]
    pub verify_code: String,
    /// `acceptance`, `non_acceptance`, `correction`, `approval`, `refusal`, `completion` or
    /// `certificate`.
    #[schema(example = "acceptance")]
    pub kind: String,
    /// The kind's title in the requested language (e.g. 受理通知书).
    pub title: String,
    pub case_number: String,
    pub department_name: String,
    /// Unified social credit code of the issuing department.
    pub department_credit_code: String,
    /// Issue instant, epoch milliseconds.
    pub issued_at_ms: i64,
    /// Issue date in Beijing time, `YYYY-MM-DD`.
    pub issued_on: String,
    /// `valid` or `revoked`.
    #[schema(example = "valid")]
    pub status: String,
    pub revoked_at_ms: Option<i64>,
    /// Digest algorithm of `digest` (`sm3`).
    pub alg: String,
    /// Hex digest of the PDF as issued.
    pub digest: String,
    /// The issuing body's document number (文号) or the certificate number printed on it;
    /// absent for documents issued before numbering.
    #[schema(example = "津南审批许〔2026〕12号")]
    pub doc_number: Option<String>,
    /// Hex digest printed on the document (SM3 of what it states), to compare with the paper.
    pub printed_digest: Option<String>,
}

/// Verify a document by the code printed on it.
#[utoipa::path(get, path = "/api/v1/documents/verify/{code}", tag = "documents", operation_id = "verify_document",
    params(("code" = String, Path, description = "Verification code printed on the document (20 base32 characters)"), LangQuery),
    responses(
        (status = 200, description = "The document's public status", body = DocumentVerification),
        (status = 404, description = "No document has this code, or the code is malformed", body = ErrorBody),
    ))]
pub async fn verify(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<DocumentVerification>, AppError> {
    // A code that cannot be one (bad encoding, wrong length or letters) is simply not found.
    let not_found = || AppError::json(ErrorCode::NotFound, lang);
    let Ok(Path(raw)) = path else {
        return Err(not_found());
    };
    let code = VerifyCode::parse(&raw).map_err(|_| not_found())?;
    let d = state
        .store
        .document_by_verify_code(&code)
        .await?
        .ok_or_else(not_found)?
        .public();
    Ok(Json(DocumentVerification {
        title: yiwang_i18n::t(lang, &format!("docs.title.{}", d.kind.key())).to_string(),
        kind: d.kind.key().to_string(),
        verify_code: d.verify_code,
        case_number: d.case_number,
        department_name: d.department_name,
        department_credit_code: d.department_credit_code,
        issued_on: crate::page::format_date(d.issued_at_ms),
        issued_at_ms: d.issued_at_ms,
        status: match d.status {
            DocumentStatus::Valid => "valid",
            DocumentStatus::Revoked => "revoked",
        }
        .to_string(),
        revoked_at_ms: d.revoked_at_ms,
        alg: d.alg,
        digest: d.digest,
        doc_number: d.doc_number,
        printed_digest: d.printed_digest,
    }))
}
