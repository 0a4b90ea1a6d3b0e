//! Application forms in HTML: the controls of a [`FormDefinition`] with the current raw values
//! and errors, the error summary, the check-your-answers summary and the declaration block.
//! Every page works without JavaScript. Posted bodies are read by [`crate::form_body`].
//!
//! The markup is in askama templates (`templates/forms/`), which escape every value they
//! print; the Rust side hands them plain text only. Each entry point returns a [`Fragment`],
//! which a page template prints as `{{ form }}` without `|safe`: only these templates make one.
//!
//! - `controls`: the form ([`form_html`], [`fields_html`], [`error_summary_html`]);
//! - `summary`: the check-your-answers list ([`summary_html`]);
//! - `declaration`: the declaration block ([`declaration_html`]);
//! - `labels`: element ids, error messages, the label a posted name stands for;
//! - `regions`: the choices of an address picker;
//! - `escape`: the templates' escaper and [`Fragment`].
//!
//! How a handler uses it (see also `yiwang_domain::forms`):
//!
//! ```text
//! let raw = form_body::parse_form_body(&def, &body)?;  // RawError → 400 (InvalidFormInput)
//! if raw.apply_row_action(&def).is_some() { re-render with `raw`, no errors }
//! match validate(&def, &raw, mode) { Ok(answers) → save / check page, Err(errs) → re-render }
//! page: form_html(&view, action, buttons) — the error summary, then the <form>
//! ```
//!
//! Choices made for a page without JavaScript:
//! - **Conditions** (`show_if`): every field is shown; a conditional field carries the note
//!   "只在「是否从事网络经营」选择「是」时填写". Validation drops a hidden field's value, so
//!   nothing a user writes into a field that does not apply is kept or checked.
//! - **Repeatable groups**: each row has a "remove" button (`_remove=group[i]`), the group an
//!   "add another" button (`_add=group`); both submit the form, and the handler re-renders it
//!   with one row more or less. A visually hidden default button (`_action=<default>`) comes
//!   first so that Enter in a text box never presses "remove".
//! - **Region picker**: a `<select>` of the regions under the field's `region_root` (or under a
//!   root the caller picks when the field has none), which the caller loads with
//!   `Store::region_subtree` and passes in [`FormView::regions`] keyed by the root code
//!   (`""` for fields without a root). With no list, a plain 12-digit code box is shown.

mod controls;
mod declaration;
mod escape;
mod labels;
mod regions;
mod summary;

pub use controls::{FormView, error_summary_html, fields_html, form_html, issue_items};
pub use declaration::{declaration_error, declaration_html};
pub use escape::Fragment;
pub(crate) use escape::NamedEntities;
pub use labels::{error_text, html_id, label_of};
pub use regions::{RegionOption, picker_level, region_depth};
pub use summary::{SummaryView, summary_html};

use yiwang_domain::forms::Text;
use yiwang_i18n::Lang;

/// The name of the declaration checkbox (a page control, never an answer).
pub const DECLARATION_CONTROL: &str = "_declaration";
/// The name of the page's action buttons (`save`, `continue`, `submit`…).
pub const ACTION_CONTROL: &str = "_action";

fn pick(t: &Text, lang: Lang) -> &str {
    t.pick(lang == Lang::En)
}
