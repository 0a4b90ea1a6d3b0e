//! The implementation edit form: its values as typed (to fill the form again after an error),
//! and their parsing into a checked `Implementation`.

use crate::html::FormData;
use std::collections::HashMap;
use yiwang_domain::catalog::{Implementation, MaterialRequirement, TimeLimit};
use yiwang_domain::enums::{
    AnywhereScope, Audience, CaseType, Channel, CodeSet, OnlineDepth, TimeUnit,
};
use yiwang_domain::rules::{ITEMS, MATERIALS};
use yiwang_domain::{ErrorCode, Issue};
use yiwang_interchange::{ITEM_HEADERS, MAX_CELL_CHARS};

/// Most material rows one form may carry.
const MAX_MATERIAL_ROWS: usize = 500;

/// One material row as typed.
#[derive(Debug, Clone, Default)]
pub struct MaterialRow {
    pub name: String,
    pub issuer: String,
    pub originals: String,
    pub copies: String,
    pub mandatory: bool,
    pub licence_type: String,
    pub instructions: String,
    pub remove: bool,
    /// Messages for this row (filled by the handler).
    pub errors: Vec<String>,
}

impl MaterialRow {
    fn blank() -> Self {
        Self {
            originals: "1".into(),
            copies: "0".into(),
            mandatory: true,
            ..Self::default()
        }
    }
    fn is_blank(&self) -> bool {
        [
            &self.name,
            &self.issuer,
            &self.licence_type,
            &self.instructions,
        ]
        .iter()
        .all(|s| s.trim().is_empty())
    }
}

/// The editable fields as typed; enumerations hold their stable keys.
#[derive(Debug, Clone, Default)]
pub struct EditForm {
    pub version: String,
    pub acceptance_conditions: String,
    pub statutory_amount: String,
    pub statutory_unit: String,
    pub promised_amount: String,
    pub promised_unit: String,
    pub case_type: String,
    pub visits: String,
    pub online_depth: String,
    pub charged: bool,
    pub fee_basis: String,
    pub channels: Vec<String>,
    pub audiences: Vec<String>,
    pub anywhere: String,
    pub themes: String,
    pub hall_address: String,
    pub hours: String,
    pub consult_phone: String,
    pub complaint_phone: String,
    pub result_name: String,
    pub materials: Vec<MaterialRow>,
    /// 实名核验 needed to apply: `yes` / `no`; empty keeps the stored value.
    pub identity_required: String,
}

/// A problem with one field of the form: the form field's name (`m3_name` for material rows).
#[derive(Debug, Clone)]
pub struct FieldIssue {
    pub field: String,
    pub code: ErrorCode,
    pub detail: Option<String>,
}

/// Form field for each items-sheet column the form edits (by position in `ITEM_HEADERS`).
const ITEM_FIELDS: [(usize, &str); 19] = [
    (9, "acceptance_conditions"),
    (10, "statutory_amount"),
    (11, "statutory_unit"),
    (12, "promised_amount"),
    (13, "promised_unit"),
    (14, "case_type"),
    (15, "visits"),
    (16, "online_depth"),
    (17, "charged"),
    (18, "fee_basis"),
    (19, "audiences"),
    (20, "themes"),
    (21, "channels"),
    (22, "anywhere"),
    (23, "hall_address"),
    (24, "hours"),
    (25, "consult_phone"),
    (26, "complaint_phone"),
    (27, "result_name"),
];

/// Which form field a catalog-rule issue is about, if any. Materials issues carry the position of
/// the material in the parsed list (1-based) as their row; `rows` maps that back to a form row.
pub fn field_of(i: &Issue, rows: &[usize]) -> Option<String> {
    match i.sheet.as_deref() {
        Some(s) if s == MATERIALS => {
            let pos = usize::try_from(i.row?).ok()?.checked_sub(1)?;
            rows.get(pos).map(|r| format!("m{r}_name"))
        }
        Some(s) if s == ITEMS => {
            let header = i.field.as_deref()?;
            ITEM_FIELDS
                .iter()
                .find(|(idx, _)| ITEM_HEADERS.get(*idx) == Some(&header))
                .map(|(_, f)| (*f).to_string())
        }
        _ => None,
    }
}

