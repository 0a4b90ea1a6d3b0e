//! The data shape of a form definition. Administrators store and edit definitions as JSON;
//! [`super::load`] parses and validates them in one step. Every struct refuses unknown JSON
//! keys, so a typo (`"requierd": true`) is an error, never a silently ignored rule.

use serde::{Deserialize, Serialize};

fn is_false(b: &bool) -> bool {
    !*b
}

/// A user-facing text written by the administrator: Chinese always, English optionally
/// (the Chinese text is shown when the English one is missing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub zh: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl Text {
    pub fn zh(s: &str) -> Self {
        Self {
            zh: s.to_string(),
            en: None,
        }
    }
    pub fn both(zh: &str, en: &str) -> Self {
        Self {
            zh: zh.to_string(),
            en: Some(en.to_string()),
        }
    }
    /// The English text when `english` and present, else the Chinese one.
    pub fn pick(&self, english: bool) -> &str {
        match (&self.en, english) {
            (Some(en), true) if !en.trim().is_empty() => en,
            _ => &self.zh,
        }
    }
}

/// A whole application form: titled sections of fields. Field keys are unique across the
/// whole form (a group's member keys only within the group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormDefinition {
    /// `[a-z][a-z0-9_]*`, e.g. `food_business_licence`.
    pub key: String,
    /// Bumped by the store on every save; answers record the version they were given under.
    #[serde(default = "one")]
    pub version: u32,
    pub title: Text,
    pub sections: Vec<Section>,
    /// Which answers the result certificate prints (holder, its code, the licence's lines);
    /// none: the certificate names the account holder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateSpec>,
}

/// The certificate lines a form's answers fill, e.g. for 食品经营许可证: the holder from
/// `business_name`, its code from `credit_code`, 经营场所 from `address`, 主体业态 from
/// `business_form`, 经营项目 from `business_types`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateSpec {
    /// The field naming the holder (经营者名称); the account holder when unset or unanswered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// The field with the holder's code (统一社会信用代码 or ID number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder_code: Option<String>,
    /// Letters before the certificate number (e.g. `JY` for 食品经营许可证), `[A-Z]{0,4}`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub number_prefix: String,
    /// Further lines, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<CertificateLine>,
}

/// One line of a certificate: its label and the field whose answer it prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateLine {
    pub label: Text,
    pub field: String,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub key: String,
    pub title: Text,
    pub fields: Vec<Field>,
}

/// The closed list of field kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// One line of text.
    Text,
    /// Several lines of text.
    Textarea,
    /// A decimal number with at most `decimals` places (default 0).
    Number,
    /// A calendar date `YYYY-MM-DD`.
    Date,
    /// Exactly one of `options`.
    Choice,
    /// Any number of `options`.
    MultiChoice,
    /// 公民身份号码 (GB 11643 check digit).
    ResidentId,
    /// 统一社会信用代码 (GB 32100 check character).
    CreditCode,
    /// Mainland mobile number.
    Phone,
    /// A region (picked from a list under `region_root`) plus the street address.
    Address,
    /// Repeatable rows of `fields` ("add another").
    Group,
}

impl FieldKind {
    pub fn key(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Textarea => "textarea",
            FieldKind::Number => "number",
            FieldKind::Date => "date",
            FieldKind::Choice => "choice",
            FieldKind::MultiChoice => "multi_choice",
            FieldKind::ResidentId => "resident_id",
            FieldKind::CreditCode => "credit_code",
            FieldKind::Phone => "phone",
            FieldKind::Address => "address",
            FieldKind::Group => "group",
        }
    }
    pub fn has_options(self) -> bool {
        matches!(self, FieldKind::Choice | FieldKind::MultiChoice)
    }
    pub fn is_text(self) -> bool {
        matches!(self, FieldKind::Text | FieldKind::Textarea)
    }
}

/// A closed list of text formats instead of free regular expressions (no ReDoS, and every
/// format has a translated message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextFormat {
    /// ASCII digits only.
    Digits,
    /// ASCII letters and digits only.
    Alphanumeric,
    /// `local@domain.tld`, ASCII.
    Email,
    /// 6-digit postal code.
    Postcode,
    /// `http://` or `https://` followed by a host.
    Url,
}

impl TextFormat {
    pub fn key(self) -> &'static str {
        match self {
            TextFormat::Digits => "digits",
            TextFormat::Alphanumeric => "alphanumeric",
            TextFormat::Email => "email",
            TextFormat::Postcode => "postcode",
            TextFormat::Url => "url",
        }
    }
}

/// One option of a choice field. `value` is what the form posts and the answers store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    /// `[a-z][a-z0-9_]*`.
    pub value: String,
    pub label: Text,
}

/// "Show this field only if field `field` has one of the values `any_of`". The target must
/// be a choice or multi-choice field (for a multi-choice: any selected value matches) in the
/// same scope: a top-level field, or a member of the same group, or a top-level field from a
/// group member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub field: String,
    pub any_of: Vec<String>,
}

