//! Application forms as data (申请表): definitions, raw and typed answers, validation, and the
//! check-your-answers summary. Pure: no I/O; the store keeps definitions and answers, the web
//! crate renders and parses.
//!
//! # Definitions
//! A [`FormDefinition`] is JSON an administrator edits (`deny_unknown_fields` everywhere):
//!
//! ```json
//! {"key": "food_business_licence", "version": 1,
//!  "title": {"zh": "食品经营许可申请书", "en": "Food business licence application"},
//!  "sections": [{"key": "operator", "title": {"zh": "经营者"}, "fields": [
//!    {"key": "name", "label": {"zh": "经营者名称"}, "kind": "text", "required": true, "max_len": 100},
//!    {"key": "online", "label": {"zh": "是否网络经营"}, "kind": "choice",
//!     "options": [{"value": "yes", "label": {"zh": "是"}}, {"value": "no", "label": {"zh": "否"}}]},
//!    {"key": "website", "label": {"zh": "网站名称"}, "kind": "text",
//!     "show_if": {"field": "online", "any_of": ["yes"]}, "required": true},
//!    {"key": "managers", "label": {"zh": "食品安全管理人员"}, "kind": "group",
//!     "min_items": 1, "max_items": 5, "fields": [ … ]}]}]}
//! ```
//!
//! Kinds ([`FieldKind`]): `text`, `textarea`, `number`, `date`, `choice`, `multi_choice`,
//! `resident_id`, `credit_code`, `phone`, `address`, `group`. Rules per kind: `min_len`/
//! `max_len`/`format` (text), `min`/`max`/`decimals`/`unit` (number), `min_date`/`max_date`
//! (date), `options` and `min_len`/`max_len` as a selection count (choices), `region_root`
//! (address), `fields`/`min_items`/`max_items` (group). [`load`] parses and checks everything and
//! returns every problem at once as [`FormDefError`]s (each names the field; message
//! `forms.def.<key>`).
//!
//! # Answers
//! 1. The web layer turns the url-encoded body into pairs and calls
//!    [`RawAnswers::from_pairs`] (names: `field`, `address.region`, `address.detail`,
//!    `group[i].member`; `_…` names are page controls). Unknown names, repeated single values and
//!    oversize input are a [`RawError`] for the whole request (400), never per-field messages.
//! 2. [`RawAnswers::apply_row_action`] carries out "add another" (`_add=group`) and remove
//!    (`_remove=group[i]`); when it returns `Some`, re-render the page, nothing else.
//! 3. [`validate`] with [`Mode::Draft`] (what is filled must be well-formed) or
//!    [`Mode::Submit`] (also required fields and group row counts) gives typed [`Answers`] or
//!    [`FieldError`]s (`field` = posted name, `key` = full message key `forms.err.*`, `args`).
//!    Fields hidden by `show_if` are dropped and never required.
//! 4. Store `Answers::to_json()` (it records `form_key` and `form_version`); read it back with
//!    [`Answers::from_json`], and show it again in the form with [`RawAnswers::from_answers`].
//!    A draft that does not validate can be kept as [`RawAnswers::to_pairs`] instead.
//! 5. [`summary`] gives the check-your-answers rows by section; the web crate renders them
//!    (`forms_html::summary_html`) with a declaration block.
//!
//! Region codes are checked for shape and for lying under `region_root`; whether a code
//! exists is for the caller with a store (see [`Answers::regions`]).

pub mod answers;
pub mod builtin;
pub mod certificate;
pub mod error;
pub mod load;
pub mod model;
pub mod raw;
pub mod summary;
pub mod validate;

pub use answers::{Address, Answers, Decimal, Row, Value};
pub use builtin::{DEFAULT_FORM_KEY, default_form};
pub use certificate::{CertificateFacts, certificate_facts};
pub use error::{FieldError, FormDefError, RawError};
pub use load::{load, validate_definition};
pub use model::{
    AccountFacts, CertificateLine, CertificateSpec, ChoiceOption, Condition, Field, FieldKind,
    FormDefinition, Prefill, Section, Text, TextFormat,
};
pub use raw::{ADD_CONTROL, REMOVE_CONTROL, RawAnswers, RowAction};
pub use summary::{SummaryRow, SummarySection, SummaryValue, summary};
pub use validate::{Mode, validate};

/// Largest stored definition accepted.
pub const MAX_DEFINITION_BYTES: usize = 256 * 1024;
/// Most fields in one form, group members included.
pub const MAX_FIELDS: usize = 200;
/// Most options of one choice field.
pub const MAX_OPTIONS: usize = 200;
/// Largest `max_len` of a text field, in characters.
pub const MAX_TEXT_LEN: usize = 5000;
/// `max_len` of a one-line text field (and an address's street part) when not given.
pub const DEFAULT_TEXT_MAX: usize = 200;
/// `max_len` of a textarea when not given.
pub const DEFAULT_TEXTAREA_MAX: usize = 2000;
/// Largest magnitude of a number bound, and of a number answer when no bound is given.
pub const MAX_NUMBER: i64 = 1_000_000_000_000;
/// Most decimal places of a number field.
pub const MAX_DECIMALS: u8 = 4;
/// Most rows of a group.
pub const MAX_GROUP_ITEMS: usize = 50;
/// Rows of a group when `max_items` is not given.
pub const DEFAULT_GROUP_ITEMS: usize = 10;
/// Most name/value pairs in one posted form.
pub const MAX_PAIRS: usize = 2000;
/// Longest posted name, in bytes.
pub const MAX_NAME_BYTES: usize = 200;
/// Longest posted value, in bytes (a full-length textarea of 4-byte characters fits).
pub const MAX_VALUE_BYTES: usize = 4 * MAX_TEXT_LEN + 64;
/// Most distinct `_…` control names in one posted form.
pub const MAX_CONTROLS: usize = 16;

/// A name or value shortened for an error message (hostile input stays readable).
pub(crate) fn shorten(s: &str) -> String {
    if s.chars().count() > 60 {
        let mut t: String = s.chars().take(60).collect();
        t.push('…');
        t
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests;
