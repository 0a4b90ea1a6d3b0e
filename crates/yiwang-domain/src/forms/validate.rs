//! Server-side validation: raw answers → typed [`Answers`] or per-field errors.

use super::answers::{Address, Answers, Decimal, DecimalError, Row, Value};
use super::error::FieldError;
use super::model::{Field, FieldKind, FormDefinition, TextFormat};
use super::raw::RawAnswers;
use crate::calendar::CivilDate;
use crate::codes::{CreditCode, Phone, RegionCode, ResidentId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How strict validation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Saving a draft: what is filled must be well-formed; nothing is required.
    Draft,
    /// Submitting: everything, including required fields and group row counts.
    Submit,
}

/// Where a value sits: a top-level field, or row `row` of group `group`.
type Place<'a> = Option<(&'a str, usize)>;

/// Whether field `f` (a member of `group`, if given) is shown, given the selected values of
/// choice fields (`selected(place, key)`). A field with no condition is shown; a field whose
/// condition's target is hidden is hidden. Depth-bounded, so even an unvalidated definition
/// with a cycle cannot recurse forever.
pub(super) fn visible(
    def: &FormDefinition,
    group: Option<(&Field, usize)>,
    f: &Field,
    selected: &dyn Fn(Place<'_>, &str) -> Vec<String>,
    depth: usize,
) -> bool {
    let Some(c) = &f.show_if else { return true };
    if depth > super::MAX_FIELDS {
        return false;
    }
    let (target, place, tgroup) = match group {
        Some((g, i)) => match g.fields.iter().find(|m| m.key == c.field) {
            Some(m) => (Some(m), Some((g.key.as_str(), i)), group),
            None => (def.field(&c.field), None, None),
        },
        None => (def.field(&c.field), None, None),
    };
    let Some(t) = target else { return false };
    visible(def, tgroup, t, selected, depth + 1)
        && selected(place, &t.key)
            .iter()
            .any(|v| c.any_of.iter().any(|a| a == v))
}

fn raw_name(place: Place<'_>, key: &str) -> String {
    match place {
        Some((g, i)) => format!("{g}[{i}].{key}"),
        None => key.to_string(),
    }
}

/// Validates raw answers against a definition. Hidden fields are dropped (never required,
/// their values never checked); blank optional fields are absent; wholly blank group rows are
/// dropped. Errors name the posted field (`managers[1].phone`, `address.region`), in form order.
pub fn validate(
    def: &FormDefinition,
    raw: &RawAnswers,
    mode: Mode,
) -> Result<Answers, Vec<FieldError>> {
    let selected = |place: Place<'_>, key: &str| -> Vec<String> {
        raw.get_all(&raw_name(place, key))
            .iter()
            .map(|v| v.trim().to_string())
            .collect()
    };
    let mut errs = Vec::new();
    let mut values = BTreeMap::new();
    for f in def.fields() {
        if !visible(def, None, f, &selected, 0) {
            continue;
        }
        if f.kind == FieldKind::Group {
            let mut rows: Vec<Row> = Vec::new();
            for i in 0..raw.rows(&f.key).min(f.effective_max_items()) {
                let blank = f.fields.iter().all(|m| {
                    let n = raw_name(Some((&f.key, i)), &m.key);
                    [n.clone(), format!("{n}.region"), format!("{n}.detail")]
                        .iter()
                        .all(|n| raw.get_all(n).iter().all(|v| v.trim().is_empty()))
                });
                if blank {
                    continue;
                }
                let mut row = Row::new();
                for m in &f.fields {
                    if !visible(def, Some((f, i)), m, &selected, 0) {
                        continue;
                    }
                    let name = raw_name(Some((&f.key, i)), &m.key);
                    if let Some(v) = field_value(m, &name, raw, mode, &mut errs) {
                        row.insert(m.key.clone(), v);
                    }
                }
                rows.push(row);
            }
            if mode == Mode::Submit {
                let min = f
                    .min_items
                    .map_or(0, |m| m as usize)
                    .max(usize::from(f.required));
                if rows.is_empty() && f.required {
                    errs.push(FieldError::new(&f.key, "required"));
                } else if rows.len() < min {
                    errs.push(FieldError::new(&f.key, "too_few_items").arg("min", min));
                }
            }
            if !rows.is_empty() {
                values.insert(f.key.clone(), Value::Group(rows));
            }
            continue;
        }
        if let Some(v) = field_value(f, &f.key, raw, mode, &mut errs) {
            values.insert(f.key.clone(), v);
        }
    }
    if errs.is_empty() {
        Ok(Answers {
            form_key: def.key.clone(),
            form_version: def.version,
            values,
        })
    } else {
        Err(errs)
    }
}

