//! One workbook with the sheets `事项` (items) and `材料` (materials).

use crate::ParsedFile;
use crate::columns::{Sheet, items_sheet, materials_sheet};
use crate::table::{RawCell, RawRow, Table, build};
use calamine::{DataRef, Reader, Xlsx};
use rust_xlsxwriter::{Format, Workbook};
use std::collections::BTreeMap;
use std::io::Cursor;
use yiwang_domain::catalog::CatalogEntry;
use yiwang_domain::error::{ErrorCode, Issue};
use yiwang_domain::rules::{ITEMS, MATERIALS};

/// Sheet name of the items in a workbook.
pub const ITEMS_SHEET: &str = "事项";
/// Sheet name of the materials in a workbook.
pub const MATERIALS_SHEET: &str = "材料";

/// Writing a workbook failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("xlsx writer: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("too many rows or columns for one worksheet")]
    TooLarge,
}

/// Parses a workbook. Never fails: every problem is an [`Issue`].
pub fn parse_xlsx(bytes: &[u8]) -> ParsedFile {
    let mut issues = Vec::new();
    // The reader parses untrusted zip/XML; a bug in it must not take the caller down.
    let loaded = std::panic::catch_unwind(|| load(bytes));
    let (items, materials) = match loaded {
        Ok(Ok(sheets)) => sheets,
        Ok(Err(issue)) => {
            issues.push(issue);
            return build(None, None, issues);
        }
        Err(_) => {
            issues.push(Issue::new(ErrorCode::MalformedFile).detail("unreadable XLSX file"));
            return build(None, None, issues);
        }
    };
    let items = items.map_err(|i| issues.push(i)).ok();
    let materials = materials.map_err(|i| issues.push(i)).ok();
    build(items, materials, issues)
}

type SheetResult = Result<Table, Issue>;

fn load(bytes: &[u8]) -> Result<(SheetResult, SheetResult), Issue> {
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| {
        Issue::new(ErrorCode::MalformedFile).detail(format!("not a readable XLSX file: {e}"))
    })?;
    let names = workbook.sheet_names();
    let items = read_sheet(&mut workbook, &names, ITEMS_SHEET, ITEMS);
    let materials = read_sheet(&mut workbook, &names, MATERIALS_SHEET, MATERIALS);
    Ok((items, materials))
}

fn sheet_issue(code: ErrorCode, sheet: &'static str, detail: String) -> Issue {
    let mut issue = Issue::new(code).detail(detail);
    issue.sheet = Some(sheet.to_string());
    issue
}

fn read_sheet(
    workbook: &mut Xlsx<Cursor<&[u8]>>,
    names: &[String],
    name: &str,
    sheet: &'static str,
) -> SheetResult {
    let actual = names
        .iter()
        .find(|n| n.as_str() == name)
        .or_else(|| names.iter().find(|n| n.trim() == name))
        .ok_or_else(|| sheet_issue(ErrorCode::MissingSheet, sheet, name.to_string()))?;
    let malformed = |e: calamine::XlsxError| {
        sheet_issue(ErrorCode::MalformedFile, sheet, format!("{name}: {e}"))
    };
    let mut reader = workbook.worksheet_cells_reader(actual).map_err(malformed)?;
    // Sparse on purpose: a hostile file may put one cell at XFD1048576.
    let mut grid: BTreeMap<u32, BTreeMap<u32, RawCell>> = BTreeMap::new();
    while let Some(cell) = reader.next_cell().map_err(malformed)? {
        let (r, c) = cell.get_position();
        if let Some(text) = cell_text(cell.get_value()) {
            grid.entry(r).or_default().insert(c, RawCell::Text(text));
        }
    }
    let mut rows = grid.into_iter().map(|(r, cells)| RawRow {
        row: u64::from(r) + 1,
        cells: cells.into_iter().collect(),
    });
    let header = rows.next().ok_or_else(|| {
        sheet_issue(
            ErrorCode::MalformedFile,
            sheet,
            format!("{name}: empty sheet, no header row"),
        )
    })?;
    Ok(Table {
        sheet,
        header_row: header.row,
        header: header.cells,
        rows: rows.collect(),
    })
}

/// The text of a cell: strings as they are, numbers without a trailing ".0" when integral.
fn cell_text(value: &DataRef<'_>) -> Option<String> {
    let text = match value {
        DataRef::Empty => return None,
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_string(),
        DataRef::Int(i) => i.to_string(),
        // Rust prints integral floats without a fraction ("20", not "20.0").
        DataRef::Float(f) => f.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => d.to_string(),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => e.to_string(),
    };
    Some(text)
}

/// Writes a workbook with the sheets `事项` and `材料`; headers bold, every cell a string.
pub fn write_xlsx(entries: &[CatalogEntry]) -> Result<Vec<u8>, WriteError> {
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    for (name, sheet) in [
        (ITEMS_SHEET, items_sheet(entries)),
        (MATERIALS_SHEET, materials_sheet(entries)),
    ] {
        let worksheet = workbook.add_worksheet();
        worksheet.set_name(name)?;
        write_sheet(worksheet, &sheet, &bold)?;
    }
    Ok(workbook.save_to_buffer()?)
}

fn write_sheet(
    worksheet: &mut rust_xlsxwriter::Worksheet,
    sheet: &Sheet,
    bold: &Format,
) -> Result<(), WriteError> {
    let col = |c: usize| u16::try_from(c).map_err(|_| WriteError::TooLarge);
    for (c, header) in sheet.headers.iter().enumerate() {
        worksheet.write_string_with_format(0, col(c)?, header, bold)?;
    }
    for (r, row) in sheet.rows.iter().enumerate() {
        let r = r
            .checked_add(1)
            .and_then(|r| u32::try_from(r).ok())
            .ok_or(WriteError::TooLarge)?;
        for (c, value) in row.iter().enumerate() {
            if !value.is_empty() {
                worksheet.write_string(r, col(c)?, value)?;
            }
        }
    }
    Ok(())
}
