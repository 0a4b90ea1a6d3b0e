//! `/verify/{code}`: the public check of a document (文书核验) reached from the QR code printed
//! on it. Shows the kind, case number, issuing department, issue date, status and digest; never
//! the applicant. An unknown or malformed code gets a plain 404 page.

use super::Ctx;
use crate::html::PageError;
use crate::page::Page;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use yiwang_domain::document::{DocumentStatus, VerifyCode};
use yiwang_store::documents::PublicDocument;

#[derive(Template, WebTemplate)]
#[template(path = "portal/verify.html")]
pub struct VerifyPage {
    page: Page,
    doc: Option<Shown>,
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
    /// The hex digest in groups of eight, so it wraps on a narrow screen.
    digest: String,
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
    };
    Ok((status, page).into_response())
}
