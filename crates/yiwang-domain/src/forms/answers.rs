//! Typed answers: what a validated form yields, stored as JSON with the draft or the case.
//!
//! Stored shape (self-describing, readable without the definition):
//! `{"form_key":"food_business_licence","form_version":3,"values":{"name":{"type":"text",
//! "value":"…"},"area":{"type":"number","value":"120.50"},"managers":{"type":"group",
//! "value":[{"name":{"type":"text","value":"…"}}]}}}`. Loading checks every value again
//! (identity numbers, credit codes, phones and regions are re-parsed).

use crate::calendar::CivilDate;
use crate::codes::{CreditCode, Phone, RegionCode, ResidentId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A decimal number as `units / 10^scale` (no floating point: areas and amounts stay exact).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    units: i64,
    scale: u8,
}

/// Why a number did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalError {
    NotANumber,
    TooManyDecimals,
}

impl Decimal {
    /// Largest number of digits accepted (keeps `units` far from overflow).
    pub const MAX_DIGITS: usize = 17;

    /// Parses `-12`, `120.5`, full-width digits (`１２０．５`) too; at most `max_decimals`
    /// places; the result has scale `max_decimals` exactly (so `120.5` with 2 → `120.50`).
    pub fn parse(s: &str, max_decimals: u8) -> Result<Self, DecimalError> {
        let s: String = s
            .trim()
            .chars()
            .map(|c| match c {
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
                '．' | '。' => '.',
                '－' => '-',
                _ => c,
            })
            .collect();
        let (neg, body) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.as_str()),
        };
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, ""),
        };
        let digits_ok = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty()
            || !digits_ok(int)
            || !digits_ok(frac)
            || (body.contains('.') && frac.is_empty())
            || int.len() + frac.len() > Self::MAX_DIGITS
        {
            return Err(DecimalError::NotANumber);
        }
        if frac.len() > usize::from(max_decimals) {
            return Err(DecimalError::TooManyDecimals);
        }
        let mut units: i64 = 0;
        let padded = format!("{int}{frac:0<width$}", width = usize::from(max_decimals));
        for b in padded.bytes() {
            units = units
                .checked_mul(10)
                .and_then(|u| u.checked_add(i64::from(b - b'0')))
                .ok_or(DecimalError::NotANumber)?;
        }
        Ok(Self {
            units: if neg { -units } else { units },
            scale: max_decimals,
        })
    }
    pub fn units(self) -> i64 {
        self.units
    }
    pub fn scale(self) -> u8 {
        self.scale
    }
    /// Compares with a whole number; `None` only on overflow (never for checked bounds).
    pub fn cmp_whole(self, whole: i64) -> Option<std::cmp::Ordering> {
        let f = 10i64.checked_pow(u32::from(self.scale))?;
        Some(self.units.cmp(&whole.checked_mul(f)?))
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.units < 0;
        let abs = self.units.unsigned_abs().to_string();
        let scale = usize::from(self.scale);
        let abs = format!("{abs:0>width$}", width = scale + 1);
        let (i, d) = abs.split_at(abs.len() - scale);
        if neg {
            f.write_str("-")?;
        }
        f.write_str(i)?;
        if scale > 0 {
            write!(f, ".{d}")?;
        }
        Ok(())
    }
}

impl Serialize for Decimal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let places = s.split_once('.').map_or(0, |(_, f)| f.len());
        let places = u8::try_from(places)
            .ok()
            .filter(|p| *p <= super::MAX_DECIMALS)
            .ok_or_else(|| serde::de::Error::custom("too many decimals"))?;
        Self::parse(&s, places).map_err(|_| serde::de::Error::custom("not a decimal number"))
    }
}

/// An address: the region picked and the street address written. In a draft either part may
/// be missing; in submitted answers both are present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub region: Option<RegionCode>,
    pub detail: String,
}

/// One group row: member key → value.
pub type Row = BTreeMap<String, Value>;

/// One typed answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Stored", into = "Stored")]
pub enum Value {
    Text(String),
    Number(Decimal),
    Date(CivilDate),
    Choice(String),
    Choices(Vec<String>),
    ResidentId(ResidentId),
    CreditCode(CreditCode),
    Phone(Phone),
    Address(Address),
    Group(Vec<Row>),
}

