#[cfg(test)] // test-only helpers: unwrap is allowed here as in tests
use crate::common;

use common::*;
use proptest::prelude::*;
use strategies::entry;
use yiwang_domain::catalog::CatalogEntry;
use yiwang_interchange::{
    ITEM_HEADERS, MATERIAL_HEADERS, ParsedFile, parse_csv, parse_json, parse_xlsx, write_csv,
    write_json, write_xlsx,
};

/// Strings likely to upset a CSV reader or a cell parser, plus fully arbitrary ones.
fn nasty_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[,;；\"\r\n \t\u{feff}\u{3000}自然人是否工作日0-9+\\-.]{0,24}",
        Just("名".repeat(201)),
        Just("x".repeat(yiwang_interchange::MAX_CELL_CHARS + 1)),
        Just(String::new()),
    ]
}

fn all_issues_are_placed(parsed: &ParsedFile) -> Result<(), TestCaseError> {
    for i in &parsed.issues {
        prop_assert!(i.sheet.is_some(), "{i:?}");
        prop_assert!(i.row.is_some(), "{i:?}");
        prop_assert!(i.field.is_some(), "{i:?}");
    }
    Ok(())
}

fn valid_tables() -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    (
        vec![
            good_item_row("A1"),
            good_item_row("A2"),
            good_item_row("A3"),
        ],
        vec![
            good_material_row("A1", "居民身份证"),
            good_material_row("A2", "户口簿"),
            good_material_row("A3", "结婚证"),
        ],
    )
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(a in proptest::collection::vec(any::<u8>(), 0..600),
                                   b in proptest::collection::vec(any::<u8>(), 0..600)) {
        let parsed = parse_csv(&a, &b);
        // Whatever came out is either an entry or explained.
        prop_assert!(parsed.is_clean() || !parsed.issues.is_empty());
        let _ = parse_xlsx(&a);
        let _ = parse_json(&a);
        let _ = parse_json(&b);
    }

    #[test]
    fn mutated_valid_files_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let entries = sample_entries();
        let mut xlsx = write_xlsx(&entries).unwrap();
        let (mut items, mut materials) = write_csv(&entries);
        let mut json = write_json(&entries);
        for (at, byte) in &flips {
            for buf in [&mut xlsx, &mut items, &mut materials, &mut json] {
                let i = at.index(buf.len());
                buf[i] = *byte;
            }
        }
        let _ = parse_xlsx(&xlsx);
        let _ = parse_csv(&items, &materials);
        let _ = parse_json(&json);
        // Truncated files too.
        let (at, _) = flips[0];
        let _ = parse_xlsx(&xlsx[..at.index(xlsx.len())]);
        let _ = parse_csv(&items[..at.index(items.len())], &materials[..at.index(materials.len())]);
        let _ = parse_json(&json[..at.index(json.len())]);
    }

    #[test]
    fn arbitrary_data_cells_parse_or_are_reported(
        materials_sheet in any::<bool>(),
        row in 0usize..3,
        column in any::<prop::sample::Index>(),
        value in nasty_string(),
    ) {
        let (mut items, mut materials) = valid_tables();
        let (table, headers) = if materials_sheet {
            (&mut materials, &MATERIAL_HEADERS[..])
        } else {
            (&mut items, &ITEM_HEADERS[..])
        };
        let c = column.index(headers.len());
        table[row][c] = value.clone();
        let parsed = parse_csv(&items_csv(&items), &materials_csv(&materials));
        all_issues_are_placed(&parsed)?;
        // Every items row is either in the batch or named by an issue.
        for r in 2..=4u64 {
            let kept = parsed.batch.entries.iter().any(|(s, _)| s.row == r);
            let named = parsed.issues.iter().any(|i| i.sheet.as_deref() == Some("items") && i.row == Some(r));
            prop_assert!(kept || named, "row {r} vanished: {:?}", parsed.issues);
        }
        if parsed.is_clean() {
            prop_assert_eq!(parsed.batch.entries.len(), 3);
            let materials: usize = parsed.batch.entries.iter().map(|(_, e)| e.implementation.materials.len()).sum();
            prop_assert_eq!(materials, 3);
        }
        // The same sheet through XLSX (strings everywhere) gives the same verdict for
        // cells the XLSX writer can hold.
        if value.chars().count() < 32_000 {
            let entries = parsed.batch.entries.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>();
            let back = parse_xlsx(&write_xlsx(&entries).unwrap());
            prop_assert!(back.is_clean(), "{:?}", back.issues);
            prop_assert_eq!(back.batch.entries.len(), entries.len());
        }
    }

    #[test]
    fn arbitrary_header_cells_are_reported(column in any::<prop::sample::Index>(), value in nasty_string()) {
        let (items, materials) = valid_tables();
        let mut headers: Vec<String> = ITEM_HEADERS.iter().map(|h| h.to_string()).collect();
        let c = column.index(headers.len());
        headers[c] = value;
        let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        let parsed = parse_csv(&csv_file(&refs, &items), &materials_csv(&materials));
        for i in &parsed.issues {
            prop_assert!(i.row.is_some() && i.sheet.is_some(), "{i:?}");
        }
        if parsed.is_clean() {
            prop_assert_eq!(parsed.batch.entries.len(), 3);
        }
    }

    #[test]
    fn generated_entries_round_trip(entries in proptest::collection::vec(entry(), 0..5)) {
        let (items, materials) = write_csv(&entries);
        let parsed = parse_csv(&items, &materials);
        prop_assert!(parsed.is_clean(), "{:?}", parsed.issues);
        let got: Vec<CatalogEntry> = parsed.batch.entries.into_iter().map(|(_, e)| e).collect();
        prop_assert_eq!(&got, &entries);
        let parsed = parse_xlsx(&write_xlsx(&entries).unwrap());
        prop_assert!(parsed.is_clean(), "{:?}", parsed.issues);
        let got: Vec<CatalogEntry> = parsed.batch.entries.into_iter().map(|(_, e)| e).collect();
        prop_assert_eq!(&got, &entries);
        let parsed = parse_json(&write_json(&entries));
        let got: Vec<CatalogEntry> = parsed.batch.entries.into_iter().map(|(_, e)| e).collect();
        prop_assert_eq!(&got, &entries);
    }
}