impl EditForm {
    pub fn from_implementation(imp: &Implementation, version: i64) -> Self {
        let mut materials: Vec<MaterialRow> = imp
            .materials
            .iter()
            .map(|m| MaterialRow {
                name: m.name.clone(),
                issuer: m.issuer.clone(),
                originals: m.originals.to_string(),
                copies: m.copies.to_string(),
                mandatory: m.mandatory,
                licence_type: m.licence_type.clone(),
                instructions: m.instructions.clone(),
                remove: false,
                errors: Vec::new(),
            })
            .collect();
        materials.push(MaterialRow::blank());
        Self {
            version: version.to_string(),
            acceptance_conditions: imp.acceptance_conditions.clone(),
            statutory_amount: imp.statutory_limit.amount.to_string(),
            statutory_unit: imp.statutory_limit.unit.key().into(),
            promised_amount: imp.promised_limit.amount.to_string(),
            promised_unit: imp.promised_limit.unit.key().into(),
            case_type: imp.case_type.key().into(),
            visits: imp.visits.to_string(),
            online_depth: imp.online_depth.key().into(),
            charged: imp.charged,
            fee_basis: imp.fee_basis.clone(),
            channels: imp.channels.iter().map(|c| c.key().to_string()).collect(),
            audiences: imp.audiences.iter().map(|a| a.key().to_string()).collect(),
            anywhere: imp
                .anywhere
                .map(|a| a.key().to_string())
                .unwrap_or_default(),
            themes: imp.themes.join("; "),
            hall_address: imp.hall_address.clone(),
            hours: imp.hours.clone(),
            consult_phone: imp.consult_phone.clone(),
            complaint_phone: imp.complaint_phone.clone(),
            result_name: imp.result_name.clone(),
            materials,
            identity_required: if imp.identity_required { "yes" } else { "no" }.into(),
        }
    }

    pub fn from_form(f: &FormData) -> Self {
        let s = |k: &str| f.get(k).to_string();
        let rows = f
            .names()
            .filter_map(|k| {
                k.strip_prefix('m')?
                    .strip_suffix("_name")?
                    .parse::<usize>()
                    .ok()
            })
            .filter(|i| *i < MAX_MATERIAL_ROWS)
            .max()
            .map_or(0, |m| m + 1);
        let mut materials: Vec<MaterialRow> = (0..rows)
            .map(|i| {
                let k = |n: &str| format!("m{i}_{n}");
                MaterialRow {
                    name: s(&k("name")),
                    issuer: s(&k("issuer")),
                    originals: s(&k("originals")),
                    copies: s(&k("copies")),
                    mandatory: f.has(&k("mandatory")),
                    licence_type: s(&k("licence_type")),
                    instructions: s(&k("instructions")),
                    remove: f.has(&k("remove")),
                    errors: Vec::new(),
                }
            })
            .collect();
        // The form always ends with an empty row for one more material.
        if materials.last().is_none_or(|m| !m.is_blank()) {
            materials.push(MaterialRow::blank());
        }
        let list = |k: &str| f.all(k).into_iter().map(str::to_string).collect();
        Self {
            version: s("version"),
            acceptance_conditions: s("acceptance_conditions"),
            statutory_amount: s("statutory_amount"),
            statutory_unit: s("statutory_unit"),
            promised_amount: s("promised_amount"),
            promised_unit: s("promised_unit"),
            case_type: s("case_type"),
            visits: s("visits"),
            online_depth: s("online_depth"),
            charged: f.has("charged"),
            fee_basis: s("fee_basis"),
            channels: list("channels"),
            audiences: list("audiences"),
            anywhere: s("anywhere"),
            themes: s("themes"),
            hall_address: s("hall_address"),
            hours: s("hours"),
            consult_phone: s("consult_phone"),
            complaint_phone: s("complaint_phone"),
            result_name: s("result_name"),
            materials,
            identity_required: s("identity_required"),
        }
    }

