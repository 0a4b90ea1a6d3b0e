//! Raw answers: the posted name/value pairs of a form, checked against the definition's names
//! and the size caps, but not yet typed.
//!
//! Names: a field `name`; an address `name.region` and `name.detail`; a group member
//! `group[i].member` (`group[i].member.region` for an address in a group), `i` in `0..max`
//! without leading zeros; `group[i]._row` marks a row that exists even when all its inputs are
//! blank. Names starting with `_` are page controls (`_add=group`, `_remove=group[1]`,
//! `_action=save`…), kept apart and never answers. Any other name is refused as forged.

use super::answers::{Answers, Value};
use super::error::RawError;
use super::model::{Field, FieldKind, FormDefinition};
use super::{MAX_CONTROLS, MAX_NAME_BYTES, MAX_PAIRS, MAX_VALUE_BYTES};
use std::collections::BTreeMap;

/// The control naming a group to grow by one row.
pub const ADD_CONTROL: &str = "_add";
/// The control naming a row (`group[i]`) to remove.
pub const REMOVE_CONTROL: &str = "_remove";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawAnswers {
    values: BTreeMap<String, Vec<String>>,
    rows: BTreeMap<String, usize>,
    controls: BTreeMap<String, String>,
}

/// What a page control asked for instead of saving or continuing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowAction {
    /// A row was added to the group.
    Added { group: String },
    /// The row was removed from the group.
    Removed { group: String, row: usize },
    /// The group is full (or the control named no group); nothing changed.
    Refused { group: String },
}

/// Where a posted name lands.
struct Slot<'a> {
    field: &'a Field,
    /// `(group key, row)` for group members.
    row: Option<(&'a str, usize)>,
}

/// Splits `group[i].rest` into its parts; `None` for any other shape.
fn split_row(name: &str) -> Option<(&str, usize, &str)> {
    let (g, rest) = name.split_once('[')?;
    let (idx, rest) = rest.split_once(']')?;
    let rest = rest.strip_prefix('.')?;
    if idx.is_empty()
        || idx.len() > 3
        || !idx.bytes().all(|b| b.is_ascii_digit())
        || (idx.len() > 1 && idx.starts_with('0'))
    {
        return None;
    }
    Some((g, idx.parse().ok()?, rest))
}

/// Splits `key` or `key.region` / `key.detail` against a list of fields.
fn find<'a>(fields: impl Iterator<Item = &'a Field>, name: &str) -> Option<&'a Field> {
    let mut fields = fields;
    match name.split_once('.') {
        Some((k, part)) => fields.find(|f| {
            f.key == k && f.kind == FieldKind::Address && (part == "region" || part == "detail")
        }),
        None => fields
            .find(|f| f.key == name && !matches!(f.kind, FieldKind::Address | FieldKind::Group)),
    }
}

fn slot<'a>(def: &'a FormDefinition, name: &str) -> Result<Option<Slot<'a>>, RawError> {
    let unknown = || RawError::UnknownField {
        name: super::shorten(name),
    };
    if let Some((g, row, rest)) = split_row(name) {
        let group = def
            .fields()
            .find(|f| f.key == g && f.kind == FieldKind::Group)
            .ok_or_else(unknown)?;
        if row >= group.effective_max_items() {
            return Err(RawError::TooManyRows {
                name: group.key.clone(),
                max: group.effective_max_items(),
            });
        }
        if rest == "_row" {
            return Ok(Some(Slot {
                field: group,
                row: Some((&group.key, row)),
            }));
        }
        let member = find(group.fields.iter(), rest).ok_or_else(unknown)?;
        return Ok(Some(Slot {
            field: member,
            row: Some((&group.key, row)),
        }));
    }
    find(def.fields(), name)
        .map(|f| {
            Some(Slot {
                field: f,
                row: None,
            })
        })
        .ok_or_else(unknown)
}

impl RawAnswers {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks posted pairs (in order) against the definition's names and the caps.
    pub fn from_pairs(
        def: &FormDefinition,
        pairs: Vec<(String, String)>,
    ) -> Result<Self, RawError> {
        if pairs.len() > MAX_PAIRS {
            return Err(RawError::TooManyValues { max: MAX_PAIRS });
        }
        let mut raw = Self::new();
        for (name, value) in pairs {
            if name.len() > MAX_NAME_BYTES || value.len() > MAX_VALUE_BYTES {
                return Err(RawError::TooLong {
                    name: super::shorten(&name),
                });
            }
            if name.starts_with('_') {
                if raw.controls.len() >= MAX_CONTROLS && !raw.controls.contains_key(&name) {
                    return Err(RawError::TooManyValues { max: MAX_CONTROLS });
                }
                raw.controls.insert(name, value);
                continue;
            }
            let Some(slot) = slot(def, &name)? else {
                continue;
            };
            if let Some((g, row)) = slot.row {
                let n = raw.rows.entry(g.to_string()).or_insert(0);
                *n = (*n).max(row + 1);
                if slot.field.kind == FieldKind::Group {
                    continue; // the `_row` marker
                }
            }
            let entry = raw.values.entry(name.clone()).or_default();
            let max = if slot.field.kind == FieldKind::MultiChoice {
                slot.field.options.len()
            } else {
                1
            };
            if slot.field.kind == FieldKind::MultiChoice && value.is_empty() {
                continue; // the "none selected" marker
            }
            if entry.len() >= max {
                return Err(RawError::RepeatedField {
                    name: super::shorten(&name),
                });
            }
            entry.push(value);
        }
        Ok(raw)
    }

