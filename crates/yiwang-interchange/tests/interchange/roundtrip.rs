#[cfg(test)] // test-only helpers: unwrap is allowed here as in tests
use crate::common;

use common::sample_entries;
use yiwang_interchange::{
    CatalogEntry, ITEM_HEADERS, MATERIAL_HEADERS, ParsedFile, parse_csv, parse_json, parse_xlsx,
    write_csv, write_json, write_xlsx,
};

fn entries_of(parsed: &ParsedFile) -> Vec<CatalogEntry> {
    parsed
        .batch
        .entries
        .iter()
        .map(|(_, e)| e.clone())
        .collect()
}

#[test]
fn csv_round_trip_is_exact() {
    let entries = sample_entries();
    let (items, materials) = write_csv(&entries);
    assert!(items.starts_with(b"\xEF\xBB\xBF"));
    assert!(materials.starts_with(b"\xEF\xBB\xBF"));
    let parsed = parse_csv(&items, &materials);
    assert_eq!(parsed.issues, vec![]);
    assert!(parsed.is_clean());
    assert_eq!(entries_of(&parsed), entries);

    // Rows and material rows are spreadsheet numbers.
    let sources: Vec<_> = parsed
        .batch
        .entries
        .iter()
        .map(|(s, _)| s.clone())
        .collect();
    assert_eq!(sources[0].row, 2);
    assert_eq!(sources[0].material_rows, vec![2, 3]);
    assert_eq!(sources[1].row, 3);
    assert!(sources[1].material_rows.is_empty());
    assert_eq!(sources[2].row, 4);
    assert_eq!(sources[2].material_rows, vec![4]);
}

#[test]
fn csv_headers_are_written_in_standard_order_then_extras() {
    let (items, materials) = write_csv(&sample_entries());
    let items = String::from_utf8(items).unwrap();
    let first = items.trim_start_matches('\u{feff}').lines().next().unwrap();
    let mut expected: Vec<&str> = ITEM_HEADERS.to_vec();
    expected.extend(["备注", "来源系统"]);
    assert_eq!(first, expected.join(","));
    let materials = String::from_utf8(materials).unwrap();
    let first = materials
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap();
    let mut expected: Vec<&str> = MATERIAL_HEADERS.to_vec();
    expected.push("页数");
    assert_eq!(first, expected.join(","));
    // Lists are joined with ';'.
    assert!(items.contains("自然人;企业法人"));
    assert!(items.contains("窗口办理;网上办理;移动端办理"));
}

#[test]
fn xlsx_round_trip_is_exact() {
    let entries = sample_entries();
    let bytes = write_xlsx(&entries).unwrap();
    let parsed = parse_xlsx(&bytes);
    assert_eq!(parsed.issues, vec![]);
    assert_eq!(entries_of(&parsed), entries);
    let sources: Vec<_> = parsed
        .batch
        .entries
        .iter()
        .map(|(s, _)| s.clone())
        .collect();
    assert_eq!(sources[0].row, 2);
    assert_eq!(sources[0].material_rows, vec![2, 3]);
    assert_eq!(sources[2].row, 4);
    assert_eq!(sources[2].material_rows, vec![4]);
}

#[test]
fn json_round_trip_is_exact() {
    let entries = sample_entries();
    let bytes = write_json(&entries);
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(text.starts_with('['));
    assert!(text.contains("\n  {"), "pretty-printed");
    let parsed = parse_json(&bytes);
    assert_eq!(parsed.issues, vec![]);
    assert_eq!(entries_of(&parsed), entries);
    let rows: Vec<u64> = parsed.batch.entries.iter().map(|(s, _)| s.row).collect();
    assert_eq!(rows, vec![1, 2, 3]);
    assert!(
        parsed
            .batch
            .entries
            .iter()
            .all(|(s, _)| s.material_rows.is_empty())
    );
}

#[test]
fn csv_to_json_to_csv_is_byte_equal() {
    let (items, materials) = write_csv(&sample_entries());
    let from_csv = parse_csv(&items, &materials);
    assert!(from_csv.is_clean());
    let json = write_json(&entries_of(&from_csv));
    let from_json = parse_json(&json);
    assert!(from_json.is_clean());
    let (items2, materials2) = write_csv(&entries_of(&from_json));
    assert_eq!(items2, items);
    assert_eq!(materials2, materials);
}

#[test]
fn xlsx_to_csv_to_xlsx_keeps_entries() {
    let entries = sample_entries();
    let from_xlsx = parse_xlsx(&write_xlsx(&entries).unwrap());
    let (items, materials) = write_csv(&entries_of(&from_xlsx));
    let from_csv = parse_csv(&items, &materials);
    assert!(from_csv.is_clean());
    let again = parse_xlsx(&write_xlsx(&entries_of(&from_csv)).unwrap());
    assert!(again.is_clean());
    assert_eq!(entries_of(&again), entries);
}

#[test]
fn empty_catalog_round_trips() {
    let (items, materials) = write_csv(&[]);
    let parsed = parse_csv(&items, &materials);
    assert!(parsed.is_clean());
    assert!(parsed.batch.entries.is_empty());
    let parsed = parse_xlsx(&write_xlsx(&[]).unwrap());
    assert!(parsed.is_clean(), "{:?}", parsed.issues);
    assert!(parsed.batch.entries.is_empty());
    let parsed = parse_json(&write_json(&[]));
    assert!(parsed.is_clean());
}

#[test]
fn handling_items_survive_json() {
    use yiwang_domain::catalog::HandlingItem;
    use yiwang_domain::enums::HandlingKind;
    let mut entries = sample_entries();
    entries[0].implementation.handling_items = vec![HandlingItem {
        kind: HandlingKind::Change,
        name: "生育登记变更".into(),
    }];
    let parsed = parse_json(&write_json(&entries));
    assert!(parsed.is_clean());
    assert_eq!(entries_of(&parsed), entries);
}

/// CSV injection: a cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR) is
/// written with an apostrophe in front, and reads back as it was.
#[test]
fn csv_export_neutralises_formulas_and_reads_them_back() {
    let mut entries = sample_entries();
    let imp = &mut entries[0].implementation;
    imp.consult_phone = "+86 22 2345 6789".into();
    imp.complaint_phone = "-12345".into();
    imp.hall_address = "=HYPERLINK(\"http://evil.example\",\"点此\")".into();
    imp.hours = "@SUM(1+1)".into();
    imp.materials[0].instructions = "=1+1".into();
    let (items, materials) = write_csv(&entries);
    let items_text = String::from_utf8(items.clone()).unwrap();
    let materials_text = String::from_utf8(materials.clone()).unwrap();
    for cell in [
        "'+86 22 2345 6789",
        "'-12345",
        "\"'=HYPERLINK(",
        "'@SUM(1+1)",
    ] {
        assert!(items_text.contains(&format!(",{cell}")), "{cell}");
    }
    assert!(materials_text.contains(",'=1+1"));
    for dangerous in [",+86", ",-12345", ",\"=HYPERLINK", ",@SUM"] {
        assert!(!items_text.contains(dangerous), "{dangerous}");
    }
    let parsed = parse_csv(&items, &materials);
    assert!(parsed.is_clean(), "{:?}", parsed.issues);
    assert_eq!(entries_of(&parsed), entries);
}
