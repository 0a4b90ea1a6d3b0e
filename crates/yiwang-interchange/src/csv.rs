//! `items.csv` + `materials.csv`: UTF-8 (BOM accepted on reading, written on writing).

use crate::ParsedFile;
use crate::columns::{Sheet, items_sheet, materials_sheet};
use crate::table::{RawCell, RawRow, Table, build};
use yiwang_domain::catalog::CatalogEntry;
use yiwang_domain::error::{ErrorCode, Issue};
use yiwang_domain::rules::{ITEMS, MATERIALS};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Parses the two CSV files of a catalog. Never fails: every problem is an [`Issue`].
pub fn parse_csv(items: &[u8], materials: &[u8]) -> ParsedFile {
    let mut issues = Vec::new();
    let items = read_table(items, ITEMS, &mut issues);
    let materials = read_table(materials, MATERIALS, &mut issues);
    build(items, materials, issues)
}

/// Writes `(items.csv, materials.csv)`, UTF-8 with a BOM, CRLF line ends.
pub fn write_csv(entries: &[CatalogEntry]) -> (Vec<u8>, Vec<u8>) {
    (
        encode(&items_sheet(entries)),
        encode(&materials_sheet(entries)),
    )
}

fn read_table(bytes: &[u8], sheet: &'static str, issues: &mut Vec<Issue>) -> Option<Table> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut record = ::csv::ByteRecord::new();
    let mut header: Option<Vec<(u32, RawCell)>> = None;
    let mut rows = Vec::new();
    let mut number: u64 = 0;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                number += 1;
                let cells = record
                    .iter()
                    .enumerate()
                    .map(|(i, field)| {
                        let cell = match std::str::from_utf8(field) {
                            Ok(s) => RawCell::Text(unguard(s).to_string()),
                            Err(_) => RawCell::InvalidUtf8,
                        };
                        (u32::try_from(i).unwrap_or(u32::MAX), cell)
                    })
                    .collect();
                if header.is_none() {
                    header = Some(cells);
                } else {
                    rows.push(RawRow { row: number, cells });
                }
            }
            Err(e) => {
                issues.push(
                    Issue::new(ErrorCode::MalformedFile)
                        .at(sheet, number + 1)
                        .detail(e.to_string()),
                );
                break;
            }
        }
    }
    if let Some(h) = &header
        && h.iter().any(|(_, c)| matches!(c, RawCell::InvalidUtf8))
    {
        // Most likely a GBK export: one issue instead of one per cell of every row.
        issues.push(
            Issue::new(ErrorCode::InvalidUtf8)
                .at(sheet, 1)
                .detail("header row is not UTF-8; save the file as UTF-8"),
        );
        return None;
    }
    let Some(header) = header else {
        let mut issue = Issue::new(ErrorCode::MalformedFile).detail("empty file: no header row");
        issue.sheet = Some(sheet.to_string());
        issues.push(issue);
        return None;
    };
    Some(Table {
        sheet,
        header_row: 1,
        header,
        rows,
    })
}

fn encode(sheet: &Sheet) -> Vec<u8> {
    let mut out = String::new();
    write_record(&mut out, &sheet.headers);
    for row in &sheet.rows {
        write_record(&mut out, row);
    }
    let mut bytes = BOM.to_vec();
    bytes.extend_from_slice(out.as_bytes());
    bytes
}

/// Whether a spreadsheet would run `cell` as a formula (CSV injection): it starts with `=`,
/// `+`, `-`, `@`, a tab or a carriage return, after any apostrophes.
fn looks_like_formula(cell: &str) -> bool {
    cell.trim_start_matches('\'')
        .starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// The cell as written: an apostrophe in front of anything a spreadsheet would run as a formula
/// (the spreadsheets' own convention for "text"). [`unguard`] takes it off again on reading, so
/// an export imports back unchanged.
fn guard(cell: &str) -> std::borrow::Cow<'_, str> {
    if looks_like_formula(cell) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// The inverse of [`guard`].
fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if looks_like_formula(rest) => rest,
        _ => cell,
    }
}

/// RFC 4180 record: fields quoted when they contain a comma, quote or line break; cells that
/// would run as formulas guarded.
fn write_record(out: &mut String, fields: &[String]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let field = guard(field);
        if field.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&field);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        let mut s = String::new();
        write_record(
            &mut s,
            &["a".into(), "b,c".into(), "say \"hi\"".into(), "x\ny".into()],
        );
        assert_eq!(s, "a,\"b,c\",\"say \"\"hi\"\"\",\"x\ny\"\r\n");
    }

    #[test]
    fn formulas_are_neutralised_and_read_back() {
        for cell in [
            "=HYPERLINK(\"http://x\")",
            "+86 22 1234",
            "-1",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "'=already",
            "''+two",
        ] {
            let mut s = String::new();
            write_record(&mut s, &[cell.to_string()]);
            let written = s.trim_start_matches('"');
            assert!(written.starts_with('\''), "{cell}: {s}");
            assert_eq!(unguard(&guard(cell)), cell);
        }
        for cell in ["居民身份证", "'quoted", "a=b", "", "''"] {
            assert_eq!(guard(cell), cell);
            assert_eq!(unguard(cell), cell);
        }
    }

    #[test]
    fn empty_input_is_reported_per_file() {
        let parsed = parse_csv(b"", BOM);
        assert_eq!(parsed.issues.len(), 2);
        assert!(
            parsed
                .issues
                .iter()
                .all(|i| i.code == ErrorCode::MalformedFile && i.row.is_none())
        );
        assert_eq!(parsed.issues[0].sheet.as_deref(), Some(ITEMS));
        assert_eq!(parsed.issues[1].sheet.as_deref(), Some(MATERIALS));
    }
}
