//! Errors of form definitions (the administrator's) and of answers (the applicant's).
//!
//! Each [`FormDefError`] names the field at fault (`field()`, dotted for group members:
//! `managers.name`) and has a stable key; its message is `forms.def.<key>` in the catalog.
//! Each [`FieldError`] names the posted field (`managers[1].name`, `address.region`) and
//! carries a full message key (`forms.err.<...>`) with arguments.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum FormDefError {
    #[error("definition is not valid JSON for a form: {detail}")]
    Malformed { detail: String },
    #[error("invalid key {key:?} (field {field})")]
    InvalidKey { field: String, key: String },
    #[error("duplicate key {field}")]
    DuplicateKey { field: String },
    #[error("the form has no fields")]
    NoFields,
    #[error("too many fields (at most {max})")]
    TooManyFields { max: usize },
    #[error("section {field} has no fields")]
    EmptySection { field: String },
    #[error("field {field} has an empty label")]
    EmptyLabel { field: String },
    #[error("field {field}: rule {rule} does not apply to its kind")]
    RuleNotApplicable { field: String, rule: String },
    #[error("field {field} has no options")]
    EmptyChoices { field: String },
    #[error("field {field} has too many options (at most {max})")]
    TooManyOptions { field: String, max: usize },
    #[error("field {field} has the option {value} twice")]
    DuplicateOption { field: String, value: String },
    #[error("field {field}: bad limits for {rule}")]
    BadLimits { field: String, rule: String },
    #[error("group {field} has no fields")]
    EmptyGroup { field: String },
    #[error("group {field} contains a group")]
    NestedGroup { field: String },
    #[error("field {field}: the condition names unknown field {target}")]
    UnknownConditionField { field: String, target: String },
    #[error("field {field}: the condition's field {target} is not a choice")]
    ConditionNotChoice { field: String, target: String },
    #[error("field {field}: the condition has no values")]
    EmptyCondition { field: String },
    #[error("field {field}: the condition's value {value} is not an option of {target}")]
    ConditionUnknownOption {
        field: String,
        target: String,
        value: String,
    },
    #[error("conditions form a cycle: {fields:?}")]
    ConditionCycle { field: String, fields: Vec<String> },
    /// The certificate mapping names a field the form does not have (or a group).
    #[error("the certificate names unknown field {field}")]
    UnknownCertificateField { field: String },
}

impl FormDefError {
    /// Stable key; the message lives in the catalog under `forms.def.<key>`.
    pub fn key(&self) -> &'static str {
        use FormDefError::*;
        match self {
            Malformed { .. } => "malformed",
            InvalidKey { .. } => "invalid_key",
            DuplicateKey { .. } => "duplicate_key",
            NoFields => "no_fields",
            TooManyFields { .. } => "too_many_fields",
            EmptySection { .. } => "empty_section",
            EmptyLabel { .. } => "empty_label",
            RuleNotApplicable { .. } => "rule_not_applicable",
            EmptyChoices { .. } => "empty_choices",
            TooManyOptions { .. } => "too_many_options",
            DuplicateOption { .. } => "duplicate_option",
            BadLimits { .. } => "bad_limits",
            EmptyGroup { .. } => "empty_group",
            NestedGroup { .. } => "nested_group",
            UnknownConditionField { .. } => "unknown_condition_field",
            ConditionNotChoice { .. } => "condition_not_choice",
            EmptyCondition { .. } => "empty_condition",
            ConditionUnknownOption { .. } => "condition_unknown_option",
            ConditionCycle { .. } => "condition_cycle",
            UnknownCertificateField { .. } => "unknown_certificate_field",
        }
    }
    /// The full catalog key of the message.
    pub fn message_key(&self) -> String {
        format!("forms.def.{}", self.key())
    }
    /// The field (or section) at fault; empty for whole-form problems.
    pub fn field(&self) -> &str {
        use FormDefError::*;
        match self {
            Malformed { .. } | NoFields | TooManyFields { .. } => "",
            InvalidKey { field, .. }
            | DuplicateKey { field }
            | EmptySection { field }
            | EmptyLabel { field }
            | RuleNotApplicable { field, .. }
            | EmptyChoices { field }
            | TooManyOptions { field, .. }
            | DuplicateOption { field, .. }
            | BadLimits { field, .. }
            | EmptyGroup { field }
            | NestedGroup { field }
            | UnknownConditionField { field, .. }
            | ConditionNotChoice { field, .. }
            | EmptyCondition { field }
            | ConditionUnknownOption { field, .. }
            | ConditionCycle { field, .. }
            | UnknownCertificateField { field } => field,
        }
    }
    /// Message arguments (`{field}`, `{rule}`, `{value}`, `{target}`, `{detail}`, `{max}`, `{fields}`).
    pub fn args(&self) -> BTreeMap<String, String> {
        let mut a = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            a.insert(k.to_string(), v);
        };
        put("field", self.field().to_string());
        use FormDefError::*;
        match self {
            Malformed { detail } => put("detail", detail.clone()),
            InvalidKey { key, .. } => put("key", key.clone()),
            TooManyFields { max } | TooManyOptions { max, .. } => put("max", max.to_string()),
            RuleNotApplicable { rule, .. } | BadLimits { rule, .. } => put("rule", rule.clone()),
            DuplicateOption { value, .. } => put("value", value.clone()),
            UnknownConditionField { target, .. } | ConditionNotChoice { target, .. } => {
                put("target", target.clone())
            }
            ConditionUnknownOption { target, value, .. } => {
                put("target", target.clone());
                put("value", value.clone());
            }
            ConditionCycle { fields, .. } => put("fields", fields.join(" → ")),
            _ => {}
        }
        a
    }
}

/// One problem with one answer. `field` is the posted name (`managers[1].name`,
/// `address.detail`, or a group's own key for row-count problems); `key` is the full message
/// key (`forms.err.required`); `args` fill `{max}`, `{min}`… in the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub key: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, String>,
}

impl FieldError {
    pub fn new(field: &str, key: &str) -> Self {
        Self {
            field: field.to_string(),
            key: format!("forms.err.{key}"),
            args: BTreeMap::new(),
        }
    }
    pub fn arg(mut self, k: &str, v: impl ToString) -> Self {
        self.args.insert(k.to_string(), v.to_string());
        self
    }
}

/// Why a posted body was refused as a whole (not a per-field problem): names the form does not
/// have (forged or stale), repeated values for a single field, or sizes beyond the caps.
/// A web handler answers these with 400 and does not render the form again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum RawError {
    #[error("unknown field name {name:?}")]
    UnknownField { name: String },
    #[error("field {name:?} was sent more than once")]
    RepeatedField { name: String },
    #[error("too many values (at most {max})")]
    TooManyValues { max: usize },
    #[error("a name or value is too long")]
    TooLong { name: String },
    #[error("group {name:?} has too many rows (at most {max})")]
    TooManyRows { name: String, max: usize },
    #[error("the body is not valid UTF-8 or not url-encoded")]
    Malformed,
}

impl RawError {
    pub fn key(&self) -> &'static str {
        match self {
            RawError::UnknownField { .. } => "unknown_field",
            RawError::RepeatedField { .. } => "repeated_field",
            RawError::TooManyValues { .. } => "too_many_values",
            RawError::TooLong { .. } => "too_long",
            RawError::TooManyRows { .. } => "too_many_rows",
            RawError::Malformed => "malformed",
        }
    }
}
