//! Checks run when a definition is loaded. All problems are reported at once, in definition
//! order, each naming the field at fault (`managers.name` for a group member).

use super::error::FormDefError;
use super::model::{Field, FieldKind, FormDefinition, Text};
use super::{
    MAX_DEFINITION_BYTES, MAX_FIELDS, MAX_GROUP_ITEMS, MAX_NUMBER, MAX_OPTIONS, MAX_TEXT_LEN,
};
use crate::calendar::CivilDate;
use crate::codes::RegionCode;
use crate::workflow::is_valid_key;
use std::collections::{BTreeMap, BTreeSet};

/// Parses a stored JSON definition and validates it.
pub fn load(json: &str) -> Result<FormDefinition, Vec<FormDefError>> {
    if json.len() > MAX_DEFINITION_BYTES {
        return Err(vec![FormDefError::Malformed {
            detail: format!("larger than {MAX_DEFINITION_BYTES} bytes"),
        }]);
    }
    let def: FormDefinition = serde_json::from_str(json).map_err(|e| {
        vec![FormDefError::Malformed {
            detail: e.to_string(),
        }]
    })?;
    validate_definition(&def)?;
    Ok(def)
}

/// Validates a definition built in code or parsed elsewhere.
pub fn validate_definition(def: &FormDefinition) -> Result<(), Vec<FormDefError>> {
    let mut errs = Vec::new();
    if !is_valid_key(&def.key) {
        errs.push(FormDefError::InvalidKey {
            field: String::new(),
            key: def.key.clone(),
        });
    }
    label(&def.title, "", &mut errs);
    if let Some(c) = &def.certificate {
        certificate(def, c, &mut errs);
    }
    let total: usize = def.fields().map(|f| 1 + f.fields.len()).sum();
    if total == 0 {
        errs.push(FormDefError::NoFields);
    } else if total > MAX_FIELDS {
        errs.push(FormDefError::TooManyFields { max: MAX_FIELDS });
    }
    let mut sections = BTreeSet::new();
    for s in &def.sections {
        if !is_valid_key(&s.key) {
            errs.push(FormDefError::InvalidKey {
                field: s.key.clone(),
                key: s.key.clone(),
            });
        }
        if !sections.insert(s.key.as_str()) {
            errs.push(FormDefError::DuplicateKey {
                field: s.key.clone(),
            });
        }
        label(&s.title, &s.key, &mut errs);
        if s.fields.is_empty() {
            errs.push(FormDefError::EmptySection {
                field: s.key.clone(),
            });
        }
    }
    let top: BTreeMap<&str, &Field> = unique(def.fields(), "", &mut errs);
    for f in def.fields() {
        field(f, "", &mut errs);
        condition(f, &f.key, None, &top, &mut errs);
        if f.kind == FieldKind::Group {
            let members: BTreeMap<&str, &Field> = unique(f.fields.iter(), &f.key, &mut errs);
            for m in &f.fields {
                let name = format!("{}.{}", f.key, m.key);
                field(m, &name, &mut errs);
                if m.kind == FieldKind::Group {
                    errs.push(FormDefError::NestedGroup {
                        field: name.clone(),
                    });
                }
                condition(m, &name, Some((&f.key, &members)), &top, &mut errs);
            }
        }
    }
    cycles(def, &mut errs);
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

fn label(t: &Text, field: &str, errs: &mut Vec<FormDefError>) {
    if t.zh.trim().is_empty() {
        errs.push(FormDefError::EmptyLabel {
            field: field.to_string(),
        });
    }
}

fn unique<'a>(
    fields: impl Iterator<Item = &'a Field>,
    prefix: &str,
    errs: &mut Vec<FormDefError>,
) -> BTreeMap<&'a str, &'a Field> {
    let mut seen = BTreeMap::new();
    for f in fields {
        if seen.insert(f.key.as_str(), f).is_some() {
            errs.push(FormDefError::DuplicateKey {
                field: dotted(prefix, &f.key),
            });
        }
    }
    seen
}