    /// The edited implementation (fields the form does not carry come from `base`), with the
    /// form row of each kept material; or every problem found.
    pub fn parse(
        &self,
        base: &Implementation,
    ) -> Result<(Implementation, Vec<usize>), Vec<FieldIssue>> {
        let mut p = Parser::default();
        let statutory_amount = p.amount("statutory_amount", &self.statutory_amount);
        let statutory_unit = p.key::<TimeUnit>("statutory_unit", &self.statutory_unit);
        let promised_amount = p.amount("promised_amount", &self.promised_amount);
        let promised_unit = p.key::<TimeUnit>("promised_unit", &self.promised_unit);
        let case_type = p.key::<CaseType>("case_type", &self.case_type);
        let visits = p.visits(&self.visits);
        let online_depth = p.key::<OnlineDepth>("online_depth", &self.online_depth);
        let channels = p.keys::<Channel>("channels", &self.channels);
        let audiences = p.keys::<Audience>("audiences", &self.audiences);
        let anywhere = if self.anywhere.trim().is_empty() {
            Some(None)
        } else {
            p.key::<AnywhereScope>("anywhere", &self.anywhere).map(Some)
        };
        let texts = [
            ("acceptance_conditions", &self.acceptance_conditions),
            ("fee_basis", &self.fee_basis),
            ("themes", &self.themes),
            ("hall_address", &self.hall_address),
            ("hours", &self.hours),
            ("consult_phone", &self.consult_phone),
            ("complaint_phone", &self.complaint_phone),
            ("result_name", &self.result_name),
        ];
        for (k, v) in texts {
            p.text(k, v);
        }
        let (materials, rows) = p.materials(&self.materials, base);
        let (
            Some(statutory_amount),
            Some(statutory_unit),
            Some(promised_amount),
            Some(promised_unit),
            Some(case_type),
            Some(visits),
            Some(online_depth),
            Some(channels),
            Some(audiences),
            Some(anywhere),
        ) = (
            statutory_amount,
            statutory_unit,
            promised_amount,
            promised_unit,
            case_type,
            visits,
            online_depth,
            channels,
            audiences,
            anywhere,
        )
        else {
            return Err(p.issues);
        };
        if !p.issues.is_empty() {
            return Err(p.issues);
        }
        let imp = Implementation {
            acceptance_conditions: self.acceptance_conditions.trim().to_string(),
            statutory_limit: TimeLimit {
                amount: statutory_amount,
                unit: statutory_unit,
            },
            promised_limit: TimeLimit {
                amount: promised_amount,
                unit: promised_unit,
            },
            case_type,
            visits,
            online_depth,
            charged: self.charged,
            fee_basis: self.fee_basis.trim().to_string(),
            audiences,
            themes: self
                .themes
                .split([';', '\u{ff1b}'])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
            channels,
            anywhere,
            hall_address: self.hall_address.trim().to_string(),
            hours: self.hours.trim().to_string(),
            consult_phone: self.consult_phone.trim().to_string(),
            complaint_phone: self.complaint_phone.trim().to_string(),
            result_name: self.result_name.trim().to_string(),
            materials,
            identity_required: match self.identity_required.as_str() {
                "yes" => true,
                "no" => false,
                _ => base.identity_required,
            },
            ..base.clone()
        };
        Ok((imp, rows))
    }

    /// Files each message under its field: material rows keep theirs, others go in the map.
    pub fn attach(
        &mut self,
        messages: Vec<(Option<String>, String)>,
    ) -> (HashMap<String, Vec<String>>, Vec<String>) {
        let mut by_field: HashMap<String, Vec<String>> = HashMap::new();
        let mut general = Vec::new();
        for (field, msg) in messages {
            let row = field
                .as_deref()
                .and_then(|f| f.strip_prefix('m'))
                .and_then(|f| f.split_once('_'))
                .and_then(|(i, _)| i.parse::<usize>().ok())
                .and_then(|i| self.materials.get_mut(i));
            match (row, field) {
                (Some(r), _) => r.errors.push(msg),
                (None, Some(f)) => by_field.entry(f).or_default().push(msg),
                (None, None) => general.push(msg),
            }
        }
        (by_field, general)
    }
}