/// Types one (non-group) field. `None` when blank (with a `required` error in submit mode).
fn field_value(
    f: &Field,
    name: &str,
    raw: &RawAnswers,
    mode: Mode,
    errs: &mut Vec<FieldError>,
) -> Option<Value> {
    let required = f.required && mode == Mode::Submit;
    let err = |key: &str| FieldError::new(name, key);
    match f.kind {
        FieldKind::Address => return address(f, name, raw, mode, errs),
        FieldKind::MultiChoice => {
            let mut picked: Vec<String> = Vec::new();
            for v in raw.get_all(name) {
                let v = v.trim();
                if f.option(v).is_none() {
                    errs.push(err("unknown_option"));
                    return None;
                }
                if !picked.iter().any(|p| p == v) {
                    picked.push(v.to_string());
                }
            }
            if picked.is_empty() {
                if required {
                    errs.push(err("required"));
                }
                return None;
            }
            if let Some(max) = f.max_len
                && picked.len() > max as usize
            {
                errs.push(err("too_many_choices").arg("max", max));
                return None;
            }
            if mode == Mode::Submit
                && let Some(min) = f.min_len
                && picked.len() < min as usize
            {
                errs.push(err("too_few_choices").arg("min", min));
                return None;
            }
            // Definition order, so answers compare equal however the browser ordered them.
            picked.sort_by_key(|p| f.options.iter().position(|o| &o.value == p));
            return Some(Value::Choices(picked));
        }
        FieldKind::Group => return None,
        _ => {}
    }
    let s = raw.get(name).trim();
    if s.is_empty() {
        if required {
            errs.push(err("required"));
        }
        return None;
    }
    let out = match f.kind {
        FieldKind::Text | FieldKind::Textarea => text(f, s).map(Value::Text),
        FieldKind::Number => number(f, s).map(Value::Number),
        FieldKind::Date => date(f, s).map(Value::Date),
        FieldKind::Choice => match f.option(s) {
            Some(o) => Ok(Value::Choice(o.value.clone())),
            None => Err(err("unknown_option")),
        },
        FieldKind::ResidentId => ResidentId::parse(s)
            .map(Value::ResidentId)
            .map_err(|_| err("resident_id")),
        FieldKind::CreditCode => CreditCode::parse(s)
            .map(Value::CreditCode)
            .map_err(|_| err("credit_code")),
        FieldKind::Phone => Phone::parse(s).map(Value::Phone).map_err(|_| err("phone")),
        FieldKind::Address | FieldKind::MultiChoice | FieldKind::Group => return None,
    };
    match out {
        Ok(v) => Some(v),
        Err(mut e) => {
            e.field = name.to_string();
            errs.push(e);
            None
        }
    }
}

fn address(
    f: &Field,
    name: &str,
    raw: &RawAnswers,
    mode: Mode,
    errs: &mut Vec<FieldError>,
) -> Option<Value> {
    let rname = format!("{name}.region");
    let dname = format!("{name}.detail");
    let r = raw.get(&rname).trim();
    let d = raw.get(&dname).trim();
    if r.is_empty() && d.is_empty() {
        if f.required && mode == Mode::Submit {
            errs.push(FieldError::new(&rname, "required"));
            errs.push(FieldError::new(&dname, "required"));
        }
        return None;
    }
    let n = errs.len();
    let region = if r.is_empty() {
        if mode == Mode::Submit {
            errs.push(FieldError::new(&rname, "required"));
        }
        None
    } else {
        match RegionCode::parse(r) {
            Ok(code) => {
                let root = f
                    .region_root
                    .as_deref()
                    .and_then(|r| RegionCode::parse(r).ok());
                if root.as_ref().is_some_and(|root| !root.contains(&code)) {
                    errs.push(FieldError::new(&rname, "region_outside"));
                }
                Some(code)
            }
            Err(_) => {
                errs.push(FieldError::new(&rname, "region"));
                None
            }
        }
    };
    if d.is_empty() {
        if mode == Mode::Submit {
            errs.push(FieldError::new(&dname, "required"));
        }
    } else if let Err(mut e) = text(f, d) {
        e.field = dname.clone();
        errs.push(e);
    }
    (errs.len() == n).then(|| {
        Value::Address(Address {
            region,
            detail: d.to_string(),
        })
    })
}

