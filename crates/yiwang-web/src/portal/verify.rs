//! `/verify/{code}`: the public check of a document (文书核验) reached from the QR code printed
//! on it. Shows the kind, its document number (文号 or certificate number), case number, issuing
//! department, issue date, status, the digest printed on it and the PDF file's digest; never
//! the applicant. An unknown or malformed code gets a plain 404 page with a box to type the
//! code again; `/verify` alone offers that box (a GET form, no script), for a hotline caller
//! or a reader with the paper and no camera.

use super::Ctx;
use crate::html::PageError;
use crate::page::Page;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use yiwang_domain::document::{DocumentStatus, VerifyCode};
use yiwang_store::documents::PublicDocument;

#[derive(Template, WebTemplate)]
#[template(path = "portal/verify.html")]
pub struct VerifyPage {
    page: Page,
    doc: Option<Shown>,
    /// What was typed or asked for (kept in the box).
    typed: String,
    /// Something was asked for (a code was given): no match is then an error.
    asked: bool,
}

/// The document as the page shows it.
pub struct Shown {
    kind: String,
    case_number: String,
    department: String,
    credit_code: String,
    issued_at: i64,
    revoked_at: Option<i64>,
    valid: bool,
    alg: String,
    /// The hex digest of the PDF file in groups of eight, so it wraps on a narrow screen.
    digest: String,
    /// 文号 or certificate number.
    doc_number: Option<String>,
    /// The digest printed on the document, grouped the same way as on the paper.
    printed_digest: Option<String>,
}

impl Shown {
    fn new(ctx: &Ctx, d: &PublicDocument) -> Self {
        Self {
            kind: ctx.t(&format!("docs.title.{}", d.kind.key())),
            case_number: d.case_number.clone(),
            department: d.department_name.clone(),
            credit_code: d.department_credit_code.clone(),
            issued_at: d.issued_at_ms,
            revoked_at: d.revoked_at_ms,
            valid: d.status == DocumentStatus::Valid,
            alg: d.alg.to_uppercase(),
            digest: group(&d.digest),
            doc_number: d.doc_number.clone(),
            printed_digest: d.printed_digest.as_deref().map(group),
        }
    }
}

/// `abcdefgh12345678…` as `abcdefgh 12345678 …`.
pub(crate) fn group(hex: &str) -> String {
    hex.as_bytes()
        .chunks(8)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

pub async fn show(
    ctx: Ctx,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, PageError> {
    let typed = path
        .as_ref()
        .map(|Path(raw)| raw.chars().take(40).collect::<String>())
        .unwrap_or_default();
    let code = path.ok().and_then(|Path(raw)| VerifyCode::parse(&raw).ok());
    let found = match &code {
        Some(c) => ctx.st.store.document_by_verify_code(c).await?,
        None => None,
    };
    let title = ctx.t("docs.verify.title");
    let ctx = ctx.titled(title);
    let doc = found.map(|d| Shown::new(&ctx, &d.public()));
    let status = if doc.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    let page = VerifyPage {
        page: ctx.page,
        doc,
        typed,
        asked: true,
    };
    Ok((status, page).into_response())
}

#[derive(Debug, serde::Deserialize)]
pub struct Typed {
    #[serde(default)]
    code: Option<String>,
}

/// `/verify` and `/verify?code=…`: the box to type a code; a well-formed code goes on to its
/// page (303), a malformed one is shown again with the message.
pub async fn lookup(ctx: Ctx, Query(q): Query<Typed>) -> Result<Response, PageError> {
    let typed: String = q
        .code
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .take(40)
        .collect();
    if let Ok(code) = VerifyCode::parse(&typed) {
        let path = format!("/verify/{code}");
        return Ok(axum::response::Redirect::to(&ctx.page.href(&path)).into_response());
    }
    let title = ctx.t("docs.verify.title");
    let ctx = ctx.titled(title);
    let asked = !typed.is_empty();
    let status = if asked {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = VerifyPage {
        page: ctx.page,
        doc: None,
        typed,
        asked,
    };
    Ok((status, page).into_response())
}
