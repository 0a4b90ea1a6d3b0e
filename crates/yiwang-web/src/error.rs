//! Errors: a closed set of codes, mapped to HTTP status in one place, rendered as JSON for the
//! API and as a page for browsers.

use crate::locale::Locale;
use crate::page::Page;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use yiwang_domain::{ErrorCode, Issue};
use yiwang_i18n::{Lang, error_message, issue_message};

/// The one mapping from error codes to HTTP status.
pub fn status_for(code: ErrorCode) -> StatusCode {
    use ErrorCode::*;
    match code {
        NotAuthenticated | BadLogin => StatusCode::UNAUTHORIZED,
        Forbidden | TokenBeyondCreator | TokenUnscoped | IdentityUnverified => {
            StatusCode::FORBIDDEN
        }
        IdentityConflict => StatusCode::CONFLICT,
        NotFound => StatusCode::NOT_FOUND,
        MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        Conflict | UsernameTaken | DuplicateImplCode | NothingToPublish | ApplicantExists
        | TransitionNotAllowed | CaseChanged | NotEditable => StatusCode::CONFLICT,
        FileTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        InvalidFormInput => StatusCode::BAD_REQUEST,
        UnsupportedFormat => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        UnsupportedFileType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        EmptyFile => StatusCode::UNPROCESSABLE_ENTITY,
        UploadLocked => StatusCode::CONFLICT,
        TooManyFiles => StatusCode::UNPROCESSABLE_ENTITY,
        Internal => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

#[derive(Debug)]
pub struct AppError {
    pub code: ErrorCode,
    pub lang: Lang,
    pub json: bool,
    pub issues: Vec<Issue>,
    /// Rendered in the default language because the handler did not know the reader's: the
    /// security middleware renders it again in the request's language ([`localize`]).
    relocalize: bool,
}

impl AppError {
    pub fn new(code: ErrorCode, lang: Lang) -> Self {
        Self {
            code,
            lang,
            json: false,
            issues: Vec::new(),
            relocalize: false,
        }
    }
    pub fn json(code: ErrorCode, lang: Lang) -> Self {
        Self {
            json: true,
            ..Self::new(code, lang)
        }
    }
    pub fn store(e: yiwang_store::StoreError, lang: Lang) -> Self {
        if e.code() == ErrorCode::Internal {
            tracing::error!(error = %e, "store error");
        }
        Self::new(e.code(), lang)
    }
    pub fn as_json(mut self) -> Self {
        self.json = true;
        self
    }
    /// Adds one issue per form field error (the field's posted name and its message).
    pub fn with_field_issues(
        mut self,
        errors: &[yiwang_domain::forms::FieldError],
        lang: Lang,
    ) -> Self {
        self.issues.extend(errors.iter().map(|e| Issue {
            sheet: None,
            row: None,
            field: Some(e.field.clone()),
            code: ErrorCode::InvalidInput,
            detail: Some(crate::forms_html::error_text(lang, e)),
        }));
        self
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    page: Page,
    message: String,
    issues: Vec<String>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if self.relocalize {
            let mark = Relocalize {
                code: self.code,
                json: self.json,
            };
            let mut r = AppError {
                relocalize: false,
                ..self
            }
            .into_response();
            r.extensions_mut().insert(mark);
            return r;
        }
        let status = status_for(self.code);
        let message = error_message(self.lang, self.code);
        if self.json {
            let body = serde_json::json!({
                "error": {
                    "code": self.code.key(),
                    "message": message,
                    "issues": self.issues.iter().map(|i| serde_json::json!({
                        "sheet": i.sheet, "row": i.row, "field": i.field,
                        "code": i.code.key(), "detail": i.detail,
                        "message": issue_message(self.lang, i),
                    })).collect::<Vec<_>>(),
                }
            });
            return (status, axum::Json(body)).into_response();
        }
        let page = ErrorPage {
            page: Page::bare(Locale::of(self.lang), message.clone()),
            message,
            issues: self
                .issues
                .iter()
                .map(|i| issue_message(self.lang, i))
                .collect(),
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => status.into_response(),
        }
    }
}

pub async fn not_found(locale: Locale, uri: axum::http::Uri) -> AppError {
    let mut e = AppError::new(ErrorCode::NotFound, locale.lang);
    e.json = uri.path().starts_with("/api/");
    e
}

/// A page handler's early exit: an error page, a 403, or a redirect (to the sign-in page, say).
///
/// Converts with `?` from a store error, an error code and an [`AppError`]. A code becomes the
/// error page in the reader's language: the page is rendered here in the default language and
/// marked, and [`localize`] (run by the security middleware, which knows the request) renders
/// it again when the reader asked for another one.
pub struct PageError(Box<Exit>);

enum Exit {
    Code(ErrorCode),
    Ready(Response),
}

pub type PageResult = Result<Response, PageError>;

impl PageError {
    pub fn new(code: ErrorCode) -> Self {
        PageError(Box::new(Exit::Code(code)))
    }
    /// Ends a handler early with this response (a redirect, say).
    pub fn from_response(r: Response) -> Self {
        PageError(Box::new(Exit::Ready(r)))
    }
}

impl From<ErrorCode> for PageError {
    fn from(code: ErrorCode) -> Self {
        PageError::new(code)
    }
}

impl From<yiwang_store::StoreError> for PageError {
    fn from(e: yiwang_store::StoreError) -> Self {
        if e.code() == ErrorCode::Internal {
            tracing::error!(error = %e, "store error");
        }
        PageError::new(e.code())
    }
}

/// A store failure in an API handler, with `?`: a JSON error in the reader's language (the
/// middleware knows it; see [`localize`]).
impl From<yiwang_store::StoreError> for AppError {
    fn from(e: yiwang_store::StoreError) -> Self {
        let mut e = AppError::store(e, Lang::default()).as_json();
        e.relocalize = true;
        e
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError::from_response(e.into_response())
    }
}

/// Marks an error rendered in the default language (a page, or a JSON body), for [`localize`].
#[derive(Debug, Clone, Copy)]
struct Relocalize {
    code: ErrorCode,
    json: bool,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match *self.0 {
            Exit::Ready(r) => r,
            Exit::Code(code) => {
                let mut e = AppError::new(code, Lang::default());
                e.relocalize = true;
                e.into_response()
            }
        }
    }
}

/// An error a handler returned with `?` (page or JSON), rendered in the reader's language
/// `lang`.
pub(crate) fn localize(res: Response, lang: Lang) -> Response {
    match res.extensions().get::<Relocalize>() {
        Some(&Relocalize { code, json }) if lang != Lang::default() => {
            let mut e = AppError::new(code, lang);
            e.json = json;
            e.into_response()
        }
        _ => res,
    }
}