fn dotted(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Checks one field's own rules; `name` is its dotted name ("" prefix → its key).
fn field(f: &Field, name: &str, errs: &mut Vec<FormDefError>) {
    let name = if name.is_empty() {
        f.key.as_str()
    } else {
        name
    };
    let bad = |rule: &str| FormDefError::BadLimits {
        field: name.to_string(),
        rule: rule.to_string(),
    };
    let na = |rule: &str| FormDefError::RuleNotApplicable {
        field: name.to_string(),
        rule: rule.to_string(),
    };
    if !is_valid_key(&f.key) {
        errs.push(FormDefError::InvalidKey {
            field: name.to_string(),
            key: f.key.clone(),
        });
    }
    label(&f.label, name, errs);
    let k = f.kind;
    // Which rules apply to which kinds.
    let rules: [(&str, bool, bool); 15] = [
        ("options", !f.options.is_empty(), k.has_options()),
        (
            "min_len",
            f.min_len.is_some(),
            k.is_text() || k == FieldKind::MultiChoice,
        ),
        (
            "max_len",
            f.max_len.is_some(),
            k.is_text() || k == FieldKind::MultiChoice || k == FieldKind::Address,
        ),
        ("format", f.format.is_some(), k == FieldKind::Text),
        ("min", f.min.is_some(), k == FieldKind::Number),
        ("max", f.max.is_some(), k == FieldKind::Number),
        ("decimals", f.decimals.is_some(), k == FieldKind::Number),
        ("unit", f.unit.is_some(), k == FieldKind::Number),
        ("min_date", f.min_date.is_some(), k == FieldKind::Date),
        ("max_date", f.max_date.is_some(), k == FieldKind::Date),
        (
            "region_root",
            f.region_root.is_some(),
            k == FieldKind::Address,
        ),
        ("fields", !f.fields.is_empty(), k == FieldKind::Group),
        ("min_items", f.min_items.is_some(), k == FieldKind::Group),
        ("max_items", f.max_items.is_some(), k == FieldKind::Group),
        (
            "prefill",
            f.prefill.is_some(),
            f.prefill.is_some_and(|p| p.fits(k)),
        ),
    ];
    for (rule, given, applies) in rules {
        if given && !applies {
            errs.push(na(rule));
        }
    }
    // Limits.
    if k.has_options() {
        if f.options.is_empty() {
            errs.push(FormDefError::EmptyChoices {
                field: name.to_string(),
            });
        }
        if f.options.len() > MAX_OPTIONS {
            errs.push(FormDefError::TooManyOptions {
                field: name.to_string(),
                max: MAX_OPTIONS,
            });
        }
        let mut seen = BTreeSet::new();
        for o in &f.options {
            if !is_valid_key(&o.value) {
                errs.push(FormDefError::InvalidKey {
                    field: name.to_string(),
                    key: o.value.clone(),
                });
            }
            if !seen.insert(o.value.as_str()) {
                errs.push(FormDefError::DuplicateOption {
                    field: name.to_string(),
                    value: o.value.clone(),
                });
            }
            label(&o.label, name, errs);
        }
    }
    if let (Some(a), Some(b)) = (f.min_len, f.max_len)
        && a > b
    {
        errs.push(bad("min_len"));
    }
    if let Some(m) = f.max_len {
        let cap = if k == FieldKind::MultiChoice {
            f.options.len()
        } else {
            MAX_TEXT_LEN
        };
        if m == 0 || m as usize > cap {
            errs.push(bad("max_len"));
        }
    }
    if k == FieldKind::MultiChoice
        && let Some(m) = f.min_len
        && m as usize > f.options.len()
    {
        errs.push(bad("min_len"));
    }
    for (rule, v) in [("min", f.min), ("max", f.max)] {
        if v.is_some_and(|v| v.abs() > MAX_NUMBER) {
            errs.push(bad(rule));
        }
    }
    if let (Some(a), Some(b)) = (f.min, f.max)
        && a > b
    {
        errs.push(bad("min"));
    }
    if f.decimals.is_some_and(|d| d > super::MAX_DECIMALS) {
        errs.push(bad("decimals"));
    }
    if f.unit
        .as_ref()
        .is_some_and(|u| u.chars().count() > 16 || u.trim().is_empty())
    {
        errs.push(bad("unit"));
    }
    let date = |s: &Option<String>| s.as_deref().map(CivilDate::parse);
    let (lo, hi) = (date(&f.min_date), date(&f.max_date));
    if matches!(lo, Some(Err(_))) {
        errs.push(bad("min_date"));
    }
    if matches!(hi, Some(Err(_))) {
        errs.push(bad("max_date"));
    }
    if let (Some(Ok(a)), Some(Ok(b))) = (lo, hi)
        && a > b
    {
        errs.push(bad("min_date"));
    }
    if f.region_root
        .as_deref()
        .is_some_and(|r| RegionCode::parse(r).is_err())
    {
        errs.push(bad("region_root"));
    }
    if k == FieldKind::Group {
        if f.fields.is_empty() {
            errs.push(FormDefError::EmptyGroup {
                field: name.to_string(),
            });
        }
        if f.max_items
            .is_some_and(|m| m == 0 || m as usize > MAX_GROUP_ITEMS)
        {
            errs.push(bad("max_items"));
        }
        if let Some(min) = f.min_items
            && min as usize > f.effective_max_items()
        {
            errs.push(bad("min_items"));
        }
    }
}

/// Checks a field's condition; `group` is the enclosing group's key and members, if any.
fn condition(
    f: &Field,
    name: &str,
    group: Option<(&str, &BTreeMap<&str, &Field>)>,
    top: &BTreeMap<&str, &Field>,
    errs: &mut Vec<FormDefError>,
) {
    let Some(c) = &f.show_if else { return };
    let target = group
        .and_then(|(_, m)| m.get(c.field.as_str()))
        .or_else(|| top.get(c.field.as_str()));
    let Some(t) = target else {
        errs.push(FormDefError::UnknownConditionField {
            field: name.to_string(),
            target: c.field.clone(),
        });
        return;
    };
    if !t.kind.has_options() {
        errs.push(FormDefError::ConditionNotChoice {
            field: name.to_string(),
            target: c.field.clone(),
        });
        return;
    }
    if c.any_of.is_empty() {
        errs.push(FormDefError::EmptyCondition {
            field: name.to_string(),
        });
    }
    for v in &c.any_of {
        if t.option(v).is_none() {
            errs.push(FormDefError::ConditionUnknownOption {
                field: name.to_string(),
                target: c.field.clone(),
                value: v.clone(),
            });
        }
    }
}

/// The node a condition of `f` (inside `group`, if any) points at, as a dotted name.
pub(super) fn condition_target(
    def: &FormDefinition,
    group: Option<&Field>,
    f: &Field,
) -> Option<String> {
    let c = f.show_if.as_ref()?;
    if let Some(g) = group
        && g.fields.iter().any(|m| m.key == c.field)
    {
        return Some(format!("{}.{}", g.key, c.field));
    }
    def.field(&c.field).map(|t| t.key.clone())
}

/// Reports each cycle of conditions once (a field's own condition on itself included).
fn cycles(def: &FormDefinition, errs: &mut Vec<FormDefError>) {
    // Edges: dotted name → dotted name of its condition's target. Each node has at most one
    // out-edge, so following edges from every node finds every cycle.
    let mut next: BTreeMap<String, String> = BTreeMap::new();
    for f in def.fields() {
        if let Some(t) = condition_target(def, None, f) {
            next.insert(f.key.clone(), t);
        }
        // A group's members depend on the group being shown.
        for m in &f.fields {
            let name = format!("{}.{}", f.key, m.key);
            if let Some(t) = condition_target(def, Some(f), m) {
                next.insert(name, t);
            }
        }
    }
    let mut reported: BTreeSet<String> = BTreeSet::new();
    for start in next.keys() {
        let mut path: Vec<&str> = vec![start.as_str()];
        let mut cur = start.as_str();
        while let Some(n) = next.get(cur) {
            if let Some(pos) = path.iter().position(|p| *p == n.as_str()) {
                let cycle: Vec<String> = path[pos..].iter().map(|s| s.to_string()).collect();
                let mut canon = cycle.clone();
                canon.sort();
                if reported.insert(canon.join(",")) {
                    errs.push(FormDefError::ConditionCycle {
                        field: cycle.first().cloned().unwrap_or_default(),
                        fields: cycle,
                    });
                }
                break;
            }
            if path.len() > MAX_FIELDS {
                break;
            }
            path.push(n.as_str());
            cur = n.as_str();
        }
    }
}

/// A certificate mapping names top-level, non-group fields and carries labels.
fn certificate(
    def: &FormDefinition,
    c: &super::model::CertificateSpec,
    errs: &mut Vec<FormDefError>,
) {
    let named = c
        .holder
        .iter()
        .chain(c.holder_code.iter())
        .chain(c.lines.iter().map(|l| &l.field));
    for key in named {
        if def.field(key).is_none_or(|f| f.kind == FieldKind::Group) {
            errs.push(FormDefError::UnknownCertificateField { field: key.clone() });
        }
    }
    for l in &c.lines {
        label(&l.label, &l.field, errs);
    }
    if c.number_prefix.len() > 4 || !c.number_prefix.bytes().all(|b| b.is_ascii_uppercase()) {
        errs.push(FormDefError::InvalidKey {
            field: "certificate.number_prefix".to_string(),
            key: c.number_prefix.clone(),
        });
    }
}