/// One field. Which rules apply depends on `kind`; a rule given for a kind it does not apply
/// to is a definition error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// `[a-z][a-z0-9_]*`; also the posted name.
    pub key: String,
    pub label: Text,
    pub kind: FieldKind,
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<Condition>,
    /// choice, multi_choice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ChoiceOption>,
    /// text, textarea (and `max_len` for an address's street part): length in characters.
    /// multi_choice: number of selected options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_len: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_len: Option<u32>,
    /// text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<TextFormat>,
    /// number: inclusive bounds in whole units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// number: decimal places allowed (0–4, default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u8>,
    /// number: unit shown after the input, e.g. `m²`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// date: inclusive bounds `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_date: Option<String>,
    /// address: the region picked must lie in this region's subtree (2–12 digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_root: Option<String>,
    /// group: member fields (no nested groups).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    /// group: row count bounds (max at most [`super::MAX_GROUP_ITEMS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u32>,
    /// Where a new draft takes this field's first value from the signed-in account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill: Option<Prefill>,
}

/// What a field means about the account that files the form, so a new draft starts with it
/// (the applicant can change it; what was typed is never overwritten).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prefill {
    /// A person's name: the account holder's, or an organisation's legal representative's.
    PersonName,
    /// A person account's 公民身份号码.
    PersonId,
    /// An organisation account's name.
    OrgName,
    /// An organisation account's 统一社会信用代码.
    OrgCode,
    /// The account's mobile number.
    Phone,
}

/// What an account holds for pre-filling (decrypted by the caller, who audits the use).
#[derive(Debug, Clone, Copy)]
pub struct AccountFacts<'a> {
    /// Whether the account is an organisation's (法人) rather than a person's.
    pub organisation: bool,
    pub display_name: &'a str,
    pub legal_rep: Option<&'a str>,
    pub id_number: &'a str,
    pub phone: &'a str,
}

impl Prefill {
    /// Whether a field of `kind` can hold this value.
    pub fn fits(self, kind: FieldKind) -> bool {
        match self {
            Prefill::PersonName | Prefill::OrgName => kind == FieldKind::Text,
            Prefill::PersonId => kind == FieldKind::ResidentId,
            Prefill::OrgCode => kind == FieldKind::CreditCode,
            Prefill::Phone => kind == FieldKind::Phone,
        }
    }
    /// The value `account` gives this source, if it has one.
    pub fn value<'a>(self, account: &AccountFacts<'a>) -> Option<&'a str> {
        let v = match (self, account.organisation) {
            (Prefill::PersonName, false) | (Prefill::OrgName, true) => Some(account.display_name),
            (Prefill::PersonName, true) => account.legal_rep,
            (Prefill::PersonId, false) | (Prefill::OrgCode, true) => Some(account.id_number),
            (Prefill::Phone, _) => Some(account.phone),
            (Prefill::PersonId, true) | (Prefill::OrgName | Prefill::OrgCode, false) => None,
        };
        v.map(str::trim).filter(|v| !v.is_empty())
    }
}

impl FormDefinition {
    /// The first values a new draft takes from `account`: `(posted name, value)` for every
    /// top-level field with a [`Prefill`] source the account has a value for.
    pub fn prefill_pairs(&self, account: &AccountFacts<'_>) -> Vec<(String, String)> {
        self.fields()
            .filter_map(|f| {
                let v = f.prefill?.value(account)?;
                Some((f.key.clone(), v.to_string()))
            })
            .collect()
    }
}

impl Field {
    /// A field of `kind` with no rules (for building definitions in code).
    pub fn new(key: &str, label: Text, kind: FieldKind) -> Self {
        Self {
            key: key.to_string(),
            label,
            kind,
            required: false,
            help: None,
            show_if: None,
            options: Vec::new(),
            min_len: None,
            max_len: None,
            format: None,
            min: None,
            max: None,
            decimals: None,
            unit: None,
            min_date: None,
            max_date: None,
            region_root: None,
            fields: Vec::new(),
            min_items: None,
            max_items: None,
            prefill: None,
        }
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    /// Largest accepted length in characters for text kinds (the rule, or the default).
    pub fn effective_max_len(&self) -> usize {
        let default = if self.kind == FieldKind::Textarea {
            super::DEFAULT_TEXTAREA_MAX
        } else {
            super::DEFAULT_TEXT_MAX
        };
        self.max_len.map_or(default, |m| m as usize)
    }
    /// Largest number of rows for a group.
    pub fn effective_max_items(&self) -> usize {
        self.max_items
            .map_or(super::DEFAULT_GROUP_ITEMS, |m| m as usize)
            .min(super::MAX_GROUP_ITEMS)
    }
    pub fn option(&self, value: &str) -> Option<&ChoiceOption> {
        self.options.iter().find(|o| o.value == value)
    }
}

impl FormDefinition {
    /// Top-level fields in order, across sections.
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.sections.iter().flat_map(|s| s.fields.iter())
    }
    /// The top-level field `key`.
    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields().find(|f| f.key == key)
    }
}
