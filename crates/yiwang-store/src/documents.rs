//! Documents (文书) issued for cases: one row per PDF, named by its random verification code,
//! with the digest of the PDF and the JSON it was rendered from (so it can be rendered again
//! byte for byte and checked). The public verification page reads these rows; it never sees
//! the applicant (the JSON stays server-side and is not part of [`PublicDocument`]).
//!
//! [`issue_in`] runs inside the caller's transaction, so the case transition that issues a
//! document commits with it or not at all.

use crate::audit::Actor;
use crate::rows::{get_i64, get_opt_i64, get_opt_str, get_str, parse_stored};
use crate::{Store, StoreError};
use serde::Serialize;
use sm3::{Digest, Sm3};
use yiwang_domain::ErrorCode;
use yiwang_domain::document::{DocumentKind, DocumentStatus, VerifyCode};

/// The digest algorithm recorded with new documents (GB/T 32905 SM3).
pub const DIGEST_ALG: &str = "sm3";
/// Longest accepted revocation reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;
/// Longest case number or department name accepted, in characters.
const MAX_NAME_CHARS: usize = 200;
/// Largest stored notice JSON, bytes.
const MAX_JSON_BYTES: usize = 256 * 1024;

/// `(alg, hex digest)` of a rendered PDF, as stored.
pub fn digest(pdf: &[u8]) -> (&'static str, String) {
    (DIGEST_ALG, hex::encode(Sm3::digest(pdf)))
}

/// A document to record. `notice_json` is what the PDF was rendered from; `pdf` is hashed
/// here (the bytes themselves are not stored).
#[derive(Debug, Clone)]
pub struct NewDocument<'a> {
    pub verify_code: &'a VerifyCode,
    pub case_number: &'a str,
    pub kind: DocumentKind,
    pub department_credit_code: &'a str,
    pub department_name: &'a str,
    pub issued_at_ms: i64,
    pub notice_json: &'a str,
    pub pdf: &'a [u8],
    /// The issuing body's document number (文号) or the certificate number printed on it.
    pub doc_number: Option<&'a str>,
    /// The digest printed on the document (of what it states; see `yiwang_docs`).
    pub printed_digest: Option<&'a str>,
}

/// A stored document, with everything needed to render it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDocument {
    pub id: i64,
    pub verify_code: VerifyCode,
    pub case_number: String,
    pub kind: DocumentKind,
    pub department_credit_code: String,
    pub department_name: String,
    pub issued_at_ms: i64,
    pub status: DocumentStatus,
    pub revoked_at_ms: Option<i64>,
    pub revoked_reason: Option<String>,
    pub alg: String,
    pub digest: String,
    pub notice_json: String,
    pub doc_number: Option<String>,
    pub printed_digest: Option<String>,
}

/// What the public may see about a document: no personal data, no rendering input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicDocument {
    pub verify_code: String,
    pub case_number: String,
    pub kind: DocumentKind,
    pub department_credit_code: String,
    pub department_name: String,
    pub issued_at_ms: i64,
    pub status: DocumentStatus,
    pub revoked_at_ms: Option<i64>,
    pub alg: String,
    pub digest: String,
    pub doc_number: Option<String>,
    pub printed_digest: Option<String>,
}

impl StoredDocument {
    pub fn public(&self) -> PublicDocument {
        PublicDocument {
            verify_code: self.verify_code.to_string(),
            case_number: self.case_number.clone(),
            kind: self.kind,
            department_credit_code: self.department_credit_code.clone(),
            department_name: self.department_name.clone(),
            issued_at_ms: self.issued_at_ms,
            status: self.status,
            revoked_at_ms: self.revoked_at_ms,
            alg: self.alg.clone(),
            digest: self.digest.clone(),
            doc_number: self.doc_number.clone(),
            printed_digest: self.printed_digest.clone(),
        }
    }

    /// Whether `pdf` is this document (same digest under the recorded algorithm).
    pub fn matches(&self, pdf: &[u8]) -> bool {
        self.alg == DIGEST_ALG && digest(pdf).1 == self.digest
    }
}

const COLUMNS: &str = "id, verify_code, case_number, kind, department_credit_code, \
    department_name, issued_at, status, revoked_at, revoked_reason, alg, digest, notice_json, doc_number, printed_digest";

fn document_from(row: &sqlx::any::AnyRow) -> Result<StoredDocument, StoreError> {
    let code = get_str(row, "verify_code")?;
    let kind = get_str(row, "kind")?;
    let status = get_str(row, "status")?;
    Ok(StoredDocument {
        id: get_i64(row, "id")?,
        verify_code: parse_stored("verify_code", &code, VerifyCode::parse)?,
        case_number: get_str(row, "case_number")?,
        kind: parse_stored("kind", &kind, |k| DocumentKind::from_key(k).ok_or(()))?,
        department_credit_code: get_str(row, "department_credit_code")?,
        department_name: get_str(row, "department_name")?,
        issued_at_ms: get_i64(row, "issued_at")?,
        status: parse_stored("status", &status, |s| DocumentStatus::from_key(s).ok_or(()))?,
        revoked_at_ms: get_opt_i64(row, "revoked_at")?,
        revoked_reason: get_opt_str(row, "revoked_reason")?,
        alg: get_str(row, "alg")?,
        digest: get_str(row, "digest")?,
        notice_json: get_str(row, "notice_json")?,
        doc_number: get_opt_str(row, "doc_number")?,
        printed_digest: get_opt_str(row, "printed_digest")?,
    })
}