#[cfg(test)]
mod strategies {
    use super::common::{credit, sample_entries};
    use proptest::prelude::*;
    use yiwang_domain::catalog::{CatalogEntry, MaterialRequirement};
    use yiwang_domain::enums::{
        AnywhereScope, Audience, CaseType, Channel, CodeSet, ExerciseLevel, ItemType, OnlineDepth,
        TimeUnit,
    };

    /// Text as a parsed cell holds it: trimmed, may contain separators, quotes and line breaks.
    pub fn text() -> impl Strategy<Value = String> {
        "[a-z办事,，\"'\n\r ;；：]{0,12}".prop_map(|s| s.trim().to_string())
    }

    pub fn required_text() -> impl Strategy<Value = String> {
        text().prop_map(|s| format!("文{s}"))
    }

    pub fn one_of<T: CodeSet + std::fmt::Debug>() -> impl Strategy<Value = T> {
        prop::sample::select(T::ALL)
    }

    pub fn some_of<T: CodeSet + std::fmt::Debug>() -> impl Strategy<Value = Vec<T>> {
        prop::sample::subsequence(T::ALL, 1..=T::ALL.len())
    }

    pub fn material() -> impl Strategy<Value = MaterialRequirement> {
        (
            required_text(),
            text(),
            any::<u32>(),
            any::<u32>(),
            any::<bool>(),
            text(),
            text(),
            text(),
        )
            .prop_map(
                |(
                    name,
                    issuer,
                    originals,
                    copies,
                    mandatory,
                    licence_type,
                    instructions,
                    extra,
                )| {
                    MaterialRequirement {
                        name,
                        issuer,
                        originals,
                        copies,
                        mandatory,
                        licence_type,
                        instructions,
                        extras: vec![("附注".into(), extra)],
                    }
                },
            )
    }

    pub fn entry() -> impl Strategy<Value = CatalogEntry> {
        let codes = (
            "[0-9A-Z]{1,10}",
            "[0-9A-Z][0-9A-Z-]{0,35}",
            "[0-9A-HJ-NP-RTUWXY]{17}",
            "[1-9][0-9]{5}([0-9]{6})?",
        );
        let kinds = (
            one_of::<ItemType>(),
            some_of::<ExerciseLevel>(),
            one_of::<TimeUnit>(),
            one_of::<TimeUnit>(),
            one_of::<CaseType>(),
            one_of::<OnlineDepth>(),
            proptest::option::of(one_of::<AnywhereScope>()),
            some_of::<Audience>(),
            some_of::<Channel>(),
        );
        let texts = proptest::collection::vec(text(), 9);
        let names = (required_text(), required_text(), required_text());
        let numbers = (any::<u32>(), any::<u32>(), 0u8..=2, any::<bool>());
        let themes = proptest::collection::vec("[a-z生育收养]{1,6}", 0..3);
        let materials = proptest::collection::vec(material(), 0..3);
        (codes, kinds, texts, names, numbers, themes, materials).prop_map(
            |(codes, kinds, t, names, numbers, themes, materials)| {
                let mut e = sample_entries().remove(0);
                let basic = yiwang_domain::BasicCode::parse(&codes.0).unwrap();
                e.standard.basic_code = basic.clone();
                e.standard.name = names.0;
                e.standard.item_type = kinds.0;
                e.standard.levels =
                    yiwang_domain::enums::LevelSet::of(kinds.1.iter().copied()).unwrap();
                e.standard.legal_basis = names.1;
                let i = &mut e.implementation;
                i.code = yiwang_domain::ImplCode::parse(&codes.1).unwrap();
                i.basic_code = basic;
                i.department_code = credit(&codes.2);
                i.department_name = names.2;
                i.region = yiwang_domain::RegionCode::parse(&codes.3).unwrap();
                i.level = kinds.1[kinds.1.len() - 1];
                i.acceptance_conditions = t[0].clone();
                i.statutory_limit.amount = numbers.0;
                i.statutory_limit.unit = kinds.2;
                i.promised_limit.amount = numbers.1;
                i.promised_limit.unit = kinds.3;
                i.case_type = kinds.4;
                i.visits = numbers.2;
                i.online_depth = kinds.5;
                i.charged = numbers.3;
                i.fee_basis = t[1].clone();
                i.audiences = kinds.7;
                i.themes = themes;
                i.channels = kinds.8;
                i.anywhere = kinds.6;
                i.hall_address = t[2].clone();
                i.hours = t[3].clone();
                i.consult_phone = t[4].clone();
                i.complaint_phone = t[5].clone();
                i.result_name = t[6].clone();
                i.extras = vec![
                    ("备注".into(), t[7].clone()),
                    ("来源系统".into(), t[8].clone()),
                ];
                i.materials = materials;
                e
            },
        )
    }
}