#[derive(Default)]
struct Parser {
    issues: Vec<FieldIssue>,
}

/// A whole number ≥ 0 from a form field.
fn number(s: &str) -> Result<u64, ErrorCode> {
    let s = s.trim();
    if s.is_empty() {
        return Err(ErrorCode::Required);
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ErrorCode::NotAnInteger);
    }
    s.parse::<u64>().map_err(|_| ErrorCode::OutOfRange)
}

impl Parser {
    fn push(&mut self, field: &str, code: ErrorCode, detail: Option<String>) {
        self.issues.push(FieldIssue {
            field: field.to_string(),
            code,
            detail,
        });
    }
    fn amount(&mut self, field: &str, s: &str) -> Option<u32> {
        match number(s).and_then(|n| u32::try_from(n).map_err(|_| ErrorCode::OutOfRange)) {
            Ok(n) => Some(n),
            Err(c) => {
                self.push(field, c, None);
                None
            }
        }
    }
    fn visits(&mut self, s: &str) -> Option<u8> {
        match number(s) {
            Ok(n) if n <= 2 => u8::try_from(n).ok(),
            Ok(_) => {
                self.push("visits", ErrorCode::OutOfRange, Some("0-2".into()));
                None
            }
            Err(c) => {
                self.push("visits", c, None);
                None
            }
        }
    }
    fn key<T: CodeSet>(&mut self, field: &str, s: &str) -> Option<T> {
        if s.trim().is_empty() {
            self.push(field, ErrorCode::Required, None);
            return None;
        }
        let v = T::from_key(s.trim());
        if v.is_none() {
            self.push(field, ErrorCode::UnknownEnumValue, None);
        }
        v
    }
    fn keys<T: CodeSet>(&mut self, field: &str, values: &[String]) -> Option<Vec<T>> {
        let mut out: Vec<T> = Vec::new();
        for v in values {
            match T::from_key(v.trim()) {
                Some(x) if !out.iter().any(|o| o.key() == x.key()) => out.push(x),
                Some(_) => {}
                None => {
                    self.push(field, ErrorCode::UnknownEnumValue, None);
                    return None;
                }
            }
        }
        if out.is_empty() {
            self.push(field, ErrorCode::Required, None);
            return None;
        }
        Some(out)
    }
    fn text(&mut self, field: &str, s: &str) {
        if s.chars().count() > MAX_CELL_CHARS {
            self.push(field, ErrorCode::TooLong, None);
        }
    }
    fn materials(
        &mut self,
        rows: &[MaterialRow],
        base: &Implementation,
    ) -> (Vec<MaterialRequirement>, Vec<usize>) {
        let mut out = Vec::new();
        let mut kept = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            if r.remove || r.is_blank() {
                continue;
            }
            let f = |n: &str| format!("m{i}_{n}");
            if r.name.trim().is_empty() {
                self.push(&f("name"), ErrorCode::Required, None);
            }
            for (n, v) in [
                ("name", &r.name),
                ("issuer", &r.issuer),
                ("licence_type", &r.licence_type),
                ("instructions", &r.instructions),
            ] {
                self.text(&f(n), v);
            }
            let count = |p: &mut Self, n: &str, s: &str| {
                let s = if s.trim().is_empty() { "0" } else { s };
                p.amount(&f(n), s)
            };
            let originals = count(self, "originals", &r.originals);
            let copies = count(self, "copies", &r.copies);
            let (Some(originals), Some(copies)) = (originals, copies) else {
                continue;
            };
            out.push(MaterialRequirement {
                name: r.name.trim().to_string(),
                issuer: r.issuer.trim().to_string(),
                originals,
                copies,
                mandatory: r.mandatory,
                licence_type: r.licence_type.trim().to_string(),
                instructions: r.instructions.trim().to_string(),
                extras: base
                    .materials
                    .get(i)
                    .map(|m| m.extras.clone())
                    .unwrap_or_default(),
            });
            kept.push(i);
        }
        (out, kept)
    }
}