fn text(f: &Field, s: &str) -> Result<String, FieldError> {
    let err = |key: &str| FieldError::new("", key);
    let multiline = f.kind == FieldKind::Textarea;
    let s = if multiline {
        s.replace("\r\n", "\n")
    } else {
        s.to_string()
    };
    if s.chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t')))
    {
        return Err(err("bad_characters"));
    }
    let n = s.chars().count();
    let max = f.effective_max_len();
    if n > max {
        return Err(err("too_long").arg("max", max));
    }
    if let Some(min) = f.min_len
        && n < min as usize
    {
        return Err(err("too_short").arg("min", min));
    }
    if let Some(fmt) = f.format
        && !format_ok(fmt, &s)
    {
        return Err(err(&format!("format_{}", fmt.key())));
    }
    Ok(s)
}

fn format_ok(fmt: TextFormat, s: &str) -> bool {
    let ascii_host = |h: &str| {
        !h.is_empty()
            && h.contains('.')
            && !h.starts_with('.')
            && !h.ends_with('.')
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    };
    match fmt {
        TextFormat::Digits => s.bytes().all(|b| b.is_ascii_digit()),
        TextFormat::Alphanumeric => s.bytes().all(|b| b.is_ascii_alphanumeric()),
        TextFormat::Postcode => s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()),
        TextFormat::Email => match s.split_once('@') {
            Some((local, host)) => {
                !local.is_empty()
                    && local
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._%+-".contains(&b))
                    && ascii_host(host)
            }
            None => false,
        },
        TextFormat::Url => {
            let rest = s
                .strip_prefix("https://")
                .or_else(|| s.strip_prefix("http://"));
            rest.is_some_and(|r| {
                let host = r.split(['/', '?', '#']).next().unwrap_or("");
                let host = host.split(':').next().unwrap_or("");
                ascii_host(host) && !r.chars().any(|c| c.is_whitespace() || c.is_control())
            })
        }
    }
}

fn number(f: &Field, s: &str) -> Result<Decimal, FieldError> {
    let err = |key: &str| FieldError::new("", key);
    let places = f.decimals.unwrap_or(0);
    let d = Decimal::parse(s, places).map_err(|e| match e {
        DecimalError::NotANumber => err("not_a_number"),
        DecimalError::TooManyDecimals => err("too_many_decimals").arg("decimals", places),
    })?;
    let (min, max) = (
        f.min.unwrap_or(-super::MAX_NUMBER),
        f.max.unwrap_or(super::MAX_NUMBER),
    );
    if d.cmp_whole(min).is_none_or(|o| o.is_lt()) {
        return Err(err("below_min").arg("min", min));
    }
    if d.cmp_whole(max).is_none_or(|o| o.is_gt()) {
        return Err(err("above_max").arg("max", max));
    }
    Ok(d)
}

fn date(f: &Field, s: &str) -> Result<CivilDate, FieldError> {
    let err = |key: &str| FieldError::new("", key);
    let d = CivilDate::parse(s).map_err(|_| err("bad_date"))?;
    if let Some(min) = f.min_date.as_deref().and_then(|m| CivilDate::parse(m).ok())
        && d < min
    {
        return Err(err("date_before").arg("min", min));
    }
    if let Some(max) = f.max_date.as_deref().and_then(|m| CivilDate::parse(m).ok())
        && d > max
    {
        return Err(err("date_after").arg("max", max));
    }
    Ok(d)
}
