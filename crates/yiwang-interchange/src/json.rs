//! A JSON array of `CatalogEntry` (the serde form of the domain types).

use crate::ParsedFile;
use yiwang_domain::catalog::{CatalogBatch, CatalogEntry, EntrySource};
use yiwang_domain::error::{ErrorCode, Issue};
use yiwang_domain::rules::ITEMS;

/// Parses a JSON array of entries; each element is decoded on its own so one bad element does
/// not hide the others.
pub fn parse_json(bytes: &[u8]) -> ParsedFile {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut parsed = ParsedFile::default();
    let value: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            parsed
                .issues
                .push(Issue::new(ErrorCode::MalformedFile).detail(e.to_string()));
            return parsed;
        }
    };
    let serde_json::Value::Array(elements) = value else {
        parsed.issues.push(
            Issue::new(ErrorCode::MalformedFile).detail("expected a JSON array of catalog entries"),
        );
        return parsed;
    };
    let mut batch = CatalogBatch::default();
    for (i, element) in elements.into_iter().enumerate() {
        let row = u64::try_from(i).unwrap_or(u64::MAX).saturating_add(1);
        match serde_json::from_value::<CatalogEntry>(element) {
            Ok(entry) => batch.entries.push((
                EntrySource {
                    row,
                    material_rows: Vec::new(),
                },
                entry,
            )),
            Err(e) => parsed.issues.push(
                Issue::new(ErrorCode::MalformedFile)
                    .at(ITEMS, row)
                    .detail(e.to_string()),
            ),
        }
    }
    parsed.batch = batch;
    parsed
}

/// Pretty-printed JSON array of the entries.
pub fn write_json(entries: &[CatalogEntry]) -> Vec<u8> {
    // The domain types are plain structs with string keys; serialising them cannot fail.
    serde_json::to_vec_pretty(entries).unwrap_or_else(|_| b"[]".to_vec())
}
