//! Format-independent part of reading: a sheet of raw cells (from CSV or XLSX) is matched to the
//! standard headers and every row is turned into domain values, collecting every problem.

use crate::ParsedFile;
use crate::columns::{
    ITEM_HEADERS, MATERIAL_HEADERS, MAX_NAME_CHARS, OPTIONAL_HEADERS, clean_cell, column_label,
    item, material, split_list,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use yiwang_domain::catalog::{
    CatalogBatch, CatalogEntry, EntrySource, Implementation, MaterialRequirement, StandardItem,
    TimeLimit,
};
use yiwang_domain::codes::{BasicCode, CreditCode, ImplCode, RegionCode};
use yiwang_domain::enums::{
    AnywhereScope, Audience, CaseType, Channel, CodeSet, ExerciseLevel, ItemType, LevelSet,
    OnlineDepth, TimeUnit, parse_yes_no,
};
use yiwang_domain::error::{ErrorCode, Issue};

/// One cell as read from the file, before trimming.
#[derive(Debug, Clone)]
pub(crate) enum RawCell {
    Text(String),
    InvalidUtf8,
}

/// One non-header row; `cells` are (0-based column, cell), in column order, possibly sparse.
#[derive(Debug)]
pub(crate) struct RawRow {
    pub row: u64,
    pub cells: Vec<(u32, RawCell)>,
}

/// One sheet as read from the file.
#[derive(Debug)]
pub(crate) struct Table {
    pub sheet: &'static str,
    /// Spreadsheet number of the header row (1 for CSV).
    pub header_row: u64,
    pub header: Vec<(u32, RawCell)>,
    pub rows: Vec<RawRow>,
}

/// What a column of the file is.
#[derive(Debug, Clone, Copy)]
enum Role {
    /// A standard header (index into the header list).
    Standard(usize),
    /// An extension column (index into `Layout::extras`).
    Extra(usize),
    /// A column whose header is already reported as broken (duplicate, invalid, too large).
    Ignored,
}

/// The header row of a sheet, resolved against the standard headers.
struct Layout {
    sheet: &'static str,
    headers: &'static [&'static str],
    roles: BTreeMap<u32, Role>,
    present: Vec<bool>,
    /// (column, header) of extension columns in file order.
    extras: Vec<(u32, String)>,
}

