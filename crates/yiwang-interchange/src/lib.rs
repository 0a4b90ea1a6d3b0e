//! Catalog interchange: reading and writing the GB/T 39046 catalog spreadsheets (CSV, XLSX) and
//! the JSON form of the domain types.
//!
//! Readers never fail and never stop at the first problem: they return every entry that could be
//! read cleanly plus one [`Issue`] per problem, naming sheet, row and field.

mod columns;
mod csv;
mod json;
mod table;
mod xlsx;

pub use crate::columns::{ITEM_HEADERS, MATERIAL_HEADERS};
pub use crate::csv::{parse_csv, write_csv};
pub use crate::json::{parse_json, write_json};
pub use crate::xlsx::{ITEMS_SHEET, MATERIALS_SHEET, WriteError, parse_xlsx, write_xlsx};
pub use yiwang_domain::catalog::CatalogEntry;

use yiwang_domain::catalog::CatalogBatch;
use yiwang_domain::error::Issue;

/// Longest cell accepted, in characters; longer cells are reported as `CellTooLarge`.
pub const MAX_CELL_CHARS: usize = 20_000;

/// The result of reading a file: the entries that were read without problems, and the problems.
#[derive(Debug, Clone, Default)]
pub struct ParsedFile {
    pub batch: CatalogBatch,
    pub issues: Vec<Issue>,
}

impl ParsedFile {
    /// True when the file had no problems at all.
    pub fn is_clean(&self) -> bool {
        self.issues.is_empty()
    }
}
