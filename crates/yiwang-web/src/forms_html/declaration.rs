//! The declaration block of the check page and of a bundle's "submit all".

use super::{DECLARATION_CONTROL, Fragment, html_id};
use askama::Template;
use yiwang_domain::forms::FieldError;
use yiwang_i18n::{Lang, t};

#[derive(Template)]
#[template(path = "forms/declaration.html", escape = "form-html")]
struct DeclarationHtml<'a> {
    id: String,
    name: &'a str,
    legend: &'a str,
    statement: &'a str,
    agree: &'a str,
    error_prefix: &'a str,
    error: Option<&'a str>,
    checked: bool,
}

/// The declaration block: the statement and one checkbox named [`DECLARATION_CONTROL`].
/// `error` is shown when the applicant submitted without ticking it.
pub fn declaration_html(lang: Lang, checked: bool, error: Option<&str>) -> Fragment {
    Fragment::render(&DeclarationHtml {
        id: html_id(DECLARATION_CONTROL),
        name: DECLARATION_CONTROL,
        legend: t(lang, "forms.html.declaration_legend"),
        statement: t(lang, "forms.html.declaration"),
        agree: t(lang, "forms.html.declaration_agree"),
        error_prefix: t(lang, "forms.html.error_prefix"),
        error,
        checked,
    })
}

/// The error for a submission without the declaration ticked.
pub fn declaration_error() -> FieldError {
    FieldError::new(DECLARATION_CONTROL, "declaration")
}