impl Layout {
    fn new(table: &Table, headers: &'static [&'static str], issues: &mut Vec<Issue>) -> Self {
        let sheet = table.sheet;
        let at = |code: ErrorCode| Issue::new(code).at(sheet, table.header_row);
        let mut roles = BTreeMap::new();
        let mut present = vec![false; headers.len()];
        let mut extras: Vec<(u32, String)> = Vec::new();
        let mut reported_duplicates: HashSet<String> = HashSet::new();
        for (col, cell) in &table.header {
            let col = *col;
            let text = match cell {
                RawCell::InvalidUtf8 => {
                    issues.push(at(ErrorCode::InvalidUtf8).detail(column_label(col)));
                    roles.insert(col, Role::Ignored);
                    continue;
                }
                RawCell::Text(t) => clean_cell(t),
            };
            if text.is_empty() {
                // No header: any value below it is reported row by row.
                continue;
            }
            let chars = text.chars().count();
            if chars > crate::MAX_CELL_CHARS {
                issues.push(at(ErrorCode::CellTooLarge).detail(too_large_detail(chars)));
                roles.insert(col, Role::Ignored);
                continue;
            }
            if let Some(i) = headers.iter().position(|h| *h == text) {
                if present[i] {
                    if reported_duplicates.insert(text.to_string()) {
                        issues.push(
                            at(ErrorCode::DuplicateColumn)
                                .field(text)
                                .detail(column_label(col)),
                        );
                    }
                    roles.insert(col, Role::Ignored);
                } else {
                    present[i] = true;
                    roles.insert(col, Role::Standard(i));
                }
            } else {
                if extras.iter().any(|(_, h)| h == text)
                    && reported_duplicates.insert(text.to_string())
                {
                    issues.push(
                        at(ErrorCode::DuplicateColumn)
                            .field(text)
                            .detail(column_label(col)),
                    );
                }
                roles.insert(col, Role::Extra(extras.len()));
                extras.push((col, text.to_string()));
            }
        }
        for (i, h) in headers.iter().enumerate() {
            if !present[i] && !OPTIONAL_HEADERS.contains(h) {
                issues.push(at(ErrorCode::MissingColumn).field(h));
            }
        }
        Self {
            sheet,
            headers,
            roles,
            present,
            extras,
        }
    }

    fn has(&self, index: usize) -> bool {
        self.present.get(index).copied().unwrap_or(false)
    }

    /// Cleans the cells of one row. `None` when the row is completely empty.
    fn row(&self, raw: &RawRow) -> Option<Row> {
        let mut row = Row {
            sheet: self.sheet,
            row: raw.row,
            headers: self.headers,
            vals: self
                .present
                .iter()
                .map(|p| {
                    if *p {
                        Val::Text(String::new())
                    } else {
                        Val::Missing
                    }
                })
                .collect(),
            extras: self
                .extras
                .iter()
                .map(|(_, h)| (h.clone(), String::new()))
                .collect(),
            issues: Vec::new(),
            failed: false,
        };
        let mut any = false;
        for (col, cell) in &raw.cells {
            let role = self.roles.get(col).copied();
            // The header named in an issue; computed only when there is one.
            let field = || {
                match role {
                    Some(Role::Standard(i)) => self.headers.get(i).map(|h| (*h).to_string()),
                    Some(Role::Extra(k)) => self.extras.get(k).map(|(_, h)| h.clone()),
                    Some(Role::Ignored) | None => None,
                }
                .unwrap_or_else(|| column_label(*col))
            };
            let text = match cell {
                RawCell::InvalidUtf8 => {
                    any = true;
                    row.push(Issue::new(ErrorCode::InvalidUtf8).field(&field()));
                    row.set_bad(role);
                    continue;
                }
                RawCell::Text(t) => clean_cell(t),
            };
            if text.is_empty() {
                continue;
            }
            any = true;
            let chars = text.chars().count();
            if chars > crate::MAX_CELL_CHARS {
                row.push(
                    Issue::new(ErrorCode::CellTooLarge)
                        .field(&field())
                        .detail(too_large_detail(chars)),
                );
                row.set_bad(role);
                continue;
            }
            match role {
                Some(Role::Standard(i)) => {
                    if let Some(v) = row.vals.get_mut(i) {
                        *v = Val::Text(text.to_string());
                    }
                }
                Some(Role::Extra(k)) => {
                    if let Some((_, v)) = row.extras.get_mut(k) {
                        *v = text.to_string();
                    }
                }
                Some(Role::Ignored) => {}
                None => row.push(
                    Issue::new(ErrorCode::MalformedFile)
                        .field(&field())
                        .detail(format!("value in a column without header: {text}")),
                ),
            }
        }
        any.then_some(row)
    }
}

fn too_large_detail(chars: usize) -> String {
    format!("{chars} > {}", crate::MAX_CELL_CHARS)
}

/// A cleaned standard cell.
#[derive(Debug)]
enum Val {
    /// The sheet has no such column (already reported as MissingColumn).
    Missing,
    /// The cell is broken and already reported (invalid UTF-8, too large).
    Bad,
    Text(String),
}

/// One row being converted: its cleaned cells and the problems found so far.
struct Row {
    sheet: &'static str,
    row: u64,
    headers: &'static [&'static str],
    vals: Vec<Val>,
    extras: Vec<(String, String)>,
    issues: Vec<Issue>,
    /// True when the row cannot be used even though the problem was reported elsewhere.
    failed: bool,
}

impl Row {
    fn push(&mut self, issue: Issue) {
        self.issues.push(issue.at(self.sheet, self.row));
    }

    fn set_bad(&mut self, role: Option<Role>) {
        match role {
            Some(Role::Standard(i)) => {
                if let Some(v) = self.vals.get_mut(i) {
                    *v = Val::Bad;
                }
            }
            _ => self.failed = true,
        }
    }

    fn is_ok(&self) -> bool {
        !self.failed && self.issues.is_empty()
    }