fn check(doc: &NewDocument<'_>) -> Result<(), StoreError> {
    let name_ok = |s: &str| !s.trim().is_empty() && s.chars().count() <= MAX_NAME_CHARS;
    if !name_ok(doc.case_number)
        || !name_ok(doc.department_name)
        || doc.department_credit_code.chars().count() > MAX_NAME_CHARS
        || doc.notice_json.len() > MAX_JSON_BYTES
        || doc.pdf.is_empty()
        || doc.doc_number.is_some_and(|n| !name_ok(n))
        || doc
            .printed_digest
            .is_some_and(|d| d.is_empty() || d.len() > 128 || !d.is_ascii())
        || serde_json::from_str::<serde_json::Value>(doc.notice_json).is_err()
    {
        return Err(ErrorCode::InvalidInput.into());
    }
    Ok(())
}

/// Records `doc` inside the caller's transaction; returns its id. A verification code that is
/// already taken is `conflict` (draw new randomness and try again).
pub async fn issue_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    doc: &NewDocument<'_>,
) -> Result<i64, StoreError> {
    check(doc)?;
    let (alg, hex) = digest(doc.pdf);
    let row = sqlx::query(
        "INSERT INTO documents (verify_code, case_number, kind, department_credit_code, \
         department_name, issued_at, status, alg, digest, notice_json, doc_number, \
         printed_digest) \
         VALUES ($1, $2, $3, $4, $5, $6, 'valid', $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(doc.verify_code.as_str().to_string())
    .bind(doc.case_number.to_string())
    .bind(doc.kind.key())
    .bind(doc.department_credit_code.to_string())
    .bind(doc.department_name.to_string())
    .bind(doc.issued_at_ms)
    .bind(alg)
    .bind(hex)
    .bind(doc.notice_json.to_string())
    .bind(doc.doc_number.map(str::to_string))
    .bind(doc.printed_digest.map(str::to_string))
    .fetch_one(&mut **tx)
    .await?;
    get_i64(&row, "id")
}

/// Draws the next number of `series` (e.g. `docno:<department>:<year>`) inside the caller's
/// transaction: 1 for a new series, then 2, 3, … A step that rolls back gives its number back,
/// so the numbers issued have no gaps and no repeats.
pub async fn next_serial_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    series: &str,
) -> Result<i64, StoreError> {
    if series.is_empty() || series.len() > MAX_NAME_CHARS {
        return Err(ErrorCode::InvalidInput.into());
    }
    let row = sqlx::query(
        "INSERT INTO document_counters (series, last_serial) VALUES ($1, 1) \
         ON CONFLICT (series) DO UPDATE SET last_serial = document_counters.last_serial + 1 \
         RETURNING last_serial",
    )
    .bind(series.to_string())
    .fetch_one(&mut **tx)
    .await?;
    get_i64(&row, "last_serial")
}

impl Store {
    /// Records `doc` in a transaction of its own (see [`issue_in`] to issue with a case
    /// transition).
    pub async fn issue_document(&self, doc: &NewDocument<'_>) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = issue_in(&mut tx, doc).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The document printed with `code`, if any.
    pub async fn document_by_verify_code(
        &self,
        code: &VerifyCode,
    ) -> Result<Option<StoredDocument>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM documents WHERE verify_code = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(code.as_str().to_string())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(document_from)
            .transpose()
    }

    /// Every document of a case, in the order issued.
    pub async fn documents_for_case(
        &self,
        case_number: &str,
    ) -> Result<Vec<StoredDocument>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM documents WHERE case_number = $1 ORDER BY id");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(case_number.to_string())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(document_from)
            .collect()
    }

    /// Revokes a valid document (e.g. a decision withdrawn, a certificate cancelled), with the
    /// reason, audited. `not_found` for an unknown code; `conflict` when already revoked.
    pub async fn revoke_document(
        &self,
        code: &VerifyCode,
        reason: &str,
        actor: &Actor,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
            return Err(ErrorCode::InvalidInput.into());
        }
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE documents SET status = 'revoked', revoked_at = $1, revoked_reason = $2 \
             WHERE verify_code = $3 AND status = 'valid' RETURNING id, case_number, kind",
        )
        .bind(now_ms)
        .bind(reason.to_string())
        .bind(code.as_str().to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = updated else {
            let exists = sqlx::query("SELECT id FROM documents WHERE verify_code = $1")
                .bind(code.as_str().to_string())
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            return Err(if exists {
                ErrorCode::Conflict
            } else {
                ErrorCode::NotFound
            }
            .into());
        };
        let id = get_i64(&row, "id")?;
        let detail = serde_json::json!({
            "case_number": get_str(&row, "case_number")?,
            "kind": get_str(&row, "kind")?,
            "reason": reason,
        });
        let event = actor.event(
            "document.revoke",
            format!("document/{id}"),
            detail.to_string(),
        );
        crate::audit::append_in(&mut tx, now_ms, &event).await?;
        tx.commit().await?;
        Ok(())
    }
}