    /// The first value posted under `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.values
            .get(name)
            .and_then(|v| v.first())
            .map_or("", String::as_str)
    }
    /// Every value posted under `name` (multi-choice).
    pub fn get_all(&self, name: &str) -> &[String] {
        self.values.get(name).map_or(&[], Vec::as_slice)
    }
    /// Number of rows of a group (highest posted index + 1).
    pub fn rows(&self, group: &str) -> usize {
        self.rows.get(group).copied().unwrap_or(0)
    }
    /// A page control (`_add`, `_remove`, `_action`, …) if posted.
    pub fn control(&self, name: &str) -> Option<&str> {
        self.controls.get(name).map(String::as_str)
    }
    /// Sets one value (prefill by the caller, e.g. the applicant's phone). No name check:
    /// only for names the caller built from the definition.
    pub fn set(&mut self, name: &str, value: &str) {
        if let Some((g, row, _)) = split_row(name) {
            let n = self.rows.entry(g.to_string()).or_insert(0);
            *n = (*n).max(row + 1);
        }
        self.values
            .insert(name.to_string(), vec![value.to_string()]);
    }
    /// Makes sure a group shows at least `n` rows (e.g. its `min_items`, or 1 to start).
    pub fn ensure_rows(&mut self, group: &str, n: usize) {
        let r = self.rows.entry(group.to_string()).or_insert(0);
        *r = (*r).max(n);
    }

    /// Carries out `_add` / `_remove` if posted. `None` when no row control was posted (the
    /// request is a save or continue).
    pub fn apply_row_action(&mut self, def: &FormDefinition) -> Option<RowAction> {
        if let Some(g) = self.controls.remove(ADD_CONTROL) {
            let Some(group) = def
                .fields()
                .find(|f| f.key == g && f.kind == FieldKind::Group)
            else {
                return Some(RowAction::Refused {
                    group: super::shorten(&g),
                });
            };
            let n = self.rows(&group.key);
            if n >= group.effective_max_items() {
                return Some(RowAction::Refused {
                    group: group.key.clone(),
                });
            }
            self.rows.insert(group.key.clone(), n + 1);
            return Some(RowAction::Added {
                group: group.key.clone(),
            });
        }
        if let Some(target) = self.controls.remove(REMOVE_CONTROL) {
            let parsed = split_row(&format!("{target}.x")).map(|(g, r, _)| (g.to_string(), r));
            let Some((g, row)) = parsed.filter(|(g, r)| *r < self.rows(g)) else {
                return Some(RowAction::Refused {
                    group: super::shorten(&target),
                });
            };
            self.remove_row(&g, row);
            return Some(RowAction::Removed { group: g, row });
        }
        None
    }

    fn remove_row(&mut self, group: &str, row: usize) {
        let n = self.rows(group);
        let mut moved = BTreeMap::new();
        for (name, v) in std::mem::take(&mut self.values) {
            match split_row(&name) {
                Some((g, r, rest)) if g == group => {
                    if r == row {
                        continue;
                    }
                    let r = if r > row { r - 1 } else { r };
                    moved.insert(format!("{g}[{r}].{rest}"), v);
                }
                _ => {
                    moved.insert(name, v);
                }
            }
        }
        self.values = moved;
        self.rows.insert(group.to_string(), n.saturating_sub(1));
    }

    /// All pairs in a stable order (values first, row markers for groups), e.g. to store a
    /// draft that did not validate. `from_pairs(def, to_pairs())` gives the same answers.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (g, n) in &self.rows {
            for i in 0..*n {
                out.push((format!("{g}[{i}]._row"), String::new()));
            }
        }
        for (k, vs) in &self.values {
            for v in vs {
                out.push((k.clone(), v.clone()));
            }
        }
        out
    }

    /// The raw form of stored answers (to show a saved draft again, or to check old answers
    /// against the current definition). Answers to fields the definition no longer has are
    /// left out.
    pub fn from_answers(def: &FormDefinition, answers: &Answers) -> Self {
        let mut raw = Self::new();
        for f in def.fields() {
            let Some(v) = answers.values.get(&f.key) else {
                continue;
            };
            if let Value::Group(rows) = v {
                if f.kind != FieldKind::Group {
                    continue;
                }
                let n = rows.len().min(f.effective_max_items());
                raw.rows.insert(f.key.clone(), n);
                for (i, row) in rows.iter().take(n).enumerate() {
                    for m in &f.fields {
                        if let Some(v) = row.get(&m.key) {
                            raw.put(&format!("{}[{i}].{}", f.key, m.key), m, v);
                        }
                    }
                }
            } else {
                raw.put(&f.key, f, v);
            }
        }
        raw
    }

    fn put(&mut self, name: &str, f: &Field, v: &Value) {
        match (f.kind, v) {
            (FieldKind::Address, Value::Address(a)) => {
                if let Some(r) = &a.region {
                    self.values
                        .insert(format!("{name}.region"), vec![r.as_str().to_string()]);
                }
                if !a.detail.is_empty() {
                    self.values
                        .insert(format!("{name}.detail"), vec![a.detail.clone()]);
                }
            }
            (FieldKind::MultiChoice, Value::Choices(c)) => {
                self.values.insert(name.to_string(), c.clone());
            }
            (_, v) => {
                if let Some(s) = v.raw_string() {
                    self.values.insert(name.to_string(), vec![s]);
                }
            }
        }
    }
}