    fn field(&self, i: usize) -> &'static str {
        self.headers.get(i).copied().unwrap_or("")
    }

    fn report(&mut self, code: ErrorCode, i: usize, detail: impl Into<String>) {
        let field = self.field(i);
        self.push(Issue::new(code).field(field).detail(detail));
    }

    /// The raw text of a cell: `Some("")` for an empty cell; `None` for a missing column or a
    /// broken cell (marks the row failed; the problem is already reported).
    fn text(&mut self, i: usize) -> Option<String> {
        match self.vals.get(i) {
            Some(Val::Text(s)) => Some(s.clone()),
            Some(Val::Missing | Val::Bad) | None => {
                self.failed = true;
                None
            }
        }
    }

    /// A cell that may be empty; a missing column counts as empty.
    fn optional(&mut self, i: usize) -> Option<String> {
        if matches!(self.vals.get(i), Some(Val::Missing)) {
            return Some(String::new());
        }
        self.text(i)
    }

    /// A cell that must not be empty.
    fn required(&mut self, i: usize) -> Option<String> {
        let s = self.text(i)?;
        if s.is_empty() {
            let field = self.field(i);
            self.push(Issue::new(ErrorCode::Required).field(field));
            return None;
        }
        Some(s)
    }

    /// A required cell parsed by one of the domain's code parsers.
    fn code<T>(&mut self, i: usize, parse: impl FnOnce(&str) -> Result<T, ErrorCode>) -> Option<T> {
        let s = self.required(i)?;
        match parse(&s) {
            Ok(v) => Some(v),
            Err(code) => {
                self.report(code, i, s);
                None
            }
        }
    }

    fn enumerated<T: CodeSet>(&mut self, i: usize) -> Option<T> {
        let s = self.required(i)?;
        self.enum_value(i, &s)
    }

    fn enum_value<T: CodeSet>(&mut self, i: usize, s: &str) -> Option<T> {
        let v = T::from_zh(s);
        if v.is_none() {
            self.report(ErrorCode::UnknownEnumValue, i, T::allowed());
        }
        v
    }

    fn optional_enum<T: CodeSet>(&mut self, i: usize) -> Option<Option<T>> {
        let s = self.optional(i)?;
        if s.is_empty() {
            return Some(None);
        }
        self.enum_value(i, &s).map(Some)
    }

    fn yes_no(&mut self, i: usize) -> Option<bool> {
        let s = self.required(i)?;
        match parse_yes_no(&s) {
            Ok(b) => Some(b),
            Err(code) => {
                self.report(code, i, "是/否");
                None
            }
        }
    }

    /// A required non-negative integer not above `max`.
    fn integer(&mut self, i: usize, max: u64) -> Option<u64> {
        let s = self.required(i)?;
        match parse_integer(&s) {
            Ok(n) if n <= max => Some(n),
            Ok(_) => {
                self.report(ErrorCode::OutOfRange, i, s);
                None
            }
            Err(code) => {
                self.report(code, i, s);
                None
            }
        }
    }

    /// A required list of code-set values.
    fn enum_list<T: CodeSet>(&mut self, i: usize) -> Option<Vec<T>> {
        let s = self.required(i)?;
        let parts = split_list(&s);
        if parts.is_empty() {
            let field = self.field(i);
            self.push(Issue::new(ErrorCode::Required).field(field));
            return None;
        }
        let mut out = Vec::with_capacity(parts.len());
        let mut ok = true;
        for p in parts {
            match T::from_zh(p) {
                Some(v) => out.push(v),
                None => {
                    let field = self.field(i);
                    self.push(
                        Issue::new(ErrorCode::UnknownEnumValue)
                            .field(field)
                            .detail(format!("{p}: {}", T::allowed())),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    fn string_list(&mut self, i: usize) -> Option<Vec<String>> {
        let s = self.optional(i)?;
        Some(split_list(&s).into_iter().map(str::to_string).collect())
    }

    fn finish(self, issues: &mut Vec<Issue>) -> (bool, Vec<(String, String)>) {
        let ok = self.is_ok();
        issues.extend(self.issues);
        (ok, self.extras)
    }
}

/// Parses a whole number ≥ 0: `NotAnInteger` for anything else than digits (with an optional
/// sign), `OutOfRange` for negative or too large numbers.
fn parse_integer(s: &str) -> Result<u64, ErrorCode> {
    let (negative, digits) = if let Some(rest) = s.strip_prefix('-') {
        (true, rest)
    } else if let Some(rest) = s.strip_prefix('+') {
        (false, rest)
    } else {
        (false, s)
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ErrorCode::NotAnInteger);
    }
    let all_zero = digits.bytes().all(|b| b == b'0');
    if negative && !all_zero {
        return Err(ErrorCode::OutOfRange);
    }
    digits.parse::<u64>().map_err(|_| ErrorCode::OutOfRange)
}

fn time_limit(row: &mut Row, amount: usize, unit: usize) -> Option<TimeLimit> {
    let amount = row.integer(amount, u64::from(u32::MAX));
    let unit = row.enumerated::<TimeUnit>(unit);
    Some(TimeLimit {
        amount: u32::try_from(amount?).ok()?,
        unit: unit?,
    })
}

/// Converts an items row. Every field is checked even after a failure, so that all problems of
/// the row are reported together.
fn parse_item(row: &mut Row) -> Option<CatalogEntry> {
    use item::*;
    let basic_code = row.code(BASIC_CODE, BasicCode::parse);
    let name = row.required(NAME).and_then(|n| {
        if n.chars().count() > MAX_NAME_CHARS {
            row.report(ErrorCode::TooLong, NAME, n);
            None
        } else {
            Some(n)
        }
    });
    let item_type = row.enumerated::<ItemType>(ITEM_TYPE);
    let levels = row
        .required(LEVEL)
        .and_then(|s| match LevelSet::parse_zh(&s) {
            Ok(set) => Some(set),
            Err(_) => {
                row.report(ErrorCode::UnknownEnumValue, LEVEL, ExerciseLevel::allowed());
                None
            }
        });
    // This implementation's level; may be left out when the item has one level.
    let level = match row.optional(IMPL_LEVEL) {
        Some(s) if !s.is_empty() => row.enum_value::<ExerciseLevel>(IMPL_LEVEL, &s),
        Some(_) => match levels.map(LevelSet::single) {
            Some(Some(one)) => Some(one),
            Some(None) => {
                row.report(
                    ErrorCode::Required,
                    IMPL_LEVEL,
                    levels.map(LevelSet::zh).unwrap_or_default(),
                );
                None
            }
            None => None,
        },
        None => None,
    };
    let department_name = row.required(DEPARTMENT_NAME);
    let department_code = row.code(DEPARTMENT_CODE, CreditCode::parse);
    // The format allows 6, 9 or 12 digits (the domain type also accepts 2 and 4).
    let region = row.code(REGION, |s| match s.len() {
        6 | 9 | 12 => RegionCode::parse(s),
        _ => Err(ErrorCode::InvalidRegionCode),
    });
    let code = row.code(IMPL_CODE, ImplCode::parse);
    let legal_basis = row.required(LEGAL_BASIS);
    let acceptance_conditions = row.optional(ACCEPTANCE);
    let statutory_limit = time_limit(row, STATUTORY, STATUTORY_UNIT);
    let promised_limit = time_limit(row, PROMISED, PROMISED_UNIT);
    let case_type = row.enumerated::<CaseType>(CASE_TYPE);
    let visits = row.integer(VISITS, 2);
    let online_depth = row.enumerated::<OnlineDepth>(ONLINE_DEPTH);
    let charged = row.yes_no(CHARGED);
    let fee_basis = row.optional(FEE_BASIS);
    let audiences = row.enum_list::<Audience>(AUDIENCES);
    let themes = row.string_list(THEMES);
    let channels = row.enum_list::<Channel>(CHANNELS);
    let anywhere = row.optional_enum::<AnywhereScope>(ANYWHERE);
    let hall_address = row.optional(HALL_ADDRESS);
    let hours = row.optional(HOURS);
    let consult_phone = row.optional(CONSULT_PHONE);
    let complaint_phone = row.optional(COMPLAINT_PHONE);
    let result_name = row.optional(RESULT_NAME);

    let standard = StandardItem {
        basic_code: basic_code.clone()?,
        name: name?,
        item_type: item_type?,
        levels: levels?,
        legal_basis: legal_basis?,
    };
    let implementation = Implementation {
        code: code?,
        basic_code: basic_code?,
        department_code: department_code?,
        department_name: department_name?,
        region: region?,
        level: level?,
        acceptance_conditions: acceptance_conditions?,
        statutory_limit: statutory_limit?,
        promised_limit: promised_limit?,
        case_type: case_type?,
        visits: u8::try_from(visits?).ok()?,
        online_depth: online_depth?,
        charged: charged?,
        fee_basis: fee_basis?,
        audiences: audiences?,
        themes: themes?,
        channels: channels?,
        anywhere: anywhere?,
        hall_address: hall_address?,
        hours: hours?,
        consult_phone: consult_phone?,
        complaint_phone: complaint_phone?,
        result_name: result_name?,
        extras: Vec::new(),
        handling_items: Vec::new(),
        materials: Vec::new(),
        identity_required: true,
    };
    Some(CatalogEntry {
        standard,
        implementation,
    })
}

/// Converts a materials row into its implementation code and the material.
fn parse_material(
    row: &mut Row,
    known: Option<&HashSet<ImplCode>>,
) -> Option<(ImplCode, MaterialRequirement)> {
    use material::*;
    let code = row.code(IMPL_CODE, ImplCode::parse);
    if let (Some(c), Some(known)) = (&code, known)
        && !known.contains(c)
    {
        row.report(ErrorCode::UnknownImplementation, IMPL_CODE, c.to_string());
    }
    let name = row.required(NAME);
    let issuer = row.optional(ISSUER);
    let originals = row.integer(ORIGINALS, u64::from(u32::MAX));
    let copies = row.integer(COPIES, u64::from(u32::MAX));
    let mandatory = row.yes_no(MANDATORY);
    let licence_type = row.optional(LICENCE_TYPE);
    let instructions = row.optional(INSTRUCTIONS);
    Some((
        code?,
        MaterialRequirement {
            name: name?,
            issuer: issuer?,
            originals: u32::try_from(originals?).ok()?,
            copies: u32::try_from(copies?).ok()?,
            mandatory: mandatory?,
            licence_type: licence_type?,
            instructions: instructions?,
            extras: Vec::new(),
        },
    ))
}

/// Builds the batch from the two sheets (either may have failed to load; its problem is already
/// in `issues`).
pub(crate) fn build(
    items: Option<Table>,
    materials: Option<Table>,
    mut issues: Vec<Issue>,
) -> ParsedFile {
    let mut batch = CatalogBatch::default();
    // Implementation codes that appear in the items sheet (also on rows with other problems),
    // or `None` when the items sheet could not be read well enough to know them.
    let mut known: Option<HashSet<ImplCode>> = None;
    let mut by_code: HashMap<ImplCode, usize> = HashMap::new();

    if let Some(table) = items {
        let layout = Layout::new(&table, &ITEM_HEADERS, &mut issues);
        let mut codes = HashSet::new();
        for raw in &table.rows {
            let Some(mut row) = layout.row(raw) else {
                continue;
            };
            if let Some(Val::Text(s)) = row.vals.get(item::IMPL_CODE)
                && let Ok(c) = ImplCode::parse(s)
            {
                codes.insert(c);
            }
            let entry = parse_item(&mut row);
            let (ok, extras) = row.finish(&mut issues);
            if let (true, Some(mut entry)) = (ok, entry) {
                entry.implementation.extras = extras;
                by_code
                    .entry(entry.implementation.code.clone())
                    .or_insert(batch.entries.len());
                batch.entries.push((
                    EntrySource {
                        row: raw.row,
                        material_rows: Vec::new(),
                    },
                    entry,
                ));
            }
        }
        if layout.has(item::IMPL_CODE) {
            known = Some(codes);
        }
    }

    if let Some(table) = materials {
        let layout = Layout::new(&table, &MATERIAL_HEADERS, &mut issues);
        for raw in &table.rows {
            let Some(mut row) = layout.row(raw) else {
                continue;
            };
            let parsed = parse_material(&mut row, known.as_ref());
            let (ok, extras) = row.finish(&mut issues);
            let (true, Some((code, mut m))) = (ok, parsed) else {
                continue;
            };
            m.extras = extras;
            // A material of an implementation row that had problems has nowhere to go; that
            // row is already reported.
            if let Some((src, entry)) = by_code.get(&code).and_then(|i| batch.entries.get_mut(*i)) {
                entry.implementation.materials.push(m);
                src.material_rows.push(raw.row);
            }
        }
    }

    ParsedFile { batch, issues }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        assert_eq!(parse_integer("20"), Ok(20));
        assert_eq!(parse_integer("+3"), Ok(3));
        assert_eq!(parse_integer("-0"), Ok(0));
        assert_eq!(parse_integer("-1"), Err(ErrorCode::OutOfRange));
        assert_eq!(
            parse_integer("99999999999999999999999"),
            Err(ErrorCode::OutOfRange)
        );
        assert_eq!(parse_integer("1.5"), Err(ErrorCode::NotAnInteger));
        assert_eq!(parse_integer("二十"), Err(ErrorCode::NotAnInteger));
        assert_eq!(parse_integer("-"), Err(ErrorCode::NotAnInteger));
        assert_eq!(parse_integer("—5"), Err(ErrorCode::NotAnInteger));
    }
}
