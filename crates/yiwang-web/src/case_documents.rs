//! The notices of a case as its applicant and its staff see them: a list for the case page
//! and the PDF download, rendered again from the stored notice and checked against the digest
//! recorded when it was issued (a mismatch is refused, never served).

use crate::AppState;
use crate::html::{PageError, PageResult, fail};
use crate::locale::Locale;
use yiwang_domain::ErrorCode;
use yiwang_domain::case::CaseNumber;
use yiwang_domain::document::VerifyCode;

/// One issued document, for the case page.
#[derive(Debug, Clone)]
pub struct DocumentLink {
    pub title: String,
    pub href: String,
    pub issued_at: i64,
    pub valid: bool,
}

/// The documents of a case with links under `base` (`/me/cases/<n>` or `/console/cases/<n>`).
pub(crate) async fn links(
    state: &AppState,
    locale: Locale,
    number: &CaseNumber,
    base: &str,
) -> Result<Vec<DocumentLink>, PageError> {
    let docs = state.store.documents_for_case(number.as_str()).await?;
    Ok(docs
        .into_iter()
        .map(|d| DocumentLink {
            title: yiwang_docs::title(d.kind, locale.lang),
            href: crate::link::href(locale, &format!("{base}/documents/{}", d.verify_code)),
            issued_at: d.issued_at_ms,
            valid: d.status == yiwang_domain::document::DocumentStatus::Valid,
        })
        .collect())
}

/// The PDF of document `code` of case `number` (the caller has checked who may see the case).
pub(crate) async fn download(
    state: &AppState,
    locale: Locale,
    number: &CaseNumber,
    code: &str,
) -> PageResult {
    let code = VerifyCode::parse(code).map_err(|_| fail(ErrorCode::NotFound))?;
    let doc = state
        .store
        .document_by_verify_code(&code)
        .await?
        .filter(|d| d.case_number == number.as_str())
        .ok_or_else(|| fail(ErrorCode::NotFound))?;
    let pdf = yiwang_app::notices::render_stored(&doc.notice_json).map_err(|e| {
        tracing::error!(error = %e, "stored notice does not render");
        fail(ErrorCode::Internal)
    })?;
    if !doc.matches(&pdf) {
        tracing::error!(code = %code, "document digest mismatch; not served");
        return Err(fail(ErrorCode::Internal));
    }
    let name = format!(
        "{}-{}.pdf",
        yiwang_docs::title(doc.kind, locale.lang),
        number
    );
    Ok(crate::download::pdf_attachment(&name, pdf))
}