/// The JSON shape of [`Value`]: personal identifiers as plain strings, parsed again on load.
#[derive(Serialize, Deserialize)]
#[serde(
    tag = "type",
    content = "value",
    rename_all = "snake_case",
    deny_unknown_fields
)]
enum Stored {
    Text(String),
    Number(Decimal),
    Date(CivilDate),
    Choice(String),
    Choices(Vec<String>),
    ResidentId(String),
    CreditCode(String),
    Phone(String),
    Address(Address),
    Group(Vec<BTreeMap<String, Value>>),
}

impl From<Value> for Stored {
    fn from(v: Value) -> Self {
        match v {
            Value::Text(s) => Stored::Text(s),
            Value::Number(n) => Stored::Number(n),
            Value::Date(d) => Stored::Date(d),
            Value::Choice(c) => Stored::Choice(c),
            Value::Choices(c) => Stored::Choices(c),
            Value::ResidentId(r) => Stored::ResidentId(r.reveal().to_string()),
            Value::CreditCode(c) => Stored::CreditCode(c.as_str().to_string()),
            Value::Phone(p) => Stored::Phone(p.reveal().to_string()),
            Value::Address(a) => Stored::Address(a),
            Value::Group(g) => Stored::Group(g),
        }
    }
}

impl TryFrom<Stored> for Value {
    type Error = String;
    fn try_from(s: Stored) -> Result<Self, String> {
        Ok(match s {
            Stored::Text(s) => Value::Text(s),
            Stored::Number(n) => Value::Number(n),
            Stored::Date(d) => Value::Date(d),
            Stored::Choice(c) => Value::Choice(c),
            Stored::Choices(c) => Value::Choices(c),
            Stored::ResidentId(r) => {
                Value::ResidentId(ResidentId::parse(&r).map_err(|_| "invalid resident id")?)
            }
            Stored::CreditCode(c) => {
                Value::CreditCode(CreditCode::parse(&c).map_err(|_| "invalid credit code")?)
            }
            Stored::Phone(p) => Value::Phone(Phone::parse(&p).map_err(|_| "invalid phone")?),
            Stored::Address(a) => Value::Address(a),
            Stored::Group(g) => Value::Group(g),
        })
    }
}

impl Value {
    /// The posted form of a single-valued answer (identity numbers in full).
    pub fn raw_string(&self) -> Option<String> {
        Some(match self {
            Value::Text(s) | Value::Choice(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Date(d) => d.to_string(),
            Value::ResidentId(r) => r.reveal().to_string(),
            Value::CreditCode(c) => c.as_str().to_string(),
            Value::Phone(p) => p.reveal().to_string(),
            Value::Choices(_) | Value::Address(_) | Value::Group(_) => return None,
        })
    }
    /// The selected option values of a choice or multi-choice answer.
    pub fn choices(&self) -> &[String] {
        match self {
            Value::Choice(c) => std::slice::from_ref(c),
            Value::Choices(c) => c,
            _ => &[],
        }
    }
}

/// Validated answers to one version of one form. Hidden fields (condition false) and blank
/// optional fields are absent; group rows left wholly blank are dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answers {
    pub form_key: String,
    pub form_version: u32,
    pub values: BTreeMap<String, Value>,
}

impl Answers {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }
    /// Every region code used (top level and in group rows), so a caller with a store can
    /// check that each exists.
    pub fn regions(&self) -> Vec<&RegionCode> {
        fn walk<'a>(v: &'a Value, out: &mut Vec<&'a RegionCode>) {
            match v {
                Value::Address(Address {
                    region: Some(r), ..
                }) => out.push(r),
                Value::Group(rows) => rows
                    .iter()
                    .flat_map(|r| r.values())
                    .for_each(|v| walk(v, out)),
                _ => {}
            }
        }
        let mut out = Vec::new();
        self.values.values().for_each(|v| walk(v, &mut out));
        out
    }
    /// The stored JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
    /// Reads stored JSON (every identifier is parsed again). Use [`super::validate`] through
    /// [`super::RawAnswers::from_answers`] to check it against the current definition.
    pub fn from_json(json: &str) -> Result<Self, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }
}
